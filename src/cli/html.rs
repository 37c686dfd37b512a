//! `callqa html`: the inspector's report from a results folder's `calls.jsonl`.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use crate::report::html::{self, AudioScope, Options};
use crate::score::Rubrics;
use crate::CallResult;

/// Arguments of `callqa html`.
#[derive(Debug, clap::Args)]
pub struct HtmlArgs {
    /// Results folder written by `callqa run`; the report goes to its `report/` subfolder.
    ///
    /// Example: `callqa html --out results` then open `results/report/index.html`.
    #[arg(long)]
    pub out: PathBuf,
    /// Hide phone, ID-card and bank-card numbers in every text, and leave the audio out.
    #[arg(long)]
    pub redact: bool,
    /// Which calls get an audio player (a 16-bit PCM WAV beside the report).
    #[arg(long, value_enum, default_value = "flagged")]
    pub audio: AudioScope,
    /// Rubric folder, for the verbatim rule text beside each deduction.
    #[arg(long, default_value = "rubrics")]
    pub rubrics: PathBuf,
}

pub fn run(args: HtmlArgs) -> anyhow::Result<ExitCode> {
    let (results, bad_lines) = read_results(&args.out)?;
    let rubrics = Rubrics::load_dir(&args.rubrics).map_err(|e| anyhow::anyhow!("{e}"))?;
    let opts = Options {
        redact: args.redact,
        audio: args.audio,
    };
    let summary = html::write(&args.out, &results, &rubrics, &opts)?;
    for line in &summary.audio_problems {
        eprintln!("{line}");
    }
    eprintln!(
        "{} calls in {} ({} without audio)",
        summary.calls,
        summary.index.display(),
        summary.audio_problems.len()
    );
    Ok(if bad_lines > 0 || !summary.audio_problems.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Reads `DIR/calls.jsonl`; a line that does not parse is reported on stderr and skipped.
/// Returns the calls and the number of skipped lines.
pub(crate) fn read_results(dir: &Path) -> anyhow::Result<(Vec<CallResult>, usize)> {
    let path = dir.join("calls.jsonl");
    let file = std::fs::File::open(&path).with_context(|| {
        format!(
            "{}: cannot open; run `callqa run --out {}` first or give the results folder",
            path.display(),
            dir.display()
        )
    })?;
    let mut results = Vec::new();
    let mut bad = 0;
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("{}:{}: cannot read", path.display(), i + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<CallResult>(&line) {
            Ok(r) => results.push(r),
            Err(e) => {
                eprintln!(
                    "{}:{}: not a scored call ({e}); skipped, re-score the call to fix it",
                    path.display(),
                    i + 1
                );
                bad += 1;
            }
        }
    }
    Ok((results, bad))
}
