//! `callqa report`: the monthly per-agent rollup of an output folder.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::report::rollup::{self, Format, Lang};

/// Arguments of `callqa report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Output folder of a run; the rollup goes to DIR/rollup/.
    #[arg(long)]
    pub out: PathBuf,
    /// Only this month (YYYY-MM, in the calls' local time).
    #[arg(long)]
    pub month: Option<String>,
    /// Formats to write.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "csv,parquet,xlsx"
    )]
    pub format: Vec<Format>,
    /// Column headers in Chinese or English.
    #[arg(long, value_enum, default_value = "zh")]
    pub lang: Lang,
}

pub fn run(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let results = crate::store::results::load(&args.out)?;
    let mut df = rollup::rollup(&results, args.month.as_deref())?;
    for path in rollup::write(&args.out.join("rollup"), &mut df, &args.format, args.lang)
        .map_err(|e| anyhow::anyhow!(e))?
    {
        println!("{}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
