//! `callqa score` and `callqa check` as a user runs them: the fixture calls' scripts scored
//! against the shipped rubric, lexicons and calendar (golden: the deductions each truth file
//! expects), a bad input line named by file and line while the batch goes on, and config
//! mistakes caught by `check` with the file and line to fix.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::{Ran, TestEnv};
use serde_json::{json, Value};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `callqa score` on `lines` with the shipped config; returns the results and the run.
fn score(lines: &[String]) -> (Vec<Value>, Ran) {
    let env = TestEnv::new();
    let ran = env.score(&(lines.join("\n") + "\n"), "results");
    (env.results("results"), ran)
}

/// Asserts a run's exit code, showing its stderr when it is not the one wanted.
fn exits(ran: &Ran, code: i32) {
    assert_eq!(ran.code, Some(code), "{}", ran.stderr);
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
    let (results, ran) = score(&lines);
    exits(&ran, 0);
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
    let (results, ran) = score(&[no_time.into(), good, backwards]);
    exits(&ran, 1);
    let stderr = &ran.stderr;
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["call_id"], "ok1");
    assert_eq!(results[0]["extra"]["queue"], "宽带");
    assert!(stderr.contains("in.jsonl:1: not a call"), "{stderr}");
    assert!(stderr.contains("missing field `started_at`"), "{stderr}");
    assert!(stderr.contains("in.jsonl:3: call b1: segment"), "{stderr}");
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
    let env = TestEnv::new();
    let ok = env.callqa(["check"]);
    exits(&ok, 0);
    for sheet in [
        "rubric 客服 (Inbound): 11 items, 53 sub-rules",
        "rubric 营销 (Outbound): 8 items, 31 sub-rules",
    ] {
        assert!(ok.stdout.contains(sheet), "{}", ok.stdout);
    }
    for sub in ["rubrics", "lexicons", "calendars"] {
        copy_dir(&repo().join(sub), &env.path(sub));
    }
    // A misspelt lexicon name in a rule, and a holiday date that is not a date.
    let edit = |rel: &str, from: &str, to: &str| {
        let text = std::fs::read_to_string(env.path(rel)).expect("config file");
        env.write(rel, &text.replacen(from, to, 1));
    };
    edit("rubrics/客服.toml", "\"请稍等\"", "\"请稍后\"");
    edit("calendars/cn.toml", "2026-10-01", "2026-10-32");
    let bad = env.callqa(
        ["check", "--rubrics", "rubrics", "--lexicons", "lexicons"]
            .into_iter()
            .chain(["--calendar", "calendars"]),
    );
    exits(&bad, 2);
    let stderr = &bad.stderr;
    assert!(
        stderr.contains("客服.toml:44: rule 1.2 names lexicon \"请稍后\""),
        "{stderr}"
    );
    assert!(stderr.contains("cn.toml:"), "{stderr}");
    assert!(stderr.contains("2 problems"), "{stderr}");
}

#[test]
fn a_missing_config_folder_stops_the_run_with_exit_2() {
    let env = TestEnv::new();
    env.write("in.jsonl", "");
    let ran = env.callqa([
        "score",
        "--lexicons",
        "nowhere",
        "--transcripts",
        "in.jsonl",
    ]);
    exits(&ran, 2);
    assert!(
        ran.stderr.contains("callqa: nowhere: cannot read")
            && ran.stderr.contains("check the path"),
        "{}",
        ran.stderr
    );
    assert!(!env.path("results/calls.jsonl").exists());
}

/// `callqa score` then `callqa report --scorecard 002 --events FILE`: the monthly 考核 sheet beside
/// the rollup, one row per agent, with the events counted and a bad event named by its line.
#[test]
fn the_monthly_scorecard_is_written_beside_the_rollup() {
    let env = TestEnv::new();
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
    exits(&env.score(&(lines.join("\n") + "\n"), "results"), 0);
    let out = env.path("results");
    env.write("events.csv", "agent_id,date,event,points,reason\nA1,2026-06-01,入职,,\nA1,2026-10-08,紧急情况顶岗,,国庆顶岗\n");
    let report = |events: &str| {
        env.callqa([
            "report",
            "--format",
            "csv",
            "--scorecard",
            "002",
            "--out",
            "results",
            "--events",
            events,
        ])
    };
    exits(&report("events.csv"), 0);
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
    env.write(
        "bad.csv",
        "agent_id,date,event,points,reason\nA1,2026-10-08,组长调整,9,太好了\n",
    );
    let refused = report("bad.csv");
    let stderr = &refused.stderr;
    assert_ne!(refused.code, Some(0));
    assert!(
        stderr.contains("bad.csv:2: 组长调整 allows -5…5 points"),
        "{stderr}"
    );
}

/// Reasons are Chinese by default; `--lang en` writes them in English with the same evidence.
#[test]
fn reasons_follow_lang() {
    let env = TestEnv::new();
    let line = json!({"call_id": "L1", "agent_id": "A1", "started_at": "2026-11-18T14:00:00+08:00",
        "direction": "inbound", "duration_ms": 12000,
        "segments": [{"role": "agent", "start_ms": 6500, "end_ms": 9000, "text": "您好，客服中心，请问有什么可以帮您？"},
                     {"role": "agent", "start_ms": 9500, "end_ms": 11000, "text": "祝您心情愉快，再见！"}]});
    env.write("in.jsonl", &format!("{line}\n"));
    let reason = |lang: &str| {
        exits(
            &env.callqa([
                "score",
                "--no-html",
                "--lang",
                lang,
                "--transcripts",
                "in.jsonl",
                "--out",
                lang,
            ]),
            0,
        );
        let r = env.results(lang).into_iter().next().expect("a line");
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
