//! Which files a run reads and writes: inputs expanded (folders searched
//! recursively for image files), each given its output path, and the
//! inputs that cannot be processed set aside with the reason. Every error
//! here is the caller's input: [`Error::Input`].

use std::collections::{HashMap, HashSet};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use super::Format;
use crate::error::{Error, Result, bail};
use crate::shard::Shard;

/// Where an image comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    File(PathBuf),
    Stdin,
}

/// Where its output goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sink {
    File(PathBuf),
    Stdout,
}

/// One image to process.
#[derive(Clone, Debug)]
pub struct Job {
    pub source: Source,
    pub sink: Sink,
}

impl Job {
    /// The input as messages name it.
    pub fn name(&self) -> String {
        match &self.source {
            Source::File(p) => p.display().to_string(),
            Source::Stdin => "<stdin>".to_owned(),
        }
    }
}

/// The inputs of a run, expanded.
#[derive(Debug, Default)]
pub struct JobList {
    pub jobs: Vec<Job>,
    /// Inputs refused before reading them: (input, why).
    pub refused: Vec<(String, Error)>,
    /// Inputs left to the other shares of a sharded run.
    pub other_shards: usize,
}

/// How outputs are named.
#[derive(Clone, Debug)]
pub struct OutputNaming {
    /// `-o`: a file (one input), a folder, or `-` (stdout); `None`: next to
    /// each input file, stdout for stdin.
    pub output: Option<PathBuf>,
    pub format: Format,
    /// `NAME_SUFFIX.EXT` for outputs written next to their inputs.
    pub suffix: &'static str,
}

/// Whether the image crate reads files with this name's extension.
pub fn is_image_file(path: &Path) -> bool {
    image::ImageFormat::from_path(path).is_ok_and(|f| f.reading_enabled())
}

fn hidden(name: &OsStr) -> bool {
    name.to_string_lossy().starts_with('.')
}

/// Image files under `dir`, recursively, in name order; hidden files and
/// folders (e.g. another run's temporary files) and `skip` are left out.
fn walk(dir: &Path, skip: Option<&Path>, refused: &mut Vec<(String, Error)>) -> Vec<PathBuf> {
    let skip = skip.and_then(|s| s.canonicalize().ok());
    let skipped = |e: &walkdir::DirEntry| {
        e.file_type().is_dir()
            && skip
                .as_ref()
                .is_some_and(|s| e.path().canonicalize().is_ok_and(|p| p == *s))
    };
    let mut files = Vec::new();
    let walker = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !(hidden(e.file_name()) || skipped(e)));
    for entry in walker {
        match entry {
            Ok(e) if e.file_type().is_file() && is_image_file(e.path()) => {
                files.push(e.into_path());
            }
            Ok(_) => {}
            Err(err) => {
                let at = err
                    .path()
                    .map_or_else(|| dir.display().to_string(), |p| p.display().to_string());
                refused.push((at, Error::Input(format!("cannot read: {err}"))));
            }
        }
    }
    files
}

/// `path` with its parent folder resolved, for comparing a (maybe not yet
/// existing) output with the inputs.
fn resolved(path: &Path) -> PathBuf {
    if let Ok(p) = path.canonicalize() {
        return p;
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    match (parent.canonicalize(), path.file_name()) {
        (Ok(dir), Some(name)) => dir.join(name),
        _ => path.to_path_buf(),
    }
}

fn single_input(inputs: &[PathBuf]) -> bool {
    inputs.len() == 1 && (inputs[0] == Path::new("-") || !inputs[0].is_dir())
}

/// The file `-o` names, if it names one: for a single file (or stdin) input,
/// when `-o` is neither `-`, an existing folder, nor written as one (`out/`).
pub fn file_output(inputs: &[PathBuf], naming: &OutputNaming) -> Option<PathBuf> {
    let out = naming.output.as_deref()?;
    let text = out.as_os_str().to_string_lossy();
    let folder_like =
        out.is_dir() || text.ends_with('/') || text.ends_with(std::path::MAIN_SEPARATOR);
    (single_input(inputs) && out != Path::new("-") && !folder_like).then(|| out.to_path_buf())
}

/// Expands `inputs` (files, folders, `-` for stdin) into the jobs of
/// `shard` (see [`crate::shard`]: a folder's files by their path in it, a
/// file by its path as given) with their output paths. Errors are usage
/// errors (the run cannot start); inputs that cannot be processed are
/// listed in `refused`.
pub fn plan(inputs: &[PathBuf], naming: &OutputNaming, shard: Shard) -> Result<JobList> {
    let stdin = Path::new("-");
    if inputs.iter().filter(|p| p.as_path() == stdin).count() > 1 {
        bail!(Input, "`-` (stdin) is given more than once");
    }
    if shard != Shard::ALL && inputs.iter().any(|p| p.as_path() == stdin) {
        bail!(Input, "--shard splits files and folders, not `-` (stdin)");
    }
    let ext = naming.format.extension();
    let out = naming.output.as_deref();
    let to_stdout = out == Some(stdin);
    let out_file = file_output(inputs, naming);
    let out_dir = out.filter(|_| !to_stdout && out_file.is_none());
    if to_stdout && !single_input(inputs) {
        bail!(
            Input,
            "-o - (stdout) takes a single input; give -o DIR for several"
        );
    }
    if out.is_none() && inputs.iter().any(|p| p.is_dir()) {
        bail!(Input, "give -o/--output DIR to process a folder");
    }
    let out_file = out_file.as_deref();

    let mut list = JobList::default();
    let mut add = |rel: &Path, source: Source, sink: Sink| {
        if shard.contains(rel) {
            list.jobs.push(Job { source, sink });
        } else {
            list.other_shards += 1;
        }
    };
    for input in inputs {
        if input.as_path() == stdin {
            let sink = match (out_file, out_dir) {
                (Some(f), _) => Sink::File(f.to_path_buf()),
                (None, Some(d)) => Sink::File(d.join(format!("stdin.{ext}"))),
                (None, None) => Sink::Stdout,
            };
            add(stdin, Source::Stdin, sink);
            continue;
        }
        if input.is_dir() {
            let dir = out_dir.expect("folders need -o DIR (checked above)");
            for file in walk(input, Some(dir), &mut list.refused) {
                let rel = file.strip_prefix(input).unwrap_or(&file);
                add(
                    rel,
                    Source::File(file.clone()),
                    Sink::File(dir.join(rel).with_extension(ext)),
                );
            }
            continue;
        }
        if !input.exists() {
            list.refused.push((
                input.display().to_string(),
                Error::Input("no such file or folder".into()),
            ));
            continue;
        }
        let stem = input
            .file_stem()
            .unwrap_or(input.as_os_str())
            .to_string_lossy();
        let sink = match (to_stdout, out_file, out_dir) {
            (true, _, _) => Sink::Stdout,
            (_, Some(f), _) => Sink::File(f.to_path_buf()),
            (_, None, Some(d)) => Sink::File(d.join(format!("{stem}.{ext}"))),
            (_, None, None) => {
                Sink::File(input.with_file_name(format!("{stem}{}.{ext}", naming.suffix)))
            }
        };
        add(input, Source::File(input.clone()), sink);
    }
    refuse_clashes(&mut list);
    Ok(list)
}

/// Sets aside jobs whose output is an input (never overwritten) or the
/// output of an earlier job.
fn refuse_clashes(list: &mut JobList) {
    let inputs: HashSet<PathBuf> = list
        .jobs
        .iter()
        .filter_map(|j| match &j.source {
            Source::File(p) => p.canonicalize().ok(),
            Source::Stdin => None,
        })
        .collect();
    let mut claimed: HashMap<PathBuf, String> = HashMap::new();
    let jobs = std::mem::take(&mut list.jobs);
    for job in jobs {
        let Sink::File(out) = &job.sink else {
            list.jobs.push(job);
            continue;
        };
        let key = resolved(out);
        if inputs.contains(&key) {
            list.refused.push((
                job.name(),
                Error::Input(format!(
                    "the output {} is an input, which is never overwritten; choose another -o or --format",
                    out.display()
                )),
            ));
        } else if let Some(first) = claimed.get(&key) {
            list.refused.push((
                job.name(),
                Error::Input(format!(
                    "its output {} is also the output of {first}; rename one of them",
                    out.display()
                )),
            ));
        } else {
            claimed.insert(key, job.name());
            list.jobs.push(job);
        }
    }
}
