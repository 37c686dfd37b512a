//! Review: what people decide about a scored call, kept in the same `callqa.db` as the
//! machine's results, so `callqa serve`, `callqa report` and a running `callqa run` share one
//! file (WAL mode and the store's busy timeout make that safe).
//!
//! A call moves through [`State`]s by [`Action`]s that [`next_state`] allows and
//! [`Role::may`] permits; every change writes an [`audit`](AuditEntry) row (who, when, what,
//! before, after) in the same transaction, so the log cannot miss a change. A review is
//! versioned: settling an appeal writes a new version and marks the old one superseded, never
//! editing a published version in place. The reviewed score is computed from the machine's
//! deductions and the reviewer's verdicts by [`reviewed_score`], which re-applies the rubric's
//! forfeit-once and escalation rules instead of adding points back one by one: rejecting the
//! deduction that carried an item's points must not refund them while another sub-rule of the
//! same item still stands.
//!
//! The schema is versioned ([`MIGRATIONS`]) and only ever grows: each step creates tables,
//! indexes or columns, so an older database keeps working and nothing is dropped.

use std::collections::{BTreeMap, HashMap};

use rusqlite::types::Value as SqlValue;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError};
use crate::score::{Rubric, Rubrics};
use crate::CallResult;

/// The review schema, one step per version; step `i` brings the database to version `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    // 1: users, sessions, the call index the queue filters on, reviews and their parts, audit.
    "CREATE TABLE IF NOT EXISTS users (
         name TEXT PRIMARY KEY,
         role TEXT NOT NULL,
         agent_id TEXT,
         hash TEXT NOT NULL,
         created_at TEXT NOT NULL
     );
     CREATE TABLE IF NOT EXISTS sessions (
         token_hash TEXT PRIMARY KEY,
         user TEXT NOT NULL,
         csrf TEXT NOT NULL,
         expires_at INTEGER NOT NULL
     );
     CREATE TABLE IF NOT EXISTS call_index (
         call_id TEXT PRIMARY KEY,
         input_key TEXT,
         agent_id TEXT NOT NULL,
         started_at TEXT NOT NULL,
         month TEXT NOT NULL,
         score REAL NOT NULL,
         flagged INTEGER NOT NULL,
         state TEXT NOT NULL DEFAULT 'auto_scored',
         assigned_to TEXT,
         reviewed_score REAL,
         version INTEGER NOT NULL DEFAULT 0,
         published_at INTEGER
     );
     CREATE INDEX IF NOT EXISTS call_index_started ON call_index (started_at, call_id);
     CREATE INDEX IF NOT EXISTS call_index_agent ON call_index (agent_id, month);
     CREATE INDEX IF NOT EXISTS call_index_month ON call_index (month, started_at);
     CREATE INDEX IF NOT EXISTS call_index_state ON call_index (state, started_at);
     CREATE INDEX IF NOT EXISTS call_index_assigned ON call_index (assigned_to, state);
     CREATE INDEX IF NOT EXISTS call_index_flagged ON call_index (flagged, started_at);
     CREATE TABLE IF NOT EXISTS call_tags (
         kind TEXT NOT NULL,
         value TEXT NOT NULL,
         call_id TEXT NOT NULL,
         PRIMARY KEY (kind, value, call_id)
     ) WITHOUT ROWID;
     CREATE INDEX IF NOT EXISTS call_tags_call ON call_tags (call_id);
     CREATE TABLE IF NOT EXISTS reviews (
         id INTEGER PRIMARY KEY,
         call_id TEXT NOT NULL,
         version INTEGER NOT NULL,
         inspector TEXT NOT NULL,
         auto_score REAL NOT NULL,
         reviewed_score REAL NOT NULL,
         created_at TEXT NOT NULL,
         published_at TEXT,
         superseded INTEGER NOT NULL DEFAULT 0,
         UNIQUE (call_id, version)
     );
     CREATE TABLE IF NOT EXISTS decisions (
         review_id INTEGER NOT NULL,
         deduction INTEGER NOT NULL,
         decision TEXT NOT NULL,
         points REAL,
         comment TEXT NOT NULL DEFAULT '',
         PRIMARY KEY (review_id, deduction)
     );
     CREATE TABLE IF NOT EXISTS manual_answers (
         review_id INTEGER NOT NULL,
         rule TEXT NOT NULL,
         points REAL,
         comment TEXT NOT NULL DEFAULT '',
         PRIMARY KEY (review_id, rule)
     );
     CREATE TABLE IF NOT EXISTS appeals (
         id INTEGER PRIMARY KEY,
         call_id TEXT NOT NULL,
         review_id INTEGER NOT NULL,
         deduction INTEGER NOT NULL,
         agent TEXT NOT NULL,
         reason TEXT NOT NULL,
         created_at TEXT NOT NULL,
         outcome TEXT,
         points REAL,
         comment TEXT,
         decided_by TEXT,
         decided_at TEXT
     );
     CREATE INDEX IF NOT EXISTS appeals_call ON appeals (call_id);
     CREATE TABLE IF NOT EXISTS audit (
         id INTEGER PRIMARY KEY,
         at TEXT NOT NULL,
         who TEXT NOT NULL,
         call_id TEXT,
         action TEXT NOT NULL,
         before TEXT,
         after TEXT
     );
     CREATE INDEX IF NOT EXISTS audit_call ON audit (call_id, id);
     CREATE TABLE IF NOT EXISTS samples (
         id INTEGER PRIMARY KEY,
         at TEXT NOT NULL,
         who TEXT NOT NULL,
         seed INTEGER NOT NULL,
         params TEXT NOT NULL,
         calls TEXT NOT NULL
     );",
];

/// Brings the review tables to the newest [`MIGRATIONS`] step; called by [`Store::open`].
pub(crate) fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch("CREATE TABLE IF NOT EXISTS review_schema (version INTEGER NOT NULL)")?;
    let current: i64 = conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM review_schema",
        [],
        |r| r.get(0),
    )?;
    for (i, step) in MIGRATIONS.iter().enumerate().skip(current.max(0) as usize) {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(step)?;
        tx.execute(
            "INSERT INTO review_schema (version) VALUES (?1)",
            [i as i64 + 1],
        )?;
        tx.commit()?;
    }
    Ok(())
}

/// Why a review request was refused; the server maps each kind to a status code.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("not allowed: {0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error("the operating system gave no random bytes ({0}); sessions and passwords need them")]
    Random(String),
}

type Result<T> = std::result::Result<T, ReviewError>;

macro_rules! closed_set {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(s: &str) -> Option<$name> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

closed_set! {
    /// Who a user is, and so what they may see and do.
    Role { Agent = "agent", Inspector = "inspector", Supervisor = "supervisor", Admin = "admin" }
}

closed_set! {
    /// Where a call is in its review.
    State {
        AutoScored = "auto_scored",
        Assigned = "assigned",
        InReview = "in_review",
        Published = "published",
        Acknowledged = "acknowledged",
        Appealed = "appealed",
        Settled = "settled",
        Locked = "locked",
    }
}

closed_set! {
    /// What someone does to a call.
    Action {
        Assign = "assign",
        Recall = "recall",
        Save = "save",
        Publish = "publish",
        Acknowledge = "acknowledge",
        Appeal = "appeal",
        Settle = "settle",
        Lock = "lock",
    }
}

closed_set! {
    /// The reviewer's verdict on one machine deduction.
    Decision { Pending = "pending", Confirmed = "confirmed", Rejected = "rejected" }
}

closed_set! {
    /// A supervisor's answer to an appeal.
    Outcome { Upheld = "upheld", Overturned = "overturned", Changed = "changed" }
}

impl State {
    /// States in which the agent sees the call and monthly scores use the review.
    pub const PUBLISHED: &'static [State] = &[
        State::Published,
        State::Acknowledged,
        State::Appealed,
        State::Settled,
        State::Locked,
    ];

    pub fn is_published(self) -> bool {
        State::PUBLISHED.contains(&self)
    }
}

/// The state `action` leads to from `from`, or `None` when it is not allowed there.
pub fn next_state(from: State, action: Action) -> Option<State> {
    use Action as A;
    use State as S;
    Some(match (from, action) {
        (S::AutoScored | S::Assigned, A::Assign) => S::Assigned,
        (S::Assigned | S::InReview, A::Recall) => S::AutoScored,
        (S::Assigned | S::InReview, A::Save) => S::InReview,
        (S::Assigned | S::InReview, A::Publish) => S::Published,
        (S::Published, A::Acknowledge) => S::Acknowledged,
        // An agent may appeal several deductions while the window is open.
        (S::Published | S::Appealed, A::Appeal) => S::Appealed,
        (S::Appealed, A::Settle) => S::Settled,
        (S::Published | S::Acknowledged, A::Lock) => S::Locked,
        _ => return None,
    })
}

impl Role {
    /// Whether this role may take `action` at all (ownership is checked separately).
    pub fn may(self, action: Action) -> bool {
        use Action as A;
        match self {
            Role::Agent => matches!(action, A::Acknowledge | A::Appeal),
            Role::Inspector => matches!(action, A::Save | A::Publish),
            Role::Supervisor => matches!(
                action,
                A::Assign | A::Recall | A::Save | A::Publish | A::Settle
            ),
            Role::Admin => matches!(action, A::Assign | A::Recall),
        }
    }
}

/// A logged-in user as the server sees them.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct User {
    pub name: String,
    pub role: Role,
    /// The agent id whose calls an `agent` user sees.
    pub agent_id: Option<String>,
}

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
}

/// Largest page of the queue.
pub const MAX_PAGE: usize = 500;

/// A filter as SQL conditions with their parameters: every value is bound, never spliced.
struct Where {
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

fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// What `viewer` may see: agents their own published calls, inspectors the calls assigned to
/// them, supervisors and admins everything. Scoping lives in the query, not in a template.
fn scope(viewer: &User, filter: &Filter, with_state: bool) -> Where {
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
            "call_id IN (SELECT call_id FROM call_tags WHERE kind = 'rule' AND value = ?)",
            r.to_string(),
        );
    }
    if let Some(c) = non_empty(&filter.category) {
        w.push(
            "call_id IN (SELECT call_id FROM call_tags WHERE kind = 'category' AND value = ?)",
            c.to_string(),
        );
    }
    w
}

fn sql_err(store: &Store) -> impl Fn(rusqlite::Error) -> ReviewError + '_ {
    move |e| ReviewError::Store(store.err(e))
}

fn corrupt(store: &Store) -> impl Fn(serde_json::Error) -> ReviewError + '_ {
    move |e| ReviewError::Store(store.corrupt(e))
}

fn parse_state(s: &str) -> rusqlite::Result<State> {
    State::parse(s).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, s.into())
    })
}

/// The queue page for `viewer`, newest first, and the number of calls per state.
pub fn list_calls(
    store: &Store,
    viewer: &User,
    filter: &Filter,
) -> Result<(Vec<CallRow>, BTreeMap<String, i64>)> {
    let e = sql_err(store);
    let w = scope(viewer, filter, true);
    let limit = filter.limit.unwrap_or(100).min(MAX_PAGE) as i64;
    let offset = filter.offset.unwrap_or(0) as i64;
    let sql = format!(
        "SELECT call_id, agent_id, started_at, score, reviewed_score, state, assigned_to,
                flagged, version
         FROM call_index WHERE {} ORDER BY started_at DESC, call_id LIMIT {limit} OFFSET {offset}",
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
    let counted = scope(viewer, filter, false);
    let sql = format!(
        "SELECT state, COUNT(*) FROM call_index WHERE {} GROUP BY state",
        counted.text()
    );
    let mut stmt = store.conn.prepare_cached(&sql).map_err(&e)?;
    let counts = stmt
        .query_map(params_from_iter(counted.args.iter()), |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })
        .map_err(&e)?
        .collect::<rusqlite::Result<BTreeMap<_, _>>>()
        .map_err(&e)?;
    Ok((rows, counts))
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

fn index_one(
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

/// A call's review status as indexed.
#[derive(Clone, Debug)]
struct Indexed {
    agent_id: String,
    state: State,
    assigned_to: Option<String>,
    published_at: Option<i64>,
    version: i64,
}

fn indexed(store: &Store, call_id: &str) -> Result<Indexed> {
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
fn visible(store: &Store, viewer: &User, call_id: &str) -> Result<Indexed> {
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

fn current_review(store: &Store, call_id: &str) -> Result<Option<i64>> {
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

type Decisions = HashMap<usize, (Decision, String, Option<f64>)>;

fn decisions(store: &Store, review: i64) -> Result<Decisions> {
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

type Answers = HashMap<String, (Option<f64>, String)>;

fn manual_answers(store: &Store, review: i64) -> Result<Answers> {
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

fn appeals(store: &Store, call_id: &str) -> Result<Vec<AppealView>> {
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

fn versions(store: &Store, call_id: &str) -> Result<Vec<VersionView>> {
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

/// Writes one audit row in the caller's transaction.
fn audit(
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
fn write_tx(store: &Store) -> rusqlite::Result<Transaction<'_>> {
    Transaction::new_unchecked(&store.conn, rusqlite::TransactionBehavior::Immediate)
}

fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Checks that `who` may take `action` on a call in state `from` and returns the new state.
fn step(who: &User, from: State, action: Action) -> Result<State> {
    if !who.role.may(action) {
        return Err(ReviewError::Forbidden(format!(
            "a {} cannot {}",
            who.role, action
        )));
    }
    next_state(from, action)
        .ok_or_else(|| ReviewError::Conflict(format!("cannot {action} a call that is {from}")))
}

fn set_state(tx: &Transaction, call_id: &str, state: State) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE call_index SET state = ?2 WHERE call_id = ?1",
        params![call_id, state.as_str()],
    )?;
    Ok(())
}

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

fn check_text(what: &str, s: &str) -> Result<()> {
    if s.chars().count() > MAX_TEXT {
        return Err(ReviewError::Invalid(format!(
            "{what} is longer than {MAX_TEXT} characters"
        )));
    }
    Ok(())
}

fn check_review(result: &CallResult, input: &ReviewInput) -> Result<()> {
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

fn new_version(tx: &Transaction, call_id: &str, who: &str, auto: f64) -> rusqlite::Result<i64> {
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

fn publish(tx: &Transaction, call_id: &str, review: i64, score: f64) -> rusqlite::Result<()> {
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
fn snapshot(store: &Store, review: i64) -> Result<serde_json::Value> {
    snapshot_tx(&store.conn, review).map_err(sql_err(store))
}

fn snapshot_tx(conn: &Connection, review: i64) -> rusqlite::Result<serde_json::Value> {
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

/// Recomputes a review's score from what is stored for it.
fn score_review(
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
    if input.deduction >= result.deductions.len() {
        return Err(ReviewError::Invalid(format!(
            "deduction {} does not exist",
            input.deduction
        )));
    }
    let review = current_review(store, call_id)?
        .ok_or_else(|| ReviewError::Conflict("the call has no published review".into()))?;
    let open: i64 = store
        .conn
        .query_row(
            "SELECT COUNT(*) FROM appeals WHERE call_id = ?1 AND deduction = ?2 AND outcome IS NULL",
            params![call_id, input.deduction as i64],
            |r| r.get(0),
        )
        .map_err(&e)?;
    if open > 0 {
        return Err(ReviewError::Conflict(
            "this deduction is already under appeal".into(),
        ));
    }
    let tx = write_tx(store).map_err(&e)?;
    tx.execute(
        "INSERT INTO appeals (call_id, review_id, deduction, agent, reason, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            call_id,
            review,
            input.deduction as i64,
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
                           "reason": input.reason}),
    )
    .map_err(&e)?;
    tx.commit().map_err(&e)?;
    Ok(id)
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
        .map_err(&e)?;
    match open {
        None => return Err(ReviewError::NotFound(format!("appeal {appeal_id}"))),
        Some(Some(_)) => {
            return Err(ReviewError::Conflict(format!(
                "appeal {appeal_id} is already decided"
            )))
        }
        Some(None) => {}
    }
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

/// Writes the settled version: the current decisions with every appeal's outcome applied.
fn settle(
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
    tx.execute(
        "INSERT INTO decisions (review_id, deduction, decision, points, comment)
         SELECT ?2, deduction, decision, points, comment FROM decisions WHERE review_id = ?1",
        params![old, new],
    )
    .map_err(&e)?;
    tx.execute(
        "INSERT INTO manual_answers (review_id, rule, points, comment)
         SELECT ?2, rule, points, comment FROM manual_answers WHERE review_id = ?1",
        params![old, new],
    )
    .map_err(&e)?;
    let outcomes: Vec<(i64, String, Option<f64>, String)> = {
        let mut stmt = tx
            .prepare(
                "SELECT deduction, outcome, points, COALESCE(comment, '') FROM appeals
                 WHERE review_id = ?1 AND outcome IS NOT NULL ORDER BY id",
            )
            .map_err(&e)?;
        let rows = stmt
            .query_map([old], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .map_err(&e)?;
        rows.collect::<rusqlite::Result<_>>().map_err(&e)?
    };
    for (deduction, outcome, points, comment) in outcomes {
        let (decision, points) = match Outcome::parse(&outcome) {
            Some(Outcome::Overturned) => (Decision::Rejected, None),
            Some(Outcome::Changed) => (Decision::Confirmed, points),
            _ => (Decision::Confirmed, None),
        };
        tx.execute(
            "INSERT INTO decisions (review_id, deduction, decision, points, comment)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (review_id, deduction) DO UPDATE SET decision = excluded.decision,
                 points = excluded.points, comment = excluded.comment",
            params![new, deduction, decision.as_str(), points, comment],
        )
        .map_err(&e)?;
    }
    let score = score_review(tx, rubrics, &result, new).map_err(&e)?;
    tx.execute(
        "UPDATE reviews SET reviewed_score = ?2 WHERE id = ?1",
        params![new, score],
    )
    .map_err(&e)?;
    tx.execute("UPDATE reviews SET superseded = 1 WHERE id = ?1", [old])
        .map_err(&e)?;
    publish(tx, call_id, new, score).map_err(&e)?;
    set_state(tx, call_id, State::Settled).map_err(&e)?;
    audit(
        tx,
        &who.name,
        Some(call_id),
        "settle",
        serde_json::json!({"state": from, "review": snapshot_tx(tx, old).map_err(&e)?}),
        serde_json::json!({"state": State::Settled, "review": snapshot_tx(tx, new).map_err(&e)?,
                           "reviewed_score": score}),
    )
    .map_err(&e)?;
    Ok(score)
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

/// The score a published review gives a call, and which review version it comes from.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ReviewedScore {
    pub score: f64,
    pub version: i64,
}

/// Every call with a published review: call_id → its reviewed score and version. Monthly
/// rollups and `calls.jsonl` use these where present; an appealed call keeps its published
/// version until the appeal is settled.
pub fn reviewed_scores(
    store: &Store,
) -> std::result::Result<HashMap<String, ReviewedScore>, StoreError> {
    // The tables exist once the store is open; an older binary's database has none.
    let mut stmt = store
        .conn
        .prepare(
            "SELECT call_id, reviewed_score, version FROM call_index
             WHERE state IN ('published','acknowledged','appealed','settled','locked')
               AND reviewed_score IS NOT NULL",
        )
        .map_err(|e| store.err(e))?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                ReviewedScore {
                    score: r.get(1)?,
                    version: r.get(2)?,
                },
            ))
        })
        .map_err(|e| store.err(e))?;
    rows.collect::<rusqlite::Result<_>>()
        .map_err(|e| store.err(e))
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

/// The tables `callqa export --reviews` writes, each with the query that reads it.
pub const EXPORT_TABLES: &[(&str, &str)] = &[
    (
        "reviews",
        "SELECT call_id, version, inspector, auto_score, reviewed_score, created_at, published_at,
                superseded FROM reviews ORDER BY call_id, version",
    ),
    (
        "decisions",
        "SELECT r.call_id, r.version, d.deduction, d.decision, d.points, d.comment
         FROM decisions d JOIN reviews r ON r.id = d.review_id
         ORDER BY r.call_id, r.version, d.deduction",
    ),
    (
        "manual",
        "SELECT r.call_id, r.version, m.rule, m.points, m.comment
         FROM manual_answers m JOIN reviews r ON r.id = m.review_id
         ORDER BY r.call_id, r.version, m.rule",
    ),
    (
        "appeals",
        "SELECT a.id, a.call_id, r.version, a.deduction, a.agent, a.reason, a.created_at,
                a.outcome, a.points, a.comment, a.decided_by, a.decided_at
         FROM appeals a JOIN reviews r ON r.id = a.review_id ORDER BY a.id",
    ),
    (
        "audit",
        "SELECT id, at, who, call_id, action, before, after FROM audit ORDER BY id",
    ),
];

/// One export table as text: its column names and rows (NULL is empty).
pub fn export_table(store: &Store, sql: &str) -> Result<(Vec<String>, Vec<Vec<String>>)> {
    use rusqlite::types::ValueRef;
    let e = sql_err(store);
    let mut stmt = store.conn.prepare(sql).map_err(&e)?;
    let header: Vec<String> = stmt.column_names().iter().map(|c| c.to_string()).collect();
    let width = header.len();
    let mut rows = stmt.query([]).map_err(&e)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(&e)? {
        let mut row = Vec::with_capacity(width);
        for i in 0..width {
            row.push(match r.get_ref(i).map_err(&e)? {
                ValueRef::Null => String::new(),
                ValueRef::Integer(n) => n.to_string(),
                ValueRef::Real(f) => f.to_string(),
                ValueRef::Text(t) | ValueRef::Blob(t) => String::from_utf8_lossy(t).into_owned(),
            });
        }
        out.push(row);
    }
    Ok((header, out))
}

mod users;
pub use users::{
    add_user, check_password, create_session, end_session, list_users, remove_user, session, user,
    Session, MIN_PASSWORD, SESSION_SECS,
};

mod sample;
pub use sample::{assign_sample, SamplePlan};

#[cfg(test)]
mod tests;
