//! Real text for benchmarks and measuring examples, read one way everywhere: folders of JSON
//! lines as the cs-text-dev set is written (`dialogue_id, role, text`), or the scripts of the
//! fixture calls the repository ships. Included by path (`#[path]`) from benches and examples,
//! which cannot share a module otherwise.

#![allow(dead_code)] // each includer uses its own part

use std::path::{Path, PathBuf};

use callqa::asr::{Segment, Transcript};
use callqa::store::StoredTranscript;
use callqa::{CallMetrics, Role};

/// Every parsed line of every `*.jsonl` in `dir`, files in name order; unparsable lines skipped.
pub fn jsonl_rows(dir: &Path) -> Vec<serde_json::Value> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}; expected a folder of .jsonl files", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    files
        .iter()
        .flat_map(|path| {
            let text =
                std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            text.lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .collect::<Vec<_>>()
        })
        .collect()
}

fn role(v: &serde_json::Value) -> Role {
    if v["role"] == "agent" {
        Role::Agent
    } else {
        Role::Customer
    }
}

/// Dialogues of `dir` (consecutive rows with one `dialogue_id`), as `(role, text)` turns.
pub fn dialogues(dir: &Path) -> Vec<Vec<(Role, String)>> {
    let mut out: Vec<Vec<(Role, String)>> = Vec::new();
    let mut last_id = String::new();
    for v in jsonl_rows(dir) {
        let id = v["dialogue_id"].as_str().unwrap_or_default().to_string();
        if id != last_id || out.is_empty() {
            out.push(Vec::new());
            last_id = id;
        }
        let said = v["text"].as_str().unwrap_or_default().to_string();
        if let Some(d) = out.last_mut() {
            d.push((role(&v), said));
        }
    }
    out
}

/// The fixture calls' scripts (`fixtures/*.truth.json`), one dialogue each.
pub fn fixture_dialogues(repo: &Path) -> Vec<Vec<(Role, String)>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(repo.join("fixtures"))
        .expect("fixtures")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".truth.json"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let truth: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(p).expect("truth")).expect("json");
            truth["turns"]
                .as_array()
                .expect("turns")
                .iter()
                .map(|t| (role(t), t["text"].as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .collect()
}

/// `CALLQA_BENCH_DATA`'s dialogues, else the fixture scripts.
pub fn bench_dialogues() -> Vec<Vec<(Role, String)>> {
    match std::env::var_os("CALLQA_BENCH_DATA") {
        Some(dir) => dialogues(Path::new(&dir)),
        None => fixture_dialogues(Path::new(env!("CARGO_MANIFEST_DIR"))),
    }
}

/// Calls of at least 20 utterances (a phone call's size), made by joining consecutive
/// dialogues, round and round: the same `n` calls on every run.
pub fn calls(
    dialogues: &[Vec<(Role, String)>],
    n: usize,
) -> impl Iterator<Item = Vec<(Role, String)>> + '_ {
    let mut d = 0;
    (0..n).map(move |_| {
        let mut turns = Vec::new();
        while turns.len() < 20 {
            turns.extend(dialogues[d % dialogues.len()].iter().cloned());
            d += 1;
        }
        turns
    })
}

/// One call's transcripts and timing, at a speaking rate of 250 ms per character with 600 ms
/// between turns.
pub fn stored_call(utterances: &[(Role, String)]) -> StoredTranscript {
    let mut agent = Vec::new();
    let mut customer = Vec::new();
    let mut t = 500u64;
    let mut agent_ms = 0;
    let mut customer_ms = 0;
    for (role, text) in utterances {
        let len = 250 * text.chars().count().max(1) as u64;
        let seg = Segment {
            start_ms: t,
            end_ms: t + len,
            text: text.clone(),
            tokens: Vec::new(),
            avg_logprob: -0.3,
            no_speech_prob: 0.01,
        };
        if *role == Role::Agent {
            agent.push(seg);
            agent_ms += len;
        } else {
            customer.push(seg);
            customer_ms += len;
        }
        t += len + 600;
    }
    StoredTranscript {
        transcripts: vec![
            Transcript {
                role: Role::Agent,
                segments: agent,
            },
            Transcript {
                role: Role::Customer,
                segments: customer,
            },
        ],
        metrics: CallMetrics {
            duration_ms: t,
            agent_talk_ms: agent_ms,
            customer_talk_ms: customer_ms,
            first_agent_speech_ms: Some(500),
            longest_silence_ms: 600,
            ..CallMetrics::default()
        },
    }
}

/// Metadata of call `i` of a generated month: 300 agents, one call a minute from 1 October,
/// every fifth outbound.
pub fn meta(i: usize, audio: PathBuf) -> callqa::CallMeta {
    let start = chrono::DateTime::parse_from_rfc3339("2026-10-01T08:00:00+08:00").expect("time");
    callqa::CallMeta {
        call_id: format!("call-{i:06}"),
        audio,
        agent_id: format!("A{:03}", i % 300),
        started_at: start + chrono::Duration::minutes((i % 40_000) as i64),
        direction: if i.is_multiple_of(5) {
            callqa::Direction::Outbound
        } else {
            callqa::Direction::Inbound
        },
        agent_channel: callqa::AgentChannel::Left,
        extra: Default::default(),
    }
}
