//! The batch: run every call of a manifest (or folder) through the stages, in parallel,
//! incrementally and resumably, and say loudly what failed.
//!
//! Per call: audio → asr → text → scan → score. The expensive half (decode, VAD, Whisper) is
//! cached in the [`store`](crate::store) by audio content, model and decoding parameters; the
//! cheap half (scan, score) by the versions of the lexicons, rubric and calendar. Workers pull
//! calls from a bounded channel fed by the manifest reader, so memory stays flat however many
//! calls there are. The Whisper model is loaded at most once, and only when a call actually
//! needs transcribing: a rerun after a lexicon edit never loads it.

pub mod manifest;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use sha2::{Digest, Sha256};

use crate::asr::{self, AsrConfig, Model, Transcriber};
use crate::audio::{self, VadConfig};
use crate::scan::{Lexicons, Scanner};
use crate::score::{self, Calendar, Rubrics, Status};
use crate::store::{Store, StoreError, StoredTranscript};
use crate::{CallMeta, CallResult};

pub use manifest::{Manifest, ManifestError, NamePattern, RowError, Shard};

/// Everything loaded once per run and shared by the workers.
pub struct Pipeline {
    pub scanner: Scanner,
    pub rubrics: Rubrics,
    pub calendar: Calendar,
    pub model_path: PathBuf,
    pub asr: AsrConfig,
    pub vad: VadConfig,
    pub dead_air_ms: u64,
    model: OnceLock<Result<Arc<Model>, String>>,
    model_sha: OnceLock<Result<String, String>>,
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

impl Pipeline {
    pub fn load(
        lexicons: &Path,
        rubrics: &Path,
        calendar: &Path,
        model_path: PathBuf,
        asr: AsrConfig,
    ) -> Result<Pipeline, ConfigError> {
        let lex = Lexicons::load_dir(lexicons)?;
        Ok(Pipeline {
            scanner: Scanner::new(&lex)?,
            rubrics: Rubrics::load_dir(rubrics)?,
            calendar: Calendar::load_dir(calendar)?,
            model_path,
            asr,
            vad: VadConfig::default(),
            dead_air_ms: 5_000,
            model: OnceLock::new(),
            model_sha: OnceLock::new(),
            model_loaded: AtomicBool::new(false),
        })
    }

    fn model(&self) -> Result<Arc<Model>, String> {
        self.model
            .get_or_init(|| {
                self.model_loaded.store(true, Ordering::Relaxed);
                Model::load(&self.model_path)
                    .map(Arc::new)
                    .map_err(|e| e.to_string())
            })
            .clone()
    }

    fn model_sha(&self) -> Result<String, String> {
        self.model_sha
            .get_or_init(|| asr::verify(&self.model_path).map_err(|e| e.to_string()))
            .clone()
    }

    /// Key of everything that decides a call's transcript.
    fn transcript_key(&self, audio_sha: &str, meta: &CallMeta) -> Result<String, String> {
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

    /// Scan and score (the cheap half) from a transcript.
    pub fn score(&self, meta: &CallMeta, stored: &StoredTranscript) -> CallResult {
        let hits = stored
            .transcripts
            .iter()
            .flat_map(|t| self.scanner.scan_transcript(t))
            .collect();
        score::score_call(
            meta,
            &stored.transcripts,
            &stored.metrics,
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
    ) -> Result<StoredTranscript, String> {
        let audio = audio::decode(&meta.audio, meta.agent_channel).map_err(|e| e.to_string())?;
        let activity = audio::activity(&audio, &self.vad);
        let metrics = audio::metrics(&activity, audio.duration_ms, self.dead_air_ms);
        if transcriber.is_none() {
            let model = self.model()?;
            *transcriber = Some(Transcriber::new(&model, &self.asr).map_err(|e| e.to_string())?);
        }
        let t = transcriber.as_mut().ok_or("no transcriber")?;
        let transcripts = asr::transcribe_audio(t, &audio, &activity)
            .map_err(|e| format!("{}: {e}", meta.audio.display()))?;
        Ok(StoredTranscript {
            transcripts,
            metrics,
        })
    }
}

fn digest(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    hex::encode(h.finalize())
}

fn file_sha256(path: &Path) -> Result<String, String> {
    asr::model::sha256_file(path).map_err(|e| e.to_string())
}

/// What happened to one call.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Scored now; `transcribed` says whether Whisper ran for it.
    Scored {
        transcribed: bool,
    },
    /// Nothing changed since the stored result.
    Cached,
    Failed(String),
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
}

impl Summary {
    /// The one line cron mails.
    pub fn line(&self) -> String {
        let rtf = self
            .rtf
            .map(|r| format!(", RTF {r:.2}"))
            .unwrap_or_default();
        format!(
            "{} calls: {} scored ({} transcribed), {} unchanged, {} failed{}; {:.2} h of audio in {:.1} s{rtf}; results in {}",
            self.calls,
            self.scored,
            self.transcribed,
            self.cached,
            self.failed + self.bad_rows,
            if self.bad_rows > 0 { format!(" ({} bad manifest rows)", self.bad_rows) } else { String::new() },
            self.audio_hours,
            self.wall_s,
            self.out.join("calls.jsonl").display()
        )
    }
}

/// How the batch reports progress and problems.
pub struct Reporting {
    pub progress: bool,
    pub quiet: bool,
}

/// Runs `calls` (metadata or row errors) with `jobs` workers into the store in `out`.
pub fn run(
    pipeline: &Pipeline,
    calls: impl Iterator<Item = Result<CallMeta, RowError>> + Send,
    out: &Path,
    jobs: usize,
    shard: Option<Shard>,
    reporting: &Reporting,
) -> Result<Summary, StoreError> {
    let started = Instant::now();
    Store::open(out)?;
    let summary = Mutex::new(Summary {
        out: out.to_path_buf(),
        ..Summary::default()
    });
    let transcribed_ms = AtomicU64::new(0);
    let audio_ms = AtomicU64::new(0);
    let bar = if reporting.progress && !reporting.quiet {
        let b = indicatif::ProgressBar::new_spinner();
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {pos} calls  {per_sec}  {elapsed_precise}  {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        b
    } else {
        indicatif::ProgressBar::hidden()
    };
    let say = |line: String| {
        if !reporting.quiet {
            bar.suspend(|| eprintln!("{line}"));
        }
    };
    let (tx, rx) = crossbeam_channel::bounded::<CallMeta>(jobs * 2);
    let store_error: Mutex<Option<StoreError>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            let rx = rx.clone();
            let (summary, store_error, bar, say) = (&summary, &store_error, &bar, &say);
            let (transcribed_ms, audio_ms) = (&transcribed_ms, &audio_ms);
            scope.spawn(move || {
                let store = match Store::open(out) {
                    Ok(s) => s,
                    Err(e) => {
                        if let Ok(mut slot) = store_error.lock() {
                            *slot = Some(e);
                        }
                        return;
                    }
                };
                let mut transcriber = None;
                for meta in rx {
                    let t0 = Instant::now();
                    let (outcome, duration_ms) = process(pipeline, &store, &meta, &mut transcriber);
                    audio_ms.fetch_add(duration_ms, Ordering::Relaxed);
                    let mut s = match summary.lock() {
                        Ok(s) => s,
                        Err(p) => p.into_inner(),
                    };
                    match &outcome {
                        Outcome::Scored { transcribed } => {
                            s.scored += 1;
                            if *transcribed {
                                s.transcribed += 1;
                                transcribed_ms.fetch_add(duration_ms, Ordering::Relaxed);
                                tracing::info!(call = %meta.call_id, secs = t0.elapsed().as_secs_f64(), "transcribed");
                            }
                        }
                        Outcome::Cached => s.cached += 1,
                        Outcome::Failed(reason) => {
                            s.failed += 1;
                            say(format!("{}: {reason}", meta.call_id));
                        }
                    }
                    bar.inc(1);
                }
            });
        }
        for item in calls {
            match item {
                Ok(meta) => {
                    if shard.is_some_and(|s| !s.contains(&meta.call_id)) {
                        continue;
                    }
                    if let Ok(mut s) = summary.lock() {
                        s.calls += 1;
                    }
                    if tx.send(meta).is_err() {
                        break;
                    }
                }
                Err(row) => {
                    if shard
                        .is_some_and(|s| row.call_id.as_deref().is_some_and(|id| !s.contains(id)))
                    {
                        continue;
                    }
                    if let Ok(mut s) = summary.lock() {
                        s.bad_rows += 1;
                    }
                    say(format!("{row}; row skipped"));
                }
            }
        }
        drop(tx);
    });
    bar.finish_and_clear();
    if let Some(e) = store_error.into_inner().ok().flatten() {
        return Err(e);
    }
    let mut s = summary.into_inner().unwrap_or_else(|p| p.into_inner());
    s.wall_s = started.elapsed().as_secs_f64();
    s.audio_hours = audio_ms.load(Ordering::Relaxed) as f64 / 3_600_000.0;
    let t_ms = transcribed_ms.load(Ordering::Relaxed);
    s.rtf = (t_ms > 0).then(|| s.wall_s * 1000.0 / t_ms as f64);
    s.model_loaded = pipeline.model_loaded.load(Ordering::Relaxed);
    Ok(s)
}

/// One call, start to end; never panics the batch.
fn process(
    pipeline: &Pipeline,
    store: &Store,
    meta: &CallMeta,
    transcriber: &mut Option<Transcriber>,
) -> (Outcome, u64) {
    let attempt = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        process_inner(pipeline, store, meta, transcriber)
    }));
    let (outcome, duration) = match attempt {
        Ok(Ok(done)) => done,
        Ok(Err(reason)) => (Outcome::Failed(reason), 0),
        Err(_) => (
            Outcome::Failed(format!(
                "{}: internal error while processing; please report it with this file",
                meta.audio.display()
            )),
            0,
        ),
    };
    if let Outcome::Failed(reason) = &outcome {
        let failed = error_result(meta, reason);
        if let Err(e) = store.put_result(meta, "error", None, &failed) {
            return (
                Outcome::Failed(format!("{reason}; and storing the failure failed: {e}")),
                duration,
            );
        }
    }
    (outcome, duration)
}

fn process_inner(
    pipeline: &Pipeline,
    store: &Store,
    meta: &CallMeta,
    transcriber: &mut Option<Transcriber>,
) -> Result<(Outcome, u64), String> {
    let audio_sha = file_sha256(&meta.audio)?;
    let tkey = pipeline.transcript_key(&audio_sha, meta)?;
    let rkey = pipeline.result_key(&tkey, meta);
    let stored = store.transcript(&tkey).map_err(|e| e.to_string())?;
    if let Some(t) = &stored {
        if store
            .result_key(&meta.call_id)
            .map_err(|e| e.to_string())?
            .as_deref()
            == Some(rkey.as_str())
        {
            return Ok((Outcome::Cached, t.metrics.duration_ms));
        }
    }
    let transcribed = stored.is_none();
    let transcript = match stored {
        Some(t) => t,
        None => {
            let t = pipeline.transcribe(meta, transcriber)?;
            store.put_transcript(&tkey, &t).map_err(|e| e.to_string())?;
            t
        }
    };
    let result = pipeline.score(meta, &transcript);
    store
        .put_result(meta, &rkey, Some(&tkey), &result)
        .map_err(|e| e.to_string())?;
    Ok((
        Outcome::Scored { transcribed },
        transcript.metrics.duration_ms,
    ))
}

/// The `calls.jsonl` row of a call that could not be processed.
pub fn error_result(meta: &CallMeta, reason: &str) -> CallResult {
    CallResult {
        schema_version: score::SCHEMA_VERSION,
        call_id: meta.call_id.clone(),
        agent_id: meta.agent_id.clone(),
        started_at: meta.started_at,
        direction: meta.direction,
        agent_channel: meta.agent_channel,
        audio: meta.audio.display().to_string(),
        duration_ms: 0,
        score: 0.0,
        max_score: 0.0,
        status: Status::Error,
        error: Some(reason.to_string()),
        rubric: String::new(),
        credits: 0.0,
        fine_yuan: 0.0,
        segments: Vec::new(),
        hits: Vec::new(),
        deductions: Vec::new(),
        findings: Vec::new(),
        manual: Vec::new(),
        metrics: Default::default(),
        extra: meta.extra.clone(),
    }
}

/// Re-scores every stored call from its stored transcript; audio and model untouched.
pub fn rescore(pipeline: &Pipeline, out: &Path) -> Result<Summary, StoreError> {
    let started = Instant::now();
    let store = Store::open(out)?;
    let mut s = Summary {
        out: out.to_path_buf(),
        ..Summary::default()
    };
    for call in store.calls()? {
        s.calls += 1;
        let Some(tkey) = call.transcript_key else {
            s.failed += 1;
            continue;
        };
        let Some(transcript) = store.transcript(&tkey)? else {
            s.failed += 1;
            continue;
        };
        let rkey = pipeline.result_key(&tkey, &call.meta);
        if store.result_key(&call.meta.call_id)?.as_deref() == Some(rkey.as_str()) {
            s.cached += 1;
            continue;
        }
        let result = pipeline.score(&call.meta, &transcript);
        store.put_result(&call.meta, &rkey, Some(&tkey), &result)?;
        s.scored += 1;
    }
    s.wall_s = started.elapsed().as_secs_f64();
    Ok(s)
}

/// Writes `DIR/calls.jsonl` from the store, atomically. Returns the results written.
pub fn export(out: &Path) -> Result<Vec<CallResult>, String> {
    let store = Store::open(out).map_err(|e| e.to_string())?;
    let results: Vec<CallResult> = store
        .calls()
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|c| c.result)
        .collect();
    let mut body = String::new();
    for r in &results {
        body.push_str(&serde_json::to_string(r).map_err(|e| e.to_string())?);
        body.push('\n');
    }
    crate::report::write_atomic(&out.join("calls.jsonl"), body.as_bytes())
        .map_err(|e| format!("{}: {e}", out.join("calls.jsonl").display()))?;
    Ok(results)
}
