//! `callqa scan` as a user runs it, and the shipped lexicons against real helpdesk agents.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use callqa::scan::{Lexicons, Scanner};
use predicates::prelude::*;
use predicates::str::contains;

const FORBIDDEN: [&str; 6] = ["机械", "愤怒", "反问", "质问", "散漫", "讽刺"];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn shipped() -> Scanner {
    let lex = Lexicons::load_dir(&repo().join("lexicons")).expect("shipped lexicons load");
    Scanner::new(&lex).expect("scanner builds")
}

#[test]
fn prints_one_json_line_per_hit_with_original_offsets() {
    let out = Command::cargo_bin("callqa")
        .expect("binary")
        .current_dir(repo())
        .arg("scan")
        .write_stdin(
            "{\"id\": \"c1\", \"role\": \"agent\", \"text\": \"好的。這是我們公司的規定！\"}\n",
        )
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), 1);
    let hit = &lines[0];
    assert_eq!(hit["id"], "c1");
    assert_eq!(hit["role"], "agent");
    assert_eq!(hit["category"], "愤怒");
    assert_eq!(hit["phrase"], "这是我们公司的规定。");
    assert_eq!(hit["text"], "這是我們公司的規定");
    assert_eq!(
        (hit["start"].as_u64(), hit["end"].as_u64()),
        (Some(3), Some(12))
    );
}

#[test]
fn bad_json_line_is_named_and_the_rest_still_scanned() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("calls.jsonl");
    std::fs::write(
        &input,
        "{\"text\": \"信不信由你\"}\nnot json\n{\"text\": \"你懂礼貌吗\"}\n",
    )
    .expect("write");
    Command::cargo_bin("callqa")
        .expect("binary")
        .current_dir(repo())
        .arg("scan")
        .arg(&input)
        .assert()
        .code(1)
        .stderr(contains("calls.jsonl:2: "))
        .stdout(contains("信不信由你").and(contains("你懂礼貌吗")));
}

#[test]
fn broken_lexicon_stops_the_run_naming_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("反问.txt"),
        "# ok\n你听懂了吗\nre:你(到底\n",
    )
    .expect("write");
    Command::cargo_bin("callqa")
        .expect("binary")
        .args(["scan", "--lexicons"])
        .arg(dir.path())
        .write_stdin("{\"text\": \"x\"}\n")
        .assert()
        .code(2)
        .stderr(contains("反问.txt:3: bad regex"));
}

#[test]
fn every_shipped_entry_is_found_in_its_own_words() {
    let s = shipped();
    for e in s.entries() {
        if e.phrase.starts_with("re:") {
            continue;
        }
        let found = s
            .scan_text(&e.phrase)
            .iter()
            .any(|h| h.entry.category == e.category);
        assert!(found, "{} `{}` not found in itself", e.rule, e.phrase);
    }
}

/// Real helpdesk agents (almost) never use forbidden phrases: every hit is a false positive.
#[test]
fn forbidden_false_positives_on_real_agents_at_most_one_per_thousand() {
    let data = repo().join("../shared/data/cs-text-dev");
    let s = shipped();
    let mut utterances = 0usize;
    let mut false_hits = Vec::new();
    for file in [
        "stc3_train_helpdesk.jsonl",
        "mobilecs_phone_transcripts.jsonl",
    ] {
        let text = std::fs::read_to_string(data.join(file)).expect("shared data beside the repo");
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).expect("dataset line is JSON");
            if v["role"] != "agent" {
                continue;
            }
            let t = v["text"].as_str().unwrap_or_default();
            utterances += 1;
            for h in s.scan_text(t) {
                if FORBIDDEN.contains(&h.entry.category.as_str()) {
                    false_hits.push(format!("{}: {t}", h.entry.rule));
                }
            }
        }
    }
    assert!(utterances > 7000, "only {utterances} agent utterances read");
    assert!(
        false_hits.len() * 1000 <= utterances,
        "{} false hits in {utterances} agent utterances:\n{}",
        false_hits.len(),
        false_hits.join("\n")
    );
}

#[test]
fn lexicon_dir_without_files_is_an_error_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = Lexicons::load_dir(dir.path()).expect_err("empty dir");
    assert!(err.to_string().contains(&dir.path().display().to_string()));
    assert!(Path::new(&repo().join("lexicons/README.md")).exists());
}
