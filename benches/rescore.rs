//! Re-scoring throughput: N stored calls (default 100 000, `CALLQA_BENCH_CALLS` to change)
//! built from the real customer-service dialogues in `../shared/data/cs-text-dev`, re-scored
//! after a rules change and exported (`calls.jsonl` + rollups), as `callqa rescore` does.
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
use callqa::batch::Pipeline;
use callqa::report::rollup::{Format, Lang};
use callqa::store::{Store, StoredTranscript};
use callqa::{CallMeta, CallMetrics, Role};

fn dialogues(data: &Path) -> Vec<Vec<(Role, String)>> {
    let mut out: Vec<Vec<(Role, String)>> = Vec::new();
    let mut last_id = String::new();
    for name in [
        "mobilecs_phone_transcripts.jsonl",
        "stc3_train_helpdesk.jsonl",
    ] {
        let text = std::fs::read_to_string(data.join(name)).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; the bench reads ../shared/data",
                data.join(name).display()
            )
        });
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
    let pipeline = Pipeline::load(
        &repo.join("lexicons"),
        &repo.join("rubrics"),
        &repo.join("calendars"),
        PathBuf::new(),
        Default::default(),
    )
    .expect("rules load");
    let dialogues = dialogues(&repo.join("../shared/data/cs-text-dev"));
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
        store
            .put_result(&meta, "stale", Some(&key), &stale)
            .expect("put call");
    }
    drop(store);
    eprintln!(
        "setup: {n} calls, {:.1} utterances each, stored in {:.1} s",
        utterances as f64 / n as f64,
        setup.elapsed().as_secs_f64()
    );

    let timed = Instant::now();
    let summary = callqa::batch::rescore(&pipeline, out.path()).expect("rescore");
    let rescore_s = timed.elapsed().as_secs_f64();
    assert_eq!(summary.scored, n as u64, "every call must be re-scored");
    let results = callqa::batch::export(out.path()).expect("calls.jsonl");
    assert_eq!(results.len(), n);
    let mut df = callqa::report::rollup::rollup(&results, &pipeline.rubrics, None).expect("rollup");
    callqa::report::rollup::write(
        &out.path().join("rollup"),
        &mut df,
        &[Format::Csv, Format::Parquet, Format::Xlsx],
        Lang::Zh,
    )
    .expect("rollup files");
    let total_s = timed.elapsed().as_secs_f64();
    println!(
        "rescore {n} calls: {rescore_s:.1} s ({:.0} calls/s); with calls.jsonl + rollups: {total_s:.1} s ({:.0} calls/s)",
        n as f64 / rescore_s,
        n as f64 / total_s
    );
}
