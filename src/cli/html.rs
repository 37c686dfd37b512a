//! `callqa html`: the inspector's report of a results folder, read from its store.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::report::html::{self, AudioScope, Options};

/// Arguments of `callqa html`.
#[derive(Debug, clap::Args)]
pub struct HtmlArgs {
    /// Results folder written by `callqa run` or `callqa score`; the report goes to its
    /// `report/` subfolder.
    ///
    /// Example: `callqa html --out results` then open `results/report/index.html`.
    #[arg(long)]
    pub out: PathBuf,
    /// Hide phone, ID-card and bank-card numbers in every text, and leave the audio out.
    #[arg(long)]
    pub redact: bool,
    /// Which calls get an audio player (a 16-bit PCM WAV beside the report).
    #[arg(long, value_enum, default_value = "flagged")]
    pub audio: AudioScope,
    #[command(flatten)]
    pub rubrics: super::RubricArgs,
    /// Language of the report's interface words.
    #[arg(long, value_enum, default_value = "zh")]
    pub lang: crate::score::Lang,
}

pub fn run(args: HtmlArgs) -> anyhow::Result<ExitCode> {
    use crate::store::results;
    results::require(&args.out)?;
    // The report is rewritten in DIR: not while a run writes there.
    let _lock = crate::batch::lock(&args.out)?;
    let rubrics = args.rubrics.load()?;
    let opts = Options {
        lang: args.lang,
        redact: args.redact || super::settings_redact(args.rubrics.config.as_deref())?,
        audio: args.audio,
    };
    let categories = results::hit_categories(&args.out)?;
    let mut report = html::Report::begin(&args.out, &rubrics, &opts, categories)?;
    results::stream(&args.out, |call| {
        report.add(&call).map_err(anyhow::Error::from)
    })?;
    let summary = report.finish()?;
    for line in &summary.audio_problems {
        eprintln!("{line}");
    }
    eprintln!(
        "{} calls in {} ({} without audio)",
        summary.calls,
        summary.index.display(),
        summary.audio_problems.len()
    );
    Ok(if summary.audio_problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
