//! `Remover` masks against rembg's (tools/rembg_masks.py: rembg's own
//! pipeline with the same U²-Netp on ONNX Runtime) on the images of
//! tests/data/remove: a photo, EXIF-rotated and gray JPEGs, palette, 16-bit
//! and RGBA PNGs, a logo on transparency, a 32x32 image and a composite.
//! Required per image: mean |ours - rembg| <= 1.5 gray levels and IoU of
//! the regions above 127 >= 0.98, with f32 activations and with f16 ones
//! (`--precision f16`, GPU only). One network batch for all images (on the
//! GPU, or the CPU reference without one).

use crate::common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use u2cut::io::{DecodeOptions, decode_file};
use u2cut::kernels::Precision;
use u2cut::remove::{Options, Product};
use u2cut::{Model, Network, Remover};

fn data() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/remove")
}

#[test]
fn masks_match_rembg() {
    let model = Arc::new(Model::builtin());
    let net = match common::gpu() {
        Some(ctx) => Network::gpu(&ctx, model),
        None => Network::cpu(model),
    };
    check_masks(net, "f32");
}

#[test]
fn f16_masks_match_rembg() {
    let Some(ctx) = common::gpu() else { return };
    let net = Network::gpu(&ctx, Arc::new(Model::builtin()))
        .with_precision(Precision::F16)
        .unwrap();
    check_masks(net, "f16");
}

/// The images of tests/data/remove, each with rembg's mask in `refs`
/// (a folder beside them: `rembg` for U²-Netp, `rembg_u2net` for U²-Net).
pub(crate) fn remove_photos(refs: &str) -> Vec<(PathBuf, PathBuf)> {
    [
        "photo.png",
        "rotated.jpg",
        "gray.jpg",
        "palette.png",
        "rgb16.png",
        "logo.png",
        "tiny.png",
        "composite.png",
    ]
    .iter()
    .map(|n| (data().join(n), reference(&data().join(refs), n)))
    .collect()
}

/// rembg's mask of image `name` in folder `refs`: `<stem>.png`.
pub(crate) fn reference(refs: &Path, name: &str) -> PathBuf {
    let stem = Path::new(name).file_stem().unwrap().to_str().unwrap();
    refs.join(format!("{stem}.png"))
}

fn check_masks(net: Network, what: &str) {
    let masks = masks(net, &remove_photos("rembg"));
    assert_match_rembg(what, &remove_photos("rembg"), &masks);
}

/// `Remover` masks of the images of `cases` (batches of up to 8).
pub(crate) fn masks(net: Network, cases: &[(PathBuf, PathBuf)]) -> Vec<image::GrayImage> {
    let images: Vec<_> = cases
        .iter()
        .map(|(image, _)| decode_file(image, &DecodeOptions::default()).unwrap().image)
        .collect();
    let options = Options {
        batch_size: images.len().min(8) as u32,
        ..Options::default()
    };
    let remover = Remover::new(net, options);
    let out = remover.process(&images, Product::Mask).unwrap();
    out.into_iter().map(|removed| removed.mask).collect()
}

/// Each mask against rembg's (the second path of its case): mean
/// |ours - rembg| <= 1.5 gray levels and IoU(>127) >= 0.98.
pub(crate) fn assert_match_rembg(
    what: &str,
    cases: &[(PathBuf, PathBuf)],
    masks: &[image::GrayImage],
) {
    let mut failures = Vec::new();
    for ((image, reference), got) in cases.iter().zip(masks) {
        let name = image.file_name().unwrap().to_string_lossy();
        let want = image::open(reference).unwrap().into_luma8();
        let d = mask_difference(got, &want);
        eprintln!(
            "{what} {name:20} {:>3}x{:<3} mean |ours - rembg| {:.4} levels, max {}, \
             {:.2}% of pixels differ, IoU(>127) {:.5}",
            got.width(),
            got.height(),
            d.mean,
            d.max,
            d.differ_percent,
            d.iou
        );
        if d.mean > 1.5 || d.iou < 0.98 {
            failures.push(format!("{name}: mean {:.3}, IoU {:.4}", d.mean, d.iou));
        }
    }
    assert!(failures.is_empty(), "{what}: {failures:?}");
}

/// How two 8-bit masks of one image differ.
pub(crate) struct MaskDifference {
    pub mean: f64,
    pub max: u8,
    pub differ_percent: f64,
    /// Intersection over union of the regions above 127.
    pub iou: f64,
}

pub(crate) fn mask_difference(got: &image::GrayImage, want: &image::GrayImage) -> MaskDifference {
    assert_eq!(got.dimensions(), want.dimensions(), "mask size");
    let (mut sum, mut max, mut inter, mut union, mut off) = (0u64, 0u8, 0u64, 0u64, 0u64);
    for (&a, &b) in got.as_raw().iter().zip(want.as_raw()) {
        let d = a.abs_diff(b);
        sum += u64::from(d);
        max = max.max(d);
        off += u64::from(d > 0);
        inter += u64::from(a > 127 && b > 127);
        union += u64::from(a > 127 || b > 127);
    }
    let pixels = got.as_raw().len() as f64;
    MaskDifference {
        mean: sum as f64 / pixels,
        max,
        differ_percent: 100.0 * off as f64 / pixels,
        iou: if union == 0 {
            1.0
        } else {
            inter as f64 / union as f64
        },
    }
}
