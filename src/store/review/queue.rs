//! The call index the queue filters on, and the queue itself. The index is a narrow copy of
//! each result (agent, month, score, flagged, tags), so the queue never parses result JSON.

use super::*;

/// One row of the queue.
#[derive(Clone, Debug, Serialize)]
pub struct CallRow {
    pub call_id: String,
    pub agent_id: String,
    pub started_at: String,
    pub score: f64,
    pub reviewed_score: Option<f64>,
    pub state: State,
    pub assigned_to: Option<String>,
    pub flagged: bool,
    pub version: i64,
}

/// Queue filters; empty strings mean "any".
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Filter {
    pub agent_id: Option<String>,
    pub month: Option<String>,
    pub state: Option<String>,
    pub rule: Option<String>,
    pub category: Option<String>,
    pub flagged: Option<bool>,
    pub limit: Option<usize>,
    pub offset: Option<usize>,
    /// Keyset pagination: the `next` cursor of the previous page. Cheaper than `offset` deep
    /// in a large queue: the index seeks to it instead of walking every row before it.
    pub after: Option<String>,
}

impl Filter {
    /// What decides the counts per state of this filter for `viewer` (paging and the state
    /// itself do not): a key for caching them.
    pub fn counts_key(&self, viewer: &User) -> String {
        let v = |o: &Option<String>| non_empty(o).unwrap_or("").to_string();
        serde_json::json!([
            viewer.role,
            viewer.name,
            viewer.agent_id,
            v(&self.agent_id),
            v(&self.month),
            v(&self.rule),
            v(&self.category),
            self.flagged
        ])
        .to_string()
    }

    /// Whether only the viewer's scope and a state narrow the queue, so the maintained counts
    /// per state answer without counting.
    fn is_plain(&self) -> bool {
        [&self.agent_id, &self.month, &self.rule, &self.category]
            .iter()
            .all(|v| non_empty(v).is_none())
            && self.flagged.is_none()
    }
}

/// The cursor of the page after `row` (see [`Filter::after`]).
pub fn cursor(row: &CallRow) -> String {
    format!("{}|{}", row.started_at, row.call_id)
}

/// Largest page of the queue.
pub const MAX_PAGE: usize = 500;

/// A filter as SQL conditions with their parameters: every value is bound, never spliced.
pub(super) struct Where {
    sql: Vec<&'static str>,
    args: Vec<SqlValue>,
}

impl Where {
    fn new() -> Where {
        Where {
            sql: vec!["1 = 1"],
            args: Vec::new(),
        }
    }

    fn push(&mut self, sql: &'static str, arg: impl Into<SqlValue>) {
        self.sql.push(sql);
        self.args.push(arg.into());
    }

    fn text(&self) -> String {
        self.sql.join(" AND ")
    }
}

pub(super) fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// What `viewer` may see: agents their own published calls, inspectors the calls assigned to
/// them, supervisors and admins everything. Scoping lives in the query, not in a template.
pub(super) fn scope(viewer: &User, filter: &Filter, with_state: bool) -> Where {
    let mut w = Where::new();
    match viewer.role {
        Role::Agent => {
            w.push("agent_id = ?", viewer.agent_id.clone().unwrap_or_default());
            w.sql
                .push("state IN ('published','acknowledged','appealed','settled','locked')");
        }
        Role::Inspector => w.push("assigned_to = ?", viewer.name.clone()),
        Role::Supervisor | Role::Admin => {}
    }
    if let Some(a) = non_empty(&filter.agent_id) {
        w.push("agent_id = ?", a.to_string());
    }
    if let Some(m) = non_empty(&filter.month) {
        w.push("month = ?", m.to_string());
    }
    if let (true, Some(s)) = (with_state, non_empty(&filter.state)) {
        w.push("state = ?", s.to_string());
    }
    if let Some(f) = filter.flagged {
        w.push("flagged = ?", i64::from(f));
    }
    if let Some(r) = non_empty(&filter.rule) {
        w.push(
            "EXISTS (SELECT 1 FROM call_tags t WHERE t.kind = 'rule' AND t.value = ?
                     AND t.call_id = call_index.call_id)",
            r.to_string(),
        );
    }
    if let Some(c) = non_empty(&filter.category) {
        w.push(
            "EXISTS (SELECT 1 FROM call_tags t WHERE t.kind = 'category' AND t.value = ?
                     AND t.call_id = call_index.call_id)",
            c.to_string(),
        );
    }
    w
}

/// The queue page for `viewer`, newest first (see [`count_states`] for its counts).
pub fn list_calls(store: &Store, viewer: &User, filter: &Filter) -> Result<Vec<CallRow>> {
    let e = sql_err(store);
    let mut w = scope(viewer, filter, true);
    if let Some((at, id)) = filter.after.as_deref().and_then(|c| c.split_once('|')) {
        w.sql.push("(started_at, call_id) < (?, ?)");
        w.args.push(at.to_string().into());
        w.args.push(id.to_string().into());
    }
    w.args
        .push((filter.limit.unwrap_or(100).min(MAX_PAGE) as i64).into());
    w.args.push((filter.offset.unwrap_or(0) as i64).into());
    // One direction for both keys, so every scope's (…, started_at, call_id) index is walked
    // backwards and the first page costs a page, not a sort of the whole queue.
    let sql = format!(
        "SELECT call_id, agent_id, started_at, score, reviewed_score, state, assigned_to,
                flagged, version
         FROM call_index WHERE {} ORDER BY started_at DESC, call_id DESC LIMIT ? OFFSET ?",
        w.text()
    );
    let mut stmt = store.conn.prepare_cached(&sql).map_err(&e)?;
    let rows = stmt
        .query_map(params_from_iter(w.args.iter()), |r| {
            Ok(CallRow {
                call_id: r.get(0)?,
                agent_id: r.get(1)?,
                started_at: r.get(2)?,
                score: r.get(3)?,
                reviewed_score: r.get(4)?,
                state: parse_state(&r.get::<_, String>(5)?)?,
                assigned_to: r.get(6)?,
                flagged: r.get::<_, i64>(7)? != 0,
                version: r.get(8)?,
            })
        })
        .map_err(&e)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(&e)?;
    Ok(rows)
}

/// Calls per state under the viewer's scope and the filter (whatever its state). A plain
/// queue reads the counts the schema's triggers maintain; a filtered one counts.
pub fn count_states(
    store: &Store,
    viewer: &User,
    filter: &Filter,
) -> Result<BTreeMap<String, i64>> {
    let e = sql_err(store);
    let maintained = match viewer.role {
        Role::Supervisor | Role::Admin => Some(String::new()),
        Role::Inspector => Some(format!("u:{}", viewer.name)),
        Role::Agent => None,
    };
    if let (true, Some(scope)) = (filter.is_plain(), maintained) {
        let mut stmt = store
            .conn
            .prepare_cached("SELECT state, n FROM state_counts WHERE scope = ?1 AND n > 0")
            .map_err(&e)?;
        let rows = stmt
            .query_map([scope], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(&e)?;
        return rows.collect::<rusqlite::Result<_>>().map_err(&e);
    }
    let counted = scope(viewer, filter, false);
    let sql = format!(
        "SELECT state, COUNT(*) FROM call_index WHERE {} GROUP BY state",
        counted.text()
    );
    let mut stmt = store.conn.prepare_cached(&sql).map_err(&e)?;
    let rows = stmt
        .query_map(params_from_iter(counted.args.iter()), |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })
        .map_err(&e)?;
    rows.collect::<rusqlite::Result<_>>().map_err(&e)
}

/// Brings the call index up to date with the results table: new calls, and calls re-scored
/// since (their input key changed). Review state is kept. Returns how many rows changed.
pub fn sync_index(store: &Store) -> Result<usize> {
    let e = sql_err(store);
    let stale: Vec<(String, String, String)> = {
        let mut stmt = store
            .conn
            .prepare(
                "SELECT r.call_id, r.input_key, r.result FROM results r
                 LEFT JOIN call_index c ON c.call_id = r.call_id
                 WHERE c.call_id IS NULL OR c.input_key IS NOT r.input_key",
            )
            .map_err(&e)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(&e)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(&e)?
    };
    if stale.is_empty() {
        return Ok(0);
    }
    let tx = write_tx(store).map_err(&e)?;
    for (call_id, input_key, json) in &stale {
        let result: CallResult = serde_json::from_str(json).map_err(corrupt(store))?;
        index_one(&tx, call_id, input_key, &result).map_err(&e)?;
    }
    tx.commit().map_err(&e)?;
    Ok(stale.len())
}

pub(super) fn index_one(
    tx: &Transaction,
    call_id: &str,
    input_key: &str,
    result: &CallResult,
) -> rusqlite::Result<()> {
    // The same "needs review" as the report and the rollup: one definition for the queue.
    let flagged = result.needs_review();
    tx.execute(
        "INSERT INTO call_index (call_id, input_key, agent_id, started_at, month, score, flagged)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (call_id) DO UPDATE SET input_key = excluded.input_key,
             agent_id = excluded.agent_id, started_at = excluded.started_at,
             month = excluded.month, score = excluded.score, flagged = excluded.flagged",
        params![
            call_id,
            input_key,
            result.agent_id,
            result.started_at.to_rfc3339(),
            result.started_at.format("%Y-%m").to_string(),
            result.score,
            flagged
        ],
    )?;
    tx.execute("DELETE FROM call_tags WHERE call_id = ?1", [call_id])?;
    let rules = result
        .deductions
        .iter()
        .map(|d| d.rule.as_str())
        .chain(result.findings.iter().map(|f| f.rule.as_str()));
    let categories = result.hits.iter().map(|h| h.category.as_str());
    let tags = rules
        .map(|r| ("rule", r))
        .chain(categories.map(|c| ("category", c)));
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO call_tags (kind, value, call_id) VALUES (?1, ?2, ?3)",
    )?;
    for (kind, value) in tags {
        insert.execute(params![kind, value, call_id])?;
    }
    Ok(())
}
