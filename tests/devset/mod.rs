//! The phonetic development set (`fixtures/phonetic/devset.tsv`): loading it and scoring a
//! scanner on it. Shared by `tests/scan.rs` (which asserts the targets) and
//! `examples/scan_eval.rs` (which prints the table for the README).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

use callqa::scan::{MatchKind, Scanner};

/// The 服务禁语 lexicons: a polite look-alike must hit none of them.
pub const FORBIDDEN: [&str; 6] = ["机械", "愤怒", "反问", "质问", "散漫", "讽刺"];

/// One line of the set.
#[derive(Clone, Debug)]
pub struct Row {
    pub line: usize,
    /// homophone, near, slip, paraphrase or polite.
    pub set: String,
    /// The lexicon that must hit; `None` for polite look-alikes.
    pub expect: Option<String>,
    /// The match kind the row was written to produce (`-` for polite rows).
    pub kind: String,
    pub text: String,
    pub source: String,
}

/// How the scanner did on one row.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub row: Row,
    /// Found in the expected lexicon (or, for a polite row, no forbidden hit at all).
    pub ok: bool,
    /// `(lexicon, kind, words)` of every forbidden hit.
    pub hits: Vec<(String, MatchKind, String)>,
}

pub fn path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/phonetic/devset.tsv")
}

pub fn load() -> Vec<Row> {
    let text = std::fs::read_to_string(path()).expect("fixtures/phonetic/devset.tsv is readable");
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty())
        .map(|(i, l)| {
            let cols: Vec<&str> = l.split('\t').collect();
            assert!(cols.len() >= 4, "devset.tsv:{}: needs 4 columns", i + 1);
            Row {
                line: i + 1,
                set: cols[0].into(),
                expect: (cols[1] != "-").then(|| cols[1].to_string()),
                kind: cols[2].into(),
                text: cols[3].into(),
                source: cols.get(4).unwrap_or(&"").to_string(),
            }
        })
        .collect()
}

pub fn run(scanner: &Scanner, rows: &[Row]) -> Vec<Outcome> {
    rows.iter()
        .map(|row| {
            let hits: Vec<(String, MatchKind, String)> = scanner
                .scan_text(&row.text)
                .into_iter()
                .filter(|h| FORBIDDEN.contains(&h.entry.category.as_str()))
                .map(|h| {
                    let words = row
                        .text
                        .chars()
                        .skip(h.start)
                        .take(h.end - h.start)
                        .collect();
                    (h.entry.category.clone(), h.kind, words)
                })
                .collect();
            let ok = match &row.expect {
                Some(cat) => hits.iter().any(|h| &h.0 == cat),
                None => hits.is_empty(),
            };
            Outcome {
                row: row.clone(),
                ok,
                hits,
            }
        })
        .collect()
}

/// `(found, total)` per set and lexicon.
pub fn by_set_and_lexicon(outcomes: &[Outcome]) -> BTreeMap<(String, String), (usize, usize)> {
    let mut t: BTreeMap<(String, String), (usize, usize)> = BTreeMap::new();
    for o in outcomes {
        let key = (
            o.row.set.clone(),
            o.row.expect.clone().unwrap_or_else(|| "-".into()),
        );
        let e = t.entry(key).or_default();
        e.0 += usize::from(o.ok);
        e.1 += 1;
    }
    t
}

/// `(found, total)` per set.
pub fn by_set(outcomes: &[Outcome]) -> BTreeMap<String, (usize, usize)> {
    let mut t: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for ((set, _), (f, n)) in by_set_and_lexicon(outcomes) {
        let e = t.entry(set).or_default();
        e.0 += f;
        e.1 += n;
    }
    t
}
