//! Finding ffmpeg's programs and running them with their stderr kept: an
//! ffmpeg that fails says why only there.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, ExitStatus};
use std::thread::JoinHandle;

use crate::error::{Error, Result};

/// One of ffmpeg's programs, found on `PATH`.
#[derive(Clone, Debug)]
pub struct Program {
    pub path: PathBuf,
}

/// Finds `name` (`ffmpeg`, `ffprobe`) on `PATH`, or says how to install it.
pub fn find(name: &str) -> Result<Program> {
    let found = std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p));
    found.map(|path| Program { path }).ok_or_else(|| {
        Error::Unsupported(format!(
            "{name} is not on PATH: u2cut reads and writes video files with the ffmpeg \
             programs; install them (Debian, Ubuntu: apt-get install ffmpeg; Fedora: dnf \
             install ffmpeg; macOS: brew install ffmpeg), or pipe raw frames to `u2cut frames`"
        ))
    })
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        path.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

/// The last of a program's stderr, read as it runs (so a chatty program
/// never blocks on a full pipe) and kept for its error message.
pub(super) struct Stderr(JoinHandle<String>);

/// How much of a program's stderr an error message quotes, at most.
const STDERR_KEPT: usize = 4000;

impl Stderr {
    pub(super) fn collect(child: &mut Child) -> Self {
        let mut pipe: ChildStderr = child.stderr.take().expect("stderr piped");
        Self(std::thread::spawn(move || {
            let mut all = Vec::new();
            let mut buf = [0; 8192];
            while let Ok(n @ 1..) = pipe.read(&mut buf) {
                all.extend_from_slice(&buf[..n]);
                if all.len() > 2 * STDERR_KEPT {
                    all.drain(..all.len() - STDERR_KEPT);
                }
            }
            let text = String::from_utf8_lossy(&all);
            let start = text.len().saturating_sub(STDERR_KEPT);
            let start = (start..text.len())
                .find(|&i| text.is_char_boundary(i))
                .unwrap_or(0);
            text[start..].trim().to_owned()
        }))
    }

    /// What the program wrote, once it has exited.
    pub(super) fn text(self) -> String {
        self.0.join().unwrap_or_default()
    }
}

/// Waits for `child`; an error saying why if it failed, quoting its
/// stderr.
pub(super) fn wait(
    child: &mut Child,
    stderr: Stderr,
    what: impl std::fmt::Display,
) -> Result<std::result::Result<(), String>> {
    let status = child
        .wait()
        .map_err(|e| Error::io(format_args!("waiting for {what}"), e))?;
    Ok(status_ok(status, stderr, what))
}

/// `Err(why)` if a program that ended with `status` failed, quoting its
/// stderr.
pub(super) fn status_ok(
    status: ExitStatus,
    stderr: Stderr,
    what: impl std::fmt::Display,
) -> std::result::Result<(), String> {
    let text = stderr.text();
    if status.success() {
        Ok(())
    } else if text.is_empty() {
        Err(format!("{what} failed ({status})"))
    } else {
        Err(format!("{what} failed ({status}): {text}"))
    }
}
