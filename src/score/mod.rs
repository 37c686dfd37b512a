//! Score stage: apply the 质检标准 rubric to a call's transcripts, hits and metrics, and write
//! the deductions an inspector would, each with its evidence.

use serde::{Deserialize, Serialize};

use crate::{CallMetrics, Direction, Hit, Role};

/// Version of the `calls.jsonl` schema; bump on any change to field names or meaning.
pub const SCHEMA_VERSION: u32 = 1;

/// Points taken off for one rubric sub-rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Deduction {
    /// Rubric item id, e.g. `4`.
    pub item: String,
    /// Sub-rule id, e.g. `4.6`.
    pub rule: String,
    /// Points taken off the 100-point score (positive number).
    pub points: f64,
    pub reason: String,
    /// Indexes into `CallResult::hits`.
    pub evidence: Vec<usize>,
    /// The moment to jump to in the audio.
    pub start_ms: u64,
    pub end_ms: u64,
}

/// Something a detector flagged for the inspector to judge; no points taken.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub rule: String,
    pub reason: String,
    pub evidence: Vec<usize>,
    pub start_ms: u64,
    pub end_ms: u64,
}

/// A transcript line in the result: who said what, when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResultSegment {
    pub role: Role,
    pub start_ms: u64,
    pub end_ms: u64,
    pub text: String,
}

/// Whether a call was scored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Error,
}

/// The scored call: one line of `calls.jsonl`. Field names are a public contract.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallResult {
    pub schema_version: u32,
    pub call_id: String,
    pub agent_id: String,
    pub started_at: chrono::DateTime<chrono::FixedOffset>,
    pub direction: Direction,
    pub audio: String,
    pub duration_ms: u64,
    pub score: f64,
    pub max_score: f64,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Which rubric sheet scored it (`客服` or `营销`).
    pub rubric: String,
    /// 积分 and 元 penalties, kept apart from the 100-point score.
    pub credits: f64,
    pub fine_yuan: f64,
    pub segments: Vec<ResultSegment>,
    pub hits: Vec<Hit>,
    pub deductions: Vec<Deduction>,
    pub findings: Vec<Finding>,
    /// Sub-rules no machine can judge, for the inspector's checklist.
    pub manual: Vec<String>,
    pub metrics: CallMetrics,
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub extra: std::collections::BTreeMap<String, String>,
}
