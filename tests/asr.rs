//! Real Whisper on real Mandarin: the prepared model must transcribe and place words.
//!
//! The model comes from `callqa model prepare` (scripts/test runs it); a missing model fails
//! these tests with instructions instead of skipping them.

mod common;

use common::model;

use std::path::PathBuf;
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// whisper.cpp's threads stall each other when two transcriptions share the cores: one at a time.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn transcribe(args: &[&str], files: &[PathBuf]) -> serde_json::Value {
    let _turn = one_at_a_time();
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
    let (errors, chars) = callqa::asr::char_errors("大家好我是阿星，今天要分享番石榴。", &text);
    assert!(
        errors * 100 < chars * 35,
        "CER {errors}/{chars} over 35 %: {text}"
    );
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

/// 16 kHz mono test signals, `secs` long, from a per-sample generator.
fn signal(secs: usize, f: impl Fn(usize, f32) -> f32) -> Vec<f32> {
    let mut seed = 0x9e37_79b9_u32;
    (0..16_000 * secs)
        .map(|i| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            f(i, (seed as f32 / u32::MAX as f32) * 2.0 - 1.0)
        })
        .collect()
}

fn sine(i: usize, hz: f32) -> f32 {
    (i as f32 * 2.0 * std::f32::consts::PI * hz / 16_000.0).sin()
}

#[test]
fn non_speech_sent_whole_to_whisper_yields_no_text() {
    use callqa::asr::{AsrConfig, Model, Transcriber};
    use callqa::audio::{SpeechRegion, Track};

    // Hold music: a four-note melody of 400 ms notes with a soft octave, over and over.
    let melody = [523.25_f32, 659.25, 783.99, 659.25];
    let cases = [
        ("digital silence", signal(10, |_, _| 0.0)),
        ("hiss at -30 dBFS", signal(10, |_, n| n * 0.03)),
        (
            "hold music",
            signal(20, |i, _| {
                let hz = melody[(i / 6_400) % melody.len()];
                0.2 * sine(i, hz) + 0.05 * sine(i, 2.0 * hz)
            }),
        ),
        (
            "line noise: 50 Hz hum, hiss and clicks",
            signal(15, |i, n| {
                let click = if i % 7_919 < 16 { 0.3 } else { 0.0 };
                0.05 * sine(i, 50.0) + 0.02 * sine(i, 150.0) + 0.01 * n + click
            }),
        ),
    ];
    let _turn = one_at_a_time();
    let model = std::sync::Arc::new(Model::load(&model()).expect("model loads"));
    let mut transcriber = Transcriber::new(&model, &AsrConfig::default()).expect("decoding state");
    for (name, samples) in cases {
        let end_ms = samples.len() as u64 / 16;
        let track = Track {
            role: callqa::Role::Unknown,
            samples,
        };
        // The worst case: one region over the whole signal, as if VAD had taken it for speech.
        let t = transcriber
            .transcribe(
                &track,
                &[SpeechRegion {
                    start_ms: 0,
                    end_ms,
                }],
            )
            .expect("transcribe");
        let text: String = t.segments.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(
            text, "",
            "{name}: Whisper's invention came through: {:?}",
            t.segments
        );
    }
}
