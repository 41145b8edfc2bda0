//! Command-line definitions (clap derive) and what the subcommands share:
//! sizes, model loading, choosing where the network runs, exit codes.
//! One module per subcommand.

mod bench;
mod frames;
mod infer;
mod info;
mod manifest;
mod matte;
mod remove;
mod serve;
mod warmup;

use std::fmt;
use std::path::Path;
use std::process::ExitCode;
use std::str::FromStr;
use std::sync::Arc;

use anyhow::{Result, anyhow};
use clap::{Args, Parser, Subcommand};
use u2cut::gpu::{AdapterChoice, GpuContext, REQUIRE_GPU_ENV, gpu_required};
use u2cut::kernels::Precision;
use u2cut::model::{LoadOptions, U2NetConfig};
use u2cut::{Model, Network};

/// Exit code for bad flags and unusable input files.
pub const EXIT_INPUT: u8 = 2;
/// Exit code for failures while running (GPU, I/O on outputs, ...).
pub const EXIT_RUNTIME: u8 = 1;

const AFTER_HELP: &str = "\
Exit codes:
  0  success
  1  runtime failure (GPU device, kernels, writing outputs)
  2  usage or input error (bad flag, missing or malformed input file, unknown model)

Environment:
  U2CUT_ADAPTER      adapter to use when --adapter is not given (index or name substring)
  U2CUT_CACHE_DIR    cache folder: compiled GPU pipelines, tuning [default: $XDG_CACHE_HOME/u2cut or ~/.cache/u2cut]
  U2CUT_MODEL_DIR    folder searched for NAME.safetensors by --model NAME [default: $XDG_DATA_HOME/u2cut/models or ~/.local/share/u2cut/models]
  U2CUT_REQUIRE_GPU  set to 1 to fail instead of falling back to the CPU when no GPU exists
  WGPU_BACKEND       restrict wgpu to backends (vulkan, metal, dx12, gl)
  NO_COLOR           disable colored help and errors";

#[derive(Debug, Parser)]
#[command(
    name = "u2cut",
    version,
    about = "U²-Net background removal, every layer a WGSL kernel on wgpu",
    after_help = AFTER_HELP,
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand takes.
#[derive(Clone, Debug, Args)]
pub struct GlobalArgs {
    /// GPU adapter to use: an index or a name substring, as listed by
    /// `u2cut info --adapters` [default: the best one; env: U2CUT_ADAPTER]
    #[arg(long, global = true, value_name = "NAME|INDEX")]
    pub adapter: Option<String>,
    /// Run on the CPU reference executor instead of the GPU (slow; for checks)
    #[arg(long, global = true, conflicts_with = "adapter")]
    pub cpu: bool,
    /// Print nothing on stderr but warnings and errors
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// How the network stores activations on the GPU: f16 halves their
    /// memory and traffic (arithmetic stays f32; needs shader-f16; masks
    /// differ from f32 by about a gray level, see BENCHMARKS.md)
    #[arg(long, global = true, value_enum, default_value_t = Precision::F32)]
    pub precision: Precision,
    /// Use what can be decoded of a truncated or corrupt JPEG input, with
    /// a warning per file, instead of refusing it
    #[arg(long, global = true)]
    pub allow_truncated: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Describe a model: stages, parameters, work and memory at a size; list adapters
    Info(info::InfoArgs),
    /// Run the network and write its seven raw outputs d0..d6 as .npy files
    Infer(infer::InferArgs),
    /// Time the network on the GPU: throughput, latency, per-kernel table
    Bench(bench::BenchArgs),
    /// Remove the background of images: files, folders, or stdin to stdout
    Remove(remove::RemoveArgs),
    /// Remove the background of raw video frames: rgb24 on stdin, cutouts
    /// or masks out in order (rembg's `b`; for ffmpeg pipes)
    Frames(frames::FramesArgs),
    /// Closed-form alpha matting of an image with a trimap or a mask (research use)
    Matte(matte::MatteArgs),
    /// Compile (and optionally tune) the GPU pipelines of a model ahead of
    /// time, filling the caches later runs start from (container images,
    /// shard workers)
    Warmup(warmup::WarmupArgs),
    /// Merge the manifests of a sharded run (`remove --shard --manifest`)
    Manifest(manifest::ManifestArgs),
    /// An HTTP service: rembg's API and our own, batching all clients' images on the GPU
    Serve(serve::ServeArgs),
}

/// Parses the command line and runs the subcommand.
pub fn run() -> Result<ExitCode> {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version land here too, with exit code 0.
            let _ = e.print();
            return Ok(ExitCode::from(e.exit_code().clamp(0, 255) as u8));
        }
    };
    let result = match &cli.command {
        Command::Info(args) => info::run(&cli.global, args),
        Command::Infer(args) => infer::run(&cli.global, args),
        Command::Bench(args) => bench::run(&cli.global, args),
        Command::Remove(args) => remove::run(&cli.global, args),
        Command::Frames(args) => frames::run(&cli.global, args),
        Command::Matte(args) => matte::run(&cli.global, args),
        Command::Warmup(args) => warmup::run(&cli.global, args),
        Command::Manifest(args) => manifest::run(&cli.global, args),
        Command::Serve(args) => serve::run(&cli.global, args),
    };
    // Even a failed run keeps what it compiled.
    save_pipelines(&cli.global);
    result?;
    Ok(ExitCode::SUCCESS)
}

/// The devices this process opened, whose compiled pipelines are saved
/// when the command ends.
static OPENED: std::sync::Mutex<Vec<GpuContext>> = std::sync::Mutex::new(Vec::new());

/// Saves the pipeline caches of the devices the command opened, and says
/// how many pipelines it compiled.
fn save_pipelines(global: &GlobalArgs) {
    let opened = std::mem::take(&mut *OPENED.lock().unwrap_or_else(|p| p.into_inner()));
    for ctx in opened {
        let (count, secs) = ctx.compiled_pipelines();
        if count > 0 {
            note(
                global,
                format_args!("compiled {count} GPU pipelines in {secs:.1} s (summed over threads)"),
            );
        }
        if let Err(e) = ctx.save_pipeline_cache() {
            warn(format_args!(
                "{e:#}; the next run compiles its pipelines again"
            ));
        }
    }
}

/// An error caused by the user's flags or input files (exit code 2). Wraps
/// the error transparently: it prints exactly like the error it marks.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct InputError(#[from] anyhow::Error);

/// Marks an error as the user's: see [`InputError`].
pub fn input_error(err: impl Into<anyhow::Error>) -> anyhow::Error {
    anyhow::Error::new(InputError(err.into()))
}

/// `bail!` for input errors.
macro_rules! bail_input {
    ($($arg:tt)*) => {
        return Err($crate::cli::input_error(anyhow::anyhow!($($arg)*)))
    };
}
pub(crate) use bail_input;

/// `.input_context(..)`: adds context and marks the error as the user's.
pub trait InputContext<T> {
    fn input_context<C: fmt::Display + Send + Sync + 'static>(
        self,
        context: impl FnOnce() -> C,
    ) -> Result<T>;
}

impl<T, E: Into<anyhow::Error>> InputContext<T> for std::result::Result<T, E> {
    fn input_context<C: fmt::Display + Send + Sync + 'static>(
        self,
        context: impl FnOnce() -> C,
    ) -> Result<T> {
        self.map_err(|e| input_error(e.into().context(context())))
    }
}

/// The process exit code for an error that ended the run: the user's
/// ([`InputError`], or a library error about the input) or not.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    let input = |e: &(dyn std::error::Error + 'static)| {
        e.is::<InputError>()
            || e.downcast_ref::<u2cut::Error>()
                .is_some_and(u2cut::Error::is_input)
    };
    if err.chain().any(input) {
        EXIT_INPUT
    } else {
        EXIT_RUNTIME
    }
}

/// Network input size: `S` (S x S) or `WxH`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Size {
    pub width: u32,
    pub height: u32,
}

impl Size {
    /// Larger sides overflow the kernels' 32-bit plane indices at the
    /// widest layers, and would need more memory than any GPU has anyway.
    pub const MAX_SIDE: u32 = 16384;
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}", self.width, self.height)
    }
}

impl FromStr for Size {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let side = |v: &str| -> std::result::Result<u32, String> {
            match v.trim().parse::<u32>() {
                Ok(n) if (1..=Size::MAX_SIDE).contains(&n) => Ok(n),
                Ok(n) => Err(format!("{n} is out of range 1..={}", Size::MAX_SIDE)),
                Err(_) => Err(format!(
                    "`{s}` is not a size: give S (S x S) or WxH, e.g. 320 or 237x181"
                )),
            }
        };
        match s.split_once(['x', 'X']) {
            Some((w, h)) => Ok(Size {
                width: side(w)?,
                height: side(h)?,
            }),
            None => {
                let n = side(s)?;
                Ok(Size {
                    width: n,
                    height: n,
                })
            }
        }
    }
}

/// Loads `--model` (u2netp, u2net, or a .safetensors path); failures are input errors.
pub fn load_model(spec: &str) -> Result<Model> {
    Model::resolve(spec, LoadOptions::default()).map_err(input_error)
}

/// Like [`load_model`], but a preset name whose weights are missing gives
/// the architecture with random weights, and why: enough to describe or
/// benchmark it. The second value is `None` when real weights were loaded.
pub fn load_model_or_architecture(spec: &str) -> Result<(Model, Option<String>)> {
    match Model::resolve(spec, LoadOptions::default()) {
        Ok(m) => Ok((m, None)),
        Err(err @ u2cut::Error::NoWeights(_)) => {
            let config = U2NetConfig::preset(spec).expect("only presets lack weights");
            Ok((Model::random(config, 0), Some(format!("{err:#}"))))
        }
        Err(err) => Err(input_error(err)),
    }
}

/// Prints a progress note on stderr unless `--quiet`.
pub fn note(global: &GlobalArgs, msg: impl fmt::Display) {
    if !global.quiet {
        eprintln!("u2cut: {msg}");
    }
}

/// Prints a warning on stderr (even with `--quiet`).
pub fn warn(msg: impl fmt::Display) {
    eprintln!("u2cut: warning: {msg}");
}

/// Decodes an image as RGB8 for `matte` and `infer`: a damaged JPEG is an
/// input error unless `--allow-truncated`, which warns instead.
pub fn load_rgb8(global: &GlobalArgs, path: &Path) -> Result<image::RgbImage> {
    let options = u2cut::io::DecodeOptions {
        allow_truncated: global.allow_truncated,
        ..Default::default()
    };
    let (img, warning) = u2cut::preprocess::load_rgb8(path, &options).map_err(input_error)?;
    if let Some(w) = warning {
        warn(format_args!("{}: {w}", path.display()));
    }
    Ok(img)
}

/// Where the network runs: `--cpu`, else the chosen GPU adapter. Without
/// any adapter it falls back to the CPU with one warning, unless an adapter
/// was asked for (`--adapter` / `U2CUT_ADAPTER`) or `U2CUT_REQUIRE_GPU=1`.
/// On the GPU, plans take their conv kernels from the tuning cache
/// (`bench --tune` fills it); a cache that cannot be read is warned about
/// and ignored, as it only changes speed.
pub fn open_network(global: &GlobalArgs, model: Arc<Model>) -> Result<Network> {
    let Some(ctx) = open_gpu(global)? else {
        if global.precision != Precision::F32 {
            warn("--precision applies to the GPU; the CPU reference computes in f32");
        }
        return Ok(Network::cpu(model));
    };
    let net = Network::gpu(&ctx, model)
        .with_precision(global.precision)
        .map_err(input_error)?;
    let (net, unusable) = net.with_default_tuning();
    if let Some(e) = unusable {
        warn(format_args!("{e:#}; using the default conv kernels"));
    }
    Ok(net)
}

/// The GPU to run on, or None for the CPU references: `--cpu`, or no
/// adapter at all (with one warning), as [`open_network`] decides.
pub fn open_gpu(global: &GlobalArgs) -> Result<Option<GpuContext>> {
    if global.cpu {
        note(global, "using the CPU reference executor (--cpu)");
        return Ok(None);
    }
    let choice = AdapterChoice::from_flag_or_env(global.adapter.as_deref());
    let err = match GpuContext::new(&choice) {
        Ok(ctx) => {
            note(global, format_args!("using {}", ctx.describe()));
            if let Some(w) = &ctx.pipeline_cache_warning {
                warn(w);
            }
            if !global.quiet {
                let name = ctx.info.name.clone();
                ctx.on_first_compile(move || {
                    eprintln!(
                        "u2cut: compiling GPU pipelines for {name} (once per process and \
                         input size; `u2cut warmup` fills the driver's caches ahead of time)"
                    );
                });
            }
            OPENED
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(ctx.clone());
            return Ok(Some(ctx));
        }
        Err(err) => err,
    };
    match err {
        // The library's message names the flag and lists the adapters.
        u2cut::Error::NoMatch(_) => return Err(input_error(err)),
        u2cut::Error::NoAdapter(_) => {}
        _ => {
            return Err(anyhow::Error::new(err)
                .context("the GPU could not be opened (--cpu runs on the CPU instead)"));
        }
    }
    if gpu_required() {
        return Err(anyhow!(
            "{err:#}; {REQUIRE_GPU_ENV}=1 forbids falling back to the CPU \
             (unset it, or pass --cpu to ask for the CPU)"
        ));
    }
    warn(
        "no GPU adapter found; running on the CPU reference executor (slow). \
         Install a Vulkan driver to use the GPU, e.g. \
         `apt-get install mesa-vulkan-drivers libvulkan1`, or pass --cpu to silence this",
    );
    Ok(None)
}

/// Creates the `--out-dir` (and its parents) if missing; failing that is
/// the user's to fix (a file in the way, no permission).
pub fn ensure_out_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)
        .input_context(|| format!("--out-dir {}: cannot create the directory", dir.display()))
}
