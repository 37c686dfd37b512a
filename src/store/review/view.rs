//! Reading a call's review for the call page and the API: verdicts, finding verdicts, flags,
//! manual answers, appeals, versions and the audit trail. Read-only, so it takes no write lock.

use super::*;

/// A machine deduction with the reviewer's verdict.
#[derive(Clone, Debug, Serialize)]
pub struct DeductionView {
    pub id: usize,
    /// The stable key verdicts are stored under (see [`deduction_key`]).
    pub key: String,
    /// The machine's deduction, its points as the reviewer changed them; its fields stand at
    /// the top level of the JSON, as the API contract lists them.
    #[serde(flatten)]
    pub deduction: crate::score::Deduction,
    pub decision: Decision,
    pub comment: String,
}

/// A finding (an assist rule's suspicion, or a half-heard phrase) with the reviewer's verdict:
/// confirmed, it costs the rule's points and its 积分 / 元.
#[derive(Clone, Debug, Serialize)]
pub struct FindingView {
    pub id: usize,
    #[serde(flatten)]
    pub finding: crate::score::Finding,
    pub decision: Decision,
    pub comment: String,
}

/// A modifier the reviewer may set on a rule, and whether it is set.
#[derive(Clone, Debug, Serialize)]
pub struct FlagView {
    pub rule: String,
    pub flag: String,
    pub value: f64,
    pub set: bool,
}

/// A manual checklist item and its answer (`points: None` with `answered` is N/A).
#[derive(Clone, Debug, Serialize)]
pub struct ManualView {
    pub rule: String,
    pub text: String,
    pub answered: bool,
    pub points: Option<f64>,
    pub comment: String,
}

/// An appeal and, once decided, its outcome.
#[derive(Clone, Debug, Serialize)]
pub struct AppealView {
    pub id: i64,
    pub deduction: usize,
    pub agent: String,
    pub reason: String,
    pub created_at: String,
    pub outcome: Option<Outcome>,
    pub points: Option<f64>,
    pub comment: Option<String>,
    pub decided_by: Option<String>,
}

/// One audit row.
#[derive(Clone, Debug, Serialize)]
pub struct AuditEntry {
    pub at: String,
    pub who: String,
    pub action: String,
    pub before: serde_json::Value,
    pub after: serde_json::Value,
}

/// A version of the review.
#[derive(Clone, Debug, Serialize)]
pub struct VersionView {
    pub version: i64,
    pub inspector: String,
    pub reviewed_score: f64,
    pub published_at: Option<String>,
    pub superseded: bool,
}

/// Everything the call page and `GET /api/calls/{id}` show.
#[derive(Clone, Debug, Serialize)]
pub struct CallView {
    pub call_id: String,
    pub agent_id: String,
    pub started_at: String,
    pub state: State,
    pub assigned_to: Option<String>,
    pub score: f64,
    pub max_score: f64,
    pub reviewed_score: Option<f64>,
    /// 积分 / 元 the current review charges (confirmed findings included).
    pub reviewed_credits: Option<f64>,
    pub reviewed_fine_yuan: Option<f64>,
    pub version: i64,
    pub deductions: Vec<DeductionView>,
    /// Verdicts whose deduction a re-score removed: shown, not counted.
    pub stale_decisions: Vec<StaleDecision>,
    pub findings: Vec<FindingView>,
    pub flags: Vec<FlagView>,
    pub manual: Vec<ManualView>,
    pub appeals: Vec<AppealView>,
    pub versions: Vec<VersionView>,
    pub history: Vec<AuditEntry>,
    #[serde(skip)]
    pub result: CallResult,
}

/// The call with its current review, appeals and history, as `viewer` may see it.
pub fn call_view(store: &Store, viewer: &User, call_id: &str) -> Result<CallView> {
    let idx = visible(store, viewer, call_id)?;
    let result = result(store, call_id)?;
    let review = current_review(store, call_id)?;
    let stored = match review {
        Some(id) => Stored::load(&store.conn, &result, id).map_err(sql_err(store))?,
        None => Stored::empty(&result),
    };
    let totals: Option<(f64, f64, f64)> = match review {
        Some(id) => Some(
            store
                .conn
                .query_row(
                    "SELECT reviewed_score, credits, fine_yuan FROM reviews WHERE id = ?1",
                    [id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .map_err(sql_err(store))?,
        ),
        None => None,
    };
    let mut view = build_view(idx, result, stored);
    view.reviewed_score = totals.map(|t| t.0);
    view.reviewed_credits = totals.map(|t| t.1);
    view.reviewed_fine_yuan = totals.map(|t| t.2);
    view.appeals = appeals(store, call_id)?;
    view.versions = versions(store, call_id)?;
    view.history = history(store, call_id)?;
    Ok(view)
}

/// The call with `stored`'s verdicts and answers, and no review history: the common part of
/// the review page and a blind calibration.
pub(super) fn build_view(idx: Indexed, result: CallResult, stored: Stored) -> CallView {
    CallView {
        call_id: result.call_id.clone(),
        agent_id: result.agent_id.clone(),
        started_at: result.started_at.to_rfc3339(),
        state: idx.state,
        assigned_to: idx.assigned_to,
        score: result.score,
        max_score: result.max_score,
        reviewed_score: None,
        reviewed_credits: None,
        reviewed_fine_yuan: None,
        version: idx.version,
        deductions: deduction_views(&result, &stored),
        findings: finding_views(&result, &stored),
        flags: flag_views(&result, &stored),
        manual: manual_views(&result, &stored),
        stale_decisions: stored.stale,
        appeals: Vec::new(),
        versions: Vec::new(),
        history: Vec::new(),
        result,
    }
}

fn deduction_views(result: &CallResult, stored: &Stored) -> Vec<DeductionView> {
    result
        .deductions
        .iter()
        .zip(&stored.deductions)
        .enumerate()
        .map(|(i, (d, s))| DeductionView {
            id: i,
            key: deduction_key(d),
            deduction: crate::score::Deduction {
                points: s.as_ref().and_then(|s| s.points).unwrap_or(d.points),
                ..d.clone()
            },
            decision: s.as_ref().map_or(Decision::Pending, |s| s.decision),
            comment: s.as_ref().map(|s| s.comment.clone()).unwrap_or_default(),
        })
        .collect()
}

fn finding_views(result: &CallResult, stored: &Stored) -> Vec<FindingView> {
    result
        .findings
        .iter()
        .zip(&stored.findings)
        .enumerate()
        .map(|(i, (f, s))| FindingView {
            id: i,
            finding: f.clone(),
            decision: s.as_ref().map_or(Decision::Pending, |s| s.0),
            comment: s.as_ref().map(|s| s.1.clone()).unwrap_or_default(),
        })
        .collect()
}

fn flag_views(result: &CallResult, stored: &Stored) -> Vec<FlagView> {
    result
        .flags
        .iter()
        .filter(|f| f.flag != crate::score::Flag::Bonus)
        .map(|f| FlagView {
            rule: f.rule.clone(),
            flag: flag_name(f.flag),
            value: f.value,
            set: stored.flags.get(&f.rule).is_some_and(|s| s.0 == f.flag),
        })
        .collect()
}

fn manual_views(result: &CallResult, stored: &Stored) -> Vec<ManualView> {
    result
        .manual
        .iter()
        .map(|line| {
            let rule = manual_rule(line).to_string();
            let answer = stored.manual.get(&rule).cloned();
            ManualView {
                text: line.clone(),
                answered: answer.is_some(),
                points: answer.as_ref().and_then(|a| a.0),
                comment: answer.map(|a| a.1).unwrap_or_default(),
                rule,
            }
        })
        .collect()
}

pub(super) fn appeals(store: &Store, call_id: &str) -> Result<Vec<AppealView>> {
    let e = sql_err(store);
    let mut stmt = store
        .conn
        .prepare_cached(
            "SELECT id, deduction, agent, reason, created_at, outcome, points, comment, decided_by
             FROM appeals WHERE call_id = ?1 ORDER BY id",
        )
        .map_err(&e)?;
    let rows = stmt
        .query_map([call_id], |r| {
            Ok(AppealView {
                id: r.get(0)?,
                deduction: r.get::<_, i64>(1)? as usize,
                agent: r.get(2)?,
                reason: r.get(3)?,
                created_at: r.get(4)?,
                outcome: r
                    .get::<_, Option<String>>(5)?
                    .and_then(|o| Outcome::parse(&o)),
                points: r.get(6)?,
                comment: r.get(7)?,
                decided_by: r.get(8)?,
            })
        })
        .map_err(&e)?;
    rows.collect::<rusqlite::Result<_>>().map_err(&e)
}

pub(super) fn versions(store: &Store, call_id: &str) -> Result<Vec<VersionView>> {
    let e = sql_err(store);
    let mut stmt = store
        .conn
        .prepare_cached(
            "SELECT version, inspector, reviewed_score, published_at, superseded
             FROM reviews WHERE call_id = ?1 ORDER BY version",
        )
        .map_err(&e)?;
    let rows = stmt
        .query_map([call_id], |r| {
            Ok(VersionView {
                version: r.get(0)?,
                inspector: r.get(1)?,
                reviewed_score: r.get(2)?,
                published_at: r.get(3)?,
                superseded: r.get::<_, i64>(4)? != 0,
            })
        })
        .map_err(&e)?;
    rows.collect::<rusqlite::Result<_>>().map_err(&e)
}

/// The audit trail of one call, oldest first.
pub fn history(store: &Store, call_id: &str) -> Result<Vec<AuditEntry>> {
    let e = sql_err(store);
    let mut stmt = store
        .conn
        .prepare_cached(
            "SELECT at, who, action, before, after FROM audit WHERE call_id = ?1 ORDER BY id",
        )
        .map_err(&e)?;
    let json = |s: Option<String>| {
        s.and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or(serde_json::Value::Null)
    };
    let rows = stmt
        .query_map([call_id], |r| {
            Ok(AuditEntry {
                at: r.get(0)?,
                who: r.get(1)?,
                action: r.get(2)?,
                before: json(r.get(3)?),
                after: json(r.get(4)?),
            })
        })
        .map_err(&e)?;
    rows.collect::<rusqlite::Result<_>>().map_err(&e)
}

/// The whole audit log (or one call's), oldest first, for `/admin` and exports.
pub fn audit_log(store: &Store, limit: usize) -> Result<Vec<(Option<String>, AuditEntry)>> {
    let e = sql_err(store);
    let mut stmt = store
        .conn
        .prepare_cached(
            "SELECT call_id, at, who, action, before, after FROM audit ORDER BY id DESC LIMIT ?1",
        )
        .map_err(&e)?;
    let json = |s: Option<String>| {
        s.and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or(serde_json::Value::Null)
    };
    let rows = stmt
        .query_map([limit as i64], |r| {
            Ok((
                r.get(0)?,
                AuditEntry {
                    at: r.get(1)?,
                    who: r.get(2)?,
                    action: r.get(3)?,
                    before: json(r.get(4)?),
                    after: json(r.get(5)?),
                },
            ))
        })
        .map_err(&e)?;
    rows.collect::<rusqlite::Result<_>>().map_err(&e)
}
