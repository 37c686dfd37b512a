//! `callqa score` and `callqa check` as a user runs them: the fixture calls' scripts scored
//! against the shipped rubric, lexicons and calendar (golden: the deductions each truth file
//! expects), a bad input line named by file and line while the batch goes on, and config
//! mistakes caught by `check` with the file and line to fix.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::{json, Value};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `callqa score` on `lines` with the shipped config; returns results, stderr, exit code.
fn score(lines: &[String]) -> (Vec<Value>, String, Option<i32>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("calls.in.jsonl");
    std::fs::write(&input, lines.join("\n") + "\n").expect("write input");
    let r = repo();
    let out = Command::cargo_bin("callqa")
        .expect("callqa binary")
        .arg("score")
        .arg("--transcripts")
        .arg(&input)
        .arg("--rubrics")
        .arg(r.join("rubrics"))
        .arg("--lexicons")
        .arg(r.join("lexicons"))
        .arg("--calendar")
        .arg(r.join("calendars"))
        .arg("--out")
        .arg(dir.path().join("results"))
        .output()
        .expect("run callqa score");
    let text = std::fs::read_to_string(dir.path().join("results/calls.jsonl")).unwrap_or_default();
    let results = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("calls.jsonl line is JSON"))
        .collect();
    (
        results,
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

/// A fixture's script as an input line: a Wednesday afternoon, so no greeting rule applies.
fn fixture_line(name: &str, truth: &Value) -> String {
    let segments: Vec<Value> = truth["turns"]
        .as_array()
        .expect("turns")
        .iter()
        .map(|t| {
            json!({"role": t["role"], "start_ms": t["start_ms"], "end_ms": t["end_ms"], "text": t["text"]})
        })
        .collect();
    json!({
        "call_id": name,
        "agent_id": "a1",
        "started_at": "2026-11-18T14:00:00+08:00",
        "direction": if name.starts_with("outbound") { "outbound" } else { "inbound" },
        "duration_ms": truth["duration_ms"],
        "segments": segments,
    })
    .to_string()
}

fn deducted(r: &Value) -> BTreeSet<String> {
    r["deductions"]
        .as_array()
        .expect("deductions")
        .iter()
        .map(|d| d["rule"].as_str().expect("rule").to_string())
        .collect()
}

#[test]
fn fixture_scripts_get_the_deductions_their_truth_expects() {
    let mut names = Vec::new();
    let mut lines = Vec::new();
    let mut expected = Vec::new();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(repo().join("fixtures"))
        .expect("fixtures")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".truth.json"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 3, "fixtures missing: {paths:?}");
    for p in &paths {
        let truth: Value =
            serde_json::from_str(&std::fs::read_to_string(p).expect("truth")).expect("truth JSON");
        let name = p
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".truth.json"))
            .expect("name")
            .to_string();
        // Expected findings read "4.6 反问 x2 (…)": the rule id is the first word.
        let rules: BTreeSet<String> = truth["expected"]
            .as_array()
            .expect("expected")
            .iter()
            .filter_map(|e| e.as_str()?.split_whitespace().next().map(String::from))
            .filter(|r| r.chars().next().is_some_and(|c| c.is_ascii_digit()))
            .collect();
        lines.push(fixture_line(&name, &truth));
        names.push(name);
        expected.push(rules);
    }
    let (results, stderr, code) = score(&lines);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(results.len(), names.len());
    for ((r, name), want) in results.iter().zip(&names).zip(&expected) {
        assert_eq!(r["call_id"], json!(name));
        assert_eq!(r["status"], "ok", "{name}");
        let got = deducted(r);
        if want.is_empty() {
            assert!(got.is_empty(), "{name}: clean call deducted {got:?}");
            assert_eq!(r["score"], r["max_score"], "{name}");
        } else {
            assert!(want.is_subset(&got), "{name}: want {want:?}, got {got:?}");
            assert!(r["score"].as_f64() < r["max_score"].as_f64(), "{name}");
        }
        let hits = r["hits"].as_array().expect("hits").len();
        for d in r["deductions"].as_array().expect("deductions") {
            for e in d["evidence"].as_array().expect("evidence") {
                assert!(
                    e.as_u64().is_some_and(|i| (i as usize) < hits),
                    "{name}: {d}"
                );
            }
            assert!(
                d["end_ms"].as_u64() >= d["start_ms"].as_u64(),
                "{name}: {d}"
            );
        }
    }
    let bad = results
        .iter()
        .find(|r| r["call_id"] == "bad_inbound")
        .expect("bad_inbound");
    // Two 反问 in the call: the item's points once, plus the extra 5.
    let extra: f64 = bad["deductions"]
        .as_array()
        .expect("deductions")
        .iter()
        .filter(|d| d["rule"] == "4.6")
        .map(|d| d["points"].as_f64().unwrap_or(0.0))
        .fold(0.0, f64::max);
    assert_eq!(extra, 5.0, "{bad}");
}

#[test]
fn a_bad_line_is_named_and_the_batch_goes_on() {
    let good = json!({
        "call_id": "ok1", "agent_id": "a1", "started_at": "2026-11-18T15:00:00+08:00",
        "direction": "inbound", "queue": "宽带",
        "segments": [
            {"role": "agent", "start_ms": 500, "end_ms": 3500, "text": "您好，客服中心，请问有什么可以帮您？"},
            {"role": "customer", "start_ms": 4000, "end_ms": 6000, "text": "我的宽带断了。"},
            {"role": "agent", "start_ms": 6500, "end_ms": 9000, "text": "好的，已经帮您重启了。祝您心情愉快，再见！"}
        ]
    })
    .to_string();
    let no_time = r#"{"call_id":"x","agent_id":"a1","direction":"inbound","segments":[]}"#;
    let backwards = json!({
        "call_id": "b1", "agent_id": "a1", "started_at": "2026-11-18T15:00:00+08:00",
        "direction": "inbound",
        "segments": [{"role": "agent", "start_ms": 900, "end_ms": 100, "text": "您好"}]
    })
    .to_string();
    let (results, stderr, code) = score(&[no_time.into(), good, backwards]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["call_id"], "ok1");
    assert_eq!(results[0]["extra"]["queue"], "宽带");
    assert!(stderr.contains("calls.in.jsonl:1: not a call"), "{stderr}");
    assert!(stderr.contains("missing field `started_at`"), "{stderr}");
    assert!(
        stderr.contains("calls.in.jsonl:3: call b1: segment"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "1 calls: 1 scored (0 transcribed), 0 unchanged, 2 failed (2 bad input rows)"
        ),
        "{stderr}"
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir").flatten() {
        std::fs::copy(e.path(), to.join(e.file_name())).expect("copy");
    }
}

#[test]
fn check_passes_the_shipped_config_and_names_each_mistake() {
    let r = repo();
    let ok = Command::cargo_bin("callqa")
        .expect("callqa")
        .current_dir(&r)
        .arg("check")
        .output()
        .expect("run check");
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(
        stdout.contains("rubric 客服 (Inbound): 11 items, 53 sub-rules"),
        "{stdout}"
    );
    assert!(
        stdout.contains("rubric 营销 (Outbound): 8 items, 31 sub-rules"),
        "{stdout}"
    );

    let dir = tempfile::tempdir().expect("tempdir");
    for sub in ["rubrics", "lexicons", "calendars"] {
        copy_dir(&r.join(sub), &dir.path().join(sub));
    }
    // A misspelt lexicon name in a rule, and a holiday date that is not a date.
    let sheet = dir.path().join("rubrics/客服.toml");
    let text = std::fs::read_to_string(&sheet).expect("sheet");
    std::fs::write(&sheet, text.replacen("\"请稍等\"", "\"请稍后\"", 1)).expect("write");
    let cal = dir.path().join("calendars/cn.toml");
    let text = std::fs::read_to_string(&cal).expect("calendar");
    std::fs::write(&cal, text.replacen("2026-10-01", "2026-10-32", 1)).expect("write");
    let bad = Command::cargo_bin("callqa")
        .expect("callqa")
        .current_dir(dir.path())
        .args(["check", "--rubrics", "rubrics", "--lexicons", "lexicons"])
        .args(["--calendar", "calendars"])
        .output()
        .expect("run check");
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("客服.toml:44: rule 1.2 names lexicon \"请稍后\""),
        "{stderr}"
    );
    assert!(stderr.contains("cn.toml:"), "{stderr}");
    assert!(stderr.contains("2 problems"), "{stderr}");
}

#[test]
fn a_missing_config_folder_stops_the_run_with_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in.jsonl");
    std::fs::write(&input, "").expect("write");
    let out = Command::cargo_bin("callqa")
        .expect("callqa")
        .current_dir(dir.path())
        .args(["score", "--lexicons", "nowhere", "--transcripts"])
        .arg(&input)
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("callqa: nowhere: cannot read") && stderr.contains("check the path"),
        "{stderr}"
    );
    assert!(!dir.path().join("results/calls.jsonl").exists());
}

/// `callqa score` then `callqa report --scorecard 002 --events FILE`: the monthly 考核 sheet beside
/// the rollup, one row per agent, with the events counted and a bad event named by its line.
#[test]
fn the_monthly_scorecard_is_written_beside_the_rollup() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("calls.in.jsonl");
    let line = |id: &str, agent: &str, text: &str| {
        json!({"call_id": id, "agent_id": agent, "started_at": "2026-10-13T14:20:00+08:00",
               "direction": "inbound", "duration_ms": 10000,
               "segments": [{"role": "agent", "start_ms": 500, "end_ms": 4000, "text": text},
                            {"role": "agent", "start_ms": 6000, "end_ms": 9000, "text": "祝您心情愉快，再见！"}]})
        .to_string()
    };
    let lines = [
        line("S1", "A1", "您好，客服中心，请问有什么可以帮您？"),
        line("S2", "A2", "这是我们公司的规定。"),
    ];
    std::fs::write(&input, lines.join("\n") + "\n").expect("write");
    let out = dir.path().join("results");
    let scored = Command::cargo_bin("callqa")
        .expect("callqa")
        .args(["score", "--transcripts"])
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("score");
    assert_eq!(
        scored.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&scored.stderr)
    );
    let events = dir.path().join("events.csv");
    std::fs::write(&events, "agent_id,date,event,points,reason\nA1,2026-06-01,入职,,\nA1,2026-10-08,紧急情况顶岗,,国庆顶岗\n").expect("events");
    let report = |events: &Path| {
        Command::cargo_bin("callqa")
            .expect("callqa")
            .args(["report", "--format", "csv", "--scorecard", "002", "--out"])
            .arg(&out)
            .arg("--events")
            .arg(events)
            .output()
            .expect("report")
    };
    let ok = report(&events);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let csv = std::fs::read_to_string(out.join("rollup/scorecard-002.csv")).expect("scorecard csv");
    let rows: Vec<Vec<&str>> = csv
        .trim_start_matches('\u{feff}')
        .lines()
        .map(|l| l.split(',').collect())
        .collect();
    let col = |name: &str| {
        rows[0]
            .iter()
            .position(|c| *c == name)
            .unwrap_or_else(|| panic!("{name} in {:?}", rows[0]))
    };
    let a1 = rows
        .iter()
        .find(|r| r[col("坐席工号")] == "A1")
        .expect("A1");
    // 80 + 5 (顶岗), fifth month of employment: (85 − 80) × 10 = +50 元.
    assert_eq!(
        (a1[col("考核总分")], a1[col("等级")], a1[col("工资浮动元")]),
        ("85.00", "B", "50.00")
    );
    let a2 = rows
        .iter()
        .find(|r| r[col("坐席工号")] == "A2")
        .expect("A2");
    assert_eq!(a2[col("质检差错通话")], "1", "{csv}");
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "agent_id,date,event,points,reason\nA1,2026-10-08,组长调整,9,太好了\n",
    )
    .expect("bad events");
    let refused = report(&bad);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_ne!(refused.status.code(), Some(0));
    assert!(
        stderr.contains("bad.csv:2: 组长调整 allows -5…5 points"),
        "{stderr}"
    );
}

/// Reasons are Chinese by default; `--lang en` writes them in English with the same evidence.
#[test]
fn reasons_follow_lang() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in.jsonl");
    let line = json!({"call_id": "L1", "agent_id": "A1", "started_at": "2026-11-18T14:00:00+08:00",
        "direction": "inbound", "duration_ms": 12000,
        "segments": [{"role": "agent", "start_ms": 6500, "end_ms": 9000, "text": "您好，客服中心，请问有什么可以帮您？"},
                     {"role": "agent", "start_ms": 9500, "end_ms": 11000, "text": "祝您心情愉快，再见！"}]});
    std::fs::write(&input, format!("{line}\n")).expect("write");
    let reason = |lang: &str| {
        let out = dir.path().join(lang);
        let run = Command::cargo_bin("callqa")
            .expect("callqa")
            .args(["score", "--lang", lang, "--transcripts"])
            .arg(&input)
            .arg("--out")
            .arg(&out)
            .output()
            .expect("score");
        assert_eq!(
            run.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let text = std::fs::read_to_string(out.join("calls.jsonl")).expect("calls.jsonl");
        let r: Value = serde_json::from_str(text.lines().next().expect("a line")).expect("JSON");
        let d = r["deductions"]
            .as_array()
            .expect("deductions")
            .iter()
            .find(|d| d["rule"] == "1.1")
            .cloned()
            .expect("1.1");
        (
            d["reason"].as_str().unwrap_or_default().to_string(),
            d["words"].clone(),
        )
    };
    let (zh, zh_words) = reason("zh");
    let (en, en_words) = reason("en");
    assert_eq!(zh, "开头语于 6.5 秒开始（时限 5.0 秒）");
    assert_eq!(en, "开头语 began at 6.5 s (limit 5.0 s)");
    assert_eq!(zh_words, en_words);
}
