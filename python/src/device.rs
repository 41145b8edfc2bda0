//! Where a Python object's network runs: the adapter asked for (or the
//! best one), else the CPU references with a warning, as the command line
//! decides; `cpu=True` asks for the CPU.

use std::sync::Arc;

use pyo3::exceptions::PyUserWarning;
use pyo3::prelude::*;
use u2cut::gpu::{AdapterChoice, GpuContext, Precision, REQUIRE_GPU_ENV, gpu_required};
use u2cut::model::LoadOptions;
use u2cut::{Error, Model, Network};

use crate::errors::IntoPy as _;

/// How a network is opened: the Python constructors' keyword arguments.
pub struct Device<'a> {
    pub model: &'a str,
    pub adapter: Option<&'a str>,
    pub precision: &'a str,
    pub cpu: bool,
}

impl Device<'_> {
    /// The model loaded and bound to the GPU (or the CPU), with the tuning
    /// cache the command line uses.
    pub fn open(&self, py: Python<'_>) -> PyResult<Network> {
        let precision = <Precision as clap::ValueEnum>::from_str(self.precision, true)
            .map_err(|_| {
                Error::Input(format!(
                    "precision={:?}: expected \"f32\" or \"f16\"",
                    self.precision
                ))
            })
            .py()?;
        let model = Arc::new(Model::resolve(self.model, LoadOptions::default()).py()?);
        let Some(ctx) = self.gpu(py)? else {
            if precision != Precision::F32 {
                warn(
                    py,
                    "precision applies to the GPU; the CPU reference computes in f32",
                )?;
            }
            return Ok(Network::cpu(model));
        };
        let net = Network::gpu(&ctx, model).with_precision(precision).py()?;
        let (net, unusable) = net.with_default_tuning();
        if let Some(e) = unusable {
            warn(py, &format!("{e}; using the default conv kernels"))?;
        }
        Ok(net)
    }

    /// The adapter, or None for the CPU: asked for, or no adapter at all
    /// (unless U2CUT_REQUIRE_GPU=1).
    fn gpu(&self, py: Python<'_>) -> PyResult<Option<GpuContext>> {
        if self.cpu {
            return Ok(None);
        }
        let choice = AdapterChoice::from_flag_or_env(self.adapter);
        match py.detach(|| GpuContext::new(&choice)) {
            Ok(ctx) => {
                if let Some(w) = &ctx.pipeline_cache_warning {
                    warn(py, w)?;
                }
                Ok(Some(ctx))
            }
            Err(Error::NoAdapter(why)) if !gpu_required() => {
                warn(py, &format!("{why}; running on the CPU reference (slow)"))?;
                Ok(None)
            }
            Err(Error::NoAdapter(why)) => Err(Error::NoAdapter(format!(
                "{why}; {REQUIRE_GPU_ENV}=1 forbids falling back to the CPU"
            )))
            .py(),
            Err(e) => Err(e).py(),
        }
    }
}

/// A Python `UserWarning` (shown once per place, as warnings are).
fn warn(py: Python<'_>, message: &str) -> PyResult<()> {
    let category = py.get_type::<PyUserWarning>();
    PyErr::warn(py, &category, &std::ffi::CString::new(message)?, 1)
}
