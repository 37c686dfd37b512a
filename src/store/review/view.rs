//! Reading a call's review for the call page and the API: verdicts, manual answers, appeals,
//! versions and the audit trail. Read-only, so it takes no write lock.

use super::*;

/// A machine deduction with the reviewer's verdict.
#[derive(Clone, Debug, Serialize)]
pub struct DeductionView {
    pub id: usize,
    /// The machine's deduction, its points as the reviewer changed them; its fields stand at
    /// the top level of the JSON, as the API contract lists them.
    #[serde(flatten)]
    pub deduction: crate::score::Deduction,
    pub decision: Decision,
    pub comment: String,
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
    pub version: i64,
    pub deductions: Vec<DeductionView>,
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
    let (decisions, manual) = match review {
        Some(id) => (decisions(store, id)?, manual_answers(store, id)?),
        None => (HashMap::new(), HashMap::new()),
    };
    let deductions = result
        .deductions
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let (decision, comment, points) =
                decisions
                    .get(&i)
                    .cloned()
                    .unwrap_or((Decision::Pending, String::new(), None));
            DeductionView {
                id: i,
                deduction: crate::score::Deduction {
                    points: points.unwrap_or(d.points),
                    ..d.clone()
                },
                decision,
                comment,
            }
        })
        .collect();
    let manual = result
        .manual
        .iter()
        .map(|line| {
            let rule = manual_rule(line).to_string();
            let answer = manual.get(&rule).cloned();
            ManualView {
                text: line.clone(),
                answered: answer.is_some(),
                points: answer.as_ref().and_then(|a| a.0),
                comment: answer.map(|a| a.1).unwrap_or_default(),
                rule,
            }
        })
        .collect();
    let reviewed_score = store
        .conn
        .query_row(
            "SELECT reviewed_score FROM reviews WHERE call_id = ?1 AND superseded = 0
             ORDER BY version DESC LIMIT 1",
            [call_id],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql_err(store))?;
    Ok(CallView {
        call_id: call_id.to_string(),
        agent_id: result.agent_id.clone(),
        started_at: result.started_at.to_rfc3339(),
        state: idx.state,
        assigned_to: idx.assigned_to,
        score: result.score,
        max_score: result.max_score,
        reviewed_score,
        version: idx.version,
        deductions,
        manual,
        appeals: appeals(store, call_id)?,
        versions: versions(store, call_id)?,
        history: history(store, call_id)?,
        result,
    })
}

pub(super) type Decisions = HashMap<usize, (Decision, String, Option<f64>)>;

pub(super) fn decisions(store: &Store, review: i64) -> Result<Decisions> {
    let e = sql_err(store);
    let mut stmt = store
        .conn
        .prepare_cached(
            "SELECT deduction, decision, comment, points FROM decisions WHERE review_id = ?1",
        )
        .map_err(&e)?;
    let rows = stmt
        .query_map([review], |r| {
            let d: String = r.get(1)?;
            Ok((
                r.get::<_, i64>(0)? as usize,
                (
                    Decision::parse(&d).unwrap_or(Decision::Pending),
                    r.get(2)?,
                    r.get(3)?,
                ),
            ))
        })
        .map_err(&e)?;
    rows.collect::<rusqlite::Result<_>>().map_err(&e)
}

pub(super) type Answers = HashMap<String, (Option<f64>, String)>;

pub(super) fn manual_answers(store: &Store, review: i64) -> Result<Answers> {
    let e = sql_err(store);
    let mut stmt = store
        .conn
        .prepare_cached("SELECT rule, points, comment FROM manual_answers WHERE review_id = ?1")
        .map_err(&e)?;
    let rows = stmt
        .query_map([review], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))
        .map_err(&e)?;
    rows.collect::<rusqlite::Result<_>>().map_err(&e)
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
