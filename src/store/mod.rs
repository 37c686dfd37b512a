//! Store: the SQLite database (`DIR/callqa.db`) that makes runs incremental and resumable.
//!
//! Two tables, cached separately because they cost so differently:
//! - `transcripts`, keyed by (audio sha256, model sha256, decoding parameters): what Whisper
//!   heard and the call's timing metrics. Producing one is >99 % of a run's cost.
//! - `results`, one row per call_id, with the key of every input that produced it (transcript,
//!   lexicons, rubric, calendar, metadata). A rerun whose key matches skips the call; an edited
//!   lexicon changes the key and the call is re-scored from its stored transcript.
//!
//! The store is the one source of truth for results: `run`, `score`, `rescore` and `merge`
//! write it, and `calls.jsonl`, the rollups, the report and the clips are read from it through
//! [`results`], which owns the `calls.jsonl` schema. A result row is written by one statement
//! (SQLite makes each statement atomic) in WAL mode, after its transcript, so a process killed at
//! any moment leaves each call either fully stored or absent: a rerun redoes only the absent
//! ones, and a call never has two results.

pub mod results;
pub mod review;

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

/// A stored call as `rescore` reads it: its metadata and input keys, and why it failed if its
/// stored result is a failure (the result itself is not parsed: results stream through
/// [`results`]).
#[derive(Clone, Debug)]
pub struct StoredCall {
    pub meta: CallMeta,
    pub keys: Keys,
    pub failure: Option<String>,
}

/// The keys a result is stored under.
#[derive(Clone, Debug, Default)]
pub struct Keys {
    /// Every input that decided the result; a rerun with the same key has nothing to do.
    pub input: String,
    /// The stored transcript it was scored from (none: failed, or imported).
    pub transcript: Option<String>,
    /// The recording and metadata it belongs to; another under the same call_id is a conflict.
    pub identity: Option<String>,
}

/// A call scored from text, ready to store: its transcript and the result scored from it.
pub struct ScoredRow {
    pub transcript_key: String,
    pub transcript: StoredTranscript,
    pub meta: CallMeta,
    pub keys: Keys,
    pub result: CallResult,
}

impl Keys {
    pub fn input(key: &str) -> Keys {
        Keys {
            input: key.to_string(),
            ..Keys::default()
        }
    }
}

/// How much of the database file [`Store::open_mapped`] maps (address space, not memory).
const MAPPED_BYTES: i64 = 1 << 34;

/// An open database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// [`Store::open`] for a long-lived reader among many (the review server's pool): the
    /// database file is memory-mapped, so the connections read one shared copy of each page
    /// instead of each copying every page it reads into a small cache of its own, which cost
    /// a fifth of the server's CPU under load and made its slow tail.
    pub fn open_mapped(dir: &Path) -> Result<Store, StoreError> {
        let store = Store::open(dir)?;
        store
            .conn
            .pragma_update_and_check(None, "mmap_size", MAPPED_BYTES, |r| r.get::<_, i64>(0))
            .map_err(|e| store.err(e))?;
        Ok(store)
    }

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
             );
             CREATE TABLE IF NOT EXISTS attempts (
                 call_id TEXT PRIMARY KEY,
                 attempt_key TEXT NOT NULL
             );
             CREATE TABLE IF NOT EXISTS audio_hashes (
                 path TEXT PRIMARY KEY,
                 stamp TEXT NOT NULL,
                 sha256 TEXT NOT NULL
             );",
        )
        .map_err(err)?;
        let store = Store { conn, path };
        store.migrate()?;
        Ok(store)
    }

    /// Brings a database written by an older callqa up to date, adding what is missing and
    /// never dropping anything, so every older folder keeps working. Every worker opens its
    /// own connection at once, so a change happens under one write lock, checked again inside
    /// it: the first brings the schema up, the others wait and then find nothing to do. An
    /// up-to-date database (nearly every open) takes no lock at all.
    fn migrate(&self) -> Result<(), StoreError> {
        if self.is_current().map_err(|e| self.err(e))? {
            return Ok(());
        }
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| self.err(e))?;
        let done = self
            .add_identity()
            .and_then(|()| review::migrate(&self.conn));
        let end = if done.is_ok() { "COMMIT" } else { "ROLLBACK" };
        let ended = self.conn.execute_batch(end);
        done.and(ended).map_err(|e| self.err(e))
    }

    fn is_current(&self) -> rusqlite::Result<bool> {
        Ok(self.has_identity()? && review::is_current(&self.conn)?)
    }

    fn has_identity(&self) -> rusqlite::Result<bool> {
        self.conn.query_row(
            "SELECT COUNT(*) FROM pragma_table_info('results') WHERE name = 'identity'",
            [],
            |r| r.get::<_, i64>(0).map(|n| n > 0),
        )
    }

    fn add_identity(&self) -> rusqlite::Result<()> {
        if !self.has_identity()? {
            self.conn
                .execute_batch("ALTER TABLE results ADD COLUMN identity TEXT")?;
        }
        Ok(())
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

    /// Stores (replacing) a call's result, and ends its attempt, in one transaction.
    /// `identity` says which recording and metadata the result belongs to (see
    /// [`Store::identity`]).
    pub fn put_result(
        &self,
        meta: &CallMeta,
        keys: &Keys,
        result: &CallResult,
    ) -> Result<(), StoreError> {
        let meta_json = serde_json::to_string(meta).map_err(|e| self.corrupt(e))?;
        let result_json = serde_json::to_string(result).map_err(|e| self.corrupt(e))?;
        let status = match result.status {
            crate::score::Status::Ok => "ok",
            crate::score::Status::Error => "error",
        };
        self.atomically(|| {
            self.conn
                .execute(
                    "INSERT OR REPLACE INTO results (call_id, input_key, transcript_key, meta, result, status, identity)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![meta.call_id, keys.input, keys.transcript, meta_json, result_json, status, keys.identity],
                )
                .map_err(|e| self.err(e))?;
            self.conn
                .execute("DELETE FROM attempts WHERE call_id = ?1", [&meta.call_id])
                .map_err(|e| self.err(e))?;
            Ok(())
        })
    }

    /// Stores many results at once: a re-score of a month writes in batches, and a process
    /// killed mid-way leaves each batch whole or absent.
    pub fn put_results(&self, rows: &[(CallMeta, Keys, CallResult)]) -> Result<(), StoreError> {
        self.atomically(|| {
            rows.iter()
                .try_for_each(|(meta, keys, result)| self.put_result(meta, keys, result))
        })
    }

    /// Stores calls scored from text, each transcript with its result, in one transaction.
    pub fn put_scored(&self, rows: &[ScoredRow]) -> Result<(), StoreError> {
        self.atomically(|| {
            rows.iter().try_for_each(|r| {
                self.put_transcript(&r.transcript_key, &r.transcript)?;
                self.put_result(&r.meta, &r.keys, &r.result)
            })
        })
    }

    /// Runs `f` as one unit: a savepoint, which is a transaction of its own outside one and a
    /// nested unit inside one, so `put_result` is atomic alone and inside `put_results`.
    fn atomically<T>(&self, f: impl FnOnce() -> Result<T, StoreError>) -> Result<T, StoreError> {
        self.conn
            .execute_batch("SAVEPOINT unit")
            .map_err(|e| self.err(e))?;
        match f() {
            Ok(v) => {
                self.conn
                    .execute_batch("RELEASE unit")
                    .map_err(|e| self.err(e))?;
                Ok(v)
            }
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK TO unit; RELEASE unit");
                Err(e)
            }
        }
    }

    /// The sha256 remembered for the recording at `path`, if the file's `stamp` (size,
    /// modification time, inode) is still the one it was hashed with.
    pub fn known_sha(&self, path: &str, stamp: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row(
                "SELECT sha256 FROM audio_hashes WHERE path = ?1 AND stamp = ?2",
                [path, stamp],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Remembers a recording's sha256 under its path and stamp.
    pub fn remember_sha(&self, path: &str, stamp: &str, sha256: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO audio_hashes (path, stamp, sha256) VALUES (?1, ?2, ?3)",
                [path, stamp, sha256],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// The identity and status of the call's stored result, if any.
    pub fn identity(&self, call_id: &str) -> Result<Option<(Option<String>, String)>, StoreError> {
        self.conn
            .query_row(
                "SELECT identity, status FROM results WHERE call_id = ?1",
                [call_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// The stored error of a call that failed with the given input key, if it did.
    pub fn remembered_failure(
        &self,
        call_id: &str,
        input_key: &str,
    ) -> Result<Option<String>, StoreError> {
        let result: Option<String> = self
            .conn
            .query_row(
                "SELECT result FROM results WHERE call_id = ?1 AND input_key = ?2 AND status = 'error'",
                [call_id, input_key],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let Some(json) = result else { return Ok(None) };
        let r: CallResult = serde_json::from_str(&json).map_err(|e| self.corrupt(e))?;
        Ok(Some(r.error.unwrap_or_default()))
    }

    /// Marks the expensive half of a call as under way. Returns whether an earlier attempt with
    /// the same key never finished: that process crashed or was killed during this call.
    pub fn begin_attempt(&self, call_id: &str, attempt_key: &str) -> Result<bool, StoreError> {
        let earlier: Option<String> = self
            .conn
            .query_row(
                "SELECT attempt_key FROM attempts WHERE call_id = ?1",
                [call_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        self.conn
            .execute(
                "INSERT OR REPLACE INTO attempts (call_id, attempt_key) VALUES (?1, ?2)",
                [call_id, attempt_key],
            )
            .map_err(|e| self.err(e))?;
        Ok(earlier.as_deref() == Some(attempt_key))
    }

    /// Stores a result read from a `calls.jsonl` (`callqa import`). It has no transcript, so
    /// `rescore` keeps it as it is; a later `run` of the same call replaces it.
    pub fn import(&self, result: &CallResult) -> Result<(), StoreError> {
        let meta = CallMeta {
            call_id: result.call_id.clone(),
            audio: PathBuf::from(&result.audio),
            agent_id: result.agent_id.clone(),
            started_at: result.started_at,
            direction: result.direction,
            agent_channel: result.agent_channel,
            extra: result.extra.clone(),
        };
        self.put_result(&meta, &Keys::input("imported"), result)
    }

    /// Calls `each` with every stored call, ordered by call_id, straight from the database
    /// cursor: memory does not grow with the number of calls.
    pub fn for_each_call<E: From<StoreError>>(
        &self,
        mut each: impl FnMut(StoredCall) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT meta, input_key, transcript_key, identity,
                        CASE status WHEN 'error' THEN coalesce(json_extract(result, '$.error'), 'failed earlier') END
                 FROM results ORDER BY call_id",
            )
            .map_err(|e| self.err(e))?;
        let mut rows = stmt.query([]).map_err(|e| self.err(e))?;
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            let get = |i| r.get::<_, Option<String>>(i).map_err(|e| self.err(e));
            let meta = get(0)?.unwrap_or_default();
            let keys = Keys {
                input: get(1)?.unwrap_or_default(),
                transcript: get(2)?,
                identity: get(3)?,
            };
            each(StoredCall {
                meta: serde_json::from_str(&meta).map_err(|e| self.corrupt(e))?,
                keys,
                failure: get(4)?,
            })?;
        }
        Ok(())
    }

    /// Every stored call, ordered by call_id.
    pub fn calls(&self) -> Result<Vec<StoredCall>, StoreError> {
        let mut out = Vec::new();
        self.for_each_call(|c| {
            out.push(c);
            Ok::<_, StoreError>(())
        })?;
        Ok(out)
    }

    /// Number of stored calls.
    pub fn count(&self) -> Result<usize, StoreError> {
        self.conn
            .query_row("SELECT COUNT(*) FROM results", [], |r| r.get::<_, i64>(0))
            .map(|n| n as usize)
            .map_err(|e| self.err(e))
    }

    /// Copies every transcript and result of `other` into this store (`callqa merge`). Where
    /// both hold a call, the later folder wins, except that an error never replaces a scored
    /// result: a shard that failed on a call must not erase another shard's good result.
    pub fn absorb(&self, other: &Path) -> Result<usize, StoreError> {
        let other_db = other.join(DB_FILE);
        if !other_db.exists() {
            return Err(StoreError::Corrupt {
                path: other_db,
                detail: "no callqa database here".into(),
            });
        }
        // Opening migrates a shard written by an older callqa, so the columns match.
        drop(Store::open(other)?);
        self.conn
            .execute("ATTACH DATABASE ?1 AS other", [other_db.to_string_lossy()])
            .map_err(|e| self.err(e))?;
        let copied = self
            .conn
            .execute_batch(
                "BEGIN;
                 INSERT OR REPLACE INTO transcripts SELECT * FROM other.transcripts;
                 INSERT INTO results (call_id, input_key, transcript_key, meta, result, status, identity)
                     SELECT call_id, input_key, transcript_key, meta, result, status, identity
                     FROM other.results WHERE true
                     ON CONFLICT(call_id) DO UPDATE SET
                         input_key = excluded.input_key, transcript_key = excluded.transcript_key,
                         meta = excluded.meta, result = excluded.result, status = excluded.status,
                         identity = excluded.identity
                     WHERE NOT (results.status = 'ok' AND excluded.status = 'error');
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

    /// A folder written before results carried their identity gets the column on the next
    /// open, and keeps its rows.
    #[test]
    fn an_older_database_is_brought_up_to_date_on_open() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        store
            .conn
            .execute_batch("ALTER TABLE results DROP COLUMN identity")
            .expect("make it old");
        assert!(!store.is_current().expect("check"));
        drop(store);
        let store = Store::open(dir.path()).expect("reopen");
        assert!(store.has_identity().expect("check") && store.is_current().expect("check"));
    }

    /// `score` and `rescore` open the store, then each worker opens it again at once: every
    /// one of them must come up, waiting for the others' schema check instead of failing.
    #[test]
    fn many_connections_opening_a_store_at_once_all_succeed() {
        for _ in 0..5 {
            let dir = tempfile::tempdir().expect("tempdir");
            Store::open(dir.path()).expect("the first open creates it");
            let opened: Vec<_> = std::thread::scope(|scope| {
                let handles: Vec<_> = (0..8)
                    .map(|_| scope.spawn(|| Store::open(dir.path()).map(|_| ())))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().expect("no panic"))
                    .collect()
            });
            for r in opened {
                r.expect("the store opens");
            }
        }
    }

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

    #[test]
    fn a_failing_batch_stores_nothing_of_itself() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        let meta = |id: &str| CallMeta {
            call_id: id.into(),
            audio: PathBuf::new(),
            agent_id: "A1".into(),
            started_at: "2026-10-13T14:20:00+08:00".parse().expect("time"),
            direction: crate::Direction::Inbound,
            agent_channel: crate::AgentChannel::Left,
            extra: Default::default(),
        };
        let row = |id: &str| (meta(id), Keys::input("k"), CallResult::for_call(&meta(id)));
        store
            .put_results(&[row("a"), row("b")])
            .expect("a whole batch");
        assert_eq!(store.count().expect("count"), 2);
        // A batch whose second row cannot be stored leaves no trace of its first.
        store
            .conn
            .execute_batch("CREATE TRIGGER no_d BEFORE INSERT ON results WHEN NEW.call_id = 'd' BEGIN SELECT RAISE(ABORT, 'refused'); END;")
            .expect("trigger");
        assert!(store.put_results(&[row("c"), row("d")]).is_err());
        assert_eq!(store.count().expect("count"), 2);
        store
            .put_result(
                &meta("e"),
                &Keys::input("k"),
                &CallResult::for_call(&meta("e")),
            )
            .expect("alone");
        assert_eq!(store.count().expect("count"), 3);
    }
}
