//! A stream of raw frames through the pipeline, in order, to a sink (a
//! pipe, an encoder, numbered files): what `u2cut frames` and a video
//! input of `u2cut remove` run. A stream is one piece: the first frame
//! that fails ends it (a gap would shift every later frame), with the
//! frames before it delivered.

use std::io::{IsTerminal as _, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use u2cut::Remover;
use u2cut::io::frames::RawFrames;
use u2cut::pipeline::{self, Frames, Outcome};

use super::super::{GlobalArgs, note};
use super::busy_times;

/// How a stream ended.
pub struct Streamed {
    /// Frames delivered to the sink.
    pub frames: u64,
    /// Why it ended before the input did: a frame's error (a partial
    /// frame, a failed pass), the sink's, or the GPU's.
    pub error: Option<u2cut::Error>,
}

/// Runs `frames` through `remover` in input order, handing each result to
/// `sink`; `total` (if known) sizes the progress bar.
pub fn run<R: Read + Send>(
    global: &GlobalArgs,
    remover: &Remover,
    options: &pipeline::Options,
    frames: RawFrames<R>,
    steps: &Frames,
    total: Option<u64>,
    mut sink: impl FnMut(&[u8]) -> u2cut::Result<()>,
) -> Streamed {
    let start = Instant::now();
    let (width, height) = (frames.width(), frames.height());
    let ended = AtomicBool::new(false);
    // After the first error no more frames are read.
    let frames = frames.take_while(|_| !ended.load(Ordering::Relaxed));
    let bar = progress(global, total);
    let mut delivered = 0;
    let mut error = None;
    let options = pipeline::Options {
        ordered: true,
        ..options.clone()
    };
    let summary = pipeline::run(remover, &options, frames, steps, |e| {
        if error.is_some() {
            return;
        }
        let failed = match e.outcome {
            Outcome::Done { output, warning } => {
                if let Some(w) = warning {
                    bar.suspend(|| eprintln!("u2cut: warning: frame {}: {w}", e.item.number));
                }
                sink(&output).err()
            }
            Outcome::BadInput(err) | Outcome::Failed(err) => {
                Some(err.context(format_args!("frame {}", e.item.number)))
            }
        };
        match failed {
            None => {
                delivered += 1;
                bar.inc(1);
            }
            Some(err) => {
                ended.store(true, Ordering::Relaxed);
                error = Some(err);
            }
        }
    });
    bar.finish_and_clear();
    let secs = start.elapsed().as_secs_f64();
    note(
        global,
        format_args!(
            "{delivered} frames of {width}x{height} in {secs:.1} s ({:.2} frames/s); {}",
            delivered as f64 / secs,
            busy_times(&summary.times, options.threads)
        ),
    );
    Streamed {
        frames: delivered,
        error: summary.stopped.or(error),
    }
}

/// A frame counter on stderr when it is a terminal (and not `--quiet`).
fn progress(global: &GlobalArgs, total: Option<u64>) -> ProgressBar {
    if global.quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
    let template = if total.is_some() {
        "{bar:30} {pos}/{len} frames, {per_sec}, eta {eta}"
    } else {
        "{pos} frames, {per_sec}"
    };
    bar.set_style(ProgressStyle::with_template(template).expect("a valid template"));
    bar
}
