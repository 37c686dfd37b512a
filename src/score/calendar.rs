//! Holidays and the greeting each day needs (`calendars/*.toml`), for rule 2.2.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate, Weekday};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    weekends: bool,
    #[serde(default)]
    weekend_greetings: Vec<String>,
    #[serde(default, rename = "holiday")]
    holidays: Vec<Holiday>,
    #[serde(default)]
    workdays: Vec<NaiveDate>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Holiday {
    name: String,
    dates: Vec<NaiveDate>,
    #[serde(default)]
    greetings: Vec<String>,
    #[serde(default = "yes")]
    greeting_required: bool,
}

fn yes() -> bool {
    true
}

/// What a day asks of the agent's opening.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DayGreeting {
    /// Holiday name, or `周末`.
    pub occasion: String,
    /// Any one of these satisfies the rule.
    pub greetings: Vec<String>,
}

/// The loaded calendar(s).
#[derive(Clone, Debug, Default)]
pub struct Calendar {
    days: BTreeMap<NaiveDate, DayGreeting>,
    workdays: Vec<NaiveDate>,
    weekends: Option<Vec<String>>,
    /// sha256 over the files: part of a result's cache key.
    pub version: String,
}

/// A calendar problem, `file:line: what`.
#[derive(Debug, thiserror::Error)]
#[error("{}: {message}", crate::util::location(path, *line))]
pub struct CalendarError {
    pub path: PathBuf,
    pub line: usize,
    pub message: String,
}

impl Calendar {
    /// Loads every `*.toml` in `dir`.
    pub fn load_dir(dir: &Path) -> Result<Calendar, CalendarError> {
        use sha2::{Digest, Sha256};
        let paths = crate::util::config_files(dir, "toml").map_err(|e| CalendarError {
            path: dir.to_path_buf(),
            line: 0,
            message: format!("cannot read the calendar folder ({e}); pass --calendar DIR"),
        })?;
        let mut cal = Calendar::default();
        let mut hash = Sha256::new();
        for path in paths {
            let text = std::fs::read_to_string(&path).map_err(|e| CalendarError {
                path: path.clone(),
                line: 0,
                message: format!("cannot read ({e})"),
            })?;
            hash.update(text.as_bytes());
            cal.add(&path, &text)?;
        }
        cal.version = hex::encode(hash.finalize());
        Ok(cal)
    }

    /// Adds one calendar file's content.
    pub fn add(&mut self, path: &Path, text: &str) -> Result<(), CalendarError> {
        let file: File = toml::from_str(text).map_err(|e| CalendarError {
            path: path.to_path_buf(),
            line: e.span().map_or(0, |s| crate::util::line_at(text, s.start)),
            message: format!("{}; dates are written 2026-10-01", e.message()),
        })?;
        for h in file.holidays {
            if h.greeting_required && h.greetings.is_empty() {
                return Err(CalendarError {
                    path: path.to_path_buf(),
                    line: text.lines().position(|l| l.contains(&h.name)).map_or(0, |i| i + 1),
                    message: format!("holiday {} lists no greetings; add greetings = [\"…\"] or greeting_required = false", h.name),
                });
            }
            for d in h.dates {
                let greeting = DayGreeting {
                    occasion: h.name.clone(),
                    greetings: if h.greeting_required {
                        h.greetings.clone()
                    } else {
                        Vec::new()
                    },
                };
                self.days.insert(d, greeting);
            }
        }
        self.workdays.extend(file.workdays);
        if file.weekends {
            self.weekends = Some(file.weekend_greetings);
        }
        Ok(())
    }

    /// How many dates the calendar names as holidays.
    pub fn holiday_days(&self) -> usize {
        self.days.len()
    }

    /// The greeting `date` needs, if any: a holiday's, else a weekend's (unless it is a 调休
    /// working day). Holidays without a required greeting need none, even on a weekend.
    pub fn greeting_for(&self, date: NaiveDate) -> Option<DayGreeting> {
        if let Some(day) = self.days.get(&date) {
            return (!day.greetings.is_empty()).then(|| day.clone());
        }
        let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
        match &self.weekends {
            Some(greetings) if weekend && !self.workdays.contains(&date) => Some(DayGreeting {
                occasion: "周末".into(),
                greetings: greetings.clone(),
            }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Calendar {
        Calendar::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("calendars"))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn holidays_weekends_and_make_up_days() {
        let cal = shipped();
        let national = cal.greeting_for(day("2026-10-01")).expect("国庆");
        assert_eq!(national.occasion, "国庆");
        assert!(national.greetings.contains(&"国庆快乐".to_string()));
        // 2026-10-03 is a Saturday inside 国庆: the holiday's greeting, not the weekend's.
        assert_eq!(
            cal.greeting_for(day("2026-10-03")).expect("国庆").occasion,
            "国庆"
        );
        assert_eq!(
            cal.greeting_for(day("2026-10-17"))
                .expect("weekend")
                .occasion,
            "周末"
        );
        // 2026-10-10 is a Saturday worked in exchange for 国庆.
        assert_eq!(cal.greeting_for(day("2026-10-10")), None);
        assert_eq!(cal.greeting_for(day("2026-10-13")), None);
        assert_eq!(
            cal.greeting_for(day("2026-02-17")).expect("春节").greetings[0],
            "新年好"
        );
        // 清明 needs no greeting even when it falls on a weekend.
        assert_eq!(cal.greeting_for(day("2026-04-04")), None);
    }

    #[test]
    fn a_holiday_without_greetings_is_an_error_with_its_line() {
        let mut cal = Calendar::default();
        let e = cal
            .add(
                Path::new("calendars/x.toml"),
                "[[holiday]]\nname = \"中秋\"\ndates = [\"2026-09-25\"]\n",
            )
            .expect_err("no greetings");
        assert!(
            e.to_string()
                .starts_with("calendars/x.toml:2: holiday 中秋"),
            "{e}"
        );
    }
}
