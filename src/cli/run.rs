//! `callqa run`: the cron batch. Also the pieces `rescore`, `merge` and `report` share:
//! the rule folders, the exports and the summary line.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use crate::batch::{self, dirscan, manifest::Manifest, Config, Pipeline, Shard, Summary};
use crate::report::rollup::{self, Format, Lang};
use crate::store::Store;
use crate::{AgentChannel, Direction};

/// Where the lexicons, rubric and calendar live.
#[derive(Debug, clap::Args)]
pub struct RulesArgs {
    /// Lexicon folder (`*.txt`, one phrase a line).
    #[arg(long, default_value = "lexicons")]
    pub lexicons: PathBuf,
    /// Rubric folder (`*.toml`, one sheet per direction).
    #[arg(long, default_value = "rubrics")]
    pub rubrics: PathBuf,
    /// Holiday calendar folder (`*.toml`).
    #[arg(long, default_value = "calendars")]
    pub calendar: PathBuf,
}

/// Arguments of `callqa run`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = RUN_HELP)]
pub struct RunArgs {
    /// Manifest CSV: call_id,audio,agent_id,started_at,direction,agent_channel (+ extra columns).
    #[arg(long, required_unless_present = "dir", conflicts_with = "dir")]
    pub manifest: Option<PathBuf>,
    /// Recordings folder whose file names carry the metadata (with --pattern).
    #[arg(long, requires = "pattern")]
    pub dir: Option<PathBuf>,
    /// Regex with named groups matched against each file name under --dir (see below).
    #[arg(long)]
    pub pattern: Option<String>,
    /// Direction of calls whose name has no `direction` group.
    #[arg(long, value_enum, default_value = "inbound")]
    pub direction: Direction,
    /// Agent channel of calls whose name has no `agent_channel` group.
    #[arg(long, value_enum, default_value = "left")]
    pub agent_channel: AgentChannel,
    /// UTC offset of `date`/`time` groups in file names.
    #[arg(long, default_value = "+08:00")]
    pub utc_offset: String,
    /// Output folder: callqa.db, calls.jsonl, rollup.{csv,parquet,xlsx}.
    #[arg(long)]
    pub out: PathBuf,
    /// Calls processed at once (default: the number of cores).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// whisper.cpp threads per job.
    #[arg(long, default_value_t = 1)]
    pub asr_threads: usize,
    /// ggml Whisper model file; loaded only if some call needs transcribing.
    #[arg(long, env = "CALLQA_MODEL", default_value = crate::asr::DEFAULT_MODEL)]
    pub model: PathBuf,
    #[command(flatten)]
    pub rules: RulesArgs,
    /// Only the calls of shard i of n (0-based, e.g. 2/8), or `auto` from JOB_COMPLETION_INDEX +
    /// JOB_COMPLETIONS (Kubernetes) or SLURM_ARRAY_TASK_ID + SLURM_ARRAY_TASK_COUNT.
    #[arg(long)]
    pub shard: Option<String>,
    /// Exit 0 as long as at most this many calls failed.
    #[arg(long, default_value_t = 0)]
    pub max_failed: u64,
    /// Gaps with neither party speaking at least this long count as dead air.
    #[arg(long, default_value_t = 3000)]
    pub dead_air_min_ms: u64,
    /// No summary line on stderr (failed calls are still listed).
    #[arg(short, long)]
    pub quiet: bool,
    /// Print the summary as one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

const RUN_HELP: &str = "\
Calls already scored with the same audio, model, lexicons, rubric and calendar are skipped;
a lexicon or rubric edit re-scores from stored transcripts without loading the model.
Kill it at any time: a rerun resumes and every call ends with exactly one result.

File names as metadata (--dir with --pattern): the regex must match the whole file name.
Named groups: agent_id (required); started_at (RFC 3339) or date (20261001 / 2026-10-01)
plus time (093000 / 09:30:00, in --utc-offset); call_id (default: name without extension);
direction (inbound/outbound/in/out; default --direction); agent_channel (left/right/mono;
default --agent-channel). Example, for 20261001_093000_A017_in_c123.wav:

  callqa run --dir recordings/ --out results/ \\
    --pattern '(?P<date>\\d{8})_(?P<time>\\d{6})_(?P<agent_id>[^_]+)_(?P<direction>in|out)_(?P<call_id>[^.]+)\\.\\w+'

Exit codes: 0 all calls ok (or at most --max-failed failed); 1 more calls failed;
2 could not run (usage, manifest header, lexicons, rubric, model, output folder locked).";

/// Loads lexicons, rubric and calendar (not the model) into a pipeline.
pub fn pipeline(
    rules: &RulesArgs,
    model: PathBuf,
    asr_threads: usize,
    dead_air_min_ms: u64,
) -> anyhow::Result<Pipeline> {
    Ok(Pipeline::new(Config {
        lexicons: rules.lexicons.clone(),
        rubrics: rules.rubrics.clone(),
        calendar: rules.calendar.clone(),
        model,
        asr: crate::asr::AsrConfig {
            threads: asr_threads.max(1),
            ..Default::default()
        },
        vad: crate::audio::VadConfig::default(),
        dead_air_min_ms,
    })?)
}

pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let shard = match args.shard.as_deref() {
        None => None,
        Some("auto") => {
            Some(Shard::from_env(|k| std::env::var(k).ok()).map_err(anyhow::Error::msg)?)
        }
        Some(spec) => Some(
            spec.parse::<Shard>()
                .map_err(|e| anyhow::anyhow!("--shard: {e}"))?,
        ),
    };
    let pipeline = pipeline(
        &args.rules,
        args.model.clone(),
        args.asr_threads,
        args.dead_air_min_ms,
    )?;
    let _lock = batch::OutputLock::acquire(&args.out)?;
    let options = batch::Options {
        jobs: args
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
        shard,
        progress: !args.quiet && std::io::stderr().is_terminal(),
    };
    let summary = if let Some(manifest) = &args.manifest {
        batch::run(Manifest::open(manifest)?, &pipeline, &args.out, &options)?
    } else {
        let dir = args.dir.as_deref().unwrap_or(Path::new("."));
        let offset: chrono::FixedOffset = args.utc_offset.parse().map_err(|_| {
            anyhow::anyhow!("--utc-offset {:?}: write it like +08:00", args.utc_offset)
        })?;
        let defaults = dirscan::Defaults {
            direction: args.direction,
            agent_channel: args.agent_channel,
            utc_offset: offset,
        };
        let scan =
            dirscan::DirScan::new(dir, args.pattern.as_deref().unwrap_or_default(), defaults)?;
        batch::run(scan, &pipeline, &args.out, &options)?
    };
    finish(
        &args.out,
        pipeline.rubrics(),
        &summary,
        args.quiet,
        args.json,
        args.max_failed,
    )
}

/// Writes calls.jsonl and the rollups, prints the summary, and picks the exit code.
pub fn finish(
    out: &Path,
    rubrics: &crate::score::Rubrics,
    summary: &Summary,
    quiet: bool,
    json: bool,
    max_failed: u64,
) -> anyhow::Result<ExitCode> {
    export(out, rubrics)?;
    if json {
        println!("{}", serde_json::to_string(summary)?);
    }
    if !quiet {
        let rtf = summary
            .real_time_factor
            .map_or(String::new(), |r| format!(", real-time factor {r:.3}"));
        eprintln!(
            "{} calls: {} scored, {} cached, {} failed; {:.2} h of audio in {:.1} s{rtf} (see {})",
            summary.total,
            summary.scored,
            summary.cached,
            summary.failed,
            summary.audio_hours,
            summary.wall_s,
            out.join(crate::report::jsonl::FILE).display()
        );
    }
    Ok(if summary.failed > max_failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// calls.jsonl and rollup.{csv,parquet,xlsx} from the store.
pub fn export(out: &Path, rubrics: &crate::score::Rubrics) -> anyhow::Result<()> {
    let store = Store::open(out)?;
    crate::report::jsonl::export(&store, out)?;
    rollup::export(
        &store,
        out,
        rubrics,
        None,
        &[Format::Csv, Format::Parquet, Format::Xlsx],
        Lang::Zh,
    )
    .with_context(|| format!("{}: writing the rollup", out.display()))?;
    Ok(())
}
