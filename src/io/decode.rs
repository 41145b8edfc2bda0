//! Decoding: any format the image crate reads (JPEGs by libjpeg-turbo's
//! decoder, see [`super::jpeg`]), EXIF orientation applied, converted to
//! RGBA8. [`open_file`] reads only the header, so callers can check the
//! size (and budget memory) before any pixel is decoded: a decompression
//! bomb is refused without allocating it. Every failure is the input's:
//! [`Error::Limit`] for an image over the pixel limit, [`Error::Input`]
//! otherwise, a truncated or corrupt JPEG included unless
//! [`DecodeOptions::allow_truncated`] lets it through with a warning.

use std::fmt::Display;
use std::io::{BufRead, Cursor, Seek};
use std::path::Path;

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, RgbaImage};

use super::chunks;
use super::jpeg::Jpeg;
use crate::error::{Error, Result, bail};

/// Default `--max-pixels`: 100 megapixels (a 400 MB RGBA8 image).
pub const DEFAULT_MAX_PIXELS: u64 = 100_000_000;

/// What an input may be.
#[derive(Clone, Copy, Debug)]
pub struct DecodeOptions {
    /// Larger images are refused from their header, before decoding.
    pub max_pixels: u64,
    /// Decode what can be decoded of a truncated or corrupt JPEG, with a
    /// warning, instead of refusing it.
    pub allow_truncated: bool,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        Self {
            max_pixels: DEFAULT_MAX_PIXELS,
            allow_truncated: false,
        }
    }
}

/// A decoded image, upright (EXIF orientation applied).
pub struct Decoded {
    pub image: RgbaImage,
    /// The stored color type before conversion (e.g. L16, Rgba8).
    pub color: image::ColorType,
    /// What is wrong with the data that was let through
    /// ([`DecodeOptions::allow_truncated`]).
    pub warning: Option<String>,
}

/// An image whose header has been read and whose size is within the limit.
pub struct Header {
    pixels: Pixels,
    allow_truncated: bool,
    pub width: u32,
    pub height: u32,
}

/// Where a header's pixels come from.
enum Pixels {
    Jpeg(Jpeg),
    Other(Box<dyn ImageDecoder>),
}

/// An unusable input: what failed, and why.
fn input(what: &str, why: impl Display) -> Error {
    Error::Input(format!("{what}: {why}"))
}

impl Header {
    /// Decodes the pixels, applies the EXIF orientation, converts to RGBA8.
    pub fn decode(self) -> Result<Decoded> {
        let (mut img, orientation, color, warning) = match self.pixels {
            Pixels::Jpeg(jpeg) => {
                let (orientation, color) = (jpeg.orientation, jpeg.color());
                let (img, warning) = jpeg.decode(self.allow_truncated)?;
                (img, orientation, color, warning)
            }
            Pixels::Other(mut decoder) => {
                // A broken EXIF block should not make a decodable image unusable.
                let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
                let color = decoder.color_type();
                let img =
                    no_panic(|| DynamicImage::from_decoder(decoder))?.map_err(|e| match e {
                        image::ImageError::Limits(l) => {
                            Error::Limit(format!("over the decoder's memory limit: {l}"))
                        }
                        e => input("cannot decode (truncated or corrupt?)", e),
                    })?;
                (img, orientation, color, None)
            }
        };
        img.apply_orientation(orientation);
        Ok(Decoded {
            image: img.into_rgba8(),
            color,
            warning,
        })
    }
}

/// Reads the header of `path`. Errors say what is wrong (callers name the file).
pub fn open_file(path: &Path, options: &DecodeOptions) -> Result<Header> {
    let reader = ImageReader::open(path).map_err(|e| input("cannot open", e))?;
    if std::fs::metadata(path).is_ok_and(|m| m.len() == 0) {
        bail!(Input, "empty file");
    }
    open(reader, options)
}

/// Reads the header of an encoded image held in memory (e.g. from stdin).
pub fn open_bytes(bytes: Vec<u8>, options: &DecodeOptions) -> Result<Header> {
    if bytes.is_empty() {
        bail!(Input, "empty input");
    }
    open(ImageReader::new(Cursor::new(bytes)), options)
}

/// [`open_file`] and [`Header::decode`].
pub fn decode_file(path: &Path, options: &DecodeOptions) -> Result<Decoded> {
    open_file(path, options)?.decode()
}

/// [`open_bytes`] and [`Header::decode`].
pub fn decode_bytes(bytes: Vec<u8>, options: &DecodeOptions) -> Result<Decoded> {
    open_bytes(bytes, options)?.decode()
}

fn open<R: BufRead + Seek + 'static>(
    reader: ImageReader<R>,
    options: &DecodeOptions,
) -> Result<Header> {
    let reader = reader
        .with_guessed_format()
        .map_err(|e| input("cannot read", e))?;
    let max_pixels = options.max_pixels;
    let (pixels, width, height) = match reader.format() {
        None => bail!(Input, "not an image (unrecognized format)"),
        Some(ImageFormat::Jpeg) => {
            let jpeg = Jpeg::read_header(read_all(reader)?)?;
            let (w, h) = (jpeg.width, jpeg.height);
            (Pixels::Jpeg(jpeg), w, h)
        }
        Some(ImageFormat::WebP) => {
            let bytes = read_all(reader)?;
            chunks::check_webp(&bytes)?;
            let reader = ImageReader::with_format(Cursor::new(bytes), ImageFormat::WebP);
            other_decoder(reader, max_pixels)?
        }
        Some(ImageFormat::Png) => {
            let format = ImageFormat::Png;
            let mut inner = reader.into_inner();
            chunks::check_png(&mut inner)?;
            other_decoder(ImageReader::with_format(inner, format), max_pixels)?
        }
        Some(_) => other_decoder(reader, max_pixels)?,
    };
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
        pixels,
        allow_truncated: options.allow_truncated,
        width,
        height,
    })
}

fn read_all<R: BufRead + Seek>(reader: ImageReader<R>) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader
        .into_inner()
        .read_to_end(&mut bytes)
        .map_err(|e| input("cannot read", e))?;
    Ok(bytes)
}

/// The image crate's decoder for `reader`, with its size.
fn other_decoder<R: BufRead + Seek + 'static>(
    mut reader: ImageReader<R>,
    max_pixels: u64,
) -> Result<(Pixels, u32, u32)> {
    // The decoder's own allocation cap must allow what --max-pixels
    // allows: up to 16 bytes a pixel (RGBA f32) plus its buffers.
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(max_pixels.saturating_mul(16).saturating_add(64 << 20));
    reader.limits(limits);
    let decoder =
        no_panic(|| reader.into_decoder())?.map_err(|e| input("not a readable image", e))?;
    let (w, h) = decoder.dimensions();
    Ok((Pixels::Other(Box::new(decoder)), w, h))
}

/// Runs one of the image crate's decoders, a panic in it (a decoder bug a
/// malformed file hits) becoming the input's error rather than the run's
/// end.
fn no_panic<T>(decode: impl FnOnce() -> T) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(decode)).map_err(|panic| {
        let why = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("a panic");
        input("the decoder failed on malformed data", why)
    })
}
