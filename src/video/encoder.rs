//! Raw frames encoded by ffmpeg into a clip, written to a temporary file
//! beside the output and renamed onto it once complete, as images are.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};

use super::program::{Stderr, status_ok, wait};
use super::{Program, Rate};
use crate::error::{Error, Result, bail};
use crate::io::{persist, temp_file_for};

/// The clip formats written, and how.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Container {
    /// VP9, with alpha (yuva420p) when the frames have it.
    Webm,
    /// ProRes 4444, with alpha when the frames have it.
    Mov,
    /// H.264: no alpha.
    Mp4,
}

impl Container {
    /// The container `path`'s extension names, if any.
    pub fn from_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "webm" => Some(Self::Webm),
            "mov" => Some(Self::Mov),
            "mp4" => Some(Self::Mp4),
            _ => None,
        }
    }

    pub fn has_alpha(self) -> bool {
        self != Self::Mp4
    }

    fn muxer(self) -> &'static str {
        match self {
            Self::Webm => "webm",
            Self::Mov => "mov",
            Self::Mp4 => "mp4",
        }
    }

    /// ffmpeg's video codec arguments for frames of this size, with or
    /// without alpha (`gray`: a mask).
    fn video_args(self, alpha: bool, width: u32, height: u32) -> Vec<&'static str> {
        match self {
            // Constant quality; `-cpu-used 4` and row threads keep the
            // encoder from being the slow stage.
            Self::Webm => vec![
                "-c:v",
                "libvpx-vp9",
                "-crf",
                "32",
                "-b:v",
                "0",
                "-deadline",
                "good",
                "-cpu-used",
                "4",
                "-row-mt",
                "1",
                "-pix_fmt",
                if alpha { "yuva420p" } else { "yuv420p" },
            ],
            Self::Mov => vec![
                "-c:v",
                "prores_ks",
                "-profile:v",
                "4444",
                "-vendor",
                "apl0",
                "-pix_fmt",
                if alpha { "yuva444p10le" } else { "yuv444p10le" },
            ],
            // 4:2:0 needs even sizes; odd ones keep full chroma.
            Self::Mp4 => vec![
                "-c:v",
                "libx264",
                "-crf",
                "18",
                "-preset",
                "medium",
                "-movflags",
                "+faststart",
                "-pix_fmt",
                if width.is_multiple_of(2) && height.is_multiple_of(2) {
                    "yuv420p"
                } else {
                    "yuv444p"
                },
            ],
        }
    }

    /// Whether an audio codec can be copied into this container as it is
    /// (else it is encoded again: Opus in WebM, AAC in the others).
    fn keeps_audio(self, codec: &str) -> bool {
        let kept: &[&str] = match self {
            Self::Webm => &["opus", "vorbis"],
            Self::Mov => &[
                "aac",
                "mp3",
                "alac",
                "ac3",
                "pcm_s16le",
                "pcm_s16be",
                "pcm_s24le",
                "pcm_s24be",
                "pcm_f32le",
            ],
            Self::Mp4 => &["aac", "mp3", "alac", "ac3", "eac3", "opus"],
        };
        kept.contains(&codec)
    }

    fn audio_encoder(self) -> &'static str {
        match self {
            Self::Webm => "libopus",
            Self::Mov | Self::Mp4 => "aac",
        }
    }
}

/// What an [`Encoder`] writes.
#[derive(Clone, Debug)]
pub struct EncoderSpec<'a> {
    pub container: Container,
    pub width: u32,
    pub height: u32,
    pub rate: Rate,
    /// Frames are 8-bit gray (a mask) rather than RGBA.
    pub gray: bool,
    /// The clip keeps the frames' alpha (else they are opaque).
    pub alpha: bool,
    /// A clip whose audio streams (with these codecs) are copied in.
    pub audio_from: Option<(&'a Path, &'a [String])>,
}

/// An ffmpeg encoding frames written to it, in order, into a clip.
/// Dropped before [`Encoder::finish`], it stops ffmpeg and removes the
/// temporary file: the output is left as it was.
pub struct Encoder {
    child: Child,
    stdin: Option<ChildStdin>,
    /// Taken by `finish`.
    stderr: Option<Stderr>,
    /// Taken by `finish`: while set, the clip is unfinished.
    temp: Option<tempfile::TempPath>,
    output: PathBuf,
}

impl Encoder {
    /// Starts ffmpeg writing `output` (through a temporary file beside it).
    pub fn spawn(ffmpeg: &Program, spec: &EncoderSpec, output: &Path) -> Result<Self> {
        if spec.alpha && !spec.container.has_alpha() {
            bail!(
                Input,
                "{}: MP4 (H.264) has no alpha channel: give --bg-color or --bg-image, or write \
                 .webm or .mov (or --mask)",
                output.display()
            );
        }
        let (_, temp) = temp_file_for(output)?;
        let mut command = Command::new(&ffmpeg.path);
        command
            .args(["-nostdin", "-hide_banner", "-v", "error", "-y"])
            .args(["-f", "rawvideo", "-pix_fmt"])
            .arg(if spec.gray { "gray" } else { "rgba" })
            .args(["-s", &format!("{}x{}", spec.width, spec.height)])
            .args(["-framerate", &spec.rate.to_string(), "-i", "pipe:0"]);
        let audio = spec.audio_from.filter(|(_, c)| !c.is_empty());
        if let Some((clip, _)) = audio {
            command.arg("-i").arg(clip);
        }
        command.args(["-map", "0:v:0"]);
        if let Some((_, codecs)) = audio {
            command.args(["-map", "1:a"]);
            for (i, codec) in codecs.iter().enumerate() {
                let encoder = if spec.container.keeps_audio(codec) {
                    "copy"
                } else {
                    spec.container.audio_encoder()
                };
                command.args([&format!("-c:a:{i}"), encoder]);
            }
        }
        command
            .args(
                spec.container
                    .video_args(spec.alpha, spec.width, spec.height),
            )
            .args(["-f", spec.container.muxer()])
            .arg(&*temp);
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Error::io(format_args!("running {}", ffmpeg.path.display()), e))?;
        let stdin = child.stdin.take();
        let stderr = Stderr::collect(&mut child);
        Ok(Self {
            child,
            stdin,
            stderr: Some(stderr),
            temp: Some(temp),
            output: output.to_owned(),
        })
    }

    /// Sends the next frame's pixels. Should ffmpeg have stopped, the
    /// error says why (its stderr).
    pub fn write(&mut self, frame: &[u8]) -> Result<()> {
        let Some(stdin) = self.stdin.as_mut() else {
            return Err(self.stopped());
        };
        let Err(e) = stdin.write_all(frame) else {
            return Ok(());
        };
        drop(self.stdin.take());
        let why = match (self.child.wait(), self.stderr.take()) {
            (Ok(status), Some(stderr)) => status_ok(status, stderr, "ffmpeg").err(),
            _ => None,
        };
        let context = format!("sending a frame to ffmpeg for {}", self.output.display());
        Err(match why {
            Some(why) => Error::io(format_args!("{context}: {why}"), e),
            None => Error::io(context, e),
        })
    }

    /// Ends the clip: waits for ffmpeg and renames the file onto the
    /// output. On an error the temporary file is removed and the output
    /// is untouched.
    pub fn finish(mut self) -> Result<()> {
        drop(self.stdin.take());
        let (Some(stderr), Some(temp)) = (self.stderr.take(), self.temp.take()) else {
            return Err(self.stopped());
        };
        let what = format!("ffmpeg encoding {}", self.output.display());
        wait(&mut self.child, stderr, what)?
            .map_err(|why| Error::io("writing the clip", std::io::Error::other(why)))?;
        persist(temp, &self.output)
    }
}

impl Encoder {
    /// The error for a clip whose ffmpeg stopped at a write before.
    fn stopped(&self) -> Error {
        Error::io(
            format_args!("ffmpeg for {} has stopped", self.output.display()),
            std::io::ErrorKind::BrokenPipe.into(),
        )
    }
}

impl Drop for Encoder {
    fn drop(&mut self) {
        if self.temp.is_some() {
            // Stopped before the temporary file is removed (with `temp`),
            // so that ffmpeg does not write it again.
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
