//! The whole network: GPU against ONNX Runtime goldens of the real
//! U²-Netp (tests/data, made by tools/golden.py), GPU against the CPU
//! reference executor, and the full U²-Net with random weights.

use crate::common;

use std::sync::Arc;

use common::{Golden, diff, gpu, load_golden, random_vec, rng};
use u2cut::gpu::GpuContext;
use u2cut::graph::UpsampleFusion;
use u2cut::graph::gpu::GpuPlan;
use u2cut::graph::tune::TuneCache;
use u2cut::kernels::Precision;
use u2cut::kernels::conv::{Caps, ConvKernel};
use u2cut::{Model, Network, SideOutputs};

/// The bound: every output within 5e-4 max-abs and 2e-5 mean-abs of ONNX Runtime.
pub(crate) fn assert_matches_golden(what: &str, got: &SideOutputs, want: &Golden) {
    assert_within(what, got, want, (5e-4, 2e-5));
}

/// Every output within `max` max-abs and `mean` mean-abs of ONNX Runtime.
fn assert_within(
    what: &str,
    got: &SideOutputs,
    want: &Golden,
    (max_bound, mean_bound): (f32, f32),
) {
    for d in 0..7 {
        let (max, mean) = diff(&got.maps[d], &want.maps[d]);
        eprintln!("{what} d{d}: max abs {max:.2e}, mean abs {mean:.2e}");
        assert!(
            max <= max_bound && mean <= mean_bound,
            "{what} d{d}: max abs {max:e}, mean abs {mean:e} vs ONNX Runtime"
        );
    }
}

/// The bounds against ONNX Runtime of f16 arithmetic or storage: f16
/// activation storage (`--precision f16`) and the coop kernel's f16
/// products. Measured: see f16_storage_stays_near_onnx_runtime and
/// BENCHMARKS.md.
const F16_BOUNDS: (f32, f32) = (0.25, 3e-3);

/// A tuning cache in `dir` that picks `kernel` for every conv of `plan`,
/// as a tuned run would find it.
fn cache_forcing(
    ctx: &GpuContext,
    dir: &tempfile::TempDir,
    plan: &GpuPlan,
    kernel: ConvKernel,
) -> TuneCache {
    let mut cache = TuneCache::open(&dir.path().join("tune.json"), &ctx.describe()).unwrap();
    for key in (0..plan.graph.ops.len()).filter_map(|i| plan.conv_key(i)) {
        cache.insert(key, kernel);
    }
    cache
}

fn run_golden(file: &str) {
    let Some(ctx) = gpu() else { return };
    let golden = load_golden(file);
    let [n, _, h, w] = golden.shape;
    let net = Network::gpu(&ctx, Arc::new(Model::builtin()));
    let out = net.infer(&golden.input, n, h, w).unwrap();
    assert_matches_golden(file, &out, &golden);
}

/// f16 activation storage against ONNX Runtime's f32: what `--precision
/// f16` costs in accuracy, with each conv kernel. The bound is this
/// variant's own, measured (BENCHMARKS.md): f16 keeps 11 bits, so maps in
/// [0, 1] move by a few 1e-3 at most.
#[test]
fn f16_storage_stays_near_onnx_runtime() {
    let Some(ctx) = gpu() else { return };
    let model = Arc::new(Model::builtin());
    // Six kernels on the odd size (where the adapter runs them); the
    // untuned defaults (None) on 320 x 2.
    let odd = "golden_u2netp_181x237.safetensors";
    let cases = [
        (odd, Some("direct")),
        (odd, Some("subgroup")),
        (odd, Some("subgroup_uniform")),
        (odd, Some("winograd")),
        (odd, Some("gemm128x64")),
        (odd, Some("coop")),
        ("golden_u2netp_320_b2.safetensors", None),
    ];
    let caps = Caps::of(&ctx);
    let kernel = |name| ConvKernel::by_name(name).expect("a kernel of the registry");
    for (file, kernel) in cases
        .into_iter()
        .map(|(file, name)| (file, name.map(kernel)))
        .filter(|(_, k)| k.is_none_or(|k| k.supports(&caps).is_ok()))
    {
        let golden = load_golden(file);
        let [n, _, h, w] = golden.shape;
        let dir = tempfile::tempdir().unwrap();
        let mut net = Network::gpu(&ctx, model.clone())
            .with_precision(Precision::F16)
            .unwrap();
        if let Some(kernel) = kernel {
            let plan = net.plan(h, w, n).unwrap();
            net = net.with_tuning(cache_forcing(&ctx, &dir, &plan, kernel));
        }
        let out = net.infer(&golden.input, n, h, w).unwrap();
        assert_within(&format!("f16 {kernel:?} {file}"), &out, &golden, F16_BOUNDS);
    }
}

/// Upsample-on-read: every upsample that feeds a conv is folded into it,
/// and the network still meets the ONNX Runtime bound, at odd sizes (the
/// general resize, and 2x at one level) and at 320x320 (2x everywhere,
/// the kernels' row path for it).
#[test]
fn fused_upsamples_match_onnx_runtime() {
    let Some(ctx) = gpu() else { return };
    let model = Arc::new(Model::builtin());
    let net = Network::gpu(&ctx, model.clone()).with_upsample_fusion(UpsampleFusion::All);
    for file in [
        "golden_u2netp_181x237.safetensors",
        "golden_u2netp_320_b2.safetensors",
    ] {
        let golden = load_golden(file);
        let [n, _, h, w] = golden.shape;
        let count = |fuse: UpsampleFusion, f: &dyn Fn(&str) -> bool| {
            let net = Network::gpu(&ctx, model.clone()).with_upsample_fusion(fuse);
            let plan = net.plan(h, w, n).unwrap();
            plan.dispatches.iter().filter(|d| f(&d.label)).count()
        };
        let upsamples = |l: &str| l == "upsample";
        let reading = |l: &str| l.contains("_up");
        // 5 side outputs are upsampled into the fuse tensor, not into a conv.
        let off = UpsampleFusion::Off;
        assert_eq!((count(off, &upsamples), count(off, &reading)), (38, 0));
        let all = UpsampleFusion::All;
        assert_eq!((count(all, &upsamples), count(all, &reading)), (5, 33));
        // The default fuses the doubling ones: all at 320x320, a few here.
        let doubling = UpsampleFusion::Doubling;
        let fused = count(doubling, &reading);
        assert_eq!(count(doubling, &upsamples), 38 - fused);
        if h == 320 {
            assert_eq!(fused, 33);
        } else {
            assert!(
                fused > 0 && fused < 33,
                "{file}: {fused} doubling upsamples fused"
            );
        }
        let out = net.infer(&golden.input, n, h, w).unwrap();
        assert_matches_golden(&format!("fused {file}"), &out, &golden);
    }
}

/// The fusion as a graph rewrite: the CPU reference gives the same maps
/// for the fused graph (it upsamples inside the conv, in the same order).
#[test]
fn fused_graph_equals_unfused_on_the_cpu() {
    let model = Model::builtin();
    let (h, w) = (19, 26);
    let input = random_vec(&mut rng(31), (3 * h * w) as usize, 2.0);
    let plain = model.graph(h, w);
    let fused = plain.clone().fusing_upsamples(UpsampleFusion::All);
    assert_eq!(fused.ops.len(), plain.ops.len() - 33);
    let run =
        |g: &u2cut::graph::Graph| u2cut::graph::cpu::run(g, &model.layers, &input, 1).unwrap();
    assert_eq!(run(&plain), run(&fused));
}

/// Each conv kernel this adapter runs, on every layer, chosen through a
/// tuning cache as a tuned run would, held to the same ONNX Runtime bound
/// (the coop kernel, which multiplies in f16, to the f16 bounds).
#[test]
fn every_conv_kernel_matches_onnx_runtime() {
    let Some(ctx) = gpu() else { return };
    let file = "golden_u2netp_181x237.safetensors";
    let golden = load_golden(file);
    let [n, _, h, w] = golden.shape;
    let model = Arc::new(Model::builtin());
    let default = Network::gpu(&ctx, model.clone()).plan(h, w, n).unwrap();
    let caps = Caps::of(&ctx);
    // Untuned, every conv takes the adapter's default kernel for its shape.
    for (i, kernel) in default.conv_kernels.iter().enumerate() {
        if let Some((spec, p)) = default.conv_shape(i) {
            assert_eq!(*kernel, Some(ConvKernel::untuned(&caps, spec, &p)));
        }
    }
    let convs = default.conv_kernels.iter().flatten().count();
    for kernel in ConvKernel::all().filter(|k| k.supports(&caps).is_ok()) {
        let dir = tempfile::tempdir().unwrap();
        let cache = cache_forcing(&ctx, &dir, &default, kernel);
        let net = Network::gpu(&ctx, model.clone()).with_tuning(cache);
        let plan = net.plan(h, w, n).unwrap();
        // The convs the kernel takes run it (the Winograd kernel takes the
        // 3x3 ones at dilation 1); the others fall back to the default.
        let mut taken = 0;
        for (i, chosen) in plan.conv_kernels.iter().enumerate() {
            let Some((spec, p)) = plan.conv_shape(i) else {
                continue;
            };
            if kernel.check(&caps, spec, &p).is_ok() {
                assert_eq!(*chosen, Some(kernel));
                taken += 1;
            } else {
                assert_eq!(*chosen, Some(ConvKernel::untuned(&caps, spec, &p)));
            }
        }
        // Most of U²-Netp's convs are 3x3 at dilation 1 with narrow inputs:
        // every kernel takes most of them.
        assert!(
            taken * 4 >= convs * 3,
            "{kernel} took only {taken} of {convs} convs"
        );
        let out = net.infer(&golden.input, n, h, w).unwrap();
        let what = format!("{kernel:?} {file}");
        if kernel.f16_products() {
            assert_within(&what, &out, &golden, F16_BOUNDS);
        } else {
            assert_matches_golden(&what, &out, &golden);
        }
    }
}

#[test]
fn u2netp_matches_onnx_runtime_320_batch2() {
    run_golden("golden_u2netp_320_b2.safetensors");
}

#[test]
fn u2netp_matches_onnx_runtime_odd_size() {
    run_golden("golden_u2netp_181x237.safetensors");
}

/// The CPU reference executor on the real model against ONNX Runtime too:
/// it is what the GPU is held to everywhere else.
#[test]
fn cpu_reference_matches_onnx_runtime_odd_size() {
    let golden = load_golden("golden_u2netp_181x237.safetensors");
    let [n, _, h, w] = golden.shape;
    let out = Network::cpu(Arc::new(Model::builtin()))
        .infer(&golden.input, n, h, w)
        .unwrap();
    assert_matches_golden("cpu 181x237", &out, &golden);
}

fn assert_gpu_matches_cpu(model: Model, batch: u32, h: u32, w: u32, seed: u64) {
    let Some(ctx) = gpu() else { return };
    let model = Arc::new(model);
    let input = random_vec(&mut rng(seed), (batch * 3 * h * w) as usize, 2.0);
    let g = Network::gpu(&ctx, model.clone())
        .infer(&input, batch, h, w)
        .unwrap();
    let c = Network::cpu(model.clone())
        .infer(&input, batch, h, w)
        .unwrap();
    for d in 0..7 {
        let (max, _) = diff(&g.maps[d], &c.maps[d]);
        assert!(
            max <= 1e-4,
            "{} {batch}x{h}x{w} d{d}: GPU vs CPU max abs {max:e}",
            model.origin
        );
    }
}

#[test]
fn u2netp_gpu_matches_cpu_on_tiny_and_odd_inputs() {
    for (batch, h, w) in [(1, 1, 1), (3, 2, 3), (2, 17, 9), (1, 33, 70)] {
        assert_gpu_matches_cpu(Model::builtin(), batch, h, w, u64::from(h * w));
    }
}

#[test]
fn full_u2net_random_weights_gpu_matches_cpu() {
    let model = Model::random(u2cut::model::U2NetConfig::u2net(), 7);
    assert_gpu_matches_cpu(model, 2, 24, 19, 3);
}

#[test]
fn u2net_size_and_work_match_the_paper() {
    let model = Model::random(u2cut::model::U2NetConfig::u2net(), 1);
    let params = model.parameters() as f64 / 1e6;
    // 44.0 M with BatchNorm's scale and shift, which the folded weights absorb.
    assert!(
        (43.9..44.1).contains(&params),
        "u2net parameters {params} M"
    );
    let graph = model.graph(320, 320);
    let macs = u2cut::graph::stats::macs(&graph, &model.layers) as f64 / 1e9;
    assert!(
        (58.5..58.8).contains(&macs),
        "u2net GMACs at 320x320: {macs}"
    );
    let p = Model::builtin();
    let macs = u2cut::graph::stats::macs(&p.graph(320, 320), &p.layers) as f64 / 1e9;
    assert!(
        (19.7..19.9).contains(&macs),
        "u2netp GMACs at 320x320: {macs}"
    );
    assert!(
        (1.12..1.14).contains(&(p.parameters() as f64 / 1e6)),
        "u2netp parameters {}",
        p.parameters()
    );
}

/// A plan runs fewer images than its batch by recording fewer z slices of
/// each grid; the images it runs must come out as the CPU computes them.
#[test]
fn plan_runs_a_partial_batch() {
    let Some(ctx) = gpu() else { return };
    let model = Arc::new(Model::builtin());
    let (h, w) = (19, 26);
    let mut r = rng(21);
    let plan = Network::gpu(&ctx, model.clone()).plan(h, w, 4).unwrap();
    // A full batch first, so stale results of other inputs sit in the buffers.
    plan.run(&random_vec(&mut r, (4 * 3 * h * w) as usize, 2.0), 4)
        .unwrap();
    let input = random_vec(&mut r, (3 * 3 * h * w) as usize, 2.0);
    let got = plan.run(&input, 3).unwrap();
    let want = Network::cpu(model).infer(&input, 3, h, w).unwrap();
    for (d, (got, want)) in got.iter().zip(&want.maps).enumerate() {
        let (max, _) = diff(got, want);
        assert!(max <= 1e-4, "d{d}: max abs {max:e}");
    }
}
