//! Helpers shared by the integration tests.
#![allow(dead_code)] // each test binary uses a different subset

use std::sync::OnceLock;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use u2cut::gpu::{AdapterChoice, GpuContext, REQUIRE_GPU_ENV, gpu_required};

/// The one GPU context of this test binary, or `None` (with a notice) when
/// there is no adapter and `U2CUT_REQUIRE_GPU=1` is not set.
pub fn gpu() -> Option<GpuContext> {
    static CTX: OnceLock<Result<GpuContext, String>> = OnceLock::new();
    let ctx = CTX.get_or_init(|| {
        GpuContext::new(&AdapterChoice::from_flag_or_env(None)).map_err(|e| format!("{e:#}"))
    });
    match ctx {
        Ok(ctx) => Some(ctx.clone()),
        Err(e) if gpu_required() => {
            panic!("{REQUIRE_GPU_ENV}=1 but no GPU adapter could be opened: {e}")
        }
        Err(e) => {
            eprintln!(
                "NOTICE: skipping GPU test, no adapter ({e}); set {REQUIRE_GPU_ENV}=1 to fail instead"
            );
            None
        }
    }
}

pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

pub fn random_vec(rng: &mut StdRng, len: usize, scale: f32) -> Vec<f32> {
    (0..len).map(|_| rng.random_range(-scale..scale)).collect()
}

/// Asserts |got - want| <= tol * max(1, |want|) elementwise, naming the first offender.
pub fn assert_close(what: &str, got: &[f32], want: &[f32], tol: f32) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let mut worst = (0.0f32, 0usize);
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let err = (g - w).abs() / w.abs().max(1.0);
        assert!(
            !err.is_nan() || (g.is_nan() && w.is_nan()),
            "{what}: NaN at {i}: got {g}, want {w}"
        );
        if err > worst.0 {
            worst = (err, i);
        }
    }
    let (err, i) = worst;
    assert!(
        err <= tol,
        "{what}: relative error {err:e} at element {i} (got {}, want {}) exceeds {tol:e}",
        got[i],
        want[i]
    );
}

/// An ONNX Runtime golden from tests/data (made by tools/golden.py).
pub struct Golden {
    pub input: Vec<f32>,
    pub shape: [u32; 4],
    /// d0 .. d6
    pub maps: Vec<Vec<f32>>,
}

pub fn load_golden(file: &str) -> Golden {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(file);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let get = |name: &str| -> (Vec<f32>, Vec<usize>) {
        let t = st.tensor(name).unwrap();
        let v = t
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        (v, t.shape().to_vec())
    };
    let (input, shape) = get("input");
    Golden {
        input,
        shape: [
            shape[0] as u32,
            shape[1] as u32,
            shape[2] as u32,
            shape[3] as u32,
        ],
        maps: (0..7).map(|d| get(&format!("d{d}")).0).collect(),
    }
}

/// (max abs, mean abs) difference.
pub fn diff(a: &[f32], b: &[f32]) -> (f32, f32) {
    assert_eq!(a.len(), b.len());
    let max = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max);
    let mean = a
        .iter()
        .zip(b)
        .map(|(x, y)| f64::from((x - y).abs()))
        .sum::<f64>()
        / a.len() as f64;
    (max, mean as f32)
}
