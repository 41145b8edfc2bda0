//! u2cut's Python extension module, `u2cut._native`: the library's
//! remover, network and benchmark on bytes and raw pixels. The package
//! around it (python/u2cut) is the public interface: numpy arrays and
//! PIL images in and out, rembg's keyword names, the exception classes.

mod bench;
mod device;
mod errors;
mod network;
mod remover;

use pyo3::prelude::*;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<remover::Remover>()?;
    m.add_class::<network::Network>()?;
    m.add_function(wrap_pyfunction!(bench::bench, m)?)?;
    m.add_function(wrap_pyfunction!(errors::exception_for, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
