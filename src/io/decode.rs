//! Decoding: any format the image crate reads, EXIF orientation applied,
//! converted to RGBA8. [`open_file`] reads only the header, so callers can
//! check the size (and budget memory) before any pixel is decoded: a
//! decompression bomb is refused without allocating it. Every failure is
//! the input's: [`Error::Limit`] for an image over the pixel limit,
//! [`Error::Input`] otherwise.

use std::fmt::Display;
use std::io::{BufRead, Cursor, Seek};
use std::path::Path;

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageReader, RgbaImage};

use crate::error::{Error, Result, bail};

/// Default `--max-pixels`: 100 megapixels (a 400 MB RGBA8 image).
pub const DEFAULT_MAX_PIXELS: u64 = 100_000_000;

/// A decoded image, upright (EXIF orientation applied).
pub struct Decoded {
    pub image: RgbaImage,
    /// The stored color type before conversion (e.g. L16, Rgba8).
    pub color: image::ColorType,
}

/// An image whose header has been read and whose size is within the limit.
pub struct Header {
    decoder: Box<dyn ImageDecoder>,
    pub width: u32,
    pub height: u32,
}

/// An unusable input: what failed, and why.
fn input(what: &str, why: impl Display) -> Error {
    Error::Input(format!("{what}: {why}"))
}

impl Header {
    /// Decodes the pixels, applies the EXIF orientation, converts to RGBA8.
    pub fn decode(self) -> Result<Decoded> {
        let mut decoder = self.decoder;
        // A broken EXIF block should not make a decodable image unusable.
        let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
        let color = decoder.color_type();
        let mut img = DynamicImage::from_decoder(decoder).map_err(|e| match e {
            image::ImageError::Limits(l) => {
                Error::Limit(format!("over the decoder's memory limit: {l}"))
            }
            e => input("cannot decode (truncated or corrupt?)", e),
        })?;
        img.apply_orientation(orientation);
        Ok(Decoded {
            image: img.into_rgba8(),
            color,
        })
    }
}

/// Reads the header of `path`. Errors say what is wrong (callers name the file).
pub fn open_file(path: &Path, max_pixels: u64) -> Result<Header> {
    let reader = ImageReader::open(path).map_err(|e| input("cannot open", e))?;
    if std::fs::metadata(path).is_ok_and(|m| m.len() == 0) {
        bail!(Input, "empty file");
    }
    open(reader, max_pixels)
}

/// Reads the header of an encoded image held in memory (e.g. from stdin).
pub fn open_bytes(bytes: Vec<u8>, max_pixels: u64) -> Result<Header> {
    if bytes.is_empty() {
        bail!(Input, "empty input");
    }
    open(ImageReader::new(Cursor::new(bytes)), max_pixels)
}

/// [`open_file`] and [`Header::decode`].
pub fn decode_file(path: &Path, max_pixels: u64) -> Result<Decoded> {
    open_file(path, max_pixels)?.decode()
}

/// [`open_bytes`] and [`Header::decode`].
pub fn decode_bytes(bytes: Vec<u8>, max_pixels: u64) -> Result<Decoded> {
    open_bytes(bytes, max_pixels)?.decode()
}

fn open<R: BufRead + Seek + 'static>(reader: ImageReader<R>, max_pixels: u64) -> Result<Header> {
    let mut reader = reader
        .with_guessed_format()
        .map_err(|e| input("cannot read", e))?;
    if reader.format().is_none() {
        bail!(Input, "not an image (unrecognized format)");
    }
    // The decoder's own allocation cap must allow what --max-pixels allows:
    // up to 16 bytes a pixel (RGBA f32) plus its buffers.
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(max_pixels.saturating_mul(16).saturating_add(64 << 20));
    reader.limits(limits);
    let decoder = reader
        .into_decoder()
        .map_err(|e| input("not a readable image", e))?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > max_pixels {
        bail!(
            Limit,
            "{width}x{height} is {:.1} megapixels, over the limit of {:.1} (a possible \
             decompression bomb); raise --max-pixels if the file is trusted",
            f64::from(width) * f64::from(height) / 1e6,
            max_pixels as f64 / 1e6
        );
    }
    if width == 0 || height == 0 {
        bail!(Input, "the image is empty ({width}x{height})");
    }
    Ok(Header {
        decoder: Box::new(decoder),
        width,
        height,
    })
}
