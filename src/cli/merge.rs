//! `callqa merge`: combine the output folders of shards without re-scoring.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use super::ConfigArgs;
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
    pub config: ConfigArgs,
    #[arg(long)]
    pub no_html: bool,
}

pub fn run(args: MergeArgs) -> anyhow::Result<ExitCode> {
    let _lock = super::run::lock(&args.out)?;
    let store = Store::open(&args.out)?;
    let mut total = 0;
    for dir in &args.dirs {
        total += store
            .absorb(dir)
            .with_context(|| format!("{}: merging", dir.display()))?;
    }
    drop(store);
    let rubrics = crate::score::Rubrics::load_dir(&args.config.rubrics)?;
    super::run::finish(&args.out, !args.no_html, &rubrics)?;
    eprintln!(
        "merged {total} calls from {} folders into {}",
        args.dirs.len(),
        args.out.join("calls.jsonl").display()
    );
    Ok(ExitCode::SUCCESS)
}
