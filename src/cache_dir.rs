//! u2cut's cache folder, which holds what later runs reuse: the tuning
//! cache and the drivers' compiled pipelines.

use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Names the cache folder, overriding the default.
pub const CACHE_DIR_ENV: &str = "U2CUT_CACHE_DIR";

/// `U2CUT_CACHE_DIR`, else `$XDG_CACHE_HOME/u2cut`, else `~/.cache/u2cut`;
/// None if none of them is set.
pub fn cache_dir() -> Option<PathBuf> {
    user_dir(CACHE_DIR_ENV, "XDG_CACHE_HOME", ".cache", "u2cut")
}

/// A per-user folder the XDG way: `$over` if set, else `$xdg/sub`, else
/// `~/home_default/sub`; None if none of them is set.
pub(crate) fn user_dir(over: &str, xdg: &str, home_default: &str, sub: &str) -> Option<PathBuf> {
    let env = |k| std::env::var_os(k).filter(|v| !v.is_empty());
    if let Some(dir) = env(over) {
        return Some(dir.into());
    }
    let base = env(xdg)
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|h| Path::new(&h).join(home_default)))?;
    Some(base.join(sub))
}

/// Writes `bytes` to `path` (creating its folder) through a temporary file
/// renamed over it, so that a concurrent reader (shards on one machine)
/// never sees half a file. `what` names the file in the error.
pub fn write_atomically(path: &Path, bytes: &[u8], what: &str) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let write = || -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        std::io::Write::write_all(&mut tmp, bytes)?;
        tmp.persist(path)?;
        Ok(())
    };
    write().map_err(|e| Error::io(format!("writing {what} {}", path.display()), e))
}
