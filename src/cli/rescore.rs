//! `callqa rescore`: apply edited lexicons, rubric or calendar to every stored transcript.

use std::path::PathBuf;
use std::process::ExitCode;

use super::run::{finish, pipeline, RulesArgs};

/// Arguments of `callqa rescore`.
#[derive(Debug, clap::Args)]
pub struct RescoreArgs {
    /// Output folder of an earlier `callqa run`.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub rules: RulesArgs,
    /// Re-score every call, even those whose rules did not change.
    #[arg(long)]
    pub all: bool,
    /// No summary line on stderr.
    #[arg(short, long)]
    pub quiet: bool,
    /// Print the summary as one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: RescoreArgs) -> anyhow::Result<ExitCode> {
    if !args.out.join(crate::store::DB_FILE).is_file() {
        anyhow::bail!(
            "{}: no {} here; run `callqa run --out {}` first",
            args.out.display(),
            crate::store::DB_FILE,
            args.out.display()
        );
    }
    // The model path is never used: rescoring reads stored transcripts only.
    let pipeline = pipeline(&args.rules, PathBuf::new(), 1, 0)?;
    let _lock = crate::batch::OutputLock::acquire(&args.out)?;
    let summary = crate::batch::rescore(
        &pipeline,
        &args.out,
        args.all,
        std::thread::available_parallelism().map_or(1, |n| n.get()),
    )?;
    finish(
        &args.out,
        pipeline.rubrics(),
        &summary,
        args.quiet,
        args.json,
        u64::MAX,
    )
}
