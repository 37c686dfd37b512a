//! The reviewed score: the machine's deductions under the reviewer's verdicts, re-scored with
//! the rubric's own forfeit-once and escalation rules, so a rejection refunds exactly what the
//! rubric would not have charged. Confirmed assist findings are charged here too, with the
//! 积分 / 元 their rule carries: the machine only flags them, so they cost nothing until a
//! person confirms them. Inspector flags (扣分加倍, 扣分减半, 不扣分) scale their rule's points.

use super::*;

/// A reviewer's verdict on one deduction, as the score needs it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Verdict {
    pub rejected: bool,
    /// Points set by a settled appeal (`changed`), replacing the deduction's own.
    pub points: Option<f64>,
}

/// Everything a review decided that the score depends on.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Judgement {
    /// Per machine deduction, in the result's order.
    pub verdicts: Vec<Verdict>,
    /// Manual items answered with points: (rule, points).
    pub manual: Vec<(String, f64)>,
    /// Per finding, in the result's order: whether the reviewer confirmed it.
    pub confirmed: Vec<bool>,
    /// Rule → the factor of the modifier flag the reviewer set on it.
    pub factors: HashMap<String, f64>,
}

impl Judgement {
    fn verdict(&self, i: usize) -> Verdict {
        self.verdicts.get(i).copied().unwrap_or_default()
    }

    fn factor(&self, rule: &str) -> f64 {
        self.factors.get(rule).copied().unwrap_or(1.0)
    }
}

/// What a review makes of a call: the score, and the 积分 / 元 charged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Reviewed {
    pub score: f64,
    pub credits: f64,
    pub fine_yuan: f64,
}

/// The call after review: the machine's deductions less the rejected ones, plus confirmed
/// findings and the manual items' points (each scaled by its rule's flag), with each item's
/// points forfeited at most once and escalations (`extra`) kept only while enough occurrences
/// stand. Without the call's sheet (renamed or removed since), it falls back to adding
/// rejected points back one by one.
pub fn reviewed(result: &CallResult, sheet: Option<&Rubric>, j: &Judgement) -> Reviewed {
    let (credits, fine_yuan) = result
        .findings
        .iter()
        .enumerate()
        .filter(|&(i, _)| j.confirmed.get(i).copied().unwrap_or(false))
        .fold((result.credits, result.fine_yuan), |(c, y), (_, f)| {
            (c + f.credits, y + f.fine_yuan)
        });
    let score = match sheet {
        Some(sheet) => {
            let (lost, bonus) = sheet.items.iter().fold((0.0, 0.0), |(lost, bonus), item| {
                if item.bonus {
                    (lost, bonus + manual_points(item, j).iter().sum::<f64>())
                } else {
                    (lost + item_loss(result, item, j), bonus)
                }
            });
            (sheet.max_score - lost + bonus).clamp(0.0, sheet.max_score)
        }
        None => unsheeted(result, j),
    };
    Reviewed {
        score,
        credits,
        fine_yuan,
    }
}

/// The reviewed score alone (see [`reviewed`]).
pub fn reviewed_score(result: &CallResult, sheet: Option<&Rubric>, j: &Judgement) -> f64 {
    reviewed(result, sheet, j).score
}

fn unsheeted(result: &CallResult, j: &Judgement) -> f64 {
    let refunded: f64 = (0..result.deductions.len())
        .filter(|&i| j.verdict(i).rejected)
        .map(|i| result.deductions[i].points)
        .sum();
    let manual: f64 = j.manual.iter().map(|(_, p)| p).sum();
    (result.score + refunded - manual).clamp(0.0, result.max_score.max(result.score))
}

/// The manual answers on `item`'s rules, each scaled by its rule's flag.
fn manual_points(item: &crate::score::Item, j: &Judgement) -> Vec<f64> {
    j.manual
        .iter()
        .filter(|(rule, _)| item.rules.iter().any(|r| &r.id == rule))
        .map(|(rule, p)| p * j.factor(rule))
        .collect()
}

/// What one non-bonus item costs after review: forfeited once (the largest charge of any
/// standing occurrence) or summed per occurrence, plus the escalations still earned.
fn item_loss(result: &CallResult, item: &crate::score::Item, j: &Judgement) -> f64 {
    let manual = manual_points(item, j);
    let mut forfeit = manual.iter().copied().fold(0.0, f64::max);
    let mut per_occurrence = manual.iter().sum::<f64>();
    let mut escalations = 0.0;
    for rule in &item.rules {
        let factor = j.factor(&rule.id);
        let of_rule: Vec<usize> = (0..result.deductions.len())
            .filter(|&i| result.deductions[i].rule == rule.id)
            .collect();
        let (extras, occurrences): (Vec<usize>, Vec<usize>) = of_rule
            .iter()
            .partition(|&&i| is_escalation(&result.deductions[i], rule));
        let kept: Vec<usize> = occurrences
            .iter()
            .copied()
            .filter(|&i| !j.verdict(i).rejected)
            .collect();
        for &i in &kept {
            let points = j.verdict(i).points;
            per_occurrence += points.unwrap_or(result.deductions[i].points) * factor;
            forfeit = forfeit.max(points.unwrap_or(item.points) * factor);
        }
        // A confirmed finding is an occurrence the machine only suspected.
        let found = (0..result.findings.len())
            .filter(|&i| result.findings[i].rule == rule.id)
            .filter(|&i| j.confirmed.get(i).copied().unwrap_or(false))
            .count();
        if found > 0 {
            per_occurrence += item.points * factor * found as f64;
            forfeit = forfeit.max(item.points * factor);
        }
        let none_rejected = kept.len() == occurrences.len();
        for &i in extras.iter().filter(|&&i| !j.verdict(i).rejected) {
            let enough = rule
                .extra
                .as_ref()
                .is_some_and(|x| none_rejected || kept.len() >= x.min_count);
            if enough {
                escalations += j.verdict(i).points.unwrap_or(result.deductions[i].points);
            }
        }
    }
    escalations
        + if item.per_occurrence {
            per_occurrence
        } else {
            forfeit
        }
}

/// Whether a deduction is the escalation (`extra`) of its rule rather than an occurrence: the
/// scorer writes it last, with the extra's points and a reason naming the threshold.
fn is_escalation(d: &crate::Deduction, rule: &crate::score::Rule) -> bool {
    rule.extra
        .as_ref()
        .is_some_and(|x| d.points == x.points && d.reason.contains('≥'))
}

/// The rule id of a manual checklist line (`"4.3 text"`, `"5.1 (特别加分项 +5) text"`).
pub fn manual_rule(line: &str) -> &str {
    line.split_whitespace().next().unwrap_or(line)
}

/// The sheet that scored `result`.
pub fn sheet_of<'r>(rubrics: &'r Rubrics, result: &CallResult) -> Option<&'r Rubric> {
    rubrics.sheets.iter().find(|s| s.name == result.rubric)
}

/// A deduction's stable key: its rule, where it is and what was said. A verdict is stored
/// under it, not under the deduction's place in the list, so re-scoring a call (a new rule
/// firing earlier, a different transcript) cannot move a verdict onto another deduction.
pub fn deduction_key(d: &crate::Deduction) -> String {
    format!("{}@{}-{}:{}", d.rule, d.start_ms, d.end_ms, d.words)
}

/// A finding's stable key, as [`deduction_key`].
pub fn finding_key(f: &crate::score::Finding) -> String {
    format!("{}@{}-{}:{}", f.rule, f.start_ms, f.end_ms, f.words)
}

/// Recomputes a review's score and 积分 / 元 from what is stored for it.
pub(super) fn score_review(
    conn: &Connection,
    rubrics: &Rubrics,
    result: &CallResult,
    review: i64,
) -> rusqlite::Result<Reviewed> {
    let stored = Stored::load(conn, result, review)?;
    Ok(reviewed(
        result,
        sheet_of(rubrics, result),
        &stored.judgement(),
    ))
}
