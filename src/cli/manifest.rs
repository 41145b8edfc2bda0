//! `u2cut manifest summary`: the manifests of a sharded job's tasks
//! merged: totals, failures by reason, and, given the job's inputs, the
//! ones no task has finished.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow};
use clap::{Args, Subcommand};
use serde_json::json;
use u2cut::io::paths::{self, OutputNaming};
use u2cut::io::{Format, Listed};
use u2cut::manifest::{Merged, Status};
use u2cut::shard::Shard;

use super::{GlobalArgs, InputContext as _};

#[derive(Debug, Args)]
pub struct ManifestArgs {
    #[command(subcommand)]
    command: ManifestCommand,
}

#[derive(Debug, Subcommand)]
enum ManifestCommand {
    /// Merge the manifests of a job's shards: totals, failures by reason,
    /// inputs missing from every manifest (exit 1 if any is missing or in
    /// several manifests)
    Summary(SummaryArgs),
}

#[derive(Debug, Args)]
struct SummaryArgs {
    /// The shards' manifests (`u2cut remove --manifest`)
    #[arg(value_name = "MANIFEST.jsonl", required = true)]
    manifests: Vec<PathBuf>,
    /// The job's inputs as `u2cut remove` was given them (files, folders),
    /// to list those missing from every manifest
    #[arg(long, value_name = "INPUT", num_args = 1..)]
    inputs: Vec<PathBuf>,
    /// Or the job's --files-from list
    #[arg(long, value_name = "FILE", conflicts_with = "inputs")]
    files_from: Option<PathBuf>,
    /// The job's --input-root
    #[arg(long, value_name = "DIR", requires = "files_from")]
    input_root: Option<PathBuf>,
    /// Print the summary as one JSON object
    #[arg(long)]
    json: bool,
}

/// How many inputs of each failure reason are named.
const EXAMPLES: usize = 5;

pub fn run(_global: &GlobalArgs, args: &ManifestArgs) -> Result<()> {
    let ManifestCommand::Summary(args) = &args.command;
    let merged = Merged::read(&args.manifests).input_context(|| "reading the manifests")?;
    let expected = expected_inputs(args)?;
    let missing: Option<Vec<&str>> = expected
        .as_ref()
        .map(|e| merged.missing(e.iter().map(String::as_str)));
    let counts = merged.counts();
    let count = |s| counts.get(&s).copied().unwrap_or(0);
    let failures = merged.failures();
    if args.json {
        let summary = json!({
            "manifests": args.manifests.len(),
            "inputs": merged.records.len(),
            "ok": count(Status::Ok),
            "skipped": count(Status::Skipped),
            "error": count(Status::Error),
            "failures": failures.iter().map(|(reason, inputs)| json!({
                "reason": reason, "count": inputs.len(), "inputs": inputs,
            })).collect::<Vec<_>>(),
            "missing": missing,
            "in_several": merged.in_several,
            "damaged_lines": merged.damaged,
        });
        println!("{summary}");
    } else {
        println!(
            "{} manifests, {} inputs: {} ok, {} skipped, {} error",
            args.manifests.len(),
            merged.records.len(),
            count(Status::Ok),
            count(Status::Skipped),
            count(Status::Error)
        );
        if !failures.is_empty() {
            println!("failures by reason:");
        }
        for (reason, inputs) in &failures {
            let more = inputs.len().saturating_sub(EXAMPLES);
            let mut named = inputs[..inputs.len() - more].join(", ");
            if more > 0 {
                named += &format!(" and {more} more");
            }
            println!("  {:>6}  {reason}\n          {named}", inputs.len());
        }
        if let Some(missing) = &missing {
            println!("missing from every manifest: {}", missing.len());
            for input in missing {
                println!("  {input}");
            }
        }
        for (input, files) in &merged.in_several {
            println!("in several manifests: {input}: {}", files.join(", "));
        }
        for (file, line) in &merged.damaged {
            println!("damaged line (a killed task's last?): {file}: line {line}");
        }
    }
    let missing = missing.map_or(0, |m| m.len());
    if missing > 0 || !merged.in_several.is_empty() {
        return Err(anyhow!(
            "the manifests do not add up: {missing} inputs missing, {} in several manifests",
            merged.in_several.len()
        ));
    }
    Ok(())
}

/// The job's inputs as its manifests name them, if the job's inputs are given.
fn expected_inputs(args: &SummaryArgs) -> Result<Option<Vec<String>>> {
    // Outputs do not matter here, only the inputs' names.
    let out = Path::new("/nonexistent-u2cut-summary/");
    let name = |p: std::result::Result<paths::Job, (String, u2cut::Error)>| match p {
        Ok(job) => job.name(),
        Err((name, _)) => name,
    };
    if let Some(list) = &args.files_from {
        let file = File::open(list).input_context(|| format!("--files-from {}", list.display()))?;
        let listed = Listed::new(
            BufReader::new(file),
            list.display().to_string(),
            args.input_root.as_deref(),
            out,
            Format::Png.extension(),
            Shard::ALL,
        );
        return Ok(Some(listed.map(name).collect()));
    }
    if args.inputs.is_empty() {
        return Ok(None);
    }
    let naming = OutputNaming {
        output: Some(out.to_path_buf()),
        format: Format::Png,
        suffix: "",
    };
    let list = paths::plan(&args.inputs, &naming, Shard::ALL)?;
    let refused = list.refused.into_iter().map(Err);
    Ok(Some(
        refused
            .chain(list.jobs.into_iter().map(Ok))
            .map(name)
            .collect(),
    ))
}
