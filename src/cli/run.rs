//! `callqa run` and `callqa rescore`: the cron batch and its cheap re-score.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use super::ConfigArgs;
use crate::batch::{self, Interrupt, NamePattern, RunOptions, Shard, Summary};
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
    /// ggml Whisper model file, loaded only if a call needs transcribing [default: settings,
    /// else the file `callqa model prepare` wrote].
    #[arg(long, env = "CALLQA_MODEL")]
    pub model: Option<PathBuf>,
    #[command(flatten)]
    pub jobs: JobsArg,
    /// Memory the run may use (e.g. 4G, 1500M): --jobs is lowered so that every worker fits
    /// at its peak (a 4-hour call) [default: 3/4 of the machine's memory or cgroup limit].
    #[arg(long, value_parser = batch::memory::parse_size)]
    pub max_memory: Option<u64>,
    /// Use a model file that is not one of the two `callqa model prepare` builds.
    #[arg(long)]
    pub allow_unverified_model: bool,
    /// whisper.cpp threads per job.
    #[arg(long, default_value_t = 1)]
    pub asr_threads: usize,
    /// Dead air: both parties silent at least this long (ms) [default: settings, else 5000].
    #[arg(long)]
    pub dead_air_ms: Option<u64>,
    /// Run only shard i of n (0-based), or `auto` from Kubernetes/Slurm array variables.
    #[arg(long)]
    pub shard: Option<String>,
    /// Exit 0 while at most this many calls fail.
    #[arg(long, default_value_t = 0)]
    pub max_failed: u64,
    /// Try again the calls that failed before on the same recording, and the calls an earlier
    /// run was killed on (otherwise they are reported, not retried).
    #[arg(long)]
    pub retry_failed: bool,
    /// Let a different recording or metadata replace a stored call with the same call_id
    /// (otherwise that call is an error naming both).
    #[arg(long)]
    pub replace: bool,
    /// Hash every recording again (by default a file whose size, modification time and inode
    /// are unchanged keeps the hash it had, so a rerun opens no recording).
    #[arg(long)]
    pub verify_audio: bool,
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
    /// Hide phone, ID-card and bank-card numbers in calls.jsonl and the report (text and
    /// audio); `redact = true` in the settings does the same.
    #[arg(long)]
    pub redact: bool,
}

impl OutputArgs {
    /// Writes the exports the way these flags (and the settings) say.
    pub(super) fn finish(
        &self,
        out: &std::path::Path,
        config: &ConfigArgs,
        rubrics: &crate::score::Rubrics,
    ) -> anyhow::Result<()> {
        let redact = self.redact || super::settings_redact(config.config.as_deref())?;
        batch::finish(out, rubrics, !self.no_html, redact)?;
        Ok(())
    }

    /// Run options for a batch that talks as these flags say.
    pub(super) fn options(&self) -> RunOptions {
        RunOptions {
            progress: std::io::stderr().is_terminal(),
            quiet: self.quiet,
            ..RunOptions::default()
        }
    }

    /// Prints the summary the way cron wants it and picks the exit code: 128 + the signal
    /// that stopped the run, else 1 when too many calls failed.
    pub(super) fn summary(&self, s: &Summary, max_failed: u64) -> ExitCode {
        if self.json {
            println!("{}", serde_json::to_string(s).unwrap_or_default());
        } else if !self.quiet {
            eprintln!("{}", s.line());
        }
        if let Some(code) = s.interrupted.and_then(|sig| u8::try_from(128 + sig).ok()) {
            return ExitCode::from(code);
        }
        if s.failed + s.bad_rows > max_failed {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        }
    }
}

/// Arguments of `callqa rescore`.
#[derive(Debug, clap::Args)]
pub struct RescoreArgs {
    /// Output folder of an earlier run.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub jobs: JobsArg,
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let shard = args
        .shard
        .as_deref()
        .map(Shard::parse)
        .transpose()
        .map_err(|e| anyhow::anyhow!(e))?;
    let _lock = batch::lock(&args.out)?;
    let settings = args.config.settings()?;
    let mut pipeline = args.config.pipeline(args.model.as_deref())?;
    pipeline.asr.threads = args.asr_threads;
    pipeline.allow_unverified_model = args.allow_unverified_model;
    if let Some(ms) = args.dead_air_ms {
        pipeline.dead_air_ms = ms;
    }
    let opts = RunOptions {
        jobs: capped_jobs(args.jobs.resolve(&settings), args.max_memory),
        shard,
        retry_failed: args.retry_failed,
        replace: args.replace,
        verify_audio: args.verify_audio,
        interrupt: Interrupt::install(),
        ..args.output.options()
    };
    let summary = if let Some(manifest) = &args.manifest {
        let calls = batch::Manifest::open(manifest)?;
        batch::run(&pipeline, calls, &args.out, &opts)?
    } else {
        let pattern = name_pattern(&args)?;
        let dir = args
            .dir
            .as_deref()
            .context("--dir or --manifest is required")?;
        batch::run(&pipeline, pattern.scan(dir).into_iter(), &args.out, &opts)?
    };
    args.output
        .finish(&args.out, &args.config, &pipeline.rubrics)?;
    Ok(args.output.summary(&summary, args.max_failed))
}

/// `wanted` jobs, fewer (said on stderr) if their peak memory would pass the budget.
fn capped_jobs(wanted: usize, max_memory: Option<u64>) -> usize {
    let Some(budget) = max_memory.or_else(batch::memory::default_budget) else {
        return wanted;
    };
    let jobs = batch::memory::jobs_within(budget, wanted);
    if jobs < wanted {
        let gib = |b: u64| b as f64 / f64::from(1u32 << 30);
        eprintln!(
            "callqa: running {jobs} jobs instead of {wanted}: each may need {:.1} GiB for a long call, and the memory budget is {:.1} GiB (--max-memory)",
            gib(batch::memory::WORKER_PEAK_BYTES),
            gib(budget)
        );
    }
    jobs
}

/// How many calls are worked on at once.
#[derive(Debug, clap::Args)]
pub struct JobsArg {
    /// Calls worked on in parallel [default: settings, else one per core].
    #[arg(long)]
    pub jobs: Option<usize>,
}

impl JobsArg {
    pub(super) fn resolve(&self, settings: &crate::settings::Settings) -> usize {
        self.jobs
            .or(settings.file.jobs)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    }
}

fn name_pattern(args: &RunArgs) -> anyhow::Result<NamePattern> {
    let offset: chrono::FixedOffset = args
        .utc_offset
        .parse()
        .map_err(|_| anyhow::anyhow!("--utc-offset {}: write it as +08:00", args.utc_offset))?;
    Ok(NamePattern {
        regex: regex::Regex::new(&args.pattern).context("--pattern is not a valid regex")?,
        direction: args.direction,
        agent_channel: args.agent_channel,
        utc_offset: offset,
    })
}

pub fn rescore(args: RescoreArgs) -> anyhow::Result<ExitCode> {
    let _lock = batch::lock(&args.out)?;
    let pipeline = args.config.pipeline(None)?;
    let opts = RunOptions {
        jobs: args.jobs.resolve(&args.config.settings()?),
        ..args.output.options()
    };
    let mut summary = batch::rescore(&pipeline, &args.out, &opts)?;
    summary.model_loaded = pipeline
        .model_loaded
        .load(std::sync::atomic::Ordering::Relaxed);
    args.output
        .finish(&args.out, &args.config, &pipeline.rubrics)?;
    Ok(args.output.summary(&summary, 0))
}
