//! Run manifests (`u2cut remove --manifest`): one JSON line per input as
//! it is finished, appended and flushed line by line, so that a worker
//! killed mid-run leaves every line before its last whole; and their
//! summary over the shards of a job (`u2cut manifest summary`).
//!
//! ```text
//! {"input":"in/a.jpg","output":"out/a.png","status":"ok","error":null,"width":640,"height":480,"ms":212.4}
//! ```

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read as _, Seek, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How an input ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Processed, its output written.
    Ok,
    /// Its output existed already (a resumed run, `--skip-existing`).
    Skipped,
    /// Unreadable, or it could not be processed or written: see `error`.
    Error,
}

/// One input's line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub input: String,
    /// Where its output is (or was to be) written, when known.
    pub output: Option<String>,
    pub status: Status,
    pub error: Option<String>,
    /// The image's size, once its header was read.
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// Milliseconds from the input taken to its outcome (none for skipped
    /// inputs and those refused before reading).
    pub ms: Option<f64>,
}

/// Appends records to a manifest file.
pub struct Writer {
    file: File,
    path: PathBuf,
}

impl Writer {
    /// Opens `path` for appending (created if missing). A last line cut
    /// short by a killed worker is ended first, so that it stays one
    /// damaged line rather than spoiling the next record.
    pub fn append(path: &Path) -> Result<Self> {
        let context = |e| Error::io(format_args!("--manifest {}", path.display()), e);
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(context)?;
        let len = file.metadata().map_err(context)?.len();
        if len > 0 {
            let mut last = [0u8];
            file.seek(SeekFrom::Start(len - 1)).map_err(context)?;
            file.read_exact(&mut last).map_err(context)?;
            if last[0] != b'\n' {
                file.write_all(b"\n").map_err(context)?;
            }
        }
        Ok(Self {
            file,
            path: path.to_path_buf(),
        })
    }

    /// Writes one line, whole, and hands it to the OS before returning.
    pub fn write(&mut self, record: &Record) -> Result<()> {
        let mut line = serde_json::to_vec(record).expect("records serialize");
        line.push(b'\n');
        self.file
            .write_all(&line)
            .and_then(|()| self.file.flush())
            .map_err(|e| {
                Error::io(
                    format_args!("writing --manifest {}", self.path.display()),
                    e,
                )
            })
    }
}

/// Manifests merged: each input's last record (a resumed run's line
/// replaces the first run's, but for a `skipped` after an `ok`), and
/// what does not add up.
#[derive(Debug, Default)]
pub struct Merged {
    pub records: BTreeMap<String, Record>,
    /// Inputs with lines in more than one manifest: (input, manifests).
    pub in_several: BTreeMap<String, Vec<String>>,
    /// Lines that are not records: (manifest, line number), e.g. the last
    /// line of a killed worker.
    pub damaged: Vec<(String, usize)>,
}

impl Merged {
    /// Reads and merges `paths`, in order.
    pub fn read(paths: &[PathBuf]) -> Result<Self> {
        let mut merged = Self::default();
        let mut owner: BTreeMap<String, usize> = BTreeMap::new();
        for (m, path) in paths.iter().enumerate() {
            let name = path.display().to_string();
            let file = File::open(path).map_err(|e| Error::io(&name, e))?;
            for (n, line) in BufReader::new(file).lines().enumerate() {
                let line =
                    line.map_err(|e| Error::io(format_args!("{name}: line {}", n + 1), e))?;
                if line.trim().is_empty() {
                    continue;
                }
                let Ok(record) = serde_json::from_str::<Record>(&line) else {
                    merged.damaged.push((name.clone(), n + 1));
                    continue;
                };
                let first = *owner.entry(record.input.clone()).or_insert(m);
                if first != m {
                    let files = merged
                        .in_several
                        .entry(record.input.clone())
                        .or_insert_with(|| vec![paths[first].display().to_string()]);
                    if !files.contains(&name) {
                        files.push(name.clone());
                    }
                }
                // A resumed run skips what an earlier one did: that
                // earlier line says more.
                let done_before = merged
                    .records
                    .get(&record.input)
                    .is_some_and(|r| r.status == Status::Ok);
                if !(done_before && record.status == Status::Skipped) {
                    merged.records.insert(record.input.clone(), record);
                }
            }
        }
        Ok(merged)
    }

    /// Inputs per status.
    pub fn counts(&self) -> BTreeMap<Status, usize> {
        let mut counts = BTreeMap::new();
        for r in self.records.values() {
            *counts.entry(r.status).or_default() += 1;
        }
        counts
    }

    /// Failed inputs by their error, most common first.
    pub fn failures(&self) -> Vec<(String, Vec<&str>)> {
        let mut by_reason: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for r in self.records.values().filter(|r| r.status == Status::Error) {
            let reason = r.error.as_deref().unwrap_or("(no message)");
            by_reason.entry(reason).or_default().push(&r.input);
        }
        let mut out: Vec<(String, Vec<&str>)> = by_reason
            .into_iter()
            .map(|(reason, inputs)| (reason.to_owned(), inputs))
            .collect();
        out.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then_with(|| a.0.cmp(&b.0)));
        out
    }

    /// Of `expected`, the inputs no manifest has a line for.
    pub fn missing<'a>(&self, expected: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
        expected
            .into_iter()
            .filter(|input| !self.records.contains_key(*input))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(input: &str, status: Status) -> Record {
        Record {
            input: input.to_owned(),
            output: Some(format!("out/{input}")),
            status,
            error: (status == Status::Error).then(|| "truncated".to_owned()),
            width: Some(4),
            height: Some(3),
            ms: Some(1.5),
        }
    }

    #[test]
    fn a_cut_last_line_is_one_damaged_line_and_the_next_run_appends_whole_lines() {
        let dir = std::env::temp_dir().join(format!("u2cut-manifest-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (a, b) = (dir.join("a.jsonl"), dir.join("b.jsonl"));
        let _ = std::fs::remove_file(&a);
        let mut w = Writer::append(&a).unwrap();
        w.write(&record("x.jpg", Status::Error)).unwrap();
        drop(w);
        // A worker killed in the middle of its second line.
        let mut f = OpenOptions::new().append(true).open(&a).unwrap();
        f.write_all(br#"{"input":"y.jp"#).unwrap();
        drop(f);
        let mut w = Writer::append(&a).unwrap();
        w.write(&record("x.jpg", Status::Ok)).unwrap();
        w.write(&record("x.jpg", Status::Skipped)).unwrap();
        w.write(&record("y.jpg", Status::Ok)).unwrap();
        std::fs::write(
            &b,
            serde_json::to_string(&record("y.jpg", Status::Skipped)).unwrap(),
        )
        .unwrap();

        let merged = Merged::read(&[a.clone(), b.clone()]).unwrap();
        assert_eq!(merged.damaged, [(a.display().to_string(), 2)]);
        // Skipped after done: still done.
        assert_eq!(merged.records["x.jpg"].status, Status::Ok);
        assert_eq!(merged.records["y.jpg"].status, Status::Ok);
        assert_eq!(
            merged.in_several["y.jpg"],
            [a.display().to_string(), b.display().to_string()]
        );
        assert_eq!(merged.missing(["x.jpg", "z.jpg"]), ["z.jpg"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
