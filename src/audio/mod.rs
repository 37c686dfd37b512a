//! Audio stage: decode a recording, split it into the agent's and the customer's channel at
//! 16 kHz, and find where each party speaks.
//!
//! Takes a path and an [`AgentChannel`](crate::AgentChannel); returns [`Audio`] (per-role f32
//! samples at 16 kHz), per-role speech regions and the [`CallMetrics`] derived from them.

use serde::{Deserialize, Serialize};

use crate::Role;

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

/// One party's samples, mono f32 at [`SAMPLE_RATE`].
#[derive(Clone, Debug)]
pub struct Track {
    pub role: Role,
    pub samples: Vec<f32>,
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
}
