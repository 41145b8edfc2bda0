//! `u2cut._native.bench`: `u2cut bench --json` as a function.

use pyo3::prelude::*;
use u2cut::Error;

use crate::device::Device;
use crate::errors::IntoPy as _;

/// The report's JSON (the fields of `u2cut bench --json`).
#[pyfunction]
#[pyo3(signature = (model, size, batch, iters, precision, adapter, tune))]
#[allow(clippy::too_many_arguments)]
pub fn bench(
    py: Python<'_>,
    model: &str,
    size: u32,
    batch: u32,
    iters: u32,
    precision: &str,
    adapter: Option<&str>,
    tune: bool,
) -> PyResult<String> {
    if size == 0 || batch == 0 || iters == 0 {
        return Err(Error::Input(
            "size, batch and iters must be at least 1".into(),
        ))
        .py();
    }
    let device = Device {
        model,
        adapter,
        precision,
        cpu: false,
    };
    // Without an adapter the library refuses: UnsupportedError.
    let net = device.open(py)?;
    let report = py.detach(|| -> u2cut::Result<_> {
        let tuning = tune.then(|| net.tune(size, size, batch)).transpose()?;
        let mut report = u2cut::bench::run(&net, size, batch, iters)?;
        report.tuning = tuning;
        Ok(report)
    });
    serde_json::to_string(&report.py()?)
        .map_err(|e| Error::Input(format!("the bench report: {e}")))
        .py()
}
