//! `Remover` masks against rembg's (tools/rembg_masks.py: rembg's own
//! pipeline with the same U²-Netp on ONNX Runtime) on the images of
//! tests/data/remove: a photo, EXIF-rotated and gray JPEGs, palette, 16-bit
//! and RGBA PNGs, a logo on transparency, a 32x32 image and a composite.
//! Required per image: mean |ours - rembg| <= 1.5 gray levels and IoU of
//! the regions above 127 >= 0.98, with f32 activations and with f16 ones
//! (`--precision f16`, GPU only). One network batch for all images (on the
//! GPU, or the CPU reference without one).

use crate::common;

use std::path::Path;
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

fn check_masks(net: Network, what: &str) {
    let names = [
        "photo.png",
        "rotated.jpg",
        "gray.jpg",
        "palette.png",
        "rgb16.png",
        "logo.png",
        "tiny.png",
        "composite.png",
    ];
    let images: Vec<_> = names
        .iter()
        .map(|n| {
            decode_file(&data().join(n), &DecodeOptions::default())
                .unwrap()
                .image
        })
        .collect();
    let options = Options {
        batch_size: names.len() as u32,
        ..Options::default()
    };
    let remover = Remover::new(net, options);
    let out = remover.process(&images, Product::Mask).unwrap();
    let mut failures = Vec::new();
    for (name, removed) in names.iter().zip(&out) {
        let stem = Path::new(name).file_stem().unwrap().to_str().unwrap();
        let want = image::open(data().join("rembg").join(format!("{stem}.png")))
            .unwrap()
            .into_luma8();
        let got = &removed.mask;
        assert_eq!(got.dimensions(), want.dimensions(), "{name}: size");
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
        let mean = sum as f64 / pixels;
        let iou = if union == 0 {
            1.0
        } else {
            inter as f64 / union as f64
        };
        eprintln!(
            "{what} {name:14} {:>3}x{:<3} mean |ours - rembg| {mean:.4} levels, max {max}, \
             {:.2}% of pixels differ, IoU(>127) {iou:.5}",
            got.width(),
            got.height(),
            100.0 * off as f64 / pixels
        );
        if mean > 1.5 || iou < 0.98 {
            failures.push(format!("{name}: mean {mean:.3}, IoU {iou:.4}"));
        }
    }
    assert!(failures.is_empty(), "{failures:?}");
}
