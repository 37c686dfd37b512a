//! `callqa run` and `callqa rescore`: the cron batch and its cheap re-score.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use super::ConfigArgs;
use crate::asr::AsrConfig;
use crate::batch::{self, NamePattern, Pipeline, Reporting, Shard, Summary};
use crate::report::rollup::{Format, Lang};
use crate::{AgentChannel, Direction};

/// Arguments of `callqa run`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["manifest", "dir"])))]
pub struct RunArgs {
    /// Manifest CSV: call_id,audio,agent_id,started_at,direction,agent_channel (+ any extra
    /// columns, carried through). Audio paths are relative to the manifest's folder.
    #[arg(long)]
    pub manifest: Option<PathBuf>,
    /// Instead of a manifest: every recording under this folder, metadata from file names.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// With --dir: regex with named groups call_id, agent_id, and started_at (RFC 3339) or
    /// date (YYYYMMDD) + time (HHMMSS); optional direction, agent_channel.
    #[arg(long, default_value = batch::manifest::DEFAULT_PATTERN)]
    pub pattern: String,
    /// With --dir: direction when the file name does not say.
    #[arg(long, value_enum, default_value = "inbound")]
    pub direction: Direction,
    /// With --dir: agent channel when the file name does not say.
    #[arg(long, value_enum, default_value = "left")]
    pub agent_channel: AgentChannel,
    /// With --dir: UTC offset of file-name times.
    #[arg(long, default_value = "+08:00")]
    pub utc_offset: String,
    /// Output folder: database, calls.jsonl, rollup/, report/.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub config: ConfigArgs,
    /// ggml Whisper model file (loaded only if a call needs transcribing).
    #[arg(long, env = "CALLQA_MODEL", default_value = crate::asr::DEFAULT_MODEL)]
    pub model: PathBuf,
    /// Calls processed in parallel [default: number of cores].
    #[arg(long)]
    pub jobs: Option<usize>,
    /// whisper.cpp threads per job.
    #[arg(long, default_value_t = 1)]
    pub asr_threads: usize,
    /// Dead air: both parties silent at least this long (ms).
    #[arg(long, default_value_t = 5_000)]
    pub dead_air_ms: u64,
    /// Run only shard i of n (0-based), or `auto` from Kubernetes/Slurm array variables.
    #[arg(long)]
    pub shard: Option<String>,
    /// Exit 0 while at most this many calls fail.
    #[arg(long, default_value_t = 0)]
    pub max_failed: u64,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// How a batch command talks.
#[derive(Debug, clap::Args)]
pub struct OutputArgs {
    /// No summary line (errors are still printed).
    #[arg(short, long)]
    pub quiet: bool,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Skip the HTML report.
    #[arg(long)]
    pub no_html: bool,
}

/// Arguments of `callqa rescore`.
#[derive(Debug, clap::Args)]
pub struct RescoreArgs {
    /// Output folder of an earlier run.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Holds `DIR/.lock` while a run writes into DIR.
pub(super) struct Lock {
    _file: std::fs::File,
}

pub(super) fn lock(out: &Path) -> anyhow::Result<Lock> {
    std::fs::create_dir_all(out)
        .with_context(|| format!("{}: cannot create the output folder", out.display()))?;
    let path = out.join(".lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("{}: cannot open the lock file", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(Lock { _file: file }),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "{}: another callqa is writing to this folder; wait for it to finish (a killed run frees the lock at once)",
            out.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => Err(e).with_context(|| format!("{}: cannot lock", path.display())),
    }
}

pub(super) fn pipeline(
    config: &ConfigArgs,
    model: PathBuf,
    asr: AsrConfig,
) -> anyhow::Result<Pipeline> {
    Pipeline::load(
        &config.lexicons,
        &config.rubrics,
        &config.calendar,
        model,
        asr,
    )
    .map_err(|e| anyhow::anyhow!("{e}"))
}

/// Exports calls.jsonl, the rollup and (unless told not to) the HTML report.
pub(super) fn finish(
    out: &Path,
    html: bool,
    rubrics: &crate::score::Rubrics,
) -> anyhow::Result<()> {
    let results = batch::export(out).map_err(|e| anyhow::anyhow!(e))?;
    let mut df =
        crate::report::rollup::rollup(&results, rubrics, None).context("building the rollup")?;
    crate::report::rollup::write(
        &out.join("rollup"),
        &mut df,
        &[Format::Csv, Format::Parquet, Format::Xlsx],
        Lang::Zh,
    )
    .map_err(|e| anyhow::anyhow!(e))?;
    if html {
        crate::report::html::write(
            out,
            &results,
            rubrics,
            &crate::report::html::Options::default(),
        )
        .map_err(|e| anyhow::anyhow!(e))?;
    }
    Ok(())
}

fn report_summary(s: &Summary, output: &OutputArgs, max_failed: u64) -> ExitCode {
    if output.json {
        println!("{}", serde_json::to_string(s).unwrap_or_default());
    } else if !output.quiet {
        eprintln!("{}", s.line());
    }
    if s.failed + s.bad_rows > max_failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let shard = args
        .shard
        .as_deref()
        .map(Shard::parse)
        .transpose()
        .map_err(|e| anyhow::anyhow!(e))?;
    let _lock = lock(&args.out)?;
    let asr = AsrConfig {
        threads: args.asr_threads,
        ..AsrConfig::default()
    };
    let mut pipeline = pipeline(&args.config, args.model.clone(), asr)?;
    pipeline.dead_air_ms = args.dead_air_ms;
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let reporting = Reporting {
        progress: std::io::stderr().is_terminal(),
        quiet: args.output.quiet,
    };
    let summary = if let Some(manifest) = &args.manifest {
        let calls = batch::Manifest::open(manifest)?;
        batch::run(&pipeline, calls, &args.out, jobs, shard, &reporting)?
    } else {
        let dir = args
            .dir
            .as_deref()
            .context("--dir or --manifest is required")?;
        let offset: chrono::FixedOffset = args
            .utc_offset
            .parse()
            .map_err(|_| anyhow::anyhow!("--utc-offset {}: write it as +08:00", args.utc_offset))?;
        let pattern = NamePattern {
            regex: regex::Regex::new(&args.pattern).context("--pattern is not a valid regex")?,
            direction: args.direction,
            agent_channel: args.agent_channel,
            utc_offset: offset,
        };
        batch::run(
            &pipeline,
            pattern.scan(dir).into_iter(),
            &args.out,
            jobs,
            shard,
            &reporting,
        )?
    };
    finish(&args.out, !args.output.no_html, &pipeline.rubrics)?;
    Ok(report_summary(&summary, &args.output, args.max_failed))
}

pub fn rescore(args: RescoreArgs) -> anyhow::Result<ExitCode> {
    let _lock = lock(&args.out)?;
    let pipeline = pipeline(&args.config, PathBuf::new(), AsrConfig::default())?;
    let mut summary = batch::rescore(&pipeline, &args.out)?;
    summary.model_loaded = pipeline
        .model_loaded
        .load(std::sync::atomic::Ordering::Relaxed);
    finish(&args.out, !args.output.no_html, &pipeline.rubrics)?;
    Ok(report_summary(&summary, &args.output, 0))
}
