//! The inspector's side of the workflow: assignment, recall, and saving or publishing a review.
//! Every write is one transaction with its audit row.

use super::*;

/// Assigns a call to an inspector (or reassigns it).
pub fn assign(store: &Store, who: &User, call_id: &str, inspector: &str) -> Result<()> {
    let e = sql_err(store);
    let idx = indexed(store, call_id)?;
    step(who, idx.state, Action::Assign)?;
    let target = user(store, inspector)?
        .ok_or_else(|| ReviewError::Invalid(format!("no user {inspector}")))?;
    if !matches!(target.role, Role::Inspector | Role::Supervisor) {
        return Err(ReviewError::Invalid(format!(
            "{inspector} is a {}, not an inspector",
            target.role
        )));
    }
    let tx = write_tx(store).map_err(&e)?;
    let before = serde_json::json!({"state": idx.state, "assigned_to": idx.assigned_to});
    assign_in(
        &tx,
        who,
        call_id,
        inspector,
        before,
        serde_json::Value::Null,
    )
    .map_err(&e)?;
    tx.commit().map_err(&e)
}

/// Assigns in the caller's transaction, with its audit row; `also` adds to what the audit
/// records (the sample's seed).
pub(super) fn assign_in(
    tx: &Transaction,
    who: &User,
    call_id: &str,
    inspector: &str,
    before: serde_json::Value,
    also: serde_json::Value,
) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE call_index SET state = ?2, assigned_to = ?3 WHERE call_id = ?1",
        params![call_id, State::Assigned.as_str(), inspector],
    )?;
    let mut after = serde_json::json!({"state": State::Assigned, "assigned_to": inspector});
    if let (Some(a), serde_json::Value::Object(more)) = (after.as_object_mut(), also) {
        a.extend(more);
    }
    audit(tx, &who.name, Some(call_id), "assign", before, after)
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

/// The reviewer's verdict on one finding, as submitted.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FindingInput {
    pub finding: usize,
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

impl DecisionWord {
    pub fn decision(self) -> Decision {
        match self {
            DecisionWord::Confirm => Decision::Confirmed,
            DecisionWord::Reject => Decision::Rejected,
        }
    }
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

/// A modifier flag set on a rule (`{"rule": "7.2", "flag": "扣分加倍"}`), one of those the
/// call's result offers.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlagInput {
    pub rule: String,
    pub flag: String,
}

/// A review submission (`POST /api/calls/{id}/review`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    #[serde(default)]
    pub decisions: Vec<DecisionInput>,
    #[serde(default)]
    pub findings: Vec<FindingInput>,
    #[serde(default)]
    pub manual: Vec<ManualInput>,
    /// The flags in force; absent leaves them as they are, `[]` clears them.
    #[serde(default)]
    pub flags: Option<Vec<FlagInput>>,
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

fn check_index(what: &str, i: usize, len: usize) -> Result<()> {
    if i >= len {
        return Err(ReviewError::Invalid(format!(
            "{what} {i} does not exist (the call has {len})"
        )));
    }
    Ok(())
}

pub(super) fn check_review(result: &CallResult, input: &ReviewInput) -> Result<()> {
    for d in &input.decisions {
        check_index("deduction", d.deduction, result.deductions.len())?;
        check_text("comment", &d.comment)?;
    }
    for f in &input.findings {
        check_index("finding", f.finding, result.findings.len())?;
        check_text("comment", &f.comment)?;
    }
    for f in input.flags.iter().flatten() {
        if offered(result, &f.rule, &f.flag).is_none() {
            return Err(ReviewError::Invalid(format!(
                "flag {} is not offered on rule {} of this call",
                f.flag, f.rule
            )));
        }
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

/// Records an inspector's verdicts, flags and manual answers, and publishes when asked.
/// Returns the reviewed score.
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
    write_parts(&tx, &result, review, input).map_err(&e)?;
    let scored = rescore(&tx, rubrics, &result, review).map_err(&e)?;
    tx.execute(
        "UPDATE reviews SET inspector = ?2 WHERE id = ?1",
        params![review, who.name],
    )
    .map_err(&e)?;
    if input.publish {
        publish(&tx, call_id, review, &scored).map_err(&e)?;
    }
    set_state(&tx, call_id, to).map_err(&e)?;
    let after = snapshot_tx(&tx, review).map_err(&e)?;
    audit(
        &tx,
        &who.name,
        Some(call_id),
        action.as_str(),
        serde_json::json!({"state": idx.state, "review": before}),
        serde_json::json!({"state": to, "review": after, "reviewed_score": scored.score,
                           "credits": scored.credits, "fine_yuan": scored.fine_yuan}),
    )
    .map_err(&e)?;
    tx.commit().map_err(&e)?;
    Ok(scored.score)
}

/// Writes one submission's verdicts, flags and answers into review `review`.
fn write_parts(
    tx: &Transaction,
    result: &CallResult,
    review: i64,
    input: &ReviewInput,
) -> rusqlite::Result<()> {
    for d in &input.decisions {
        let key = deduction_key(&result.deductions[d.deduction]);
        put_decision(
            tx,
            review,
            d.deduction,
            &key,
            d.decision.decision(),
            None,
            &d.comment,
        )?;
    }
    for f in &input.findings {
        tx.execute(
            "INSERT INTO finding_decisions (review_id, key, decision, comment) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (review_id, key) DO UPDATE SET decision = excluded.decision,
                 comment = excluded.comment",
            params![
                review,
                finding_key(&result.findings[f.finding]),
                f.decision.decision().as_str(),
                f.comment
            ],
        )?;
    }
    if let Some(flags) = &input.flags {
        tx.execute("DELETE FROM review_flags WHERE review_id = ?1", [review])?;
        for f in flags {
            tx.execute(
                "INSERT OR REPLACE INTO review_flags (review_id, rule, flag) VALUES (?1, ?2, ?3)",
                params![review, f.rule, f.flag],
            )?;
        }
    }
    for m in &input.manual {
        let points = if m.na { None } else { m.points };
        tx.execute(
            "INSERT INTO manual_answers (review_id, rule, points, comment) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (review_id, rule) DO UPDATE SET points = excluded.points,
                 comment = excluded.comment",
            params![review, m.rule, points, m.comment],
        )?;
    }
    Ok(())
}

/// Stores a verdict under the deduction's key. The row it replaces is the one with the same
/// key, or one left at the same place by a deduction a re-score removed.
pub(super) fn put_decision(
    tx: &Transaction,
    review: i64,
    index: usize,
    key: &str,
    decision: Decision,
    points: Option<f64>,
    comment: &str,
) -> rusqlite::Result<()> {
    tx.execute(
        "DELETE FROM decisions WHERE review_id = ?1 AND (key = ?2 OR deduction = ?3)",
        params![review, key, index as i64],
    )?;
    tx.execute(
        "INSERT INTO decisions (review_id, deduction, key, decision, points, comment)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            review,
            index as i64,
            key,
            decision.as_str(),
            points,
            comment
        ],
    )?;
    Ok(())
}

/// Recomputes and stores a review's score and 积分 / 元.
pub(super) fn rescore(
    tx: &Transaction,
    rubrics: &Rubrics,
    result: &CallResult,
    review: i64,
) -> rusqlite::Result<Reviewed> {
    let scored = score_review(tx, rubrics, result, review)?;
    tx.execute(
        "UPDATE reviews SET reviewed_score = ?2, credits = ?3, fine_yuan = ?4 WHERE id = ?1",
        params![review, scored.score, scored.credits, scored.fine_yuan],
    )?;
    Ok(scored)
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

/// Makes `review` the version monthly scores use.
pub(super) fn publish(
    tx: &Transaction,
    call_id: &str,
    review: i64,
    scored: &Reviewed,
) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE reviews SET published_at = ?2 WHERE id = ?1",
        params![review, now_text()],
    )?;
    tx.execute(
        "UPDATE call_index SET reviewed_score = ?2, reviewed_credits = ?3, reviewed_fine = ?4,
             published_at = ?5, version = (SELECT version FROM reviews WHERE id = ?6)
         WHERE call_id = ?1",
        params![
            call_id,
            scored.score,
            scored.credits,
            scored.fine_yuan,
            now_secs(),
            review
        ],
    )?;
    Ok(())
}

/// The review's decisions and answers as JSON, for the audit log.
pub(super) fn snapshot(store: &Store, review: i64) -> Result<serde_json::Value> {
    snapshot_tx(&store.conn, review).map_err(sql_err(store))
}

pub(super) fn snapshot_tx(conn: &Connection, review: i64) -> rusqlite::Result<serde_json::Value> {
    let part = |sql: &str| rows_json(conn, sql, review);
    Ok(serde_json::json!({
        "decisions": part("SELECT deduction, key, decision, points, comment FROM decisions
                           WHERE review_id = ?1 ORDER BY deduction")?,
        "findings": part("SELECT key, decision, comment FROM finding_decisions
                          WHERE review_id = ?1 ORDER BY key")?,
        "flags": part("SELECT rule, flag FROM review_flags WHERE review_id = ?1 ORDER BY rule")?,
        "manual": part("SELECT rule, points, comment FROM manual_answers
                        WHERE review_id = ?1 ORDER BY rule")?,
    }))
}

/// The rows of a query on one review as JSON objects named by column.
fn rows_json(conn: &Connection, sql: &str, review: i64) -> rusqlite::Result<serde_json::Value> {
    use rusqlite::types::ValueRef;
    let mut stmt = conn.prepare_cached(sql)?;
    let names: Vec<String> = stmt.column_names().iter().map(|c| c.to_string()).collect();
    let mut rows = stmt.query([review])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let mut row = serde_json::Map::new();
        for (i, name) in names.iter().enumerate() {
            let v = match r.get_ref(i)? {
                ValueRef::Null => serde_json::Value::Null,
                ValueRef::Integer(n) => n.into(),
                ValueRef::Real(f) => f.into(),
                ValueRef::Text(t) | ValueRef::Blob(t) => String::from_utf8_lossy(t).into(),
            };
            row.insert(name.clone(), v);
        }
        out.push(serde_json::Value::Object(row));
    }
    Ok(out.into())
}
