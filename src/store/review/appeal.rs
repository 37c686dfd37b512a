//! The agent's and the supervisor's side: acknowledging, appealing while the window is open,
//! deciding appeals and settling them into a new review version, and locking expired calls.

use super::*;

/// An agent's appeal against one deduction of their published call.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppealInput {
    pub deduction: usize,
    pub reason: String,
}

/// Files an appeal while the window is open. Returns the appeal's id.
pub fn appeal(
    store: &Store,
    who: &User,
    call_id: &str,
    input: &AppealInput,
    window_secs: i64,
) -> Result<i64> {
    let e = sql_err(store);
    let idx = visible(store, who, call_id)?;
    if who.role != Role::Agent {
        return Err(ReviewError::Forbidden("only the agent appeals".into()));
    }
    let to = step(who, idx.state, Action::Appeal)?;
    let key = check_appeal(store, &idx, call_id, input, window_secs)?;
    let review = current_review(store, call_id)?
        .ok_or_else(|| ReviewError::Conflict("the call has no published review".into()))?;
    let tx = write_tx(store).map_err(&e)?;
    tx.execute(
        "INSERT INTO appeals (call_id, review_id, deduction, key, agent, reason, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            call_id,
            review,
            input.deduction as i64,
            key,
            who.name,
            input.reason,
            now_text()
        ],
    )
    .map_err(&e)?;
    let id = tx.last_insert_rowid();
    set_state(&tx, call_id, to).map_err(&e)?;
    audit(
        &tx,
        &who.name,
        Some(call_id),
        "appeal",
        serde_json::json!({"state": idx.state}),
        serde_json::json!({"state": to, "appeal": id, "deduction": input.deduction,
                           "key": key, "reason": input.reason}),
    )
    .map_err(&e)?;
    tx.commit().map_err(&e)?;
    Ok(id)
}

/// Checks an appeal (window open, a reason, a deduction not already under appeal) and
/// returns the appealed deduction's key.
fn check_appeal(
    store: &Store,
    idx: &Indexed,
    call_id: &str,
    input: &AppealInput,
    window_secs: i64,
) -> Result<String> {
    if idx
        .published_at
        .is_some_and(|at| now_secs() > at + window_secs)
    {
        return Err(ReviewError::Conflict("the appeal window has closed".into()));
    }
    check_text("reason", &input.reason)?;
    if input.reason.trim().is_empty() {
        return Err(ReviewError::Invalid("an appeal needs a reason".into()));
    }
    let result = result(store, call_id)?;
    let d = result.deductions.get(input.deduction).ok_or_else(|| {
        ReviewError::Invalid(format!("deduction {} does not exist", input.deduction))
    })?;
    let key = deduction_key(d);
    let open: i64 = store
        .conn
        .query_row(
            "SELECT COUNT(*) FROM appeals WHERE call_id = ?1 AND outcome IS NULL
               AND (key = ?2 OR (key IS NULL AND deduction = ?3))",
            params![call_id, key, input.deduction as i64],
            |r| r.get(0),
        )
        .map_err(sql_err(store))?;
    if open > 0 {
        return Err(ReviewError::Conflict(
            "this deduction is already under appeal".into(),
        ));
    }
    Ok(key)
}

/// The agent accepts the published review.
pub fn acknowledge(store: &Store, who: &User, call_id: &str) -> Result<()> {
    let e = sql_err(store);
    let idx = visible(store, who, call_id)?;
    let to = step(who, idx.state, Action::Acknowledge)?;
    let tx = write_tx(store).map_err(&e)?;
    set_state(&tx, call_id, to).map_err(&e)?;
    audit(
        &tx,
        &who.name,
        Some(call_id),
        "acknowledge",
        serde_json::json!({"state": idx.state}),
        serde_json::json!({"state": to}),
    )
    .map_err(&e)?;
    tx.commit().map_err(&e)
}

/// A supervisor's decision on an appeal.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutcomeInput {
    pub outcome: Outcome,
    #[serde(default)]
    pub points: Option<f64>,
    #[serde(default)]
    pub comment: String,
}

/// Decides an appeal. When it was the last open one, the call is settled: a new review
/// version carries every outcome, the old version is marked superseded. Returns the reviewed
/// score in force afterwards.
pub fn decide_appeal(
    store: &Store,
    rubrics: &Rubrics,
    who: &User,
    call_id: &str,
    appeal_id: i64,
    input: &OutcomeInput,
) -> Result<f64> {
    let e = sql_err(store);
    let idx = indexed(store, call_id)?;
    step(who, idx.state, Action::Settle)?;
    check_outcome(store, call_id, appeal_id, input)?;
    let tx = write_tx(store).map_err(&e)?;
    tx.execute(
        "UPDATE appeals SET outcome = ?2, points = ?3, comment = ?4, decided_by = ?5,
             decided_at = ?6 WHERE id = ?1",
        params![
            appeal_id,
            input.outcome.as_str(),
            input.points,
            input.comment,
            who.name,
            now_text()
        ],
    )
    .map_err(&e)?;
    let still_open: i64 = tx
        .query_row(
            "SELECT COUNT(*) FROM appeals WHERE call_id = ?1 AND outcome IS NULL",
            [call_id],
            |r| r.get(0),
        )
        .map_err(&e)?;
    audit(
        &tx,
        &who.name,
        Some(call_id),
        "decide_appeal",
        serde_json::json!({"appeal": appeal_id, "outcome": null}),
        serde_json::json!({"appeal": appeal_id, "outcome": input.outcome,
                           "points": input.points, "comment": input.comment}),
    )
    .map_err(&e)?;
    let score = if still_open == 0 {
        settle(store, &tx, rubrics, who, call_id, idx.state)?
    } else {
        tx.query_row(
            "SELECT COALESCE(reviewed_score, score) FROM call_index WHERE call_id = ?1",
            [call_id],
            |r| r.get(0),
        )
        .map_err(&e)?
    };
    tx.commit().map_err(&e)?;
    Ok(score)
}

/// Checks a decision: its text, the points a change needs, and an appeal still open.
fn check_outcome(store: &Store, call_id: &str, appeal_id: i64, input: &OutcomeInput) -> Result<()> {
    check_text("comment", &input.comment)?;
    if input.outcome == Outcome::Changed && !input.points.is_some_and(|p| p.is_finite() && p >= 0.0)
    {
        return Err(ReviewError::Invalid(
            "outcome \"changed\" needs the new points (0 or more)".into(),
        ));
    }
    let open: Option<Option<String>> = store
        .conn
        .query_row(
            "SELECT outcome FROM appeals WHERE id = ?1 AND call_id = ?2",
            params![appeal_id, call_id],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql_err(store))?;
    match open {
        None => Err(ReviewError::NotFound(format!("appeal {appeal_id}"))),
        Some(Some(_)) => Err(ReviewError::Conflict(format!(
            "appeal {appeal_id} is already decided"
        ))),
        Some(None) => Ok(()),
    }
}

/// Writes the settled version: the current review's parts with every appeal's outcome
/// applied.
pub(super) fn settle(
    store: &Store,
    tx: &Transaction,
    rubrics: &Rubrics,
    who: &User,
    call_id: &str,
    from: State,
) -> Result<f64> {
    let e = sql_err(store);
    let old = current_review(store, call_id)?
        .ok_or_else(|| ReviewError::Conflict("the call has no review".into()))?;
    let result = result(store, call_id)?;
    let new = new_version(tx, call_id, &who.name, result.score).map_err(&e)?;
    copy_review(tx, old, new).map_err(&e)?;
    apply_outcomes(tx, &result, old, new).map_err(&e)?;
    let scored = rescore(tx, rubrics, &result, new).map_err(&e)?;
    tx.execute("UPDATE reviews SET superseded = 1 WHERE id = ?1", [old])
        .map_err(&e)?;
    publish(tx, call_id, new, &scored).map_err(&e)?;
    set_state(tx, call_id, State::Settled).map_err(&e)?;
    audit(
        tx,
        &who.name,
        Some(call_id),
        "settle",
        serde_json::json!({"state": from, "review": snapshot_tx(tx, old).map_err(&e)?}),
        serde_json::json!({"state": State::Settled, "review": snapshot_tx(tx, new).map_err(&e)?,
                           "reviewed_score": scored.score, "credits": scored.credits,
                           "fine_yuan": scored.fine_yuan}),
    )
    .map_err(&e)?;
    Ok(scored.score)
}

/// Copies every part of review `old` into the new version `new`.
fn copy_review(tx: &Transaction, old: i64, new: i64) -> rusqlite::Result<()> {
    for sql in [
        "INSERT INTO decisions (review_id, deduction, key, decision, points, comment)
         SELECT ?2, deduction, key, decision, points, comment FROM decisions WHERE review_id = ?1",
        "INSERT INTO manual_answers (review_id, rule, points, comment)
         SELECT ?2, rule, points, comment FROM manual_answers WHERE review_id = ?1",
        "INSERT INTO finding_decisions (review_id, key, decision, comment)
         SELECT ?2, key, decision, comment FROM finding_decisions WHERE review_id = ?1",
        "INSERT INTO review_flags (review_id, rule, flag)
         SELECT ?2, rule, flag FROM review_flags WHERE review_id = ?1",
    ] {
        tx.execute(sql, params![old, new])?;
    }
    Ok(())
}

/// Turns each decided appeal against review `old` into the new version's verdict on the
/// appealed deduction, found by its key.
fn apply_outcomes(
    tx: &Transaction,
    result: &CallResult,
    old: i64,
    new: i64,
) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare(
        "SELECT deduction, key, outcome, points, COALESCE(comment, '') FROM appeals
         WHERE review_id = ?1 AND outcome IS NOT NULL ORDER BY id",
    )?;
    let outcomes = stmt
        .query_map([old], |r| {
            Ok((
                r.get::<_, i64>(0)? as usize,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<f64>>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for (index, key, outcome, points, comment) in outcomes {
        let (decision, points) = match Outcome::parse(&outcome) {
            Some(Outcome::Overturned) => (Decision::Rejected, None),
            Some(Outcome::Changed) => (Decision::Confirmed, points),
            _ => (Decision::Confirmed, None),
        };
        let key = key.unwrap_or_else(|| {
            result
                .deductions
                .get(index)
                .map(deduction_key)
                .unwrap_or_default()
        });
        let at = result
            .deductions
            .iter()
            .position(|d| deduction_key(d) == key)
            .unwrap_or(index);
        put_decision(tx, new, at, &key, decision, points, &comment)?;
    }
    Ok(())
}

/// Locks published and acknowledged calls whose appeal window has closed. Returns how many.
pub fn lock_expired(store: &Store, window_secs: i64) -> Result<usize> {
    let e = sql_err(store);
    let cutoff = now_secs() - window_secs;
    let tx = write_tx(store).map_err(&e)?;
    let due: Vec<(String, String)> = {
        let mut stmt = tx
            .prepare(
                "SELECT call_id, state FROM call_index
                 WHERE state IN ('published', 'acknowledged') AND published_at < ?1",
            )
            .map_err(&e)?;
        let rows = stmt
            .query_map([cutoff], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(&e)?;
        rows.collect::<rusqlite::Result<_>>().map_err(&e)?
    };
    for (call_id, state) in &due {
        set_state(&tx, call_id, State::Locked).map_err(&e)?;
        audit(
            &tx,
            "system",
            Some(call_id),
            "lock",
            serde_json::json!({"state": state}),
            serde_json::json!({"state": State::Locked}),
        )
        .map_err(&e)?;
    }
    tx.commit().map_err(&e)?;
    Ok(due.len())
}
