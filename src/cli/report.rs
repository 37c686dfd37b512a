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
    /// Rubric sheets (the rollup has a column per item of each) and the settings file.
    #[command(flatten)]
    pub rubrics: super::RubricArgs,
    /// Also compute this monthly 考核 scorecard (scorecards/NAME.toml, e.g. 002), written beside
    /// the rollup as scorecard-NAME.*.
    #[arg(long, value_name = "NAME")]
    pub scorecard: Option<String>,
    /// Folder of scorecard files [default: settings, else the shipped scorecards].
    #[arg(long)]
    pub scorecards: Option<PathBuf>,
    /// Hide personal numbers in the calls.jsonl this rewrites, as `callqa run --redact` does
    /// (give it whenever the run had it); `redact = true` in the settings does the same.
    #[arg(long)]
    pub redact: bool,
    /// The team lead's events (CSV: agent_id,date,event,points,reason) for --scorecard.
    #[arg(long, value_name = "FILE", requires = "scorecard")]
    pub events: Option<PathBuf>,
}

pub fn run(args: ReportArgs) -> anyhow::Result<ExitCode> {
    crate::store::results::require(&args.out)?;
    // The rollup is rewritten in DIR: not while a run writes there.
    let _lock = crate::batch::lock(&args.out)?;
    // Reviews published since the last run change which score is in force: calls.jsonl says
    // so again, in the same pass that counts the rollup with the same scores.
    let reviewed = crate::store::review::reviewed_scores(&crate::store::Store::open(&args.out)?)?;
    let redact = args.redact || super::settings_redact(args.rubrics.config.as_deref())?;
    let rubrics = args.rubrics.load()?;
    let mut totals = rollup::Rollup::new(&rubrics, args.month.as_deref());
    crate::store::results::export(&args.out, redact, &reviewed, |call| {
        totals.add(call, &reviewed);
        Ok::<_, crate::store::results::ResultsError>(())
    })?;
    let mut df = totals.table()?;
    for path in rollup::write(&args.out.join("rollup"), &mut df, &args.format, args.lang)
        .map_err(|e| anyhow::anyhow!(e))?
    {
        println!("{}", path.display());
    }
    if let Some(name) = &args.scorecard {
        use crate::report::scorecard;
        let settings = crate::settings::Settings::find(args.rubrics.config.as_deref())?;
        let folder = settings.folder(
            args.scorecards.as_deref(),
            crate::settings::Folder::Scorecards,
        )?;
        let card = scorecard::Scorecard::load(&folder.path, name)?;
        let events = match &args.events {
            Some(path) => scorecard::read_events(path, &card)?,
            None => Vec::new(),
        };
        let results = crate::store::results::load(&args.out)?;
        let rows = scorecard::compute(&card, &results, &events, args.month.as_deref());
        let mut table = scorecard::table(&rows, args.lang)?;
        let stem = format!("scorecard-{}", card.name);
        for path in rollup::write_table(&args.out.join("rollup"), &stem, &mut table, &args.format)
            .map_err(|e| anyhow::anyhow!(e))?
        {
            println!("{}", path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
