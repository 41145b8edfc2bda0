//! `u2cut._native.Remover`: the library's [`u2cut::Remover`] for Python,
//! on raw RGBA pixels (python/u2cut turns numpy arrays and PIL images into
//! them), on encoded images, and on files through the batch pipeline.
//! The GIL is released while images are decoded, run and encoded.

use std::path::PathBuf;

use image::RgbaImage;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes};
use u2cut::io::paths::{self, Job, OutputNaming};
use u2cut::io::{DecodeOptions, Format};
use u2cut::matting::{MattingOptions, TrimapOptions};
use u2cut::pipeline::{self, Files, Outcome};
use u2cut::remove::{Background, NeedsOpaque, Options, Product, Removed};
use u2cut::shard::Shard;
use u2cut::{Error, Result};

use crate::device::Device;
use crate::errors::{self, IntoPy as _};

#[pyclass(frozen, module = "u2cut._native")]
pub struct Remover {
    inner: u2cut::Remover,
}

/// One image out: width, height and its pixels (RGBA, or the 8-bit mask).
type Pixels = (u32, u32, Py<PyByteArray>);

/// One file's outcome: its index among the inputs (None for an input
/// refused before reading), the input, the output written, the error
/// (a `u2cut.errors` exception), a warning, and the image's size.
type FileOutcome = (
    Option<usize>,
    String,
    Option<PathBuf>,
    Option<Py<PyAny>>,
    Option<String>,
    Option<(u32, u32)>,
);

#[pymethods]
impl Remover {
    /// `matting`: rembg's alpha matting with (foreground threshold,
    /// background threshold, erode size), or None.
    #[new]
    #[pyo3(signature = (model, batch_size, adapter, precision, cpu, post_process, bgcolor, crop, matting))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        model: &str,
        batch_size: u32,
        adapter: Option<&str>,
        precision: &str,
        cpu: bool,
        post_process: bool,
        bgcolor: Option<[u8; 4]>,
        crop: Option<u32>,
        matting: Option<(u8, u8, u32)>,
    ) -> PyResult<Self> {
        if batch_size == 0 {
            return Err(Error::Input("batch_size must be at least 1".into())).py();
        }
        let device = Device {
            model,
            adapter,
            precision,
            cpu,
        };
        let net = device.open(py)?;
        let options = Options {
            background: bgcolor.map_or(Background::Transparent, Background::Color),
            post_process,
            crop,
            batch_size,
            matting: matting.map(|(fg_threshold, bg_threshold, erode_size)| MattingOptions {
                trimap: TrimapOptions {
                    fg_threshold,
                    bg_threshold,
                    erode_size,
                },
                ..MattingOptions::default()
            }),
        };
        Ok(Self {
            inner: u2cut::Remover::new(net, options),
        })
    }

    /// The adapter in use, or "cpu".
    #[getter]
    fn device(&self) -> String {
        self.inner
            .network()
            .context()
            .map_or_else(|| "cpu".to_owned(), |ctx| ctx.describe())
    }

    /// Images as (width, height, RGBA bytes): cutouts (RGBA) or masks.
    fn process(
        &self,
        py: Python<'_>,
        images: Vec<(u32, u32, Vec<u8>)>,
        mask: bool,
    ) -> PyResult<Vec<Pixels>> {
        let images = images
            .into_iter()
            .enumerate()
            .map(|(i, (w, h, rgba))| {
                RgbaImage::from_raw(w, h, rgba)
                    .ok_or_else(|| Error::Input(format!("image {i}: not {w}x{h} RGBA bytes")))
            })
            .collect::<Result<Vec<_>>>()
            .py()?;
        let removed = py
            .detach(|| self.inner.process(&images, product(mask)))
            .py()?;
        Ok(removed
            .into_iter()
            .map(|r| {
                let out = r.into_image();
                let (w, h) = (out.width(), out.height());
                (w, h, PyByteArray::new(py, out.as_bytes()).unbind())
            })
            .collect())
    }

    /// Encoded images (any format u2cut reads) to PNGs, as `u2cut remove`
    /// writes them.
    fn process_encoded(
        &self,
        py: Python<'_>,
        data: Vec<Vec<u8>>,
        mask: bool,
    ) -> PyResult<Vec<Py<PyBytes>>> {
        let pngs = py.detach(|| -> Result<Vec<Vec<u8>>> {
            let images = data
                .into_iter()
                .enumerate()
                .map(|(i, bytes)| {
                    u2cut::io::decode_bytes(bytes, &DecodeOptions::default())
                        .map(|d| d.image)
                        .map_err(|e| e.context(format_args!("image {i}")))
                })
                .collect::<Result<Vec<_>>>()?;
            let removed = self.inner.process(&images, product(mask))?;
            removed.into_iter().map(png).collect()
        });
        Ok(pngs
            .py()?
            .into_iter()
            .map(|b| PyBytes::new(py, &b).unbind())
            .collect())
    }

    /// Files and folders through the batch pipeline into `out_dir` (made if
    /// missing), each output named as `u2cut remove -o OUT_DIR` names it.
    /// One outcome per input; a bad input is an outcome, not an exception.
    #[pyo3(signature = (inputs, out_dir, format, mask, threads))]
    fn remove_files(
        &self,
        py: Python<'_>,
        inputs: Vec<PathBuf>,
        out_dir: PathBuf,
        format: &str,
        mask: bool,
        threads: Option<usize>,
    ) -> PyResult<Vec<FileOutcome>> {
        let format = <Format as clap::ValueEnum>::from_str(format, true)
            .map_err(|_| Error::Input(format!("format={format:?}: expected png, webp or jpg")))
            .py()?;
        self.check_alpha(format, mask).py()?;
        std::fs::create_dir_all(&out_dir)
            .map_err(|e| Error::io(format!("creating {}", out_dir.display()), e))
            .py()?;
        let naming = OutputNaming {
            output: Some(out_dir),
            format,
            suffix: "",
        };
        let list = paths::plan(&inputs, &naming, Shard::ALL).py()?;
        let mut outcomes: Vec<FileOutcome> = Vec::new();
        for (input, error) in list.refused {
            outcomes.push((None, input, None, Some(exception(py, &error)?), None, None));
        }
        let defaults = pipeline::Options::default();
        let options = pipeline::Options {
            product: product(mask),
            threads: threads.unwrap_or(defaults.threads).max(1),
            ordered: true,
            ..defaults
        };
        let files = Files {
            decode: DecodeOptions::default(),
            format,
            quality: 90,
        };
        let total = list.jobs.len();
        let mut events = Vec::with_capacity(total);
        let jobs = list.jobs;
        let summary = py.detach(|| {
            pipeline::run(&self.inner, &options, jobs.iter().cloned(), &files, |e| {
                events.push(e)
            })
        });
        let mut seen = vec![false; total];
        for e in events {
            seen[e.index] = true;
            let (output, error, warning) = match e.outcome {
                Outcome::Done { warning, .. } => (output_of(&e.item), None, warning),
                Outcome::BadInput(err) | Outcome::Failed(err) => (None, Some(err), None),
            };
            let error = error.map(|err| exception(py, &err)).transpose()?;
            outcomes.push((Some(e.index), e.item.name(), output, error, warning, e.size));
        }
        // Inputs a GPU failure stopped the run before: failed with it.
        if let Some(stopped) = &summary.stopped {
            for (i, job) in jobs.iter().enumerate().filter(|(i, _)| !seen[*i]) {
                let error = exception(py, stopped)?;
                outcomes.push((Some(i), job.name(), None, Some(error), None, None));
            }
        }
        Ok(outcomes)
    }
}

impl Remover {
    /// JPEG has no alpha: a cutout needs an opaque background to be one
    /// (`Background::fits`), said in this API's option names.
    fn check_alpha(&self, format: Format, mask: bool) -> Result<()> {
        let why = match self.inner.options().background.fits(format, product(mask)) {
            Ok(()) => return Ok(()),
            Err(NeedsOpaque::Translucent) => {
                "JPEG has no alpha channel: bgcolor needs an opaque color (alpha 255) for jpg"
            }
            Err(NeedsOpaque::Transparent) => {
                "JPEG has no alpha channel: give bgcolor=(R, G, B, 255) for a jpg cutout, \
                 or only_mask=True"
            }
        };
        Err(Error::Input(why.into()))
    }
}

fn product(mask: bool) -> Product {
    if mask { Product::Mask } else { Product::Cutout }
}

/// The PNG `u2cut remove` writes for a result.
fn png(removed: Removed) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    u2cut::io::encode::encode(&mut out, &removed.into_image(), Format::Png, 90)?;
    Ok(out)
}

fn output_of(job: &Job) -> Option<PathBuf> {
    match &job.sink {
        paths::Sink::File(path) => Some(path.clone()),
        paths::Sink::Stdout => None,
    }
}

fn exception(py: Python<'_>, error: &Error) -> PyResult<Py<PyAny>> {
    Ok(errors::instance(py, error)?.unbind())
}
