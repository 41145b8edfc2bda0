//! A clip's frames decoded by ffmpeg to raw rgb24 on a pipe.

use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};

use super::Program;
use super::program::{Stderr, wait};
use crate::error::{Error, Result};

/// An ffmpeg decoding a clip's first video stream: every frame as the
/// container has it (none dropped or repeated for a constant rate),
/// upright, as rgb24.
pub struct Decoder {
    child: Child,
    stderr: Stderr,
    input: PathBuf,
}

impl Decoder {
    /// Starts decoding `input`; read the frames from the returned pipe.
    pub fn spawn(ffmpeg: &Program, input: &Path) -> Result<(Self, ChildStdout)> {
        let mut child = Command::new(&ffmpeg.path)
            .args(["-nostdin", "-hide_banner", "-v", "error", "-i"])
            .arg(input)
            .args(["-map", "0:v:0", "-fps_mode", "passthrough"])
            .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Error::io(format_args!("running {}", ffmpeg.path.display()), e))?;
        let stdout = child.stdout.take().expect("stdout piped");
        let stderr = Stderr::collect(&mut child);
        let decoder = Self {
            child,
            stderr,
            input: input.to_owned(),
        };
        Ok((decoder, stdout))
    }

    /// Waits for ffmpeg to end (stop it first with `kill` if its frames
    /// are no longer read); an error if it failed to decode.
    pub fn finish(mut self) -> Result<()> {
        let what = format!("ffmpeg decoding {}", self.input.display());
        wait(&mut self.child, self.stderr, what)?.map_err(Error::Input)
    }

    /// Stops ffmpeg (the run ended before its frames did).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
    }
}
