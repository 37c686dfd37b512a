//! The monthly 考核 scorecard (seed 002): per agent and month, base points plus the quality
//! points from the 质检 results, plus the events a team lead records (bonuses, violations, the
//! ±5 adjustment), the escalation for repeated violations, a cap, a grade and the pay change.
//!
//! Every number lives in `scorecards/*.toml`, because seed 002 is a garbled machine translation
//! and each number is a reading to be checked by the centre (`scorecards/002.toml` says where each
//! comes from). Events come from a CSV the team lead keeps — `agent_id,date,event,points,reason`,
//! `points` blank for the event's default — and an unknown event, a value out of its range or a
//! missing reason is an error naming the file and line: a scorecard that silently dropped a
//! violation would change someone's pay.

mod card;

use std::collections::BTreeMap;

use chrono::Datelike;
use polars::prelude::*;

pub use card::{
    read_events, Escalation, Event, EventKind, Grade, Quality, QualityRule, Scorecard,
    ScorecardError, Severity,
};

use crate::score::{Lang, Status};
use crate::CallResult;

impl Scorecard {
    fn grade(&self, total: f64) -> &str {
        self.grades
            .iter()
            .find(|g| {
                if g.inclusive {
                    total >= g.min
                } else {
                    total > g.min
                }
            })
            .map_or(self.below.as_str(), |g| g.name.as_str())
    }

    /// The points one call costs: the most severe listed rule it was deducted on, else
    /// `per_error` when it was deducted at all.
    fn call_points(&self, r: &CallResult) -> Option<f64> {
        if r.status != Status::Ok || r.deductions.is_empty() {
            return None;
        }
        let listed = self
            .quality
            .rules
            .iter()
            .filter(|q| r.deductions.iter().any(|d| d.rule == q.rule))
            .map(|q| q.points)
            .fold(None, |acc: Option<f64>, p| {
                Some(acc.map_or(p, |a| a.min(p)))
            });
        Some(listed.unwrap_or(self.quality.per_error))
    }
}

/// One agent's month.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub month: String,
    pub agent_id: String,
    pub calls: usize,
    pub quality_errors: usize,
    pub quality_points: f64,
    pub bonus_points: f64,
    pub violation_points: f64,
    pub adjust_points: f64,
    pub minor: usize,
    pub medium: usize,
    pub severe: usize,
    pub escalation_points: f64,
    /// Before the cap.
    pub raw_total: f64,
    pub total: f64,
    pub grade: String,
    /// 1 in the month of 入职; `None` when no 入职 event is known.
    pub month_of_employment: Option<i32>,
    /// `None` while pay does not float yet or the 入职 month is unknown.
    pub pay_change_yuan: Option<f64>,
}

fn month_index(year: i32, month: u32) -> i32 {
    year * 12 + month as i32 - 1
}

fn parse_month(m: &str) -> Option<i32> {
    let (y, mo) = m.split_once('-')?;
    Some(month_index(y.parse().ok()?, mo.parse().ok()?))
}

#[derive(Default)]
struct Tally {
    calls: usize,
    errors: usize,
    quality: f64,
    bonus: f64,
    violations: f64,
    adjust: f64,
    minor: usize,
    medium: usize,
    severe: usize,
}

impl Tally {
    fn count(&mut self, severity: Severity) {
        match severity {
            Severity::Minor => self.minor += 1,
            Severity::Medium => self.medium += 1,
            Severity::Severe => self.severe += 1,
            _ => {}
        }
    }
}

/// The scorecard per agent and month (only `month` when given), from the calls' results and
/// the events. Months are the calls' local months, as in the rollup.
pub fn compute(
    card: &Scorecard,
    results: &[CallResult],
    events: &[Event],
    month: Option<&str>,
) -> Vec<Row> {
    let mut tallies: BTreeMap<(String, String), Tally> = BTreeMap::new();
    for r in results {
        let m = r.started_at.format("%Y-%m").to_string();
        let t = tallies.entry((m, r.agent_id.clone())).or_default();
        t.calls += 1;
        if let Some(p) = card.call_points(r) {
            t.errors += 1;
            t.quality += p;
            t.count(card.quality.severity);
        }
    }
    let mut hired: BTreeMap<&str, i32> = BTreeMap::new();
    for e in events {
        let m = format!("{:04}-{:02}", e.date.year(), e.date.month());
        if e.severity == Severity::Hired {
            hired.insert(&e.agent_id, month_index(e.date.year(), e.date.month()));
            continue;
        }
        let t = tallies.entry((m, e.agent_id.clone())).or_default();
        match e.severity {
            Severity::Bonus => t.bonus += e.points,
            Severity::Adjust => t.adjust += e.points,
            _ => t.violations += e.points,
        }
        t.count(e.severity);
    }
    tallies
        .into_iter()
        .filter(|((m, _), _)| month.is_none_or(|want| want == m))
        .map(|((m, agent), t)| row(card, m, agent, &t, &hired))
        .collect()
}

fn row(
    card: &Scorecard,
    month: String,
    agent_id: String,
    t: &Tally,
    hired: &BTreeMap<&str, i32>,
) -> Row {
    let adjust_range = card
        .events
        .iter()
        .find(|e| e.severity == Severity::Adjust)
        .map_or((0.0, 0.0), EventKind::range);
    let adjust = t.adjust.clamp(adjust_range.0, adjust_range.1);
    let escalated = t.medium >= card.escalation.medium || t.minor >= card.escalation.minor;
    let escalation = if escalated {
        card.escalation.points
    } else {
        0.0
    };
    let raw_total = card.base + t.quality + t.bonus + t.violations + adjust + escalation;
    let total = raw_total.min(card.cap);
    let month_of_employment = hired
        .get(agent_id.as_str())
        .zip(parse_month(&month))
        .map(|(h, m)| m - h + 1);
    let pay_change_yuan = month_of_employment
        .filter(|&n| n >= card.pay_from_month as i32)
        .map(|_| {
            ((total - card.base) * card.yuan_per_point)
                .clamp(-card.pay_swing_yuan, card.pay_swing_yuan)
        });
    Row {
        grade: card.grade(total).to_string(),
        month,
        agent_id,
        calls: t.calls,
        quality_errors: t.errors,
        quality_points: t.quality,
        bonus_points: t.bonus,
        violation_points: t.violations,
        adjust_points: adjust,
        minor: t.minor,
        medium: t.medium,
        severe: t.severe,
        escalation_points: escalation,
        raw_total,
        total,
        month_of_employment,
        pay_change_yuan,
    }
}

/// The rows as a table with headers in `lang`, for the rollup's writers.
pub fn table(rows: &[Row], lang: Lang) -> PolarsResult<DataFrame> {
    let h = |zh: &str, en: &str| -> PlSmallStr {
        match lang {
            Lang::Zh => zh.into(),
            Lang::En => en.into(),
        }
    };
    let f = |get: fn(&Row) -> f64| rows.iter().map(get).collect::<Vec<f64>>();
    let n = |get: fn(&Row) -> usize| rows.iter().map(|r| get(r) as i64).collect::<Vec<i64>>();
    DataFrame::new_infer_height(vec![
        Column::new(
            h("月份", "month"),
            rows.iter().map(|r| r.month.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            h("坐席工号", "agent_id"),
            rows.iter().map(|r| r.agent_id.clone()).collect::<Vec<_>>(),
        ),
        Column::new(h("通话数", "calls"), n(|r| r.calls)),
        Column::new(h("质检差错通话", "quality_errors"), n(|r| r.quality_errors)),
        Column::new(h("质检扣分", "quality_points"), f(|r| r.quality_points)),
        Column::new(h("奖励加分", "bonus_points"), f(|r| r.bonus_points)),
        Column::new(h("违规扣分", "violation_points"), f(|r| r.violation_points)),
        Column::new(h("组长调整", "adjust_points"), f(|r| r.adjust_points)),
        Column::new(h("轻度违规次数", "minor"), n(|r| r.minor)),
        Column::new(h("中度违规次数", "medium"), n(|r| r.medium)),
        Column::new(h("严重违规次数", "severe"), n(|r| r.severe)),
        Column::new(
            h("累计违规加扣", "escalation_points"),
            f(|r| r.escalation_points),
        ),
        Column::new(h("封顶前总分", "raw_total"), f(|r| r.raw_total)),
        Column::new(h("考核总分", "total"), f(|r| r.total)),
        Column::new(
            h("等级", "grade"),
            rows.iter().map(|r| r.grade.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            h("入职第几月", "month_of_employment"),
            rows.iter()
                .map(|r| r.month_of_employment)
                .collect::<Vec<_>>(),
        ),
        Column::new(
            h("工资浮动元", "pay_change_yuan"),
            rows.iter().map(|r| r.pay_change_yuan).collect::<Vec<_>>(),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::score::Deduction;
    use crate::{AgentChannel, CallMeta, Direction};

    fn card() -> Scorecard {
        Scorecard::load(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("scorecards"),
            "002",
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn call(agent: &str, day: u32, rules: &[&str]) -> CallResult {
        let meta = CallMeta {
            call_id: format!("{agent}-{day}-{}", rules.join("")),
            audio: "a.wav".into(),
            agent_id: agent.into(),
            started_at: chrono::DateTime::parse_from_rfc3339(&format!(
                "2026-10-{day:02}T10:00:00+08:00"
            ))
            .expect("time"),
            direction: Direction::Inbound,
            agent_channel: AgentChannel::Left,
            extra: Default::default(),
        };
        let mut r = CallResult::for_call(&meta);
        r.deductions = rules
            .iter()
            .map(|rule| Deduction::bare(rule, 10.0))
            .collect();
        r
    }

    fn events(card: &Scorecard, csv: &str) -> Result<Vec<Event>, ScorecardError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("events.csv");
        std::fs::write(&path, csv).expect("write");
        read_events(&path, card)
    }

    /// Worked by hand from scorecards/002.toml, with the seed's own examples as anchors (002:81
    /// 91 points → +110 元; 002:82 68 points → −120 元).
    #[test]
    fn a_hand_computed_month() {
        let card = card();
        let results = [
            call("A1", 3, &["2.3"]),
            call("A1", 4, &["1.1", "2.2"]),
            call("A1", 5, &[]),
            call("A2", 6, &["4.2"]),
            call("A3", 7, &[]),
        ];
        let csv = "agent_id,date,event,points,reason\n\
            A1,2026-08-01,入职,,\n\
            A1,2026-10-08,紧急情况顶岗,,国庆加班\n\
            A1,2026-10-15,完成额外工作,,\n\
            A1,2026-10-20,客服测试满分,,\n\
            A2,2026-06-01,入职,,\n\
            A2,2026-10-09,未经批准安装软件,,\n\
            A2,2026-10-21,组长调整,3,主动带新人\n\
            A3,2026-10-08,入职,,\n\
            A3,2026-10-10,上班上网看电影玩游戏,,\n\
            A3,2026-10-11,无故缺席部门例会,,\n\
            A3,2026-10-30,组长调整,5,整改积极\n\
            A3,2026-10-31,组长调整,4,月底表现好\n";
        let events = events(&card, csv).unwrap_or_else(|e| panic!("{e}"));
        let rows = compute(&card, &results, &events, Some("2026-10"));
        let by = |a: &str| rows.iter().find(|r| r.agent_id == a).expect(a).clone();
        // A1: 80 − 2 − 2 (two deducted calls at per_error) + 5 + 5 + 5 = 91 → A, third month of
        // employment (Aug, Sep, Oct): (91 − 80) × 10 = +110 元.
        let a1 = by("A1");
        assert_eq!(
            (a1.calls, a1.quality_errors, a1.quality_points),
            (3, 2, -4.0)
        );
        assert_eq!(
            (
                a1.total,
                a1.grade.as_str(),
                a1.month_of_employment,
                a1.pay_change_yuan
            ),
            (91.0, "A", Some(3), Some(110.0))
        );
        // A2: 80 − 5 (4.2 listed at −5) − 10 (medium) + 3 (adjustment) = 68 → D, −120 元.
        let a2 = by("A2");
        assert_eq!(
            (a2.total, a2.grade.as_str(), a2.pay_change_yuan),
            (68.0, "D", Some(-120.0))
        );
        // A3: 80 − 10 − 10 − 20 (2 medium: escalation) + 5 (adjustments 5 + 4 held to +5) = 45,
        // below E; first month: scored only, pay does not float.
        let a3 = by("A3");
        assert_eq!(
            (a3.medium, a3.escalation_points, a3.adjust_points),
            (2, -20.0, 5.0)
        );
        assert_eq!(
            (
                a3.total,
                a3.grade.as_str(),
                a3.month_of_employment,
                a3.pay_change_yuan
            ),
            (45.0, "E以下", Some(1), None)
        );
    }

    #[test]
    fn the_cap_and_the_pay_swing() {
        let card = card();
        let csv: String = std::iter::once(
            "agent_id,date,event,points,reason\nA9,2026-01-05,入职,,\n".to_string(),
        )
        .chain((1..=7).map(|d| format!("A9,2026-10-{d:02},紧急情况顶岗,,顶岗\n")))
        .collect();
        let events = events(&card, &csv).unwrap_or_else(|e| panic!("{e}"));
        let rows = compute(&card, &[], &events, None);
        assert_eq!(
            (rows[0].raw_total, rows[0].total, rows[0].pay_change_yuan),
            (115.0, 110.0, Some(300.0))
        );
        assert_eq!(rows[0].grade, "A");
    }

    #[test]
    fn bad_events_name_the_line_and_the_fix() {
        let card = card();
        let cases = [
            (
                "A1,2026-10-01,上班打游戏,,\n",
                "events.csv:2: unknown event",
            ),
            (
                "A1,2026-10-01,组长调整,8,表现好\n",
                "events.csv:2: 组长调整 allows -5…5 points",
            ),
            ("A1,2026-10-01,组长调整,2,\n", "needs a reason"),
            ("A1,10/01/2026,旷工,,\n", "write 2026-10-13"),
        ];
        for (line, want) in cases {
            let e = events(&card, &format!("agent_id,date,event,points,reason\n{line}"))
                .expect_err(line);
            assert!(e.to_string().contains(want), "{line}: {e}");
        }
        let e = Scorecard::parse(Path::new("scorecards/x.toml"), "name = \"x\"\nbase = nan\n")
            .expect_err("nan");
        assert!(e.to_string().starts_with("scorecards/x.toml"), "{e}");
    }
}
