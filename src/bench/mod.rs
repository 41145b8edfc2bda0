//! The benchmark behind `u2cut bench`: whole-batch latency and throughput,
//! and a per-kernel table from timestamp queries (or per-dispatch host
//! timing where the adapter has none). Field names of [`BenchReport`] are
//! a contract for scripts: add fields, never rename them.

pub mod peak;
pub mod pipeline;

use std::collections::BTreeMap;
use std::time::Instant;

use crate::{Error, Result};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::gpu::TimingSource;
use crate::graph::Op;
use crate::graph::tune::Tuning;
use crate::network::Network;
use peak::Peak;

/// A kernel's or a layer's rates; in the JSON, fields of its row.
#[derive(Clone, Debug, Serialize)]
pub struct Rates {
    pub gflop_per_s: f64,
    pub gb_per_s: f64,
    /// Percent of the device's FP32 peak and of its DRAM bandwidth, where
    /// the peak is known (see [`peak`]).
    pub pct_of_peak_flops: Option<f64>,
    pub pct_of_peak_bandwidth: Option<f64>,
}

impl Rates {
    /// `flops` and `bytes` in `ms`; the percentages come with [`Rates::set_peak`].
    fn new(flops: u64, bytes: u64, ms: f64) -> Self {
        Self {
            gflop_per_s: giga_per_s(flops, ms),
            gb_per_s: giga_per_s(bytes, ms),
            pct_of_peak_flops: None,
            pct_of_peak_bandwidth: None,
        }
    }

    fn set_peak(&mut self, (flops, bw): (Option<f64>, Option<f64>)) {
        self.pct_of_peak_flops = percent(self.gflop_per_s, flops);
        self.pct_of_peak_bandwidth = percent(self.gb_per_s, bw);
    }

    /// The columns the kernel and layer tables end with (under RATES_HEADER).
    fn columns(&self) -> String {
        format!(
            " {:>10.2} {:>9.2} {:>8} {:>8}",
            self.gflop_per_s,
            self.gb_per_s,
            opt(self.pct_of_peak_flops, 2),
            opt(self.pct_of_peak_bandwidth, 2)
        )
    }
}

/// The header of [`Rates::columns`].
const RATES_HEADER: &str = "    GFLOP/s      GB/s    %FLOP      %BW";

#[derive(Clone, Debug, Serialize)]
pub struct KernelRow {
    pub name: String,
    pub calls: u32,
    pub total_ms: f64,
    /// Fraction of the summed kernel time.
    pub share: f64,
    #[serde(flatten)]
    pub rates: Rates,
}

/// One dispatch of the profiled batch, in the plan's order.
#[derive(Clone, Debug, Serialize)]
pub struct LayerRow {
    /// A conv's PyTorch module path, else the tensor the op writes.
    pub name: String,
    pub kernel: String,
    /// A conv's tuning key (its shape, size, batch, storage and inputs),
    /// else the written channels x height x width.
    pub shape: String,
    pub ms: f64,
    #[serde(flatten)]
    pub rates: Rates,
}

#[derive(Clone, Debug, Serialize)]
pub struct BenchReport {
    pub adapter: String,
    pub backend: String,
    pub device_type: String,
    pub model: String,
    /// Storage of the activations: "f32" or "f16".
    pub precision: String,
    pub batch: u32,
    pub size: u32,
    pub iters: u32,
    pub images_per_second: f64,
    /// Median over the timed iterations of one whole batch (submit to done).
    pub latency_ms: f64,
    pub latency_ms_runs: Vec<f64>,
    /// Activation buffers of the plan plus the weights.
    pub peak_memory_bytes: u64,
    pub activation_bytes: u64,
    pub weight_bytes: u64,
    pub dispatches: usize,
    pub gflop_per_image: f64,
    /// Bytes the kernels read and write per image (activations and weights,
    /// each tensor counted once per kernel that touches it).
    pub traffic_bytes_per_image: u64,
    pub timing: TimingSource,
    /// Sum of the per-kernel times of the profiled batch.
    pub kernel_total_ms: f64,
    /// The profiled batch (the median of up to 3) from its first kernel's
    /// start to its last one's end: what the kernel times add up to.
    pub profiled_batch_ms: f64,
    /// The device's peak rates, when known; the `pct_of_peak_*` fields of
    /// the report and its rows are relative to them.
    pub peak: Option<Peak>,
    pub pct_of_peak_flops: Option<f64>,
    /// How many convs run each kernel ("direct", "gemm64x32", ...).
    pub conv_kernels: BTreeMap<String, usize>,
    /// Whether the plan reads its upsamples in the convs (upsample-on-read).
    pub fused_upsamples: bool,
    /// Set when this run tuned the plan (`bench --tune`): the plan's time
    /// in each upsample-on-read setting tried, every conv's time with each
    /// kernel, and the choices.
    pub tuning: Option<Tuning>,
    pub kernels: Vec<KernelRow>,
    /// Every dispatch of the profiled batch (`bench --layers` prints them).
    pub layers: Vec<LayerRow>,
}

/// GFLOP/s or GB/s: `amount` per `ms` milliseconds, in units of 1e9.
fn giga_per_s(amount: u64, ms: f64) -> f64 {
    amount as f64 / (ms * 1e6).max(f64::MIN_POSITIVE)
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

/// Benchmarks `batch` images of `size x size` on the network's GPU: one
/// warm-up batch, `iters` timed batches, then `profile_runs` profiled ones
/// whose per-kernel medians fill the table.
pub fn run(net: &Network, size: u32, batch: u32, iters: u32) -> Result<BenchReport> {
    let ctx = net.context().ok_or_else(|| {
        Error::Unsupported("bench needs a GPU adapter (it measures the GPU kernels)".into())
    })?;
    let plan = net.plan(size, size, batch)?;
    let mut rng = StdRng::seed_from_u64(0);
    let input: Vec<f32> = (0..batch as usize * 3 * (size * size) as usize)
        .map(|_| rng.random_range(-2.0..2.0))
        .collect();
    plan.run(&input, batch)?; // warm-up: pipelines compiled, caches hot

    let mut runs = Vec::with_capacity(iters as usize);
    for _ in 0..iters.max(1) {
        let t = Instant::now();
        ctx.run(&plan.dispatches);
        ctx.wait()?;
        runs.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let latency_ms = median(&runs);

    // A few profiled batches; the table is the one whose span is the median,
    // so its rows add up to a batch the same run saw.
    let mut profiles = (0..iters.clamp(1, 3))
        .map(|_| ctx.time_dispatches(&plan.dispatches))
        .collect::<Result<Vec<_>>>()?;
    profiles.sort_by(|a, b| a.span.total_cmp(&b.span));
    let profile = profiles.swap_remove(profiles.len() / 2);
    let mut rows: BTreeMap<&str, (u32, f64, u64, u64)> = BTreeMap::new();
    for (d, &ms) in plan.dispatches.iter().zip(&profile.times) {
        let r = rows.entry(&d.label).or_default();
        *r = (r.0 + 1, r.1 + ms, r.2 + d.flops, r.3 + d.bytes);
    }
    let kernel_total_ms: f64 = rows.values().map(|r| r.1).sum();
    let mut kernels: Vec<KernelRow> = rows
        .into_iter()
        .map(|(name, (calls, ms, flops, bytes))| KernelRow {
            name: name.to_owned(),
            calls,
            total_ms: ms,
            share: ms / kernel_total_ms.max(f64::MIN_POSITIVE),
            rates: Rates::new(flops, bytes, ms),
        })
        .collect();
    kernels.sort_by(|a, b| b.total_ms.total_cmp(&a.total_ms));
    let model_layers = &net.model.layers;
    let layers = (plan
        .graph
        .ops
        .iter()
        .zip(&plan.dispatches)
        .zip(&profile.times))
    .enumerate()
    .map(|(i, ((op, d), &ms))| {
        let (name, shape) = match *op {
            Op::Conv { layer, .. } => (
                model_layers[layer].name.clone(),
                plan.conv_key(i).expect("a conv has a key"),
            ),
            _ => {
                let dst = op.io().1;
                let t = plan.graph.info(dst);
                let shape = format!("{}x{}x{}", dst.channels, t.height, t.width);
                (t.name.clone(), shape)
            }
        };
        LayerRow {
            name,
            kernel: d.label.clone(),
            shape,
            ms,
            rates: Rates::new(d.flops, d.bytes, ms),
        }
    })
    .collect();

    let flops: u64 = plan.dispatches.iter().map(|d| d.flops).sum();
    let traffic: u64 = plan.dispatches.iter().map(|d| d.bytes).sum();
    let activation_bytes = plan.activation_bytes();
    let weight_bytes = net.weight_bytes();
    let mut report = BenchReport {
        adapter: ctx.info.name.clone(),
        backend: format!("{:?}", ctx.info.backend),
        device_type: format!("{:?}", ctx.info.device_type),
        model: net.model.config.name.clone(),
        precision: net.precision().name().to_owned(),
        batch,
        size,
        iters,
        images_per_second: f64::from(batch) / (latency_ms / 1e3),
        latency_ms,
        latency_ms_runs: runs,
        peak_memory_bytes: activation_bytes + weight_bytes,
        activation_bytes,
        weight_bytes,
        dispatches: plan.dispatches.iter().map(|d| d.bind_groups.len()).sum(),
        gflop_per_image: flops as f64 / 1e9 / f64::from(batch),
        traffic_bytes_per_image: traffic / u64::from(batch),
        timing: profile.source,
        kernel_total_ms,
        profiled_batch_ms: profile.span,
        peak: None,
        pct_of_peak_flops: None,
        conv_kernels: plan
            .conv_kernels
            .iter()
            .flatten()
            .fold(BTreeMap::new(), |mut counts, k| {
                *counts.entry(k.name().to_owned()).or_default() += 1;
                counts
            }),
        fused_upsamples: plan.graph.upsamples_on_read(),
        tuning: None,
        kernels,
        layers,
    };
    report.set_peak(peak::lookup(&ctx.info.name));
    Ok(report)
}

fn percent(rate: f64, peak: Option<f64>) -> Option<f64> {
    peak.map(|p| 100.0 * rate / p)
}

impl BenchReport {
    /// Sets the peak rates and the percentages relative to them.
    pub fn set_peak(&mut self, peak: Option<Peak>) {
        let (flops, bw) = peak
            .as_ref()
            .map_or((None, None), |p| (p.gflop_per_s, p.gb_per_s));
        self.pct_of_peak_flops = percent(self.gflop_per_image * self.images_per_second, flops);
        let kernels = self.kernels.iter_mut().map(|k| &mut k.rates);
        for r in kernels.chain(self.layers.iter_mut().map(|l| &mut l.rates)) {
            r.set_peak((flops, bw));
        }
        self.peak = peak;
    }

    /// The human-readable report; with `layers`, every dispatch too.
    pub fn table(&self, layers: bool) -> String {
        let mut s = format!(
            "adapter   {} ({}, {})\nmodel     {} at {}x{}, batch {}, {} activations, {} timed iterations\n\
             latency   {:.2} ms per batch (median)\nthroughput {:.2} images/s  ({:.1} GFLOP/s)\n\
             memory    {:.1} MiB peak ({:.1} MiB activations, {:.1} MiB weights)\n\
             traffic   {:.3} GB read + written per image, {} dispatches per batch\n\
             kernels   times from {:?}: sum {:.2} ms = {:.0}% of the profiled batch ({:.2} ms)\n\n",
            self.adapter,
            self.backend,
            self.device_type,
            self.model,
            self.size,
            self.size,
            self.batch,
            self.precision,
            self.iters,
            self.latency_ms,
            self.images_per_second,
            self.gflop_per_image * self.images_per_second,
            self.peak_memory_bytes as f64 / 1048576.0,
            self.activation_bytes as f64 / 1048576.0,
            self.weight_bytes as f64 / 1048576.0,
            self.traffic_bytes_per_image as f64 / 1e9,
            self.dispatches,
            self.timing,
            self.kernel_total_ms,
            100.0 * self.kernel_total_ms / self.profiled_batch_ms,
            self.profiled_batch_ms,
        );
        let convs: Vec<String> = self
            .conv_kernels
            .iter()
            .map(|(k, n)| format!("{n} {k}"))
            .collect();
        s += &format!(
            "convs     {}{}\n",
            convs.join(", "),
            match (&self.tuning, self.fused_upsamples) {
                (Some(t), _) => format!(
                    ", upsample-on-read {} (tuned in this run; batch {})",
                    t.upsample_fusion.name(),
                    t.plan_ms
                        .iter()
                        .map(|(k, ms)| format!("{ms:.2} ms {k}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                (None, true) => ", upsample-on-read".into(),
                (None, false) => String::new(),
            }
        );
        if let Some(p) = &self.peak {
            s += &format!(
                "peak      {} GFLOP/s FP32, {} GB/s ({}); whole batch at {}% of the FP32 peak\n\n",
                opt(p.gflop_per_s, 0),
                opt(p.gb_per_s, 0),
                p.source,
                opt(self.pct_of_peak_flops, 2),
            );
        }
        let w = self
            .kernels
            .iter()
            .map(|k| k.name.len())
            .max()
            .unwrap_or(0)
            .max(14);
        s += &format!(
            "{:<w$} {:>6} {:>11} {:>7}{RATES_HEADER}\n",
            "kernel", "calls", "total ms", "share"
        );
        for k in &self.kernels {
            s += &format!(
                "{:<w$} {:>6} {:>11.3} {:>6.1}%{}\n",
                k.name,
                k.calls,
                k.total_ms,
                100.0 * k.share,
                k.rates.columns(),
            );
        }
        if layers {
            s += &self.layer_table();
        }
        s
    }

    fn layer_table(&self) -> String {
        let width =
            |f: fn(&LayerRow) -> &str| self.layers.iter().map(|l| f(l).len()).max().unwrap_or(0);
        let (wn, wk, ws) = (
            width(|l| &l.name),
            width(|l| &l.kernel),
            width(|l| &l.shape),
        );
        let mut s = format!(
            "\n{:<wn$} {:<wk$} {:<ws$} {:>9}{RATES_HEADER}\n",
            "layer", "kernel", "shape", "ms"
        );
        for l in &self.layers {
            s += &format!(
                "{:<wn$} {:<wk$} {:<ws$} {:>9.3}{}\n",
                l.name,
                l.kernel,
                l.shape,
                l.ms,
                l.rates.columns(),
            );
        }
        s
    }
}

/// A number with `digits` decimals, or "-" when unknown.
fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{v:.digits$}"))
}
