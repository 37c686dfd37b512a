//! The scan on real customer-service text (../shared/data/cs-text-dev): it finds every seed
//! phrase wherever and however it is written, and stays quiet on real agents' words.

use std::path::PathBuf;

use callqa::scan::{Lexicons, Pattern, Scanner};
use proptest::prelude::*;

const FORBIDDEN: [&str; 6] = ["机械", "愤怒", "反问", "质问", "散漫", "讽刺"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn scanner() -> &'static Scanner {
    static S: std::sync::OnceLock<Scanner> = std::sync::OnceLock::new();
    S.get_or_init(|| {
        let lex = Lexicons::load_dir(&root().join("lexicons")).unwrap_or_else(|e| panic!("{e}"));
        Scanner::new(&lex).expect("scanner")
    })
}

/// (role, text) of every utterance of the dev corpus.
fn utterances() -> &'static Vec<(String, String)> {
    static U: std::sync::OnceLock<Vec<(String, String)>> = std::sync::OnceLock::new();
    U.get_or_init(|| {
        let dir = root().join("../shared/data/cs-text-dev");
        let mut out = Vec::new();
        for name in [
            "stc3_train_helpdesk.jsonl",
            "mobilecs_phone_transcripts.jsonl",
        ] {
            let body = std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| {
                panic!(
                    "{}: {e}; the shared data set sits beside the repository",
                    dir.display()
                )
            });
            for line in body.lines() {
                let v: serde_json::Value = serde_json::from_str(line).expect("json");
                out.push((
                    v["role"].as_str().unwrap_or("").to_string(),
                    v["text"].as_str().unwrap_or("").to_string(),
                ));
            }
        }
        out
    })
}

#[test]
fn real_agents_trigger_at_most_one_forbidden_hit_per_thousand_utterances() {
    let agent: Vec<&str> = utterances()
        .iter()
        .filter(|(r, _)| r == "agent")
        .map(|(_, t)| t.as_str())
        .collect();
    assert!(agent.len() > 5_000, "{} agent utterances", agent.len());
    let mut false_hits = Vec::new();
    for text in &agent {
        for hit in scanner().scan_text(text) {
            let e = &scanner().lexicons().entries[hit.entry];
            if FORBIDDEN.contains(&e.category.as_str()) {
                false_hits.push(format!("{} {}: {text}", e.category, e.phrase));
            }
        }
    }
    assert!(
        false_hits.len() * 1000 <= agent.len(),
        "{} forbidden hits in {} agent utterances:\n{}",
        false_hits.len(),
        agent.len(),
        false_hits.join("\n")
    );
}

#[test]
fn every_seed_phrase_is_found_as_written() {
    let lex = scanner().lexicons();
    for e in lex
        .entries
        .iter()
        .filter(|e| FORBIDDEN.contains(&e.category.as_str()))
    {
        if matches!(e.pattern, Pattern::Literal(_)) {
            let text = format!("好的。{}谢谢", e.phrase);
            assert!(
                scanner()
                    .scan_text(&text)
                    .iter()
                    .any(|h| lex.entries[h.entry].category == e.category),
                "{} not found in {text}",
                e.rule()
            );
        }
    }
}

/// Traditional forms of characters the seed phrases use, for Whisper-style output.
fn traditional(s: &str) -> String {
    zhconv::zhconv(s, zhconv::Variant::ZhHant)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn a_phrase_inserted_anywhere_is_found_with_its_span(
        pick in 0usize..1000,
        host in 0usize..100_000,
        at in 0usize..200,
        trad in any::<bool>(),
        noise in proptest::collection::vec(prop_oneof![Just("，"), Just(" "), Just("、"), Just("？")], 0..3),
    ) {
        let lex = scanner().lexicons();
        let literal: Vec<&callqa::scan::Entry> = lex.entries.iter()
            .filter(|e| FORBIDDEN.contains(&e.category.as_str()) && matches!(e.pattern, Pattern::Literal(_)) && e.exclusions.is_empty())
            .collect();
        let entry = literal[pick % literal.len()];
        let base = &utterances()[host % utterances().len()].1;
        let chars: Vec<char> = base.chars().collect();
        let at = at.min(chars.len());
        // The phrase, with punctuation sprinkled between its characters.
        let mut phrase = String::new();
        for (i, c) in entry.phrase.chars().enumerate() {
            phrase.push(c);
            if i == 1 {
                for n in &noise {
                    phrase.push_str(n);
                }
            }
        }
        let phrase = if trad { traditional(&phrase) } else { phrase };
        let before: String = chars[..at].iter().collect();
        let after: String = chars[at..].iter().collect();
        let text = format!("{before}{phrase}{after}");
        let start = before.chars().count();
        let hits = scanner().scan_text(&text);
        let end = start + phrase.chars().count();
        // Found where it was put: a hit of its category inside the inserted span.
        let found = hits.iter().any(|h| {
            lex.entries[h.entry].category == entry.category && h.start >= start && h.end <= end && h.start < h.end
        });
        prop_assert!(found, "{} ({}) not found in {:?}: {:?}", entry.phrase, entry.category, text, hits);
        for h in &hits {
            prop_assert!(h.start < h.end && h.end <= text.chars().count());
        }
    }
}

#[test]
fn scan_command_reports_character_offsets_and_bad_lines() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in.jsonl");
    std::fs::write(
        &input,
        "{\"id\":\"u1\",\"role\":\"agent\",\"text\":\"好的，不是跟你說了嗎？\"}\nnot json\n",
    )
    .expect("input");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_callqa"))
        .current_dir(root())
        .args(["scan", input.to_str().expect("utf-8")])
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(1),
        "a bad line fails the run at the end"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("in.jsonl:2: not JSON"));
    let hit: serde_json::Value = serde_json::from_str(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .expect("a hit"),
    )
    .expect("json");
    assert_eq!(hit["category"], "反问");
    assert_eq!(
        (hit["start"].as_u64(), hit["end"].as_u64()),
        (Some(3), Some(10))
    );
    assert_eq!(hit["text"], "不是跟你說了嗎");
    assert_eq!(hit["id"], "u1");
}
