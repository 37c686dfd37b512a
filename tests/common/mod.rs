//! Signals and recordings made in code for the audio tests: noise, speech-like bursts, real
//! clips from `fixtures/speech`, WAV writers for PCM (hound) and G.711 (by hand: hound cannot), and
//! the frame-accuracy measure.
// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use callqa::SpeechRegion;

mod env;
#[allow(unused_imports)]
pub use env::{callqa_command, ran, read_jsonl, stdout_of, Ran, TestEnv};

pub const RATE: u32 = 16_000;

/// Samples for `ms` milliseconds at `rate`.
pub fn samples(ms: u64, rate: u32) -> usize {
    (ms * u64::from(rate) / 1000) as usize
}

/// Deterministic white noise at `dbfs` RMS (xorshift, so the tests need no RNG crate).
pub fn noise(len: usize, dbfs: f32, seed: u64) -> Vec<f32> {
    let amp = 10f32.powf(dbfs / 20.0) * 3f32.sqrt();
    let mut x = seed.max(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            amp * ((x >> 11) as f32 / (1u64 << 53) as f32 * 2.0 - 1.0)
        })
        .collect()
}

/// A speech-like burst at `rate`: 150 Hz buzz with harmonics, modulated at a syllable rate.
pub fn burst(len: usize, rate: u32, dbfs: f32) -> Vec<f32> {
    let amp = 10f32.powf(dbfs / 20.0) * 2f32.sqrt();
    (0..len)
        .map(|i| {
            let t = i as f32 / rate as f32;
            let tone: f32 = (1..=5)
                .map(|h| (2.0 * std::f32::consts::PI * 150.0 * h as f32 * t).sin() / h as f32)
                .sum();
            let syllable = 0.6 + 0.4 * (2.0 * std::f32::consts::PI * 4.0 * t).sin();
            amp * 0.7 * tone * syllable
        })
        .collect()
}

/// Bursts at `truth` (ms) over a noise bed at `noise_dbfs`, at `rate`.
pub fn scene(
    truth: &[(u64, u64)],
    dur_ms: u64,
    rate: u32,
    burst_dbfs: f32,
    noise_dbfs: f32,
) -> Vec<f32> {
    let mut x = noise(samples(dur_ms, rate), noise_dbfs, 7);
    for &(s, e) in truth {
        let (s, e) = (samples(s, rate), samples(e, rate));
        for (d, b) in x[s..e].iter_mut().zip(burst(e - s, rate, burst_dbfs)) {
            *d += b;
        }
    }
    x
}

/// Frames (10 ms) on which `got` and `truth` agree, as a fraction of the call.
pub fn frame_accuracy(got: &[SpeechRegion], truth: &[(u64, u64)], dur_ms: u64) -> f64 {
    let n = dur_ms / 10;
    let agree = (0..n)
        .filter(|f| {
            let t = f * 10 + 5;
            let g = got.iter().any(|r| r.start_ms <= t && t < r.end_ms);
            g == truth.iter().any(|&(s, e)| s <= t && t < e)
        })
        .count();
    agree as f64 / n as f64
}

/// Sample formats hound writes.
#[derive(Clone, Copy, Debug)]
pub enum Pcm {
    Int(u16),
    Float,
}

/// Writes `channels` (equal length, −1..1) as a PCM WAV.
pub fn write_pcm_wav(path: &Path, rate: u32, channels: &[Vec<f32>], pcm: Pcm) {
    let (bits, format) = match pcm {
        Pcm::Int(b) => (b, hound::SampleFormat::Int),
        Pcm::Float => (32, hound::SampleFormat::Float),
    };
    let spec = hound::WavSpec {
        channels: channels.len() as u16,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: format,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("create wav");
    for i in 0..channels[0].len() {
        for ch in channels {
            let v = ch[i].clamp(-1.0, 1.0);
            match pcm {
                Pcm::Float => w.write_sample(v).expect("write"),
                Pcm::Int(8) => w.write_sample((v * 127.0) as i8).expect("write"),
                Pcm::Int(b) => {
                    let max = ((1i64 << (b - 1)) - 1) as f64;
                    w.write_sample((f64::from(v) * max) as i32).expect("write")
                }
            }
        }
    }
    w.finalize().expect("finalize wav");
}

/// The two G.711 companding laws.
#[derive(Clone, Copy, Debug)]
pub enum Law {
    Mu,
    A,
}

/// G.711 μ-law encoding of one 16-bit sample (ITU-T G.711, with the usual 0x84 bias).
pub fn mulaw(s: i16) -> u8 {
    let mut x = i32::from(s);
    let sign = if x < 0 {
        x = -x;
        0x80
    } else {
        0
    };
    x = x.min(32_635) + 0x84;
    let exp = (31 - (x as u32).leading_zeros()).saturating_sub(7).min(7);
    let mant = (x >> (exp + 3)) & 0x0f;
    !(sign | (exp as i32) << 4 | mant) as u8
}

/// G.711 A-law encoding of one 16-bit sample.
pub fn alaw(s: i16) -> u8 {
    let mut x = i32::from(s) >> 3;
    let sign = if x >= 0 {
        0x80
    } else {
        x = -x - 1;
        0
    };
    x = x.min(0xfff);
    let byte = if x < 32 {
        x >> 1
    } else {
        let exp = 31 - (x as u32).leading_zeros() - 4;
        (exp as i32) << 4 | ((x >> exp) & 0x0f)
    };
    ((sign | byte) ^ 0x55) as u8
}

/// Writes `channels` as a G.711 WAV (format tag 7 μ-law or 6 A-law, 8 bits per sample).
pub fn write_g711_wav(path: &Path, rate: u32, channels: &[Vec<f32>], law: Law) {
    let n_ch = channels.len() as u16;
    let mut data = Vec::with_capacity(channels[0].len() * channels.len());
    for i in 0..channels[0].len() {
        for ch in channels {
            let s = (ch[i].clamp(-1.0, 1.0) * 32_767.0) as i16;
            data.push(match law {
                Law::Mu => mulaw(s),
                Law::A => alaw(s),
            });
        }
    }
    let tag: u16 = match law {
        Law::Mu => 7,
        Law::A => 6,
    };
    let mut out = Vec::new();
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(4 + 26 + 12 + 8 + data.len() as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&18u32.to_le_bytes());
    out.extend_from_slice(&tag.to_le_bytes());
    out.extend_from_slice(&n_ch.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * u32::from(n_ch)).to_le_bytes());
    out.extend_from_slice(&n_ch.to_le_bytes());
    out.extend_from_slice(&8u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(b"fact");
    out.extend_from_slice(&4u32.to_le_bytes());
    out.extend_from_slice(&(channels[0].len() as u32).to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&data);
    std::fs::write(path, out).expect("write g711 wav");
}

/// The prepared Whisper model: `CALLQA_MODEL`, else where `callqa model prepare` puts it. A
/// missing model fails the test with what to run instead of skipping it.
pub fn model() -> PathBuf {
    let path = std::env::var_os("CALLQA_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| callqa::settings::model_dir().join(callqa::settings::MODEL_FILE));
    assert!(
        path.exists(),
        "{}: no Whisper model; run `callqa model prepare` (scripts/test does) or set CALLQA_MODEL",
        path.display()
    );
    path
}
