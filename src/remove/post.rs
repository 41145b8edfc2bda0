//! Steps on the full-size mask: rembg's post-processing (`-ppm`, GPU passes
//! from the matting module) and the subject's bounding box for `--crop`.

use image::GrayImage;

use crate::error::Result;
use crate::matting::{Engine, GpuPlane, Plane, morph};

/// Mask values from which a pixel counts as subject for `--crop`: rembg's
/// alpha matting calls everything below 10 sure background.
pub const CROP_THRESHOLD: u8 = 10;

/// rembg's `post_process` (`-ppm`) of an 8-bit mask: opening with the 3x3
/// ellipse, Gaussian blur (5x5, sigma 2, reflect-101 border), then 0 below
/// 127 and 255 from it ([`morph::post_process_gpu`]; on the CPU its
/// reference). OpenCV blurs 8-bit images in fixed point, this in f32, so a
/// pixel whose blurred value is within a rounding step of 127 can land on
/// the other side.
pub fn post_process(engine: Engine, mask: &GrayImage) -> Result<GrayImage> {
    let plane = Plane::from_gray8(mask);
    let out = match engine {
        Engine::Gpu(ctx) => {
            let gpu = GpuPlane::upload(ctx, "mask", &plane);
            let (post, dispatches) = morph::post_process_gpu(ctx, &gpu)?;
            ctx.run(&dispatches);
            post.read(ctx)?
        }
        Engine::Cpu => morph::post_process_cpu(&plane),
    };
    Ok(out.to_gray8())
}

/// The smallest rectangle `(x, y, width, height)` holding every pixel of
/// `mask` at or above [`CROP_THRESHOLD`], grown by `margin` on each side
/// (within the image); `None` if no pixel is.
pub fn subject_box(mask: &GrayImage, margin: u32) -> Option<(u32, u32, u32, u32)> {
    let (w, h) = mask.dimensions();
    let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
    for (y, row) in mask.as_raw().chunks_exact(w as usize).enumerate() {
        let Some(first) = row.iter().position(|&v| v >= CROP_THRESHOLD) else {
            continue;
        };
        let last = row
            .iter()
            .rposition(|&v| v >= CROP_THRESHOLD)
            .unwrap_or(first);
        x0 = x0.min(first as u32);
        x1 = x1.max(last as u32);
        y0 = y0.min(y as u32);
        y1 = y as u32;
    }
    if x0 == u32::MAX {
        return None;
    }
    let (x0, y0) = (x0.saturating_sub(margin), y0.saturating_sub(margin));
    let (x1, y1) = (
        x1.saturating_add(margin).min(w - 1),
        y1.saturating_add(margin).min(h - 1),
    );
    Some((x0, y0, x1 - x0 + 1, y1 - y0 + 1))
}
