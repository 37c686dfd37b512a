//! The review tables and their versioned migrations. Steps only ever add (tables, indexes,
//! columns), so a database written by an older callqa keeps working and nothing is dropped.

use super::*;

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
    // 2: verdicts follow a deduction by its stable key (rule, time, words) instead of its place
    // in the list, so a re-scored call keeps them on the right deduction; verdicts on assist
    // findings, inspector flags (扣分加倍 …), the 积分 / 元 a review accrues; blind calibration
    // answers; a maintained count per state for the queue.
    "ALTER TABLE decisions ADD COLUMN key TEXT;
     ALTER TABLE appeals ADD COLUMN key TEXT;
     ALTER TABLE reviews ADD COLUMN credits REAL NOT NULL DEFAULT 0;
     ALTER TABLE reviews ADD COLUMN fine_yuan REAL NOT NULL DEFAULT 0;
     ALTER TABLE call_index ADD COLUMN reviewed_credits REAL;
     ALTER TABLE call_index ADD COLUMN reviewed_fine REAL;
     CREATE TABLE IF NOT EXISTS finding_decisions (
         review_id INTEGER NOT NULL,
         key TEXT NOT NULL,
         decision TEXT NOT NULL,
         comment TEXT NOT NULL DEFAULT '',
         PRIMARY KEY (review_id, key)
     );
     CREATE TABLE IF NOT EXISTS review_flags (
         review_id INTEGER NOT NULL,
         rule TEXT NOT NULL,
         flag TEXT NOT NULL,
         PRIMARY KEY (review_id, rule)
     );
     CREATE TABLE IF NOT EXISTS calibrations (
         id INTEGER PRIMARY KEY,
         call_id TEXT NOT NULL,
         inspector TEXT NOT NULL,
         created_at TEXT NOT NULL,
         UNIQUE (call_id, inspector)
     );
     CREATE TABLE IF NOT EXISTS calibration_answers (
         calibration_id INTEGER NOT NULL,
         rule TEXT NOT NULL,
         item TEXT NOT NULL,
         answer TEXT NOT NULL,
         points REAL,
         comment TEXT NOT NULL DEFAULT '',
         PRIMARY KEY (calibration_id, item)
     );
     CREATE TABLE IF NOT EXISTS calibration_leads (
         call_id TEXT PRIMARY KEY,
         lead TEXT NOT NULL
     );
     CREATE TABLE IF NOT EXISTS state_counts (
         scope TEXT NOT NULL,
         state TEXT NOT NULL,
         n INTEGER NOT NULL,
         PRIMARY KEY (scope, state)
     ) WITHOUT ROWID;
     INSERT INTO state_counts (scope, state, n)
         SELECT '', state, COUNT(*) FROM call_index GROUP BY state;
     INSERT INTO state_counts (scope, state, n)
         SELECT 'u:' || assigned_to, state, COUNT(*) FROM call_index
         WHERE assigned_to IS NOT NULL GROUP BY assigned_to, state;
     CREATE TRIGGER IF NOT EXISTS state_counts_insert AFTER INSERT ON call_index BEGIN
         INSERT INTO state_counts VALUES ('', NEW.state, 1)
             ON CONFLICT (scope, state) DO UPDATE SET n = n + 1;
         INSERT INTO state_counts SELECT 'u:' || NEW.assigned_to, NEW.state, 1
             WHERE NEW.assigned_to IS NOT NULL
             ON CONFLICT (scope, state) DO UPDATE SET n = n + 1;
     END;
     CREATE TRIGGER IF NOT EXISTS state_counts_update
         AFTER UPDATE OF state, assigned_to ON call_index
         WHEN OLD.state IS NOT NEW.state OR OLD.assigned_to IS NOT NEW.assigned_to BEGIN
         UPDATE state_counts SET n = n - 1 WHERE scope = '' AND state = OLD.state;
         UPDATE state_counts SET n = n - 1
             WHERE OLD.assigned_to IS NOT NULL AND scope = 'u:' || OLD.assigned_to
               AND state = OLD.state;
         INSERT INTO state_counts VALUES ('', NEW.state, 1)
             ON CONFLICT (scope, state) DO UPDATE SET n = n + 1;
         INSERT INTO state_counts SELECT 'u:' || NEW.assigned_to, NEW.state, 1
             WHERE NEW.assigned_to IS NOT NULL
             ON CONFLICT (scope, state) DO UPDATE SET n = n + 1;
     END;
     CREATE INDEX IF NOT EXISTS call_index_assigned_started
         ON call_index (assigned_to, started_at, call_id);
     CREATE INDEX IF NOT EXISTS call_index_agent_started
         ON call_index (agent_id, started_at, call_id);
     CREATE INDEX IF NOT EXISTS call_index_state_started
         ON call_index (state, started_at, call_id);
     CREATE INDEX IF NOT EXISTS call_index_flagged_started
         ON call_index (flagged, started_at, call_id);
     CREATE INDEX IF NOT EXISTS call_index_assigned_state
         ON call_index (assigned_to, state, started_at, call_id);
     CREATE INDEX IF NOT EXISTS call_index_agent_state
         ON call_index (agent_id, state, started_at, call_id);
     CREATE INDEX IF NOT EXISTS call_index_flagged_count
         ON call_index (flagged, state, call_id);
     CREATE INDEX IF NOT EXISTS call_index_month_count
         ON call_index (month, state, call_id);",
    // An agent's month counted from its own few hundred rows: without it the planner counted
    // the agent's month through the month's index, every agent's calls (20 ms at 100,000).
    // It replaces the (agent_id, month) index, its prefix.
    "CREATE INDEX IF NOT EXISTS call_index_agent_month_count
         ON call_index (agent_id, month, state);
     DROP INDEX IF EXISTS call_index_agent;",
];

/// Whether the review tables are at the newest [`MIGRATIONS`] step already.
pub(crate) fn is_current(conn: &Connection) -> rusqlite::Result<bool> {
    let version: Option<i64> = conn
        .query_row("SELECT MAX(version) FROM review_schema", [], |r| r.get(0))
        .or_else(|e| match e {
            // A database older than the review tables.
            rusqlite::Error::SqliteFailure(_, Some(m)) if m.contains("no such table") => Ok(None),
            e => Err(e),
        })?;
    Ok(version == Some(MIGRATIONS.len() as i64))
}

/// Brings the review tables to the newest [`MIGRATIONS`] step; called by [`Store::open`].
pub(crate) fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch("CREATE TABLE IF NOT EXISTS review_schema (version INTEGER NOT NULL)")?;
    let current: i64 = conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM review_schema",
        [],
        |r| r.get(0),
    )?;
    // The caller holds the write lock for all of it (`Store::migrate`).
    for (i, step) in MIGRATIONS.iter().enumerate().skip(current.max(0) as usize) {
        conn.execute_batch(step)?;
        conn.execute(
            "INSERT INTO review_schema (version) VALUES (?1)",
            [i as i64 + 1],
        )?;
    }
    Ok(())
}
