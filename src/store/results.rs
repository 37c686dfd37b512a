//! `calls.jsonl`: the store's results as JSON lines, one scored call per line.
//!
//! This module owns the file's schema in both directions. Every command that writes results
//! (`run`, `score`, `rescore`, `merge`, `import`) writes the store and then calls [`export`];
//! every command that reads results (`html`, `clips`, `report`) calls [`stream`] (or [`load`]),
//! which reads the store. So the file and the database cannot disagree: the file is regenerated from the
//! database, atomically and streamed from its cursor, after every write.
//!
//! [`read_jsonl`] reads a `calls.jsonl` from elsewhere (an older callqa, another machine) for
//! `callqa import`; lines of a newer schema than this binary knows are refused, not misread.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use super::{Store, StoreError};
use crate::score::SCHEMA_VERSION;
use crate::CallResult;

/// Name of the export in an output folder.
pub const FILE: &str = "calls.jsonl";

/// Why the results could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{}: cannot write: {source}; check the folder is writable and has space", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: cannot read: {source}; give the results folder of a `callqa run` or `callqa score`", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: no results here; run `callqa run --out {}` or `callqa score --out {}` first", path.display(), dir.display(), dir.display())]
    Empty { path: PathBuf, dir: PathBuf },
}

/// One line of the file: the result, and which score is in force. A call with a published
/// review counts with its reviewed score (`score_source: "reviewed"`), which stands beside the
/// machine's `score`; otherwise `score_source` is `"auto"`.
#[derive(serde::Serialize)]
struct Line<'a> {
    #[serde(flatten)]
    result: &'a CallResult,
    score_source: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reviewed_score: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    review_version: Option<i64>,
}

/// The published reviews by call_id (see [`super::review::reviewed_scores`]).
pub type Reviewed = std::collections::HashMap<String, super::review::ReviewedScore>;

/// Writes `dir/calls.jsonl` from the store in `dir`, call_id order, with personal numbers
/// hidden when `redact` says so and the scores of `reviewed` marked in force, and hands every
/// result (as stored, unredacted) to `each` on the way: one pass over the store feeds the
/// rollup and the report too. Returns the calls written.
pub fn export<E: From<ResultsError>>(
    dir: &Path,
    redact: bool,
    reviewed: &Reviewed,
    mut each: impl FnMut(&CallResult) -> Result<(), E>,
) -> Result<usize, E> {
    let path = dir.join(FILE);
    let mut written = 0;
    let mut failure: Option<E> = None;
    let io = crate::util::write_atomic_with(&path, |w| {
        let streamed = stream(dir, |result| {
            write_line(&mut *w, &result, redact, reviewed).map_err(Halt::Io)?;
            each(&result).map_err(Halt::Caller)?;
            written += 1;
            Ok(())
        });
        match streamed {
            Ok(()) => Ok(()),
            Err(Halt::Io(e)) => Err(e),
            Err(Halt::Caller(e)) => {
                failure = Some(e);
                Err(std::io::Error::other("stopped before the end"))
            }
        }
    });
    match (io, failure) {
        (_, Some(e)) => Err(e),
        (Err(source), None) => Err(ResultsError::Write { path, source }.into()),
        (Ok(()), None) => Ok(written),
    }
}

/// One line of `calls.jsonl`.
fn write_line(
    w: &mut impl Write,
    result: &CallResult,
    redact: bool,
    reviewed: &Reviewed,
) -> std::io::Result<()> {
    let shown = if redact {
        std::borrow::Cow::Owned(redacted(result))
    } else {
        std::borrow::Cow::Borrowed(result)
    };
    let review = reviewed.get(&result.call_id);
    let line = Line {
        result: &shown,
        score_source: if review.is_some() { "reviewed" } else { "auto" },
        reviewed_score: review.map(|r| r.score),
        review_version: review.map(|r| r.version),
    };
    serde_json::to_writer(&mut *w, &line)?;
    w.write_all(b"\n")
}

/// What stops the export: its file, or the caller's work on a result.
enum Halt<E> {
    Io(std::io::Error),
    Caller(E),
}

impl<E: From<ResultsError>> From<ResultsError> for Halt<E> {
    fn from(e: ResultsError) -> Self {
        Halt::Caller(e.into())
    }
}

/// The result with every phone, ID-card and bank number in its texts replaced by `*`: what was
/// said, the evidence words, the reasons, the error and the carried manifest columns.
pub fn redacted(r: &CallResult) -> CallResult {
    use crate::text::redact::redact;
    let mut r = r.clone();
    for s in &mut r.segments {
        s.text = redact(&s.text);
    }
    for h in &mut r.hits {
        h.text = redact(&h.text);
    }
    for d in &mut r.deductions {
        d.words = redact(&d.words);
        d.reason = redact(&d.reason);
    }
    for f in &mut r.findings {
        f.words = redact(&f.words);
        f.reason = redact(&f.reason);
    }
    r.error = r.error.as_deref().map(redact);
    for v in r.extra.values_mut() {
        *v = redact(v);
    }
    r
}

/// Results parsed ahead of the caller: enough to keep both threads busy, few enough that
/// memory stays flat.
const READ_AHEAD: usize = 256;

/// Calls `each` with every stored result of the output folder `dir`, call_id order, straight
/// from the database cursor: memory does not grow with the number of calls. The rows are read
/// and parsed on a thread of their own, so that half of the work overlaps the caller's (writing
/// the export, the rollup, the report). A folder without a database is an error that says which
/// command makes one.
pub fn stream<E: From<ResultsError>>(
    dir: &Path,
    mut each: impl FnMut(CallResult) -> Result<(), E>,
) -> Result<(), E> {
    require(dir)?;
    let (tx, rx) = crossbeam_channel::bounded(READ_AHEAD);
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || Store::open(dir)?.each_result(|r| tx.send(r).is_ok()));
        let mut outcome = Ok(());
        for result in &rx {
            if let Err(e) = each(result) {
                outcome = Err(e);
                break;
            }
        }
        // The reader stops at its next result once nobody takes them.
        drop(rx);
        let read = reader.join().unwrap_or_else(|_| {
            Err(StoreError::Corrupt {
                path: dir.join(super::DB_FILE),
                detail: "reading the results panicked".into(),
            })
        });
        outcome?;
        read.map_err(|e| ResultsError::from(e).into())
    })
}

/// Fails with [`ResultsError::Empty`] unless `dir` holds a database.
pub fn require(dir: &Path) -> Result<(), ResultsError> {
    let db = dir.join(super::DB_FILE);
    if db.exists() {
        Ok(())
    } else {
        Err(ResultsError::Empty {
            path: db,
            dir: dir.to_path_buf(),
        })
    }
}

/// Every stored result of the output folder `dir`, call_id order, in memory: for the commands
/// that need them all at once (`clips`, the scorecard); the others [`stream`].
pub fn load(dir: &Path) -> Result<Vec<CallResult>, ResultsError> {
    let mut all = Vec::new();
    stream(dir, |r| {
        all.push(r);
        Ok::<_, ResultsError>(())
    })?;
    Ok(all)
}

/// Every category any stored call of `dir` has a hit in (they fix the report's colours before
/// its first page is written), found by the database itself.
pub fn hit_categories(dir: &Path) -> Result<std::collections::BTreeSet<String>, ResultsError> {
    require(dir)?;
    let store = Store::open(dir)?;
    let mut stmt = store
        .conn
        .prepare(
            "SELECT DISTINCT json_extract(h.value, '$.category')
             FROM results, json_each(results.result, '$.hits') AS h",
        )
        .map_err(|e| store.err(e))?;
    let categories = stmt
        .query_map([], |r| r.get::<_, Option<String>>(0))
        .map_err(|e| store.err(e))?
        .filter_map(|c| c.map_err(|e| store.err(e)).transpose())
        .collect::<Result<_, _>>()?;
    Ok(categories)
}

impl Store {
    /// Calls `each` with every stored result, call_id order, until it returns false.
    fn each_result(&self, mut each: impl FnMut(CallResult) -> bool) -> Result<(), StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT result FROM results ORDER BY call_id")
            .map_err(|e| self.err(e))?;
        let mut rows = stmt.query([]).map_err(|e| self.err(e))?;
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            let text = r
                .get_ref(0)
                .and_then(|v| Ok(v.as_str()?))
                .map_err(|e| self.err(e))?;
            let result = serde_json::from_str(text).map_err(|e| self.corrupt(e))?;
            if !each(result) {
                break;
            }
        }
        Ok(())
    }
}

/// A line of a `calls.jsonl` that is not a result this binary can read.
#[derive(Debug, PartialEq)]
pub struct BadLine {
    pub line: usize,
    pub reason: String,
}

/// Reads a `calls.jsonl`. Unreadable lines (bad JSON, a newer schema) are returned apart so the
/// caller can name each one and go on with the rest.
pub fn read_jsonl(path: &Path) -> Result<(Vec<CallResult>, Vec<BadLine>), ResultsError> {
    let read_err = |source| ResultsError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_err)?;
    let (mut results, mut bad) = (Vec::new(), Vec::new());
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(read_err)?;
        if line.trim().is_empty() {
            continue;
        }
        match parse_line(&line) {
            Ok(r) => results.push(r),
            Err(reason) => bad.push(BadLine {
                line: i + 1,
                reason,
            }),
        }
    }
    Ok((results, bad))
}

fn parse_line(line: &str) -> Result<CallResult, String> {
    #[derive(serde::Deserialize)]
    struct Version {
        schema_version: u32,
    }
    let v: Version = serde_json::from_str(line).map_err(|e| format!("not a scored call ({e})"))?;
    if v.schema_version > SCHEMA_VERSION {
        return Err(format!(
            "schema_version {} is newer than this callqa reads ({SCHEMA_VERSION}); upgrade callqa",
            v.schema_version
        ));
    }
    serde_json::from_str(line).map_err(|e| format!("not a scored call ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AgentChannel, CallMeta, Direction};

    fn meta(id: &str) -> CallMeta {
        CallMeta {
            call_id: id.into(),
            audio: PathBuf::new(),
            agent_id: "A1".into(),
            started_at: "2026-10-13T14:20:00+08:00".parse().expect("time"),
            direction: Direction::Inbound,
            agent_channel: AgentChannel::Left,
            extra: Default::default(),
        }
    }

    #[test]
    fn export_writes_every_stored_call_and_reads_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        for id in ["c2", "c1", "c3"] {
            let r = CallResult::for_call(&meta(id));
            store
                .put_result(&meta(id), &super::super::Keys::input("k"), &r)
                .expect("put");
        }
        let all = |_: &CallResult| Ok::<_, ResultsError>(());
        assert_eq!(
            export(dir.path(), false, &Reviewed::new(), all).expect("export"),
            3
        );
        let (back, bad) = read_jsonl(&dir.path().join(FILE)).expect("read");
        assert!(bad.is_empty());
        let ids: Vec<_> = back.iter().map(|r| r.call_id.as_str()).collect();
        assert_eq!(ids, ["c1", "c2", "c3"]);
        assert_eq!(load(dir.path()).expect("load"), back);
    }

    #[test]
    fn unreadable_and_newer_lines_are_named_not_fatal() {
        let dir = tempfile::tempdir().expect("tempdir");
        let good = serde_json::to_string(&CallResult::for_call(&meta("c1"))).expect("json");
        let newer = good.replace(
            &format!("\"schema_version\":{SCHEMA_VERSION}"),
            "\"schema_version\":99",
        );
        let path = dir.path().join(FILE);
        std::fs::write(&path, format!("{good}\n{{broken\n\n{newer}\n")).expect("write");
        let (ok, bad) = read_jsonl(&path).expect("read");
        assert_eq!(ok.len(), 1);
        assert_eq!(bad.iter().map(|b| b.line).collect::<Vec<_>>(), [2, 4]);
        assert!(bad[1].reason.contains("upgrade callqa"), "{:?}", bad[1]);
    }

    #[test]
    fn a_redacted_export_holds_no_personal_number() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        let mut r = CallResult::for_call(&meta("c1"));
        r.segments.push(crate::score::ResultSegment {
            role: crate::Role::Customer,
            start_ms: 0,
            end_ms: 3000,
            text: "我的手机是幺三八，幺二三四，五六七八".into(),
        });
        r.extra.insert("备注".into(), "回拨 +86 13812345678".into());
        store
            .put_result(&meta("c1"), &super::super::Keys::input("k"), &r)
            .expect("put");
        let all = |_: &CallResult| Ok::<_, ResultsError>(());
        export(dir.path(), true, &Reviewed::new(), all).expect("export");
        let text = std::fs::read_to_string(dir.path().join(FILE)).expect("read");
        for leak in ["五六七八", "13812345678"] {
            assert!(!text.contains(leak), "{leak} in {text}");
        }
        assert!(text.contains("我的手机是"), "{text}");
    }

    #[test]
    fn a_folder_without_results_says_what_to_run() {
        let dir = tempfile::tempdir().expect("tempdir");
        let e = load(dir.path()).expect_err("empty folder");
        assert!(e.to_string().contains("callqa run --out"), "{e}");
    }
}
