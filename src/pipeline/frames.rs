//! [`Steps`] for raw video frames ([`Frame`]s of a [`RawFrames`] stream):
//! each frame's result as raw bytes for a pipe or an encoder, as a PNG,
//! or written to its numbered file.
//!
//! [`RawFrames`]: crate::io::frames::RawFrames

use image::{DynamicImage, RgbaImage};

use super::Steps;
use crate::error::{Error, Result};
use crate::io::frames::{Frame, FramePattern};
use crate::io::{Format, encode::encode, write_atomic};
use crate::remove::Removed;

/// What a frame's result becomes: the mask or the cutout, as
/// [`Options::product`](super::Options::product) made it.
#[derive(Clone, Debug)]
pub enum FrameOutput {
    /// The pixels as they are: RGBA (straight alpha) for a cutout, 8-bit
    /// gray for a mask, for `ffmpeg -f rawvideo` to read.
    Raw,
    /// A PNG.
    Png,
    /// A PNG written (atomically) to the pattern's file for the frame's
    /// number; the output is empty.
    Files(FramePattern),
}

/// Opens frames (rgb24 to RGBA) and encodes their results as `output`.
#[derive(Clone, Debug)]
pub struct Frames {
    pub output: FrameOutput,
}

impl Steps for Frames {
    type Item = Frame;
    type Opened = RgbaImage;
    type Output = Vec<u8>;

    fn open(&self, frame: &mut Frame) -> Result<RgbaImage> {
        let rgb = std::mem::replace(&mut frame.pixels, Ok(Vec::new()))?;
        let rgba = rgb
            .chunks_exact(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect();
        Ok(RgbaImage::from_raw(frame.width, frame.height, rgba).expect("a whole frame"))
    }

    fn encode(&self, frame: &Frame, _: RgbaImage, removed: Removed) -> Result<Vec<u8>> {
        let image = removed.into_image();
        match &self.output {
            FrameOutput::Raw => Ok(image.into_bytes()),
            FrameOutput::Png => png(&image),
            FrameOutput::Files(pattern) => {
                let path = pattern.path(frame.number);
                write_atomic(&path, |w| encode(w, &image, Format::Png, 0))
                    .map_err(|e: Error| e.context(format_args!("writing {}", path.display())))?;
                Ok(Vec::new())
            }
        }
    }
}

fn png(image: &DynamicImage) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    encode(&mut bytes, image, Format::Png, 0)?;
    Ok(bytes)
}
