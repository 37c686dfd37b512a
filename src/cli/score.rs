//! `callqa score`: score calls whose transcripts come from elsewhere (another recogniser, a
//! hand-made script), with no audio, into the same store `callqa run` writes. The input format
//! is described in [`crate::batch::external`].

use std::path::PathBuf;
use std::process::ExitCode;

use super::run::OutputArgs;
use super::ConfigArgs;
use crate::batch;

/// Arguments of `callqa score`.
#[derive(Debug, clap::Args)]
pub struct ScoreArgs {
    /// Calls as JSON lines (`call_id, agent_id, started_at, direction, segments`).
    ///
    /// Example line: {"call_id":"c1","agent_id":"a7","started_at":"2026-10-01T09:30:00+08:00",
    /// "direction":"inbound","segments":[{"role":"agent","start_ms":800,"end_ms":3200,
    /// "text":"您好，客服中心，请问有什么可以帮您？"}]}
    #[arg(long)]
    pub transcripts: PathBuf,
    /// Output folder: database, calls.jsonl, rollup/, report/ (shared with `callqa run`).
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    #[command(flatten)]
    pub jobs: super::run::JobsArg,
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(args: ScoreArgs) -> anyhow::Result<ExitCode> {
    let _lock = batch::lock(&args.out)?;
    let pipeline = args.config.pipeline(None)?;
    let summary = batch::external::score_file(
        &pipeline,
        &args.transcripts,
        &args.out,
        args.jobs.resolve(&args.config.settings()?),
    )?;
    args.output
        .finish(&args.out, &args.config, &pipeline.rubrics)?;
    Ok(args.output.summary(&summary, 0))
}
