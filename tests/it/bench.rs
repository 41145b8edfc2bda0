//! The benchmark instrument itself: its per-kernel rows must account for
//! the whole-batch time, and its JSON fields are a contract for scripts.

use crate::common;

use std::sync::Arc;

use common::gpu;
use u2cut::graph::UpsampleFusion;
use u2cut::graph::tune::TuneCache;
use u2cut::kernels::conv::{Caps, ConvKernel};
use u2cut::{Model, Network};

#[test]
fn kernel_rows_add_up_to_the_batch_time() {
    let Some(ctx) = gpu() else { return };
    let net = Network::gpu(&ctx, Arc::new(Model::builtin()));
    let report = u2cut::bench::run(&net, 80, 2, 3).unwrap();
    eprintln!("{}", report.table(true));
    // Same profiled runs on both sides, so the check holds on a busy machine;
    // what is missing is the time between kernels.
    let ratio = report.kernel_total_ms / report.profiled_batch_ms;
    assert!(
        (0.5..=1.01).contains(&ratio),
        "kernel times sum to {:.2} ms, the profiled batch took {:.2} ms",
        report.kernel_total_ms,
        report.profiled_batch_ms
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
        .map(|k| k.rates.gflop_per_s)
        .sum::<f64>();
    assert!(convs > 0.0, "conv rows carry their FLOP counts");
    assert!((report.gflop_per_image - 39.5 * (80.0 * 80.0) / (320.0 * 320.0)).abs() < 0.05);
    // One layer row per op, in the plan's order, adding up to the kernel rows.
    let plan = net.plan(80, 80, 2).unwrap();
    assert_eq!(report.layers.len(), plan.graph.ops.len());
    let layer_ms: f64 = report.layers.iter().map(|l| l.ms).sum();
    assert!((layer_ms - report.kernel_total_ms).abs() <= 1e-9 * layer_ms.max(1.0));
    let first = &report.layers[0];
    assert_eq!(
        (first.name.as_str(), first.shape.as_str()),
        ("stage1.rebnconvin.conv_s1", "3>64 k3 d1 80x80 b2 f32")
    );
    assert!(first.kernel.starts_with("conv3x3_d1") && first.rates.gflop_per_s > 0.0);
    let pool = report.layers.iter().find(|l| l.kernel == "pool").unwrap();
    assert_eq!(
        (pool.name.as_str(), pool.shape.as_str()),
        ("stage1.pool1", "16x40x40")
    );

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
        "layers",
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

/// The tuner keeps each conv's fastest kernel, saves the choices, and a
/// network opened later on the same cache builds the same plan.
#[test]
fn tuning_picks_the_fastest_kernel_and_is_cached() {
    let Some(ctx) = gpu() else { return };
    let model = Arc::new(Model::builtin());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tune.json");
    let open = || TuneCache::open(&path, &ctx.describe()).unwrap();
    let net = Network::gpu(&ctx, model.clone()).with_tuning(open());
    let tuning = net.tune(24, 24, 1).unwrap();
    let rows = &tuning.convs;
    // At 24x24 each upsample fusion gives a plan of its own (every
    // upsample doubles but 2x2 -> 3x3); each was timed, the fastest kept.
    let tried: Vec<&str> = tuning.plan_ms.keys().map(String::as_str).collect();
    assert_eq!(tried, ["all", "doubling", "off"]);
    let fastest = tuning
        .plan_ms
        .iter()
        .min_by(|a, b| a.1.total_cmp(b.1))
        .unwrap();
    assert_eq!(tuning.upsample_fusion.name(), fastest.0);
    let plan = net.plan(24, 24, 1).unwrap();
    let convs: Vec<usize> = (0..plan.graph.ops.len())
        .filter(|&i| plan.conv_key(i).is_some())
        .collect();
    assert_eq!(rows.len(), convs.len());
    // Every kernel that takes the layer on this adapter was timed, and
    // per tuning key the one with the least time summed over its convs
    // was kept.
    let caps = Caps::of(&ctx);
    let mut totals: std::collections::BTreeMap<&str, Vec<(f64, ConvKernel)>> = Default::default();
    for (r, &i) in rows.iter().zip(&convs) {
        assert_eq!(Some(&r.key), plan.conv_key(i).as_ref());
        let (spec, p) = plan.conv_shape(i).unwrap();
        let timed: Vec<ConvKernel> = ConvKernel::all()
            .filter(|k| k.check(&caps, spec, &p).is_ok())
            .collect();
        let names: Vec<&str> = timed.iter().map(|k| k.name()).collect();
        assert_eq!(
            r.ms.keys()
                .map(String::as_str)
                .collect::<std::collections::BTreeSet<_>>(),
            names.iter().copied().collect(),
            "{r:?}"
        );
        let t = totals
            .entry(&r.key)
            .or_insert(timed.iter().map(|&k| (0.0, k)).collect());
        for (total, k) in t.iter_mut() {
            *total += r.ms[k.name()];
        }
    }
    for r in rows {
        let t = &totals[r.key.as_str()];
        let best = t.iter().min_by(|a, b| a.0.total_cmp(&b.0)).unwrap();
        assert_eq!(best.1, r.chosen, "{r:?}");
    }
    assert_eq!(
        plan.graph.upsamples_on_read(),
        tuning.upsample_fusion != UpsampleFusion::Off
    );
    let tuned = plan.conv_kernels.clone();
    let chosen: Vec<_> = rows.iter().map(|r| Some(r.chosen)).collect();
    assert_eq!(
        tuned
            .iter()
            .filter(|k| k.is_some())
            .cloned()
            .collect::<Vec<_>>(),
        chosen
    );
    let reopened = Network::gpu(&ctx, model).with_tuning(open());
    assert_eq!(reopened.plan(24, 24, 1).unwrap().conv_kernels, tuned);
}

fn u2cut(args: &[&str]) -> std::process::Output {
    u2cut_with(args, &[])
}

fn u2cut_with(args: &[&str], env: &[(&str, &std::path::Path)]) -> std::process::Output {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_u2cut"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "u2cut {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn bench_json_from_the_command_line() {
    if gpu().is_none() {
        return;
    }
    let out = u2cut(&[
        "-q",
        "bench",
        "--size",
        "40",
        "--batch",
        "2",
        "--iters",
        "1",
        "--json",
        "--peak-gflops",
        "1000",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // The user's peak turns every rate into a percentage of it.
    assert_eq!(json["peak"]["gflop_per_s"], 1000.0);
    let whole = json["pct_of_peak_flops"].as_f64().unwrap();
    let gflops =
        json["gflop_per_image"].as_f64().unwrap() * json["images_per_second"].as_f64().unwrap();
    assert!((whole - gflops / 10.0).abs() < 1e-9 * whole.max(1.0));
    for k in json["kernels"].as_array().unwrap() {
        let pct = k["pct_of_peak_flops"].as_f64().unwrap();
        assert!((pct - k["gflop_per_s"].as_f64().unwrap() / 10.0).abs() < 1e-9);
        // Only the FLOP peak was given: the bandwidth one is the data
        // sheet's where the adapter is a known GPU, else there is none.
        match json["peak"]["gb_per_s"].as_f64() {
            None => assert!(
                k["pct_of_peak_bandwidth"].is_null(),
                "no bandwidth peak is known"
            ),
            Some(peak) => {
                let pct = k["pct_of_peak_bandwidth"].as_f64().unwrap();
                assert!((pct - 100.0 * k["gb_per_s"].as_f64().unwrap() / peak).abs() < 1e-9);
            }
        }
    }
    assert_eq!(json["batch"], 2);
    assert_eq!(json["size"], 40);
    assert_eq!(json["model"], "u2netp");
    assert!(json["images_per_second"].as_f64().unwrap() > 0.0);
    assert!(!json["kernels"].as_array().unwrap().is_empty());
}

#[test]
fn bench_tune_reports_and_saves_the_choices() {
    if gpu().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("tune.json");
    let args = ["-q", "bench", "--size", "24", "--iters", "1", "--json"];
    let out = u2cut_with(
        &[&args[..], &["--tune"]].concat(),
        &[("U2CUT_TUNE_CACHE", &cache)],
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = json["tuning"]["convs"].as_array().unwrap();
    assert_eq!(rows.len(), 119);
    assert_eq!(
        json["tuning"]["upsample_fusion"] != "off",
        json["fused_upsamples"] == true
    );
    let counts = json["conv_kernels"].as_object().unwrap();
    assert_eq!(
        counts.values().map(|n| n.as_u64().unwrap()).sum::<u64>(),
        119
    );
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&cache).unwrap()).unwrap();
    // One adapter, one entry per distinct layer shape, each the row's
    // choice, and the plan's.
    let saved = saved.as_object().unwrap();
    assert_eq!(saved.len(), 1);
    let mine = saved.values().next().unwrap();
    assert_eq!(
        mine["upsample_fusion"]["24x24 b1 f32"],
        json["tuning"]["upsample_fusion"]
    );
    let entries = mine["convs"].as_object().unwrap();
    let keys: std::collections::BTreeSet<_> =
        rows.iter().map(|r| r["key"].as_str().unwrap()).collect();
    assert_eq!(entries.len(), keys.len());
    for r in rows {
        assert_eq!(entries[r["key"].as_str().unwrap()], r["chosen"]);
    }
    // A later run without --tune reads the same choices back.
    let out = u2cut_with(&args, &[("U2CUT_TUNE_CACHE", &cache)]);
    let again: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(again["conv_kernels"], json["conv_kernels"]);
    assert_eq!(again["fused_upsamples"], json["fused_upsamples"]);
    assert!(again["tuning"].is_null());
}

/// `--precision f16` stores activations in half the bytes: the bench's own
/// memory and traffic figures show it.
#[test]
fn f16_precision_halves_activation_memory_and_traffic() {
    if gpu().is_none() {
        return;
    }
    let report = |precision: &str| -> serde_json::Value {
        let out = u2cut(&[
            "-q",
            "--precision",
            precision,
            "bench",
            "--size",
            "80",
            "--iters",
            "1",
            "--json",
        ]);
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let (f32, f16) = (report("f32"), report("f16"));
    assert_eq!(
        (f32["precision"].as_str(), f16["precision"].as_str()),
        (Some("f32"), Some("f16"))
    );
    for field in ["activation_bytes", "traffic_bytes_per_image"] {
        let ratio = f16[field].as_f64().unwrap() / f32[field].as_f64().unwrap();
        // Not exactly 0.5: the input, the outputs and the weights stay f32.
        assert!(
            (0.45..0.65).contains(&ratio),
            "{field}: f16 / f32 = {ratio}"
        );
    }
}

/// `bench --pipeline` runs the library's pipeline on a folder and accounts
/// for its time: every image written, each stage's busy time a positive
/// number, the GPU stage's (one thread) within the wall time.
#[test]
fn bench_pipeline_reports_stage_times() {
    if gpu().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let n = 2;
    for i in 0..n {
        image::RgbImage::from_fn(60 + i, 40, |x, y| {
            image::Rgb([x as u8 * 4, y as u8 * 6, 128])
        })
        .save(dir.path().join(format!("{i}.png")))
        .unwrap();
    }
    let folder = dir.path().to_str().unwrap();
    let out = u2cut(&[
        "-q",
        "bench",
        "--pipeline",
        folder,
        "--batch",
        "2",
        "--json",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let number = |field: &str| {
        let v = json[field]
            .as_f64()
            .unwrap_or_else(|| panic!("`{field}` in {json}"));
        assert!(v.is_finite() && v > 0.0, "{field} = {v}");
        v
    };
    let wall = number("wall_s");
    for stage in ["decode_s", "gpu_s", "encode_s"] {
        number(stage);
    }
    assert!(number("gpu_s") <= wall, "{json}");
    assert!((number("images_per_second") - n as f64 / wall).abs() < 1e-6 * wall.max(1.0));
    assert_eq!(json["images"], n);
    assert_eq!(json["written"], n);
    assert_eq!(json["errors"].as_array().map(Vec::len), Some(0), "{json}");
    assert_eq!(json["batch"], 2);
    assert_eq!(json["model"], "u2netp");
    assert!(number("threads") >= 1.0);
    // The table reports the same run's figures.
    let out = u2cut(&["-q", "bench", "--pipeline", folder, "--batch", "2"]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains(&format!("{n} of {n} written")), "{table}");
}
