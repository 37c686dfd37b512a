//! The scorecard file (`scorecards/*.toml`) and the team lead's events CSV, read and checked:
//! every number finite, grades in order, events known and in range, each problem named by file
//! and line. Kept apart from the monthly computation and its polars table, so the fuzz targets
//! can compile it by path.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::Deserialize;

use crate::util::line_at;

/// How an event counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Bonus,
    Minor,
    Medium,
    Severe,
    /// The team lead's monthly adjustment, held to its range in total.
    Adjust,
    /// 入职: the month employment starts, for the months before pay floats.
    Hired,
    /// Counts in no escalation.
    None,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Escalation {
    pub points: f64,
    pub medium: usize,
    pub minor: usize,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grade {
    pub name: String,
    pub min: f64,
    #[serde(default = "yes")]
    pub inclusive: bool,
}

fn yes() -> bool {
    true
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QualityRule {
    pub rule: String,
    pub points: f64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quality {
    pub per_error: f64,
    pub severity: Severity,
    #[serde(default, rename = "rule")]
    pub rules: Vec<QualityRule>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventKind {
    pub name: String,
    pub points: f64,
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
    pub severity: Severity,
    #[serde(default)]
    pub reason_required: bool,
}

impl EventKind {
    /// The points an event of this kind may carry, `(min, max)`.
    pub fn range(&self) -> (f64, f64) {
        (
            self.min.unwrap_or(self.points),
            self.max.unwrap_or(self.points),
        )
    }
}

/// One scorecard file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scorecard {
    pub name: String,
    pub title: String,
    pub base: f64,
    pub cap: f64,
    pub yuan_per_point: f64,
    pub pay_swing_yuan: f64,
    pub pay_from_month: u32,
    pub escalation: Escalation,
    pub below: String,
    #[serde(rename = "grade")]
    pub grades: Vec<Grade>,
    pub quality: Quality,
    #[serde(rename = "event")]
    pub events: Vec<EventKind>,
}

/// A scorecard or events-file problem, `file:line: what — what to do`.
#[derive(Debug, thiserror::Error)]
#[error("{}: {message}", crate::util::location(path, *line))]
pub struct ScorecardError {
    pub path: PathBuf,
    pub line: usize,
    pub message: String,
}

impl Scorecard {
    /// Loads `scorecards/NAME.toml` (or NAME itself when it is a path to a file).
    pub fn load(dir: &Path, name: &str) -> Result<Scorecard, ScorecardError> {
        let path = if name.ends_with(".toml") {
            PathBuf::from(name)
        } else {
            dir.join(format!("{name}.toml"))
        };
        let text = std::fs::read_to_string(&path).map_err(|e| ScorecardError {
            path: path.clone(),
            line: 0,
            message: format!("cannot read ({e}); pass --scorecards DIR or the file's path"),
        })?;
        Scorecard::parse(&path, &text)
    }

    /// Parses and checks one scorecard.
    pub fn parse(path: &Path, text: &str) -> Result<Scorecard, ScorecardError> {
        let err = |line: usize, message: String| ScorecardError {
            path: path.to_path_buf(),
            line,
            message,
        };
        let card: Scorecard = toml::from_str(text).map_err(|e| {
            err(
                e.span().map_or(0, |s| line_at(text, s.start)),
                e.message().trim().to_string() + "; see scorecards/002.toml for every key",
            )
        })?;
        let line_of = |needle: &str| {
            text.lines()
                .position(|l| l.contains(needle))
                .map_or(0, |i| i + 1)
        };
        let numbers = [
            card.base,
            card.cap,
            card.yuan_per_point,
            card.pay_swing_yuan,
            card.escalation.points,
            card.quality.per_error,
        ];
        let numbers_ok = numbers.iter().all(|v| v.is_finite())
            && card.grades.iter().all(|g| g.min.is_finite())
            && card.quality.rules.iter().all(|r| r.points.is_finite());
        if !numbers_ok || card.cap < card.base {
            return Err(err(
                0,
                "every number must be finite and cap at least base, e.g. base = 80, cap = 110"
                    .into(),
            ));
        }
        if card.grades.windows(2).any(|w| w[0].min < w[1].min) {
            return Err(err(
                line_of("[[grade]]"),
                "grades must be listed from the highest min down".into(),
            ));
        }
        let mut seen = BTreeMap::new();
        for e in &card.events {
            let (lo, hi) = e.range();
            let line = line_of(&format!("\"{}\"", e.name));
            let finite = [e.points, lo, hi].iter().all(|v| v.is_finite());
            if !(finite && lo <= e.points && e.points <= hi) {
                return Err(err(
                    line,
                    format!("event {}: need min ≤ points ≤ max, all finite", e.name),
                ));
            }
            if seen.insert(e.name.clone(), ()).is_some() {
                return Err(err(
                    line,
                    format!("event {} is listed twice; keep one", e.name),
                ));
            }
        }
        Ok(card)
    }

    fn event(&self, name: &str) -> Option<&EventKind> {
        self.events.iter().find(|e| e.name == name)
    }
}

/// One line of the events CSV.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub agent_id: String,
    pub date: NaiveDate,
    pub event: String,
    pub points: f64,
    pub severity: Severity,
    pub reason: String,
}

#[derive(Deserialize)]
struct EventRow {
    agent_id: String,
    date: String,
    event: String,
    #[serde(default)]
    points: String,
    #[serde(default)]
    reason: String,
}

/// Reads the team lead's events CSV (header `agent_id,date,event,points,reason`).
pub fn read_events(path: &Path, card: &Scorecard) -> Result<Vec<Event>, ScorecardError> {
    let err = |line: u64, message: String| ScorecardError {
        path: path.to_path_buf(),
        line: line as usize,
        message,
    };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| err(0, format!("cannot read ({e})")))?;
    let headers = reader
        .headers()
        .map_err(|e| err(1, format!("{e}")))?
        .clone();
    let mut out = Vec::new();
    for record in reader.records() {
        let record =
            record.map_err(|e| err(e.position().map_or(0, |p| p.line()), e.to_string()))?;
        let line = record.position().map_or(0, |p| p.line());
        let row: EventRow = record.deserialize(Some(&headers)).map_err(|e| {
            err(
                line,
                format!("{e}; the header is agent_id,date,event,points,reason"),
            )
        })?;
        out.push(event(card, row).map_err(|m| err(line, m))?);
    }
    Ok(out)
}

fn event(card: &Scorecard, row: EventRow) -> Result<Event, String> {
    let date = NaiveDate::parse_from_str(row.date.trim_start_matches('\u{feff}'), "%Y-%m-%d")
        .map_err(|_| format!("date {:?} is not a date; write 2026-10-13", row.date))?;
    let Some(kind) = card.event(&row.event) else {
        return Err(format!(
            "unknown event {:?}; use one of the events in scorecard {}",
            row.event, card.name
        ));
    };
    let points = if row.points.is_empty() {
        kind.points
    } else {
        row.points
            .parse::<f64>()
            .ok()
            .filter(|p| p.is_finite())
            .ok_or(format!("points {:?} is not a number", row.points))?
    };
    let (lo, hi) = kind.range();
    if points < lo || points > hi {
        return Err(format!(
            "{} allows {lo}…{hi} points, not {points}",
            kind.name
        ));
    }
    if kind.reason_required && row.reason.is_empty() {
        return Err(format!("{} needs a reason in the reason column", kind.name));
    }
    Ok(Event {
        agent_id: row.agent_id,
        date,
        event: row.event,
        points,
        severity: kind.severity,
        reason: row.reason,
    })
}
