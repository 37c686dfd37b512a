//! The batch engine behind `callqa run`: calls in, one stored result per call out.
//!
//! Takes a stream of [`CallMeta`] (a [`manifest::Manifest`] or a [`dirscan::DirScan`]), keeps
//! the calls of its [`shard::Shard`], and runs them on `jobs` worker threads fed through a
//! bounded channel, so memory stays flat however long the manifest is. Each worker owns a store
//! connection and (once it first needs one) a Whisper decoding state on the shared model.
//! A call whose result key is already stored with status ok is counted as cached and not
//! touched. Why a bounded channel and not a pool over a collected list: a cron run over millions
//! of recordings must start at once and never hold more than a few calls in flight.

pub mod dirscan;
pub mod manifest;
pub mod pipeline;
pub mod shard;

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use crate::store::{Store, StoredTranscript};
use crate::{CallMeta, CallResult};
pub use pipeline::{CallError, Config, Pipeline, SetupError};
pub use shard::Shard;

/// Name of the lock file that keeps two runs off one output folder.
pub const LOCK_FILE: &str = ".lock";

/// Why a run could not go on at all (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] crate::store::Error),
    #[error(transparent)]
    Setup(#[from] SetupError),
    #[error("{}: another callqa run or merge is using this output folder; wait for it to finish or pass another --out", path.display())]
    Locked { path: PathBuf },
    #[error("{}: cannot create or lock ({source}); check that the output folder is writable", path.display())]
    Lock {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Manifest(#[from] manifest::RowError),
}

/// Holds `DIR/.lock` for the life of a run; the OS drops the lock even after kill -9.
pub struct OutputLock {
    _file: std::fs::File,
}

impl OutputLock {
    /// Creates the output folder if needed and takes its lock, or fails at once.
    pub fn acquire(dir: &Path) -> Result<OutputLock, Error> {
        let path = dir.join(LOCK_FILE);
        let io = |source| Error::Lock {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io)?;
        match fs4::FileExt::try_lock(&file) {
            Ok(()) => Ok(OutputLock { _file: file }),
            Err(fs4::TryLockError::WouldBlock) => Err(Error::Locked { path }),
            Err(fs4::TryLockError::Error(e)) => Err(io(e)),
        }
    }
}

/// What a run did, for the summary line and `--json`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Summary {
    pub schema_version: u32,
    /// Calls of this shard seen, including bad manifest rows.
    pub total: u64,
    /// Scored in this run (transcribed now or re-scored from a stored transcript).
    pub scored: u64,
    /// Unchanged since an earlier run: not touched.
    pub cached: u64,
    /// Calls transcribed in this run.
    pub transcribed: u64,
    pub failed: u64,
    /// Audio of every call seen, in hours.
    pub audio_hours: f64,
    pub wall_s: f64,
    /// Wall time over the audio transcribed in this run; `None` when nothing was transcribed.
    pub real_time_factor: Option<f64>,
    pub model_loaded: bool,
}

/// How one call went.
#[derive(Debug)]
enum Outcome {
    Cached {
        duration_ms: u64,
    },
    Scored {
        duration_ms: u64,
        transcribed: bool,
    },
    Failed {
        line: String,
        duration_ms: u64,
    },
    /// The run cannot go on (store or model unusable).
    Fatal(Error),
}

/// Options of [`run`].
#[derive(Clone, Debug)]
pub struct Options {
    pub jobs: usize,
    pub shard: Option<Shard>,
    /// Show an indicatif bar (only when stderr is a terminal).
    pub progress: bool,
}

/// Runs every call of `source` that belongs to the shard, storing one result per call.
/// Per-call failures are printed (`call_id: path: reason`) and counted; store or model
/// failures stop the run.
pub fn run(
    source: impl Iterator<Item = Result<CallMeta, manifest::RowError>> + Send,
    pipeline: &Pipeline,
    out: &Path,
    options: &Options,
) -> Result<Summary, Error> {
    let started = Instant::now();
    let jobs = options.jobs.max(1);
    let (call_tx, call_rx) = crossbeam_channel::bounded::<CallMeta>(jobs * 2);
    let (done_tx, done_rx) = crossbeam_channel::bounded::<Outcome>(jobs * 4);
    let bar = progress_bar(options.progress);
    let mut summary = Summary {
        schema_version: crate::score::SCHEMA_VERSION,
        ..Summary::default()
    };
    let mut asr_ms = 0u64;
    let mut fatal = None;
    std::thread::scope(|scope| {
        let row_tx = done_tx.clone();
        let shard = options.shard;
        scope.spawn(move || {
            for item in source {
                match item {
                    Ok(meta) if shard.is_none_or(|s| s.takes(&meta.call_id)) => {
                        if call_tx.send(meta).is_err() {
                            break;
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        let line = e.to_string();
                        if row_tx
                            .send(Outcome::Failed {
                                line,
                                duration_ms: 0,
                            })
                            .is_err()
                        {
                            break;
                        }
                    }
                }
            }
        });
        for _ in 0..jobs {
            let rx = call_rx.clone();
            let tx = done_tx.clone();
            scope.spawn(move || worker(pipeline, out, rx, tx));
        }
        drop(done_tx);
        drop(call_rx);
        for outcome in done_rx.iter() {
            summary.total += 1;
            match outcome {
                Outcome::Cached { duration_ms } => {
                    summary.cached += 1;
                    summary.audio_hours += duration_ms as f64 / 3_600_000.0;
                }
                Outcome::Scored {
                    duration_ms,
                    transcribed,
                } => {
                    summary.scored += 1;
                    summary.audio_hours += duration_ms as f64 / 3_600_000.0;
                    if transcribed {
                        summary.transcribed += 1;
                        asr_ms += duration_ms;
                    }
                }
                Outcome::Failed { line, duration_ms } => {
                    summary.failed += 1;
                    summary.audio_hours += duration_ms as f64 / 3_600_000.0;
                    bar.suspend(|| eprintln!("{line}"));
                }
                Outcome::Fatal(e) => {
                    summary.total -= 1;
                    if fatal.is_none() {
                        fatal = Some(e);
                    }
                    // Dropping the receiver ends the workers and the reader at their next send.
                    break;
                }
            }
            bar.inc(1);
        }
        drop(done_rx);
    });
    bar.finish_and_clear();
    if let Some(e) = fatal {
        return Err(e);
    }
    summary.wall_s = started.elapsed().as_secs_f64();
    summary.real_time_factor = (asr_ms > 0).then(|| summary.wall_s * 1000.0 / asr_ms as f64);
    summary.model_loaded = pipeline.model_loaded();
    Ok(summary)
}

fn progress_bar(show: bool) -> indicatif::ProgressBar {
    if !show {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new_spinner();
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} {pos} calls done, {per_sec}, {elapsed_precise} elapsed",
    ) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

fn worker(
    pipeline: &Pipeline,
    out: &Path,
    calls: crossbeam_channel::Receiver<CallMeta>,
    done: crossbeam_channel::Sender<Outcome>,
) {
    let store = match Store::open(out) {
        Ok(s) => s,
        Err(e) => {
            let _ = done.send(Outcome::Fatal(e.into()));
            return;
        }
    };
    let mut transcriber = None;
    for meta in calls.iter() {
        let outcome = process(pipeline, &store, &meta, &mut transcriber);
        if done.send(outcome).is_err() {
            return;
        }
    }
}

fn process(
    pipeline: &Pipeline,
    store: &Store,
    meta: &CallMeta,
    transcriber: &mut Option<crate::asr::Transcriber>,
) -> Outcome {
    match try_process(pipeline, store, meta, transcriber) {
        Ok(outcome) => outcome,
        Err(Step::Fatal(e)) => Outcome::Fatal(e),
        Err(Step::Call(e)) => {
            let reason = e.to_string();
            let result = pipeline.error_result(meta, &reason);
            if let Err(e) = store.put_call(meta, None, "error", &result) {
                return Outcome::Fatal(e.into());
            }
            Outcome::Failed {
                line: format!("{}: {reason}", meta.call_id),
                duration_ms: 0,
            }
        }
    }
}

enum Step {
    Call(CallError),
    Fatal(Error),
}

impl From<crate::store::Error> for Step {
    fn from(e: crate::store::Error) -> Step {
        Step::Fatal(e.into())
    }
}

impl From<SetupError> for Step {
    fn from(e: SetupError) -> Step {
        Step::Fatal(e.into())
    }
}

fn try_process(
    pipeline: &Pipeline,
    store: &Store,
    meta: &CallMeta,
    transcriber: &mut Option<crate::asr::Transcriber>,
) -> Result<Outcome, Step> {
    let audio_sha = pipeline::sha256_file(&meta.audio).map_err(Step::Call)?;
    let transcript_key = pipeline.transcript_key(&audio_sha)?;
    let result_key = pipeline.result_key(&transcript_key, meta);
    if let Some(stored) = store.result_key(&meta.call_id)? {
        if stored.ok && stored.result_key == result_key {
            return Ok(Outcome::Cached {
                duration_ms: stored.duration_ms,
            });
        }
    }
    let (stored, transcribed): (StoredTranscript, bool) = match store.transcript(&transcript_key)? {
        Some(t) => (t, false),
        None => {
            let decoded = pipeline.decode(meta).map_err(Step::Call)?;
            let t = match transcriber {
                Some(t) => t,
                None => transcriber.insert(pipeline.transcriber()?),
            };
            let stored = pipeline.transcribe(meta, decoded, t).map_err(Step::Call)?;
            // Committed on its own: a kill after this line never costs this call's ASR again.
            store.put_transcript(&transcript_key, &audio_sha, &stored)?;
            (stored, true)
        }
    };
    let result = pipeline.score(meta, &stored);
    store.put_call(meta, Some(&transcript_key), &result_key, &result)?;
    Ok(Outcome::Scored {
        duration_ms: result.duration_ms,
        transcribed,
    })
}

/// Calls re-scored per transaction: large enough that commits cost little, small enough that
/// a kill loses only seconds of work.
const RESCORE_BATCH: usize = 2000;

/// Re-scores every stored call whose rules changed, from its stored transcript. Audio is not
/// read and the model is never loaded. Calls that failed before (no transcript) stay as they
/// are and count as failed. One thread reads, `jobs` threads score, one thread writes: scoring
/// is the cost, and SQLite wants a single writer.
pub fn rescore(pipeline: &Pipeline, out: &Path, all: bool, jobs: usize) -> Result<Summary, Error> {
    let started = Instant::now();
    let reader = Store::open(out)?;
    let writer = Store::open(out)?;
    let jobs = jobs.max(1);
    let (todo_tx, todo_rx) = crossbeam_channel::bounded::<Rescore>(jobs * 64);
    let (done_tx, done_rx) = crossbeam_channel::bounded::<Rescore>(jobs * 64);
    let mut summary = Summary {
        schema_version: crate::score::SCHEMA_VERSION,
        ..Summary::default()
    };
    let written = std::thread::scope(|scope| {
        for _ in 0..jobs {
            let rx = todo_rx.clone();
            let tx = done_tx.clone();
            scope.spawn(move || {
                for mut job in rx.iter() {
                    job.result = Some(pipeline.score(&job.meta, &job.transcript));
                    if tx.send(job).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done_tx);
        drop(todo_rx);
        let writing = scope.spawn(move || -> Result<u64, Error> {
            let mut pending = 0;
            let mut scored = 0;
            writer.begin()?;
            for job in done_rx.iter() {
                if let Some(result) = &job.result {
                    writer.put_call(
                        &job.meta,
                        Some(&job.transcript_key),
                        &job.result_key,
                        result,
                    )?;
                    scored += 1;
                    pending += 1;
                }
                if pending == RESCORE_BATCH {
                    writer.commit()?;
                    writer.begin()?;
                    pending = 0;
                }
            }
            writer.commit()?;
            Ok(scored)
        });
        let read = reader.for_each_call(
            |row, transcript| {
                summary.total += 1;
                summary.audio_hours += row.result.duration_ms as f64 / 3_600_000.0;
                let (Some(key), Some(transcript)) = (row.transcript_key, transcript) else {
                    summary.failed += 1;
                    return Ok(());
                };
                let result_key = pipeline.result_key(&key, &row.meta);
                if !all && result_key == row.result_key {
                    summary.cached += 1;
                    return Ok(());
                }
                let job = Rescore {
                    meta: row.meta,
                    transcript,
                    transcript_key: key,
                    result_key,
                    result: None,
                };
                // A closed channel means the writer failed; its error is reported below.
                let _ = todo_tx.send(job);
                Ok(())
            },
            true,
        );
        drop(todo_tx);
        let written = writing.join().unwrap_or_else(|_| {
            Err(Error::Setup(SetupError::Model(
                "the writer thread panicked".into(),
            )))
        });
        read.map_err(Error::from).and(written)
    })?;
    summary.scored = written;
    summary.wall_s = started.elapsed().as_secs_f64();
    summary.model_loaded = pipeline.model_loaded();
    Ok(summary)
}

/// One call on its way through [`rescore`].
struct Rescore {
    meta: CallMeta,
    transcript: StoredTranscript,
    transcript_key: String,
    result_key: String,
    result: Option<CallResult>,
}
