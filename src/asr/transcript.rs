//! What the ASR stage gives: transcripts, segments and tokens with their times. Kept apart
//! from the Whisper code so the stages that read transcripts (and the fuzz targets, which
//! compile these sources by path) need no whisper.cpp.

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

impl Segment {
    /// A segment known only by its times and words: external transcripts and tests.
    pub fn text_only(start_ms: u64, end_ms: u64, text: impl Into<String>) -> Segment {
        Segment {
            start_ms,
            end_ms,
            text: text.into(),
            tokens: Vec::new(),
            avg_logprob: 0.0,
            no_speech_prob: 0.0,
        }
    }
}

impl Transcript {
    /// One transcript per role present (agent, customer, unknown, in that order), each in time
    /// order, from segments tagged with who said them.
    pub fn by_role(segments: impl IntoIterator<Item = (Role, Segment)>) -> Vec<Transcript> {
        let all: Vec<(Role, Segment)> = segments.into_iter().collect();
        [Role::Agent, Role::Customer, Role::Unknown]
            .into_iter()
            .filter_map(|role| {
                let mut segments: Vec<Segment> = all
                    .iter()
                    .filter(|(r, _)| *r == role)
                    .map(|(_, s)| s.clone())
                    .collect();
                segments.sort_by_key(|s| s.start_ms);
                (!segments.is_empty()).then_some(Transcript { role, segments })
            })
            .collect()
    }
}

/// One Whisper token with its time and probability.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Token {
    pub text: String,
    pub start_ms: u64,
    pub end_ms: u64,
    pub p: f32,
}
