//! The flags that say how each image is processed, whatever it comes from:
//! `u2cut remove`'s files and videos and `u2cut frames`' raw stream share
//! them, and they make the [`Remover`] and the pipeline's options.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Result;
use clap::Args;
use u2cut::Remover;
use u2cut::io::DecodeOptions;
use u2cut::matting::{CfOptions, GuidedOptions, MattingOptions, Method, TrimapOptions};
use u2cut::pipeline;
use u2cut::remove::{Background, DEFAULT_BATCH, Options, Product};

use super::super::{GlobalArgs, InputContext as _, bail_input, load_model, open_network};
use super::parse_color;

#[derive(Debug, Args)]
pub struct Processing {
    /// Model: u2netp (built in), u2net (the model folder: tools/fetch_model.sh), or a .safetensors file
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

impl Processing {
    /// Refuses flags that only make sense with others.
    pub fn check(&self) -> Result<()> {
        let tuned = self.matting_fg_threshold.is_some()
            || self.matting_bg_threshold.is_some()
            || self.matting_erode.is_some()
            || self.matting_max_iterations.is_some();
        if tuned && !self.alpha_matting {
            bail_input!("--matting-* options tune alpha matting: add -a/--alpha-matting");
        }
        Ok(())
    }

    /// rembg's `-a` with the thresholds of the command line, or the guided filter.
    fn matting(&self) -> Option<MattingOptions> {
        Refining {
            alpha_matting: self.alpha_matting,
            guided: self.refine.is_some(),
            fg_threshold: self.matting_fg_threshold,
            bg_threshold: self.matting_bg_threshold,
            erode: self.matting_erode,
            max_iterations: self.matting_max_iterations,
        }
        .options()
    }

    /// What is under the subject: `--bg-color`, `--bg-image` (decoded with
    /// `decode`'s limits), or transparency.
    pub fn background(&self, decode: &DecodeOptions) -> Result<Background> {
        Ok(match (&self.bg_color, &self.bg_image) {
            (Some(c), _) => Background::Color(*c),
            (None, Some(path)) => {
                let bg = u2cut::io::decode_file(path, decode)
                    .input_context(|| format!("--bg-image {}", path.display()))?;
                Background::Image(Arc::new(bg.image))
            }
            (None, None) => Background::Transparent,
        })
    }

    /// Loads the model, opens the GPU (or the CPU) and makes the remover;
    /// its batch is no larger than `total` inputs, when that is known (a
    /// plan's buffers are sized for its batch).
    pub fn remover(
        &self,
        global: &GlobalArgs,
        background: Background,
        crop: Option<u32>,
        total: Option<usize>,
    ) -> Result<Remover> {
        let model = Arc::new(load_model(&self.model)?);
        let net = open_network(global, model)?;
        let total = total.unwrap_or(usize::MAX).clamp(1, u32::MAX as usize) as u32;
        Ok(Remover::new(
            net,
            Options {
                background,
                post_process: self.post_process,
                crop,
                batch_size: self.batch_size.min(total),
                matting: self.matting(),
            },
        ))
    }

    /// The pipeline's options for making `product`.
    pub fn run_options(&self, product: Product) -> pipeline::Options {
        let defaults = pipeline::Options::default();
        pipeline::Options {
            product,
            threads: self.jobs.map_or(defaults.threads, |j| j as usize),
            ..defaults
        }
    }
}

/// How a mask is refined: rembg's `-a` with its thresholds, or the
/// guided filter; from the command line's flags or a server request's
/// fields.
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
