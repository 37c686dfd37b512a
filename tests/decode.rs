//! `audio::decode` on files written by the test (every WAV sample format, G.711, rates,
//! channel layouts), on real clips from `fixtures/`, and on broken files.

mod common;

use std::path::{Path, PathBuf};

use callqa::audio::{self, Audio, Error};
use callqa::{AgentChannel, Role};
use common::*;

fn rms(x: &[f32]) -> f32 {
    (x.iter().map(|v| v * v).sum::<f32>() / x.len().max(1) as f32).sqrt()
}

/// Stereo: 1 kHz tone at −6 dBFS on the left from 0.5 s to 1.5 s, right silent; 2 s long.
fn left_tone(rate: u32) -> Vec<Vec<f32>> {
    let len = samples(2000, rate);
    let mut left = vec![0.0; len];
    for (i, v) in left
        .iter_mut()
        .enumerate()
        .take(samples(1500, rate))
        .skip(samples(500, rate))
    {
        *v = 0.5 * (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / rate as f32).sin();
    }
    vec![left, vec![0.0; len]]
}

fn decode_ok(path: &Path, agent: AgentChannel) -> Audio {
    audio::decode(path, agent).unwrap_or_else(|e| panic!("{e}"))
}

fn track(a: &Audio, role: Role) -> Vec<f32> {
    a.tracks
        .iter()
        .find(|t| t.role == role)
        .unwrap_or_else(|| panic!("no {role:?} track"))
        .f32(0, usize::MAX)
        .collect()
}

/// Every sample of the first track, as f32.
fn first(a: &Audio) -> Vec<f32> {
    a.tracks[0].f32(0, usize::MAX).collect()
}

/// The tone sits where it was written, at its level, on the agent track only.
fn assert_left_tone(a: &Audio, what: &str) {
    assert_eq!(a.duration_ms, 2000, "{what}");
    let agent = track(a, Role::Agent);
    let customer = track(a, Role::Customer);
    assert!(
        agent.len().abs_diff(32_000) <= 16,
        "{what}: {} samples",
        agent.len()
    );
    let level = rms(&agent[samples(600, RATE)..samples(1400, RATE)]);
    assert!(
        (level - 0.5 / 2f32.sqrt()).abs() < 0.02,
        "{what}: tone rms {level}"
    );
    assert!(
        rms(&agent[..samples(400, RATE)]) < 0.005,
        "{what}: before the tone"
    );
    assert!(rms(&customer) < 0.005, "{what}: customer channel");
}

#[test]
fn pcm_wav_of_every_sample_format_and_rate() {
    let dir = tempfile::tempdir().expect("tempdir");
    for pcm in [
        Pcm::Int(8),
        Pcm::Int(16),
        Pcm::Int(24),
        Pcm::Int(32),
        Pcm::Float,
    ] {
        for rate in [8_000, 16_000, 44_100, 48_000] {
            let path = dir.path().join(format!("{pcm:?}_{rate}.wav"));
            write_pcm_wav(&path, rate, &left_tone(rate), pcm);
            let a = decode_ok(&path, AgentChannel::Left);
            assert_eq!((a.info.sample_rate, a.info.channels), (rate, 2));
            assert_eq!(a.info.container, "wav");
            assert_left_tone(&a, &format!("{pcm:?} {rate} Hz"));
        }
    }
}

#[test]
fn g711_wav_mu_law_and_a_law() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (law, codec) in [(Law::Mu, "pcm_mulaw"), (Law::A, "pcm_alaw")] {
        let path = dir.path().join(format!("{law:?}.wav"));
        write_g711_wav(&path, 8_000, &left_tone(8_000), law);
        let a = decode_ok(&path, AgentChannel::Left);
        assert_eq!(a.info.codec, codec);
        assert_left_tone(&a, codec);
    }
}

#[test]
fn g711_round_trip_stays_within_quantisation_error() {
    // G.711 keeps about 12 dB of SNR per exponent step: error ≤ 1/16 of the value, plus the
    // smallest step near zero.
    let dir = tempfile::tempdir().expect("tempdir");
    let ramp: Vec<f32> = (0..8000)
        .map(|i| (i as f32 / 4000.0 - 1.0) * 0.99)
        .collect();
    for law in [Law::Mu, Law::A] {
        let path = dir.path().join(format!("ramp_{law:?}.wav"));
        write_g711_wav(&path, 16_000, std::slice::from_ref(&ramp), law);
        let a = decode_ok(&path, AgentChannel::Mono);
        for (x, y) in ramp.iter().zip(&first(&a)) {
            assert!(
                (x - y).abs() <= x.abs() / 16.0 + 0.002,
                "{law:?}: {x} → {y}"
            );
        }
    }
}

#[test]
fn agent_on_the_right_swaps_roles() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("right.wav");
    let mut ch = left_tone(16_000);
    ch.reverse();
    write_pcm_wav(&path, 16_000, &ch, Pcm::Int(16));
    let a = decode_ok(&path, AgentChannel::Right);
    assert_eq!(a.tracks[0].role, Role::Agent, "agent track comes first");
    assert_left_tone(&a, "agent on the right");
}

#[test]
fn stereo_with_mono_flag_is_downmixed_to_one_unknown_track() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mix.wav");
    write_pcm_wav(&path, 16_000, &left_tone(16_000), Pcm::Int(16));
    let a = decode_ok(&path, AgentChannel::Mono);
    assert_eq!(a.tracks.len(), 1);
    assert_eq!(a.tracks[0].role, Role::Unknown);
    let level = rms(&first(&a)[samples(600, RATE)..samples(1400, RATE)]);
    assert!(
        (level - 0.25 / 2f32.sqrt()).abs() < 0.01,
        "half the tone: {level}"
    );
}

#[test]
fn mono_file_is_one_unknown_track_whatever_the_agent_channel() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mono.wav");
    write_pcm_wav(&path, 8_000, &left_tone(8_000)[..1], Pcm::Int(16));
    for agent in [AgentChannel::Left, AgentChannel::Right, AgentChannel::Mono] {
        let a = decode_ok(&path, agent);
        assert_eq!(a.tracks.len(), 1);
        assert_eq!(a.tracks[0].role, Role::Unknown);
    }
    let report =
        audio::probe(&path, AgentChannel::Left, &Default::default(), 5000).expect("probe mono");
    assert!(
        report.notes.iter().any(|n| n.contains("roles are unknown")),
        "{:?}",
        report.notes
    );
}

/// A real Mandarin clip as MP3 (the WAV is `asr/5_3039_20231015000.wav`).
const REAL_MP3: &str = "speech/5_3039_20231015000.mp3";

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(rel)
}

#[test]
fn real_mp3_and_wav_of_the_same_utterance_agree() {
    let wav = decode_ok(&fixture("asr/5_3039_20231015000.wav"), AgentChannel::Mono);
    let mp3 = decode_ok(&fixture(REAL_MP3), AgentChannel::Mono);
    assert_eq!(mp3.info.codec, "mp3");
    assert_eq!(mp3.info.container, "mp3");
    let diff = wav.duration_ms.abs_diff(mp3.duration_ms);
    assert!(
        diff * 100 <= wav.duration_ms,
        "wav {} ms, mp3 {} ms",
        wav.duration_ms,
        mp3.duration_ms
    );
    let (w, m) = (rms(&first(&wav)), rms(&first(&mp3)));
    assert!((20.0 * (w / m).log10()).abs() < 1.0, "levels {w} vs {m}");
}

#[test]
fn real_32_khz_clip_is_resampled_to_16_khz() {
    let path = fixture("speech/bean_0000276800_0000428480.flac");
    let a = decode_ok(&path, AgentChannel::Mono);
    assert_eq!(a.info.sample_rate, 32_000);
    assert_eq!(a.duration_ms, 4740);
    assert!(a.tracks[0].samples.len().abs_diff(4740 * 16) <= 16);
}

fn decode_err(path: &Path) -> Error {
    match audio::decode(path, AgentChannel::Left) {
        Ok(a) => panic!("{} decoded to {:?}", path.display(), a.info),
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.starts_with(&path.display().to_string()), "{msg}");
            assert_eq!(e.path(), path);
            e
        }
    }
}

#[test]
fn broken_files_give_errors_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = |name: &str| dir.path().join(name);

    std::fs::write(p("empty.wav"), b"").expect("write");
    assert!(matches!(decode_err(&p("empty.wav")), Error::Empty { .. }));

    std::fs::write(p("text.wav"), "call_id,audio\n1,a.wav\n").expect("write");
    assert!(matches!(
        decode_err(&p("text.wav")),
        Error::Unsupported { .. }
    ));

    write_pcm_wav(&p("good.wav"), 8_000, &left_tone(8_000), Pcm::Int(16));
    let good = std::fs::read(p("good.wav")).expect("read");
    std::fs::write(p("header.wav"), &good[..30]).expect("write");
    assert!(matches!(
        decode_err(&p("header.wav")),
        Error::Corrupt { .. }
    ));

    std::fs::write(p("no_data.wav"), &good[..44]).expect("write");
    assert!(matches!(decode_err(&p("no_data.wav")), Error::Empty { .. }));

    let three = vec![vec![0.1f32; 800]; 3];
    write_pcm_wav(&p("three.wav"), 8_000, &three, Pcm::Int(16));
    let e = decode_err(&p("three.wav"));
    assert!(matches!(e, Error::Unsupported { .. }));
    assert!(e.to_string().contains("3 channels"), "{e}");

    assert!(matches!(decode_err(&p("missing.wav")), Error::Open { .. }));
}

#[test]
fn truncated_files_decode_as_far_as_they_go() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wav = dir.path().join("cut.wav");
    write_pcm_wav(&wav, 8_000, &left_tone(8_000), Pcm::Int(16));
    let bytes = std::fs::read(&wav).expect("read");
    // Keep the header and the first second: 44 + 8000 frames × 4 bytes.
    std::fs::write(&wav, &bytes[..44 + 32_000]).expect("write");
    let report = audio::probe(&wav, AgentChannel::Left, &Default::default(), 5000).expect("probe");
    assert_eq!(report.source.duration_ms, 1000);
    assert!(
        report.notes.iter().any(|n| n.starts_with("truncated")),
        "{:?}",
        report.notes
    );

    let mp3 = std::fs::read(fixture(REAL_MP3)).expect("read mp3");
    let cut = dir.path().join("cut.mp3");
    std::fs::write(&cut, &mp3[..mp3.len() / 2]).expect("write");
    let report = audio::probe(&cut, AgentChannel::Mono, &Default::default(), 5000).expect("probe");
    assert!(
        (2000..4000).contains(&report.source.duration_ms),
        "{}",
        report.source.duration_ms
    );
    assert!(
        report.notes.iter().any(|n| n.starts_with("truncated")),
        "{:?}",
        report.notes
    );
}

#[test]
fn decode_bytes_matches_decode() {
    let path = fixture(REAL_MP3);
    let bytes = std::fs::read(&path).expect("read");
    let a = audio::decode_bytes(bytes, &path, AgentChannel::Mono).expect("decode_bytes");
    let b = decode_ok(&path, AgentChannel::Mono);
    assert_eq!(a.tracks[0].samples, b.tracks[0].samples);
    assert!(matches!(
        audio::decode_bytes(Vec::new(), Path::new("x.wav"), AgentChannel::Left),
        Err(Error::Empty { .. })
    ));
}

/// Inputs that once crashed the decoder (found by `fuzz/`): each must now be refused with a
/// proper error, not caught as a panic. Add new crash files to `tests/fuzz-regressions/`
/// without the fuzzer's leading selector byte, with the extension it selected.
#[test]
fn fuzz_regressions_fail_cleanly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("tests/fuzz-regressions") {
        let path = entry.expect("dir entry").path();
        n += 1;
        if let Err(e) = audio::decode(&path, AgentChannel::Left) {
            assert!(!e.to_string().contains("crashed"), "{e}");
        }
    }
    assert!(n > 0);
}

#[test]
fn wav_headers_with_zero_rate_channels_or_block_size_are_corrupt() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = dir.path().join("good.wav");
    write_pcm_wav(&good, 8_000, &left_tone(8_000), Pcm::Int(16));
    let bytes = std::fs::read(&good).expect("read");
    // fmt chunk at 12: channels at 22, rate at 24, block align at 32.
    for (name, at, len) in [("channels", 22, 2), ("rate", 24, 4), ("block", 32, 2)] {
        let mut b = bytes.clone();
        b[at..at + len].fill(0);
        let path = dir.path().join(format!("zero_{name}.wav"));
        std::fs::write(&path, b).expect("write");
        let e = decode_err(&path);
        assert!(matches!(e, Error::Corrupt { .. }), "{name}: {e}");
        assert!(!e.to_string().contains("crashed"), "{name}: {e}");
    }
}

#[test]
fn extensible_wav_with_a_channel_mask_that_overflows_is_corrupt() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = dir.path().join("good24.wav");
    write_pcm_wav(&good, 8_000, &left_tone(8_000), Pcm::Int(24));
    let mut bytes = std::fs::read(&good).expect("read");
    assert_eq!(
        &bytes[20..22],
        &0xfffeu16.to_le_bytes(),
        "hound writes 24-bit as extensible"
    );
    // Channel mask at fmt data offset 20: one speaker bit, the highest, for two channels.
    bytes[40..44].copy_from_slice(&0x8000_0000u32.to_le_bytes());
    let path = dir.path().join("mask.wav");
    std::fs::write(&path, bytes).expect("write");
    let e = decode_err(&path);
    assert!(matches!(e, Error::Corrupt { .. }), "{e}");
}

/// One clip per telephony codec in `fixtures/codecs` (made by `fixtures/make-codecs` from the
/// same 4.5 s of speech): codec, source rate, and the duration FFmpeg's decoders give (ADPCM
/// pads its last block).
const CODEC_FIXTURES: &[(&str, &str, u32, u64)] = &[
    ("amr_nb.amr", "amr_nb", 8_000, 4_500),
    ("amr_wb.awb", "amr_wb", 16_000, 4_500),
    ("g729.g729", "g729", 8_000, 4_500),
    ("gsm610.gsm", "gsm", 8_000, 4_500),
    ("gsm610_ms.wav", "gsm_ms", 8_000, 4_520),
    ("g722.wav", "adpcm_g722", 16_000, 4_500),
    ("opus.ogg", "opus", 48_000, 4_500),
    ("ima_adpcm.wav", "adpcm_ima_wav", 8_000, 4_592),
    ("ms_adpcm.wav", "adpcm_ms", 8_000, 4_581),
];

/// With FFmpeg's decoders (the default `ffmpeg` feature) every telephony codec decodes, to the right
/// length and with its speech where the WAV original has it.
#[cfg(feature = "ffmpeg")]
#[test]
fn every_telephony_codec_decodes_with_its_duration_and_speech() {
    let cfg = audio::VadConfig::default();
    let original = audio::probe(
        &fixture("asr/5_3039_20231015000.wav"),
        AgentChannel::Mono,
        &cfg,
        5000,
    )
    .expect("original");
    let speech_ms = original.tracks[0].speech_ms;
    for &(name, codec, rate, duration_ms) in CODEC_FIXTURES {
        let path = fixture(&format!("codecs/{name}"));
        let p = audio::probe(&path, AgentChannel::Mono, &cfg, 5000)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(p.source.codec, codec, "{name}");
        assert_eq!(p.source.sample_rate, rate, "{name}");
        assert!(
            p.source.duration_ms.abs_diff(duration_ms) <= 10,
            "{name}: {} ms",
            p.source.duration_ms
        );
        let heard = p.tracks[0].speech_ms;
        assert!(
            heard.abs_diff(speech_ms) * 10 <= speech_ms,
            "{name}: speech {heard} ms of {speech_ms}"
        );
    }
}

/// Without FFmpeg, the codecs Symphonia lacks are refused by name with the conversion advice.
#[cfg(not(feature = "ffmpeg"))]
#[test]
fn telephony_codecs_symphonia_lacks_are_refused_with_advice() {
    for &(name, ..) in CODEC_FIXTURES {
        let path = fixture(&format!("codecs/{name}"));
        if let Err(e) = audio::decode(&path, AgentChannel::Mono) {
            assert!(matches!(e, Error::Unsupported { .. }), "{name}: {e}");
            assert!(e.to_string().contains("convert"), "{name}: {e}");
        }
    }
}
