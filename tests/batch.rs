//! The cron batch end to end, as call-centre IT, inspectors and trainers use it: the real
//! binary, real fixture recordings, the real model and database.
//!
//! One full run of three fixture calls is made once and copied for each scenario, so the
//! scenarios that must not transcribe again can prove it cheaply.

mod common;

use common::{callqa_command, model};

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn callqa(args: &[&str]) -> Output {
    callqa_command()
        .current_dir(root())
        .env("CALLQA_MODEL", model())
        .args(args)
        .output()
        .expect("run callqa")
}

/// `callqa run --manifest MANIFEST --out OUT EXTRA…`.
fn run_manifest(manifest: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["run", "--manifest", manifest.to_str().expect("utf-8")];
    args.extend(["--out", out.to_str().expect("utf-8")]);
    args.extend_from_slice(extra);
    callqa(&args)
}

/// A `callqa run` in the background, one call at a time, for the tests that stop it.
fn spawn_run(manifest: &Path, out: &Path) -> std::process::Child {
    callqa_command()
        .current_dir(root())
        .env("CALLQA_MODEL", model())
        .args(["run", "--manifest", manifest.to_str().expect("utf-8")])
        .args([
            "--out",
            out.to_str().expect("utf-8"),
            "--jobs",
            "1",
            "--no-html",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn callqa run")
}

/// Waits (up to 5 minutes) until the store in `out` holds at least one row of `table`.
fn wait_for_stored(out: &Path, table: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    let query = format!("SELECT COUNT(*) FROM {table}");
    while std::time::Instant::now() < deadline {
        let stored = rusqlite::Connection::open(out.join("callqa.db"))
            .and_then(|c| c.query_row(&query, [], |r| r.get::<_, i64>(0)))
            .unwrap_or(0);
        if stored >= 1 {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn summary(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", String::from_utf8_lossy(&o.stdout), stderr(o)))
}

fn results(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("calls.jsonl"))
        .expect("calls.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

const MANIFEST: &str = "call_id,audio,agent_id,started_at,direction,agent_channel,team\n\
C001,good_inbound.wav,A001,2026-10-13T14:20:00+08:00,inbound,left,一组\n\
C002,bad_inbound.wav,A002,2026-10-14T15:10:00+08:00,inbound,right,一组\n\
C004,outbound_sales.mp3,A002,2026-10-01T14:30:00+08:00,outbound,left,二组\n";

fn write_manifest(dir: &Path, body: &str) -> PathBuf {
    let fixtures = root().join("fixtures");
    let body = body
        .replace(
            ",good_inbound",
            &format!(",{}/good_inbound", fixtures.display()),
        )
        .replace(
            ",bad_inbound",
            &format!(",{}/bad_inbound", fixtures.display()),
        )
        .replace(
            ",outbound_sales",
            &format!(",{}/outbound_sales", fixtures.display()),
        );
    let path = dir.join("calls.csv");
    std::fs::write(&path, body).expect("manifest");
    path
}

/// The shared first run: (temp dir holding it, its output folder, its JSON summary).
fn base() -> &'static (tempfile::TempDir, PathBuf, serde_json::Value) {
    static BASE: OnceLock<(tempfile::TempDir, PathBuf, serde_json::Value)> = OnceLock::new();
    BASE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let manifest = write_manifest(dir.path(), MANIFEST);
        let out = dir.path().join("out");
        let o = run_manifest(&manifest, &out, &["--jobs", "2", "--json"]);
        assert!(o.status.success(), "first run failed: {}", stderr(&o));
        let s = summary(&o);
        (dir, out, s)
    })
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else if e.file_name() != ".lock" {
            std::fs::copy(&p, to.join(e.file_name())).expect("copy");
        }
    }
}

/// A copy of the base run's output folder.
fn copy_of_base(name: &str) -> (tempfile::TempDir, PathBuf) {
    let (_, out, _) = base();
    let dir = tempfile::tempdir().expect("tempdir");
    let copy = dir.path().join(name);
    copy_dir(out, &copy);
    (dir, copy)
}

fn by_id(rs: &[serde_json::Value], id: &str) -> serde_json::Value {
    rs.iter()
        .find(|r| r["call_id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("{id} missing"))
}

#[test]
fn first_run_scores_every_call_with_evidence() {
    let (_, out, s) = base();
    assert_eq!(s["transcribed"], 3, "{s}");
    assert_eq!(s["failed"], 0);
    let rs = results(out);
    assert_eq!(rs.len(), 3);
    let good = by_id(&rs, "C001");
    assert_eq!(good["score"], 100.0, "{good}");
    let bad = by_id(&rs, "C002");
    let rules: Vec<&str> = bad["deductions"]
        .as_array()
        .expect("deductions")
        .iter()
        .map(|d| d["rule"].as_str().unwrap_or(""))
        .collect();
    // The 13.5 s silence after 这是我们公司的规定 was announced by nobody: dead air for 1.2
    // (below its 15 s threshold), not a 2.4 hold.
    for expected in ["1.1", "2.3", "4.1", "4.6"] {
        assert!(
            rules.contains(&expected),
            "C002 lacks {expected}: {rules:?}"
        );
    }
    for d in bad["deductions"].as_array().expect("deductions") {
        assert!(d["end_ms"].as_u64() >= d["start_ms"].as_u64(), "{d}");
        assert!(!d["reason"].as_str().unwrap_or("").is_empty());
    }
    let fanwen = bad["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .filter(|h| h["category"] == "反问" && h["role"] == "agent")
        .count();
    assert_eq!(fanwen, 2, "two 反问 in C002: {}", bad["hits"]);
    assert!(bad["score"].as_f64().expect("score") <= 50.0);
}

#[test]
fn a_rerun_skips_everything_without_loading_the_model() {
    let (dir, out) = copy_of_base("rerun");
    let manifest = write_manifest(dir.path(), MANIFEST);
    let o = run_manifest(&manifest, &out, &["--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = summary(&o);
    assert_eq!(
        (s["cached"].as_u64(), s["transcribed"].as_u64()),
        (Some(3), Some(0)),
        "{s}"
    );
    assert_eq!(s["model_loaded"], false);
}

#[test]
fn a_lexicon_edit_rescores_from_stored_transcripts_without_the_model() {
    let (dir, out) = copy_of_base("rescore");
    let lex = dir.path().join("lexicons");
    copy_dir(&root().join("lexicons"), &lex);
    let mut extra = std::fs::read_to_string(lex.join("反问.txt")).expect("lexicon");
    extra.push_str("\n重启路由器\n");
    std::fs::write(lex.join("反问.txt"), extra).expect("edit");
    let o = callqa(&[
        "rescore",
        "--out",
        out.to_str().expect("utf-8"),
        "--lexicons",
        lex.to_str().expect("utf-8"),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = summary(&o);
    assert_eq!(s["model_loaded"], false, "{s}");
    assert_eq!(s["scored"], 3, "{s}");
    let bad = by_id(&results(&out), "C002");
    assert!(
        bad["hits"]
            .as_array()
            .expect("hits")
            .iter()
            .any(|h| h["phrase"] == "重启路由器"),
        "{}",
        bad["hits"]
    );
}

#[test]
fn bad_rows_and_corrupt_recordings_fail_alone() {
    let (dir, out) = copy_of_base("bad");
    let corrupt = dir.path().join("broken.wav");
    std::fs::write(&corrupt, "this is not audio").expect("corrupt");
    let body = format!(
        "{MANIFEST}C009,{},A003,2026-10-16T10:00:00+08:00,inbound,left,二组\nC010,x.wav,A003,yesterday,inbound,left,二组\n",
        corrupt.display()
    );
    let manifest = write_manifest(dir.path(), &body);
    let o = run_manifest(&manifest, &out, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("calls.csv:6: started_at \"yesterday\""),
        "{err}"
    );
    assert!(
        err.contains("C009: ") && err.contains("broken.wav"),
        "{err}"
    );
    let rs = results(&out);
    assert_eq!(by_id(&rs, "C009")["status"], "error");
    assert_eq!(by_id(&rs, "C001")["status"], "ok");
    assert_eq!(rs.len(), 4, "C010 never became a call");
}

#[test]
fn a_second_run_on_the_same_folder_is_refused() {
    let (dir, out) = copy_of_base("locked");
    let manifest = write_manifest(dir.path(), MANIFEST);
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(out.join(".lock"))
        .expect("lock file");
    lock.try_lock().expect("hold the lock");
    let o = run_manifest(&manifest, &out, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("another callqa is writing to this folder"),
        "{}",
        stderr(&o)
    );
}

fn essence(rs: &[serde_json::Value]) -> Vec<(String, String, String)> {
    let mut v: Vec<(String, String, String)> = rs
        .iter()
        .map(|r| {
            (
                r["call_id"].to_string(),
                r["score"].to_string(),
                r["deductions"].to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn three_shards_merged_equal_one_run() {
    let (_, out, _) = base();
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = write_manifest(dir.path(), MANIFEST);
    let mut shard_dirs = Vec::new();
    let mut seen = 0;
    for i in 0..3 {
        let shard = dir.path().join(format!("shard{i}"));
        // Each shard starts from the stored transcripts (as a shared cache would), so no ASR.
        std::fs::create_dir_all(&shard).expect("mkdir");
        std::fs::copy(out.join("callqa.db"), shard.join("callqa.db")).expect("db");
        let part = format!("{i}/3");
        let o = run_manifest(
            &manifest,
            &shard,
            &["--shard", &part, "--json", "--no-html"],
        );
        assert!(o.status.success(), "{}", stderr(&o));
        seen += summary(&o)["calls"].as_u64().expect("calls");
        shard_dirs.push(shard);
    }
    assert_eq!(seen, 3, "every call in exactly one shard");
    let merged = dir.path().join("merged");
    let mut args = vec!["merge".to_string()];
    args.extend(shard_dirs.iter().map(|d| d.display().to_string()));
    args.extend([
        "--out".into(),
        merged.display().to_string(),
        "--no-html".into(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = callqa(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(essence(&results(&merged)), essence(&results(out)));
}

#[test]
fn killed_mid_run_a_rerun_gives_exactly_one_result_per_call() {
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = write_manifest(dir.path(), MANIFEST);
    let out = dir.path().join("out");
    let mut child = spawn_run(&manifest, &out);
    wait_for_stored(&out, "transcripts");
    child.kill().expect("kill -9");
    child.wait().expect("reap");
    let rerun = |extra: &[&str]| {
        let mut args = vec!["--json", "--no-html"];
        args.extend_from_slice(extra);
        run_manifest(&manifest, &out, &args)
    };
    // A call the killed run was working on is reported, not retried blindly (it might be the
    // file that killed it); `--retry-failed` finishes it.
    let o = rerun(&[]);
    if !o.status.success() {
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(stderr(&o).contains("--retry-failed"), "{}", stderr(&o));
        let s = summary(&o);
        assert_eq!(s["failed"], 1, "only the call in flight: {s}");
    }
    let o = rerun(&["--retry-failed"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = summary(&o);
    assert!(
        s["transcribed"].as_u64().expect("transcribed") <= 2,
        "the stored call was not transcribed again: {s}"
    );
    let rs = results(&out);
    let mut ids: Vec<String> = rs.iter().map(|r| r["call_id"].to_string()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!((rs.len(), ids.len()), (3, 3), "one result per call");
    assert!(rs.iter().all(|r| r["status"] == "ok"), "{rs:?}");
}

#[test]
fn the_rollup_matches_a_hand_count_and_the_xlsx_opens() {
    let (_, out, _) = base();
    let rs = results(out);
    let a002: Vec<&serde_json::Value> = rs.iter().filter(|r| r["agent_id"] == "A002").collect();
    let fanwen: usize = a002
        .iter()
        .map(|r| {
            r["hits"]
                .as_array()
                .expect("hits")
                .iter()
                .filter(|h| h["category"] == "反问" && h["role"] == "agent")
                .count()
        })
        .sum();
    let csv = std::fs::read_to_string(out.join("rollup/rollup.csv")).expect("rollup.csv");
    assert!(csv.starts_with('\u{feff}'), "CSV has a BOM for Excel");
    let mut reader = csv::Reader::from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
    let headers = reader.headers().expect("headers").clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("{name} column"))
    };
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    let calls_a002: usize = rows
        .iter()
        .filter(|r| &r[col("坐席工号")] == "A002")
        .map(|r| r[col("通话数")].parse::<usize>().expect("count"))
        .sum();
    assert_eq!(calls_a002, a002.len());
    let fanwen_csv: usize = rows
        .iter()
        .filter(|r| &r[col("坐席工号")] == "A002")
        .map(|r| r[col("禁语·反问")].parse::<usize>().expect("count"))
        .sum();
    assert_eq!(fanwen_csv, fanwen);
    let overall = rows
        .iter()
        .find(|r| &r[col("坐席工号")] == "全部")
        .expect("overall row");
    assert_eq!(
        overall[col("通话数")].parse::<usize>().expect("count"),
        rs.len()
    );
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook(out.join("rollup/rollup.xlsx")).expect("xlsx opens");
    let sheet = book.worksheet_range("2026-10").expect("sheet per month");
    assert_eq!(
        sheet.get((0, 2)).map(|c| c.to_string()),
        Some("坐席工号".to_string())
    );
    assert_eq!(sheet.height(), rows.len() + 1);
}

#[test]
fn clips_hold_the_evidence_plus_context_and_do_not_duplicate() {
    let (_, out, _) = base();
    let dir = tempfile::tempdir().expect("tempdir");
    let clips = dir.path().join("clips");
    for _ in 0..2 {
        let o = callqa(&[
            "clips",
            "--results",
            out.to_str().expect("utf-8"),
            "--out",
            clips.to_str().expect("utf-8"),
            "--category",
            "反问",
            "--context",
            "2s",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let index: Vec<serde_json::Value> = std::fs::read_to_string(clips.join("index.jsonl"))
        .expect("index")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert!(!index.is_empty());
    let wavs = std::fs::read_dir(&clips)
        .expect("dir")
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "wav"))
        .count();
    assert_eq!(
        wavs,
        index.len(),
        "a rerun replaces clips instead of adding copies"
    );
    let hits: Vec<serde_json::Value> = by_id(&results(out), "C002")["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .filter(|h| h["category"] == "反问")
        .cloned()
        .collect();
    for row in &index {
        assert!(
            !row["clip"].as_str().expect("name").contains('反'),
            "no raw text in file names"
        );
        let reader = hound::WavReader::open(clips.join(row["clip"].as_str().expect("name")))
            .expect("clip decodes");
        let spec = reader.spec();
        assert_eq!((spec.bits_per_sample, spec.channels), (16, 1));
        let ms = reader.duration() as u64 * 1000 / spec.sample_rate as u64;
        let (start, end) = (
            row["start_ms"].as_u64().expect("start"),
            row["end_ms"].as_u64().expect("end"),
        );
        assert!(
            ms.abs_diff(end - start) <= 1,
            "clip {ms} ms vs index {start}..{end}"
        );
        // A clip runs from 2 s before its first hit to 2 s after its last (hits close
        // together share one clip).
        let starts_at_hit = hits
            .iter()
            .any(|h| start == h["start_ms"].as_u64().expect("s").saturating_sub(2_000));
        let ends_at_hit = hits
            .iter()
            .any(|h| end == h["end_ms"].as_u64().expect("e") + 2_000);
        assert!(
            starts_at_hit && ends_at_hit,
            "clip {start}..{end} is hits with 2 s of context: {hits:?}"
        );
    }
}

#[test]
fn the_inspector_report_plays_the_evidence_in_a_real_browser() {
    let (_, out, _) = base();
    let node_modules = root().join("tests/browser/node_modules/puppeteer-core");
    assert!(
        node_modules.exists(),
        "puppeteer-core missing: run scripts/test (it runs npm ci in tests/browser)"
    );
    assert!(
        Path::new("/usr/bin/chromium").exists() || std::env::var_os("CHROMIUM").is_some(),
        "chromium missing: apt-get install chromium (scripts/test does)"
    );
    let artifacts = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report-screenshots");
    let o = Command::new("node")
        .arg(root().join("tests/browser/report.js"))
        .arg(out.join("report"))
        .arg(&artifacts)
        .args(["反问", "C002", "1"])
        .output()
        .expect("node");
    assert!(
        o.status.success(),
        "browser check failed: {}{}",
        String::from_utf8_lossy(&o.stdout),
        stderr(&o)
    );
    let seen: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let expected = (seen["seek_ms"].as_f64().expect("seek") / 1000.0 - 2.0).max(0.0);
    let now = seen["current_s"].as_f64().expect("time");
    assert!(now >= expected - 0.05 && now < expected + 1.5, "{seen}");
    for shot in ["index.png", "call.png"] {
        assert!(
            artifacts.join(shot).metadata().expect("screenshot").len() > 10_000,
            "{shot}"
        );
    }
}

#[test]
fn speech_is_shown_as_text_never_as_markup() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("t.jsonl");
    std::fs::write(
        &input,
        r#"{"call_id":"X<1>","agent_id":"A\"9","started_at":"2026-10-13T14:20:00+08:00","direction":"inbound","segments":[{"role":"agent","start_ms":500,"end_ms":3000,"text":"您好，客服中心<script>alert(1)</script>"},{"role":"customer","start_ms":4000,"end_ms":6000,"text":"\"onerror=alert(2) 我的号码是13812345678"}]}"#,
    )
    .expect("input");
    let out = dir.path().join("out");
    let o = callqa(&[
        "score",
        "--transcripts",
        input.to_str().expect("utf-8"),
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = callqa(&["html", "--out", out.to_str().expect("utf-8"), "--redact"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut pages = vec![std::fs::read_to_string(out.join("report/index.html")).expect("index")];
    for e in std::fs::read_dir(out.join("report/calls"))
        .expect("calls")
        .flatten()
    {
        pages.push(std::fs::read_to_string(e.path()).expect("page"));
    }
    let call_page = &pages[1];
    assert!(
        call_page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "shown as text"
    );
    assert!(call_page.contains("&quot;onerror=alert(2)"));
    for p in &pages {
        assert!(!p.contains("<script>alert"), "raw markup in the report");
        assert!(!p.contains("\"onerror="), "raw attribute in the report");
        assert!(!p.contains("13812345678"), "--redact hides phone numbers");
    }
}

#[test]
fn a_failed_recording_is_remembered_and_retried_only_when_asked() {
    let (dir, out) = copy_of_base("remembered");
    let corrupt = dir.path().join("broken.wav");
    std::fs::write(&corrupt, "this is not audio").expect("corrupt");
    let body = format!(
        "{MANIFEST}C009,{},A003,2026-10-16T10:00:00+08:00,inbound,left,二组\n",
        corrupt.display()
    );
    let manifest = write_manifest(dir.path(), &body);
    let run = |extra: &[&str]| {
        let mut args = vec!["--no-html"];
        args.extend_from_slice(extra);
        run_manifest(&manifest, &out, &args)
    };
    let first = run(&[]);
    assert_eq!(first.status.code(), Some(1), "{}", stderr(&first));
    assert!(
        !stderr(&first).contains("failed before"),
        "{}",
        stderr(&first)
    );
    let second = run(&[]);
    assert_eq!(second.status.code(), Some(1), "{}", stderr(&second));
    assert!(
        stderr(&second).contains("C009: ")
            && stderr(&second).contains("failed before on the same input"),
        "{}",
        stderr(&second)
    );
    let retried = run(&["--retry-failed"]);
    assert!(
        !stderr(&retried).contains("failed before"),
        "{}",
        stderr(&retried)
    );
    assert_eq!(by_id(&results(&out), "C009")["status"], "error");
}

#[test]
fn another_recording_under_a_known_call_id_is_refused_unless_replaced() {
    let (dir, out) = copy_of_base("identity");
    let swapped = MANIFEST.replace("C001,good_inbound.wav", "C001,bad_inbound.wav");
    let manifest = write_manifest(dir.path(), &swapped);
    let run = |extra: &[&str]| {
        let mut args = vec!["--no-html"];
        args.extend_from_slice(extra);
        run_manifest(&manifest, &out, &args)
    };
    let refused = run(&[]);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("call_id C001 is already stored for another recording"),
        "{}",
        stderr(&refused)
    );
    // The stored call keeps its result.
    assert_eq!(by_id(&results(&out), "C001")["score"], 100.0);
    let replaced = run(&["--replace"]);
    assert!(replaced.status.success(), "{}", stderr(&replaced));
    assert!(by_id(&results(&out), "C001")["score"].as_f64() < Some(100.0));
}

#[test]
fn sigterm_stops_taking_calls_writes_the_exports_and_a_rerun_resumes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = write_manifest(dir.path(), MANIFEST);
    let out = dir.path().join("out");
    let child = spawn_run(&manifest, &out);
    wait_for_stored(&out, "results");
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(term.success());
    let o = child.wait_with_output().expect("wait");
    assert_eq!(o.status.code(), Some(143), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("stopped by signal 15"),
        "{}",
        stderr(&o)
    );
    let partial = results(&out);
    assert!(!partial.is_empty() && partial.len() < 3, "{partial:?}");
    let rerun = run_manifest(&manifest, &out, &["--no-html"]);
    assert!(rerun.status.success(), "{}", stderr(&rerun));
    assert_eq!(results(&out).len(), 3);
}

#[test]
fn a_rerun_trusts_the_hash_of_an_unchanged_file_unless_asked_to_verify() {
    let (dir, out) = copy_of_base("memo");
    let rec = dir.path().join("rec.wav");
    std::fs::copy(root().join("fixtures/good_inbound.wav"), &rec).expect("copy recording");
    let manifest = write_manifest(dir.path(), &MANIFEST.replace(",good_inbound.wav", ",REC"));
    let body = std::fs::read_to_string(&manifest).expect("manifest");
    std::fs::write(
        &manifest,
        body.replace(",REC", &format!(",{}", rec.display())),
    )
    .expect("write");
    let first = run_manifest(&manifest, &out, &["--json", "--no-html"]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert_eq!(
        summary(&first)["transcribed"],
        0,
        "same audio, stored transcript"
    );

    // Same size, same inode, same modification time, other bytes: only hashing would notice.
    let mtime = std::fs::metadata(&rec)
        .and_then(|m| m.modified())
        .expect("mtime");
    let mut bytes = std::fs::read(&rec).expect("read");
    let n = bytes.len();
    bytes[n - 100..].fill(0x11);
    std::fs::write(&rec, &bytes).expect("rewrite in place");
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&rec)
        .expect("open");
    f.set_modified(mtime).expect("restore mtime");
    drop(f);

    let trusted = run_manifest(&manifest, &out, &["--json", "--no-html"]);
    assert!(trusted.status.success(), "{}", stderr(&trusted));
    assert_eq!(summary(&trusted)["cached"], 3, "{}", summary(&trusted));
    let verified = run_manifest(&manifest, &out, &["--json", "--no-html", "--verify-audio"]);
    assert_eq!(verified.status.code(), Some(1), "{}", stderr(&verified));
    assert!(
        stderr(&verified).contains("C001: "),
        "{}",
        stderr(&verified)
    );
}

/// Decoding is a function of the audio, model and parameters: a second run with another
/// `--jobs` (so other workers and other call orders) writes the same words at the same times.
#[test]
fn the_same_calls_give_the_same_transcripts_whatever_the_jobs() {
    let (_, out, _) = base();
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = write_manifest(dir.path(), MANIFEST);
    let again = dir.path().join("again");
    let o = run_manifest(&manifest, &again, &["--jobs", "1", "--no-html"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let said = |rs: &[serde_json::Value]| -> Vec<(String, String)> {
        let mut v: Vec<_> = rs
            .iter()
            .map(|r| (r["call_id"].to_string(), r["segments"].to_string()))
            .collect();
        v.sort();
        v
    };
    assert_eq!(said(&results(&again)), said(&results(out)));
}
