//! JPEGs decoded by libjpeg-turbo's decoder (as built into mozjpeg, from
//! source, by the `mozjpeg` crate): the pixels Pillow, and so rembg, gets
//! from `Image.open(...).convert("RGB")`, and libjpeg's own checks of the
//! data. Each of libjpeg's corrupt-data warnings (the file ends before its
//! last scan, a bad Huffman code, bytes where a marker should be) refuses
//! the file, unless the caller allows it: then the pixels libjpeg could
//! recover come with the first warning.
//!
//! libjpeg reports through callbacks: an error unwinds out of the C code
//! (mozjpeg-sys is built with unwinding), caught here; a warning is kept
//! in a thread-local, as the decode runs on one thread from start to end.

use std::cell::RefCell;
use std::os::raw::c_int;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

use image::metadata::Orientation;
use image::{ColorType, DynamicImage, GrayImage, RgbImage};
use mozjpeg::{ColorSpace, Decompress, Marker};
use mozjpeg_sys::{jpeg_common_struct, jpeg_error_mgr, jpeg_std_error};

use crate::error::{Error, Result};

/// A JPEG whose header has been read.
pub struct Jpeg {
    bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
    /// What libjpeg is asked to decode to: gray, CMYK (converted to RGB
    /// here, as Pillow does) or RGB.
    output: ColorSpace,
    pub orientation: Orientation,
}

impl Jpeg {
    /// Reads the header: size, color space and EXIF orientation.
    pub fn read_header(bytes: Vec<u8>) -> Result<Jpeg> {
        let (width, height, output, orientation) = guarded(true, || {
            let d = Decompress::with_markers(&[Marker::APP(1)])
                .with_err(error_manager())
                .from_mem(&bytes)?;
            let output = match d.color_space() {
                ColorSpace::JCS_GRAYSCALE => ColorSpace::JCS_GRAYSCALE,
                ColorSpace::JCS_CMYK | ColorSpace::JCS_YCCK => ColorSpace::JCS_CMYK,
                _ => ColorSpace::JCS_RGB,
            };
            let orientation = d
                .markers()
                .filter(|m| m.marker == Marker::APP(1))
                .find_map(|m| m.data.strip_prefix(b"Exif\0\0"))
                .and_then(Orientation::from_exif_chunk)
                .unwrap_or(Orientation::NoTransforms);
            Ok((d.width() as u32, d.height() as u32, output, orientation))
        })?
        .0;
        Ok(Jpeg {
            bytes,
            width,
            height,
            output,
            orientation,
        })
    }

    /// The stored color type as the image crate names it; CMYK, which it
    /// has no name for, as the closest: four 8-bit channels.
    pub fn color(&self) -> ColorType {
        match self.output {
            ColorSpace::JCS_GRAYSCALE => ColorType::L8,
            ColorSpace::JCS_CMYK => ColorType::Rgba8,
            _ => ColorType::Rgb8,
        }
    }

    /// Decodes the pixels (not yet oriented). With `allow_corrupt`, data
    /// libjpeg warns about gives what it could decode and the warning.
    pub fn decode(self, allow_corrupt: bool) -> Result<(DynamicImage, Option<String>)> {
        let (w, h) = (self.width, self.height);
        let (pixels, warning) = guarded(!allow_corrupt, || {
            let d = Decompress::builder()
                .with_err(error_manager())
                .from_mem(&self.bytes)?;
            let mut started = d.to_colorspace(self.output)?;
            let pixels: Vec<u8> = started.read_scanlines()?;
            started.finish()?;
            Ok(pixels)
        })?;
        let image = match self.output {
            ColorSpace::JCS_GRAYSCALE => {
                GrayImage::from_raw(w, h, pixels).map(DynamicImage::ImageLuma8)
            }
            ColorSpace::JCS_CMYK => {
                RgbImage::from_raw(w, h, cmyk_to_rgb(&pixels)).map(DynamicImage::ImageRgb8)
            }
            _ => RgbImage::from_raw(w, h, pixels).map(DynamicImage::ImageRgb8),
        };
        let image =
            image.ok_or_else(|| Error::Input("the JPEG decoded to too few pixels".into()))?;
        Ok((image, warning))
    }
}

/// Pillow's conversion of an Adobe (inverted) CMYK JPEG to RGB: it reads
/// the samples as "CMYK;I" and converts each channel as
/// `(255 - k) - c * (255 - k) / 255` with its rounded division.
fn cmyk_to_rgb(cmyk: &[u8]) -> Vec<u8> {
    let muldiv255 = |a: u32, b: u32| {
        let t = a * b + 128;
        ((t >> 8) + t) >> 8
    };
    let mut rgb = Vec::with_capacity(cmyk.len() / 4 * 3);
    for px in cmyk.chunks_exact(4) {
        let nk = u32::from(px[3]);
        for &c in &px[..3] {
            let c = 255 - u32::from(c);
            rgb.push((nk - muldiv255(c, nk)) as u8);
        }
    }
    rgb
}

thread_local! {
    /// The first warning libjpeg gave in this thread's current decode.
    static WARNING: RefCell<Option<String>> = const { RefCell::new(None) };
    /// Whether a warning ends this thread's current decode.
    static STRICT: RefCell<bool> = const { RefCell::new(true) };
}

/// What libjpeg's errors and warnings unwind with: its message, and
/// whether it was a warning (corrupt data it could have got past).
struct Message {
    text: String,
    warning: bool,
}

/// Runs `decode` with libjpeg's callbacks armed: its errors (and, when
/// `strict`, its warnings) become [`Error::Input`] with libjpeg's message;
/// otherwise the first warning is returned beside the result.
fn guarded<T>(
    strict: bool,
    decode: impl FnOnce() -> std::io::Result<T>,
) -> Result<(T, Option<String>)> {
    STRICT.with(|s| *s.borrow_mut() = strict);
    WARNING.with(|w| w.borrow_mut().take());
    let outcome = catch_unwind(AssertUnwindSafe(decode));
    let warning = WARNING.with(|w| w.borrow_mut().take());
    match outcome {
        Ok(Ok(value)) => Ok((value, warning)),
        Ok(Err(e)) => Err(Error::Input(format!("cannot decode the JPEG: {e}"))),
        Err(payload) => match payload.downcast::<Message>() {
            Ok(m) if m.warning => Err(Error::Input(format!(
                "truncated or corrupt JPEG: {} (--allow-truncated decodes what it can)",
                m.text
            ))),
            Ok(m) => Err(Error::Input(format!("cannot decode the JPEG: {}", m.text))),
            Err(other) => resume_unwind(other),
        },
    }
}

fn error_manager() -> jpeg_error_mgr {
    // SAFETY: jpeg_std_error fills in every field of the zeroed struct.
    let mut err: jpeg_error_mgr = unsafe { std::mem::zeroed() };
    unsafe { jpeg_std_error(&mut err) };
    err.error_exit = Some(on_error);
    err.emit_message = Some(on_message);
    err
}

/// libjpeg's message for the code it just set, as its own formatter writes it.
fn message(cinfo: &mut jpeg_common_struct) -> String {
    // libjpeg writes up to JMSG_LENGTH_MAX (200) bytes; the binding
    // declares the buffer as a shared [u8; 80], so it is called through a
    // pointer-taking type (the same ABI).
    type Format = unsafe extern "C-unwind" fn(&mut jpeg_common_struct, *mut u8);
    let mut buffer = [0u8; 200];
    // SAFETY: libjpeg sets `err` before any callback, and jpeg_std_error
    // sets `format_message`; a reference and a pointer pass alike.
    unsafe {
        if let Some(format) = (*cinfo.err).format_message {
            let format: Format = std::mem::transmute(format);
            format(cinfo, buffer.as_mut_ptr());
        }
    }
    let text = buffer.split(|&c| c == 0).next().unwrap_or_default();
    String::from_utf8_lossy(text).into_owned()
}

extern "C-unwind" fn on_error(cinfo: &mut jpeg_common_struct) {
    resume_unwind(Box::new(Message {
        text: message(cinfo),
        warning: false,
    }));
}

/// libjpeg calls this with level -1 for a warning (corrupt data it can
/// get past) and 0 and up for trace messages, which are ignored.
extern "C-unwind" fn on_message(cinfo: &mut jpeg_common_struct, level: c_int) {
    if level >= 0 {
        return;
    }
    let text = message(cinfo);
    if STRICT.with(|s| *s.borrow()) {
        resume_unwind(Box::new(Message {
            text,
            warning: true,
        }));
    }
    WARNING.with(|w| {
        w.borrow_mut().get_or_insert_with(|| {
            format!("truncated or corrupt JPEG, decoded as far as it goes: {text}")
        });
    });
}
