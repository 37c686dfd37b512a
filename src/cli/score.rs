//! `callqa score`: score calls whose transcripts come from elsewhere (another ASR vendor, a
//! re-score), no audio needed.
//!
//! Input: one JSON object per line: `call_id, agent_id, started_at, direction`, optional
//! `duration_ms`, `agent_channel`, and `segments: [{role: agent|customer|unknown, start_ms,
//! end_ms, text}]`. Output: `DIR/calls.jsonl` in the format `callqa run` writes.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use serde::Deserialize;

use super::ConfigArgs;
use crate::store::StoredTranscript;
use crate::{CallMeta, CallMetrics, Direction, Role, Segment, Transcript};

/// Arguments of `callqa score`.
#[derive(Debug, clap::Args)]
pub struct ScoreArgs {
    /// JSON lines, one call each.
    #[arg(long)]
    pub transcripts: PathBuf,
    /// Output folder for calls.jsonl.
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    #[command(flatten)]
    pub config: ConfigArgs,
}

#[derive(Deserialize)]
struct InSegment {
    role: Role,
    start_ms: u64,
    end_ms: u64,
    text: String,
}

#[derive(Deserialize)]
struct InCall {
    call_id: String,
    agent_id: String,
    started_at: chrono::DateTime<chrono::FixedOffset>,
    direction: Direction,
    #[serde(default)]
    duration_ms: Option<u64>,
    #[serde(default)]
    agent_channel: Option<crate::AgentChannel>,
    segments: Vec<InSegment>,
    #[serde(flatten)]
    extra: std::collections::BTreeMap<String, serde_json::Value>,
}

/// Transcripts and text-derived metrics for a call given as segments.
fn stored(call: &InCall) -> StoredTranscript {
    let mut transcripts: Vec<Transcript> = Vec::new();
    for s in &call.segments {
        let seg = Segment {
            start_ms: s.start_ms,
            end_ms: s.end_ms,
            text: s.text.clone(),
            tokens: Vec::new(),
            avg_logprob: 0.0,
            no_speech_prob: 0.0,
        };
        match transcripts.iter_mut().find(|t| t.role == s.role) {
            Some(t) => t.segments.push(seg),
            None => transcripts.push(Transcript {
                role: s.role,
                segments: vec![seg],
            }),
        }
    }
    let talk = |role: Role| -> u64 {
        call.segments
            .iter()
            .filter(|s| s.role == role)
            .map(|s| s.end_ms.saturating_sub(s.start_ms))
            .sum()
    };
    let end = call.segments.iter().map(|s| s.end_ms).max().unwrap_or(0);
    let metrics = CallMetrics {
        duration_ms: call.duration_ms.unwrap_or(end),
        agent_talk_ms: talk(Role::Agent),
        customer_talk_ms: talk(Role::Customer),
        first_agent_speech_ms: call
            .segments
            .iter()
            .filter(|s| s.role == Role::Agent)
            .map(|s| s.start_ms)
            .min(),
        ..CallMetrics::default()
    };
    StoredTranscript {
        transcripts,
        metrics,
    }
}

pub fn run(args: ScoreArgs) -> anyhow::Result<ExitCode> {
    let pipeline = super::run::pipeline(&args.config, PathBuf::new(), Default::default())?;
    let file = std::fs::File::open(&args.transcripts)
        .with_context(|| format!("{}: cannot open", args.transcripts.display()))?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("{}: cannot create", args.out.display()))?;
    let mut body = String::new();
    let mut failed = 0;
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line =
            line.with_context(|| format!("{}:{}: cannot read", args.transcripts.display(), i + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let call: InCall = match serde_json::from_str(&line) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("{}:{}: {e}; skipped", args.transcripts.display(), i + 1);
                failed += 1;
                continue;
            }
        };
        let t = stored(&call);
        let meta = CallMeta {
            call_id: call.call_id.clone(),
            audio: PathBuf::new(),
            agent_id: call.agent_id.clone(),
            started_at: call.started_at,
            direction: call.direction,
            agent_channel: call.agent_channel.unwrap_or_default(),
            extra: call
                .extra
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str().map_or_else(|| v.to_string(), String::from),
                    )
                })
                .collect(),
        };
        let result = pipeline.score(&meta, &t);
        body.push_str(&serde_json::to_string(&result)?);
        body.push('\n');
    }
    let path = args.out.join("calls.jsonl");
    crate::report::write_atomic(&path, body.as_bytes())
        .with_context(|| format!("{}: cannot write", path.display()))?;
    eprintln!("scored calls written to {}", path.display());
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
