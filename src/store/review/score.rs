//! The reviewed score: the machine's deductions under the reviewer's verdicts, re-scored with
//! the rubric's own forfeit-once and escalation rules, so a rejection refunds exactly what the
//! rubric would not have charged.

use super::*;

/// A reviewer's verdict on one deduction, as the score needs it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Verdict {
    pub rejected: bool,
    /// Points set by a settled appeal (`changed`), replacing the deduction's own.
    pub points: Option<f64>,
}

/// The score after review: the machine's deductions less the rejected ones, plus the manual
/// items' points, with each item's points forfeited at most once and escalations
/// (`extra`) kept only while enough occurrences stand. Without the call's sheet (renamed or
/// removed since), it falls back to adding rejected points back one by one.
pub fn reviewed_score(
    result: &CallResult,
    sheet: Option<&Rubric>,
    verdicts: &[Verdict],
    manual: &[(String, f64)],
) -> f64 {
    let verdict = |i: usize| verdicts.get(i).copied().unwrap_or_default();
    let Some(sheet) = sheet else {
        let refunded: f64 = (0..result.deductions.len())
            .filter(|&i| verdict(i).rejected)
            .map(|i| result.deductions[i].points)
            .sum();
        let manual: f64 = manual.iter().map(|(_, p)| p).sum();
        return (result.score + refunded - manual).clamp(0.0, result.max_score.max(result.score));
    };
    let mut lost = 0.0;
    let mut bonus = 0.0;
    for item in &sheet.items {
        let in_item = |rule: &str| item.rules.iter().any(|r| r.id == rule);
        let manual_points: Vec<f64> = manual
            .iter()
            .filter(|(rule, _)| in_item(rule))
            .map(|&(_, p)| p)
            .collect();
        if item.bonus {
            bonus += manual_points.iter().sum::<f64>();
            continue;
        }
        let mut item_loss = manual_points.iter().copied().fold(0.0, f64::max);
        let mut per_occurrence = manual_points.iter().sum::<f64>();
        for rule in &item.rules {
            let of_rule: Vec<usize> = (0..result.deductions.len())
                .filter(|&i| result.deductions[i].rule == rule.id)
                .collect();
            let (extras, occurrences): (Vec<usize>, Vec<usize>) = of_rule
                .iter()
                .partition(|&&i| is_escalation(&result.deductions[i], rule));
            let kept: Vec<usize> = occurrences
                .iter()
                .copied()
                .filter(|&i| !verdict(i).rejected)
                .collect();
            for &i in &kept {
                let d = &result.deductions[i];
                let points = verdict(i).points;
                per_occurrence += points.unwrap_or(d.points);
                item_loss = item_loss.max(points.unwrap_or(item.points));
            }
            let none_rejected = kept.len() == occurrences.len();
            for &i in &extras {
                let enough = rule
                    .extra
                    .as_ref()
                    .is_some_and(|x| none_rejected || kept.len() >= x.min_count);
                if enough && !verdict(i).rejected {
                    lost += verdict(i).points.unwrap_or(result.deductions[i].points);
                }
            }
        }
        lost += if item.per_occurrence {
            per_occurrence
        } else {
            item_loss
        };
    }
    (sheet.max_score - lost + bonus).clamp(0.0, sheet.max_score)
}

/// Whether a deduction is the escalation (`extra`) of its rule rather than an occurrence: the
/// scorer writes it last, with the extra's points and a reason naming the threshold.
pub(super) fn is_escalation(d: &crate::Deduction, rule: &crate::score::Rule) -> bool {
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

/// Recomputes a review's score from what is stored for it.
pub(super) fn score_review(
    conn: &Connection,
    rubrics: &Rubrics,
    result: &CallResult,
    review: i64,
) -> rusqlite::Result<f64> {
    let mut verdicts = vec![Verdict::default(); result.deductions.len()];
    let mut stmt = conn
        .prepare_cached("SELECT deduction, decision, points FROM decisions WHERE review_id = ?1")?;
    let rows = stmt.query_map([review], |r| {
        Ok((
            r.get::<_, i64>(0)? as usize,
            r.get::<_, String>(1)?,
            r.get::<_, Option<f64>>(2)?,
        ))
    })?;
    for row in rows {
        let (i, decision, points) = row?;
        if let Some(v) = verdicts.get_mut(i) {
            v.rejected = decision == Decision::Rejected.as_str();
            v.points = points;
        }
    }
    let mut stmt = conn.prepare_cached(
        "SELECT rule, points FROM manual_answers WHERE review_id = ?1 AND points IS NOT NULL",
    )?;
    let manual = stmt
        .query_map([review], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<Vec<(String, f64)>>>()?;
    Ok(reviewed_score(
        result,
        sheet_of(rubrics, result),
        &verdicts,
        &manual,
    ))
}
