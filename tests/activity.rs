//! `audio::activity` against known truth: synthetic scenes (bursts in noise), a two-party
//! call built from the real Mandarin clips in `fixtures/speech` placed at known offsets,
//! continuous quiet speech, and hiss, hold music and line noise; the neural `earshot` detector
//! is measured on the same signals.
//!
//! Run with `--nocapture` to see the measured frame accuracy, boundary errors and the table
//! of speech kept.

mod common;
mod speech;

use callqa::audio::{self, activity, Audio, RoleActivity, SourceInfo, Track, VadConfig};
use callqa::{AgentChannel, Role, SpeechRegion};
use common::*;
use std::path::PathBuf;

fn audio_of(tracks: Vec<(Role, Vec<f32>)>) -> Audio {
    let duration_ms = tracks[0].1.len() as u64 * 1000 / u64::from(RATE);
    Audio {
        info: SourceInfo {
            container: "test".into(),
            codec: "f32".into(),
            sample_rate: RATE,
            channels: tracks.len() as u16,
            duration_ms,
        },
        tracks: tracks
            .into_iter()
            .map(|(role, samples)| Track::from_f32(role, &samples))
            .collect(),
        duration_ms,
    }
}

fn detect(samples: Vec<f32>) -> Vec<SpeechRegion> {
    let audio = audio_of(vec![(Role::Agent, samples)]);
    activity(&audio, &VadConfig::default()).remove(0).regions
}

fn assert_matches(got: &[SpeechRegion], truth: &[(u64, u64)], dur_ms: u64) {
    assert_eq!(got.len(), truth.len(), "regions {got:?}, truth {truth:?}");
    for (g, &(s, e)) in got.iter().zip(truth) {
        assert!(g.start_ms.abs_diff(s) <= 150, "start {g:?} vs {s}");
        assert!(g.end_ms.abs_diff(e) <= 150, "end {g:?} vs {e}");
    }
    let acc = frame_accuracy(got, truth, dur_ms);
    assert!(acc >= 0.95, "frame accuracy {acc}");
}

#[test]
fn finds_bursts_in_minus_50_dbfs_noise() {
    let truth = [(1000, 2500), (4000, 4800), (7200, 9900)];
    let got = detect(scene(&truth, 12_000, RATE, -20.0, -50.0));
    assert_matches(&got, &truth, 12_000);
}

#[test]
fn finds_quiet_speech_on_a_digitally_silent_line() {
    let truth = [(500, 1500), (3000, 3400)];
    let got = detect(scene(&truth, 5_000, RATE, -40.0, -120.0));
    assert_matches(&got, &truth, 5_000);
}

#[test]
fn noise_alone_is_not_speech() {
    for dbfs in [-70.0, -50.0, -40.0] {
        assert!(
            detect(noise(samples(10_000, RATE), dbfs, 3)).is_empty(),
            "{dbfs} dBFS"
        );
    }
}

#[test]
fn g711_quantisation_noise_is_not_speech_and_speech_through_g711_is_found() {
    let dir = tempfile::tempdir().expect("tempdir");
    let truth = [(1500, 3000), (6000, 6600)];
    let signal = scene(&truth, 8_000, 8_000, -22.0, -60.0);
    for law in [Law::Mu, Law::A] {
        let path = dir.path().join(format!("{law:?}.wav"));
        write_g711_wav(
            &path,
            8_000,
            &[signal.clone(), noise(signal.len(), -60.0, 9)],
            law,
        );
        let audio = audio::decode(&path, AgentChannel::Left).expect("decode");
        let act = activity(&audio, &VadConfig::default());
        assert_matches(&act[0].regions, &truth, 8_000);
        assert!(
            act[1].regions.is_empty(),
            "{law:?}: customer {:?}",
            act[1].regions
        );
    }
}

#[test]
fn a_short_pause_does_not_split_a_region_and_a_long_one_does() {
    let truth = [(1000, 2000), (2200, 3000), (4000, 5000)];
    let got = detect(scene(&truth, 6_000, RATE, -25.0, -55.0));
    assert_matches(&got, &[(1000, 3000), (4000, 5000)], 6_000);
}

#[test]
fn a_click_is_not_speech() {
    assert!(detect(scene(&[(1000, 1050)], 3_000, RATE, -10.0, -60.0)).is_empty());
}

#[test]
fn a_channel_that_is_speech_throughout_is_one_region() {
    let got = detect(scene(&[(0, 8000)], 8_000, RATE, -22.0, -60.0));
    assert_matches(&got, &[(0, 8000)], 8_000);
}

#[test]
fn an_empty_track_has_no_regions() {
    assert!(detect(Vec::new()).is_empty());
}

/// Pauses shorter than this belong to the speaker's turn: the truth convention, and
/// `VadConfig::min_silence_ms`.
const TURN_PAUSE_MS: u64 = 600;

/// 10 ms frame energies in dB of a clean clip.
fn energies(x: &[f32]) -> Vec<f32> {
    x.chunks(160)
        .map(|f| 10.0 * (f.iter().map(|v| v * v).sum::<f32>() / f.len() as f32 + 1e-12).log10())
        .collect()
}

/// Where a clean clip is speech: frames within 30 dB of its loudest, pauses under
/// [`TURN_PAUSE_MS`] bridged (a pause inside a sentence is still the speaker's turn). Returns (start, end) in ms
/// from the clip start, and the gain that brings its loudest frame to −15 dBFS.
fn clip_truth(x: &[f32]) -> (Vec<(u64, u64)>, f32) {
    let e = energies(x);
    let peak = e.iter().copied().fold(f32::MIN, f32::max);
    (
        truth_above(x, peak - 30.0),
        10f32.powf((-15.0 - peak) / 20.0),
    )
}

/// Where a clean clip is louder than `level` dBFS and within 30 dB of its loudest frame,
/// pauses under [`TURN_PAUSE_MS`] bridged: its speech as heard over line noise at `level`.
fn truth_above(x: &[f32], level: f32) -> Vec<(u64, u64)> {
    let e = energies(x);
    let peak = e.iter().copied().fold(f32::MIN, f32::max);
    let speech: Vec<bool> = e.iter().map(|&v| v > level.max(peak - 30.0)).collect();
    bridged(&speech, 10, TURN_PAUSE_MS)
}

/// Runs of `true` frames as (start, end) ms, pauses shorter than `bridge_ms` bridged.
fn bridged(speech: &[bool], frame_ms: u64, bridge_ms: u64) -> Vec<(u64, u64)> {
    let mut spans: Vec<(u64, u64)> = Vec::new();
    for (i, _) in speech.iter().enumerate().filter(|(_, &s)| s) {
        let (s, t) = (i as u64 * frame_ms, (i as u64 + 1) * frame_ms);
        match spans.last_mut() {
            Some(last) if s < last.1 + bridge_ms => last.1 = t,
            _ => spans.push((s, t)),
        }
    }
    spans
}

/// A two-party call: real clips alternate between the agent (left) and the customer (right),
/// with pauses of 0.6–6 s between turns and −50 dBFS noise on both channels throughout.
struct RealCall {
    agent: Vec<f32>,
    customer: Vec<f32>,
    /// Agent's, then customer's speech, in ms.
    truth: [Vec<(u64, u64)>; 2],
}

fn real_call() -> RealCall {
    let clips: Vec<PathBuf> = speech::clips().into_iter().map(|(path, _)| path).collect();
    let gaps_ms = [
        800, 1500, 600, 6000, 1000, 2500, 700, 1200, 900, 5500, 1100, 800,
    ];

    let mut placed = Vec::new();
    let mut t_ms = 1200u64;
    for (path, gap) in clips.iter().zip(gaps_ms) {
        let clip = audio::decode(path, AgentChannel::Mono).expect("decode clip");
        let clip_samples: Vec<f32> = clip.tracks[0].f32(0, usize::MAX).collect();
        let (truth, gain) = clip_truth(&clip_samples);
        let x: Vec<f32> = clip_samples.iter().map(|v| v * gain).collect();
        placed.push((t_ms, x, truth));
        t_ms += clip.duration_ms + gap;
    }
    let len = samples(t_ms, RATE);
    let mut ch = [noise(len, -50.0, 11), noise(len, -50.0, 12)];
    let mut truth: [Vec<(u64, u64)>; 2] = [Vec::new(), Vec::new()];
    for (i, (at_ms, x, spans)) in placed.into_iter().enumerate() {
        let start = samples(at_ms, RATE);
        for (d, v) in ch[i % 2][start..start + x.len()].iter_mut().zip(&x) {
            *d += v;
        }
        truth[i % 2].extend(spans.iter().map(|&(s, e)| (at_ms + s, at_ms + e)));
    }
    let [agent, customer] = ch;
    RealCall {
        agent,
        customer,
        truth,
    }
}

/// Start and end error of every truth region against the detected regions that overlap it.
fn boundary_errors(got: &[SpeechRegion], truth: &[(u64, u64)]) -> Vec<u64> {
    truth
        .iter()
        .flat_map(|&(s, e)| {
            let hit: Vec<_> = got
                .iter()
                .filter(|r| r.start_ms < e && s < r.end_ms)
                .collect();
            match (hit.first(), hit.last()) {
                (Some(a), Some(b)) => vec![a.start_ms.abs_diff(s), b.end_ms.abs_diff(e)],
                _ => vec![e - s, e - s],
            }
        })
        .collect()
}

/// Frame accuracy and median boundary error of `act` against the truth; prints and checks them.
fn measure(audio: &Audio, truth: &[Vec<(u64, u64)>; 2], what: &str) {
    let _ = report(
        &activity(audio, &VadConfig::default()),
        truth,
        audio.duration_ms,
        what,
    );
}

fn report(act: &[RoleActivity], truth: &[Vec<(u64, u64)>; 2], duration_ms: u64, what: &str) -> f64 {
    let mut worst = 1.0f64;
    for (a, t) in act.iter().zip(truth) {
        let acc = frame_accuracy(&a.regions, t, duration_ms);
        worst = worst.min(acc);
        let mut err = boundary_errors(&a.regions, t);
        err.sort_unstable();
        let median = err[err.len() / 2];
        let max = err[err.len() - 1];
        eprintln!(
            "{what} {:?}: frame accuracy {:.3}, boundary error median {median} ms, max {max} ms, {} regions vs {} true",
            a.role,
            acc,
            a.regions.len(),
            t.len()
        );
        if what != BASELINE {
            assert!(acc >= 0.95, "{what} {:?}: frame accuracy {acc}", a.role);
        }
        if what != BASELINE {
            assert!(
                median <= 150,
                "{what} {:?}: median boundary error {median} ms",
                a.role
            );
        }
    }
    worst
}

#[test]
fn real_speech_call_in_noise() {
    let call = real_call();
    let audio = audio_of(vec![
        (Role::Agent, call.agent),
        (Role::Customer, call.customer),
    ]);
    measure(&audio, &call.truth, "pcm 16 kHz, -50 dBFS noise");
}

#[test]
fn real_speech_call_through_g711_at_8_khz() {
    let call = real_call();
    let dir = tempfile::tempdir().expect("tempdir");
    // Plain decimation aliases a little energy above 4 kHz back into the band: more noise for
    // the detector to ignore, which is the point of this test.
    let every_other = |x: &[f32]| -> Vec<f32> { x.iter().step_by(2).copied().collect() };
    let ch = [every_other(&call.agent), every_other(&call.customer)];
    for law in [Law::Mu, Law::A] {
        let path = dir.path().join(format!("call_{law:?}.wav"));
        write_g711_wav(&path, 8_000, &ch, law);
        let audio = audio::decode(&path, AgentChannel::Left).expect("decode g711 call");
        measure(&audio, &call.truth, &format!("{law:?}-law 8 kHz"));
    }
}

const BASELINE: &str = "earshot 1.x baseline";

/// The pure-Rust neural VAD `earshot` (16 ms frames, score ≥ 0.5, pauses under
/// [`TURN_PAUSE_MS`] bridged like the truth), the baseline callqa's detector is measured against.
fn earshot_regions(x: &[f32]) -> Vec<SpeechRegion> {
    let mut det = earshot::Detector::default();
    let speech: Vec<bool> = x
        .chunks_exact(256)
        .map(|f| det.predict_f32(f) >= 0.5)
        .collect();
    bridged(&speech, 16, TURN_PAUSE_MS)
        .into_iter()
        .map(|(start_ms, end_ms)| SpeechRegion { start_ms, end_ms })
        .collect()
}

/// earshot on the same call, so the choice of detector rests on a number.
#[test]
fn energy_detector_is_at_least_as_accurate_as_earshot_on_real_speech() {
    let call = real_call();
    let duration_ms = call.agent.len() as u64 * 1000 / u64::from(RATE);
    let baseline = [
        RoleActivity {
            role: Role::Agent,
            regions: earshot_regions(&call.agent),
        },
        RoleActivity {
            role: Role::Customer,
            regions: earshot_regions(&call.customer),
        },
    ];
    let theirs = report(&baseline, &call.truth, duration_ms, BASELINE);
    let audio = audio_of(vec![
        (Role::Agent, call.agent),
        (Role::Customer, call.customer),
    ]);
    let ours = report(
        &activity(&audio, &VadConfig::default()),
        &call.truth,
        duration_ms,
        "callqa energy detector",
    );
    assert!(
        ours + 0.005 >= theirs,
        "callqa {ours:.3} vs earshot {theirs:.3}"
    );
}

/// Share of the `truth` spans (ms) that `regions` mark as speech; with no truth, the share of
/// `x` (16 kHz) they mark.
fn kept(regions: &[SpeechRegion], truth: &[(u64, u64)], x: &[f32]) -> f64 {
    let duration_ms = x.len() as u64 * 1000 / u64::from(RATE);
    let whole = [(0, duration_ms)];
    let truth = if truth.is_empty() { &whole[..] } else { truth };
    let overlap = |&(s, e): &(u64, u64)| -> u64 {
        regions
            .iter()
            .map(|r| r.end_ms.min(e).saturating_sub(r.start_ms.max(s)))
            .sum()
    };
    let total: u64 = truth.iter().map(|(s, e)| e - s).sum();
    truth.iter().map(overlap).sum::<u64>() as f64 / total.max(1) as f64
}

/// `x` (16 kHz) through an 8 kHz G.711 μ-law WAV and back through callqa's decoder.
fn through_g711(x: &[f32], dir: &std::path::Path) -> Vec<f32> {
    let path = dir.join("g711.wav");
    let narrow: Vec<f32> = x.iter().step_by(2).copied().collect();
    write_g711_wav(&path, 8_000, &[narrow], Law::Mu);
    speech::decode_clip(&path)
}

/// Share of the true speech (or, with no truth, of everything) kept by callqa and by earshot,
/// printed as the README's table row.
fn measured(name: &str, x: &[f32], truth: &[(u64, u64)]) -> (f64, f64) {
    let ours = kept(&detect(x.to_vec()), truth, x);
    let theirs = kept(&earshot_regions(x), truth, x);
    eprintln!(
        "| {name} | {:.1} % | {:.1} % |",
        ours * 100.0,
        theirs * 100.0
    );
    (ours, theirs)
}

/// A talker who never pauses, quiet: the noise floor of such a channel is the talker's own
/// quiet frames, and the detector must still keep (nearly) all of the speech, as the clean
/// clips mark it (frames within 30 dB of the loudest and, on the noisy line, louder than the
/// noise; pauses under [`TURN_PAUSE_MS`] bridged; the clips' own longer pauses are not
/// speech). Every level from −35 to −45 dBFS, clean, in −50 dBFS line noise and through G.711.
#[test]
fn continuous_quiet_speech_is_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    eprintln!("| continuous speech kept | callqa | earshot |\n|---|---|---|");
    for level in [-35.0f32, -40.0, -45.0] {
        let (clean, _) = speech::continuous_speech(level);
        let (truth, _) = clip_truth(&clean);
        let hiss = noise(clean.len(), -50.0, 21);
        let cases = [
            ("clean", clean.clone(), truth.clone()),
            (
                "in −50 dBFS noise",
                speech::mixed(&clean, &hiss),
                truth_above(&clean, -50.0),
            ),
            (
                "through G.711 μ-law",
                through_g711(&clean, dir.path()),
                truth.clone(),
            ),
        ];
        for (what, x, truth) in cases {
            let (ours, _) = measured(&format!("{level} dBFS {what}"), &x, &truth);
            assert!(ours >= 0.98, "{level} dBFS {what}: kept {ours:.3}");
        }
    }
}

/// What is not speech stays out: silence, hiss at every level up to −30 dBFS, hold music,
/// hum, line noise with clicks, and an idle G.711 line.
#[test]
fn hiss_hold_music_and_line_noise_are_not_speech() {
    let dir = tempfile::tempdir().expect("tempdir");
    eprintln!("| taken for speech | callqa | earshot |\n|---|---|---|");
    let mut cases = speech::non_speech();
    for (name, level) in [("hiss at -60 dBFS", -60.0), ("hiss at -40 dBFS", -40.0)] {
        cases.push((name, noise(speech::RATE * 10, level, 5)));
    }
    cases.push((
        "hum at -30 dBFS",
        speech::signal(10, |i, _| 0.045 * speech::sine(i, 50.0)),
    ));
    let idle = through_g711(&noise(speech::RATE * 10, -70.0, 4), dir.path());
    cases.push(("idle G.711 μ-law line", idle));
    for (name, x) in cases {
        let (ours, _) = measured(name, &x, &[]);
        assert!(
            ours == 0.0,
            "{name}: {:.1} % taken for speech",
            ours * 100.0
        );
    }
}
