//! `u2cut infer`: the network's seven raw outputs d0..d6 as .npy files, for
//! a prepared input tensor or for images preprocessed like rembg.

use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, Result, ensure};
use clap::Args;
use npyz::WriterBuilder as _;
use rayon::prelude::*;

use super::{
    GlobalArgs, InputContext as _, Size, bail_input, ensure_out_dir, load_model, note, open_network,
};
use u2cut::io::npy::{self, Tensor};
use u2cut::preprocess;

#[derive(Debug, Args)]
#[command(after_help = "\
Outputs (float32 .npy, shape (N, 1, H, W), values in [0, 1]; N in input order):
  DIR/d0.npy        the fused output (what background removal uses)
  DIR/d1..d6.npy    the side outputs, upsampled to H x W
  DIR/inputs.txt    the images, one per line (image mode only)
  DIR/input.npy     the network input (N, 3, H, W), with --save-input
Each file is written to a temporary file in DIR and renamed when complete.")]
pub struct InferArgs {
    /// Images to run: decoded with EXIF orientation, RGB (alpha dropped),
    /// Lanczos-resized to --size, normalized like rembg
    #[arg(
        value_name = "IMAGE",
        required_unless_present = "input_tensor",
        conflicts_with = "input_tensor"
    )]
    pub images: Vec<PathBuf>,
    /// Run this float32 .npy of shape (N, 3, H, W), C order, already normalized, instead of images
    #[arg(long, value_name = "X.npy")]
    pub input_tensor: Option<PathBuf>,
    /// Directory for d0.npy .. d6.npy; created if missing
    #[arg(long, short, value_name = "DIR")]
    pub out_dir: PathBuf,
    /// Model: u2netp (built in), u2net (the model folder: tools/fetch_model.sh), or a .safetensors file
    #[arg(long, short, default_value = "u2netp", value_name = "NAME|PATH")]
    pub model: String,
    /// Network input size for images: S (S x S) or WxH
    #[arg(
        long,
        short,
        default_value = "320",
        value_name = "S|WxH",
        conflicts_with = "input_tensor"
    )]
    pub size: Size,
    /// Images per network call, at most [default: all of them]
    #[arg(long, short, value_name = "B", value_parser = clap::value_parser!(u32).range(1..))]
    pub batch_size: Option<u32>,
    /// Also write the network input as DIR/input.npy (e.g. to compare preprocessing with rembg)
    #[arg(long)]
    pub save_input: bool,
}

/// Reads `--input-tensor`: see [`npy::read_nchw`]; every error names the file.
fn read_input_tensor(path: &Path) -> Result<Tensor> {
    let name = path.display();
    let bytes = std::fs::read(path).input_context(|| format!("--input-tensor {name}"))?;
    npy::read_nchw(&bytes, Size::MAX_SIDE).input_context(|| name.to_string())
}

/// A float32 .npy being written to a temporary file in its final directory;
/// [`NpyOut::persist`] renames it into place.
struct NpyOut {
    path: PathBuf,
    writer: npyz::NpyWriter<f32, BufWriter<File>>,
    temp: tempfile::TempPath,
}

impl NpyOut {
    fn create(path: PathBuf, shape: &[u64]) -> Result<Self> {
        let (file, temp) = u2cut::io::temp_file_for(&path)?;
        let writer = npyz::WriteOptions::new()
            .default_dtype()
            .shape(shape)
            .writer(BufWriter::new(file))
            .begin_nd()
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(Self { path, writer, temp })
    }

    fn extend(&mut self, values: &[f32]) -> Result<()> {
        self.writer
            .extend(values.iter().copied())
            .with_context(|| format!("writing {}", self.path.display()))
    }

    /// Checks the element count, flushes, and renames into place.
    fn persist(self) -> Result<()> {
        let Self { path, writer, temp } = self;
        writer
            .finish()
            .with_context(|| format!("writing {}", path.display()))?;
        temp.persist(&path)
            .with_context(|| format!("renaming into {}", path.display()))?;
        Ok(())
    }
}

/// Writes a small text file atomically.
fn write_text(path: &Path, text: &str) -> Result<()> {
    u2cut::io::write_atomic(path, |out| {
        out.write_all(text.as_bytes())
            .with_context(|| format!("writing {}", path.display()))
    })
}

/// Where the batches come from.
enum Source {
    Tensor(Tensor),
    Images { paths: Vec<PathBuf>, size: Size },
}

impl Source {
    fn count(&self) -> u32 {
        match self {
            Source::Tensor(t) => t.n,
            Source::Images { paths, .. } => paths.len() as u32,
        }
    }

    fn size(&self) -> (u32, u32) {
        match self {
            Source::Tensor(t) => (t.height, t.width),
            Source::Images { size, .. } => (size.height, size.width),
        }
    }

    /// Images `first .. first + count`, NCHW, normalized.
    fn batch(&self, global: &GlobalArgs, first: u32, count: u32) -> Result<Vec<f32>> {
        let (first, end) = (first as usize, (first + count) as usize);
        match self {
            Source::Tensor(t) => {
                let per_image = 3 * t.height as usize * t.width as usize;
                Ok(t.data[first * per_image..end * per_image].to_vec())
            }
            Source::Images { paths, size } => {
                let planes: Vec<Vec<f32>> = paths[first..end]
                    .par_iter()
                    .map(|p| {
                        let img = super::load_rgb8(global, p)?;
                        Ok(preprocess::normalize(&img, size.width, size.height))
                    })
                    .collect::<Result<_>>()?;
                Ok(planes.concat())
            }
        }
    }
}

pub fn run(global: &GlobalArgs, args: &InferArgs) -> Result<()> {
    let start = Instant::now();
    // Inputs first: a bad input is reported before any model or GPU work.
    let source = match &args.input_tensor {
        Some(path) => Source::Tensor(read_input_tensor(path)?),
        None => {
            for p in &args.images {
                if !p.is_file() {
                    if p.exists() {
                        bail_input!("{}: not a file", p.display());
                    }
                    bail_input!("{}: no such file", p.display());
                }
            }
            Source::Images {
                paths: args.images.clone(),
                size: args.size,
            }
        }
    };
    let n = source.count();
    let (height, width) = source.size();
    // The first batch is decoded before any output or GPU work, so that bad images
    // in it are reported at once.
    let batch = args.batch_size.unwrap_or(n).min(n);
    let mut next = Some(source.batch(global, 0, batch)?);
    let model = Arc::new(load_model(&args.model)?);

    ensure_out_dir(&args.out_dir)?;
    let shape = [u64::from(n), 1, u64::from(height), u64::from(width)];
    let mut outs = (0..7)
        .map(|d| NpyOut::create(args.out_dir.join(format!("d{d}.npy")), &shape))
        .collect::<Result<Vec<_>>>()?;
    let mut input_out = if args.save_input {
        let shape = [u64::from(n), 3, u64::from(height), u64::from(width)];
        Some(NpyOut::create(args.out_dir.join("input.npy"), &shape)?)
    } else {
        None
    };

    let net = open_network(global, model)?;
    let mut first = 0;
    while first < n {
        let count = batch.min(n - first);
        let input = match next.take() {
            Some(input) => input,
            None => source.batch(global, first, count)?,
        };
        if let Some(out) = &mut input_out {
            out.extend(&input)?;
        }
        let maps = net
            .infer(&input, count, height, width)
            .with_context(|| format!("running images {first}..{}", first + count))?;
        ensure!(
            maps.maps.len() == 7,
            "the network returned {} maps",
            maps.maps.len()
        );
        for (out, map) in outs.iter_mut().zip(&maps.maps) {
            out.extend(map)?;
        }
        first += count;
        if n > batch {
            note(global, format_args!("{first}/{n} images"));
        }
    }

    for out in outs.into_iter().chain(input_out) {
        out.persist()?;
    }
    if let Source::Images { paths, .. } = &source {
        let list: String = paths.iter().map(|p| format!("{}\n", p.display())).collect();
        write_text(&args.out_dir.join("inputs.txt"), &list)?;
    }
    note(
        global,
        format_args!(
            "wrote d0..d6.npy ({n} x 1 x {height} x {width}) to {} in {:.2} s",
            args.out_dir.display(),
            start.elapsed().as_secs_f64()
        ),
    );
    Ok(())
}
