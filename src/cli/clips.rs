//! `callqa clips`: bad-example audio for trainers.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use crate::report::clips::{self, Selection};
use crate::CallResult;

/// Arguments of `callqa clips`.
#[derive(Debug, clap::Args)]
pub struct ClipsArgs {
    /// Folder receiving the clips, index.csv and index.jsonl.
    #[arg(long)]
    pub out: PathBuf,
    /// Results folder (with calls.jsonl) to cut from.
    #[arg(long, default_value = "results")]
    pub results: PathBuf,
    /// Only hits of this lexicon category (e.g. 反问); default: the six 服务禁语 categories.
    #[arg(long)]
    pub category: Option<String>,
    /// Only deductions of this rubric rule (e.g. 4.6).
    #[arg(long)]
    pub rule: Option<String>,
    /// Only this agent.
    #[arg(long)]
    pub agent: Option<String>,
    /// Only this month (YYYY-MM).
    #[arg(long)]
    pub month: Option<String>,
    /// Context before and after the evidence, e.g. 2s or 1500ms.
    #[arg(long, default_value = "2s")]
    pub context: String,
    /// Agent channel only, or both channels.
    #[arg(long, value_enum, default_value = "agent")]
    pub channel: Channel,
}

/// Which channels a clip keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Channel {
    Agent,
    Both,
}

fn parse_duration(s: &str) -> anyhow::Result<u64> {
    let s = s.trim();
    let (num, scale) = if let Some(n) = s.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1000.0)
    } else {
        (s, 1000.0)
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("--context {s}: write e.g. 2s or 1500ms"))?;
    Ok((v * scale) as u64)
}

/// Reads `DIR/calls.jsonl`.
pub(super) fn load_results(dir: &Path) -> anyhow::Result<Vec<CallResult>> {
    let path = dir.join("calls.jsonl");
    let file = std::fs::File::open(&path).with_context(|| {
        format!(
            "{}: cannot open; run `callqa run` or `callqa score` first",
            path.display()
        )
    })?;
    let mut out = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        out.push(
            serde_json::from_str(&line)
                .with_context(|| format!("{}:{}: not a callqa result", path.display(), i + 1))?,
        );
    }
    Ok(out)
}

pub fn run(args: ClipsArgs) -> anyhow::Result<ExitCode> {
    let results = load_results(&args.results)?;
    let sel = Selection {
        category: args.category,
        rule: args.rule,
        agent: args.agent,
        month: args.month,
        context_ms: parse_duration(&args.context)?,
        both: args.channel == Channel::Both,
    };
    let rows = clips::cut(&results, &args.out, &sel).map_err(|e| anyhow::anyhow!(e))?;
    eprintln!(
        "{} clips in {} (index.csv, index.jsonl)",
        rows.len(),
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
