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
