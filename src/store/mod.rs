//! Store: the SQLite database (`DIR/callqa.db`) that makes runs incremental and resumable.
//!
//! Two tables, cached separately because they cost so differently:
//! - `transcripts`, keyed by (audio sha256, model sha256, decoding parameters): what Whisper
//!   heard and the call's timing metrics. Producing one is >99 % of a run's cost.
//! - `results`, one row per call_id, with the key of every input that produced it (transcript,
//!   lexicons, rubric, calendar, metadata). A rerun whose key matches skips the call; an edited
//!   lexicon changes the key and the call is re-scored from its stored transcript.
//!
//! Every call is written in its own transaction in WAL mode, so a process killed at any moment
//! leaves each call either fully stored or absent: a rerun redoes only the absent ones, and a
//! call never has two results.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension};

use crate::{CallMeta, CallMetrics, CallResult, Transcript};

/// Name of the database file in an output folder.
pub const DB_FILE: &str = "callqa.db";

/// Why the store failed; the message names the database and what to do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{}: {source}; check the folder is writable, or move the damaged database aside and rerun", path.display())]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("{}: stored data is unreadable ({detail}); rerun with a fresh --out folder", path.display())]
    Corrupt { path: PathBuf, detail: String },
}

/// What Whisper heard, and the call's timing, as stored.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct StoredTranscript {
    pub transcripts: Vec<Transcript>,
    pub metrics: CallMetrics,
}

/// A stored call: its metadata, result and input keys.
#[derive(Clone, Debug)]
pub struct StoredCall {
    pub meta: CallMeta,
    pub transcript_key: Option<String>,
    pub result: CallResult,
}

/// An open database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the database in `dir`.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let path = dir.join(DB_FILE);
        let err = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let conn = Connection::open(&path).map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(60))
            .map_err(err)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             CREATE TABLE IF NOT EXISTS transcripts (
                 key TEXT PRIMARY KEY,
                 body TEXT NOT NULL
             );
             CREATE TABLE IF NOT EXISTS results (
                 call_id TEXT PRIMARY KEY,
                 input_key TEXT NOT NULL,
                 transcript_key TEXT,
                 meta TEXT NOT NULL,
                 result TEXT NOT NULL,
                 status TEXT NOT NULL
             );",
        )
        .map_err(err)?;
        Ok(Store { conn, path })
    }

    fn err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    fn corrupt(&self, detail: impl ToString) -> StoreError {
        StoreError::Corrupt {
            path: self.path.clone(),
            detail: detail.to_string(),
        }
    }

    pub fn transcript(&self, key: &str) -> Result<Option<StoredTranscript>, StoreError> {
        let body: Option<String> = self
            .conn
            .query_row("SELECT body FROM transcripts WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| self.err(e))?;
        body.map(|b| serde_json::from_str(&b).map_err(|e| self.corrupt(e)))
            .transpose()
    }

    pub fn put_transcript(&self, key: &str, t: &StoredTranscript) -> Result<(), StoreError> {
        let body = serde_json::to_string(t).map_err(|e| self.corrupt(e))?;
        self.conn
            .execute(
                "INSERT OR REPLACE INTO transcripts (key, body) VALUES (?1, ?2)",
                params![key, body],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The input key of the call's stored result, if any.
    pub fn result_key(&self, call_id: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row(
                "SELECT input_key FROM results WHERE call_id = ?1 AND status = 'ok'",
                [call_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Stores (replacing) a call's result.
    pub fn put_result(
        &self,
        meta: &CallMeta,
        input_key: &str,
        transcript_key: Option<&str>,
        result: &CallResult,
    ) -> Result<(), StoreError> {
        let meta_json = serde_json::to_string(meta).map_err(|e| self.corrupt(e))?;
        let result_json = serde_json::to_string(result).map_err(|e| self.corrupt(e))?;
        let status = match result.status {
            crate::score::Status::Ok => "ok",
            crate::score::Status::Error => "error",
        };
        self.conn
            .execute(
                "INSERT OR REPLACE INTO results (call_id, input_key, transcript_key, meta, result, status)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![meta.call_id, input_key, transcript_key, meta_json, result_json, status],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Every stored call, ordered by call_id.
    pub fn calls(&self) -> Result<Vec<StoredCall>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT meta, transcript_key, result FROM results ORDER BY call_id")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (meta, transcript_key, result) = row.map_err(|e| self.err(e))?;
            out.push(StoredCall {
                meta: serde_json::from_str(&meta).map_err(|e| self.corrupt(e))?,
                transcript_key,
                result: serde_json::from_str(&result).map_err(|e| self.corrupt(e))?,
            });
        }
        Ok(out)
    }

    /// Copies every transcript and result of `other` into this store (`callqa merge`).
    pub fn absorb(&self, other: &Path) -> Result<usize, StoreError> {
        let other_db = other.join(DB_FILE);
        if !other_db.exists() {
            return Err(StoreError::Corrupt {
                path: other_db,
                detail: "no callqa database here".into(),
            });
        }
        self.conn
            .execute("ATTACH DATABASE ?1 AS other", [other_db.to_string_lossy()])
            .map_err(|e| self.err(e))?;
        let copied = self
            .conn
            .execute_batch(
                "BEGIN;
                 INSERT OR REPLACE INTO transcripts SELECT * FROM other.transcripts;
                 INSERT OR REPLACE INTO results SELECT * FROM other.results;
                 COMMIT;",
            )
            .and_then(|_| {
                self.conn
                    .query_row("SELECT COUNT(*) FROM other.results", [], |r| {
                        r.get::<_, i64>(0)
                    })
            });
        let detach = self.conn.execute("DETACH DATABASE other", []);
        let n = copied.map_err(|e| self.err(e))?;
        detach.map_err(|e| self.err(e))?;
        Ok(n as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transcripts_round_trip_and_missing_is_none() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        assert!(store.transcript("k").expect("read").is_none());
        let t = StoredTranscript {
            transcripts: vec![Transcript {
                role: crate::Role::Agent,
                segments: Vec::new(),
            }],
            metrics: CallMetrics {
                duration_ms: 1234,
                ..CallMetrics::default()
            },
        };
        store.put_transcript("k", &t).expect("write");
        let back = store.transcript("k").expect("read").expect("stored");
        assert_eq!(back.metrics.duration_ms, 1234);
        // A second connection (another worker) sees it.
        let other = Store::open(dir.path()).expect("open again");
        assert!(other.transcript("k").expect("read").is_some());
    }
}
