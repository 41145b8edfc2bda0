//! u2cut's errors as Python exceptions: one class per [`u2cut::Error`]
//! variant, defined in python/u2cut/errors.py (where they can inherit from
//! the builtin that fits too, `ValueError`, `OSError`, `RuntimeError`),
//! with the message the command line prints.

use pyo3::prelude::*;

/// The exception class of `u2cut.errors` that stands for `error`'s kind.
fn class_name(error: &u2cut::Error) -> &'static str {
    use u2cut::Error::*;
    match error {
        Input(_) => "InputError",
        Limit(_) => "LimitError",
        Unsupported(_) => "UnsupportedError",
        NoAdapter(_) => "NoAdapterError",
        NoMatch(_) => "NoMatchError",
        NoWeights(_) => "NoWeightsError",
        Trimap(_) => "TrimapError",
        Io { .. } => "FileError",
        Gpu(_) => "GpuError",
    }
}

/// `error` as the Python exception of its kind.
pub fn to_py(error: u2cut::Error) -> PyErr {
    Python::attach(|py| match instance(py, &error) {
        Ok(exception) => PyErr::from_value(exception),
        Err(failed) => failed,
    })
}

/// An instance of `error`'s class, with its message.
pub fn instance<'py>(py: Python<'py>, error: &u2cut::Error) -> PyResult<Bound<'py, PyAny>> {
    py.import("u2cut.errors")?
        .getattr(class_name(error))?
        .call1((error.to_string(),))
}

/// `Result<T, u2cut::Error>` into a `PyResult`.
pub trait IntoPy<T> {
    fn py(self) -> PyResult<T>;
}

impl<T> IntoPy<T> for u2cut::Result<T> {
    fn py(self) -> PyResult<T> {
        self.map_err(to_py)
    }
}

/// The exception u2cut raises for a [`u2cut::Error`] variant named
/// `kind` ("Input", "Gpu", ...), for tests of the mapping: some kinds
/// (a lost device) cannot be brought about on purpose.
#[pyfunction]
pub fn exception_for(py: Python<'_>, kind: &str, message: String) -> PyResult<Py<PyAny>> {
    use u2cut::Error::*;
    let error = match kind {
        "Input" => Input(message),
        "Limit" => Limit(message),
        "Unsupported" => Unsupported(message),
        "NoAdapter" => NoAdapter(message),
        "NoMatch" => NoMatch(message),
        "NoWeights" => NoWeights(message),
        "Trimap" => Trimap(message),
        "Io" => u2cut::Error::io(message, std::io::ErrorKind::NotFound.into()),
        "Gpu" => Gpu(message),
        other => return Err(Input(format!("no error kind {other:?}"))).py(),
    };
    Ok(instance(py, &error)?.unbind())
}
