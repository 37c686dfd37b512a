//! `callqa merge`: combine the output folders of shards into one, without re-scoring.

use std::path::PathBuf;
use std::process::ExitCode;

use super::run::{export, RulesArgs};

/// Arguments of `callqa merge`.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// Output folders of `callqa run --shard` (one per shard).
    #[arg(required = true)]
    pub shards: Vec<PathBuf>,
    /// Folder to merge into (created if missing; may already hold earlier merges).
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub rules: RulesArgs,
}

pub fn run(args: MergeArgs) -> anyhow::Result<ExitCode> {
    let rubrics = crate::score::Rubrics::load_dir(&args.rules.rubrics)?;
    let _lock = crate::batch::OutputLock::acquire(&args.out)?;
    let mut store = crate::store::Store::open(&args.out)?;
    for shard in &args.shards {
        if !shard.join(crate::store::DB_FILE).is_file() {
            anyhow::bail!(
                "{}: no {} here; pass the --out folders of the shard runs",
                shard.display(),
                crate::store::DB_FILE
            );
        }
        // A shard still running would hand over half its calls.
        let _shard_lock = crate::batch::OutputLock::acquire(shard)?;
        store.absorb(shard)?;
    }
    export(&args.out, &rubrics)?;
    eprintln!(
        "{} calls merged from {} folders into {}",
        store.call_count()?,
        args.shards.len(),
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
