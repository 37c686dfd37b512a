//! Real speech and real-world non-speech for the voice detector and Whisper tests, all from
//! the repository: the twelve MIT clips listed in `fixtures/speech/references.tsv`, joined
//! into continuous speech at a chosen level, and generated hiss, hold music, hum and line
//! noise (deterministic, so every run measures the same signals).
// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use callqa::audio;
use callqa::AgentChannel;

/// Samples per second of every signal here.
pub const RATE: usize = 16_000;

/// The clips and their reference transcripts, in the order of `references.tsv`.
pub fn clips() -> Vec<(PathBuf, String)> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/speech");
    let text = std::fs::read_to_string(folder.join("references.tsv"))
        .expect("fixtures/speech/references.tsv");
    // Paths are relative to the list's folder (two clips live in fixtures/asr).
    text.lines()
        .skip(1)
        .filter_map(|l| l.split_once('\t'))
        .map(|(file, reference)| (folder.join(file), reference.to_string()))
        .collect()
}

/// One clip decoded to 16 kHz mono.
pub fn decode_clip(path: &Path) -> Vec<f32> {
    let audio = audio::decode(path, AgentChannel::Mono)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    audio.tracks[0].f32(0, usize::MAX).collect()
}

/// Energy of a stretch of samples in dBFS (RMS).
pub fn dbfs(x: &[f32]) -> f32 {
    let power =
        x.iter().map(|v| f64::from(*v) * f64::from(*v)).sum::<f64>() / x.len().max(1) as f64;
    (10.0 * (power + 1e-12).log10()) as f32
}

/// 10 ms frame energies in dBFS.
pub fn frame_dbfs(x: &[f32]) -> Vec<f32> {
    x.chunks(RATE / 100).map(dbfs).collect()
}

/// The clip cut to its speech: from the first to the last 10 ms frame within 30 dB of its
/// loudest.
pub fn trimmed(x: &[f32]) -> &[f32] {
    let e = frame_dbfs(x);
    let peak = e.iter().copied().fold(f32::MIN, f32::max);
    let first = e.iter().position(|&v| v > peak - 30.0).unwrap_or(0);
    let last = e.iter().rposition(|&v| v > peak - 30.0).unwrap_or(0);
    let frame = RATE / 100;
    &x[first * frame..((last + 1) * frame).min(x.len())]
}

/// `x` scaled to `level` dBFS RMS.
pub fn at_level(x: &[f32], level: f32) -> Vec<f32> {
    let gain = 10f32.powf((level - dbfs(x)) / 20.0);
    x.iter().map(|v| v * gain).collect()
}

/// Every clip cut to its speech and joined without pauses (37 s of one talker who never
/// stops), at `level` dBFS RMS, with the joined reference text.
pub fn continuous_speech(level: f32) -> (Vec<f32>, String) {
    continuous_speech_of(usize::MAX, level)
}

/// [`continuous_speech`] of the first `n` clips only.
pub fn continuous_speech_of(n: usize, level: f32) -> (Vec<f32>, String) {
    let mut joined = Vec::new();
    let mut text = String::new();
    for (path, reference) in clips().into_iter().take(n) {
        joined.extend_from_slice(trimmed(&decode_clip(&path)));
        text.push_str(&reference);
    }
    (at_level(&joined, level), text)
}

/// Deterministic uniform noise in −1..1 (xorshift32), one value per sample.
fn noise_source(seed: u32) -> impl FnMut() -> f32 {
    let mut s = seed.max(1);
    move || {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        (s as f32 / u32::MAX as f32) * 2.0 - 1.0
    }
}

/// 16 kHz test signal, `secs` long, from a per-sample generator given the sample index and
/// a uniform noise value.
pub fn signal(secs: usize, f: impl Fn(usize, f32) -> f32) -> Vec<f32> {
    let mut n = noise_source(0x9e37_79b9);
    (0..RATE * secs).map(|i| f(i, n())).collect()
}

pub fn sine(i: usize, hz: f32) -> f32 {
    (i as f32 * 2.0 * std::f32::consts::PI * hz / RATE as f32).sin()
}

/// What a call channel holds when nobody speaks, and what must never reach Whisper: (name,
/// 16 kHz samples).
pub fn non_speech() -> Vec<(&'static str, Vec<f32>)> {
    // Hold music: a four-note melody of 400 ms notes with a soft octave, over and over.
    let melody = [523.25_f32, 659.25, 783.99, 659.25];
    vec![
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
    ]
}

/// `a + b` sample by sample (`b` repeated or cut to `a`'s length).
pub fn mixed(a: &[f32], b: &[f32]) -> Vec<f32> {
    a.iter().zip(b.iter().cycle()).map(|(x, y)| x + y).collect()
}
