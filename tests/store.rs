//! The store as the one source of truth, as users meet it: every command that writes results
//! writes the store and regenerates `calls.jsonl` from it, every command that reads results
//! reads the store, and a failure of everything (the model) stops the run with exit 2 and one
//! line instead of failing each call. All runs happen in an empty folder with the shipped
//! configuration compiled into callqa, as an installed callqa runs.

mod common;

use common::TestEnv;
use serde_json::json;

/// `n` text-only calls: a compliant one for agent A1 and, every third, a 反问 for agent A2.
fn transcripts(n: usize) -> String {
    (0..n)
        .map(|i| {
            let (agent, line) = if i % 3 == 2 {
                ("A2", "不是跟你说了吗？重启一下就好了。")
            } else {
                ("A1", "好的，已经帮您重启了。")
            };
            json!({
                "call_id": format!("c{i:03}"), "agent_id": agent,
                "started_at": "2026-10-13T14:20:00+08:00", "direction": "inbound",
                "segments": [
                    {"role": "agent", "start_ms": 500, "end_ms": 3500, "text": "您好，客服中心，请问有什么可以帮您？"},
                    {"role": "customer", "start_ms": 4000, "end_ms": 6000, "text": "我的宽带断了。"},
                    {"role": "agent", "start_ms": 6500, "end_ms": 9000, "text": line},
                    {"role": "agent", "start_ms": 9500, "end_ms": 12000, "text": "请问还有什么可以帮您？祝您生活愉快，再见！"}
                ]
            })
            .to_string()
                + "\n"
        })
        .collect()
}

#[test]
fn score_then_report_gives_the_rollup_and_rescore_keeps_every_call() {
    let env = TestEnv::new();
    env.write("in.jsonl", &transcripts(11));
    let scored = env.callqa(["score", "--out", "res", "--transcripts", "in.jsonl"]);
    assert_eq!(scored.code, Some(0), "{}", scored.stderr);
    assert_eq!(env.results("res").len(), 11);

    let report = env.callqa(["report", "--out", "res", "--format", "csv"]);
    assert_eq!(report.code, Some(0), "{}", report.stderr);
    let csv = std::fs::read_to_string(env.path("res/rollup/rollup.csv")).expect("rollup.csv");
    for agent in ["A1", "A2"] {
        assert!(
            csv.contains(agent),
            "{agent} missing from the rollup:\n{csv}"
        );
    }

    let rescored = env.callqa(["rescore", "--out", "res"]);
    assert_eq!(rescored.code, Some(0), "{}", rescored.stderr);
    let after = env.results("res");
    assert_eq!(after.len(), 11, "rescore lost calls");
    let deducted = after
        .iter()
        .filter(|r| r["deductions"].as_array().is_some_and(|d| !d.is_empty()))
        .count();
    assert_eq!(deducted, 3, "the three 反问 calls keep their deduction");
}

/// Two good calls, then `bad` as line 3: the bad line is named with its reason (exit 1) and
/// the good calls are scored.
#[test]
fn a_bad_third_line_is_named_and_the_rest_is_scored() {
    let huge = transcripts(1)
        .replace("c000", "huge")
        .replace("\"end_ms\":12000", "\"end_ms\":18446744073709551615");
    for (bad, reason) in [
        (huge.as_str(), "in.jsonl:3: call huge: times reach"),
        (
            &transcripts(1),
            "in.jsonl:3: call_id \"c000\" appears twice",
        ),
    ] {
        let env = TestEnv::new();
        let ran = env.score(&(transcripts(2) + bad), "res");
        assert_eq!(ran.code, Some(1), "{}", ran.stderr);
        assert!(ran.stderr.contains(reason), "{}", ran.stderr);
        assert_eq!(env.results("res").len(), 2);
    }
}

#[test]
fn html_and_clips_of_text_only_calls_exit_0() {
    let env = TestEnv::new();
    let scored = env.score(&transcripts(3), "res");
    assert_eq!(scored.code, Some(0), "{}", scored.stderr);
    let html = env.callqa(["html", "--out", "res"]);
    assert_eq!(html.code, Some(0), "{}", html.stderr);
    assert!(env.path("res/report/index.html").exists());
    let clips = env.callqa(["clips", "--results", "res", "--out", "clips"]);
    assert_eq!(clips.code, Some(0), "{}", clips.stderr);
}

#[test]
fn a_missing_or_unverified_model_stops_the_run_with_exit_2_and_one_line() {
    let env = TestEnv::new();
    let wav = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/good_inbound.wav");
    let manifest = format!(
        "call_id,audio,agent_id,started_at,direction,agent_channel\n\
         c1,{0},A1,2026-10-13T14:20:00+08:00,inbound,left\n\
         c2,{0},A1,2026-10-13T15:20:00+08:00,inbound,left\n",
        wav.display()
    );
    env.write("calls.csv", &manifest);
    env.write("mine.bin", "not the model callqa builds");
    for (model, says) in [
        ("no/such/model.bin", "callqa model prepare"),
        ("mine.bin", "--allow-unverified-model"),
    ] {
        let ran = env.callqa([
            "run",
            "--manifest",
            "calls.csv",
            "--out",
            "res",
            "--model",
            model,
        ]);
        assert_eq!(ran.code, Some(2), "{}", ran.stderr);
        let lines: Vec<&str> = ran.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{}", ran.stderr);
        assert!(
            lines[0].contains(model) && lines[0].contains(says),
            "{}",
            ran.stderr
        );
    }
}

#[test]
fn a_calls_jsonl_from_elsewhere_imports_and_bad_lines_are_named() {
    let env = TestEnv::new();
    env.score(&transcripts(2), "a");
    let mut text = std::fs::read_to_string(env.path("a/calls.jsonl")).expect("export");
    text.push_str("{not json\n");
    env.write("moved.jsonl", &text);
    let ran = env.callqa(["import", "moved.jsonl", "--out", "b", "--no-html"]);
    assert_eq!(ran.code, Some(1), "{}", ran.stderr);
    assert!(
        ran.stderr.contains("moved.jsonl:3: not a scored call"),
        "{}",
        ran.stderr
    );
    assert_eq!(env.results("b"), env.results("a"));
}

#[test]
fn an_installed_callqa_works_from_an_empty_folder_and_init_writes_editable_copies() {
    let env = TestEnv::new();
    let check = env.callqa(["check"]);
    assert_eq!(check.code, Some(0), "{}", check.stderr);
    assert!(
        check.stdout.contains("lexicons: ") && check.stdout.contains("(shipped defaults)"),
        "{}",
        check.stdout
    );

    let init = env.callqa(["init", "cfg"]);
    assert_eq!(init.code, Some(0), "{}", init.stderr);
    // An edited copy is what the next command reads, and check says where it came from.
    let lexicon = env.path("cfg/lexicons/反问.txt");
    let edited = std::fs::read_to_string(&lexicon).expect("copy") + "已经帮您重启了\n";
    std::fs::write(&lexicon, edited).expect("edit");
    let check = env.callqa(["check", "--config", "cfg/callqa.toml"]);
    assert_eq!(check.code, Some(0), "{}", check.stderr);
    assert!(
        check.stdout.contains("settings cfg/callqa.toml"),
        "{}",
        check.stdout
    );
    env.write("in.jsonl", &transcripts(1));
    for (config, deducted) in [(None, false), (Some("cfg/callqa.toml"), true)] {
        let mut args = vec![
            "score",
            "--out",
            "res",
            "--no-html",
            "--transcripts",
            "in.jsonl",
        ];
        args.extend(config.iter().flat_map(|c| ["--config", *c]));
        let ran = env.callqa(&args);
        assert_eq!(ran.code, Some(0), "{}", ran.stderr);
        let r = &env.results("res")[0];
        assert_eq!(
            r["deductions"].as_array().is_some_and(|d| !d.is_empty()),
            deducted,
            "config {config:?}: {r}"
        );
    }
    let again = env.callqa(["init", "cfg"]);
    assert_eq!(again.code, Some(2));
    assert!(
        again.stderr.contains("never overwrites"),
        "{}",
        again.stderr
    );
}
