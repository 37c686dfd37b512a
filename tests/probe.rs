//! `callqa probe` as a user runs it: good files are reported with their fields, every bad file
//! gets one stderr line naming it, the others are still reported, and the exit code says so.

mod common;

use assert_cmd::prelude::*;
use common::*;
use serde_json::Value;

/// A stereo call at `rate`: agent bursts at 1.0–3.0 s and 10.5–11.5 s, customer at
/// 3.5–4.5 s; 12 s long, −55 dBFS noise. Dead air from 4.5 s to 10.5 s (6 s).
fn call(rate: u32) -> Vec<Vec<f32>> {
    vec![
        scene(
            &[(1000, 3000), (10_500, 11_500)],
            12_000,
            rate,
            -20.0,
            -55.0,
        ),
        scene(&[(3500, 4500)], 12_000, rate, -20.0, -55.0),
    ]
}

fn probe_json(args: &[&str]) -> (Vec<Value>, String, Option<i32>) {
    let out = common::callqa_command()
        .arg("probe")
        .arg("--json")
        .args(args)
        .output()
        .expect("run callqa");
    let stdout = String::from_utf8(out.stdout).expect("utf-8 stdout");
    let lines = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    (
        lines,
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

fn near(v: &Value, want: u64, tol: u64) -> bool {
    v.as_u64().is_some_and(|x| x.abs_diff(want) <= tol)
}

#[test]
fn good_files_report_format_roles_and_timing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pcm = dir.path().join("call.wav");
    write_pcm_wav(&pcm, 8_000, &call(8_000), Pcm::Int(16));
    let ulaw = dir.path().join("call_ulaw.wav");
    write_g711_wav(&ulaw, 8_000, &call(8_000), Law::Mu);
    let hifi = dir.path().join("call_48k.wav");
    write_pcm_wav(&hifi, 48_000, &call(48_000), Pcm::Float);
    let paths: Vec<&str> = [&pcm, &ulaw, &hifi]
        .iter()
        .map(|p| p.to_str().expect("utf-8"))
        .collect();

    let (reports, stderr, code) = probe_json(&paths);
    assert_eq!(code, Some(0), "stderr: {stderr}");
    assert_eq!(reports.len(), 3);
    for (r, (path, rate, codec)) in reports.iter().zip([
        (paths[0], 8_000, "pcm_s16le"),
        (paths[1], 8_000, "pcm_mulaw"),
        (paths[2], 48_000, "pcm_f32le"),
    ]) {
        assert_eq!(r["path"], path);
        assert_eq!(r["container"], "wav");
        assert_eq!(r["codec"], codec);
        assert_eq!(r["sample_rate"], rate);
        assert_eq!(r["channels"], 2);
        assert_eq!(r["duration_ms"], 12_000);
        assert_eq!(r["tracks"][0]["role"], "agent");
        assert_eq!(r["tracks"][1]["role"], "customer");
        assert!(
            near(&r["first_agent_speech_ms"], 1000, 150),
            "{path}: {}",
            r["first_agent_speech_ms"]
        );
        assert!(
            near(&r["longest_dead_air_ms"], 6000, 300),
            "{path}: {}",
            r["longest_dead_air_ms"]
        );
        assert!(
            near(&r["tracks"][0]["speech_ms"], 3000, 300),
            "{path}: {}",
            r["tracks"][0]
        );
        assert!(
            near(&r["tracks"][1]["speech_ms"], 1000, 200),
            "{path}: {}",
            r["tracks"][1]
        );
    }
}

#[test]
fn agent_channel_right_and_dead_air_threshold_are_honoured() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("call.wav");
    write_pcm_wav(&path, 16_000, &call(16_000), Pcm::Int(16));
    let p = path.to_str().expect("utf-8");
    let (r, _, code) = probe_json(&["--agent-channel", "right", "--dead-air-ms", "7000", p]);
    assert_eq!(code, Some(0));
    assert!(
        near(&r[0]["first_agent_speech_ms"], 3500, 150),
        "{}",
        r[0]["first_agent_speech_ms"]
    );
    assert_eq!(r[0]["longest_dead_air_ms"], 0, "a 6 s gap is below 7 s");
}

#[test]
fn text_output_is_one_line_per_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("call.wav");
    write_pcm_wav(&path, 8_000, &call(8_000), Pcm::Int(16));
    let out = common::callqa_command()
        .args(["probe", path.to_str().expect("utf-8")])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).expect("utf-8");
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.starts_with(path.to_str().expect("utf-8")), "{text}");
    assert!(text.contains("8000 Hz 2 ch 12.000 s"), "{text}");
    assert!(text.contains("longest dead air"), "{text}");
}

#[test]
fn each_bad_file_gets_one_stderr_line_and_the_good_ones_are_still_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = |name: &str| dir.path().join(name);
    write_pcm_wav(&p("good.wav"), 8_000, &call(8_000), Pcm::Int(16));
    let good = std::fs::read(p("good.wav")).expect("read");
    std::fs::write(p("empty.wav"), b"").expect("write");
    std::fs::write(p("header.wav"), &good[..30]).expect("write");
    std::fs::write(p("notes.wav"), "this is a text file, not a recording\n").expect("write");
    let mp3 = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/speech/5_3039_20231015000.mp3"),
    )
    .expect("read mp3");
    std::fs::write(p("cut.mp3"), &mp3[..mp3.len() / 3]).expect("write");
    // WAVE_FORMAT_ADPCM_G723 (0x0014): a real telephony codec nobody decodes any more.
    let mut g723 = good.clone();
    g723[20..22].copy_from_slice(&0x0014u16.to_le_bytes());
    std::fs::write(p("g723.wav"), g723).expect("write");
    write_pcm_wav(
        &p("three.wav"),
        8_000,
        &vec![vec![0.1; 8000]; 3],
        Pcm::Int(16),
    );

    let bad = [
        "empty.wav",
        "header.wav",
        "notes.wav",
        "g723.wav",
        "three.wav",
    ];
    let order = [
        "empty.wav",
        "good.wav",
        "header.wav",
        "cut.mp3",
        "notes.wav",
        "g723.wav",
        "three.wav",
    ];
    let args: Vec<String> = order.iter().map(|n| p(n).display().to_string()).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (reports, stderr, code) = probe_json(&args);

    assert_eq!(code, Some(1), "stderr: {stderr}");
    let reported: Vec<&str> = reports.iter().filter_map(|r| r["path"].as_str()).collect();
    assert_eq!(
        reported,
        [args[1], args[3]],
        "good and truncated files are reported"
    );
    assert!(reports[1]["notes"][0]
        .as_str()
        .is_some_and(|n| n.starts_with("truncated")));
    for name in bad {
        let path = p(name).display().to_string();
        let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with(&path)).collect();
        assert_eq!(lines.len(), 1, "{name}: {stderr}");
        assert!(
            lines[0].contains("; "),
            "{name}: says what to do: {}",
            lines[0]
        );
    }
    assert!(stderr.contains("7 files: 2 ok, 5 failed"), "{stderr}");
    assert!(stderr.contains("3 channels"), "{stderr}");
}

/// FLAC, Ogg Vorbis and MP3 made from the same call with sox (which `scripts/test` installs):
/// duration within 1 %, both channels, and the speech timing of the PCM original.
#[test]
fn compressed_formats_keep_duration_channels_and_timing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wav = dir.path().join("call.wav");
    write_pcm_wav(&wav, 16_000, &call(16_000), Pcm::Int(16));
    let mut paths = Vec::new();
    for (ext, codec) in [("flac", "flac"), ("ogg", "vorbis"), ("mp3", "mp3")] {
        let out = dir.path().join(format!("call.{ext}"));
        let status = std::process::Command::new("sox")
            .arg(&wav)
            .arg(&out)
            .status()
            .expect(
                "sox is needed to make FLAC/OGG/MP3 test files: install it (scripts/test does)",
            );
        assert!(status.success(), "sox could not write {ext}");
        paths.push((out.display().to_string(), ext, codec));
    }
    let args: Vec<&str> = paths.iter().map(|(p, _, _)| p.as_str()).collect();
    let (reports, stderr, code) = probe_json(&args);
    assert_eq!(code, Some(0), "{stderr}");
    for (r, (path, ext, codec)) in reports.iter().zip(&paths) {
        assert_eq!(r["path"], path.as_str());
        assert_eq!(r["container"], *ext, "{path}");
        assert_eq!(r["codec"], *codec, "{path}");
        assert_eq!(r["channels"], 2, "{path}");
        assert!(
            near(&r["duration_ms"], 12_000, 120),
            "{path}: {}",
            r["duration_ms"]
        );
        assert!(
            near(&r["first_agent_speech_ms"], 1000, 150),
            "{path}: {}",
            r["first_agent_speech_ms"]
        );
        assert!(
            near(&r["longest_dead_air_ms"], 6000, 300),
            "{path}: {}",
            r["longest_dead_air_ms"]
        );
        assert!(
            near(&r["tracks"][1]["speech_ms"], 1000, 200),
            "{path}: {}",
            r["tracks"][1]
        );
    }
}
