//! `callqa html`: the inspector's report of an output folder.

use std::path::PathBuf;
use std::process::ExitCode;

use super::ConfigArgs;
use crate::report::html;

/// Arguments of `callqa html`.
#[derive(Debug, clap::Args)]
pub struct HtmlArgs {
    /// Output folder of a run (or of `callqa score`); the report goes to DIR/report/.
    #[arg(long)]
    pub out: PathBuf,
    /// Hide phone, ID-card and bank-card numbers in every text shown.
    #[arg(long)]
    pub redact: bool,
    #[command(flatten)]
    pub config: ConfigArgs,
}

pub fn run(args: HtmlArgs) -> anyhow::Result<ExitCode> {
    let results = super::clips::load_results(&args.out)?;
    let rubrics = crate::score::Rubrics::load_dir(&args.config.rubrics)?;
    html::write(
        &args.out,
        &results,
        &rubrics,
        &html::Options {
            redact: args.redact,
        },
    )
    .map_err(|e| anyhow::anyhow!(e))?;
    eprintln!("report: {}", args.out.join("report/index.html").display());
    Ok(ExitCode::SUCCESS)
}
