//! `callqa init`, `import`, `completions` and `man`: getting callqa set up on a machine and
//! bringing results from elsewhere into a store.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::CommandFactory;

use crate::store::{results, Store};

/// Arguments of `callqa init`.
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Folder for the copies and `callqa.toml` (created; must not hold them already).
    pub dir: PathBuf,
}

/// Arguments of `callqa import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// A calls.jsonl written by `callqa run` or `callqa score`.
    pub file: PathBuf,
    /// Output folder whose store receives the results; its exports are rewritten.
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long)]
    pub no_html: bool,
    /// Hide phone, ID-card and bank-card numbers in calls.jsonl and the report.
    #[arg(long)]
    pub redact: bool,
    #[command(flatten)]
    pub rubrics: super::RubricArgs,
}

/// Arguments of `callqa completions`.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    pub shell: clap_complete::Shell,
}

pub fn init(args: InitArgs) -> anyhow::Result<ExitCode> {
    let settings = crate::settings::init(&args.dir)?;
    eprintln!(
        "wrote the shipped lexicons, rubrics, calendars and scorecards into {}; edit them, then `callqa check --config {}`",
        args.dir.display(),
        settings.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Loads every readable line; a bad line is named and skipped (exit 1).
pub fn import(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let _lock = crate::batch::lock(&args.out)?;
    let (calls, bad) = results::read_jsonl(&args.file)?;
    for b in &bad {
        eprintln!(
            "{}:{}: {}; line skipped",
            args.file.display(),
            b.line,
            b.reason
        );
    }
    let store = Store::open(&args.out)?;
    for call in &calls {
        store.import(call)?;
    }
    drop(store);
    args.rubrics.finish(&args.out, !args.no_html, args.redact)?;
    eprintln!(
        "imported {} calls into {}",
        calls.len(),
        args.out.join(results::FILE).display()
    );
    Ok(if bad.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

pub fn completions(args: CompletionsArgs) -> anyhow::Result<ExitCode> {
    let mut cmd = super::Args::command();
    clap_complete::generate(args.shell, &mut cmd, "callqa", &mut std::io::stdout());
    Ok(ExitCode::SUCCESS)
}

pub fn man() -> anyhow::Result<ExitCode> {
    clap_mangen::Man::new(super::Args::command()).render(&mut std::io::stdout())?;
    Ok(ExitCode::SUCCESS)
}
