//! Decoding: any format the image crate reads, EXIF orientation applied,
//! converted to RGBA8. [`open_file`] reads only the header, so callers can
//! check the size (and budget memory) before any pixel is decoded: a
//! decompression bomb is refused without allocating it.

use std::io::{BufRead, Cursor, Seek};
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageReader, RgbaImage};

/// Default `--max-pixels`: 100 megapixels (a 400 MB RGBA8 image).
pub const DEFAULT_MAX_PIXELS: u64 = 100_000_000;

/// A decoded image, upright (EXIF orientation applied).
pub struct Decoded {
    pub image: RgbaImage,
    /// The stored color type before conversion (e.g. L16, Rgba8).
    pub color: image::ColorType,
}

/// Why an image was refused for its size.
#[derive(Debug, thiserror::Error)]
#[error(
    "{width}x{height} is {mp:.1} megapixels, over the limit of {limit_mp:.1} (a possible \
     decompression bomb); raise --max-pixels if the file is trusted",
    mp = *width as f64 * *height as f64 / 1e6,
    limit_mp = *limit as f64 / 1e6
)]
pub struct TooLarge {
    pub width: u32,
    pub height: u32,
    pub limit: u64,
}

/// An image whose header has been read and whose size is within the limit.
pub struct Header {
    decoder: Box<dyn ImageDecoder>,
    pub width: u32,
    pub height: u32,
}

impl Header {
    /// Decodes the pixels, applies the EXIF orientation, converts to RGBA8.
    pub fn decode(self) -> Result<Decoded> {
        let mut decoder = self.decoder;
        // A broken EXIF block should not make a decodable image unusable.
        let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
        let color = decoder.color_type();
        let mut img = DynamicImage::from_decoder(decoder).map_err(|e| match e {
            image::ImageError::Limits(l) => anyhow::anyhow!("over the decoder's memory limit: {l}"),
            e => anyhow::Error::new(e).context("cannot decode (truncated or corrupt?)"),
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
    let reader = ImageReader::open(path).context("cannot open")?;
    if std::fs::metadata(path).is_ok_and(|m| m.len() == 0) {
        bail!("empty file");
    }
    open(reader, max_pixels)
}

/// Reads the header of an encoded image held in memory (e.g. from stdin).
pub fn open_bytes(bytes: Vec<u8>, max_pixels: u64) -> Result<Header> {
    if bytes.is_empty() {
        bail!("empty input");
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
    let mut reader = reader.with_guessed_format().context("cannot read")?;
    if reader.format().is_none() {
        bail!("not an image (unrecognized format)");
    }
    // The decoder's own allocation cap must allow what --max-pixels allows:
    // up to 16 bytes a pixel (RGBA f32) plus its buffers.
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(max_pixels.saturating_mul(16).saturating_add(64 << 20));
    reader.limits(limits);
    let decoder = reader.into_decoder().context("not a readable image")?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > max_pixels {
        return Err(TooLarge {
            width,
            height,
            limit: max_pixels,
        }
        .into());
    }
    if width == 0 || height == 0 {
        bail!("the image is empty ({width}x{height})");
    }
    Ok(Header {
        decoder: Box::new(decoder),
        width,
        height,
    })
}
