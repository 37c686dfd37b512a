//! `callqa clips`: WAV clips of matching hits and deductions for trainers, with an index.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::report::clips::{self, ClipChannel, ClipOptions};

/// Arguments of `callqa clips`.
#[derive(Debug, clap::Args)]
pub struct ClipsArgs {
    /// Folder for the clips, `index.csv` and `index.jsonl` (created; re-runs reuse it).
    #[arg(long)]
    pub out: PathBuf,
    /// Results folder of `callqa run` or `callqa score`.
    #[arg(long, default_value = "results")]
    pub results: PathBuf,
    /// Only hits of this lexicon category, e.g. `反问`.
    #[arg(long)]
    pub category: Option<String>,
    /// Only this rubric sub-rule or item (`4.6`, `4`) or lexicon entry (`反问:14`).
    #[arg(long)]
    pub rule: Option<String>,
    /// Only this agent.
    #[arg(long)]
    pub agent: Option<String>,
    /// Only calls started in this month, `YYYY-MM` (e.g. `2026-10`).
    #[arg(long, value_parser = parse_month)]
    pub month: Option<String>,
    /// Audio kept before and after the evidence: `2s`, `1.5s`, `500ms`.
    #[arg(long, default_value = "2s", value_parser = parse_duration_ms)]
    pub context: u64,
    /// Channels in each clip.
    #[arg(long, value_enum, default_value = "agent")]
    pub channel: ClipChannel,
    /// Hide phone, ID-card and bank-card numbers: `*` in the index, a bleep in the audio.
    #[arg(long)]
    pub redact: bool,
    /// Settings file (`redact = true` there redacts too).
    #[arg(long)]
    pub config: Option<PathBuf>,
}

pub fn run(args: ClipsArgs) -> anyhow::Result<ExitCode> {
    let results = crate::store::results::load(&args.results)?;
    let opts = ClipOptions {
        category: args.category,
        rule: args.rule,
        agent: args.agent,
        month: args.month,
        context_ms: args.context,
        channel: args.channel,
        redact: args.redact || super::settings_redact(args.config.as_deref())?,
    };
    let summary = clips::write(&args.out, &args.results, &results, &opts)?;
    for line in &summary.failed {
        eprintln!("{line}");
    }
    eprintln!(
        "{} clips in {} ({} calls failed)",
        summary.rows.len(),
        args.out.display(),
        summary.failed.len()
    );
    Ok(if !summary.failed.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn parse_month(s: &str) -> Result<String, String> {
    chrono::NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d")
        .map(|_| s.to_string())
        .map_err(|_| format!("{s:?} is not a month: write it as YYYY-MM, e.g. 2026-10"))
}

fn parse_duration_ms(s: &str) -> Result<u64, String> {
    let bad = || format!("{s:?} is not a duration: write e.g. 2s, 1.5s or 500ms");
    let (number, scale) = if let Some(n) = s.strip_suffix("ms") {
        (n, 1.0)
    } else {
        (s.strip_suffix('s').unwrap_or(s), 1000.0)
    };
    let value: f64 = number.trim().parse().map_err(|_| bad())?;
    if !value.is_finite() || value < 0.0 {
        return Err(bad());
    }
    Ok((value * scale).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_months_parse() {
        assert_eq!(parse_duration_ms("2s"), Ok(2000));
        assert_eq!(parse_duration_ms("1.5s"), Ok(1500));
        assert_eq!(parse_duration_ms("500ms"), Ok(500));
        assert_eq!(parse_duration_ms("3"), Ok(3000));
        assert!(parse_duration_ms("-1s").is_err());
        assert!(parse_duration_ms("two").is_err());
        assert!(parse_month("2026-10").is_ok());
        assert!(parse_month("2026-13").is_err());
    }
}
