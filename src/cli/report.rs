//! `callqa report`: the monthly per-agent rollup from an output folder.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::report::rollup::{Format, Lang};

/// Arguments of `callqa report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Output folder of `callqa run` or `callqa merge`.
    #[arg(long)]
    pub out: PathBuf,
    /// Only this month, e.g. 2026-10 (default: every month, one XLSX sheet each).
    #[arg(long)]
    pub month: Option<String>,
    /// Formats to write, comma-separated: rollup.csv (UTF-8 with BOM), .parquet, .xlsx.
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
    /// Rubric folder: tells which rules check hold etiquette.
    #[arg(long, default_value = "rubrics")]
    pub rubrics: PathBuf,
}

pub fn run(args: ReportArgs) -> anyhow::Result<ExitCode> {
    if let Some(m) = &args.month {
        if chrono::NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d").is_err() {
            anyhow::bail!("--month {m:?}: write it like 2026-10");
        }
    }
    if !args.out.join(crate::store::DB_FILE).is_file() {
        anyhow::bail!(
            "{}: no {} here; run `callqa run --out {}` first",
            args.out.display(),
            crate::store::DB_FILE,
            args.out.display()
        );
    }
    let rubrics = crate::score::Rubrics::load_dir(&args.rubrics)?;
    let store = crate::store::Store::open(&args.out)?;
    for path in crate::report::rollup::export(
        &store,
        &args.out,
        &rubrics,
        args.month.clone(),
        &args.format,
        args.lang,
    )? {
        println!("{}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
