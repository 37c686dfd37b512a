//! The two cached steps of a call, with everything they need loaded once per run.
//!
//! Step 1, [`Pipeline::decode`] + [`Pipeline::transcribe`]: audio + ASR → transcripts and timing metrics (expensive;
//! keyed by [`Pipeline::transcript_key`]). Step 2, [`Pipeline::score`]: scan + score →
//! `CallResult` (cheap; keyed by [`Pipeline::result_key`]). The Whisper model is loaded lazily,
//! on the first call whose transcript is not stored: a rerun after a lexicon or rubric edit,
//! and `callqa rescore`, never pay for loading it (and report `model_loaded: false`).

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use sha2::{Digest, Sha256};

use crate::asr::{AsrConfig, Model, Transcriber};
use crate::audio::VadConfig;
use crate::scan::{Lexicons, Scanner};
use crate::score::{Calendar, Rubrics, Status};
use crate::store::StoredTranscript;
use crate::{CallMeta, CallResult};

/// Where the lexicons, rubric and calendar come from, and how to decode.
#[derive(Clone, Debug)]
pub struct Config {
    pub lexicons: PathBuf,
    pub rubrics: PathBuf,
    pub calendar: PathBuf,
    pub model: PathBuf,
    pub asr: AsrConfig,
    pub vad: VadConfig,
    /// Gaps with neither party speaking at least this long count as dead air.
    pub dead_air_min_ms: u64,
}

/// Why the pipeline could not be set up: the whole run stops (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("{0}")]
    Lexicons(#[from] crate::scan::LexiconErrors),
    #[error("{0}")]
    Scanner(#[from] crate::scan::BuildError),
    #[error("{0}")]
    Rubrics(#[from] crate::score::RubricError),
    #[error("{0}")]
    Calendar(#[from] crate::score::CalendarError),
    #[error("{0}")]
    Model(String),
}

/// Why one call failed: it becomes a `status: "error"` row, the batch goes on.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("{}: cannot read the recording ({source}); check the path and its permissions", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Audio(#[from] crate::audio::Error),
    #[error("{}: {source}", path.display())]
    Asr {
        path: PathBuf,
        #[source]
        source: crate::asr::AsrError,
    },
}

/// A decoded call waiting for ASR.
pub struct Decoded {
    audio: crate::Audio,
    activity: Vec<crate::audio::RoleActivity>,
    metrics: crate::CallMetrics,
}

/// Loaded lexicons, rubric, calendar and (on demand) the model.
pub struct Pipeline {
    config: Config,
    scanner: Scanner,
    rubrics: Rubrics,
    calendar: Calendar,
    /// sha256 over the lexicon, rubric and calendar versions: one part of every result key.
    rules_version: String,
    model_sha: OnceLock<Result<String, String>>,
    model: OnceLock<Result<Arc<Model>, String>>,
}

impl Pipeline {
    /// Loads and checks lexicons, rubric and calendar; the model waits until it is needed.
    pub fn new(config: Config) -> Result<Pipeline, SetupError> {
        let lexicons = Lexicons::load_dir(&config.lexicons)?;
        let scanner = Scanner::new(&lexicons)?;
        let rubrics = Rubrics::load_dir(&config.rubrics)?;
        let calendar = Calendar::load_dir(&config.calendar)?;
        let rules_version = digest(&[
            &lexicons.version,
            &rubrics.version,
            &calendar.version,
            &crate::score::SCHEMA_VERSION.to_string(),
        ]);
        Ok(Pipeline {
            config,
            scanner,
            rubrics,
            calendar,
            rules_version,
            model_sha: OnceLock::new(),
            model: OnceLock::new(),
        })
    }

    pub fn rubrics(&self) -> &Rubrics {
        &self.rubrics
    }

    /// Whether this run loaded the Whisper model.
    pub fn model_loaded(&self) -> bool {
        self.model.get().is_some_and(Result::is_ok)
    }

    /// The model file's sha256 (hashing the file, not loading it).
    fn model_sha(&self) -> Result<&str, SetupError> {
        self.model_sha
            .get_or_init(|| crate::asr::verify(&self.config.model).map_err(|e| e.to_string()))
            .as_deref()
            .map_err(|e| SetupError::Model(e.clone()))
    }

    fn model(&self) -> Result<&Arc<Model>, SetupError> {
        self.model
            .get_or_init(|| {
                tracing::info!("loading the Whisper model {}", self.config.model.display());
                Model::load(&self.config.model)
                    .map(Arc::new)
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| SetupError::Model(e.clone()))
    }

    /// A decoding state for one worker, on the shared model (loaded now if not yet).
    pub fn transcriber(&self) -> Result<Transcriber, SetupError> {
        Transcriber::new(self.model()?, &self.config.asr)
            .map_err(|e| SetupError::Model(e.to_string()))
    }

    /// Key of step 1: audio content, model, ASR and VAD parameters.
    pub fn transcript_key(&self, audio_sha256: &str) -> Result<String, SetupError> {
        let asr = crate::asr::cache_key(audio_sha256, self.model_sha()?, &self.config.asr);
        let vad = format!("{:?}/{}", self.config.vad, self.config.dead_air_min_ms);
        Ok(digest(&[&asr, &vad]))
    }

    /// Key of step 2: the transcript, the call's metadata and the rules.
    pub fn result_key(&self, transcript_key: &str, meta: &CallMeta) -> String {
        let meta = serde_json::to_string(meta).unwrap_or_default();
        digest(&[transcript_key, &meta, &self.rules_version])
    }

    /// Step 1a: decode, find speech, measure timing. Done before the model is asked for, so
    /// a broken recording never causes a model load.
    pub fn decode(&self, meta: &CallMeta) -> Result<Decoded, CallError> {
        let audio = crate::audio::decode(&meta.audio, meta.agent_channel)?;
        let activity = crate::audio::activity(&audio, &self.config.vad);
        let metrics =
            crate::audio::metrics(&activity, audio.duration_ms, self.config.dead_air_min_ms);
        Ok(Decoded {
            audio,
            activity,
            metrics,
        })
    }

    /// Step 1b: transcribe each role's speech regions.
    pub fn transcribe(
        &self,
        meta: &CallMeta,
        decoded: Decoded,
        transcriber: &mut Transcriber,
    ) -> Result<StoredTranscript, CallError> {
        let transcripts =
            crate::asr::transcribe_audio(transcriber, &decoded.audio, &decoded.activity).map_err(
                |source| CallError::Asr {
                    path: meta.audio.clone(),
                    source,
                },
            )?;
        Ok(StoredTranscript {
            transcripts,
            metrics: decoded.metrics,
        })
    }

    /// Step 2: scan every transcript and score the call. Pure and cheap.
    pub fn score(&self, meta: &CallMeta, stored: &StoredTranscript) -> CallResult {
        let hits = stored
            .transcripts
            .iter()
            .flat_map(|t| self.scanner.scan_transcript(t))
            .collect();
        crate::score::score_call(
            meta,
            &stored.transcripts,
            &stored.metrics,
            hits,
            &self.rubrics,
            &self.calendar,
        )
    }

    /// The row of a call that could not be scored.
    pub fn error_result(&self, meta: &CallMeta, reason: &str) -> CallResult {
        let mut result = crate::score::score_call(
            meta,
            &[],
            &crate::CallMetrics::default(),
            Vec::new(),
            &self.rubrics,
            &self.calendar,
        );
        result.status = Status::Error;
        result.error = Some(reason.to_string());
        result.score = 0.0;
        result.deductions.clear();
        result.findings.clear();
        result.manual.clear();
        result
    }
}

/// sha256 of a file's content, streamed.
pub fn sha256_file(path: &Path) -> Result<String, CallError> {
    let read = |source| CallError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(read)?;
    let mut h = Sha256::new();
    std::io::copy(&mut file, &mut h).map_err(read)?;
    Ok(hex::encode(h.finalize()))
}

fn digest(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    hex::encode(h.finalize())
}
