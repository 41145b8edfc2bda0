//! `u2cut warmup`: compiles a model's GPU pipelines ahead of time, so that
//! a container image or a shard worker starts its first real batch with
//! the driver's caches full: the pipeline cache in u2cut's cache folder
//! and the driver's own (Mesa's shader cache keeps llvmpipe's compiled
//! code, which it builds at a pipeline's first dispatch, so warmup runs
//! every pipeline once). With `--tune` it tunes first, as `bench --tune`.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Result, bail};
use clap::Args;
use image::{DynamicImage, RgbaImage};
use u2cut::remove::{NET_SIZE, Options, Remover};

use super::{GlobalArgs, load_model_or_architecture, note, open_network};

#[derive(Debug, Args)]
pub struct WarmupArgs {
    /// Model: u2netp (built in), u2net, or a .safetensors file. A preset
    /// without weights warms up with random weights (the same pipelines)
    #[arg(long, short, default_value = "u2netp", value_name = "NAME|PATH")]
    pub model: String,
    /// Square network input size to compile, besides `remove`'s 320
    #[arg(long, short, default_value_t = NET_SIZE)]
    pub size: u32,
    /// Images per batch (the pipelines are the same for every batch; the
    /// tuning is per batch)
    #[arg(long, short, default_value_t = 1)]
    pub batch: u32,
    /// Tune the conv kernels at this size and batch first, and save the
    /// choices in the tuning cache (see `bench --tune`)
    #[arg(long)]
    pub tune: bool,
}

pub fn run(global: &GlobalArgs, args: &WarmupArgs) -> Result<()> {
    let started = Instant::now();
    let (model, _) = load_model_or_architecture(&args.model)?;
    let net = open_network(global, Arc::new(model))?;
    if net.context().is_none() {
        bail!("warmup compiles GPU pipelines, and no GPU is in use");
    }
    if args.tune {
        note(global, "tuning: every conv kernel on every layer");
        net.tune(args.size, args.size, args.batch)?;
    }
    if args.size != NET_SIZE {
        let (size, batch) = (args.size as usize, args.batch as usize);
        net.infer(
            &vec![0.0; batch * 3 * size * size],
            args.batch,
            args.size,
            args.size,
        )?;
    }
    // `remove`'s own passes (resizes, normalization, mask, compose) and
    // the network at its size, on one small synthetic image.
    let image = RgbaImage::from_fn(64, 48, |x, y| {
        image::Rgba([(x * 4) as u8, (y * 5) as u8, 128, 255])
    });
    let options = Options {
        batch_size: args.batch,
        ..Options::default()
    };
    Remover::new(net, options).cutouts(&[DynamicImage::ImageRgba8(image)])?;
    note(
        global,
        format_args!("warmed up in {:.1} s", started.elapsed().as_secs_f64()),
    );
    Ok(())
}
