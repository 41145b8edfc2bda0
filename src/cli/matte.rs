//! `u2cut matte`: closed-form alpha matting of one image with a trimap the
//! user gives (research use: any trimap), or with a mask turned into a
//! trimap as `remove -a` does (rembg's alpha_matting_cutout on a mask from
//! elsewhere), with pymatting's model and optionally its foreground
//! estimation.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context as _, Result};
use clap::Args;
use image::{DynamicImage, ImageBuffer, Rgb};

use super::{GlobalArgs, bail_input, input_error, note, open_gpu, warn};
use u2cut::io::{Format, encode::encode, write_atomic};
use u2cut::matting::cf::{self, CfOptions, Preconditioner, Solver};
use u2cut::matting::{
    Engine, ForegroundOptions, Plane, Refined, TrimapOptions, foreground, rgb_words, trimap,
};

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("known").required(true).args(["trimap", "mask"])))]
#[command(after_help = "\
The trimap is an image of the same size: 0 = background, 255 = foreground,
any other value unknown (colour trimaps are read as gray). A --mask (8-bit,
e.g. from `u2cut remove --mask`) becomes a trimap as rembg -a makes one
and also starts the solver. The solver is
pymatting's estimate_alpha_cf (radius 1) by conjugate gradients with a
multigrid V-cycle as preconditioner (or Jacobi, coarse to fine); where the
GPU is a CPU device (llvmpipe) the CPU solver runs it (--solver). A warning
says when it stops at --max-iterations before reaching --tolerance.
Outputs are written atomically; the format follows the extension (png,
webp; jpg for --foreground).")]
pub struct MatteArgs {
    /// The image (EXIF orientation applied, alpha channel dropped)
    #[arg(value_name = "IMAGE")]
    pub image: PathBuf,
    /// The trimap: 0 background, 255 foreground, else unknown
    #[arg(long, short, value_name = "TRIMAP")]
    pub trimap: Option<PathBuf>,
    /// Or a mask, made into a trimap as rembg -a does
    #[arg(long, short, value_name = "MASK")]
    pub mask: Option<PathBuf>,
    /// With --mask: levels above this are sure foreground
    #[arg(long, default_value_t = 240, value_name = "LEVEL", requires = "mask")]
    pub fg_threshold: u8,
    /// With --mask: levels below this are sure background
    #[arg(long, default_value_t = 10, value_name = "LEVEL", requires = "mask")]
    pub bg_threshold: u8,
    /// With --mask: side of the square the sure regions are eroded with
    #[arg(long, default_value_t = 10, value_name = "PIXELS", requires = "mask")]
    pub erode: u32,
    /// Where to write the alpha (8-bit gray)
    #[arg(long, short, value_name = "ALPHA.png")]
    pub output: PathBuf,
    /// Also estimate the foreground colours (pymatting's estimate_foreground_ml) and write them (RGB)
    #[arg(long, value_name = "FG.png")]
    pub foreground: Option<PathBuf>,
    /// Also write the cutout: estimated foreground with the alpha (RGBA)
    #[arg(long, value_name = "CUTOUT.png")]
    pub cutout: Option<PathBuf>,
    /// Regularization of the colour model (pymatting's epsilon)
    #[arg(long, default_value_t = 1e-7, value_name = "EPS")]
    pub epsilon: f32,
    /// Stop once the residual is below this fraction of the right-hand side
    #[arg(long, default_value_t = 1e-7, value_name = "TOL")]
    pub tolerance: f32,
    /// Iteration cap per pyramid level
    #[arg(long, default_value_t = 5000, value_name = "N")]
    pub max_iterations: u32,
    /// Pyramid levels, the full size included (1 = no coarse-to-fine) [default: 1 with the multigrid, else automatic]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub levels: Option<u32>,
    /// What preconditions the solver's conjugate gradients
    #[arg(long, value_enum, default_value_t = Preconditioner::Multigrid)]
    pub preconditioner: Preconditioner,
    /// Which solver runs: the GPU's, or the CPU's (auto: the CPU's where the GPU is a CPU device, such as llvmpipe)
    #[arg(long, value_enum, default_value_t = Solver::Auto)]
    pub solver: Solver,
    /// Print the solver's per-level account as JSON on stdout
    #[arg(long)]
    pub json: bool,
}

/// The format for an output flag's path, or an input error naming the flag.
fn format_for(flag: &str, path: &Path, alpha: bool) -> Result<Format> {
    let Some(format) = Format::from_path(path) else {
        bail_input!(
            "{flag} {}: unknown extension; use .png or .webp{}",
            path.display(),
            if alpha { "" } else { " (or .jpg)" }
        );
    };
    if alpha && !format.has_alpha() {
        bail_input!(
            "{flag} {}: JPEG has no alpha channel; use .png or .webp",
            path.display()
        );
    }
    Ok(format)
}

fn write(path: &Path, img: &DynamicImage, format: Format) -> Result<()> {
    Ok(write_atomic(path, |w| encode(w, img, format, 95))?)
}

/// An 8-bit gray image of the given size; errors name the flag.
fn gray_of_size(
    global: &GlobalArgs,
    flag: &str,
    path: &Path,
    (width, height): (u32, u32),
) -> Result<image::GrayImage> {
    let img = super::load_rgb8(global, path)?;
    if img.dimensions() != (width, height) {
        bail_input!(
            "{flag} {}: {}x{}, but the image is {width}x{height}",
            path.display(),
            img.width(),
            img.height()
        );
    }
    Ok(DynamicImage::ImageRgb8(img).to_luma8())
}

/// Trimap values as the solver reads them: exactly 0 and 255 are known.
fn trimap_plane(gray: &image::GrayImage) -> Plane {
    let data = gray
        .as_raw()
        .iter()
        .map(|&v| match v {
            0 => 0.0,
            255 => 1.0,
            _ => 0.5,
        })
        .collect();
    Plane::new(gray.width(), gray.height(), data)
}

pub fn run(global: &GlobalArgs, args: &MatteArgs) -> Result<()> {
    let alpha_format = format_for("--output", &args.output, false)?;
    let fg_format = args
        .foreground
        .as_deref()
        .map(|p| format_for("--foreground", p, false))
        .transpose()?;
    let cutout_format = args
        .cutout
        .as_deref()
        .map(|p| format_for("--cutout", p, true))
        .transpose()?;
    let options = CfOptions {
        epsilon: args.epsilon,
        tolerance: args.tolerance,
        max_iterations: args.max_iterations,
        levels: args.levels,
        preconditioner: args.preconditioner,
        solver: args.solver,
        ..CfOptions::default()
    };
    if options.epsilon <= 0.0 || !options.epsilon.is_finite() {
        bail_input!("--epsilon {}: must be positive, e.g. 1e-7", args.epsilon);
    }
    if options.tolerance < 0.0 || !options.tolerance.is_finite() {
        bail_input!(
            "--tolerance {}: must be at least 0, e.g. 1e-7",
            args.tolerance
        );
    }
    let image = super::load_rgb8(global, &args.image)?;
    let (flag, path) = match (&args.trimap, &args.mask) {
        (Some(t), _) => ("--trimap", t),
        (None, Some(m)) => ("--mask", m),
        (None, None) => unreachable!("clap requires --trimap or --mask"),
    };
    let gray = gray_of_size(global, flag, path, image.dimensions())?;
    let words = rgb_words(&image);

    let ctx = open_gpu(global)?;
    let engine = ctx.as_ref().map_or(Engine::Cpu, Engine::Gpu);
    let start = Instant::now();
    let (trimap, init) = if args.trimap.is_some() {
        (trimap_plane(&gray), None)
    } else {
        let mask = Plane::from_gray8(&gray);
        let options = TrimapOptions {
            fg_threshold: args.fg_threshold,
            bg_threshold: args.bg_threshold,
            erode_size: args.erode,
        };
        (trimap::trimap(engine, &mask, &options)?, Some(mask))
    };
    let (alpha, report) =
        match cf::estimate_alpha_cf(engine, &words, &trimap, init.as_ref(), &options) {
            Ok(v) => v,
            Err(e @ u2cut::Error::Trimap(_)) => {
                return Err(input_error(e.context(format!("{flag} {}", path.display()))));
            }
            Err(e) => return Err(e.context("closed-form matting").into()),
        };
    let solve_s = start.elapsed().as_secs_f64();
    note(
        global,
        format_args!(
            "alpha of {}x{} in {solve_s:.3} s ({} iterations; {})",
            image.width(),
            image.height(),
            report.iterations(),
            report.summary()
        ),
    );
    if report.stopped_early() {
        warn(format_args!(
            "the solver stopped before reaching --tolerance {} ({:?} at the full size); \
             the alpha may be rough: raise --max-iterations or --tolerance",
            args.tolerance,
            report.status()
        ));
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    write(
        &args.output,
        &DynamicImage::ImageLuma8(alpha.to_gray8()),
        alpha_format,
    )
    .with_context(|| format!("--output {}", args.output.display()))?;

    if args.foreground.is_some() || args.cutout.is_some() {
        let start = Instant::now();
        let fg =
            foreground::estimate_foreground(engine, &words, &alpha, &ForegroundOptions::default())?;
        note(
            global,
            format_args!("foreground in {:.3} s", start.elapsed().as_secs_f64()),
        );
        if let (Some(path), Some(format)) = (&args.foreground, fg_format) {
            let rgb: ImageBuffer<Rgb<u8>, Vec<u8>> =
                ImageBuffer::from_fn(fg.width(), fg.height(), |x, y| {
                    Rgb(fg
                        .get_pixel(x, y)
                        .0
                        .map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8))
                });
            write(path, &DynamicImage::ImageRgb8(rgb), format)
                .with_context(|| format!("--foreground {}", path.display()))?;
        }
        if let (Some(path), Some(format)) = (&args.cutout, cutout_format) {
            let refined = Refined {
                alpha,
                foreground: fg,
                report: Some(report),
            };
            write(path, &DynamicImage::ImageRgba8(refined.cutout()), format)
                .with_context(|| format!("--cutout {}", path.display()))?;
        }
    }
    Ok(())
}
