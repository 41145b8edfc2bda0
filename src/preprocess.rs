//! CPU preprocessing of images for U²-Net, as rembg does it: decode (EXIF
//! orientation applied), RGB8 (alpha dropped), Lanczos resize to the network
//! size ignoring the aspect ratio, divide by the image maximum, ImageNet
//! mean/std, NCHW float32.
//!
//! The resize is the image crate's Lanczos3 (support 3, widened by the
//! downscale factor, like PIL's), run one axis at a time in PIL's order,
//! horizontal first with the intermediate rounded and clipped to 8 bits
//! ([`resize_like_pil`]). PIL computes in fixed point (22-bit coefficients)
//! and picks its windows a little differently, so a few values still differ
//! from rembg's by one gray level (17 of 307,200 for lemur.png at
//! 320x320; see the tests). A single `imageops::resize` call would differ by
//! up to 2 gray levels when downscaling and 13 when upscaling sharp edges:
//! PIL's own float mode differs from its 8-bit mode by as much. The GPU
//! preprocessing pass arrives with `u2cut remove`; this module is the CPU
//! path `u2cut infer` uses, and the reference for that pass.

use std::path::Path;

use anyhow::{Context as _, Result};
use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder as _, ImageReader, RgbImage};

/// ImageNet channel means and standard deviations (RGB), as rembg uses them.
pub const MEAN: [f64; 3] = [0.485, 0.456, 0.406];
pub const STD: [f64; 3] = [0.229, 0.224, 0.225];

/// Decodes an image file with its EXIF orientation applied, as RGB8 (any
/// alpha channel is dropped, not composited). Errors name the file.
pub fn load_rgb8(path: &Path) -> Result<RgbImage> {
    let name = path.display();
    let reader = ImageReader::open(path)
        .with_context(|| format!("{name}: cannot open"))?
        .with_guessed_format()
        .with_context(|| format!("{name}: cannot read"))?;
    let mut decoder = reader
        .into_decoder()
        .with_context(|| format!("{name}: not a supported image"))?;
    // A broken EXIF block should not make a decodable image unusable.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img =
        DynamicImage::from_decoder(decoder).with_context(|| format!("{name}: cannot decode"))?;
    img.apply_orientation(orientation);
    Ok(img.to_rgb8())
}

/// Lanczos3 resize in PIL's pass order: horizontal first, rounded and
/// clipped to 8 bits, then vertical. (`imageops::resize` alone goes
/// vertical first and keeps a float intermediate. Each call below also runs
/// a pass over its unchanged axis, which is the identity since the Lanczos
/// kernel is 0 at nonzero integers; it costs time, about 2.7x one call for
/// a 4000x3000 photo, 0.37 s, fine for this CPU path.)
pub fn resize_like_pil(img: &RgbImage, width: u32, height: u32) -> RgbImage {
    let (w0, h0) = img.dimensions();
    if w0 == width || h0 == height {
        return image::imageops::resize(img, width, height, FilterType::Lanczos3);
    }
    let wide = image::imageops::resize(img, width, h0, FilterType::Lanczos3);
    image::imageops::resize(&wide, width, height, FilterType::Lanczos3)
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
