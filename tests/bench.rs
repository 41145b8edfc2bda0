//! The benchmark instrument itself: its per-kernel rows must account for
//! the whole-batch time, and its JSON fields are a contract for scripts.

mod common;

use std::sync::Arc;

use common::gpu;
use u2cut::{Model, Network};

#[test]
fn kernel_rows_add_up_to_the_batch_time() {
    let Some(ctx) = gpu() else { return };
    let net = Network::gpu(&ctx, Arc::new(Model::builtin()));
    let report = u2cut::bench::run(&net, 80, 2, 3).unwrap();
    eprintln!("{}", report.table());
    let ratio = report.kernel_total_ms / report.latency_ms;
    assert!(
        (0.5..=1.5).contains(&ratio),
        "kernel times sum to {:.2} ms, the batch takes {:.2} ms",
        report.kernel_total_ms,
        report.latency_ms
    );
    assert_eq!(
        report
            .kernels
            .iter()
            .map(|k| k.calls as usize)
            .sum::<usize>(),
        report.dispatches
    );
    let convs = report
        .kernels
        .iter()
        .filter(|k| k.name.starts_with("conv"))
        .map(|k| k.gflop_per_s)
        .sum::<f64>();
    assert!(convs > 0.0, "conv rows carry their FLOP counts");
    assert!((report.gflop_per_image - 39.5 * (80.0 * 80.0) / (320.0 * 320.0)).abs() < 0.05);

    let json: serde_json::Value = serde_json::to_value(&report).unwrap();
    for field in [
        "adapter",
        "backend",
        "model",
        "batch",
        "size",
        "iters",
        "images_per_second",
        "latency_ms",
        "peak_memory_bytes",
        "kernels",
    ] {
        assert!(json.get(field).is_some(), "JSON lacks `{field}`");
    }
    for field in ["name", "calls", "total_ms", "gflop_per_s", "gb_per_s"] {
        assert!(
            json["kernels"][0].get(field).is_some(),
            "kernel rows lack `{field}`"
        );
    }
}
