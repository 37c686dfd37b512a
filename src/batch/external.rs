//! Calls that enter at the text stage (`callqa score`): transcripts from another recogniser or
//! written by hand, scored with the same pipeline and kept in the same store as recorded calls,
//! so `rescore`, `report`, `html` and the review all see them.
//!
//! Input is JSON lines, one call each: `call_id, agent_id, started_at, direction`, optional
//! `duration_ms` and `agent_channel`, and `segments: [{role, start_ms, end_ms, text}]`; any
//! other key is carried to the result's `extra`. Timing metrics come from the segment times: a
//! transcript's segments are where its speaker talks, which is what the audio stage's voice
//! activity would have measured, only coarser. The stored transcript is keyed by its own
//! content, so scoring the same text again is a cache hit and a changed text a new transcript.

mod input;

use std::collections::HashSet;
use std::io::BufRead;
use std::path::Path;

use super::{CallError, Outcome, Pipeline, RunError, Summary};
use crate::store::{Keys, ScoredRow, Store, StoredTranscript};
use crate::CallMeta;

/// A call read from text: what the pipeline needs to score and store it.
struct TextCall {
    meta: CallMeta,
    transcript: StoredTranscript,
}

/// Results stored per transaction, as in `rescore`: a killed run keeps whole batches.
const BATCH: usize = 512;

/// A call of the input with the line it came from.
struct Numbered {
    line: usize,
    call: TextCall,
}

/// What a worker made of one call.
enum Scored {
    /// Its stored result was scored from the same text under the same rules.
    Cached,
    Fresh {
        line: usize,
        row: Box<ScoredRow>,
    },
}

/// Scores one call read from text, unless its stored result already matches.
fn score_call(pipeline: &Pipeline, store: &Store, n: Numbered) -> Result<Scored, RunError> {
    let call = n.call;
    let body = serde_json::to_string(&call.transcript).unwrap_or_default();
    let tkey = crate::util::digest(&["text", &body]);
    let rkey = pipeline.result_key(&tkey, &call.meta);
    if store.result_key(&call.meta.call_id)?.as_deref() == Some(rkey.as_str()) {
        return Ok(Scored::Cached);
    }
    let t = &call.transcript;
    let result = pipeline.score(&call.meta, &t.transcripts, &t.metrics);
    let keys = Keys {
        input: rkey,
        transcript: Some(tkey.clone()),
        identity: None,
    };
    let row = ScoredRow {
        transcript_key: tkey,
        transcript: call.transcript,
        meta: call.meta,
        keys,
        result,
    };
    Ok(Scored::Fresh {
        line: n.line,
        row: Box::new(row),
    })
}

/// Scores every call of the JSON-lines file `input` into the store in `out`, `jobs` workers
/// wide. A bad line or a repeated call_id is named as `file:line: reason` and skipped; the rest
/// are scored.
pub fn score_file(
    pipeline: &Pipeline,
    input: &Path,
    out: &Path,
    jobs: usize,
) -> Result<Summary, RunError> {
    let started = std::time::Instant::now();
    let name = input.display().to_string();
    let file = std::fs::File::open(input).map_err(|e| {
        RunError::Usage(format!(
            "{name}: cannot open ({e}); pass --transcripts FILE.jsonl"
        ))
    })?;
    // Created (or brought up to date) here, before the workers open it all at once.
    Store::open(out)?;
    let mut read = Summary::default();
    let written = super::fan::fan_out(
        jobs,
        |calls| read_calls(file, &name, pipeline.dead_air_ms, calls, &mut read),
        |calls, done| {
            let store = Store::open(out)?;
            for n in calls {
                if done.send(score_call(pipeline, &store, n)?).is_err() {
                    break;
                }
            }
            Ok(())
        },
        |done| write(out, &name, done),
    )?;
    Ok(Summary {
        calls: read.calls,
        bad_rows: read.bad_rows,
        out: out.to_path_buf(),
        wall_s: started.elapsed().as_secs_f64(),
        ..written
    })
}

/// Reads the input's lines into calls for the workers; counts calls and names bad lines.
fn read_calls(
    file: std::fs::File,
    name: &str,
    dead_air_ms: u64,
    calls: &crossbeam_channel::Sender<Numbered>,
    s: &mut Summary,
) -> Result<(), RunError> {
    let mut seen = HashSet::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line =
            line.map_err(|e| RunError::Usage(format!("{name}:{}: cannot read ({e})", i + 1)))?;
        if line.trim().is_empty() {
            continue;
        }
        let parsed = input::parse_call(&line, dead_air_ms)
            .map_err(|e| e.to_string())
            .and_then(|c| {
                if seen.insert(c.meta.call_id.clone()) {
                    Ok(TextCall {
                        meta: c.meta,
                        transcript: StoredTranscript {
                            transcripts: c.transcripts,
                            metrics: c.metrics,
                        },
                    })
                } else {
                    Err(format!(
                        "call_id {:?} appears twice in this file; give each call its own id",
                        c.meta.call_id
                    ))
                }
            });
        match parsed {
            Ok(call) => {
                s.calls += 1;
                let n = Numbered { line: i + 1, call };
                calls.send(n).map_err(|_| super::fan::stopped())?;
            }
            Err(reason) => {
                s.bad_rows += 1;
                eprintln!("{name}:{}: {reason}; fix the line and rerun", i + 1);
            }
        }
    }
    Ok(())
}

/// The one writer: stores fresh results in batches and counts every outcome.
fn write(
    out: &Path,
    name: &str,
    done: crossbeam_channel::Receiver<Scored>,
) -> Result<Summary, RunError> {
    let store = Store::open(out)?;
    let mut s = Summary::default();
    let mut batch: Vec<(usize, ScoredRow)> = Vec::with_capacity(BATCH);
    for scored in done {
        match scored {
            Scored::Cached => s.count(&Outcome::Cached),
            Scored::Fresh { line, row } => {
                batch.push((line, *row));
                if batch.len() == BATCH {
                    store_batch(&store, name, &mut batch, &mut s)?;
                }
            }
        }
    }
    store_batch(&store, name, &mut batch, &mut s)?;
    Ok(s)
}

/// Stores one batch in one transaction, naming the calls that could not be scored.
fn store_batch(
    store: &Store,
    name: &str,
    batch: &mut Vec<(usize, ScoredRow)>,
    s: &mut Summary,
) -> Result<(), RunError> {
    let mut rows = Vec::with_capacity(batch.len());
    for (line, row) in batch.drain(..) {
        match &row.result.error {
            Some(e) => {
                let e = CallError::Input(e.clone());
                eprintln!("{}: {name}:{line}: {e}", row.meta.call_id);
                s.count(&Outcome::Failed(e));
            }
            None => s.count(&Outcome::Scored { transcribed: false }),
        }
        rows.push(row);
    }
    Ok(store.put_scored(&rows)?)
}
