//! Weight files: round trips, custom widths, unfolded BatchNorm, and clear
//! errors for every kind of broken file.

use crate::common;

use std::sync::Arc;

use common::{gpu, random_vec, rng};
use u2cut::kernels::Precision;
use u2cut::kernels::batchnorm::BatchNorm;
use u2cut::model::weights::serialize;
use u2cut::model::{LoadOptions, U2NetConfig};
use u2cut::{Model, Network};

fn load(bytes: &[u8], fold_bn: bool) -> u2cut::Result<Model> {
    Model::from_bytes(bytes, "test.safetensors", LoadOptions { fold_bn })
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    common::diff(a, b).0
}

fn cpu_d0(model: Model, input: &[f32], (h, w): (u32, u32)) -> Vec<f32> {
    Network::cpu(Arc::new(model))
        .infer(input, 1, h, w)
        .unwrap()
        .maps[0]
        .clone()
}

#[test]
fn builtin_weights_round_trip() {
    let model = Model::builtin();
    assert_eq!(model.config, U2NetConfig::u2netp());
    let again = load(&serialize(&model).unwrap(), true).unwrap();
    assert_eq!(again.config, model.config);
    for (a, b) in model.layers.iter().zip(&again.layers) {
        assert_eq!(
            (&a.name, a.spec, &a.weight, &a.bias),
            (&b.name, b.spec, &b.weight, &b.bias)
        );
    }
}

#[test]
fn custom_widths_come_from_the_tensor_shapes() {
    let widths = [
        (3, 8, 24),
        (24, 8, 16),
        (16, 4, 12),
        (12, 4, 12),
        (12, 4, 10),
        (10, 6, 10),
        (20, 4, 8),
        (20, 4, 8),
        (20, 4, 8),
        (24, 4, 8),
        (32, 4, 8),
    ];
    let config = U2NetConfig::from_widths("tiny", widths).unwrap();
    let model = load(&serialize(&Model::random(config.clone(), 5)).unwrap(), true).unwrap();
    assert_eq!(model.config.stages, config.stages);
    let Some(ctx) = gpu() else { return };
    let input = random_vec(&mut rng(9), 3 * 21 * 14, 2.0);
    let model = Arc::new(model);
    let g = Network::gpu(&ctx, model.clone())
        .infer(&input, 1, 21, 14)
        .unwrap();
    let c = Network::cpu(model).infer(&input, 1, 21, 14).unwrap();
    for d in 0..7 {
        assert!(max_diff(&g.maps[d], &c.maps[d]) < 1e-4, "d{d}");
    }
}

#[test]
fn inconsistent_widths_are_refused() {
    let mut widths = [(64, 16, 64); 11];
    widths[0] = (3, 16, 64);
    let err = U2NetConfig::from_widths("bad", widths)
        .unwrap_err()
        .to_string();
    assert!(err.contains("stage5d"), "{err}");
}

/// A random model with BatchNorm kept separate on every REBNCONV, scaling
/// by about `gain` per layer.
fn model_with_batchnorm(gain: f32) -> Model {
    let mut model = Model::random(U2NetConfig::u2netp(), 11);
    let mut r = rng(12);
    for l in model
        .layers
        .iter_mut()
        .filter(|l| l.name.ends_with(".conv_s1"))
    {
        let c = l.spec.cout as usize;
        l.bn = Some(BatchNorm {
            gamma: random_vec(&mut r, c, 1.0)
                .iter()
                .map(|g| (g + 1.5) * gain / 1.5)
                .collect(),
            beta: random_vec(&mut r, c, 0.3),
            mean: random_vec(&mut r, c, 0.3),
            var: random_vec(&mut r, c, 0.5)
                .iter()
                .map(|v| v.abs() + 0.5)
                .collect(),
        });
        l.spec.relu = false;
    }
    model
}

#[test]
fn unfolded_batchnorm_matches_folded() {
    let bytes = serialize(&model_with_batchnorm(1.5)).unwrap();
    let folded = load(&bytes, true).unwrap();
    let unfolded = load(&bytes, false).unwrap();
    assert!(folded.layers.iter().all(|l| l.bn.is_none()));
    assert_eq!(
        unfolded.layers.iter().filter(|l| l.bn.is_some()).count(),
        112
    );
    let (h, w) = (13, 18);
    let input = random_vec(&mut rng(13), 3 * (h * w) as usize, 2.0);
    let unfolded_graph = unfolded.graph(h, w);
    // One BatchNorm op per REBNCONV, and the 11 RSU residual adds that the
    // folded graph fuses into a conv's epilogue.
    assert_eq!(
        unfolded_graph.ops.len(),
        folded.graph(h, w).ops.len() + 112 + 11,
    );
    let a = cpu_d0(folded, &input, (h, w));
    let unfolded = Arc::new(unfolded);
    let b = Network::cpu(unfolded.clone())
        .infer(&input, 1, h, w)
        .unwrap();
    assert!(
        max_diff(&a, &b.maps[0]) < 1e-4,
        "fold changes the result: {}",
        max_diff(&a, &b.maps[0])
    );
    let Some(ctx) = gpu() else { return };
    let g = Network::gpu(&ctx, unfolded.clone())
        .infer(&input, 1, h, w)
        .unwrap();
    for d in 0..7 {
        assert!(
            max_diff(&g.maps[d], &b.maps[d]) < 1e-4,
            "GPU BatchNorm graph d{d}"
        );
    }
}

/// The BatchNorm and add kernels in f16 storage (the folded graph never
/// runs them), within --precision f16's bound. Gains of 1.5 per layer, as
/// above, overflow f16 (65504) within a few dozen layers: f16 is for
/// trained networks, whose BatchNorm keeps activations near 1.
#[test]
fn unfolded_batchnorm_in_f16() {
    let Some(ctx) = gpu() else { return };
    let bytes = serialize(&model_with_batchnorm(1.0)).unwrap();
    let unfolded = Arc::new(load(&bytes, false).unwrap());
    let (h, w) = (13, 18);
    let input = random_vec(&mut rng(14), 3 * (h * w) as usize, 2.0);
    let want = Network::cpu(unfolded.clone())
        .infer(&input, 1, h, w)
        .unwrap();
    let got = Network::gpu(&ctx, unfolded)
        .with_precision(Precision::F16)
        .unwrap()
        .infer(&input, 1, h, w)
        .unwrap();
    for d in 0..7 {
        let diff = max_diff(&got.maps[d], &want.maps[d]);
        eprintln!("f16 BatchNorm graph d{d}: max abs {diff:.2e}");
        assert!(diff < 0.25, "f16 BatchNorm graph d{d}: {diff}");
    }
}

fn builtin_bytes() -> Vec<u8> {
    u2cut::model::BUILTIN_U2NETP.to_vec()
}

fn error_of(bytes: &[u8]) -> String {
    format!("{:#}", load(bytes, true).unwrap_err())
}

#[test]
fn missing_tensor_is_named() {
    let mut model = Model::builtin();
    model.layers.retain(|l| l.name != "side3");
    let err = error_of(&serialize(&model).unwrap());
    assert!(
        err.contains("test.safetensors") && err.contains("side3.weight") && err.contains("missing"),
        "{err}"
    );
}

/// The built-in file with tensor `name`'s dtype and shape changed by `edit`
/// (the bytes stay as they are).
fn edited_builtin(
    name: &str,
    edit: impl FnOnce(&mut safetensors::Dtype, &mut Vec<usize>),
) -> Vec<u8> {
    let st = safetensors::SafeTensors::deserialize(u2cut::model::BUILTIN_U2NETP).unwrap();
    let mut tensors: Vec<(String, safetensors::Dtype, Vec<usize>, &[u8])> = st
        .tensors()
        .into_iter()
        .map(|(n, t)| (n, t.dtype(), t.shape().to_vec(), t.data()))
        .collect();
    let t = tensors.iter_mut().find(|t| t.0 == name).unwrap();
    edit(&mut t.1, &mut t.2);
    let views: Vec<_> = tensors
        .iter()
        .map(|(n, d, s, b)| {
            (
                n.clone(),
                safetensors::tensor::TensorView::new(*d, s.clone(), b).unwrap(),
            )
        })
        .collect();
    safetensors::serialize(views, None).unwrap()
}

#[test]
fn wrong_shape_is_named() {
    // Same number of elements, transposed: only a shape check catches it.
    let err = error_of(&edited_builtin("side1.weight", |_, shape| {
        *shape = vec![64, 1, 3, 3]
    }));
    assert!(
        err.contains("side1.weight") && err.contains("shape"),
        "{err}"
    );
}

#[test]
fn wrong_dtype_is_named() {
    let err = error_of(&edited_builtin("outconv.weight", |dtype, _| {
        *dtype = safetensors::Dtype::I32
    }));
    assert!(
        err.contains("outconv.weight") && err.contains("I32"),
        "{err}"
    );
}

#[test]
fn truncated_and_foreign_files_are_refused() {
    let bytes = builtin_bytes();
    let err = error_of(&bytes[..bytes.len() / 2]);
    assert!(
        err.contains("test.safetensors") && err.contains("not a valid safetensors"),
        "{err}"
    );
    let err = error_of(b"\x89PNG\r\n\x1a\nnot weights at all");
    assert!(err.contains("not a valid safetensors"), "{err}");
    let err = error_of(&[]);
    assert!(err.contains("test.safetensors"), "{err}");
}

#[test]
fn model_names_resolve() {
    assert_eq!(
        Model::resolve("u2netp", LoadOptions::default())
            .unwrap()
            .config
            .name,
        "u2netp"
    );
    let empty = tempfile::TempDir::new().unwrap();
    let err = format!(
        "{:#}",
        Model::resolve_in("u2net", LoadOptions::default(), Some(empty.path().into())).unwrap_err()
    );
    let missing = empty.path().join("u2net.safetensors");
    assert!(err.contains(&missing.display().to_string()), "{err}");
    assert!(err.contains("bash tools/fetch_model.sh u2net"), "{err}");
    let err = format!(
        "{:#}",
        Model::resolve("/nonexistent/m.safetensors", LoadOptions::default()).unwrap_err()
    );
    assert!(err.contains("/nonexistent/m.safetensors"), "{err}");
    let err = format!(
        "{:#}",
        Model::resolve("u3net", LoadOptions::default()).unwrap_err()
    );
    assert!(err.contains("u3net"), "{err}");
}
