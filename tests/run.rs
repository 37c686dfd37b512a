//! `callqa run`, `rescore`, `merge` and `report` end to end: the real binary, the real model,
//! real speech (three clips cut from `fixtures/good_inbound.wav`), a real SQLite store.
//!
//! The model comes from `callqa model prepare` (scripts/test runs it) or `CALLQA_MODEL`; a
//! missing model fails these tests with instructions instead of skipping them. Tests that
//! transcribe take a lock so two Whisper runs never share the two cores.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

static ASR: Mutex<()> = Mutex::new(());

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn model() -> PathBuf {
    let path = std::env::var_os("CALLQA_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("models/ggml-base-q8_0.bin"));
    assert!(
        path.exists(),
        "{}: no Whisper model; run `callqa model prepare` (scripts/test does) or set CALLQA_MODEL",
        path.display()
    );
    path
}

/// Clip boundaries in good_inbound.wav: greeting + question, hold announcement, thanks + closing.
const CLIPS: [(&str, &str, u32, u32); 3] = [
    ("c1", "A01", 0, 8_800),
    ("c2", "A02", 8_800, 16_500),
    ("c3", "A01", 16_500, 28_796),
];

/// Writes the three clips as `20261001_0930NN_AGENT_in_CALL.wav` (names fit the --dir pattern).
fn clips(dir: &Path) -> Vec<PathBuf> {
    let mut reader =
        hound::WavReader::open(repo().join("fixtures/good_inbound.wav")).expect("fixture");
    let spec = reader.spec();
    let samples: Vec<i16> = reader
        .samples::<i16>()
        .map(|s| s.expect("sample"))
        .collect();
    let frame = |ms: u32| (ms as usize * spec.sample_rate as usize / 1000) * spec.channels as usize;
    CLIPS
        .iter()
        .enumerate()
        .map(|(i, (call, agent, from, to))| {
            let path = dir.join(format!("20261001_0930{i:02}_{agent}_in_{call}.wav"));
            let mut w = hound::WavWriter::create(&path, spec).expect("create clip");
            for s in &samples[frame(*from)..frame(*to).min(samples.len())] {
                w.write_sample(*s).expect("write clip");
            }
            w.finalize().expect("finish clip");
            path
        })
        .collect()
}

/// The manifest of the clips (plus `extra` rows appended verbatim).
fn manifest(dir: &Path, clips: &[PathBuf], extra: &str) -> PathBuf {
    let mut text = String::from("call_id,audio,agent_id,started_at,direction,agent_channel\n");
    for (i, ((call, agent, _, _), clip)) in CLIPS.iter().zip(clips).enumerate() {
        let name = clip.file_name().expect("name").to_string_lossy();
        text += &format!("{call},{name},{agent},2026-10-01T09:30:{i:02}+08:00,inbound,left\n");
    }
    text += extra;
    let path = dir.join("calls.csv");
    std::fs::write(&path, text).expect("manifest");
    path
}

fn callqa(args: &[&str], rules: &Path) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_callqa"));
    cmd.args(args)
        .arg("--rubrics")
        .arg(repo().join("rubrics"))
        .current_dir(repo());
    if !matches!(args.first(), Some(&"report")) {
        cmd.arg("--lexicons")
            .arg(rules)
            .arg("--calendar")
            .arg(repo().join("calendars"));
    }
    if matches!(args.first(), Some(&"run")) {
        cmd.arg("--model").arg(model());
    }
    cmd.output().expect("run callqa")
}

fn summary(out: &Output) -> serde_json::Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "--json summary unreadable ({e}): {stdout}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn results(out: &Path) -> BTreeMap<String, serde_json::Value> {
    let text = std::fs::read_to_string(out.join("calls.jsonl")).expect("calls.jsonl");
    let mut calls = BTreeMap::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("jsonl line");
        let id = v["call_id"].as_str().expect("call_id").to_string();
        assert!(
            calls.insert(id.clone(), v).is_none(),
            "{id} twice in calls.jsonl"
        );
    }
    calls
}

fn lexicons(dir: &Path) -> PathBuf {
    let lex = dir.join("lexicons");
    std::fs::create_dir_all(&lex).expect("lexicon dir");
    for entry in std::fs::read_dir(repo().join("lexicons")).expect("lexicons") {
        let path = entry.expect("entry").path();
        std::fs::copy(&path, lex.join(path.file_name().expect("name"))).expect("copy lexicon");
    }
    lex
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exit code")
}

#[test]
fn rerun_skips_bad_input_does_not_stop_and_lexicon_edit_rescores_without_the_model() {
    let _asr = ASR.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = tempfile::tempdir().expect("tempdir");
    let clips = clips(tmp.path());
    std::fs::write(tmp.path().join("broken.wav"), b"RIFF\x10\0\0\0WAVEjunkjunk").expect("broken");
    let extra = "c4,broken.wav,A02,2026-10-01T10:00:00+08:00,inbound,left\n\
                 c5,clip.wav,A02,yesterday,inbound,left\n";
    let manifest = manifest(tmp.path(), &clips, extra);
    let lex = lexicons(tmp.path());
    let out = tmp.path().join("out");
    let m = manifest.to_str().expect("utf-8");
    let o = out.to_str().expect("utf-8");

    let first = callqa(
        &["run", "--manifest", m, "--out", o, "--json", "--jobs", "2"],
        &lex,
    );
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert_eq!(code(&first), 1, "failed calls must give exit 1: {stderr}");
    assert!(
        stderr.contains("calls.csv:6: started_at \"yesterday\""),
        "{stderr}"
    );
    assert!(
        stderr.contains("c4: ") && stderr.contains("broken.wav: "),
        "{stderr}"
    );
    let s = summary(&first);
    assert_eq!(
        (
            s["total"].as_u64(),
            s["scored"].as_u64(),
            s["failed"].as_u64()
        ),
        (Some(5), Some(3), Some(2))
    );
    assert_eq!(s["transcribed"], 3);
    assert_eq!(s["model_loaded"], true);
    let before = results(&out);
    assert_eq!(before.len(), 4, "3 scored calls and the broken one");
    assert_eq!(before["c4"]["status"], "error");
    assert!(before["c4"]["error"]
        .as_str()
        .expect("error text")
        .contains("broken.wav"));
    assert_eq!(before["c1"]["status"], "ok");
    assert!(!before["c1"]["segments"]
        .as_array()
        .expect("segments")
        .is_empty());

    let again = callqa(
        &[
            "run",
            "--manifest",
            m,
            "--out",
            o,
            "--json",
            "--max-failed",
            "2",
        ],
        &lex,
    );
    assert_eq!(code(&again), 0, "--max-failed 2 tolerates the two failures");
    let s = summary(&again);
    assert_eq!(
        (s["cached"].as_u64(), s["scored"].as_u64()),
        (Some(3), Some(0))
    );
    assert_eq!(
        s["model_loaded"], false,
        "nothing new: the model must stay unloaded"
    );
    assert_eq!(results(&out), before, "an unchanged rerun changes nothing");

    // A QA lead adds a phrase the agent says in c3 (您的余额是五十元).
    let fanwen = lex.join("反问.txt");
    let mut text = std::fs::read_to_string(&fanwen).expect("lexicon");
    text += "re:(五十|50)元\n";
    std::fs::write(&fanwen, text).expect("edit lexicon");
    let edited = callqa(
        &[
            "run",
            "--manifest",
            m,
            "--out",
            o,
            "--json",
            "--max-failed",
            "2",
        ],
        &lex,
    );
    let s = summary(&edited);
    assert_eq!(
        (s["scored"].as_u64(), s["transcribed"].as_u64()),
        (Some(3), Some(0))
    );
    assert_eq!(
        s["model_loaded"], false,
        "a lexicon edit must re-score from stored transcripts"
    );
    let after = results(&out);
    let has_edit = |calls: &BTreeMap<String, serde_json::Value>| {
        calls.values().any(|c| {
            c["hits"].as_array().is_some_and(|h| {
                h.iter()
                    .any(|h| h["phrase"] == "re:(五十|50)元" && h["role"] == "agent")
            })
        })
    };
    assert!(
        !has_edit(&before) && has_edit(&after),
        "the new phrase must be found in c3: {} {}",
        after["c3"]["segments"],
        after["c3"]["hits"]
    );

    // `rescore` does the same without a manifest and never touches the model.
    std::fs::write(
        &fanwen,
        std::fs::read_to_string(repo().join("lexicons/反问.txt")).expect("lexicon"),
    )
    .expect("restore lexicon");
    let rescored = callqa(&["rescore", "--out", o, "--json"], &lex);
    assert_eq!(
        code(&rescored),
        0,
        "{}",
        String::from_utf8_lossy(&rescored.stderr)
    );
    let s = summary(&rescored);
    assert_eq!(
        (s["scored"].as_u64(), s["model_loaded"].as_bool()),
        (Some(3), Some(false))
    );
    assert!(!has_edit(&results(&out)));
}

#[test]
fn kill_9_mid_run_then_rerun_gives_one_result_per_call_without_redoing_asr() {
    let _asr = ASR.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = tempfile::tempdir().expect("tempdir");
    let clips = clips(tmp.path());
    let manifest = manifest(tmp.path(), &clips, "");
    let lex = repo().join("lexicons");
    let out = tmp.path().join("out");
    let mut child = Command::new(env!("CARGO_BIN_EXE_callqa"))
        .args(["run", "--jobs", "1", "--quiet", "--manifest"])
        .arg(&manifest)
        .arg("--out")
        .arg(&out)
        .arg("--model")
        .arg(model())
        .current_dir(repo())
        .spawn()
        .expect("start callqa");
    let stored = |out: &Path| -> i64 {
        rusqlite::Connection::open(out.join("callqa.db"))
            .and_then(|c| c.query_row("SELECT COUNT(*) FROM transcripts", [], |r| r.get(0)))
            .unwrap_or(0)
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    while stored(&out) == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "no transcript stored in 300 s"
        );
        assert!(
            child.try_wait().expect("poll").is_none(),
            "run ended before it was killed"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.kill().expect("kill -9");
    child.wait().expect("reap");
    let done = stored(&out);
    assert!(done < 3, "the kill came too late to test anything");

    let rerun = callqa(
        &[
            "run",
            "--manifest",
            manifest.to_str().expect("utf-8"),
            "--out",
            out.to_str().expect("utf-8"),
            "--json",
        ],
        &lex,
    );
    assert_eq!(
        code(&rerun),
        0,
        "{}",
        String::from_utf8_lossy(&rerun.stderr)
    );
    let s = summary(&rerun);
    assert_eq!(
        s["transcribed"].as_i64(),
        Some(3 - done),
        "stored transcripts must not be redone"
    );
    let calls = results(&out);
    assert_eq!(calls.keys().collect::<Vec<_>>(), ["c1", "c2", "c3"]);
    assert!(calls.values().all(|c| c["status"] == "ok"));
}

#[test]
fn a_second_run_on_the_same_folder_is_refused_at_once() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let clips = clips(tmp.path());
    let manifest = manifest(tmp.path(), &clips, "");
    let out = tmp.path().join("out");
    std::fs::create_dir_all(&out).expect("out");
    let lock = std::fs::File::create(out.join(".lock")).expect("lock file");
    fs4::FileExt::try_lock(&lock).expect("hold the lock like a running callqa");
    let started = std::time::Instant::now();
    let second = callqa(
        &[
            "run",
            "--manifest",
            manifest.to_str().expect("utf-8"),
            "--out",
            out.to_str().expect("utf-8"),
        ],
        &repo().join("lexicons"),
    );
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(code(&second), 2, "{stderr}");
    assert!(stderr.contains(".lock: another callqa run"), "{stderr}");
    assert!(
        started.elapsed().as_secs() < 30,
        "refused only after waiting"
    );
    assert!(!out.join("calls.jsonl").exists());
}

/// Parses rollup.csv (UTF-8 with BOM) into rows keyed by agent.
fn rollup_csv(out: &Path) -> (Vec<String>, BTreeMap<String, Vec<String>>) {
    let bytes = std::fs::read(out.join("rollup.csv")).expect("rollup.csv");
    assert!(
        bytes.starts_with("\u{feff}".as_bytes()),
        "rollup.csv must start with a BOM"
    );
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let headers: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    let mut rows = BTreeMap::new();
    for r in reader.records() {
        let r: Vec<String> = r.expect("row").iter().map(String::from).collect();
        rows.insert(r[1].clone(), r);
    }
    (headers, rows)
}

#[test]
fn three_shards_merged_equal_an_unsharded_dir_run_and_the_rollup_matches_a_hand_count() {
    let _asr = ASR.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = tempfile::tempdir().expect("tempdir");
    let rec = tmp.path().join("recordings");
    std::fs::create_dir_all(&rec).expect("recordings");
    let clips = clips(&rec);
    let manifest = manifest(&rec, &clips, "");
    let lex = repo().join("lexicons");
    let whole = tmp.path().join("whole");
    let pattern = r"(?P<date>\d{8})_(?P<time>\d{6})_(?P<agent_id>[^_]+)_(?P<direction>in|out)_(?P<call_id>[^.]+)\.wav";
    let unsharded = callqa(
        &[
            "run",
            "--dir",
            rec.to_str().expect("utf-8"),
            "--pattern",
            pattern,
            "--out",
            whole.to_str().expect("utf-8"),
            "--quiet",
        ],
        &lex,
    );
    assert_eq!(
        code(&unsharded),
        0,
        "{}",
        String::from_utf8_lossy(&unsharded.stderr)
    );
    let mut shards = Vec::new();
    for i in 0..3 {
        let dir = tmp.path().join(format!("shard{i}"));
        let spec = format!("{i}/3");
        let run = callqa(
            &[
                "run",
                "--manifest",
                manifest.to_str().expect("utf-8"),
                "--out",
                dir.to_str().expect("utf-8"),
                "--shard",
                &spec,
                "--quiet",
            ],
            &lex,
        );
        assert_eq!(code(&run), 0, "{}", String::from_utf8_lossy(&run.stderr));
        shards.push(dir);
    }
    let merged = tmp.path().join("merged");
    let mut args = vec!["merge", "--out", merged.to_str().expect("utf-8")];
    args.extend(shards.iter().map(|s| s.to_str().expect("utf-8")));
    let merge = callqa(&args, &lex);
    assert_eq!(
        code(&merge),
        0,
        "{}",
        String::from_utf8_lossy(&merge.stderr)
    );
    let (a, b) = (results(&whole), results(&merged));
    assert_eq!(a.keys().collect::<Vec<_>>(), ["c1", "c2", "c3"]);
    assert_eq!(a, b, "merged shards must equal the unsharded run");

    // Hand count from calls.jsonl against the rollup.
    let (headers, rows) = rollup_csv(&merged);
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}: {headers:?}"))
    };
    for (agent, want_calls) in [("A01", 2), ("A02", 1), ("全部", 3)] {
        let mine: Vec<&serde_json::Value> = b
            .values()
            .filter(|c| agent == "全部" || c["agent_id"] == agent)
            .collect();
        assert_eq!(mine.len(), want_calls);
        let row = &rows[agent];
        assert_eq!(row[col("月份")], "2026-10");
        assert_eq!(row[col("通话数")], want_calls.to_string());
        let min = mine
            .iter()
            .map(|c| c["score"].as_f64().expect("score"))
            .fold(f64::MAX, f64::min);
        assert!((row[col("最低分")].parse::<f64>().expect("number") - min).abs() < 1e-9);
        let minutes: f64 = mine
            .iter()
            .map(|c| c["duration_ms"].as_f64().expect("ms"))
            .sum::<f64>()
            / 60_000.0;
        assert!((row[col("录音分钟")].parse::<f64>().expect("number") - minutes).abs() < 1e-6);
        let greeted = mine
            .iter()
            .filter(|c| {
                c["hits"].as_array().is_some_and(|h| {
                    h.iter()
                        .any(|h| h["category"] == "开头语" && h["role"] != "customer")
                })
            })
            .count();
        let pct: f64 = row[col("开头语合规率%")].parse().expect("number");
        assert!((pct - 100.0 * greeted as f64 / want_calls as f64).abs() < 1e-9);
    }
    assert!(
        rows["A01"][col("开头语合规率%")]
            .parse::<f64>()
            .expect("number")
            > 0.0,
        "c1 opens with the standard greeting"
    );

    // English headers, one month, XLSX read back.
    let report = Command::new(env!("CARGO_BIN_EXE_callqa"))
        .args([
            "report", "--month", "2026-10", "--format", "xlsx", "--lang", "en", "--out",
        ])
        .arg(&merged)
        .current_dir(repo())
        .output()
        .expect("report");
    assert_eq!(
        code(&report),
        0,
        "{}",
        String::from_utf8_lossy(&report.stderr)
    );
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook(merged.join("rollup.xlsx")).expect("open xlsx");
    assert_eq!(book.sheet_names(), ["2026-10"]);
    let range = book.worksheet_range("2026-10").expect("sheet");
    assert_eq!(
        range.get((0, 1)).map(|c| c.to_string()),
        Some("agent_id".into())
    );
    assert_eq!(range.height(), 4, "header, A01, A02, all");
    assert_eq!(
        range.get((1, 2)).map(|c| c.to_string()),
        Some("2".into()),
        "A01 handled two calls"
    );
}
