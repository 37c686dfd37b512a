//! The batch: run every call of a manifest (or folder) through the stages, in parallel,
//! incrementally and resumably, and say loudly what failed.
//!
//! Per call: audio → asr → text → scan → score. The expensive half (decode, VAD, Whisper) is
//! cached in the [`store`](crate::store) by audio content, model and decoding parameters; the
//! cheap half (scan, score) by the versions of the lexicons, rubric and calendar. Workers pull
//! calls from a bounded channel fed by the manifest reader, so memory stays flat however many
//! calls there are. The Whisper model is loaded at most once, and only when a call actually
//! needs transcribing: a rerun after a lexicon edit never loads it.

mod error;
pub mod external;
mod fan;
mod interrupt;
pub mod manifest;
pub mod memory;
mod rescore;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use crate::asr::{self, AsrConfig, AsrError, Model, Transcriber};
use crate::audio::{self, VadConfig};
use crate::scan::{Lexicons, Scanner};
use crate::score::{self, Calendar, Rubrics, Status};
use crate::store::{results, Keys, Store, StoredTranscript};
use crate::util::digest;
use crate::{CallMeta, CallMetrics, CallResult, Transcript};

pub(crate) use error::Failure;
pub use error::{CallError, RunError};
pub use interrupt::Interrupt;
pub use manifest::{Manifest, ManifestError, NamePattern, RowError, Shard};
pub use rescore::rescore;

/// Everything loaded once per run and shared by the workers.
pub struct Pipeline {
    pub scanner: Scanner,
    pub rubrics: Rubrics,
    pub calendar: Calendar,
    pub model_path: PathBuf,
    pub asr: AsrConfig,
    pub vad: VadConfig,
    pub dead_air_ms: u64,
    /// Use a model file that is not one of the two callqa builds (`--allow-unverified-model`).
    pub allow_unverified_model: bool,
    model: OnceLock<Result<Arc<Model>, Arc<AsrError>>>,
    model_sha: OnceLock<Result<String, Arc<AsrError>>>,
    /// Whether Whisper was loaded in this process (reported in the summary).
    pub model_loaded: AtomicBool,
}

/// Config files that could not be loaded: nothing runs.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    Lexicons(#[from] crate::scan::LexiconErrors),
    #[error("{0}")]
    Rubric(#[from] score::RubricError),
    #[error("{0}")]
    Calendar(#[from] score::CalendarError),
    #[error("building the scanner: {0}")]
    Scanner(#[from] crate::scan::BuildError),
}

/// Where the configuration QA staff own is read from.
#[derive(Clone, Debug)]
pub struct ConfigPaths {
    pub lexicons: PathBuf,
    pub rubrics: PathBuf,
    pub calendar: PathBuf,
}

impl Pipeline {
    pub fn load(
        config: &ConfigPaths,
        model_path: PathBuf,
        asr: AsrConfig,
    ) -> Result<Pipeline, ConfigError> {
        let lex = Lexicons::load_dir(&config.lexicons)?;
        Ok(Pipeline {
            scanner: Scanner::new(&lex)?,
            rubrics: Rubrics::load_dir(&config.rubrics)?,
            calendar: Calendar::load_dir(&config.calendar)?,
            model_path,
            asr,
            vad: VadConfig::default(),
            dead_air_ms: 5_000,
            allow_unverified_model: false,
            model: OnceLock::new(),
            model_sha: OnceLock::new(),
            model_loaded: AtomicBool::new(false),
        })
    }

    /// The model, loaded on first use; a model that cannot load stops the run.
    fn model(&self) -> Result<Arc<Model>, RunError> {
        self.model
            .get_or_init(|| {
                self.model_loaded.store(true, Ordering::Relaxed);
                Model::load_checked(&self.model_path, self.allow_unverified_model)
                    .map(Arc::new)
                    .map_err(Arc::new)
            })
            .clone()
            .map_err(RunError::Model)
    }

    fn model_sha(&self) -> Result<String, RunError> {
        self.model_sha
            .get_or_init(|| {
                asr::model::verify(&self.model_path, self.allow_unverified_model)
                    .map_err(|e| Arc::new(AsrError::from(e)))
            })
            .clone()
            .map_err(RunError::Model)
    }

    /// Key of everything that decides a call's transcript.
    pub fn transcript_key(&self, audio_sha: &str, meta: &CallMeta) -> Result<String, RunError> {
        let base = asr::cache_key(audio_sha, &self.model_sha()?, &self.asr);
        let vad = format!("{:?}", self.vad);
        Ok(digest(&[
            &base,
            &format!("{:?}", meta.agent_channel),
            &vad,
            &self.dead_air_ms.to_string(),
        ]))
    }

    /// Key of everything that decides a call's result, given its transcript.
    pub fn result_key(&self, transcript_key: &str, meta: &CallMeta) -> String {
        let meta_json = serde_json::to_string(meta).unwrap_or_default();
        digest(&[
            transcript_key,
            &self.scanner.lexicons().version,
            &self.rubrics.version,
            &self.calendar.version,
            &meta_json,
            &score::SCHEMA_VERSION.to_string(),
        ])
    }

    /// Scan and score (the cheap half) from what was said and the call's timing.
    pub fn score(
        &self,
        meta: &CallMeta,
        transcripts: &[Transcript],
        metrics: &CallMetrics,
    ) -> CallResult {
        let hits = transcripts
            .iter()
            .flat_map(|t| self.scanner.scan_transcript(t))
            .collect();
        score::score_call(
            meta,
            transcripts,
            metrics,
            hits,
            &self.rubrics,
            &self.calendar,
        )
    }

    /// Decode, VAD, metrics, Whisper (the expensive half).
    fn transcribe(
        &self,
        meta: &CallMeta,
        transcriber: &mut Option<Transcriber>,
    ) -> Result<StoredTranscript, Failure> {
        let (audio, decode_notes) =
            audio::decode_with_notes(&meta.audio, meta.agent_channel).map_err(CallError::from)?;
        let activity = audio::activity(&audio, &self.vad);
        let metrics = CallMetrics {
            decode_notes,
            ..audio::metrics(&activity, audio.duration_ms, self.dead_air_ms)
        };
        let t = match transcriber {
            Some(t) => t,
            slot @ None => {
                let model = self.model()?;
                let fresh = Transcriber::new(&model, &self.asr)
                    .map_err(|e| RunError::Model(Arc::new(e)))?;
                slot.insert(fresh)
            }
        };
        let transcripts =
            asr::transcribe_audio(t, &audio, &activity).map_err(|source| CallError::Asr {
                path: meta.audio.clone(),
                source,
            })?;
        Ok(StoredTranscript {
            transcripts,
            metrics,
        })
    }
}

/// What happened to one call.
#[derive(Debug)]
pub enum Outcome {
    /// Scored now; `transcribed` says whether Whisper ran for it.
    Scored {
        transcribed: bool,
    },
    /// Nothing changed since the stored result.
    Cached,
    Failed(CallError),
}

/// The run's totals, for the summary line and `--json`.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Summary {
    pub calls: u64,
    pub scored: u64,
    pub transcribed: u64,
    pub cached: u64,
    pub failed: u64,
    pub bad_rows: u64,
    pub audio_hours: f64,
    pub wall_s: f64,
    /// Wall time / audio time of the calls transcribed in this run.
    pub rtf: Option<f64>,
    pub model_loaded: bool,
    pub out: PathBuf,
    /// The signal that stopped the run early (2 SIGINT, 15 SIGTERM); a rerun resumes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interrupted: Option<i32>,
}

impl Summary {
    /// The one line cron mails.
    pub fn line(&self) -> String {
        let rtf = self
            .rtf
            .map(|r| format!(", RTF {r:.2}"))
            .unwrap_or_default();
        let bad_rows = if self.bad_rows > 0 {
            format!(" ({} bad input rows)", self.bad_rows)
        } else {
            String::new()
        };
        let stopped = match self.interrupted {
            Some(sig) => format!("stopped by signal {sig} (rerun to resume); "),
            None => String::new(),
        };
        format!(
            "{stopped}{} calls: {} scored ({} transcribed), {} unchanged, {} failed{bad_rows}; {:.2} h of audio in {:.1} s{rtf}; results in {}",
            self.calls,
            self.scored,
            self.transcribed,
            self.cached,
            self.failed + self.bad_rows,
            self.audio_hours,
            self.wall_s,
            self.out.join(results::FILE).display()
        )
    }

    /// Counts one call's outcome.
    fn count(&mut self, outcome: &Outcome) {
        match outcome {
            Outcome::Scored { transcribed } => {
                self.scored += 1;
                self.transcribed += u64::from(*transcribed);
            }
            Outcome::Cached => self.cached += 1,
            Outcome::Failed(_) => self.failed += 1,
        }
    }
}

/// How a run goes: parallelism, which calls, what to retry, how it talks.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    pub jobs: usize,
    pub shard: Option<Shard>,
    /// Try again the calls that failed before on the same input, and the calls a crash or
    /// kill interrupted (which are otherwise reported, never retried blindly).
    pub retry_failed: bool,
    /// Let a different recording or metadata replace a stored call with the same call_id.
    pub replace: bool,
    /// Hash every recording again instead of trusting the remembered hash of an unchanged file.
    pub verify_audio: bool,
    /// A progress bar (only on a terminal).
    pub progress: bool,
    /// No line per failed call.
    pub quiet: bool,
    /// Set by SIGINT/SIGTERM: take no new calls.
    pub interrupt: Interrupt,
}

impl RunOptions {
    fn bar(&self) -> indicatif::ProgressBar {
        if !self.progress || self.quiet {
            return indicatif::ProgressBar::hidden();
        }
        let b = indicatif::ProgressBar::new_spinner();
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {pos} calls  {per_sec}  {elapsed_precise}  {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        b
    }
}

/// State the workers share while a run is under way.
struct Shared<'a> {
    pipeline: &'a Pipeline,
    out: &'a Path,
    opts: &'a RunOptions,
    summary: Mutex<Summary>,
    transcribed_ms: AtomicU64,
    audio_ms: AtomicU64,
    /// Set by the first run-level failure: workers stop taking calls, the feeder stops reading.
    abort: Mutex<Option<RunError>>,
    bar: indicatif::ProgressBar,
}

impl Shared<'_> {
    fn say(&self, line: String) {
        if !self.opts.quiet {
            self.bar.suspend(|| eprintln!("{line}"));
        }
    }

    /// Whether to take no more calls: a run-level failure, or a stop signal.
    fn aborted(&self) -> bool {
        self.opts.interrupt.signal().is_some() || self.abort.lock().map_or(true, |a| a.is_some())
    }

    fn stop(&self, e: RunError) {
        if let Ok(mut slot) = self.abort.lock() {
            slot.get_or_insert(e);
        }
    }

    fn summary(&self) -> std::sync::MutexGuard<'_, Summary> {
        self.summary.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One worker: its own database connection and Whisper state, calls until the channel ends.
    fn work(&self, rx: crossbeam_channel::Receiver<CallMeta>) {
        let store = match Store::open(self.out) {
            Ok(s) => s,
            Err(e) => return self.stop(e.into()),
        };
        let mut transcriber = None;
        for meta in rx {
            if self.aborted() {
                break;
            }
            match process(self.pipeline, self.opts, &store, &meta, &mut transcriber) {
                Ok((outcome, duration_ms)) => self.record(&meta, outcome, duration_ms),
                Err(e) => self.stop(e),
            }
        }
    }

    fn record(&self, meta: &CallMeta, outcome: Outcome, duration_ms: u64) {
        self.audio_ms.fetch_add(duration_ms, Ordering::Relaxed);
        if matches!(outcome, Outcome::Scored { transcribed: true }) {
            self.transcribed_ms
                .fetch_add(duration_ms, Ordering::Relaxed);
        }
        if let Outcome::Failed(reason) = &outcome {
            self.say(format!("{}: {reason}", meta.call_id));
        }
        self.summary().count(&outcome);
        self.bar.inc(1);
    }

    /// Sends the calls of this shard to the workers; bad rows are counted and named.
    fn feed(
        &self,
        calls: impl Iterator<Item = Result<CallMeta, RowError>>,
        tx: crossbeam_channel::Sender<CallMeta>,
    ) {
        let shard = self.opts.shard;
        let mine = |id: Option<&str>| shard.is_none_or(|s| id.is_none_or(|id| s.contains(id)));
        for item in calls {
            if self.aborted() {
                break;
            }
            match item {
                Ok(meta) if mine(Some(&meta.call_id)) => {
                    self.summary().calls += 1;
                    if tx.send(meta).is_err() {
                        break;
                    }
                }
                Err(row) if mine(row.call_id.as_deref()) => {
                    self.summary().bad_rows += 1;
                    self.say(format!("{row}; row skipped"));
                }
                _ => {}
            }
        }
    }
}

/// Runs `calls` (metadata or row errors) with `jobs` workers into the store in `out`. A call's
/// failure is stored and counted; a failure of the model or the database stops the run.
pub fn run(
    pipeline: &Pipeline,
    calls: impl Iterator<Item = Result<CallMeta, RowError>> + Send,
    out: &Path,
    opts: &RunOptions,
) -> Result<Summary, RunError> {
    let started = Instant::now();
    Store::open(out)?;
    let jobs = opts.jobs.max(1);
    let shared = Shared {
        pipeline,
        out,
        opts,
        summary: Mutex::new(Summary {
            out: out.to_path_buf(),
            ..Summary::default()
        }),
        transcribed_ms: AtomicU64::new(0),
        audio_ms: AtomicU64::new(0),
        abort: Mutex::new(None),
        bar: opts.bar(),
    };
    let (tx, rx) = crossbeam_channel::bounded::<CallMeta>(jobs * 2);
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            let rx = rx.clone();
            let shared = &shared;
            scope.spawn(move || shared.work(rx));
        }
        drop(rx);
        shared.feed(calls, tx);
    });
    shared.bar.finish_and_clear();
    if let Some(e) = shared.abort.into_inner().ok().flatten() {
        return Err(e);
    }
    let mut s = shared
        .summary
        .into_inner()
        .unwrap_or_else(|p| p.into_inner());
    s.wall_s = started.elapsed().as_secs_f64();
    s.audio_hours = shared.audio_ms.load(Ordering::Relaxed) as f64 / 3_600_000.0;
    let t_ms = shared.transcribed_ms.load(Ordering::Relaxed);
    s.rtf = (t_ms > 0).then(|| s.wall_s * 1000.0 / t_ms as f64);
    s.model_loaded = pipeline.model_loaded.load(Ordering::Relaxed);
    s.interrupted = opts.interrupt.signal();
    Ok(s)
}

/// One call, start to end; never panics the batch. A call's own failure is stored as its
/// error result, under a key of its input so the next run remembers it; a run-level failure
/// is returned for the run to stop on.
fn process(
    pipeline: &Pipeline,
    opts: &RunOptions,
    store: &Store,
    meta: &CallMeta,
    transcriber: &mut Option<Transcriber>,
) -> Result<(Outcome, u64), RunError> {
    let mut attempt_key = None;
    let attempt = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        process_inner(pipeline, opts, store, meta, transcriber, &mut attempt_key)
    }));
    let error = match attempt {
        Ok(Ok(done)) => return Ok(done),
        Ok(Err(Failure::Run(e))) => return Err(e),
        Ok(Err(Failure::Call(e))) => e,
        Err(_) => {
            // The worker's Whisper state may be half-updated: start the next call afresh.
            *transcriber = None;
            CallError::Panicked {
                path: meta.audio.clone(),
            }
        }
    };
    if !matches!(error, CallError::Conflict { .. }) {
        let keys = Keys::input(attempt_key.as_deref().unwrap_or("error"));
        store.put_result(meta, &keys, &error_result(meta, &error.to_string()))?;
    }
    Ok((Outcome::Failed(error), 0))
}

/// What makes a call this call: its recording and the metadata that decides its score.
fn identity(audio_sha: &str, meta: &CallMeta) -> String {
    digest(&[
        audio_sha,
        &meta.agent_id,
        &meta.started_at.to_rfc3339(),
        &format!("{:?}/{:?}", meta.direction, meta.agent_channel),
    ])
}

fn process_inner(
    pipeline: &Pipeline,
    opts: &RunOptions,
    store: &Store,
    meta: &CallMeta,
    transcriber: &mut Option<Transcriber>,
    attempt_key: &mut Option<String>,
) -> Result<(Outcome, u64), Failure> {
    let audio_sha = audio_sha(store, &meta.audio, opts.verify_audio)?;
    let ident = identity(&audio_sha, meta);
    check_identity(store, opts, meta, &ident)?;
    let tkey = pipeline.transcript_key(&audio_sha, meta)?;
    let rkey = pipeline.result_key(&tkey, meta);
    let akey = digest(&["attempt", &tkey, &ident]);
    *attempt_key = Some(akey.clone());
    let stored = store.transcript(&tkey)?;
    if let Some(t) = &stored {
        if store.result_key(&meta.call_id)?.as_deref() == Some(rkey.as_str()) {
            return Ok((Outcome::Cached, t.metrics.duration_ms));
        }
    }
    let transcribed = stored.is_none();
    let transcript = match stored {
        Some(t) => t,
        None => {
            if !opts.retry_failed {
                if let Some(reason) = store.remembered_failure(&meta.call_id, &akey)? {
                    return Ok((Outcome::Failed(CallError::Remembered(reason)), 0));
                }
            }
            if store.begin_attempt(&meta.call_id, &akey)? && !opts.retry_failed {
                return Err(CallError::Interrupted {
                    path: meta.audio.clone(),
                }
                .into());
            }
            let t = pipeline.transcribe(meta, transcriber)?;
            store.put_transcript(&tkey, &t)?;
            t
        }
    };
    let result = pipeline.score(meta, &transcript.transcripts, &transcript.metrics);
    let keys = Keys {
        input: rkey,
        transcript: Some(tkey),
        identity: Some(ident),
    };
    store.put_result(meta, &keys, &result)?;
    Ok((
        Outcome::Scored { transcribed },
        transcript.metrics.duration_ms,
    ))
}

/// The recording's sha256, hashed only when the file changed since it was last hashed (its
/// size, modification time or inode differ) or `--verify-audio` asks: a rerun over a month of
/// finished calls then opens no recording at all.
fn audio_sha(store: &Store, path: &Path, verify: bool) -> Result<String, Failure> {
    use std::os::unix::fs::MetadataExt;
    let read = |source| CallError::Read {
        path: path.to_path_buf(),
        source,
    };
    let m = std::fs::metadata(path).map_err(read)?;
    let stamp = format!("{}:{}.{}:{}", m.size(), m.mtime(), m.mtime_nsec(), m.ino());
    let key = path.to_string_lossy();
    if !verify {
        if let Some(sha) = store.known_sha(&key, &stamp)? {
            return Ok(sha);
        }
    }
    let sha = crate::util::sha256_file(path).map_err(read)?;
    store.remember_sha(&key, &stamp, &sha)?;
    Ok(sha)
}

/// A stored, scored call with the same id but another recording or metadata is not replaced
/// unless `--replace` says so: two calls sharing an id is a manifest mistake to fix, and
/// silently keeping the later one would lose the earlier one's result.
fn check_identity(
    store: &Store,
    opts: &RunOptions,
    meta: &CallMeta,
    ident: &str,
) -> Result<(), CallError> {
    if opts.replace {
        return Ok(());
    }
    match store
        .identity(&meta.call_id)
        .map_err(CallError::StoredRow)?
    {
        Some((Some(stored), status)) if status == "ok" && stored != ident => {
            Err(CallError::Conflict {
                call_id: meta.call_id.clone(),
                path: meta.audio.clone(),
            })
        }
        _ => Ok(()),
    }
}

/// The stored result of a call that could not be processed.
pub fn error_result(meta: &CallMeta, reason: &str) -> CallResult {
    CallResult {
        status: Status::Error,
        error: Some(reason.to_string()),
        ..CallResult::for_call(meta)
    }
}

/// Holds `DIR/.lock` while a command writes into DIR.
pub struct Lock {
    _file: std::fs::File,
}

/// Takes `DIR/.lock` (creating DIR), or says that another callqa holds it.
pub fn lock(out: &Path) -> Result<Lock, RunError> {
    let path = out.join(".lock");
    let fail = |source| RunError::Lock {
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(out).map_err(fail)?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(fail)?;
    match file.try_lock() {
        Ok(()) => Ok(Lock { _file: file }),
        Err(std::fs::TryLockError::WouldBlock) => Err(RunError::Locked {
            path: out.to_path_buf(),
        }),
        Err(std::fs::TryLockError::Error(e)) => Err(fail(e)),
    }
}

/// What every command that writes results does last: `calls.jsonl` from the store, the
/// rollup (a column per item of `rubrics`), and (when asked) the inspector's report, all
/// redacted when `redact` says so, in one pass over the store's cursor: memory grows with the
/// agents and months, not the calls. A rollup failure does not skip the report; it is
/// returned after the report is written.
pub fn finish(out: &Path, rubrics: &Rubrics, html: bool, redact: bool) -> Result<(), RunError> {
    use crate::report::{html, rollup::Rollup};
    let reviewed = crate::store::review::reviewed_scores(&Store::open(out)?)?;
    let opts = html::Options {
        redact,
        lang: rubrics.lang,
        ..Default::default()
    };
    let mut report = match html {
        true => Some(html::Report::begin(
            out,
            rubrics,
            &opts,
            results::hit_categories(out)?,
        )?),
        false => None,
    };
    let mut rollup = Rollup::new(rubrics, None);
    results::export(out, redact, &reviewed, |call| {
        rollup.add(call, &reviewed);
        match &mut report {
            Some(r) => r.add(call).map_err(RunError::from),
            None => Ok(()),
        }
    })?;
    let written = write_rollup(out, &rollup);
    if let Some(r) = report {
        r.finish()?;
    }
    written
}

fn write_rollup(out: &Path, rollup: &crate::report::rollup::Rollup) -> Result<(), RunError> {
    use crate::report::rollup::{self, Format, Lang};
    let dir = out.join("rollup");
    let fail = |detail: String| RunError::Rollup {
        path: dir.clone(),
        detail,
    };
    let mut df = rollup.table().map_err(|e| fail(e.to_string()))?;
    rollup::write(
        &dir,
        &mut df,
        &[Format::Csv, Format::Parquet, Format::Xlsx],
        Lang::Zh,
    )
    .map_err(fail)?;
    Ok(())
}
