//! Call metadata: who, when, which direction, and which channel is the agent.
//!
//! This is the first of the plain types a call flows through
//! (`CallMeta` → `Audio` → `Transcript` → `Hit` → `Deduction` → `CallResult`).
//! It comes from a manifest row, a file-name pattern, or an external transcript.

use serde::{Deserialize, Serialize};

/// Everything known about a call before its audio is opened.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallMeta {
    pub call_id: String,
    /// Path of the recording; empty for calls that enter at the text stage.
    pub audio: std::path::PathBuf,
    pub agent_id: String,
    /// Local start time with its UTC offset; drives the morning and holiday greeting rules.
    pub started_at: chrono::DateTime<chrono::FixedOffset>,
    pub direction: Direction,
    pub agent_channel: AgentChannel,
    /// Manifest columns callqa does not know, carried through to the outputs unchanged.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub extra: std::collections::BTreeMap<String, String>,
}

/// Inbound calls are scored on the 客服 sheet, outbound calls on the 营销 sheet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Inbound,
    Outbound,
}

/// Which channel of the recording carries the agent.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum AgentChannel {
    /// Agent on the left (first) channel, customer on the right.
    #[default]
    Left,
    /// Agent on the right (second) channel, customer on the left.
    Right,
    /// Both parties on one channel: roles are unknown.
    Mono,
}

/// Who said something.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Agent,
    Customer,
    /// A mono recording: speech of either party. Findings on it are for review, never deducted.
    Unknown,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Customer => "customer",
            Role::Unknown => "unknown",
        }
    }
}

impl std::str::FromStr for Direction {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "inbound" | "in" => Ok(Direction::Inbound),
            "outbound" | "out" => Ok(Direction::Outbound),
            other => Err(format!(
                "unknown direction {other:?}: use inbound or outbound"
            )),
        }
    }
}

impl std::str::FromStr for AgentChannel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "left" | "l" => Ok(AgentChannel::Left),
            "right" | "r" => Ok(AgentChannel::Right),
            "mono" => Ok(AgentChannel::Mono),
            other => Err(format!(
                "unknown agent_channel {other:?}: use left, right or mono"
            )),
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "agent" => Ok(Role::Agent),
            "customer" => Ok(Role::Customer),
            "unknown" | "" => Ok(Role::Unknown),
            other => Err(format!(
                "unknown role {other:?}: use agent, customer or unknown"
            )),
        }
    }
}
