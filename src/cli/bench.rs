//! `u2cut bench`: the network's speed on the GPU, with a per-kernel table.

use std::sync::Arc;

use anyhow::{Result, ensure};
use clap::Args;

use super::{GlobalArgs, bail_input, load_model_or_architecture, note, open_network};

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
}

pub fn run(global: &GlobalArgs, args: &BenchArgs) -> Result<()> {
    if args.size == 0 || args.batch == 0 || args.iters == 0 {
        bail_input!("--size, --batch and --iters must be at least 1");
    }
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
    let net = open_network(global, Arc::new(model))?;
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
    let report = u2cut::bench::run(&net, args.size, args.batch, args.iters)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.table());
    }
    Ok(())
}
