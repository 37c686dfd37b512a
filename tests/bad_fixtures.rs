//! `callqa probe` on every committed broken recording in `fixtures/bad/` (made by
//! `fixtures/make-bad`), all in one run as a batch would meet them: each unreadable file gets
//! one stderr line that names it and says what to do, the damaged-but-readable ones are decoded
//! as far as they go, and the exit code is 1 because some files failed. A damaged file that is
//! scored says so in its result and its report page.

mod common;

use std::path::{Path, PathBuf};

use serde_json::Value;

fn bad(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/bad")
        .join(name)
}

/// Unreadable files and a phrase of the advice their error line must carry.
const REFUSED: &[(&str, &str)] = &[
    ("empty.wav", "export it again"),
    ("truncated_header.wav", "export it again"),
    ("text_named.wav", "points at a call recording"),
    ("three_channel.wav", "keep the two call channels"),
    (
        "promises_19s_holds_0ms.wav",
        "header promises 19000 ms but it holds 0 ms of audio",
    ),
    (
        "stsc_4g_entries.m4a",
        "stsc table claims 4294967295 entries",
    ),
    (
        "alac_0_frame_length.m4a",
        "ALAC configuration claims 0 samples per frame",
    ),
    (
        "alac_4g_frame_length.m4a",
        "ALAC configuration claims 4294967295 samples per frame",
    ),
    (
        "flac_4g_comment.flac",
        "FLAC header: its comment claims 4294967280 bytes but only 0 follow",
    ),
    (
        "xing_0_frames.mp3",
        "MP3 header: its Xing/Info tag counts 0 samples, fewer than the 1350",
    ),
    (
        "ogg_4g_comment.ogg",
        "Ogg stream: its comment claims 4294967280 bytes but only 20 follow",
    ),
];

/// GSM 6.10 in WAV: refused by Symphonia; FFmpeg's decoders (the default `ffmpeg` feature) take it
/// (tests/decode.rs checks every codec then).
#[cfg(not(feature = "ffmpeg"))]
const CODEC_REFUSED: &[(&str, &str)] = &[("gsm610.wav", "convert it to 16-bit PCM WAV")];
#[cfg(feature = "ffmpeg")]
const CODEC_REFUSED: &[(&str, &str)] = &[];

/// Files that decode, and to how many ms: damaged ones as far as they go (500 ms), and with
/// FFmpeg the GSM 6.10 WAV Symphonia refuses: 13 blocks of 40 ms, then a 1-byte stub of a
/// block that FFmpeg rejects and callqa keeps as 40 ms of silence.
#[cfg(not(feature = "ffmpeg"))]
const PARTIAL: &[(&str, u64)] = &[("truncated.mp3", 500), ("wrong_data_size.wav", 500)];
#[cfg(feature = "ffmpeg")]
const PARTIAL: &[(&str, u64)] = &[
    ("truncated.mp3", 500),
    ("wrong_data_size.wav", 500),
    ("gsm610.wav", 560),
];

#[test]
fn every_bad_fixture_is_refused_by_name_or_decoded_as_far_as_it_goes() {
    let mut cmd = common::callqa_command();
    cmd.args(["probe", "--json"]);
    for (name, _) in REFUSED.iter().chain(CODEC_REFUSED) {
        cmd.arg(bad(name));
    }
    for (name, _) in PARTIAL {
        cmd.arg(bad(name));
    }
    let out = cmd.output().expect("run callqa");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");

    for (name, advice) in REFUSED.iter().chain(CODEC_REFUSED) {
        let line = stderr
            .lines()
            .find(|l| l.contains(&format!("fixtures/bad/{name}:")))
            .unwrap_or_else(|| panic!("no error line for {name}:\n{stderr}"));
        assert!(line.contains(advice), "{name}: {line}");
    }

    let reports: Vec<Value> = String::from_utf8(out.stdout)
        .expect("utf-8 stdout")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(reports.len(), PARTIAL.len(), "{reports:?}");
    for (report, (name, expected_ms)) in reports.iter().zip(PARTIAL) {
        assert!(
            report["path"].as_str().is_some_and(|p| p.ends_with(name)),
            "{report}"
        );
        let ms = report["duration_ms"].as_u64().expect("duration_ms");
        assert!(ms.abs_diff(*expected_ms) <= 30, "{name}: {ms} ms");
    }
    let notes = reports[1]["notes"].to_string();
    assert!(notes.contains("truncated"), "wrong_data_size.wav: {notes}");
}

/// A truncated recording is scored on what it holds, and the result says so: in `calls.jsonl`
/// and on the call's report page, not only in a log line nobody reads.
#[test]
fn a_truncated_recording_says_so_in_its_result_and_report() {
    let env = common::TestEnv::new();
    let manifest = env.write(
        "calls.csv",
        &format!(
            "call_id,audio,agent_id,started_at,direction,agent_channel\n\
             T1,{},A001,2026-10-13T14:20:00+08:00,inbound,mono\n",
            bad("wrong_data_size.wav").display()
        ),
    );
    let model = common::model();
    let ran = env.callqa([
        "run".as_ref(),
        "--manifest".as_ref(),
        manifest.as_os_str(),
        "--out".as_ref(),
        "out".as_ref(),
        "--model".as_ref(),
        model.as_os_str(),
    ]);
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    let results = env.results("out");
    let notes = results[0]["metrics"]["decode_notes"].to_string();
    assert!(notes.contains("truncated"), "{notes}");

    let pages: Vec<String> = walk(&env.path("out"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "html"))
        .map(|p| std::fs::read_to_string(p).expect("read page"))
        .filter(|page| page.contains("解码提示"))
        .collect();
    assert_eq!(pages.len(), 1, "one call page carries the decoding note");
    assert!(
        pages[0].contains("录音不完整：文件头标明 10000 毫秒"),
        "the note is in the inspectors' language: {}",
        pages[0]
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
