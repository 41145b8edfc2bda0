//! Which inputs a `u2cut remove` runs: the command line's files and
//! folders (planned whole, so the total is known), or `--files-from`'s
//! list (streamed); in either case only `--shard`'s share. And
//! `--dry-run`, which lists them.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write as _};
use std::path::Path;

use anyhow::{Context as _, Result};
use u2cut::io::paths::{self, OutputNaming, Sink};
use u2cut::io::{Listed, Planned};
use u2cut::shard::Shard;

use super::super::{GlobalArgs, InputContext as _, bail_input, input_error};
use super::RemoveArgs;

/// The inputs of a run.
pub struct Inputs {
    pub planned: Box<dyn Iterator<Item = Planned> + Send>,
    /// How many `planned` yields, when known before the run.
    pub total: Option<usize>,
    /// Whether an output goes to stdout.
    pub to_stdout: bool,
    /// Whether nothing at all was found (in any share).
    pub none_found: bool,
}

pub fn plan(args: &RemoveArgs, naming: &OutputNaming) -> Result<Inputs> {
    let shard = args.shard.unwrap_or(Shard::ALL);
    let Some(list) = &args.files_from else {
        let list = paths::plan(&args.inputs, naming, shard)?;
        let total = list.jobs.len() + list.refused.len();
        let to_stdout = list.jobs.iter().any(|j| j.sink == Sink::Stdout);
        let none_found = total == 0 && list.other_shards == 0;
        let refused = list.refused.into_iter().map(Err);
        return Ok(Inputs {
            planned: Box::new(refused.chain(list.jobs.into_iter().map(Ok))),
            total: Some(total),
            to_stdout,
            none_found,
        });
    };
    let out_dir = match naming.output.as_deref() {
        Some(d) if d != Path::new("-") => d,
        _ => bail_input!("--files-from writes to a folder: give -o DIR"),
    };
    let (lines, name): (Box<dyn BufRead + Send>, String) = if list == Path::new("-") {
        (Box::new(BufReader::new(std::io::stdin())), "<stdin>".into())
    } else {
        let file = File::open(list).input_context(|| format!("--files-from {}", list.display()))?;
        (Box::new(BufReader::new(file)), list.display().to_string())
    };
    if let Some(root) = &args.input_root
        && !root.is_dir()
    {
        bail_input!("--input-root {}: not a folder", root.display());
    }
    let ext = naming.format.extension();
    let listed = Listed::new(lines, name, args.input_root.as_deref(), out_dir, ext, shard);
    Ok(Inputs {
        planned: Box::new(listed),
        total: None,
        to_stdout: false,
        none_found: false,
    })
}

/// `--dry-run`: each input the run would process, `INPUT<TAB>OUTPUT` on
/// stdout; refused ones on stderr, as the run would have them.
pub fn dry_run(global: &GlobalArgs, inputs: Inputs, skip_existing: bool) -> Result<()> {
    let mut out = BufWriter::new(std::io::stdout().lock());
    let (mut listed, mut skipped, mut refused) = (0usize, 0usize, 0usize);
    for planned in inputs.planned {
        match planned {
            Err((name, e)) => {
                refused += 1;
                eprintln!("u2cut: error: {name}: {e}");
            }
            Ok(job) => {
                let to = match &job.sink {
                    Sink::File(p) if skip_existing && p.exists() => {
                        skipped += 1;
                        continue;
                    }
                    Sink::File(p) => p.display().to_string(),
                    Sink::Stdout => "-".to_owned(),
                };
                listed += 1;
                writeln!(out, "{}\t{to}", job.name()).context("writing the list to stdout")?;
            }
        }
    }
    out.flush().context("writing the list to stdout")?;
    if !global.quiet {
        eprintln!(
            "u2cut: dry run: {listed} inputs to process, {skipped} skipped (output exists), {refused} refused"
        );
    }
    if refused > 0 {
        return Err(input_error(anyhow::anyhow!(
            "{refused} inputs would be refused (listed above)"
        )));
    }
    Ok(())
}
