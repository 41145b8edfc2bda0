//! CPU preprocessing of images for U²-Net, as rembg does it: decode (EXIF
//! orientation applied), RGB8 (alpha dropped), Lanczos resize to the network
//! size ignoring the aspect ratio, divide by the image maximum, ImageNet
//! mean/std, NCHW float32.
//!
//! The resize is Pillow's own fixed-point Lanczos ([`resize_like_pil`], the
//! CPU reference of shaders/resample.wgsl), so the resized image equals
//! rembg's byte for byte; the float arithmetic after it is f64 like rembg's
//! NumPy code. This is the path `u2cut infer` uses; `u2cut remove` runs the
//! same steps as GPU passes (src/remove).

use std::path::Path;

use crate::io::{DecodeOptions, decode_file};
use crate::{Result, ResultExt as _};
use image::{DynamicImage, RgbImage};

use crate::kernels::resample::Resize;

/// ImageNet channel means and standard deviations (RGB), as rembg uses them.
pub const MEAN: [f64; 3] = [0.485, 0.456, 0.406];
pub const STD: [f64; 3] = [0.229, 0.224, 0.225];

/// Decodes an image file as [`decode_file`] does (EXIF orientation
/// applied, limits checked), as RGB8: any alpha channel is dropped, not
/// composited. Returns the decode's warning beside it (a damaged JPEG let
/// through); errors name the file.
pub fn load_rgb8(path: &Path, options: &DecodeOptions) -> Result<(RgbImage, Option<String>)> {
    let decoded = decode_file(path, options).context(path.display())?;
    let rgb = DynamicImage::ImageRgba8(decoded.image).to_rgb8();
    Ok((rgb, decoded.warning))
}

/// Pillow's `resize((width, height), Image.LANCZOS)` of an 8-bit RGB image,
/// to the bit.
pub fn resize_like_pil(img: &RgbImage, width: u32, height: u32) -> RgbImage {
    let resize = Resize::new(3, img.dimensions(), (width, height));
    RgbImage::from_raw(width, height, resize.run_cpu(img.as_raw()))
        .expect("the resize returns width x height pixels")
}

/// rembg's U²-Net input for one RGB8 image at `width x height`: 3 planes
/// (R, G, B) of float32, appended to `out`. Arithmetic is in float64 like
/// rembg's NumPy code, rounded to float32 at the end.
pub fn normalize_into(img: &RgbImage, width: u32, height: u32, out: &mut Vec<f32>) {
    let resized = resize_like_pil(img, width, height);
    let max = resized.as_raw().iter().copied().max().unwrap_or(0);
    // rembg: im / max(im.max(), 1e-6), in 0..255 units; an all-black image stays 0.
    let scale = 1.0 / f64::max(f64::from(max), 1e-6);
    let plane = width as usize * height as usize;
    out.reserve(3 * plane);
    for c in 0..3 {
        out.extend(resized.pixels().map(|p| {
            let x = f64::from(p.0[c]) * scale;
            ((x - MEAN[c]) / STD[c]) as f32
        }));
    }
}

/// [`normalize_into`] into a new vector.
pub fn normalize(img: &RgbImage, width: u32, height: u32) -> Vec<f32> {
    let mut out = Vec::new();
    normalize_into(img, width, height, &mut out);
    out
}
