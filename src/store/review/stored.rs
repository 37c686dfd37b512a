//! A review's stored parts (verdicts, finding verdicts, manual answers, flags) resolved
//! against the call's current machine result. Verdicts are matched by the deduction's stable
//! key; one whose deduction is gone after a re-score is kept apart as stale, shown to the
//! reviewer and left out of the score, never moved onto whatever deduction took its place.

use super::*;
use crate::score::Flag;

/// A stored verdict on one deduction.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct StoredVerdict {
    pub(super) decision: Decision,
    pub(super) comment: String,
    pub(super) points: Option<f64>,
}

/// A verdict whose deduction the current result no longer has.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StaleDecision {
    /// The deduction's key when the verdict was given (rule@start-end:words).
    pub key: String,
    pub decision: Decision,
    pub comment: String,
}

/// Everything stored for one review, in the current result's order.
#[derive(Clone, Debug, Default)]
pub(super) struct Stored {
    pub(super) deductions: Vec<Option<StoredVerdict>>,
    pub(super) stale: Vec<StaleDecision>,
    pub(super) findings: Vec<Option<(Decision, String)>>,
    pub(super) manual: HashMap<String, (Option<f64>, String)>,
    /// Rule → flag set on it, with the factor the result offers for it.
    pub(super) flags: BTreeMap<String, (Flag, f64)>,
}

type Row = (usize, Option<String>, String, String, Option<f64>);

impl Stored {
    pub(super) fn empty(result: &CallResult) -> Stored {
        Stored {
            deductions: vec![None; result.deductions.len()],
            findings: vec![None; result.findings.len()],
            ..Stored::default()
        }
    }

    pub(super) fn load(
        conn: &Connection,
        result: &CallResult,
        review: i64,
    ) -> rusqlite::Result<Stored> {
        let mut s = Stored::empty(result);
        let mut stmt = conn.prepare_cached(
            "SELECT deduction, key, decision, comment, points FROM decisions WHERE review_id = ?1
             ORDER BY deduction",
        )?;
        let rows = stmt
            .query_map([review], |r| {
                Ok((
                    r.get::<_, i64>(0)? as usize,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<Row>>>()?;
        s.place_decisions(result, rows);
        let mut stmt = conn.prepare_cached(
            "SELECT key, decision, comment FROM finding_decisions WHERE review_id = ?1",
        )?;
        let rows = stmt
            .query_map([review], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for (key, decision, comment) in rows {
            let at = result.findings.iter().position(|f| finding_key(f) == key);
            if let (Some(i), Some(d)) = (at, Decision::parse(&decision)) {
                s.findings[i] = Some((d, comment));
            }
        }
        let mut stmt = conn.prepare_cached(
            "SELECT rule, points, comment FROM manual_answers WHERE review_id = ?1",
        )?;
        s.manual = stmt
            .query_map([review], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))?
            .collect::<rusqlite::Result<_>>()?;
        let mut stmt =
            conn.prepare_cached("SELECT rule, flag FROM review_flags WHERE review_id = ?1")?;
        let rows = stmt
            .query_map([review], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for (rule, flag) in rows {
            if let Some(offer) = offered(result, &rule, &flag) {
                s.flags.insert(rule, (offer.flag, offer.value));
            }
        }
        Ok(s)
    }

    /// Puts each stored verdict on the deduction with its key (several deductions with one key
    /// take the verdicts in order); rows written before keys existed keep their index.
    fn place_decisions(&mut self, result: &CallResult, rows: Vec<Row>) {
        let mut by_key: HashMap<String, std::collections::VecDeque<usize>> = HashMap::new();
        for (i, d) in result.deductions.iter().enumerate() {
            by_key.entry(deduction_key(d)).or_default().push_back(i);
        }
        for (index, key, decision, comment, points) in rows {
            let decision = Decision::parse(&decision).unwrap_or(Decision::Pending);
            let at = match &key {
                Some(k) => by_key.get_mut(k).and_then(|q| q.pop_front()),
                None => (index < result.deductions.len()).then_some(index),
            };
            match at {
                Some(i) => {
                    self.deductions[i] = Some(StoredVerdict {
                        decision,
                        comment,
                        points,
                    })
                }
                None => self.stale.push(StaleDecision {
                    key: key.unwrap_or_else(|| format!("#{index}")),
                    decision,
                    comment,
                }),
            }
        }
    }

    /// What the score needs from this review.
    pub(super) fn judgement(&self) -> Judgement {
        Judgement {
            verdicts: self
                .deductions
                .iter()
                .map(|d| match d {
                    Some(d) => Verdict {
                        rejected: d.decision == Decision::Rejected,
                        points: d.points,
                    },
                    None => Verdict::default(),
                })
                .collect(),
            manual: self
                .manual
                .iter()
                .filter_map(|(rule, (p, _))| p.map(|p| (rule.clone(), p)))
                .collect(),
            confirmed: self
                .findings
                .iter()
                .map(|f| matches!(f, Some((Decision::Confirmed, _))))
                .collect(),
            factors: self
                .flags
                .iter()
                .map(|(rule, (_, factor))| (rule.clone(), *factor))
                .collect(),
        }
    }
}

/// The modifier flag `flag` (its Chinese name) as the result offers it on `rule`; bonuses are
/// manual answers, not flags.
pub(super) fn offered<'r>(
    result: &'r CallResult,
    rule: &str,
    flag: &str,
) -> Option<&'r crate::score::AvailableFlag> {
    result
        .flags
        .iter()
        .filter(|f| f.flag != Flag::Bonus)
        .find(|f| f.rule == rule && flag_name(f.flag) == flag)
}

/// A flag's name as the rubric and the API write it (扣分加倍 …).
pub fn flag_name(flag: Flag) -> String {
    match serde_json::to_value(flag) {
        Ok(serde_json::Value::String(s)) => s,
        _ => format!("{flag:?}"),
    }
}
