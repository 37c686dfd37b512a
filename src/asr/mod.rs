//! ASR stage: Whisper (whisper.cpp through whisper-rs) on each role's speech regions.
//!
//! Only speech regions found by the audio stage are sent to Whisper: it invents text on silence.

use serde::{Deserialize, Serialize};

use crate::Role;

/// Everything one party said, in time order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    pub role: Role,
    pub segments: Vec<Segment>,
}

/// One decoded sentence or phrase, times in milliseconds from the start of the recording.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    pub start_ms: u64,
    pub end_ms: u64,
    /// Simplified Chinese.
    pub text: String,
    /// Token timings, when the recogniser gave them; empty for external transcripts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tokens: Vec<Token>,
    #[serde(default)]
    pub avg_logprob: f32,
    #[serde(default)]
    pub no_speech_prob: f32,
}

/// One Whisper token with its time and probability.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Token {
    pub text: String,
    pub start_ms: u64,
    pub end_ms: u64,
    pub p: f32,
}
