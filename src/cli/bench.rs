//! `u2cut bench`: the network's speed on the GPU, with a per-kernel table.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Result, ensure};
use clap::Args;
use u2cut::Network;
use u2cut::bench::peak;

use super::{GlobalArgs, bail_input, load_model_or_architecture, note, open_network, warn};

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Model: u2netp (built in), u2net, or a .safetensors file. A preset
    /// without weights is timed with random weights (same work)
    #[arg(long, short, default_value = "u2netp", value_name = "NAME|PATH")]
    pub model: String,
    /// Square input size
    #[arg(long, short, default_value_t = 320)]
    pub size: u32,
    /// Images per batch (one submit)
    #[arg(long, short, default_value_t = 1)]
    pub batch: u32,
    /// Timed iterations after one warm-up batch
    #[arg(long, short, default_value_t = 10)]
    pub iters: u32,
    /// Print one JSON object (field names are stable) instead of the table
    #[arg(long)]
    pub json: bool,
    /// Tune first: time every conv kernel on each layer, keep the fastest,
    /// and save the choices in the tuning cache (see `U2CUT_TUNE_CACHE`)
    #[arg(long)]
    pub tune: bool,
    /// Also print every dispatch: its layer, kernel, shape, time and rates
    /// (the JSON always has them, as `layers`)
    #[arg(long)]
    pub layers: bool,
    /// The device's FP32 peak in GFLOP/s, for the %FLOP columns (known GPUs
    /// are looked up by name; this overrides the table)
    #[arg(long, value_name = "GFLOP/S")]
    pub peak_gflops: Option<f64>,
    /// The device's memory bandwidth in GB/s, for the %BW columns
    #[arg(long, value_name = "GB/S")]
    pub peak_gbps: Option<f64>,
    /// Time the whole `remove` pipeline on a folder instead: decode, the GPU
    /// passes in batches of --batch, encode, with each stage's busy time
    /// (outputs go to a temporary folder that is deleted afterwards)
    #[arg(long, value_name = "FOLDER", conflicts_with_all = ["size", "iters", "peak_gflops", "peak_gbps", "tune", "layers"])]
    pub pipeline: Option<PathBuf>,
}

/// The model to time, with random weights if a preset's are missing.
fn network(global: &GlobalArgs, args: &BenchArgs) -> Result<Network> {
    let (model, missing) = load_model_or_architecture(&args.model)?;
    if missing.is_some() {
        note(
            global,
            format_args!(
                "{}: timing the architecture with random weights",
                args.model
            ),
        );
    }
    open_network(global, Arc::new(model))
}

/// `--pipeline FOLDER`: the pipeline of `u2cut remove` timed on its images.
fn pipeline(global: &GlobalArgs, args: &BenchArgs, folder: &Path) -> Result<()> {
    let report = u2cut::bench::pipeline::run(network(global, args)?, folder, args.batch)?;
    for e in &report.errors {
        warn(e);
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.table());
    }
    Ok(())
}

pub fn run(global: &GlobalArgs, args: &BenchArgs) -> Result<()> {
    if let Some(folder) = &args.pipeline {
        return pipeline(global, args, folder);
    }
    if args.size == 0 || args.batch == 0 || args.iters == 0 {
        bail_input!("--size, --batch and --iters must be at least 1");
    }
    let net = network(global, args)?;
    ensure!(
        net.context().is_some(),
        "bench measures GPU kernels and no GPU adapter is in use (drop --cpu, or install a Vulkan driver)"
    );
    note(
        global,
        format_args!(
            "warm-up, then {} timed batches of {}",
            args.iters, args.batch
        ),
    );
    let tuning = if args.tune {
        note(
            global,
            "tuning: every conv kernel on every layer, in each upsample-on-read setting",
        );
        Some(net.tune(args.size, args.size, args.batch)?)
    } else {
        None
    };
    let mut report = u2cut::bench::run(&net, args.size, args.batch, args.iters)?;
    report.tuning = tuning;
    if args.peak_gflops.is_some() || args.peak_gbps.is_some() {
        report.set_peak(peak::resolve(
            &report.adapter,
            args.peak_gflops,
            args.peak_gbps,
        ));
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.table(args.layers));
    }
    Ok(())
}
