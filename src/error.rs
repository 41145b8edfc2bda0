//! The library's error type: one variant per thing a caller may need to
//! tell apart (a bad input against a failing GPU, a refused adapter, a
//! trimap with nothing to solve). Context is prepended to the message and
//! keeps the variant, so `match` still sees what went wrong after any
//! number of [`ResultExt::context`] calls.

use std::fmt::Display;

/// What went wrong, as callers branch on it. The message names the input
/// and the problem; `{}` prints it whole.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An input cannot be used: an unreadable or malformed image, tensor,
    /// weights or cache file, a wrong shape, an unknown name.
    #[error("{0}")]
    Input(String),
    /// An input is valid but over a limit: pixels, a binding's size, the
    /// workgroup grid.
    #[error("{0}")]
    Limit(String),
    /// The adapter or build cannot run what was asked (a kernel, f16, a
    /// feature).
    #[error("{0}")]
    Unsupported(String),
    /// No GPU adapter exists (callers may fall back to the CPU).
    #[error("{0}")]
    NoAdapter(String),
    /// A named adapter matched none of those present.
    #[error("{0}")]
    NoMatch(String),
    /// A preset model's weights are not installed.
    #[error("{0}")]
    NoWeights(String),
    /// A trimap with no unknown pixels, or none known: nothing to solve.
    #[error("{0}")]
    Trimap(String),
    /// Reading or writing a file or stream. (Not `source`: the message
    /// has it already, and a chain printed whole would say it twice.)
    #[error("{message}: {error}")]
    Io {
        message: String,
        error: std::io::Error,
    },
    /// The GPU failed: device lost, out of memory, a pipeline or a map.
    #[error("{0}")]
    Gpu(String),
}

/// The library's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The same error with `context` in front of its message.
    pub fn context(self, context: impl Display) -> Self {
        let prefix = |m: String| format!("{context}: {m}");
        match self {
            Error::Input(m) => Error::Input(prefix(m)),
            Error::Limit(m) => Error::Limit(prefix(m)),
            Error::Unsupported(m) => Error::Unsupported(prefix(m)),
            Error::NoAdapter(m) => Error::NoAdapter(prefix(m)),
            Error::NoMatch(m) => Error::NoMatch(prefix(m)),
            Error::NoWeights(m) => Error::NoWeights(prefix(m)),
            Error::Trimap(m) => Error::Trimap(prefix(m)),
            Error::Gpu(m) => Error::Gpu(prefix(m)),
            Error::Io { message, error } => Error::Io {
                message: prefix(message),
                error,
            },
        }
    }

    /// An I/O failure while `message` (e.g. "reading photo.jpg").
    pub fn io(message: impl Display, source: std::io::Error) -> Self {
        Error::Io {
            message: message.to_string(),
            error: source,
        }
    }

    /// Whether the caller's input is at fault (bad data or over a limit),
    /// as opposed to the machine: what decides exit code 2 against 1.
    pub fn is_input(&self) -> bool {
        matches!(
            self,
            Error::Input(_)
                | Error::Limit(_)
                | Error::NoMatch(_)
                | Error::NoWeights(_)
                | Error::Trimap(_)
        )
    }
}

/// `context` for results, as anyhow has it, keeping the variant.
pub trait ResultExt<T> {
    fn context(self, context: impl Display) -> Result<T>;
    fn with_context<C: Display>(self, context: impl FnOnce() -> C) -> Result<T>;
}

impl<T, E: Into<Error>> ResultExt<T> for std::result::Result<T, E> {
    fn context(self, context: impl Display) -> Result<T> {
        self.map_err(|e| e.into().context(context))
    }

    fn with_context<C: Display>(self, context: impl FnOnce() -> C) -> Result<T> {
        self.map_err(|e| e.into().context(context()))
    }
}

/// Turns a driver's error into [`Error::Gpu`] with what was being done.
pub(crate) trait GpuResultExt<T> {
    fn gpu(self, doing: &str) -> Result<T>;
}

impl<T, E: Display> GpuResultExt<T> for std::result::Result<T, E> {
    fn gpu(self, doing: &str) -> Result<T> {
        self.map_err(|e| Error::Gpu(format!("{doing}: {e}")))
    }
}

/// Returns `Err(Error::$kind(format!(...)))`.
macro_rules! bail {
    ($kind:ident, $($arg:tt)*) => {
        return Err($crate::Error::$kind(format!($($arg)*)))
    };
}

/// Returns `Err(Error::$kind(format!(...)))` unless `$cond` holds (a NaN
/// fails `x > 0.0`, which is why the negation is not simplified).
macro_rules! ensure {
    ($cond:expr, $kind:ident, $($arg:tt)*) => {
        #[allow(clippy::neg_cmp_op_on_partial_ord)]
        if !$cond {
            $crate::error::bail!($kind, $($arg)*);
        }
    };
}

pub(crate) use {bail, ensure};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_keeps_the_variant_and_prefixes_the_message() {
        let e: Result<()> = Err(Error::Trimap("no unknown pixels".into()));
        let e = e.context("photo.png").unwrap_err();
        assert!(matches!(e, Error::Trimap(_)));
        assert!(e.is_input());
        assert_eq!(e.to_string(), "photo.png: no unknown pixels");
        let io = Error::io("reading a.png", std::io::ErrorKind::NotFound.into()).context("job 3");
        assert!(!io.is_input());
        assert!(io.to_string().starts_with("job 3: reading a.png: "));
    }
}
