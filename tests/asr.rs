//! Real Whisper on real Mandarin: the prepared model must transcribe and place words.
//!
//! The model comes from `callqa model prepare` (scripts/test runs it); a missing model fails
//! these tests with instructions instead of skipping them.

use std::path::PathBuf;
use std::process::Command;

fn model() -> PathBuf {
    let path = std::env::var_os("CALLQA_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/ggml-base-q8_0.bin")
        });
    assert!(
        path.exists(),
        "{}: no Whisper model; run `callqa model prepare` (scripts/test does) or set CALLQA_MODEL",
        path.display()
    );
    path
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

fn transcribe(args: &[&str], files: &[PathBuf]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_callqa"))
        .arg("transcribe")
        .arg("--json")
        .arg("--model")
        .arg(model())
        .args(args)
        .args(files)
        .output()
        .expect("run callqa");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = String::from_utf8(out.stdout).expect("utf-8");
    serde_json::from_str(line.lines().next().expect("one line per file")).expect("json")
}

fn text_of(v: &serde_json::Value) -> String {
    v["transcripts"]
        .as_array()
        .expect("transcripts")
        .iter()
        .flat_map(|t| t["segments"].as_array().cloned().unwrap_or_default())
        .map(|s| s["text"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn transcribes_real_mandarin_in_simplified_chinese() {
    // Reference: 大家好我是阿星，今天要分享番石榴。
    let v = transcribe(
        &["--agent-channel", "mono"],
        &[fixture("asr/5_3039_20231015000.wav")],
    );
    let text = text_of(&v);
    for word in ["大家好", "我是", "今天", "分享"] {
        assert!(text.contains(word), "{word} missing from {text}");
    }
    assert_eq!(v["transcripts"][0]["role"], "unknown");
}

#[test]
fn segment_and_token_times_lie_inside_the_speech() {
    // Reference: 尤其是在叶子背面可以看到一些白白的痕迹。 (4.5 s)
    let v = transcribe(
        &["--agent-channel", "mono"],
        &[fixture("asr/5_3039_20231015008.wav")],
    );
    let text = text_of(&v);
    assert!(text.contains("叶子"), "{text}");
    let segments = v["transcripts"][0]["segments"]
        .as_array()
        .expect("segments");
    for s in segments {
        let (start, end) = (
            s["start_ms"].as_u64().expect("start"),
            s["end_ms"].as_u64().expect("end"),
        );
        assert!(
            start <= end && end <= 4_600,
            "segment {start}..{end} outside the clip"
        );
        for t in s["tokens"].as_array().expect("tokens") {
            let ts = t["start_ms"].as_u64().expect("token start");
            assert!(
                ts >= start.saturating_sub(100) && ts <= end + 100,
                "token at {ts}"
            );
        }
    }
}

#[test]
fn silence_and_noise_produce_no_text() {
    // Whisper invents subtitles on silence and noise; VAD gating must keep them out.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("quiet.wav");
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 8_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&path, spec).expect("wav");
    let mut seed = 0x2545_f491_u32;
    for i in 0..8_000 * 20 {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        // Left: −50 dBFS hiss. Right: digital silence for 10 s, then a steady hum.
        let hiss = ((seed as f32 / u32::MAX as f32) - 0.5) * 2.0 * 0.003 * 32_767.0;
        let hum = if i > 80_000 {
            (i as f32 * 2.0 * std::f32::consts::PI * 50.0 / 8_000.0).sin() * 0.002 * 32_767.0
        } else {
            0.0
        };
        w.write_sample(hiss as i16).expect("left");
        w.write_sample(hum as i16).expect("right");
    }
    w.finalize().expect("finalize");
    let v = transcribe(&[], &[path]);
    assert_eq!(text_of(&v), "", "text invented from noise: {v}");
}
