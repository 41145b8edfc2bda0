//! `u2cut._native.Network`: the bare network for research use, as `u2cut
//! infer --input-tensor` runs it: normalized NCHW float32 in at any size,
//! the seven side outputs d0..d6 out.

use pyo3::prelude::*;
use pyo3::types::PyByteArray;

use crate::device::Device;
use crate::errors::IntoPy as _;

#[pyclass(frozen, module = "u2cut._native")]
pub struct Network {
    inner: u2cut::Network,
}

#[pymethods]
impl Network {
    #[new]
    #[pyo3(signature = (model, adapter, precision, cpu))]
    fn new(
        py: Python<'_>,
        model: &str,
        adapter: Option<&str>,
        precision: &str,
        cpu: bool,
    ) -> PyResult<Self> {
        let device = Device {
            model,
            adapter,
            precision,
            cpu,
        };
        Ok(Self {
            inner: device.open(py)?,
        })
    }

    /// The adapter in use, or "cpu".
    #[getter]
    fn device(&self) -> String {
        self.inner
            .context()
            .map_or_else(|| "cpu".to_owned(), |ctx| ctx.describe())
    }

    /// `input`: n x 3 x height x width float32 values in native byte order.
    /// Returns d0..d6, each n x height x width float32 values.
    fn infer(
        &self,
        py: Python<'_>,
        input: Vec<u8>,
        n: u32,
        height: u32,
        width: u32,
    ) -> PyResult<Vec<Py<PyByteArray>>> {
        let values: Vec<f32> = input
            .chunks_exact(4)
            .map(|b| f32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let out = py
            .detach(|| self.inner.infer(&values, n, height, width))
            .py()?;
        Ok(out
            .maps
            .iter()
            .map(|map| {
                let bytes: Vec<u8> = map.iter().flat_map(|v| v.to_ne_bytes()).collect();
                PyByteArray::new(py, &bytes).unbind()
            })
            .collect())
    }
}
