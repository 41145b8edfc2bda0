//! `u2cut frames`: raw rgb24 frames on stdin (what `ffmpeg -f rawvideo
//! -pix_fmt rgb24 pipe:1` writes), each frame's cutout or mask out in
//! order: raw on stdout for another ffmpeg, PNGs back to back, or numbered
//! PNG files (rembg's `b`).

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, ValueEnum};
use u2cut::io::DecodeOptions;
use u2cut::io::frames::{FramePattern, RawFrames};
use u2cut::pipeline::{FrameOutput, Frames};
use u2cut::remove::Product;

use super::remove::processing::Processing;
use super::remove::stream;
use super::{GlobalArgs, bail_input};

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  # A clip's cutouts as a VP9 WebM with alpha (the video's size: 1280x720)
  ffmpeg -i clip.mp4 -f rawvideo -pix_fmt rgb24 pipe:1 \\
    | u2cut frames 1280 720 \\
    | ffmpeg -f rawvideo -pix_fmt rgba -s 1280x720 -framerate 30 -i pipe:0 \\
        -c:v libvpx-vp9 -pix_fmt yuva420p cutout.webm
  # Numbered PNG masks, as rembg b -om does
  ffmpeg -i clip.mp4 -f rawvideo -pix_fmt rgb24 pipe:1 \\
    | u2cut frames 1280 720 --output-format mask -o masks/%06d.png
A video file goes straight through `u2cut remove clip.mp4 -o cutout.webm`.")]
pub struct FramesArgs {
    /// Width of each frame, in pixels
    #[arg(value_parser = clap::value_parser!(u32).range(1..=16384))]
    pub width: u32,
    /// Height of each frame, in pixels
    #[arg(value_parser = clap::value_parser!(u32).range(1..=16384))]
    pub height: u32,
    /// Write each frame to a numbered PNG file instead of stdout: a
    /// printf-style pattern, numbered from 0 (e.g. out/%06d.png)
    #[arg(short, long, value_name = "PATTERN")]
    pub output: Option<PathBuf>,
    /// What goes out: rgba (raw RGBA, straight alpha, the frame's colors
    /// unchanged), mask (raw 8-bit gray), png (PNG cutouts back to back);
    /// with -o, the files are PNG cutouts, or masks with `mask`
    #[arg(long, value_enum, default_value_t = OutputFormat::Rgba)]
    pub output_format: OutputFormat,
    #[command(flatten)]
    pub processing: Processing,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Rgba,
    Mask,
    Png,
}

pub fn run(global: &GlobalArgs, args: &FramesArgs) -> Result<()> {
    args.processing.check()?;
    let product = match args.output_format {
        OutputFormat::Mask => Product::Mask,
        OutputFormat::Rgba | OutputFormat::Png => Product::Cutout,
    };
    if product == Product::Mask
        && (args.processing.bg_color.is_some() || args.processing.bg_image.is_some())
    {
        bail_input!("--output-format mask writes masks: --bg-color and --bg-image do not apply");
    }
    let output = match &args.output {
        Some(pattern) => {
            let pattern = FramePattern::parse(pattern)?;
            u2cut::io::create_parent(&pattern.path(0))?;
            FrameOutput::Files(pattern)
        }
        None if std::io::stdout().is_terminal() => bail_input!(
            "refusing to write frames to a terminal: pipe stdout (`| ffmpeg ...`) or give -o PATTERN"
        ),
        None if args.output_format == OutputFormat::Png => FrameOutput::Png,
        None => FrameOutput::Raw,
    };
    let frames = RawFrames::new(std::io::stdin(), "stdin", args.width, args.height)?;
    let background = args.processing.background(&DecodeOptions::default())?;
    let remover = args.processing.remover(global, background, None, None)?;
    let steps = Frames { output };
    let mut stdout = std::io::stdout().lock();
    let streamed = stream::run(
        global,
        &remover,
        &args.processing.run_options(product),
        frames,
        &steps,
        None,
        |bytes| {
            stdout
                .write_all(bytes)
                .and_then(|()| stdout.flush())
                .map_err(|e| u2cut::Error::io("writing to stdout", e))
        },
    );
    match streamed.error {
        Some(err) => Err(err.into()),
        None => Ok(()),
    }
}
