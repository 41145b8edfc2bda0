//! `u2cut remove`: background removal for files, folders and streams.
//!
//! The flags become the library's [`pipeline`] run on the inputs' jobs:
//! decoders (`--jobs`), the GPU in batches of `--batch-size`, encoders
//! writing each output atomically, within a memory budget. Failures are
//! per input: one line on stderr naming the file and why, and the run goes
//! on (but for a GPU failure, which stops it).

mod inputs;
mod report;

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Result;
use clap::Args;
use u2cut::Remover;
use u2cut::io::paths::{self, OutputNaming, Sink};
use u2cut::io::{DEFAULT_MAX_PIXELS, DecodeOptions, Format};
use u2cut::matting::{CfOptions, GuidedOptions, MattingOptions, Method, TrimapOptions};
use u2cut::pipeline::{self, Files, StageTimes};
use u2cut::remove::{Background, DEFAULT_BATCH, Options, Product};
use u2cut::shard::Shard;

use super::{GlobalArgs, InputContext as _, bail_input, load_model, open_network};
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
  cat photo.jpg | u2cut remove - > cutout.png")]
pub struct RemoveArgs {
    /// Image files, folders (searched recursively for image files; hidden
    /// files skipped), or `-` for stdin
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
    /// Model: u2netp (built in), u2net (from $U2CUT_MODEL_DIR), or a .safetensors file
    #[arg(
        short,
        long,
        default_value = "u2netp",
        value_name = "u2netp|u2net|PATH"
    )]
    pub model: String,
    /// Compose over this color instead of transparency, e.g. 255,255,255 or 0,0,0,128
    #[arg(long, value_name = "R,G,B[,A]", value_parser = parse_color, conflicts_with = "bg_image")]
    pub bg_color: Option<[u8; 4]>,
    /// Compose over this image, scaled to cover each output and centered
    #[arg(long, value_name = "PATH")]
    pub bg_image: Option<PathBuf>,
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
    /// rembg's -ppm: smooth the mask (opening, blur, threshold at 127); runs on the CPU
    #[arg(long, visible_alias = "ppm")]
    pub post_process: bool,
    /// Images per GPU pass
    #[arg(short, long, default_value_t = DEFAULT_BATCH, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub batch_size: u32,
    /// Decoding and encoding threads each [default: the number of CPUs]
    #[arg(short, long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub jobs: Option<u32>,
    /// Skip inputs whose output exists (to resume a killed run)
    #[arg(long)]
    pub skip_existing: bool,
    /// Refuse larger images (a guard against decompression bombs)
    #[arg(long, default_value_t = DEFAULT_MAX_PIXELS, value_name = "N")]
    pub max_pixels: u64,
    /// Refine the mask edge with closed-form alpha matting at full size, and
    /// estimate the foreground colours (rembg -a; slow on big images)
    #[arg(short = 'a', long)]
    pub alpha_matting: bool,
    /// Refine the mask with the fast guided filter (the image as guide)
    /// instead: much faster than -a, for big batches
    #[arg(long, value_name = "METHOD", value_parser = ["guided"], conflicts_with = "alpha_matting")]
    pub refine: Option<String>,
    /// Alpha matting: mask values above this are sure foreground [default: 240]
    #[arg(long, value_name = "0-255")]
    pub matting_fg_threshold: Option<u8>,
    /// Alpha matting: mask values below this are sure background [default: 10]
    #[arg(long, value_name = "0-255")]
    pub matting_bg_threshold: Option<u8>,
    /// Alpha matting: erosion of the sure regions, in pixels [default: 10]
    #[arg(long, value_name = "PIXELS")]
    pub matting_erode: Option<u32>,
    /// Alpha matting: the solver's iteration cap per pyramid level; a
    /// file whose solver stops at it gets a warning [default: 5000]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub matting_max_iterations: Option<u32>,
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

fn check_usage(args: &RemoveArgs) -> Result<()> {
    let tuned = args.matting_fg_threshold.is_some()
        || args.matting_bg_threshold.is_some()
        || args.matting_erode.is_some()
        || args.matting_max_iterations.is_some();
    if tuned && !args.alpha_matting {
        bail_input!("--matting-* options tune alpha matting: add -a/--alpha-matting");
    }
    Ok(())
}

/// How a mask is refined: rembg's `-a` with its thresholds, or the
/// guided filter; from `remove`'s flags or a server request's fields.
#[derive(Debug, Default)]
pub(crate) struct Refining {
    pub alpha_matting: bool,
    pub guided: bool,
    pub fg_threshold: Option<u8>,
    pub bg_threshold: Option<u8>,
    pub erode: Option<u32>,
    pub max_iterations: Option<u32>,
}

impl Refining {
    pub(crate) fn options(&self) -> Option<MattingOptions> {
        if self.guided {
            return Some(MattingOptions {
                method: Method::Guided(GuidedOptions::default()),
                ..MattingOptions::default()
            });
        }
        self.alpha_matting.then(|| {
            let d = TrimapOptions::default();
            let cf = CfOptions::default();
            MattingOptions {
                trimap: TrimapOptions {
                    fg_threshold: self.fg_threshold.unwrap_or(d.fg_threshold),
                    bg_threshold: self.bg_threshold.unwrap_or(d.bg_threshold),
                    erode_size: self.erode.unwrap_or(d.erode_size),
                },
                cf: CfOptions {
                    max_iterations: self.max_iterations.unwrap_or(cf.max_iterations),
                    ..cf
                },
                ..MattingOptions::default()
            }
        })
    }
}

/// rembg's `-a` with the thresholds of the command line, or the guided filter.
fn matting_options(args: &RemoveArgs) -> Option<MattingOptions> {
    Refining {
        alpha_matting: args.alpha_matting,
        guided: args.refine.is_some(),
        fg_threshold: args.matting_fg_threshold,
        bg_threshold: args.matting_bg_threshold,
        erode: args.matting_erode,
        max_iterations: args.matting_max_iterations,
    }
    .options()
}

pub fn run(global: &GlobalArgs, args: &RemoveArgs) -> Result<()> {
    let start = Instant::now();
    check_usage(args)?;
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
    let background = match (&args.bg_color, &args.bg_image) {
        (Some(c), _) => Background::Color(*c),
        (None, Some(path)) => {
            let bg = u2cut::io::decode_file(path, &decode_options(global, args))
                .input_context(|| format!("--bg-image {}", path.display()))?;
            Background::Image(Arc::new(bg.image))
        }
        (None, None) => Background::Transparent,
    };
    if format == Format::Jpg && product == Product::Cutout {
        match &background {
            Background::Transparent => bail_input!(
                "JPEG has no alpha channel: give --bg-color or --bg-image for a jpg cutout, \
                 or write --format png/webp (or --mask)"
            ),
            Background::Color([.., a]) if *a < 255 => bail_input!(
                "JPEG has no alpha channel: --bg-color needs an opaque color (alpha 255) for jpg"
            ),
            _ => {}
        }
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
        let model = Arc::new(load_model(&args.model)?);
        let net = open_network(global, model)?;
        let options = Options {
            background,
            post_process: args.post_process,
            crop: args.crop.then_some(args.crop_margin),
            // No larger than the run: a plan's buffers are sized for its batch.
            batch_size: args
                .batch_size
                .min(inputs.total.unwrap_or(usize::MAX).min(u32::MAX as usize) as u32),
            matting: matting_options(args),
        };
        let remover = Remover::new(net, options);
        let defaults = pipeline::Options::default();
        let run_options = pipeline::Options {
            product,
            threads: args.jobs.map_or(defaults.threads, |j| j as usize),
            ..defaults
        };
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
fn busy_times(t: &StageTimes, threads: usize) -> String {
    format!(
        "busy time: decode {:.2} s and encode {:.2} s (over {threads} threads each), GPU stage {:.2} s",
        t.decode.as_secs_f64(),
        t.encode.as_secs_f64(),
        t.gpu.as_secs_f64()
    )
}
