//! Inputs listed one per line (`u2cut remove --files-from`), read as the
//! run takes them: a job over millions of files needs neither a folder
//! walk nor the list in memory. Each line is a path relative to the
//! input root; its output keeps that path under the output folder, its
//! extension replaced.

use std::collections::HashSet;
use std::io::BufRead;
use std::path::{Component, Path, PathBuf};

use super::paths::{Job, Sink, Source};
use crate::error::{Error, Result};
use crate::shard::{self, Shard};

/// An input to run, or one refused before reading it: (input, why).
pub type Planned = std::result::Result<Job, (String, Error)>;

/// The listed inputs of one share, as [`Planned`] jobs.
pub struct Listed<R> {
    lines: R,
    /// The list as messages name it.
    name: String,
    root: Option<PathBuf>,
    out_dir: PathBuf,
    ext: &'static str,
    shard: Shard,
    /// Whether outputs go to the input folder: an input with the output's
    /// extension would be overwritten.
    same_folder: bool,
    /// The outputs of this share's inputs so far, by [`shard::output_key`]:
    /// 8 bytes each, so that two inputs with one output are refused.
    claimed: HashSet<u64>,
    line: usize,
    buf: Vec<u8>,
    /// A read error ended the list.
    ended: bool,
}

impl<R: BufRead> Listed<R> {
    /// The inputs of `shard` listed in `lines` (named `name` in messages),
    /// relative to `root` (or the working folder), their outputs under
    /// `out_dir` with extension `ext`.
    pub fn new(
        lines: R,
        name: String,
        root: Option<&Path>,
        out_dir: &Path,
        ext: &'static str,
        shard: Shard,
    ) -> Self {
        let in_dir = root.unwrap_or(Path::new("."));
        let same_folder = match (in_dir.canonicalize(), out_dir.canonicalize()) {
            (Ok(r), Ok(o)) => r == o,
            _ => false,
        };
        Self {
            lines,
            name,
            root: root.map(Path::to_path_buf),
            out_dir: out_dir.to_path_buf(),
            ext,
            shard,
            same_folder,
            claimed: HashSet::new(),
            line: 0,
            buf: Vec::new(),
            ended: false,
        }
    }

    /// The next line, without its line ending; None at the end.
    fn next_line(&mut self) -> Option<Result<PathBuf>> {
        self.buf.clear();
        match self.lines.read_until(b'\n', &mut self.buf) {
            Ok(0) => None,
            Ok(_) => {
                self.line += 1;
                while matches!(self.buf.last(), Some(b'\n' | b'\r')) {
                    self.buf.pop();
                }
                Some(Ok(path_of(&self.buf)))
            }
            Err(e) => {
                self.ended = true;
                Some(Err(Error::io(format_args!("reading {}", self.name), e)))
            }
        }
    }

    /// `rel` as a job of this share, refused, or None for another share's.
    fn plan(&mut self, rel: PathBuf) -> Option<Planned> {
        let source = match &self.root {
            Some(root) => root.join(&rel),
            None => rel.clone(),
        };
        let refuse = |why: String| Some(Err((source.display().to_string(), Error::Input(why))));
        if !rel
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
        {
            return refuse(format!(
                "line {} of {}: give paths relative to the input root, without `..`",
                self.line, self.name
            ));
        }
        let key = shard::output_key(&rel);
        if !self.shard.owns(key) {
            return None;
        }
        let sink = self.out_dir.join(&rel).with_extension(self.ext);
        if self.same_folder && rel.extension().is_some_and(|e| e == self.ext) {
            return refuse(format!(
                "the output {} is the input, which is never overwritten; choose another -o or --format",
                sink.display()
            ));
        }
        if !self.claimed.insert(key) {
            return refuse(format!(
                "its output {} is also the output of an input listed before it; rename one of them",
                sink.display()
            ));
        }
        Some(Ok(Job {
            source: Source::File(source),
            sink: Sink::File(sink),
        }))
    }
}

impl<R: BufRead> Iterator for Listed<R> {
    type Item = Planned;

    fn next(&mut self) -> Option<Planned> {
        while !self.ended {
            match self.next_line()? {
                Ok(rel) if rel.as_os_str().is_empty() => {}
                Ok(rel) => {
                    if let Some(planned) = self.plan(rel) {
                        return Some(planned);
                    }
                }
                Err(e) => return Some(Err((self.name.clone(), e))),
            }
        }
        None
    }
}

#[cfg(unix)]
fn path_of(bytes: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt as _;
    std::ffi::OsStr::from_bytes(bytes).into()
}

#[cfg(not(unix))]
fn path_of(bytes: &[u8]) -> PathBuf {
    String::from_utf8_lossy(bytes).into_owned().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(text: &str, shard: Shard) -> Vec<Planned> {
        Listed::new(
            text.as_bytes(),
            "list.txt".into(),
            Some(Path::new("/in")),
            Path::new("/out"),
            "png",
            shard,
        )
        .collect()
    }

    #[test]
    fn lines_become_jobs_under_the_roots() {
        let got = listed("a/b.jpg\r\n\nc.webp\n", Shard::ALL);
        let jobs: Vec<_> = got.into_iter().map(Result::unwrap).collect();
        assert_eq!(jobs[0].source, Source::File("/in/a/b.jpg".into()));
        assert_eq!(jobs[0].sink, Sink::File("/out/a/b.png".into()));
        assert_eq!(jobs[1].sink, Sink::File("/out/c.png".into()));
        assert_eq!(jobs.len(), 2);
    }

    #[test]
    fn clashes_and_escapes_are_refused() {
        let got = listed("x/a.jpg\nx/a.png\n../etc/p.png\n/abs.jpg\n", Shard::ALL);
        assert!(got[0].is_ok());
        let why: Vec<String> = got[1..]
            .iter()
            .map(|p| p.as_ref().unwrap_err().1.to_string())
            .collect();
        assert!(why[0].contains("also the output of"), "{why:?}");
        assert!(why[1].contains("line 3 of list.txt"), "{why:?}");
        assert!(why[2].contains("line 4"), "{why:?}");
    }

    #[test]
    fn shares_split_the_list() {
        let text: String = (0..200).map(|i| format!("d{}/f{i}.jpg\n", i % 7)).collect();
        let mut seen = 0;
        for index in 0..3 {
            let share = listed(&text, Shard { index, count: 3 });
            assert!(share.iter().all(Result::is_ok));
            assert!(!share.is_empty());
            seen += share.len();
        }
        assert_eq!(seen, 200);
    }
}
