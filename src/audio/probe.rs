//! What `callqa probe` reports about one recording: format, roles and speech timing.
//!
//! Takes a path, the agent channel and a [`VadConfig`]; returns a [`ProbeReport`] that
//! serialises to the JSON object `callqa probe --json` prints, or an [`Error`]. It runs the
//! same decode → activity → metrics path as a scoring run, so what probe shows is what the
//! scorer will see.

use std::path::Path;

use serde::Serialize;

use super::{
    activity, decode::decode_with_notes, metrics, CallMetrics, Error, RoleActivity, SourceInfo,
    VadConfig,
};
use crate::{AgentChannel, Role};

/// Everything `callqa probe` prints about one file.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProbeReport {
    pub path: String,
    #[serde(flatten)]
    pub source: SourceInfo,
    pub agent_channel: AgentChannel,
    /// One entry per decoded track: agent first, then customer; or one unknown-role track.
    pub tracks: Vec<TrackReport>,
    pub first_agent_speech_ms: Option<u64>,
    /// Longest single stretch of dead air, 0 if none reaches the threshold.
    pub longest_dead_air_ms: u64,
    pub metrics: CallMetrics,
    pub activity: Vec<RoleActivity>,
    /// Things the user should know: truncation, damaged packets, a channel choice ignored.
    pub notes: Vec<String>,
}

/// Speech on one track.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrackReport {
    pub role: Role,
    pub speech_ms: u64,
    /// Share of the call's duration that is speech on this track, 0.0–1.0.
    pub speech_ratio: f64,
}

/// Decodes `path`, finds speech on each track and measures the call.
pub fn probe(
    path: &Path,
    agent_channel: AgentChannel,
    cfg: &VadConfig,
    dead_air_min_ms: u64,
) -> Result<ProbeReport, Error> {
    let (audio, notes) = decode_with_notes(path, agent_channel)?;
    let activity = activity(&audio, cfg);
    let metrics = metrics(&activity, audio.duration_ms, dead_air_min_ms);
    let tracks = activity
        .iter()
        .map(|a| {
            let speech_ms: u64 = a.regions.iter().map(|r| r.end_ms - r.start_ms).sum();
            TrackReport {
                role: a.role,
                speech_ms,
                speech_ratio: if audio.duration_ms == 0 {
                    0.0
                } else {
                    speech_ms as f64 / audio.duration_ms as f64
                },
            }
        })
        .collect();
    Ok(ProbeReport {
        path: path.display().to_string(),
        source: audio.info,
        agent_channel,
        tracks,
        first_agent_speech_ms: metrics.first_agent_speech_ms,
        longest_dead_air_ms: metrics
            .dead_air
            .iter()
            .map(|r| r.end_ms - r.start_ms)
            .max()
            .unwrap_or(0),
        metrics,
        activity,
        notes,
    })
}
