//! The inspector's side of the workflow: assignment, recall, and saving or publishing a review.
//! Every write is one transaction with its audit row.

use super::*;

/// Assigns a call to an inspector (or reassigns it).
pub fn assign(store: &Store, who: &User, call_id: &str, inspector: &str) -> Result<()> {
    let e = sql_err(store);
    let idx = indexed(store, call_id)?;
    let to = step(who, idx.state, Action::Assign)?;
    let target = user(store, inspector)?
        .ok_or_else(|| ReviewError::Invalid(format!("no user {inspector}")))?;
    if !matches!(target.role, Role::Inspector | Role::Supervisor) {
        return Err(ReviewError::Invalid(format!(
            "{inspector} is a {}, not an inspector",
            target.role
        )));
    }
    let tx = write_tx(store).map_err(&e)?;
    tx.execute(
        "UPDATE call_index SET state = ?2, assigned_to = ?3 WHERE call_id = ?1",
        params![call_id, to.as_str(), inspector],
    )
    .map_err(&e)?;
    audit(
        &tx,
        &who.name,
        Some(call_id),
        "assign",
        serde_json::json!({"state": idx.state, "assigned_to": idx.assigned_to}),
        serde_json::json!({"state": to, "assigned_to": inspector}),
    )
    .map_err(&e)?;
    tx.commit().map_err(&e)
}

/// Sends an assigned call back to `auto_scored`; an unpublished review is kept in the log.
pub fn recall(store: &Store, who: &User, call_id: &str) -> Result<()> {
    let e = sql_err(store);
    let idx = indexed(store, call_id)?;
    let to = step(who, idx.state, Action::Recall)?;
    let tx = write_tx(store).map_err(&e)?;
    tx.execute(
        "UPDATE call_index SET state = ?2, assigned_to = NULL WHERE call_id = ?1",
        params![call_id, to.as_str()],
    )
    .map_err(&e)?;
    tx.execute(
        "UPDATE reviews SET superseded = 1 WHERE call_id = ?1 AND published_at IS NULL",
        [call_id],
    )
    .map_err(&e)?;
    audit(
        &tx,
        &who.name,
        Some(call_id),
        "recall",
        serde_json::json!({"state": idx.state, "assigned_to": idx.assigned_to}),
        serde_json::json!({"state": to}),
    )
    .map_err(&e)?;
    tx.commit().map_err(&e)
}

/// The reviewer's verdict on one deduction, as submitted.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    pub deduction: usize,
    pub decision: DecisionWord,
    #[serde(default)]
    pub comment: String,
}

/// The words the API takes for a verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DecisionWord {
    Confirm,
    Reject,
}

/// A manual item's answer: points deducted (or added, for a 特别加分项), or N/A.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManualInput {
    pub rule: String,
    #[serde(default)]
    pub points: Option<f64>,
    #[serde(default)]
    pub na: bool,
    #[serde(default)]
    pub comment: String,
}

/// A review submission (`POST /api/calls/{id}/review`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    #[serde(default)]
    pub decisions: Vec<DecisionInput>,
    #[serde(default)]
    pub manual: Vec<ManualInput>,
    #[serde(default)]
    pub publish: bool,
}

/// Longest comment or reason kept.
pub const MAX_TEXT: usize = 4000;

pub(super) fn check_text(what: &str, s: &str) -> Result<()> {
    if s.chars().count() > MAX_TEXT {
        return Err(ReviewError::Invalid(format!(
            "{what} is longer than {MAX_TEXT} characters"
        )));
    }
    Ok(())
}

pub(super) fn check_review(result: &CallResult, input: &ReviewInput) -> Result<()> {
    for d in &input.decisions {
        if d.deduction >= result.deductions.len() {
            return Err(ReviewError::Invalid(format!(
                "deduction {} does not exist (the call has {})",
                d.deduction,
                result.deductions.len()
            )));
        }
        check_text("comment", &d.comment)?;
    }
    for m in &input.manual {
        if !result.manual.iter().any(|l| manual_rule(l) == m.rule) {
            return Err(ReviewError::Invalid(format!(
                "rule {} is not a manual item of this call",
                m.rule
            )));
        }
        if m.points
            .is_some_and(|p| !p.is_finite() || !(0.0..=1000.0).contains(&p))
        {
            return Err(ReviewError::Invalid(format!(
                "manual item {}: points must be between 0 and 1000",
                m.rule
            )));
        }
        check_text("comment", &m.comment)?;
    }
    Ok(())
}

/// Records an inspector's verdicts and manual answers, and publishes when asked. Returns the
/// reviewed score.
pub fn submit_review(
    store: &Store,
    rubrics: &Rubrics,
    who: &User,
    call_id: &str,
    input: &ReviewInput,
) -> Result<f64> {
    let e = sql_err(store);
    // An inspector reviews only what is assigned to them; anything else is not found.
    let idx = visible(store, who, call_id)?;
    let action = if input.publish {
        Action::Publish
    } else {
        Action::Save
    };
    let to = step(who, idx.state, action)?;
    let result = result(store, call_id)?;
    check_review(&result, input)?;
    let tx = write_tx(store).map_err(&e)?;
    let review = match current_review(store, call_id)? {
        Some(id) => id,
        None => new_version(&tx, call_id, &who.name, result.score).map_err(&e)?,
    };
    let before = snapshot(store, review)?;
    for d in &input.decisions {
        let decision = match d.decision {
            DecisionWord::Confirm => Decision::Confirmed,
            DecisionWord::Reject => Decision::Rejected,
        };
        tx.execute(
            "INSERT INTO decisions (review_id, deduction, decision, comment) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (review_id, deduction) DO UPDATE SET decision = excluded.decision,
                 comment = excluded.comment",
            params![review, d.deduction as i64, decision.as_str(), d.comment],
        )
        .map_err(&e)?;
    }
    for m in &input.manual {
        let points = if m.na { None } else { m.points };
        tx.execute(
            "INSERT INTO manual_answers (review_id, rule, points, comment) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (review_id, rule) DO UPDATE SET points = excluded.points,
                 comment = excluded.comment",
            params![review, m.rule, points, m.comment],
        )
        .map_err(&e)?;
    }
    let score = score_review(&tx, rubrics, &result, review).map_err(&e)?;
    tx.execute(
        "UPDATE reviews SET reviewed_score = ?2, inspector = ?3 WHERE id = ?1",
        params![review, score, who.name],
    )
    .map_err(&e)?;
    if input.publish {
        publish(&tx, call_id, review, score).map_err(&e)?;
    }
    set_state(&tx, call_id, to).map_err(&e)?;
    let after = snapshot_tx(&tx, review).map_err(&e)?;
    audit(
        &tx,
        &who.name,
        Some(call_id),
        action.as_str(),
        serde_json::json!({"state": idx.state, "review": before}),
        serde_json::json!({"state": to, "review": after, "reviewed_score": score}),
    )
    .map_err(&e)?;
    tx.commit().map_err(&e)?;
    Ok(score)
}

pub(super) fn new_version(
    tx: &Transaction,
    call_id: &str,
    who: &str,
    auto: f64,
) -> rusqlite::Result<i64> {
    let version: i64 = tx.query_row(
        "SELECT COALESCE(MAX(version), 0) + 1 FROM reviews WHERE call_id = ?1",
        [call_id],
        |r| r.get(0),
    )?;
    tx.execute(
        "INSERT INTO reviews (call_id, version, inspector, auto_score, reviewed_score, created_at)
         VALUES (?1, ?2, ?3, ?4, ?4, ?5)",
        params![call_id, version, who, auto, now_text()],
    )?;
    Ok(tx.last_insert_rowid())
}

pub(super) fn publish(
    tx: &Transaction,
    call_id: &str,
    review: i64,
    score: f64,
) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE reviews SET published_at = ?2 WHERE id = ?1",
        params![review, now_text()],
    )?;
    tx.execute(
        "UPDATE call_index SET reviewed_score = ?2, published_at = ?3,
             version = (SELECT version FROM reviews WHERE id = ?4)
         WHERE call_id = ?1",
        params![call_id, score, now_secs(), review],
    )?;
    Ok(())
}

/// The review's decisions and answers as JSON, for the audit log.
pub(super) fn snapshot(store: &Store, review: i64) -> Result<serde_json::Value> {
    snapshot_tx(&store.conn, review).map_err(sql_err(store))
}

pub(super) fn snapshot_tx(conn: &Connection, review: i64) -> rusqlite::Result<serde_json::Value> {
    let mut stmt = conn.prepare_cached(
        "SELECT deduction, decision, comment, points FROM decisions WHERE review_id = ?1
         ORDER BY deduction",
    )?;
    let decisions: Vec<serde_json::Value> = stmt
        .query_map([review], |r| {
            Ok(serde_json::json!({
                "deduction": r.get::<_, i64>(0)?, "decision": r.get::<_, String>(1)?,
                "comment": r.get::<_, String>(2)?, "points": r.get::<_, Option<f64>>(3)?,
            }))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut stmt = conn.prepare_cached(
        "SELECT rule, points, comment FROM manual_answers WHERE review_id = ?1 ORDER BY rule",
    )?;
    let manual: Vec<serde_json::Value> = stmt
        .query_map([review], |r| {
            Ok(serde_json::json!({
                "rule": r.get::<_, String>(0)?, "points": r.get::<_, Option<f64>>(1)?,
                "comment": r.get::<_, String>(2)?,
            }))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(serde_json::json!({"decisions": decisions, "manual": manual}))
}
