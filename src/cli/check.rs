//! `callqa check`: validate lexicons, rubrics and calendar without touching audio.

use std::process::ExitCode;

use super::ConfigArgs;

/// Arguments of `callqa check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
}

pub fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let mut ok = true;
    match crate::scan::Lexicons::load_dir(&args.config.lexicons) {
        Ok(l) => eprintln!(
            "{}: {} entries",
            args.config.lexicons.display(),
            l.entries.len()
        ),
        Err(e) => {
            eprintln!("{e}");
            ok = false;
        }
    }
    match crate::score::Rubrics::load_dir(&args.config.rubrics) {
        Ok(r) => {
            for s in &r.sheets {
                let rules: usize = s.items.iter().map(|i| i.rules.len()).sum();
                eprintln!(
                    "{}: {} ({:?}), {} items, {rules} sub-rules",
                    s.path.display(),
                    s.name,
                    s.direction,
                    s.items.len()
                );
            }
        }
        Err(e) => {
            eprintln!("{e}");
            ok = false;
        }
    }
    if let Err(e) = crate::score::Calendar::load_dir(&args.config.calendar) {
        eprintln!("{e}");
        ok = false;
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}
