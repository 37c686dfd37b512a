//! `callqa score`: score calls whose transcripts come from elsewhere (another recogniser, a
//! hand-made script, a re-score after a lexicon or rubric change), with no audio.
//!
//! Input is JSON lines, one call each: `call_id, agent_id, started_at, direction`, optional
//! `duration_ms` and `agent_channel`, and `segments: [{role, start_ms, end_ms, text}]`; any
//! other key is carried to the result's `extra`. Output is `OUT/calls.jsonl`, the format
//! `callqa run` writes, written to a temporary file and renamed so a reader never sees half.
//! Timing metrics come from the segment times: a transcript's segments are where its speaker
//! talks, which is what the audio stage's voice activity would have measured, only coarser.
//! A bad line is reported as `file:line: reason` on stderr and skipped; the batch goes on and
//! the exit code is 1.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use serde::Deserialize;

use super::ConfigArgs;
use crate::audio::{RoleActivity, SpeechRegion};
use crate::batch::Pipeline;
use crate::store::StoredTranscript;
use crate::{AgentChannel, CallMeta, CallResult, Direction, Role, Segment, Transcript};

/// Arguments of `callqa score`.
#[derive(Debug, clap::Args)]
pub struct ScoreArgs {
    /// Calls as JSON lines (`call_id, agent_id, started_at, direction, segments`).
    ///
    /// Example line: {"call_id":"c1","agent_id":"a7","started_at":"2026-10-01T09:30:00+08:00",
    /// "direction":"inbound","segments":[{"role":"agent","start_ms":800,"end_ms":3200,
    /// "text":"您好，客服中心，请问有什么可以帮您？"}]}
    #[arg(long)]
    pub transcripts: PathBuf,
    /// Output folder; `calls.jsonl` is written (replaced) there.
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    #[command(flatten)]
    pub config: ConfigArgs,
}

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

pub fn run(args: ScoreArgs) -> anyhow::Result<ExitCode> {
    // The same pipeline `callqa run` scores with, so both write the same results.
    let pipeline = super::run::pipeline(&args.config, PathBuf::new(), Default::default())?;
    let input = std::fs::File::open(&args.transcripts).with_context(|| {
        format!(
            "{}: cannot open; pass --transcripts FILE.jsonl",
            args.transcripts.display()
        )
    })?;
    std::fs::create_dir_all(&args.out).with_context(|| {
        format!(
            "{}: cannot create the output folder; pass a writable --out DIR",
            args.out.display()
        )
    })?;
    let target = args.out.join("calls.jsonl");
    let temp = args.out.join(".calls.jsonl.tmp");
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(&temp)
            .with_context(|| format!("{}: cannot write", temp.display()))?,
    );
    let name = args.transcripts.display().to_string();
    let (mut ok, mut failed) = (0usize, 0usize);
    for (i, line) in std::io::BufReader::new(input).lines().enumerate() {
        let line = line.with_context(|| format!("{name}:{}: cannot read", i + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        match parse_call(&line) {
            Ok((meta, transcripts, duration_ms)) => {
                let result = score_one(&meta, transcripts, duration_ms, &pipeline);
                if result.error.is_some() {
                    failed += 1;
                    eprintln!(
                        "{}: {name}:{}: {}",
                        result.call_id,
                        i + 1,
                        result.error.as_deref().unwrap_or_default()
                    );
                } else {
                    ok += 1;
                }
                serde_json::to_writer(&mut out, &result)
                    .with_context(|| format!("{}: cannot write", temp.display()))?;
                writeln!(out).with_context(|| format!("{}: cannot write", temp.display()))?;
            }
            Err(reason) => {
                failed += 1;
                eprintln!("{name}:{}: {reason}; fix the line and rerun", i + 1);
            }
        }
    }
    out.flush()
        .with_context(|| format!("{}: cannot write", temp.display()))?;
    drop(out);
    std::fs::rename(&temp, &target).with_context(|| {
        format!(
            "{}: cannot replace with {}",
            target.display(),
            temp.display()
        )
    })?;
    eprintln!(
        "{} calls: {ok} ok, {failed} failed (see {})",
        ok + failed,
        target.display()
    );
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Reads one input line into the call, its transcripts (one per role) and its length.
fn parse_call(line: &str) -> Result<(CallMeta, Vec<Transcript>, Option<u64>), String> {
    let call: InputCall = serde_json::from_str(line).map_err(|e| format!("not a call ({e})"))?;
    if let Some(s) = call.segments.iter().find(|s| s.end_ms < s.start_ms) {
        return Err(format!(
            "call {}: segment {:?} ends ({} ms) before it starts ({} ms)",
            call.call_id, s.text, s.end_ms, s.start_ms
        ));
    }
    let transcripts = Transcript::by_role(call.segments.iter().map(|s| {
        (
            s.role,
            Segment::text_only(s.start_ms, s.end_ms, s.text.clone()),
        )
    }));
    let mono = transcripts.iter().all(|t| t.role == Role::Unknown) && !transcripts.is_empty();
    let agent_channel = call.agent_channel.unwrap_or(if mono {
        AgentChannel::Mono
    } else {
        AgentChannel::Left
    });
    let extra = call
        .extra
        .into_iter()
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => (k, s),
            other => (k, other.to_string()),
        })
        .collect();
    let meta = CallMeta {
        call_id: call.call_id,
        audio: PathBuf::new(),
        agent_id: call.agent_id,
        started_at: call.started_at,
        direction: call.direction,
        agent_channel,
        extra,
    };
    Ok((meta, transcripts, call.duration_ms))
}

/// Scans and scores one call from its text, with metrics from its segment times.
fn score_one(
    meta: &CallMeta,
    transcripts: Vec<Transcript>,
    duration_ms: Option<u64>,
    pipeline: &Pipeline,
) -> CallResult {
    let last_end = transcripts
        .iter()
        .flat_map(|t| t.segments.iter().map(|s| s.end_ms))
        .max()
        .unwrap_or(0);
    let duration_ms = duration_ms.unwrap_or(last_end).max(last_end);
    let activity: Vec<RoleActivity> = transcripts
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
        .collect();
    let metrics = crate::audio::metrics(&activity, duration_ms, pipeline.dead_air_ms);
    pipeline.score(
        meta,
        &StoredTranscript {
            transcripts,
            metrics,
        },
    )
}
