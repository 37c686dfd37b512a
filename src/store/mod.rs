//! Store: the SQLite database in the output folder (`DIR/callqa.db`) that makes runs
//! incremental and resumable.
//!
//! Two tables, one per cached step. `transcripts` holds what audio + ASR produced (transcripts
//! and timing metrics), keyed by the transcript key (audio sha256, model sha256, decode
//! parameters). `calls` holds exactly one row per `call_id`: its metadata, the transcript key it
//! was scored from, the result key (transcript key + metadata + lexicon, rubric and calendar
//! versions) and the `CallResult` JSON. The primary key on `call_id` is what guarantees "one
//! result per call" after a kill: every write is one transaction, so a killed run leaves either
//! the old row or the new one. WAL lets parallel workers each hold a connection; a busy timeout
//! makes them queue instead of failing.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension};

use crate::{CallMeta, CallMetrics, CallResult, Transcript};

/// File name of the database inside the output folder.
pub const DB_FILE: &str = "callqa.db";

/// Why the store could not be used.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: {source}; check that the output folder is writable and not on a network share without locking", path.display())]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{}: stored row for {key} is unreadable ({source}); delete the output folder's callqa.db to start over", path.display())]
    Corrupt {
        path: PathBuf,
        key: String,
        #[source]
        source: serde_json::Error,
    },
}

/// What audio + ASR produced for one recording.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StoredTranscript {
    pub transcripts: Vec<Transcript>,
    pub metrics: CallMetrics,
}

/// The stored state of one call.
#[derive(Clone, Debug)]
pub struct CallRow {
    pub meta: CallMeta,
    pub transcript_key: Option<String>,
    pub result_key: String,
    pub result: CallResult,
}

/// What a rerun needs to decide whether a call is unchanged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredKey {
    pub result_key: String,
    pub ok: bool,
    pub duration_ms: u64,
}

/// One connection to `DIR/callqa.db`. Open one per thread.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS transcripts (
    key TEXT PRIMARY KEY,
    audio_sha256 TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS calls (
    call_id TEXT PRIMARY KEY,
    meta TEXT NOT NULL,
    transcript_key TEXT,
    result_key TEXT NOT NULL,
    status TEXT NOT NULL,
    duration_ms INTEGER NOT NULL,
    result TEXT NOT NULL
);
";

impl Store {
    /// Opens (and creates if needed) the store of output folder `dir`.
    pub fn open(dir: &Path) -> Result<Store, Error> {
        let path = dir.join(DB_FILE);
        let wrap = |source| Error::Sqlite {
            path: path.clone(),
            source,
        };
        let conn = Connection::open(&path).map_err(wrap)?;
        conn.busy_timeout(std::time::Duration::from_secs(60))
            .map_err(wrap)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(wrap)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(wrap)?;
        conn.execute_batch(SCHEMA).map_err(wrap)?;
        Ok(Store { conn, path })
    }

    fn sql(&self, source: rusqlite::Error) -> Error {
        Error::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    /// The cached audio + ASR output under `key`, if any.
    pub fn transcript(&self, key: &str) -> Result<Option<StoredTranscript>, Error> {
        let body: Option<String> = self
            .conn
            .query_row("SELECT body FROM transcripts WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| self.sql(e))?;
        body.map(|b| {
            serde_json::from_str(&b).map_err(|source| Error::Corrupt {
                path: self.path.clone(),
                key: key.to_string(),
                source,
            })
        })
        .transpose()
    }

    /// Stores audio + ASR output; committed at once so a kill never loses finished ASR.
    pub fn put_transcript(
        &self,
        key: &str,
        audio_sha256: &str,
        value: &StoredTranscript,
    ) -> Result<(), Error> {
        let body = serde_json::to_string(value).map_err(|source| Error::Corrupt {
            path: self.path.clone(),
            key: key.to_string(),
            source,
        })?;
        self.conn
            .execute(
                "INSERT OR REPLACE INTO transcripts (key, audio_sha256, body) VALUES (?1, ?2, ?3)",
                params![key, audio_sha256, body],
            )
            .map_err(|e| self.sql(e))?;
        Ok(())
    }

    /// The result key a call was last scored under, its status and its audio length.
    pub fn result_key(&self, call_id: &str) -> Result<Option<StoredKey>, Error> {
        self.conn
            .query_row(
                "SELECT result_key, status, duration_ms FROM calls WHERE call_id = ?1",
                [call_id],
                |r| {
                    Ok(StoredKey {
                        result_key: r.get(0)?,
                        ok: r.get::<_, String>(1)? == "ok",
                        duration_ms: r.get::<_, i64>(2)?.max(0) as u64,
                    })
                },
            )
            .optional()
            .map_err(|e| self.sql(e))
    }

    /// Replaces the call's row: one row per call_id, whatever happened before.
    pub fn put_call(
        &self,
        meta: &CallMeta,
        transcript_key: Option<&str>,
        result_key: &str,
        result: &CallResult,
    ) -> Result<(), Error> {
        let body = serde_json::to_string(result).map_err(|source| Error::Corrupt {
            path: self.path.clone(),
            key: result.call_id.clone(),
            source,
        })?;
        let meta = serde_json::to_string(meta).map_err(|source| Error::Corrupt {
            path: self.path.clone(),
            key: result.call_id.clone(),
            source,
        })?;
        let status = match result.status {
            crate::score::Status::Ok => "ok",
            crate::score::Status::Error => "error",
        };
        self.conn
            .execute(
                "INSERT OR REPLACE INTO calls
                 (call_id, meta, transcript_key, result_key, status, duration_ms, result)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    result.call_id,
                    meta,
                    transcript_key,
                    result_key,
                    status,
                    i64::try_from(result.duration_ms).unwrap_or(i64::MAX),
                    body
                ],
            )
            .map_err(|e| self.sql(e))?;
        Ok(())
    }

    /// Visits every call in call_id order without loading them all at once.
    pub fn for_each_call(
        &self,
        mut f: impl FnMut(CallRow, Option<StoredTranscript>) -> Result<(), Error>,
        with_transcripts: bool,
    ) -> Result<(), Error> {
        let sql = if with_transcripts {
            "SELECT c.call_id, c.transcript_key, c.result_key, c.result, t.body, c.meta
             FROM calls c LEFT JOIN transcripts t ON t.key = c.transcript_key ORDER BY c.call_id"
        } else {
            "SELECT call_id, transcript_key, result_key, result, NULL, meta FROM calls ORDER BY call_id"
        };
        let mut stmt = self.conn.prepare(sql).map_err(|e| self.sql(e))?;
        let mut rows = stmt.query([]).map_err(|e| self.sql(e))?;
        while let Some(r) = rows.next().map_err(|e| self.sql(e))? {
            let call_id: String = r.get(0).map_err(|e| self.sql(e))?;
            let corrupt = |source| Error::Corrupt {
                path: self.path.clone(),
                key: call_id.clone(),
                source,
            };
            let result_json: String = r.get(3).map_err(|e| self.sql(e))?;
            let result: CallResult = serde_json::from_str(&result_json).map_err(corrupt)?;
            let transcript: Option<String> = r.get(4).map_err(|e| self.sql(e))?;
            let transcript = transcript
                .map(|t| serde_json::from_str(&t).map_err(corrupt))
                .transpose()?;
            let meta: String = r.get(5).map_err(|e| self.sql(e))?;
            let meta: CallMeta = serde_json::from_str(&meta).map_err(corrupt)?;
            let row = CallRow {
                meta,
                transcript_key: r.get(1).map_err(|e| self.sql(e))?,
                result_key: r.get(2).map_err(|e| self.sql(e))?,
                result,
            };
            f(row, transcript)?;
        }
        Ok(())
    }

    /// Visits every stored result as its JSON text, in call_id order (for `calls.jsonl`:
    /// no parse and re-serialise of what is already JSON).
    pub fn for_each_result_json(
        &self,
        mut f: impl FnMut(&str) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let mut stmt = self
            .conn
            .prepare("SELECT result FROM calls ORDER BY call_id")
            .map_err(|e| self.sql(e))?;
        let mut rows = stmt.query([]).map_err(|e| self.sql(e))?;
        while let Some(r) = rows.next().map_err(|e| self.sql(e))? {
            let json = r
                .get_ref(0)
                .and_then(|v| Ok(v.as_str()?))
                .map_err(|e| self.sql(e))?;
            f(json)?;
        }
        Ok(())
    }

    /// Starts a transaction: many small writes then commit together (rescore).
    pub fn begin(&self) -> Result<(), Error> {
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| self.sql(e))
    }

    /// Commits the transaction [`Store::begin`] started.
    pub fn commit(&self) -> Result<(), Error> {
        self.conn.execute_batch("COMMIT").map_err(|e| self.sql(e))
    }

    /// Copies every transcript and call of another store into this one (`callqa merge`).
    pub fn absorb(&mut self, other: &Path) -> Result<(), Error> {
        let other_db = other.join(DB_FILE);
        let src = other_db.to_string_lossy().into_owned();
        self.conn
            .execute("ATTACH DATABASE ?1 AS other", [src])
            .map_err(|e| self.sql(e))?;
        let copied = self.conn.execute_batch(
            "BEGIN IMMEDIATE;
             INSERT OR REPLACE INTO transcripts SELECT key, audio_sha256, body FROM other.transcripts;
             INSERT OR REPLACE INTO calls SELECT call_id, meta, transcript_key, result_key, status, duration_ms, result FROM other.calls;
             COMMIT;",
        );
        if copied.is_err() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        let detached = self.conn.execute_batch("DETACH DATABASE other");
        copied.map_err(|source| Error::Sqlite {
            path: other_db.clone(),
            source,
        })?;
        detached.map_err(|e| self.sql(e))
    }

    /// Number of calls stored.
    pub fn call_count(&self) -> Result<u64, Error> {
        self.conn
            .query_row("SELECT COUNT(*) FROM calls", [], |r| r.get::<_, i64>(0))
            .map(|n| n.max(0) as u64)
            .map_err(|e| self.sql(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::{CallResult, Status};

    fn call(id: &str, score: f64) -> (CallMeta, CallResult) {
        let meta = CallMeta {
            call_id: id.into(),
            audio: "a.wav".into(),
            agent_id: "A01".into(),
            started_at: chrono::DateTime::parse_from_rfc3339("2026-10-01T09:00:00+08:00")
                .expect("time"),
            direction: crate::Direction::Inbound,
            agent_channel: crate::AgentChannel::Left,
            extra: Default::default(),
        };
        let result = CallResult {
            schema_version: 1,
            call_id: id.into(),
            agent_id: "A01".into(),
            started_at: meta.started_at,
            direction: meta.direction,
            audio: "a.wav".into(),
            duration_ms: 1000,
            score,
            max_score: 100.0,
            status: Status::Ok,
            error: None,
            rubric: "客服".into(),
            credits: 0.0,
            fine_yuan: 0.0,
            segments: Vec::new(),
            hits: Vec::new(),
            deductions: Vec::new(),
            findings: Vec::new(),
            manual: Vec::new(),
            metrics: CallMetrics::default(),
            extra: Default::default(),
        };
        (meta, result)
    }

    #[test]
    fn a_call_has_one_row_whatever_is_written_and_merges_keep_it_so() {
        let a = tempfile::tempdir().expect("tempdir");
        let b = tempfile::tempdir().expect("tempdir");
        let store = Store::open(a.path()).expect("open");
        let (meta, first) = call("c1", 90.0);
        store
            .put_call(&meta, Some("t1"), "r1", &first)
            .expect("put");
        let (_, second) = call("c1", 80.0);
        store
            .put_call(&meta, Some("t1"), "r2", &second)
            .expect("put again");
        assert_eq!(store.call_count().expect("count"), 1);
        let key = store.result_key("c1").expect("key").expect("stored");
        assert_eq!(
            (key.result_key.as_str(), key.ok, key.duration_ms),
            ("r2", true, 1000)
        );

        let other = Store::open(b.path()).expect("open");
        let (meta2, r2) = call("c2", 70.0);
        other.put_call(&meta2, None, "r", &r2).expect("put");
        other
            .put_call(&meta, Some("t1"), "r2", &second)
            .expect("same call in both");
        drop(other);
        let mut store = store;
        store.absorb(b.path()).expect("absorb");
        let mut seen = Vec::new();
        store
            .for_each_result_json(|json| {
                seen.push(
                    serde_json::from_str::<CallResult>(json)
                        .expect("json")
                        .score,
                );
                Ok(())
            })
            .expect("visit");
        assert_eq!(seen, [80.0, 70.0]);
    }

    #[test]
    fn transcripts_round_trip() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        assert!(store.transcript("k").expect("lookup").is_none());
        let value = StoredTranscript {
            transcripts: vec![Transcript {
                role: crate::Role::Agent,
                segments: Vec::new(),
            }],
            metrics: CallMetrics {
                duration_ms: 5,
                ..Default::default()
            },
        };
        store.put_transcript("k", "sha", &value).expect("put");
        assert_eq!(store.transcript("k").expect("lookup"), Some(value));
    }
}
