//! `callqa probe` on every committed sample call in `fixtures/` (WAV PCM, μ-law, A-law, FLAC
//! 48 kHz, Ogg Vorbis, M4A/AAC, MP3, mono) against its `*.truth.json`: duration within 1 %,
//! channel count, rate, first agent speech, and per-role speech frames against the placed turns.

mod common;

use std::path::{Path, PathBuf};

use callqa::SpeechRegion;
use common::frame_accuracy;
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn truths() -> Vec<Value> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .expect("fixtures/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".truth.json"))
        .collect();
    names.sort();
    names
        .iter()
        .map(|p| {
            serde_json::from_str(&std::fs::read_to_string(p).expect("read truth"))
                .expect("truth json")
        })
        .collect()
}

fn probe(file: &Path, agent_channel: &str) -> Value {
    let out = common::stdout_of(
        common::callqa_command()
            .args(["probe", "--json", "--agent-channel", agent_channel])
            .arg(file),
    );
    serde_json::from_str(&out).expect("one JSON object")
}

fn turns(truth: &Value, role: Option<&str>) -> Vec<(u64, u64)> {
    truth["turns"]
        .as_array()
        .expect("turns")
        .iter()
        .filter(|t| role.is_none_or(|r| t["role"] == r))
        .map(|t| {
            (
                t["start_ms"].as_u64().expect("start_ms"),
                t["end_ms"].as_u64().expect("end_ms"),
            )
        })
        .collect()
}

fn regions(report: &Value, role: &str) -> Vec<SpeechRegion> {
    let act = report["activity"].as_array().expect("activity");
    let track = act
        .iter()
        .find(|a| a["role"] == role)
        .unwrap_or_else(|| panic!("no {role} track"));
    serde_json::from_value(track["regions"].clone()).expect("regions")
}

#[test]
fn every_fixture_format_gives_duration_channels_and_speech_timing() {
    let truths = truths();
    assert!(
        truths.len() >= 8,
        "fixtures with truth files: {}",
        truths.len()
    );
    for truth in &truths {
        let name = truth["file"].as_str().expect("file");
        let agent_channel = truth["agent_channel"].as_str().expect("agent_channel");
        let r = probe(&fixtures().join(name), agent_channel);
        let duration = truth["duration_ms"].as_u64().expect("duration_ms");

        let got = r["duration_ms"].as_u64().expect("duration_ms");
        assert!(
            got.abs_diff(duration) * 100 <= duration,
            "{name}: {got} ms vs {duration} ms"
        );
        if let Some(rate) = truth.get("sample_rate").and_then(Value::as_u64) {
            assert_eq!(r["sample_rate"], rate, "{name}");
        }
        let mono = agent_channel == "mono";
        assert_eq!(r["channels"], if mono { 1 } else { 2 }, "{name}");

        let roles: &[(&str, Option<&str>)] = if mono {
            &[("unknown", None)]
        } else {
            &[("agent", Some("agent")), ("customer", Some("customer"))]
        };
        for &(track, role) in roles {
            let acc = frame_accuracy(&regions(&r, track), &turns(truth, role), duration);
            eprintln!("{name} {track}: frame accuracy {acc:.3}");
            assert!(acc >= 0.95, "{name} {track}: frame accuracy {acc:.3}");
        }
        if !mono {
            let first = turns(truth, Some("agent"))[0].0;
            let got = r["first_agent_speech_ms"]
                .as_u64()
                .expect("first agent speech");
            assert!(
                got.abs_diff(first) <= 150,
                "{name}: first agent speech {got} vs {first}"
            );
        }
    }
}
