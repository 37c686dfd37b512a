//! `callqa probe` on every committed broken recording in `fixtures/bad/` (made by
//! `fixtures/make-bad`), all in one run as a batch would meet them: each unreadable file gets
//! one stderr line that names it and says what to do, the damaged-but-readable ones are decoded
//! as far as they go, and the exit code is 1 because some files failed.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
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
];

/// GSM 6.10 in WAV: refused by Symphonia; FFmpeg's decoders (`--features ffmpeg`) take it
/// (tests/decode.rs checks every codec then).
#[cfg(not(feature = "ffmpeg"))]
const CODEC_REFUSED: &[(&str, &str)] = &[("gsm610.wav", "convert it to 16-bit PCM WAV")];
#[cfg(feature = "ffmpeg")]
const CODEC_REFUSED: &[(&str, &str)] = &[];

/// Damaged files that still hold 500 ms of audio.
const PARTIAL: &[&str] = &["truncated.mp3", "wrong_data_size.wav"];

#[test]
fn every_bad_fixture_is_refused_by_name_or_decoded_as_far_as_it_goes() {
    let mut cmd = Command::cargo_bin("callqa").expect("callqa binary");
    cmd.args(["probe", "--json"]);
    for (name, _) in REFUSED.iter().chain(CODEC_REFUSED) {
        cmd.arg(bad(name));
    }
    for name in PARTIAL {
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
    for (report, name) in reports.iter().zip(PARTIAL) {
        assert!(
            report["path"].as_str().is_some_and(|p| p.ends_with(name)),
            "{report}"
        );
        let ms = report["duration_ms"].as_u64().expect("duration_ms");
        assert!(ms.abs_diff(500) <= 30, "{name}: {ms} ms");
    }
    let notes = reports[1]["notes"].to_string();
    assert!(notes.contains("truncated"), "wrong_data_size.wav: {notes}");
}
