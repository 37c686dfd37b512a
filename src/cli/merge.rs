//! `callqa merge`: combine the output folders of shards without re-scoring.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::batch;
use crate::store::Store;

/// Arguments of `callqa merge`.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// Output folders of the shards.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Folder that receives the merged database and exports.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub rubrics: super::RubricArgs,
    #[arg(long)]
    pub no_html: bool,
    /// Hide phone, ID-card and bank-card numbers in calls.jsonl and the report.
    #[arg(long)]
    pub redact: bool,
}

pub fn run(args: MergeArgs) -> anyhow::Result<ExitCode> {
    let _lock = batch::lock(&args.out)?;
    let store = Store::open(&args.out)?;
    let mut total = 0;
    for dir in &args.dirs {
        total += store
            .absorb(dir)
            .with_context(|| format!("{}: merging", dir.display()))?;
    }
    drop(store);
    args.rubrics.finish(&args.out, !args.no_html, args.redact)?;
    eprintln!(
        "merged {total} calls from {} folders into {}",
        args.dirs.len(),
        args.out.join(crate::store::results::FILE).display()
    );
    Ok(ExitCode::SUCCESS)
}
