//! `u2cut bench --pipeline`: the batch [`pipeline`] of `u2cut remove`
//! timed on a folder of images, end to end: decoding, the GPU passes,
//! encoding the PNG cutouts into a temporary folder (deleted afterwards).

use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Result, bail};
use crate::io::paths::{self, OutputNaming};
use crate::io::{DecodeOptions, Format};
use crate::pipeline::{self, Files, Outcome};
use crate::remove::Options;
use crate::shard::Shard;
use crate::{Network, Remover};

/// A timed run; field names are a contract for scripts, as
/// [`BenchReport`](super::BenchReport)'s are.
#[derive(Clone, Debug, Serialize)]
pub struct PipelineReport {
    /// The GPU adapter, or "cpu" for the CPU references.
    pub adapter: String,
    pub model: String,
    pub batch: u32,
    /// Decoder threads, and as many encoder threads.
    pub threads: usize,
    /// Image files found in the folder.
    pub images: usize,
    pub written: usize,
    /// The inputs that were not written, each with why.
    pub errors: Vec<String>,
    pub wall_s: f64,
    /// Busy time of each stage, summed over its threads.
    pub decode_s: f64,
    pub gpu_s: f64,
    pub encode_s: f64,
    /// Outputs written per second of wall time.
    pub images_per_second: f64,
}

/// Runs every image file under `folder` through `net` in batches of
/// `batch` (at most the number of images), with the default
/// [`pipeline::Options`]. A GPU failure is the error; unusable inputs are
/// listed in the report.
pub fn run(net: Network, folder: &Path, batch: u32) -> Result<PipelineReport> {
    let out = tempfile::tempdir().map_err(|e| Error::io("creating a temporary folder", e))?;
    let format = Format::Png;
    let naming = OutputNaming {
        output: Some(out.path().to_path_buf()),
        format,
        suffix: "",
    };
    let list = paths::plan(&[folder.to_path_buf()], &naming, Shard::ALL)?;
    let images = list.jobs.len() + list.refused.len();
    if list.jobs.is_empty() {
        bail!(Input, "no image files found in {}", folder.display());
    }
    let mut errors: Vec<String> = (list.refused.iter())
        .map(|(name, e)| format!("{name}: {e}"))
        .collect();
    let model = net.model.config.name.clone();
    let adapter = net
        .context()
        .map_or("cpu".into(), |ctx| ctx.info.name.clone());
    let options = Options {
        batch_size: batch.min(list.jobs.len() as u32),
        ..Options::default()
    };
    let remover = Remover::new(net, options);
    let batch = remover.batch()?;
    let files = Files {
        decode: DecodeOptions::default(),
        format,
        quality: 90,
    };
    let run_options = pipeline::Options::default();
    let mut written = 0;
    let summary = pipeline::run(
        &remover,
        &run_options,
        list.jobs.into_iter(),
        &files,
        |e| match e.outcome {
            Outcome::Done { .. } => written += 1,
            Outcome::BadInput(err) | Outcome::Failed(err) => {
                errors.push(format!("{}: {err}", e.item.name()));
            }
        },
    );
    if let Some(err) = summary.stopped {
        return Err(err);
    }
    let t = summary.times;
    Ok(PipelineReport {
        adapter,
        model,
        batch,
        threads: run_options.threads,
        images,
        written,
        errors,
        wall_s: t.wall.as_secs_f64(),
        decode_s: t.decode.as_secs_f64(),
        gpu_s: t.gpu.as_secs_f64(),
        encode_s: t.encode.as_secs_f64(),
        images_per_second: written as f64 / t.wall.as_secs_f64().max(1e-9),
    })
}

impl PipelineReport {
    /// The human-readable report.
    pub fn table(&self) -> String {
        format!(
            "adapter   {}\nmodel     {}, batch {}, {} decoder and {} encoder threads\n\
             images    {} of {} written in {:.2} s: {:.2} images/s\n\
             busy      decode {:.2} s, GPU stage {:.2} s, encode {:.2} s \
             (decode and encode summed over their threads)\n",
            self.adapter,
            self.model,
            self.batch,
            self.threads,
            self.threads,
            self.written,
            self.images,
            self.wall_s,
            self.images_per_second,
            self.decode_s,
            self.gpu_s,
            self.encode_s,
        )
    }
}
