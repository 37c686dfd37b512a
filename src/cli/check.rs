//! `callqa check`: validate the rubric, the lexicons and the calendar without touching audio,
//! so a QA lead learns of a typo before the nightly run does.
//!
//! Every problem is printed (`file:line: what; what to do`), not just the first, and the
//! rubric's lexicon names are checked against the lexicon folder: a rule naming a list that
//! does not exist would otherwise never fire and look like a clean call. Prints one summary
//! line per part on stdout; exit 0 when all is well, 2 otherwise.

use std::path::Path;
use std::process::ExitCode;

use super::ConfigArgs;
use crate::scan::{Lexicons, Scanner};
use crate::score::{Calendar, Check, Rubric, Rubrics};
use crate::settings::Folder;

/// Arguments of `callqa check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
}

pub fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let settings = args.config.settings()?;
    if let Some(path) = &settings.path {
        println!("settings: {}", path.display());
    }
    for (folder, flag) in [
        (Folder::Lexicons, &args.config.lexicons),
        (Folder::Rubrics, &args.config.rubrics),
        (Folder::Calendars, &args.config.calendar),
    ] {
        let r = settings.folder(flag.as_deref(), folder)?;
        println!("{}: {} ({})", folder.name(), r.path.display(), r.origin);
    }
    let paths = args.config.paths(&settings)?;
    let mut problems: Vec<String> = Vec::new();
    let lexicons = check_lexicons(&paths.lexicons, &mut problems);
    match Rubrics::load_dir(&paths.rubrics) {
        Ok(rubrics) => {
            for sheet in &rubrics.sheets {
                check_sheet(sheet, lexicons.as_ref(), &paths.lexicons, &mut problems);
            }
        }
        Err(e) => problems.push(e.to_string()),
    }
    match Calendar::load_dir(&paths.calendar) {
        Ok(cal) => println!("calendar: {} holiday days", cal.holiday_days()),
        Err(e) => problems.push(e.to_string()),
    }
    for p in &problems {
        eprintln!("{p}");
    }
    if problems.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("{} problems; nothing was scored", problems.len());
        Ok(ExitCode::from(2))
    }
}

/// Loads the lexicons and builds the scanner from them, as `run` would.
fn check_lexicons(dir: &Path, problems: &mut Vec<String>) -> Option<Lexicons> {
    match Lexicons::load_dir(dir) {
        Ok(lex) => {
            if let Err(e) = Scanner::new(&lex) {
                problems.push(format!("{}: {e}", dir.display()));
            }
            let mut categories: Vec<&str> =
                lex.entries.iter().map(|e| e.category.as_str()).collect();
            categories.dedup();
            println!(
                "lexicons: {} categories, {} entries",
                categories.len(),
                lex.entries.len()
            );
            Some(lex)
        }
        Err(errors) => {
            problems.extend(errors.0.iter().map(ToString::to_string));
            None
        }
    }
}

/// Summarises one rubric sheet and checks every lexicon its rules name, the detectors'
/// defaults included, against the lexicon folder.
fn check_sheet(
    sheet: &Rubric,
    lexicons: Option<&Lexicons>,
    dir: &Path,
    problems: &mut Vec<String>,
) {
    let rules: Vec<_> = sheet.items.iter().flat_map(|i| &i.rules).collect();
    let count = |c: Check| rules.iter().filter(|r| r.check == c).count();
    println!(
        "rubric {} ({:?}): {} items, {} sub-rules ({} auto, {} assist, {} manual), {} points",
        sheet.name,
        sheet.direction,
        sheet.items.len(),
        rules.len(),
        count(Check::Auto),
        count(Check::Assist),
        count(Check::Manual),
        sheet.items_total()
    );
    let Some(lex) = lexicons else { return };
    for (line, rule, name) in sheet.lexicons_named() {
        if !lex.entries.iter().any(|e| e.category == name) {
            problems.push(format!(
                "{}:{line}: rule {rule} names lexicon {name:?}, which {} does not have; add {name}.txt there or fix the name",
                sheet.path.display(),
                dir.display()
            ));
        }
    }
}
