//! What every review operation shares: looking a call up as a viewer may see it, the state
//! step check, the audit row, and write transactions that wait for a concurrent writer.

use super::*;

pub(super) fn sql_err(store: &Store) -> impl Fn(rusqlite::Error) -> ReviewError + '_ {
    move |e| ReviewError::Store(store.err(e))
}

pub(super) fn corrupt(store: &Store) -> impl Fn(serde_json::Error) -> ReviewError + '_ {
    move |e| ReviewError::Store(store.corrupt(e))
}

pub(super) fn parse_state(s: &str) -> rusqlite::Result<State> {
    State::parse(s).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, s.into())
    })
}

/// A call's review status as indexed.
#[derive(Clone, Debug)]
pub(super) struct Indexed {
    pub(super) agent_id: String,
    pub(super) state: State,
    pub(super) assigned_to: Option<String>,
    pub(super) published_at: Option<i64>,
    pub(super) version: i64,
}

pub(super) fn indexed(store: &Store, call_id: &str) -> Result<Indexed> {
    store
        .conn
        .query_row(
            "SELECT agent_id, state, assigned_to, published_at, version
             FROM call_index WHERE call_id = ?1",
            [call_id],
            |r| {
                Ok(Indexed {
                    agent_id: r.get(0)?,
                    state: parse_state(&r.get::<_, String>(1)?)?,
                    assigned_to: r.get(2)?,
                    published_at: r.get(3)?,
                    version: r.get(4)?,
                })
            },
        )
        .optional()
        .map_err(sql_err(store))?
        .ok_or_else(|| ReviewError::NotFound(format!("call {call_id}")))
}

/// The call as `viewer` may see it: agents only their own published calls; anything else is
/// "not found", so an agent cannot even learn which call ids exist.
pub(super) fn visible(store: &Store, viewer: &User, call_id: &str) -> Result<Indexed> {
    let call = indexed(store, call_id)?;
    let hidden = match viewer.role {
        Role::Agent => {
            viewer.agent_id.as_deref() != Some(call.agent_id.as_str()) || !call.state.is_published()
        }
        Role::Inspector => call.assigned_to.as_deref() != Some(viewer.name.as_str()),
        Role::Supervisor | Role::Admin => false,
    };
    if hidden {
        return Err(ReviewError::NotFound(format!("call {call_id}")));
    }
    Ok(call)
}

/// The machine result of a call `viewer` may see (see [`call_view`] for who sees what).
pub fn visible_result(store: &Store, viewer: &User, call_id: &str) -> Result<CallResult> {
    visible(store, viewer, call_id)?;
    result(store, call_id)
}

/// The stored machine result of a call.
pub fn result(store: &Store, call_id: &str) -> Result<CallResult> {
    let json: String = store
        .conn
        .query_row(
            "SELECT result FROM results WHERE call_id = ?1",
            [call_id],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql_err(store))?
        .ok_or_else(|| ReviewError::NotFound(format!("call {call_id}")))?;
    serde_json::from_str(&json).map_err(corrupt(store))
}

pub(super) fn current_review(store: &Store, call_id: &str) -> Result<Option<i64>> {
    store
        .conn
        .query_row(
            "SELECT id FROM reviews WHERE call_id = ?1 AND superseded = 0
             ORDER BY version DESC LIMIT 1",
            [call_id],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql_err(store))
}

/// Writes one audit row in the caller's transaction.
pub(super) fn audit(
    tx: &Transaction,
    who: &str,
    call_id: Option<&str>,
    action: &str,
    before: serde_json::Value,
    after: serde_json::Value,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO audit (at, who, call_id, action, before, after)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            now_text(),
            who,
            call_id,
            action,
            before.to_string(),
            after.to_string()
        ],
    )?;
    Ok(())
}

/// A write transaction that takes the write lock at BEGIN. A deferred one that reads first
/// and writes later cannot wait for a concurrent writer (SQLite answers "database is locked"
/// at once rather than risk a deadlock); an immediate one waits out the busy timeout.
pub(super) fn write_tx(store: &Store) -> rusqlite::Result<Transaction<'_>> {
    Transaction::new_unchecked(&store.conn, rusqlite::TransactionBehavior::Immediate)
}

pub(super) fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub(super) fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Checks that `who` may take `action` on a call in state `from` and returns the new state.
pub(super) fn step(who: &User, from: State, action: Action) -> Result<State> {
    if !who.role.may(action) {
        return Err(ReviewError::Forbidden(format!(
            "a {} cannot {}",
            who.role, action
        )));
    }
    next_state(from, action)
        .ok_or_else(|| ReviewError::Conflict(format!("cannot {action} a call that is {from}")))
}

pub(super) fn set_state(tx: &Transaction, call_id: &str, state: State) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE call_index SET state = ?2 WHERE call_id = ?1",
        params![call_id, state.as_str()],
    )?;
    Ok(())
}
