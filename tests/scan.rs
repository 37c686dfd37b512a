//! `callqa scan` as a user runs it, and the shipped lexicons on the phonetic dev set.

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use callqa::scan::{Lexicons, Scanner};
use predicates::prelude::*;
use predicates::str::contains;

mod devset;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn shipped() -> Scanner {
    let lex = Lexicons::load_dir(&repo().join("lexicons")).expect("shipped lexicons load");
    Scanner::new(&lex).expect("scanner builds")
}

#[test]
fn prints_one_json_line_per_hit_with_original_offsets() {
    let out = Command::from_std(common::callqa_command())
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
    assert_eq!(hit["match"], "exact");
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
    Command::from_std(common::callqa_command())
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
    Command::from_std(common::callqa_command())
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

/// The dev set's variants of P1–P50 (fixtures/phonetic/devset.tsv): Whisper-like slips must be
/// caught, polite look-alikes never. False hits on real agents are measured by
/// `examples/scan_eval.rs` on data the repository does not ship.
#[test]
fn devset_recall_on_variants_and_silence_on_polite_look_alikes() {
    let rows = devset::load();
    let outcomes = devset::run(&shipped(), &rows);
    let sets = devset::by_set(&outcomes);
    let missed: Vec<String> = outcomes
        .iter()
        .filter(|o| !o.ok)
        .map(|o| {
            format!(
                "devset.tsv:{} {} {} {:?}",
                o.row.line, o.row.set, o.row.text, o.hits
            )
        })
        .collect();
    for set in ["homophone", "near", "slip", "paraphrase"] {
        let (found, total) = sets[set];
        assert!(
            found * 10 >= total * 9,
            "{set}: recall {found}/{total} below 0.9; missed:\n{}",
            missed.join("\n")
        );
    }
    let (quiet, polite) = sets["polite"];
    assert!(polite >= 30, "only {polite} polite look-alikes");
    assert_eq!(
        quiet,
        polite,
        "polite look-alikes hit:\n{}",
        missed.join("\n")
    );
}

/// A variant is reported as the kind it was written as, or as exact where a regex, proximity
/// pattern or shorter variant of the same lexicon covers it; the slips exactly so.
#[test]
fn devset_variants_match_as_the_kind_they_were_written_as() {
    let rows = devset::load();
    let outcomes = devset::run(&shipped(), &rows);
    for o in outcomes.iter().filter(|o| o.ok && o.row.expect.is_some()) {
        let kinds: Vec<&str> = o
            .hits
            .iter()
            .filter(|h| Some(&h.0) == o.row.expect.as_ref())
            .map(|h| h.1.as_str())
            .collect();
        let fits = |k: &str| k == o.row.kind || (k == "exact" && o.row.set != "slip");
        assert!(
            kinds.iter().all(|k| fits(k)),
            "devset.tsv:{} {} written as {}, found as {kinds:?}",
            o.row.line,
            o.row.text,
            o.row.kind
        );
    }
}

#[test]
fn lexicon_dir_without_files_is_an_error_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = Lexicons::load_dir(dir.path()).expect_err("empty dir");
    assert!(err.to_string().contains(&dir.path().display().to_string()));
    assert!(Path::new(&repo().join("lexicons/README.md")).exists());
}
