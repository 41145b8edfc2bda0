//! CPU steps on the full-size mask: rembg's post-processing (`-ppm`) and
//! the subject's bounding box for `--crop`.
//!
//! The post-processing runs on the CPU for now (the morphology and blur
//! would make good GPU passes; the mask is one byte per pixel, so this costs
//! ~10 ms per megapixel on one core).

use image::GrayImage;

/// Mask values from which a pixel counts as subject for `--crop`: rembg's
/// alpha matting calls everything below 10 sure background.
pub const CROP_THRESHOLD: u8 = 10;

/// OpenCV's 5-tap Gaussian for sigma 2 (`getGaussianKernel(5, 2)`):
/// exp(-x^2 / 8) for x = -2..2, normalized.
fn gaussian5() -> [f32; 5] {
    let w = [-2.0f32, -1.0, 0.0, 1.0, 2.0].map(|x: f32| (-x * x / 8.0).exp());
    let sum: f32 = w.iter().sum();
    w.map(|v| v / sum)
}

/// OpenCV's BORDER_REFLECT_101 (`gfedcb|abcdefgh|gfedcba`), its GaussianBlur default.
fn reflect101(i: i64, n: i64) -> usize {
    if n == 1 {
        return 0;
    }
    let period = 2 * (n - 1);
    let i = i.rem_euclid(period);
    (if i < n { i } else { period - i }) as usize
}

/// Erosion (`min`) or dilation (`max`) with the 3x3 ellipse, which is the
/// cross of 5 pixels; outside pixels are ignored, as OpenCV's default border
/// does for morphology.
fn cross(src: &GrayImage, pick: fn(u8, u8) -> u8) -> GrayImage {
    let (w, h) = src.dimensions();
    GrayImage::from_fn(w, h, |x, y| {
        let mut v = src.get_pixel(x, y).0[0];
        let neighbours = [
            (x.wrapping_sub(1), y),
            (x + 1, y),
            (x, y.wrapping_sub(1)),
            (x, y + 1),
        ];
        for (nx, ny) in neighbours {
            if nx < w && ny < h {
                v = pick(v, src.get_pixel(nx, ny).0[0]);
            }
        }
        image::Luma([v])
    })
}

/// rembg's `post_process`: morphological opening with a 3x3 ellipse,
/// Gaussian blur (5x5, sigma 2, reflect-101 border), then 0 below 127 and
/// 255 from it. OpenCV blurs 8-bit images in fixed point; this blurs in f32
/// and rounds, so a pixel whose blurred value is within a rounding step of
/// 127 can land on the other side.
pub fn post_process(mask: &GrayImage) -> GrayImage {
    let opened = cross(&cross(mask, u8::min), u8::max);
    let (w, h) = opened.dimensions();
    let k = gaussian5();
    let (wi, hi) = (i64::from(w), i64::from(h));
    let src = opened.as_raw();
    let mut rows = vec![0f32; src.len()];
    for y in 0..h as usize {
        let row = &src[y * w as usize..(y + 1) * w as usize];
        for x in 0..w as usize {
            rows[y * w as usize + x] = (0..5)
                .map(|t| k[t] * f32::from(row[reflect101(x as i64 + t as i64 - 2, wi)]))
                .sum();
        }
    }
    GrayImage::from_fn(w, h, |x, y| {
        let v: f32 = (0..5)
            .map(|t| {
                let yy = reflect101(i64::from(y) + t as i64 - 2, hi);
                k[t] * rows[yy * w as usize + x as usize]
            })
            .sum();
        let blurred = v.round().clamp(0.0, 255.0) as u8;
        image::Luma([if blurred < 127 { 0 } else { 255 }])
    })
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
