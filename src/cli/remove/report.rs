//! What `u2cut remove` says of each input: progress (a bar on a
//! terminal, one line per file otherwise, nothing but errors with
//! --quiet), a line per input in the `--manifest`, and the final tally.

use std::io::IsTerminal as _;
use std::path::Path;
use std::time::Duration;

use anyhow::{Result, anyhow};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use u2cut::io::paths::{Job, Sink};
use u2cut::manifest::{self, Record, Status};
use u2cut::pipeline::{Event, Outcome};

use super::super::{GlobalArgs, input_error};

pub struct Report {
    quiet: bool,
    bar: Option<ProgressBar>,
    /// Inputs in all, when known before the run (not for a streamed list).
    total: Option<usize>,
    manifest: Option<manifest::Writer>,
    /// Why the manifest could not be written, once it could not.
    manifest_error: Option<String>,
    done: usize,
    written: usize,
    skipped: usize,
    bad_inputs: usize,
    failed: usize,
}

impl Report {
    pub fn new(global: &GlobalArgs, total: Option<usize>, manifest: Option<&Path>) -> Result<Self> {
        let manifest = manifest.map(manifest::Writer::append).transpose()?;
        let bar = (!global.quiet && std::io::stderr().is_terminal()).then(|| {
            let (bar, template) = match total {
                Some(n) => (
                    ProgressBar::with_draw_target(Some(n as u64), ProgressDrawTarget::stderr()),
                    "{bar:30} {pos}/{len} images  {rate}  elapsed {elapsed}  ETA {eta}",
                ),
                None => (
                    ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
                    "{spinner} {pos} images  {rate}  elapsed {elapsed}",
                ),
            };
            bar.set_style(
                ProgressStyle::with_template(template)
                    .expect("a valid template")
                    .with_key(
                        "rate",
                        |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                            let _ = write!(w, "{:.2} images/s", state.per_sec());
                        },
                    ),
            );
            bar
        });
        Ok(Self {
            quiet: global.quiet,
            bar,
            total,
            manifest,
            manifest_error: None,
            done: 0,
            written: 0,
            skipped: 0,
            bad_inputs: 0,
            failed: 0,
        })
    }

    pub fn line_unless_quiet(&self, text: String) {
        if !self.quiet {
            self.line(format!("u2cut: {text}"));
        }
    }

    /// A line on stderr that does not tear the progress bar.
    pub fn line(&self, text: String) {
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{text}")),
            None => eprintln!("{text}"),
        }
    }

    /// `[done/total]`, or `[done]` while the total is unknown.
    fn counter(&self) -> String {
        match self.total {
            Some(total) => format!("[{}/{total}]", self.done),
            None => format!("[{}]", self.done),
        }
    }

    fn tick(&mut self, record: Record) {
        self.done += 1;
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
        let Some(manifest) = &mut self.manifest else {
            return;
        };
        if let Err(e) = manifest.write(&record)
            && self.manifest_error.is_none()
        {
            self.line(format!("u2cut: error: {e}"));
            self.manifest_error = Some(e.to_string());
        }
    }

    /// An input refused or unreadable.
    pub fn bad_input(&mut self, name: &str, err: &u2cut::Error) {
        self.bad_input_sized(name, None, err, None, None);
    }

    fn bad_input_sized(
        &mut self,
        name: &str,
        output: Option<String>,
        err: &u2cut::Error,
        size: Option<(u32, u32)>,
        time: Option<Duration>,
    ) {
        self.bad_inputs += 1;
        self.tick(record(name, output, Err(err), size, time));
        self.line(format!("u2cut: error: {name}: {err}"));
    }

    pub fn skipped(&mut self, job: &Job) {
        self.skipped += 1;
        self.tick(Record {
            status: Status::Skipped,
            ..record(&job.name(), output_of(job), Ok(()), None, None)
        });
        if !self.quiet && self.bar.is_none() {
            self.line(format!(
                "u2cut: {} {}: skipped, the output exists",
                self.counter(),
                job.name()
            ));
        }
    }

    pub fn event(&mut self, event: Event<Job, ()>) {
        let job = &event.item;
        let (name, output) = (job.name(), output_of(job));
        let time = Some(event.time);
        match event.outcome {
            Outcome::Done { warning, .. } => {
                self.written += 1;
                let to = output.clone().unwrap_or_else(|| "<stdout>".to_owned());
                self.tick(record(&name, output, Ok(()), event.size, time));
                if let Some(w) = warning {
                    self.line(format!("u2cut: warning: {name}: {w}"));
                }
                if !self.quiet && self.bar.is_none() {
                    self.line(format!("u2cut: {} {name} -> {to}", self.counter()));
                }
            }
            Outcome::BadInput(e) => self.bad_input_sized(&name, output, &e, event.size, time),
            Outcome::Failed(e) => {
                self.failed += 1;
                self.tick(record(&name, output, Err(&e), event.size, time));
                self.line(format!("u2cut: error: {name}: {e}"));
            }
        }
    }

    pub fn finish(&self, elapsed: Duration) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        if self.quiet {
            return;
        }
        let secs = elapsed.as_secs_f64();
        let total = self.total.unwrap_or(self.done);
        let mut s = format!(
            "u2cut: {} of {total} images written in {secs:.1} s ({:.2} images/s)",
            self.written,
            self.written as f64 / secs.max(1e-9)
        );
        if self.skipped > 0 {
            s += &format!("; {} skipped (output exists)", self.skipped);
        }
        if self.bad_inputs > 0 {
            s += &format!("; {} unreadable", self.bad_inputs);
        }
        if self.failed > 0 {
            s += &format!("; {} failed", self.failed);
        }
        let missing = total - self.done;
        if missing > 0 {
            s += &format!("; {missing} not processed");
        }
        eprintln!("{s}");
    }

    /// The run's outcome: runtime failures (exit 1) before bad inputs (exit 2).
    pub fn result(&self) -> Result<()> {
        let total = self.total.unwrap_or(self.done);
        if let Some(e) = &self.manifest_error {
            return Err(anyhow!("the manifest is incomplete: {e}"));
        }
        if self.failed > 0 {
            return Err(anyhow!(
                "{} of {total} images could not be processed or written (listed above)",
                self.failed,
            ));
        }
        if self.bad_inputs > 0 {
            return Err(input_error(anyhow!(
                "{} of {total} inputs could not be read (listed above); the others were processed",
                self.bad_inputs,
            )));
        }
        Ok(())
    }
}

fn output_of(job: &Job) -> Option<String> {
    match &job.sink {
        Sink::File(p) => Some(p.display().to_string()),
        Sink::Stdout => None,
    }
}

/// A manifest line: `Ok` for a written output, else the error.
fn record(
    input: &str,
    output: Option<String>,
    result: std::result::Result<(), &u2cut::Error>,
    size: Option<(u32, u32)>,
    time: Option<Duration>,
) -> Record {
    Record {
        input: input.to_owned(),
        output,
        status: if result.is_ok() {
            Status::Ok
        } else {
            Status::Error
        },
        error: result.err().map(ToString::to_string),
        width: size.map(|s| s.0),
        height: size.map(|s| s.1),
        ms: time.map(|t| (t.as_secs_f64() * 1e4).round() / 10.0),
    }
}
