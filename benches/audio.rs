//! Throughput of the audio stage: decode + resample to 16 kHz + voice activity, in seconds of
//! audio per second on one core (criterion's "elem/s" with one element per second of audio).
//!
//! Inputs: a 60 s stereo call as 8 kHz μ-law WAV (the common recorder format), the same call
//! as 48 kHz 16-bit WAV, and 37 s of real mono 16 kHz speech from `fixtures/speech` (the clips
//! joined without pauses).
//! Quick run: `cargo bench --bench audio -- --warm-up-time 1 --measurement-time 3`.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/speech/mod.rs"]
mod speech;

use std::path::Path;

use callqa::audio::{self, VadConfig};
use callqa::AgentChannel;
use common::*;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

/// Turns every 4 s: 2.5 s of speech-like sound on one side, then on the other.
fn call(rate: u32) -> Vec<Vec<f32>> {
    let turns: Vec<(u64, u64)> = (0..15).map(|i| (i * 4000, i * 4000 + 2500)).collect();
    let (agent, customer): (Vec<_>, Vec<_>) =
        turns.iter().enumerate().partition(|(i, _)| i % 2 == 0);
    let side = |t: Vec<(usize, &(u64, u64))>| t.into_iter().map(|(_, &r)| r).collect::<Vec<_>>();
    vec![
        scene(&side(agent), 60_000, rate, -20.0, -50.0),
        scene(&side(customer), 60_000, rate, -20.0, -50.0),
    ]
}

fn bench_file(c: &mut Criterion, name: &str, path: &Path, agent: AgentChannel) {
    let cfg = VadConfig::default();
    let probe = audio::probe(path, agent, &cfg, 5000).expect("bench input decodes");
    assert!(
        probe.tracks.iter().any(|t| t.speech_ms > 0),
        "{name}: speech found"
    );
    let mut group = c.benchmark_group("audio/decode+resample+vad");
    group.sample_size(10);
    group.throughput(Throughput::Elements(probe.source.duration_ms / 1000));
    group.bench_function(name, |b| {
        b.iter(|| {
            let a = audio::decode(path, agent).expect("decode");
            audio::activity(&a, &cfg)
        })
    });
    group.finish();
}

fn audio_stage(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let ulaw = dir.path().join("call_8k_ulaw.wav");
    write_g711_wav(&ulaw, 8_000, &call(8_000), Law::Mu);
    let pcm48 = dir.path().join("call_48k.wav");
    write_pcm_wav(&pcm48, 48_000, &call(48_000), Pcm::Int(16));
    bench_file(c, "stereo 8 kHz mu-law 60 s", &ulaw, AgentChannel::Left);
    bench_file(c, "stereo 48 kHz pcm16 60 s", &pcm48, AgentChannel::Left);
    let real = dir.path().join("real_16k.wav");
    let (speech, _) = speech::continuous_speech(-25.0);
    write_pcm_wav(&real, 16_000, &[speech], Pcm::Int(16));
    bench_file(c, "real mono 16 kHz 37 s", &real, AgentChannel::Mono);
}

criterion_group!(benches, audio_stage);
criterion_main!(benches);
