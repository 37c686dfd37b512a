//! Measures transcription: character error rate on ../shared/data/speech-dev and real-time
//! factor, VAD-gated against whole-clip decoding.
//!
//! `cargo run --release --example asr_eval -- [MODEL] [CLIPS] [THREADS]`
//! (defaults: models/ggml-base-q8_0.bin, 40 hemingwaylee clips, 1 thread). CER is computed after
//! Traditional → Simplified and punctuation removal on both sides, as the README reports it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use callqa::asr::{AsrConfig, Model, Transcriber};
use callqa::audio::{self, SpeechRegion, VadConfig};
use callqa::text::normalized;
use callqa::AgentChannel;

fn edit_distance(a: &[char], b: &[char]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn transcribe(t: &mut Transcriber, path: &Path, gated: bool) -> (String, u64, f64) {
    let audio = audio::decode(path, AgentChannel::Mono).unwrap_or_else(|e| panic!("{e}"));
    let regions = if gated {
        audio::activity(&audio, &VadConfig::default())
            .remove(0)
            .regions
    } else {
        vec![SpeechRegion {
            start_ms: 0,
            end_ms: audio.duration_ms,
        }]
    };
    let t0 = Instant::now();
    let tr = t
        .transcribe(&audio.tracks[0], &regions)
        .unwrap_or_else(|e| panic!("{e}"));
    let secs = t0.elapsed().as_secs_f64();
    (
        tr.segments.iter().map(|s| s.text.as_str()).collect(),
        audio.duration_ms,
        secs,
    )
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let model_path = PathBuf::from(
        args.get(1)
            .map_or("models/ggml-base-q8_0.bin", String::as_str),
    );
    let clips: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(40);
    let threads: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(1);
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/speech-dev");
    let manifest = std::fs::read_to_string(data.join("manifest.tsv")).expect("speech-dev manifest");
    let t0 = Instant::now();
    let model = Arc::new(Model::load(&model_path).unwrap_or_else(|e| panic!("{e}")));
    eprintln!(
        "model {} loaded in {:.2} s",
        model_path.display(),
        t0.elapsed().as_secs_f64()
    );
    let config = AsrConfig {
        threads,
        ..AsrConfig::default()
    };
    let mut t = Transcriber::new(&model, &config).expect("state");
    for (set, prefix, limit) in [
        ("hemingwaylee", "hemingwaylee_5_3039/", clips),
        ("funasr", "funasr/", usize::MAX),
    ] {
        let (mut errors, mut chars, mut audio_ms, mut secs, mut n) = (0, 0, 0, 0.0, 0);
        for line in manifest.lines().skip(1) {
            let f: Vec<&str> = line.split('\t').collect();
            if f.len() < 6 || !f[0].starts_with(prefix) || f[5].is_empty() || n >= limit {
                continue;
            }
            let (hyp, ms, s) = transcribe(&mut t, &data.join(f[0]), true);
            let (h, r): (Vec<char>, Vec<char>) = (
                normalized(&hyp).chars().collect(),
                normalized(f[5]).chars().collect(),
            );
            errors += edit_distance(&h, &r);
            chars += r.len();
            audio_ms += ms;
            secs += s;
            n += 1;
        }
        println!(
            "{set}: {n} clips, {chars} reference chars, CER {:.1} %, RTF {:.3} (threads {threads}, VAD-gated)",
            100.0 * errors as f64 / chars.max(1) as f64,
            secs * 1000.0 / audio_ms.max(1) as f64
        );
    }
    let long = data.join("funasr/vad_example_70s.wav");
    for gated in [false, true] {
        let (_, ms, s) = transcribe(&mut t, &long, gated);
        println!(
            "vad_example_70s.wav: RTF {:.3} ({}, threads {threads})",
            s * 1000.0 / ms as f64,
            if gated { "VAD-gated" } else { "whole clip" }
        );
    }
}
