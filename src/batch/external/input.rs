//! One line of `callqa score`'s JSON-lines input read into a call: its metadata, transcripts by
//! role, and timing metrics from the segment times. Kept apart from the scoring and storing in
//! `external` so the fuzz targets can compile it by path without the store.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use crate::audio::{CallMetrics, RoleActivity, SpeechRegion};
use crate::{AgentChannel, CallMeta, Direction, Role, Segment, Transcript};

/// Longest call accepted from text: a week. Longer times are typos and would overflow the
/// clock arithmetic of the later stages.
pub const MAX_MS: u64 = 7 * 24 * 3600 * 1000;

/// One call of the input.
#[derive(Debug, Deserialize)]
struct InputCall {
    call_id: String,
    agent_id: String,
    started_at: chrono::DateTime<chrono::FixedOffset>,
    direction: Direction,
    #[serde(default)]
    duration_ms: Option<u64>,
    #[serde(default)]
    agent_channel: Option<AgentChannel>,
    segments: Vec<InputSegment>,
    #[serde(flatten)]
    extra: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InputSegment {
    role: Role,
    start_ms: u64,
    end_ms: u64,
    text: String,
}

/// A call read from one line.
pub struct ParsedCall {
    pub meta: CallMeta,
    pub transcripts: Vec<Transcript>,
    pub metrics: CallMetrics,
}

/// Why a line is not a call; the caller adds the file and line.
#[derive(Debug, thiserror::Error)]
pub enum BadCall {
    #[error("not a call ({0})")]
    NotACall(#[from] serde_json::Error),
    #[error(
        "call {call_id}: segment {text:?} ends ({end_ms} ms) before it starts ({start_ms} ms)"
    )]
    Backwards {
        call_id: String,
        text: String,
        start_ms: u64,
        end_ms: u64,
    },
    #[error("call {call_id}: times reach {duration_ms} ms, more than a week; give times in milliseconds from the start of the call")]
    TooLong { call_id: String, duration_ms: u64 },
}

/// Reads one input line into a call, with metrics from its segment times.
pub fn parse_call(line: &str, dead_air_ms: u64) -> Result<ParsedCall, BadCall> {
    let call: InputCall = serde_json::from_str(line)?;
    if let Some(s) = call.segments.iter().find(|s| s.end_ms < s.start_ms) {
        return Err(BadCall::Backwards {
            call_id: call.call_id,
            text: s.text.clone(),
            start_ms: s.start_ms,
            end_ms: s.end_ms,
        });
    }
    let last_end = call.segments.iter().map(|s| s.end_ms).max().unwrap_or(0);
    let duration_ms = call.duration_ms.unwrap_or(last_end).max(last_end);
    if duration_ms > MAX_MS {
        return Err(BadCall::TooLong {
            call_id: call.call_id,
            duration_ms,
        });
    }
    let transcripts = Transcript::by_role(call.segments.iter().map(|s| {
        (
            s.role,
            Segment::text_only(s.start_ms, s.end_ms, s.text.clone()),
        )
    }));
    let metrics = crate::audio::metrics(&activity_of(&transcripts), duration_ms, dead_air_ms);
    let meta = CallMeta {
        agent_channel: call.agent_channel.unwrap_or(guess_channel(&transcripts)),
        call_id: call.call_id,
        audio: PathBuf::new(),
        agent_id: call.agent_id,
        started_at: call.started_at,
        direction: call.direction,
        extra: call
            .extra
            .into_iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => (k, s),
                other => (k, other.to_string()),
            })
            .collect(),
    };
    Ok(ParsedCall {
        meta,
        transcripts,
        metrics,
    })
}

/// A transcript whose every line has an unknown speaker came from a mono recording.
fn guess_channel(transcripts: &[Transcript]) -> AgentChannel {
    let mono = !transcripts.is_empty() && transcripts.iter().all(|t| t.role == Role::Unknown);
    if mono {
        AgentChannel::Mono
    } else {
        AgentChannel::Left
    }
}

fn activity_of(transcripts: &[Transcript]) -> Vec<RoleActivity> {
    transcripts
        .iter()
        .map(|t| RoleActivity {
            role: t.role,
            regions: t
                .segments
                .iter()
                .map(|s| SpeechRegion {
                    start_ms: s.start_ms,
                    end_ms: s.end_ms,
                })
                .collect(),
        })
        .collect()
}
