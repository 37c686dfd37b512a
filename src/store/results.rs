//! `calls.jsonl`: the store's results as JSON lines, one scored call per line.
//!
//! This module owns the file's schema in both directions. Every command that writes results
//! (`run`, `score`, `rescore`, `merge`, `import`) writes the store and then calls [`export`];
//! every command that reads results (`html`, `clips`, `report`) calls [`load`], which reads the
//! store. So the file and the database cannot disagree: the file is regenerated from the
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

/// Writes `dir/calls.jsonl` from the store in `dir`, call_id order, with personal numbers
/// hidden when `redact` says so. Returns the calls written.
pub fn export(store: &Store, dir: &Path, redact: bool) -> Result<usize, ResultsError> {
    let path = dir.join(FILE);
    let reviewed = super::review::reviewed_scores(store)?;
    let mut written = 0;
    let mut failure: Option<ResultsError> = None;
    let io = crate::util::write_atomic_with(&path, |w| {
        let streamed = store.for_each_call(|call| {
            let result = if redact {
                redacted(&call.result)
            } else {
                call.result
            };
            let review = reviewed.get(&result.call_id);
            let line = Line {
                result: &result,
                score_source: if review.is_some() { "reviewed" } else { "auto" },
                reviewed_score: review.map(|r| r.score),
                review_version: review.map(|r| r.version),
            };
            serde_json::to_writer(&mut *w, &line).map_err(std::io::Error::from)?;
            w.write_all(b"\n")?;
            written += 1;
            Ok::<_, Streamed>(())
        });
        match streamed {
            Ok(()) => Ok(()),
            Err(Streamed::Io(e)) => Err(e),
            Err(Streamed::Store(e)) => {
                failure = Some(e.into());
                Err(std::io::Error::other("the store could not be read"))
            }
        }
    });
    match (io, failure) {
        (_, Some(e)) => Err(e),
        (Err(source), None) => Err(ResultsError::Write { path, source }),
        (Ok(()), None) => Ok(written),
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

/// What can stop the export stream: the store or the file.
enum Streamed {
    Store(StoreError),
    Io(std::io::Error),
}

impl From<StoreError> for Streamed {
    fn from(e: StoreError) -> Self {
        Streamed::Store(e)
    }
}

impl From<std::io::Error> for Streamed {
    fn from(e: std::io::Error) -> Self {
        Streamed::Io(e)
    }
}

/// Every stored result of the output folder `dir`, call_id order. A folder without a
/// database is an error that says which command makes one.
pub fn load(dir: &Path) -> Result<Vec<CallResult>, ResultsError> {
    let db = dir.join(super::DB_FILE);
    if !db.exists() {
        return Err(ResultsError::Empty {
            path: db,
            dir: dir.to_path_buf(),
        });
    }
    let store = Store::open(dir)?;
    Ok(store.calls()?.into_iter().map(|c| c.result).collect())
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
        assert_eq!(export(&store, dir.path(), false).expect("export"), 3);
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
        export(&store, dir.path(), true).expect("export");
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
