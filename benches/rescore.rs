//! Re-scoring throughput: N stored calls (default 100 000, `CALLQA_BENCH_CALLS` to change)
//! built from real customer-service dialogues, re-scored after a rules change and exported
//! (`calls.jsonl` + rollups), as `callqa rescore` does. The dialogues are the folder named by
//! `CALLQA_BENCH_DATA` (JSON lines with `dialogue_id, role, text`, as the cs-text-dev set
//! is written), else the scripts of the fixture calls the repository ships.
//!
//! A plain timed run (harness = false), not criterion: one pass over 100 000 calls takes tens
//! of seconds, and the number that matters is calls per second of that pass. Each call joins
//! consecutive dialogues until it has at least 20 utterances (a phone call's size), with
//! utterance times from a speaking rate of 250 ms per character.
//!
//! Run: `cargo bench --bench rescore` (add `--profile dev` to skip the release build; then
//! `--config 'profile.dev.package.callqa.opt-level=3'` keeps callqa itself optimised).
//!
//! Measured 2026-11-23 on the shared 2-core build machine at load average 10–12 (so wall times
//! overstate an idle machine's several times over), 10 000 calls of 22.1 utterances:
//! callqa at opt-level 3: re-score 23.3 s (429 calls/s), with calls.jsonl + rollups 26.3 s
//! (380 calls/s); callqa unoptimised (plain dev profile): 110 calls/s. `batch::rescore` scores
//! on one thread; the profile is text normalisation, zhconv, the detectors and JSON.

use std::path::{Path, PathBuf};
use std::time::Instant;

use callqa::asr::{Segment, Transcript};
use callqa::batch::{ConfigPaths, Pipeline, RunOptions};
use callqa::store::{Keys, Store, StoredTranscript};
use callqa::{CallMeta, CallMetrics, Role};

/// The fixture calls' scripts (`fixtures/*.truth.json`), one dialogue each.
fn fixture_dialogues(repo: &Path) -> Vec<Vec<(Role, String)>> {
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
                .map(|t| {
                    let role = if t["role"] == "agent" {
                        Role::Agent
                    } else {
                        Role::Customer
                    };
                    (role, t["text"].as_str().unwrap_or_default().to_string())
                })
                .collect()
        })
        .collect()
}

fn dialogues(data: &Path) -> Vec<Vec<(Role, String)>> {
    let mut out: Vec<Vec<(Role, String)>> = Vec::new();
    let mut last_id = String::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(data)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e}; CALLQA_BENCH_DATA names a folder of .jsonl",
                data.display()
            )
        })
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    for path in files {
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for line in text.lines() {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            let id = v["dialogue_id"].as_str().unwrap_or_default().to_string();
            let role = if v["role"] == "agent" {
                Role::Agent
            } else {
                Role::Customer
            };
            let said = v["text"].as_str().unwrap_or_default().to_string();
            if id != last_id {
                out.push(Vec::new());
                last_id = id;
            }
            if let Some(d) = out.last_mut() {
                d.push((role, said));
            }
        }
    }
    out
}

fn call(utterances: &[(Role, String)]) -> StoredTranscript {
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

fn main() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let n: usize = std::env::var("CALLQA_BENCH_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    // No model path: re-scoring must never need one.
    let config = ConfigPaths {
        lexicons: repo.join("lexicons"),
        rubrics: repo.join("rubrics"),
        calendar: repo.join("calendars"),
    };
    let pipeline = Pipeline::load(&config, PathBuf::new(), Default::default()).expect("rules load");
    let dialogues = match std::env::var_os("CALLQA_BENCH_DATA") {
        Some(dir) => dialogues(Path::new(&dir)),
        None => fixture_dialogues(&repo),
    };
    let out = tempfile::tempdir().expect("tempdir");

    let setup = Instant::now();
    let store = Store::open(out.path()).expect("store");
    let start = chrono::DateTime::parse_from_rfc3339("2026-10-01T08:00:00+08:00").expect("time");
    let mut d = 0;
    let mut utterances = 0usize;
    for i in 0..n {
        let mut turns = Vec::new();
        while turns.len() < 20 {
            turns.extend(dialogues[d % dialogues.len()].iter().cloned());
            d += 1;
        }
        utterances += turns.len();
        let stored = call(&turns);
        let meta = CallMeta {
            call_id: format!("call-{i:06}"),
            audio: PathBuf::from(format!("recordings/call-{i:06}.wav")),
            agent_id: format!("A{:03}", i % 300),
            started_at: start + chrono::Duration::minutes((i % 40_000) as i64),
            direction: if i % 5 == 0 {
                callqa::Direction::Outbound
            } else {
                callqa::Direction::Inbound
            },
            agent_channel: callqa::AgentChannel::Left,
            extra: Default::default(),
        };
        let key = format!("transcript-{i}");
        store.put_transcript(&key, &stored).expect("put transcript");
        let stale = callqa::batch::error_result(&meta, "not scored yet");
        let keys = Keys {
            input: "stale".into(),
            transcript: Some(key),
            identity: None,
        };
        store.put_result(&meta, &keys, &stale).expect("put call");
    }
    drop(store);
    eprintln!(
        "setup: {n} calls, {:.1} utterances each, stored in {:.1} s",
        utterances as f64 / n as f64,
        setup.elapsed().as_secs_f64()
    );

    let timed = Instant::now();
    let summary =
        callqa::batch::rescore(&pipeline, out.path(), &RunOptions::default()).expect("rescore");
    let rescore_s = timed.elapsed().as_secs_f64();
    assert_eq!(summary.scored, n as u64, "every call must be re-scored");
    callqa::batch::finish(out.path(), &pipeline.rubrics, false, false)
        .expect("calls.jsonl and rollups");
    let total_s = timed.elapsed().as_secs_f64();
    println!(
        "rescore {n} calls: {rescore_s:.1} s ({:.0} calls/s); with calls.jsonl + rollups: {total_s:.1} s ({:.0} calls/s)",
        n as f64 / rescore_s,
        n as f64 / total_s
    );
}
