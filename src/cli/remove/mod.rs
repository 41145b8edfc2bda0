//! `u2cut remove`: background removal for files, folders and streams.
//!
//! The flags become the library's [`pipeline`] run on the inputs' jobs:
//! decoders (`--jobs`), the GPU in batches of `--batch-size`, encoders
//! writing each output atomically, within a memory budget. Failures are
//! per input: one line on stderr naming the file and why, and the run goes
//! on (but for a GPU failure, which stops it).

mod inputs;
pub(crate) mod processing;
mod report;
pub(crate) mod stream;
mod video;

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::Result;
use clap::Args;
use u2cut::io::paths::{self, OutputNaming, Sink};
use u2cut::io::{DEFAULT_MAX_PIXELS, DecodeOptions, Format};
use u2cut::pipeline::{self, Files, StageTimes};
use u2cut::remove::{NeedsOpaque, Product};
use u2cut::shard::Shard;

use super::{GlobalArgs, bail_input};
use processing::Processing;
pub(crate) use processing::Refining;
use report::Report;

#[derive(Debug, Args)]
#[command(after_help = "\
Outputs:
  default           RGBA PNG: the input's colors unchanged (straight alpha), alpha = the mask
                    (times the input's own alpha, if it has one)
  --mask            the mask: 8-bit grayscale, rembg's mask for the same model
  --bg-color/-image the cutout composed over a color or an image (scaled to cover, centered)
Without -o, a single file's output goes next to it (NAME_nobg.png, NAME_mask.png with
--mask) and stdin's to stdout. Outputs are written to a temporary file in their folder and
renamed when complete; inputs are never overwritten.

Exit codes:
  0  every input was processed (or skipped with --skip-existing)
  1  runtime failure: an output could not be written (the other inputs were still
     processed), or the GPU failed (the run stops there)
  2  bad usage, or some inputs could not be read or decoded (each named on stderr);
     the other inputs were still processed

Examples:
  u2cut remove photo.jpg                          # photo_nobg.png next to it
  u2cut remove photo.jpg -o cutout.webp           # format from the extension
  u2cut remove photos/ -o out/                    # photos/a/b.jpg -> out/a/b.png
  u2cut remove photos/ -o masks/ --mask
  u2cut remove photo.jpg -o white.jpg --bg-color 255,255,255
  cat photo.jpg | u2cut remove - > cutout.png
  u2cut remove clip.mp4 -o cutout.webm            # a video, through ffmpeg: VP9 with alpha
  u2cut remove clip.mp4 -o cutout.mov             # ProRes 4444 with alpha; FOLDER/: numbered PNGs")]
pub struct RemoveArgs {
    /// Image files, folders (searched recursively for image files; hidden
    /// files skipped), `-` for stdin, or one video file (.mp4 .mov .webm
    /// .mkv .avi .m4v, animated .gif; read and written with ffmpeg)
    #[arg(value_name = "INPUT", required_unless_present = "files_from")]
    pub inputs: Vec<PathBuf>,
    /// Read the inputs from FILE (`-`: stdin), one path per line,
    /// relative to --input-root; read as the run goes, for lists of
    /// millions (needs -o DIR)
    #[arg(long, value_name = "FILE|-", conflicts_with = "inputs")]
    pub files_from: Option<PathBuf>,
    /// The folder --files-from's paths are relative to [default: the working folder]
    #[arg(long, value_name = "DIR", requires = "files_from")]
    pub input_root: Option<PathBuf>,
    /// Process only share I of N of the inputs (0 <= I < N), chosen by a
    /// fixed hash of each input's path in its folder (see deploy/README.md):
    /// N runs with I = 0..N-1 process every input exactly once
    #[arg(long, value_name = "I/N")]
    pub shard: Option<Shard>,
    /// Append a JSON line per input as it is finished: input, output,
    /// status (ok, skipped, error), error, width, height, ms
    #[arg(long, value_name = "PATH.jsonl")]
    pub manifest: Option<PathBuf>,
    /// List the inputs to process (INPUT<TAB>OUTPUT on stdout) and stop
    #[arg(long)]
    pub dry_run: bool,
    /// Output file (one input), folder (created; outputs keep their path
    /// relative to the input folder, extension replaced), or `-` for stdout
    #[arg(short, long, value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// Write the mask (8-bit grayscale) instead of the cutout
    #[arg(long, conflicts_with_all = ["bg_color", "bg_image"])]
    pub mask: bool,
    /// Output format [default: from -o's extension, else png]
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// JPEG quality
    #[arg(long, default_value_t = 90, value_name = "1-100",
          value_parser = clap::value_parser!(u8).range(1..=100))]
    pub quality: u8,
    /// Crop each output to the subject's bounding box (mask >= 10)
    #[arg(long)]
    pub crop: bool,
    /// Pixels kept around the subject with --crop
    #[arg(long, default_value_t = 0, value_name = "PIXELS", requires = "crop")]
    pub crop_margin: u32,
    /// Skip inputs whose output exists (to resume a killed run)
    #[arg(long)]
    pub skip_existing: bool,
    /// Refuse larger images (a guard against decompression bombs)
    #[arg(long, default_value_t = DEFAULT_MAX_PIXELS, value_name = "N")]
    pub max_pixels: u64,
    #[command(flatten)]
    pub processing: Processing,
}

fn decode_options(global: &GlobalArgs, args: &RemoveArgs) -> DecodeOptions {
    DecodeOptions {
        max_pixels: args.max_pixels,
        allow_truncated: global.allow_truncated,
    }
}

pub(crate) fn parse_color(s: &str) -> std::result::Result<[u8; 4], String> {
    let parts: Vec<&str> = s.split(',').map(str::trim).collect();
    if !(3..=4).contains(&parts.len()) {
        return Err(format!(
            "`{s}`: give R,G,B or R,G,B,A, each 0-255 (e.g. 255,255,255)"
        ));
    }
    let mut c = [255u8; 4];
    for (v, p) in c.iter_mut().zip(&parts) {
        *v = p
            .parse()
            .map_err(|_| format!("`{p}` in `{s}` is not a number 0-255"))?;
    }
    Ok(c)
}

/// The output format: --format, else -o's extension when -o is a file.
fn output_format(args: &RemoveArgs, file_output: Option<&Path>) -> Result<Format> {
    let from_ext = match file_output {
        Some(p) if p.extension().is_some() => match Format::from_path(p) {
            Some(f) => Some(f),
            None => bail_input!(
                "-o {}: cannot write .{} files; use .png, .webp or .jpg (or --format)",
                p.display(),
                p.extension().unwrap_or_default().to_string_lossy()
            ),
        },
        _ => None,
    };
    match (args.format, from_ext) {
        (Some(f), Some(e)) if f != e => bail_input!(
            "--format {} disagrees with the extension of -o {}",
            f.extension(),
            file_output.map(Path::display).expect("set with from_ext")
        ),
        (Some(f), _) | (None, Some(f)) => Ok(f),
        (None, None) => Ok(Format::Png),
    }
}

pub fn run(global: &GlobalArgs, args: &RemoveArgs) -> Result<()> {
    let start = Instant::now();
    args.processing.check()?;
    if let Some(clip) = args.inputs.iter().find(|p| u2cut::video::is_video(p)) {
        return video::run(global, args, clip);
    }
    let product = if args.mask {
        Product::Mask
    } else {
        Product::Cutout
    };
    let naming_probe = OutputNaming {
        output: args.output.clone(),
        format: Format::Png,
        suffix: "",
    };
    let file_output = paths::file_output(&args.inputs, &naming_probe);
    let format = output_format(args, file_output.as_deref())?;
    let background = args.processing.background(&decode_options(global, args))?;
    match background.fits(format, product) {
        Err(NeedsOpaque::Transparent) => bail_input!(
            "JPEG has no alpha channel: give --bg-color or --bg-image for a jpg cutout, \
             or write --format png/webp (or --mask)"
        ),
        Err(NeedsOpaque::Translucent) => bail_input!(
            "JPEG has no alpha channel: --bg-color needs an opaque color (alpha 255) for jpg"
        ),
        Ok(()) => {}
    }

    let naming = OutputNaming {
        output: args.output.clone(),
        format,
        suffix: if args.mask { "_mask" } else { "_nobg" },
    };
    let inputs = inputs::plan(args, &naming)?;
    if inputs.to_stdout && std::io::stdout().is_terminal() {
        bail_input!(
            "refusing to write image data to a terminal: redirect stdout (`> out.png`) or give -o FILE"
        );
    }
    if inputs.none_found {
        bail_input!(
            "no image files found in {}",
            args.inputs
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if args.dry_run {
        return inputs::dry_run(global, inputs, args.skip_existing);
    }

    let report = Mutex::new(Report::new(global, inputs.total, args.manifest.as_deref())?);
    // Inputs refused or skipped are reported as the run reaches them (on
    // a decoder thread), the others run.
    let mut jobs = inputs
        .planned
        .filter_map(|planned| {
            let mut report = report.lock().unwrap();
            match planned {
                Err((name, err)) => report.bad_input(&name, &err),
                Ok(job) => match &job.sink {
                    Sink::File(p) if args.skip_existing && p.exists() => report.skipped(&job),
                    _ => return Some(job),
                },
            }
            None
        })
        .peekable();
    let mut fatal = None;
    if jobs.peek().is_some() {
        let crop = args.crop.then_some(args.crop_margin);
        let remover = args
            .processing
            .remover(global, background, crop, inputs.total)?;
        let run_options = args.processing.run_options(product);
        let files = Files {
            decode: decode_options(global, args),
            format,
            quality: args.quality,
        };
        let summary = pipeline::run(&remover, &run_options, jobs, &files, |e| {
            report.lock().unwrap().event(e);
        });
        let report = report.lock().unwrap();
        report.line_unless_quiet(busy_times(&summary.times, run_options.threads));
        if summary.reopens > 0 {
            report.line(format!(
                "u2cut: warning: the GPU device failed and was opened again {} time(s); \
                 the inputs of the failed batches are listed above",
                summary.reopens
            ));
        }
        fatal = summary.stopped;
    }
    let report = report.into_inner().unwrap();
    report.finish(start.elapsed());
    if let Some(err) = fatal {
        return Err(err.into());
    }
    report.result()
}

/// Where the time went: each stage's busy time, summed over its threads.
pub(crate) fn busy_times(t: &StageTimes, threads: usize) -> String {
    format!(
        "busy time: decode {:.2} s and encode {:.2} s (over {threads} threads each), GPU stage {:.2} s",
        t.decode.as_secs_f64(),
        t.encode.as_secs_f64(),
        t.gpu.as_secs_f64()
    )
}
