//! Audio stage: decode a recording, split it into the agent's and the customer's channel at
//! 16 kHz, and find where each party speaks.
//!
//! Takes a path and an [`AgentChannel`](crate::AgentChannel); returns [`Audio`] (per-role 16-bit
//! samples at 16 kHz, agent track first), per-role speech regions ([`activity`]) and the
//! [`CallMetrics`] derived from them ([`metrics`]). [`probe`] runs all three for
//! `callqa probe`.
//!
//! The decision a reader may question: voice activity is an energy detector against the
//! channel's own noise floor, not a neural VAD. Recorder channels are clean and separate, the
//! noise we must ignore (line hiss, G.711 quantisation, −50 dBFS background) is stationary, and
//! on real Mandarin speech in −50 dBFS noise it is more accurate per frame than the neural
//! `earshot` VAD (0.989/0.991 against 0.977/0.990 agent/customer), keeps
//! as much continuous quiet speech, and takes none of hiss, hold music or line noise for speech
//! where earshot takes up to 77 %; `tests/activity.rs` measures both, and `tests/fixtures.rs`
//! finds 0.983–0.995 on every sample call format. MP4 box tables are checked before Symphonia
//! reads them (module `mp4`): it trusts their counts and a lying one aborted the process. Truncated
//! files are decoded as far as they go
//! (a recorder that crashed still captured a call worth inspecting) and say so in
//! [`ProbeReport::notes`] and a `tracing` warning.

mod activity;
mod decode;
#[cfg(feature = "ffmpeg")]
mod ffmpeg;
mod flac;
mod metrics;
mod mp3;
mod mp4;
mod notes;
mod ogg;
mod probe;
mod resample;
mod sink;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::Role;

pub use activity::{activity, VadConfig};
pub use decode::{decode, decode_bytes, decode_with_notes};
pub use metrics::metrics;
pub use notes::in_chinese as note_in_chinese;
pub use probe::{probe, ProbeReport, TrackReport};

/// Why a recording could not be decoded; each variant asks the caller for a different action.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be read at all: wrong path, permissions, I/O failure.
    #[error("{}: cannot read the file: {source}; check the path and its permissions", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file holds no audio: zero bytes, or a header with no samples after it.
    #[error("{}: {reason}; the recording is empty, export it again from the recorder", path.display())]
    Empty { path: PathBuf, reason: String },
    /// A format, codec, channel count or rate callqa does not take.
    #[error("{}: {reason}; {hint}", path.display())]
    Unsupported {
        path: PathBuf,
        reason: String,
        hint: &'static str,
    },
    /// The bytes are damaged or are not audio at all.
    #[error("{}: {reason}; the file is damaged or not a recording, export it again from the recorder", path.display())]
    Corrupt { path: PathBuf, reason: String },
}

impl Error {
    /// The recording the error is about.
    pub fn path(&self) -> &std::path::Path {
        match self {
            Error::Open { path, .. }
            | Error::Empty { path, .. }
            | Error::Unsupported { path, .. }
            | Error::Corrupt { path, .. } => path,
        }
    }
}

/// Sample rate of every decoded track: what Whisper expects.
pub const SAMPLE_RATE: u32 = 16_000;

/// What the file was before decoding.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourceInfo {
    pub container: String,
    pub codec: String,
    pub sample_rate: u32,
    pub channels: u16,
    pub duration_ms: u64,
}

/// One party's samples, mono 16-bit PCM at [`SAMPLE_RATE`].
///
/// 16-bit, not f32: a call is held whole from decoding to the last Whisper window, and at f32
/// four hours of stereo are 1.8 GB, more than a worker's budget; at 16 bits they are 0.9 GB.
/// Nothing is lost that a telephone line carries (its own quantisation is 8–13 bits), and
/// Whisper and the voice detector take f32 one window or frame at a time ([`Track::f32`]).
#[derive(Clone, Debug)]
pub struct Track {
    pub role: Role,
    pub samples: Vec<i16>,
}

impl Track {
    /// A track from f32 samples in −1.0..1.0 (beyond is clipped).
    pub fn from_f32(role: Role, samples: &[f32]) -> Track {
        Track {
            role,
            samples: samples.iter().copied().map(to_i16).collect(),
        }
    }

    /// Samples `from..to` (clamped to the track) as f32 in −1.0..1.0.
    pub fn f32(&self, from: usize, to: usize) -> impl Iterator<Item = f32> + '_ {
        let to = to.min(self.samples.len());
        self.samples[from.min(to)..to].iter().copied().map(to_f32)
    }
}

/// A sample in −1.0..1.0 as 16-bit PCM, clipped; NaN becomes 0.
pub fn to_i16(x: f32) -> i16 {
    // `as` saturates and maps NaN to 0.
    (x * 32_768.0).round() as i16
}

/// A 16-bit PCM sample in −1.0..1.0.
pub fn to_f32(x: i16) -> f32 {
    f32::from(x) / 32_768.0
}

/// A decoded call: one track per role (agent and customer for stereo, one unknown-role track for mono).
#[derive(Clone, Debug)]
pub struct Audio {
    pub info: SourceInfo,
    pub tracks: Vec<Track>,
    pub duration_ms: u64,
}

/// A stretch of speech on one channel, in milliseconds from the start of the recording.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpeechRegion {
    pub start_ms: u64,
    pub end_ms: u64,
}

/// Where one role speaks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoleActivity {
    pub role: Role,
    pub regions: Vec<SpeechRegion>,
}

/// Timing figures of a call, all in milliseconds from the start of the recording.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CallMetrics {
    pub duration_ms: u64,
    pub agent_talk_ms: u64,
    pub customer_talk_ms: u64,
    /// Both parties speaking at once.
    pub overlap_ms: u64,
    /// Neither party speaking, gaps at least as long as the configured threshold.
    pub dead_air: Vec<SpeechRegion>,
    pub dead_air_total_ms: u64,
    /// Agent's first speech, from the start of the recording; `None` if the agent never speaks.
    pub first_agent_speech_ms: Option<u64>,
    /// Longest stretch in which neither party speaks.
    pub longest_silence_ms: u64,
    /// Where each party speaks (voice activity, merged): holds, dead air and an agent who
    /// stops answering are judged on these, not on transcript segments. Absent in results
    /// stored before they were kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agent_speech: Vec<SpeechRegion>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub customer_speech: Vec<SpeechRegion>,
    /// What decoding said about the recording (cut short, damaged packets skipped, a channel
    /// choice ignored): the call was scored on what could be decoded, and whoever reads the
    /// result must know when that is not the whole recording.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub decode_notes: Vec<String>,
}
