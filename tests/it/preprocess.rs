//! CPU preprocessing against PIL (what rembg uses) and on edge cases.

use crate::common;

use std::path::Path;

use common::{diff, load_golden};
use image::RgbImage;
use u2cut::io::DecodeOptions;
use u2cut::preprocess::{MEAN, STD, load_rgb8, normalize};

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// One gray level after normalization is 1/255/std, about 0.0175 for G.
const LEVEL: f32 = 1.0 / 255.0 / 0.224;

/// Against PIL (rembg's resize): lemur.png 680x440 -> 320x320 and the
/// 32x32 RGBA test.png -> 320x320 (alpha dropped). The resize is Pillow's
/// fixed-point Lanczos to the bit; the f64 arithmetic after it is rembg's.
/// Measured: 0 of 307,200 values differ for both.
#[test]
fn matches_pil_lanczos_exactly() {
    let data = manifest().join("tests/data/matting");
    assert!(
        data.exists(),
        "{} is missing (pymatting's test data)",
        data.display()
    );
    let golden = load_golden("golden_u2netp_320_b2.safetensors");
    assert_eq!(golden.shape, [2, 3, 320, 320]);
    let golden = golden.input;
    let per_image = 3 * 320 * 320;
    for (i, file) in ["lemur/lemur.png", "test/test.png"].iter().enumerate() {
        let (img, _) = load_rgb8(&data.join(file), &DecodeOptions::default()).unwrap();
        let ours = normalize(&img, 320, 320);
        let want = &golden[i * per_image..(i + 1) * per_image];
        let (max, mean) = diff(&ours, want);
        let off = ours
            .iter()
            .zip(want)
            .filter(|(a, b)| (*a - *b).abs() > 1e-5)
            .count();
        eprintln!(
            "{file}: max |ours - PIL| = {max:.4} ({:.2} gray levels), mean {mean:.2e}, \
             {off} of {per_image} values differ",
            max / LEVEL
        );
        assert_eq!(off, 0, "{file}: max diff {max} vs PIL");
    }
}

#[test]
fn black_image_stays_finite() {
    let img = RgbImage::new(7, 5);
    let v = normalize(&img, 4, 4);
    assert_eq!(v.len(), 48);
    for (c, plane) in v.chunks(16).enumerate() {
        let want = (-MEAN[c] / STD[c]) as f32;
        assert!(plane.iter().all(|&x| x == want));
    }
}

#[test]
fn divides_by_the_image_maximum() {
    // A flat image at 100: after dividing by its max every value is 1.
    let img = RgbImage::from_pixel(8, 8, image::Rgb([100, 100, 100]));
    let v = normalize(&img, 8, 8);
    for (c, plane) in v.chunks(64).enumerate() {
        let want = ((1.0 - MEAN[c]) / STD[c]) as f32;
        assert!(plane.iter().all(|&x| (x - want).abs() < 1e-6), "{c}");
    }
}
