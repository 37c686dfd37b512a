//! `callqa rescore`: every stored call scored again from its stored transcript after a
//! lexicon, rubric or calendar edit. No audio, no model.
//!
//! A month is 100,000 calls and a QA lead wants the new scores within a minute, so the calls
//! stream from the database cursor to workers over a bounded channel (memory does not grow
//! with the month), the workers score in parallel, and one writer stores the results in
//! batches of [`BATCH`], each one transaction: a process killed mid-way leaves every batch
//! whole or absent, and a rerun finishes the rest (their keys still differ).

use std::path::Path;
use std::time::Instant;

use super::{Pipeline, RunError, RunOptions, Summary};
use crate::store::{Keys, Store, StoredCall};
use crate::{CallMeta, CallResult};

/// Results stored per transaction.
const BATCH: usize = 512;

/// What a worker made of one stored call.
enum Rescored {
    /// Its result already matches the rules in force.
    Unchanged,
    /// Failed before it had a transcript; nothing to re-score.
    Failed {
        call_id: String,
        reason: String,
    },
    /// Imported without a transcript: kept as it is.
    Kept,
    Scored(Box<(CallMeta, Keys, CallResult)>),
}

/// Re-scores every stored call of `out` with `pipeline`, `opts.jobs` workers wide. Calls that
/// failed before are named again (their recording must be fixed and `run` again).
pub fn rescore(pipeline: &Pipeline, out: &Path, opts: &RunOptions) -> Result<Summary, RunError> {
    let started = Instant::now();
    let reader = Store::open(out)?;
    let mut summary = super::fan::fan_out(
        opts.jobs,
        |calls| reader.for_each_call(|call| calls.send(call).map_err(|_| super::fan::stopped())),
        |calls, done| work(pipeline, out, calls, done),
        |done| write(out, done, opts),
    )?;
    summary.out = out.to_path_buf();
    summary.wall_s = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// One worker: its own connection for transcripts; scores until the calls run out.
fn work(
    pipeline: &Pipeline,
    out: &Path,
    calls: crossbeam_channel::Receiver<StoredCall>,
    done: crossbeam_channel::Sender<Rescored>,
) -> Result<(), RunError> {
    let store = Store::open(out)?;
    for call in calls {
        if done.send(rescore_one(pipeline, &store, call)?).is_err() {
            break;
        }
    }
    Ok(())
}

fn rescore_one(pipeline: &Pipeline, store: &Store, call: StoredCall) -> Result<Rescored, RunError> {
    let transcript = match &call.keys.transcript {
        Some(key) => store.transcript(key)?,
        None => None,
    };
    let (Some(tkey), Some(transcript)) = (call.keys.transcript.clone(), transcript) else {
        return Ok(match call.failure {
            Some(reason) => Rescored::Failed {
                call_id: call.meta.call_id,
                reason,
            },
            None => Rescored::Kept,
        });
    };
    let rkey = pipeline.result_key(&tkey, &call.meta);
    if call.keys.input == rkey {
        return Ok(Rescored::Unchanged);
    }
    let result = pipeline.score(&call.meta, &transcript.transcripts, &transcript.metrics);
    let keys = Keys {
        input: rkey,
        transcript: Some(tkey),
        identity: call.keys.identity,
    };
    Ok(Rescored::Scored(Box::new((call.meta, keys, result))))
}

/// The one writer: counts every outcome, names failed calls, stores results in batches.
fn write(
    out: &Path,
    done: crossbeam_channel::Receiver<Rescored>,
    opts: &RunOptions,
) -> Result<Summary, RunError> {
    let store = Store::open(out)?;
    let mut s = Summary::default();
    let mut batch = Vec::with_capacity(BATCH);
    for r in done {
        s.calls += 1;
        match r {
            Rescored::Unchanged | Rescored::Kept => s.cached += 1,
            Rescored::Failed { call_id, reason } => {
                s.failed += 1;
                if !opts.quiet {
                    eprintln!("{call_id}: {reason}; fix the recording and `callqa run` again");
                }
            }
            Rescored::Scored(row) => {
                s.scored += 1;
                batch.push(*row);
                if batch.len() == BATCH {
                    store.put_results(&batch)?;
                    batch.clear();
                }
            }
        }
    }
    store.put_results(&batch)?;
    Ok(s)
}
