//! `u2cut remove`: background removal for files, folders and streams.
//!
//! A pipeline of threads joined by bounded channels: decoders (`--jobs`)
//! read headers, reserve memory from a budget and decode; the GPU stage runs
//! batches of `--batch-size` through [`Remover`]; encoders write each output
//! atomically. Decoding and encoding overlap the GPU's work on the batch
//! before, and the memory budget keeps the images in flight bounded however
//! many files there are. Failures are per input: one line on stderr naming
//! the file and why, and the run goes on.

use std::io::{IsTerminal as _, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow};
use clap::Args;
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, bounded, unbounded};
use image::{DynamicImage, RgbaImage};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use u2cut::Remover;
use u2cut::io::encode::encode;
use u2cut::io::paths::{self, Job, OutputNaming, Sink, Source};
use u2cut::io::{DEFAULT_MAX_PIXELS, Decoded, Format, open_bytes, open_file, write_atomic};
use u2cut::matting::{CfOptions, GuidedOptions, MattingOptions, Method, TrimapOptions};
use u2cut::remove::{Background, DEFAULT_BATCH, Options, Product, Removed};

use super::{GlobalArgs, InputContext as _, bail_input, input_error, load_model, open_network};

/// Bytes of image data (decoded inputs, masks, outputs) in flight at most;
/// a larger single image still runs, alone.
const MEMORY_BUDGET: u64 = 1 << 30;
/// Bytes per pixel an image holds while in flight: RGBA in, RGBA out, mask,
/// and the decoder's own buffer before conversion to RGBA.
const BYTES_PER_PIXEL: u64 = 12;
/// How often the GPU stage, waiting to fill a batch, checks whether it can.
const BATCH_POLL: Duration = Duration::from_millis(20);

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
    #[arg(value_name = "INPUT", required = true)]
    pub inputs: Vec<PathBuf>,
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

fn parse_color(s: &str) -> std::result::Result<[u8; 4], String> {
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

/// Image bytes reserved by images in flight; [`Budget::reserve`] blocks
/// while the budget is spent (but never refuses an image when it is empty).
struct Budget {
    used: Mutex<u64>,
    freed: Condvar,
    limit: u64,
    /// Decoders blocked in `reserve`: the GPU stage then runs what it has
    /// rather than wait for a full batch that the budget holds back.
    waiting: AtomicUsize,
}

/// A reservation, returned when dropped.
struct Permit<'a> {
    budget: &'a Budget,
    bytes: u64,
}

impl Budget {
    fn reserve(&self, bytes: u64) -> Permit<'_> {
        let mut used = self.used.lock().unwrap();
        while *used > 0 && *used + bytes > self.limit {
            self.waiting.fetch_add(1, Ordering::SeqCst);
            used = self.freed.wait(used).unwrap();
            self.waiting.fetch_sub(1, Ordering::SeqCst);
        }
        *used += bytes;
        Permit {
            budget: self,
            bytes,
        }
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        *self.budget.used.lock().unwrap() -= self.bytes;
        self.budget.freed.notify_all();
    }
}

/// A decoded image on its way to the GPU.
struct Loaded<'a> {
    job: usize,
    image: RgbaImage,
    _permit: Permit<'a>,
}

/// A result on its way to the encoders.
struct Done<'a> {
    job: usize,
    removed: Removed,
    _permit: Permit<'a>,
}

/// What happened to an input.
enum Outcome {
    /// Written, with a warning about the result if any.
    Written(Option<String>),
    /// Could not be read or decoded (exit code 2).
    BadInput(anyhow::Error),
    /// Could not be processed or written (exit code 1).
    Failed(anyhow::Error),
}

struct Event {
    job: usize,
    outcome: Outcome,
}

/// Busy time of each stage, summed over its threads: where a run's time goes.
#[derive(Default)]
struct StageTimes {
    decode: AtomicU64,
    gpu: AtomicU64,
    encode: AtomicU64,
}

impl StageTimes {
    /// Runs `f`, adding its duration to `stage`.
    fn time<T>(stage: &AtomicU64, f: impl FnOnce() -> T) -> T {
        let t = Instant::now();
        let out = f();
        stage.fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
        out
    }

    fn summary(&self, threads: usize) -> String {
        let s = |a: &AtomicU64| a.load(Ordering::Relaxed) as f64 / 1e9;
        format!(
            "busy time: decode {:.2} s and encode {:.2} s (over {threads} threads each), GPU stage {:.2} s",
            s(&self.decode),
            s(&self.encode),
            s(&self.gpu)
        )
    }
}

/// Everything the stages share.
struct Run<'a> {
    args: &'a RemoveArgs,
    jobs: Vec<Job>,
    format: Format,
    product: Product,
    budget: Budget,
    next: AtomicUsize,
    /// Set when the GPU stage failed: decoders stop taking inputs.
    stop: AtomicBool,
    times: StageTimes,
}

impl Run<'_> {
    fn decode_worker<'s>(&'s self, to_gpu: Sender<Loaded<'s>>, events: Sender<Event>) {
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return;
            }
            let job = self.next.fetch_add(1, Ordering::Relaxed);
            let Some(j) = self.jobs.get(job) else {
                return;
            };
            let header = match &j.source {
                Source::File(path) => open_file(path, self.args.max_pixels),
                Source::Stdin => read_stdin().and_then(|b| open_bytes(b, self.args.max_pixels)),
            };
            let loaded = header.and_then(|h| {
                let pixels = u64::from(h.width) * u64::from(h.height);
                let permit = self.budget.reserve(pixels * BYTES_PER_PIXEL);
                let Decoded { image, .. } = StageTimes::time(&self.times.decode, || h.decode())?;
                Ok(Loaded {
                    job,
                    image,
                    _permit: permit,
                })
            });
            let sent = match loaded {
                Ok(l) => to_gpu.send(l).is_ok(),
                Err(e) => events
                    .send(Event {
                        job,
                        outcome: Outcome::BadInput(e),
                    })
                    .is_ok(),
            };
            if !sent {
                return;
            }
        }
    }

    /// Runs full batches, partial ones only when no more images can come:
    /// the decoders are done or held back by the memory budget (fuller
    /// batches keep the GPU busier). A GPU failure ends the run (the device
    /// is likely gone): the batch's inputs are reported and decoding stops.
    fn gpu_stage<'s>(
        &'s self,
        remover: &Remover,
        from_decoders: Receiver<Loaded<'s>>,
        to_encoders: Sender<Done<'s>>,
        events: Sender<Event>,
    ) -> Result<()> {
        let batch = remover.batch()? as usize;
        while let Ok(first) = from_decoders.recv() {
            let mut loaded = vec![first];
            while loaded.len() < batch {
                match from_decoders.recv_timeout(BATCH_POLL) {
                    Ok(l) => loaded.push(l),
                    Err(RecvTimeoutError::Timeout)
                        if self.budget.waiting.load(Ordering::SeqCst) == 0 => {}
                    Err(_) => break,
                }
            }
            let images: Vec<RgbaImage> = loaded
                .iter_mut()
                .map(|l| std::mem::take(&mut l.image))
                .collect();
            match StageTimes::time(&self.times.gpu, || remover.process(&images, self.product)) {
                Ok(removed) => {
                    drop(images);
                    for (l, removed) in loaded.into_iter().zip(removed) {
                        let done = Done {
                            job: l.job,
                            removed,
                            _permit: l._permit,
                        };
                        if to_encoders.send(done).is_err() {
                            return Ok(());
                        }
                    }
                }
                Err(err) => {
                    self.stop.store(true, Ordering::Relaxed);
                    for l in &loaded {
                        let _ = events.send(Event {
                            job: l.job,
                            outcome: Outcome::Failed(anyhow!("not processed: the GPU pass failed")),
                        });
                    }
                    return Err(err.context("running a batch"));
                }
            }
        }
        Ok(())
    }

    fn encode_worker(&self, from_gpu: Receiver<Done<'_>>, events: Sender<Event>) {
        for done in from_gpu {
            let written = StageTimes::time(&self.times.encode, || {
                self.write(&self.jobs[done.job], done.removed)
            });
            let outcome = match written {
                Ok(warning) => Outcome::Written(warning),
                Err(e) => Outcome::Failed(e),
            };
            if events
                .send(Event {
                    job: done.job,
                    outcome,
                })
                .is_err()
            {
                return;
            }
        }
    }

    /// Writes the output; returns a warning about its quality, if any.
    fn write(&self, job: &Job, removed: Removed) -> Result<Option<String>> {
        let warning = removed.matting.filter(|r| r.stopped_early()).map(|r| {
            format!(
                "alpha matting stopped before converging ({:?} at the full size); \
                 the alpha may be rough (`u2cut matte` takes --max-iterations)",
                r.status()
            )
        });
        let img = match (self.product, removed.image) {
            (Product::Cutout, Some(image)) => DynamicImage::ImageRgba8(image),
            _ => DynamicImage::ImageLuma8(removed.mask),
        };
        let (format, quality) = (self.format, self.args.quality);
        match &job.sink {
            Sink::Stdout => {
                let mut bytes = Vec::new();
                encode(&mut bytes, &img, format, quality)?;
                let mut out = std::io::stdout().lock();
                out.write_all(&bytes)
                    .and_then(|()| out.flush())
                    .context("writing to stdout")?;
            }
            Sink::File(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("cannot create the folder {}", dir.display()))?;
                }
                write_atomic(path, |w| encode(w, &img, format, quality))
                    .with_context(|| format!("writing {}", path.display()))?;
            }
        }
        Ok(warning)
    }
}

fn read_stdin() -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .read_to_end(&mut bytes)
        .context("reading stdin")?;
    Ok(bytes)
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

/// rembg's `-a` with the thresholds of the command line, or the guided filter.
fn matting_options(args: &RemoveArgs) -> Option<MattingOptions> {
    if args.refine.is_some() {
        return Some(MattingOptions {
            method: Method::Guided(GuidedOptions::default()),
            ..MattingOptions::default()
        });
    }
    args.alpha_matting.then(|| {
        let d = TrimapOptions::default();
        let cf = CfOptions::default();
        MattingOptions {
            trimap: TrimapOptions {
                fg_threshold: args.matting_fg_threshold.unwrap_or(d.fg_threshold),
                bg_threshold: args.matting_bg_threshold.unwrap_or(d.bg_threshold),
                erode_size: args.matting_erode.unwrap_or(d.erode_size),
            },
            cf: CfOptions {
                max_iterations: args.matting_max_iterations.unwrap_or(cf.max_iterations),
                ..cf
            },
            ..MattingOptions::default()
        }
    })
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
            let bg = u2cut::io::decode_file(path, args.max_pixels)
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
    let list = paths::plan(&args.inputs, &naming).map_err(input_error)?;
    if list.jobs.iter().any(|j| j.sink == Sink::Stdout) && std::io::stdout().is_terminal() {
        bail_input!(
            "refusing to write image data to a terminal: redirect stdout (`> out.png`) or give -o FILE"
        );
    }
    let mut report = Report::new(global, list.jobs.len() + list.refused.len());
    for (name, err) in &list.refused {
        report.bad_input(name, err);
    }
    let mut jobs = Vec::with_capacity(list.jobs.len());
    for job in list.jobs {
        match &job.sink {
            Sink::File(p) if args.skip_existing && p.exists() => report.skipped(&job),
            _ => jobs.push(job),
        }
    }
    if jobs.is_empty() && report.total == 0 {
        bail_input!(
            "no image files found in {}",
            args.inputs
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }

    let mut fatal = None;
    if !jobs.is_empty() {
        let model = Arc::new(load_model(&args.model)?);
        let net = open_network(global, model)?;
        let options = Options {
            background,
            post_process: args.post_process,
            crop: args.crop.then_some(args.crop_margin),
            // No larger than the run: a plan's buffers are sized for its batch.
            batch_size: args.batch_size.min(jobs.len() as u32),
            matting: matting_options(args),
        };
        let remover = Remover::new(net, options);
        let threads = args.jobs.map_or_else(
            || std::thread::available_parallelism().map_or(2, |n| n.get()),
            |j| j as usize,
        );
        let run = Run {
            args,
            jobs,
            format,
            product,
            budget: Budget {
                used: Mutex::new(0),
                freed: Condvar::new(),
                limit: MEMORY_BUDGET,
                waiting: AtomicUsize::new(0),
            },
            next: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            times: StageTimes::default(),
        };
        fatal = pipeline(&run, &remover, threads, &mut report).err();
        report.line_unless_quiet(run.times.summary(threads));
    }
    report.finish(start.elapsed());
    if let Some(err) = fatal {
        return Err(err);
    }
    report.result()
}

/// Runs the stages and reports every event as it comes.
fn pipeline(run: &Run, remover: &Remover, threads: usize, report: &mut Report) -> Result<()> {
    let batch = remover.batch()? as usize;
    std::thread::scope(|s| {
        let (to_gpu, from_decoders) = bounded(batch);
        let (to_encoders, from_gpu) = bounded(batch);
        let (events, reports) = unbounded();
        for _ in 0..threads {
            let (tx, ev) = (to_gpu.clone(), events.clone());
            s.spawn(move || run.decode_worker(tx, ev));
        }
        for _ in 0..threads {
            let (rx, ev): (Receiver<Done>, _) = (from_gpu.clone(), events.clone());
            s.spawn(move || run.encode_worker(rx, ev));
        }
        drop((to_gpu, from_gpu));
        let gpu = {
            let ev = events.clone();
            s.spawn(move || run.gpu_stage(remover, from_decoders, to_encoders, ev))
        };
        drop(events);
        for event in reports {
            report.event(&run.jobs[event.job], event.outcome);
        }
        gpu.join().expect("the GPU stage does not panic")
    })
}

/// Progress and the final tally: a progress bar on a terminal, one line
/// per file otherwise, nothing but errors with --quiet.
struct Report {
    quiet: bool,
    bar: Option<ProgressBar>,
    total: usize,
    done: usize,
    written: usize,
    skipped: usize,
    bad_inputs: usize,
    failed: usize,
}

impl Report {
    fn new(global: &GlobalArgs, total: usize) -> Self {
        let bar = (!global.quiet && std::io::stderr().is_terminal()).then(|| {
            let bar =
                ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:30} {pos}/{len} images  {rate}  elapsed {elapsed}  ETA {eta}",
                )
                .expect("a valid template")
                .with_key(
                    "rate",
                    |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = write!(w, "{:.2} images/s", state.per_sec());
                    },
                ),
            );
            bar
        });
        Self {
            quiet: global.quiet,
            bar,
            total,
            done: 0,
            written: 0,
            skipped: 0,
            bad_inputs: 0,
            failed: 0,
        }
    }

    fn line_unless_quiet(&self, text: String) {
        if !self.quiet {
            self.line(format!("u2cut: {text}"));
        }
    }

    /// A line on stderr that does not tear the progress bar.
    fn line(&self, text: String) {
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{text}")),
            None => eprintln!("{text}"),
        }
    }

    fn tick(&mut self) {
        self.done += 1;
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    fn bad_input(&mut self, name: &str, err: &anyhow::Error) {
        self.bad_inputs += 1;
        self.tick();
        self.line(format!("u2cut: error: {name}: {err:#}"));
    }

    fn skipped(&mut self, job: &Job) {
        self.skipped += 1;
        self.tick();
        if !self.quiet && self.bar.is_none() {
            self.line(format!(
                "u2cut: [{}/{}] {}: skipped, the output exists",
                self.done,
                self.total,
                job.name()
            ));
        }
    }

    fn event(&mut self, job: &Job, outcome: Outcome) {
        match outcome {
            Outcome::Written(warning) => {
                self.written += 1;
                self.tick();
                if let Some(w) = warning {
                    self.line(format!("u2cut: warning: {}: {w}", job.name()));
                }
                if !self.quiet && self.bar.is_none() {
                    let to = match &job.sink {
                        Sink::File(p) => p.display().to_string(),
                        Sink::Stdout => "<stdout>".to_owned(),
                    };
                    self.line(format!(
                        "u2cut: [{}/{}] {} -> {to}",
                        self.done,
                        self.total,
                        job.name()
                    ));
                }
            }
            Outcome::BadInput(e) => self.bad_input(&job.name(), &e),
            Outcome::Failed(e) => {
                self.failed += 1;
                self.tick();
                self.line(format!("u2cut: error: {}: {e:#}", job.name()));
            }
        }
    }

    fn finish(&self, elapsed: Duration) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        if self.quiet {
            return;
        }
        let secs = elapsed.as_secs_f64();
        let mut s = format!(
            "u2cut: {} of {} images written in {secs:.1} s ({:.2} images/s)",
            self.written,
            self.total,
            self.written as f64 / secs.max(1e-9)
        );
        if self.skipped > 0 {
            s += &format!("; {} skipped (output exists)", self.skipped);
        }
        if self.bad_inputs > 0 {
            s += &format!("; {} unreadable", self.bad_inputs);
        }
        if self.failed > 0 {
            s += &format!("; {} failed", self.failed);
        }
        let missing = self.total - self.done;
        if missing > 0 {
            s += &format!("; {missing} not processed");
        }
        eprintln!("{s}");
    }

    /// The run's outcome: runtime failures (exit 1) before bad inputs (exit 2).
    fn result(&self) -> Result<()> {
        if self.failed > 0 {
            return Err(anyhow!(
                "{} of {} images could not be processed or written (listed above)",
                self.failed,
                self.total
            ));
        }
        if self.bad_inputs > 0 {
            return Err(input_error(anyhow!(
                "{} of {} inputs could not be read (listed above); the others were processed",
                self.bad_inputs,
                self.total
            )));
        }
        Ok(())
    }
}
