//! The 质检标准 sheets as configuration (`rubrics/*.toml`).
//!
//! A sheet lists items (考核项) with their points and sub-rules (考核标准) with the verbatim
//! text, how each is checked (`auto`, `assist`, `manual`) and, for machine checks, the detector
//! and its parameters. The source lost its 分值 column: the shipped points are documented
//! defaults that each site sets. Unknown keys, unknown detectors, bad parameters and duplicate
//! ids are errors naming the file and line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::Direction;

/// How a sub-rule is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Check {
    /// A detector deducts on its own.
    Auto,
    /// A detector flags the call for an inspector; deducts only past a configured threshold.
    Assist,
    /// No machine signal: a checklist item for the inspector.
    Manual,
}

/// A sub-rule of an item.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub text: String,
    pub check: Check,
    #[serde(default)]
    pub detector: Option<String>,
    #[serde(default)]
    pub params: toml::Table,
    /// Extra points when the detector counts at least `min_count` occurrences (4.6).
    #[serde(default)]
    pub extra: Option<Extra>,
    /// 积分 and 元 per occurrence, kept apart from the 100-point score (营销 6.3, 6.4).
    #[serde(default)]
    pub credits: f64,
    #[serde(default)]
    pub fine_yuan: f64,
    /// Modifiers an inspector may apply (扣分加倍, 扣分减半, 不扣分).
    #[serde(default)]
    pub modifiers: Vec<String>,
}

/// Extra deduction on repeated occurrences.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Extra {
    pub min_count: usize,
    pub points: f64,
}

/// An item (考核项): its points are forfeited once when any of its sub-rules fires.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub id: String,
    pub name: String,
    pub points: f64,
    /// 特别加分项: points an inspector may add; never machine-scored.
    #[serde(default)]
    pub bonus: bool,
    /// Deducted per occurrence, outside the forfeit rule (其他扣分项).
    #[serde(default)]
    pub per_occurrence: bool,
    #[serde(default, rename = "rule")]
    pub rules: Vec<Rule>,
}

/// One sheet.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rubric {
    /// `客服` or `营销`.
    pub name: String,
    pub title: String,
    pub direction: Direction,
    pub max_score: f64,
    #[serde(default, rename = "item")]
    pub items: Vec<Item>,
    #[serde(skip)]
    pub path: PathBuf,
}

/// All sheets of a folder, by direction.
#[derive(Clone, Debug, Default)]
pub struct Rubrics {
    pub sheets: Vec<Rubric>,
    /// sha256 over the files: part of a result's cache key.
    pub version: String,
}

/// A rubric problem, `file:line: what — what to do`.
#[derive(Debug, thiserror::Error)]
#[error("{}:{line}: {message}", path.display())]
pub struct RubricError {
    pub path: PathBuf,
    pub line: usize,
    pub message: String,
}

/// Detectors callqa knows, with the parameters each accepts.
pub const DETECTORS: &[(&str, &[&str])] = &[
    (
        "opening_latency",
        &[
            "within_ms",
            "lexicon",
            "standard",
            "min_similarity",
            "hello_count",
        ],
    ),
    ("no_agent_speech", &[]),
    ("unanswered_question", &["min_silence_ms", "until_end"]),
    (
        "greeting_for_day",
        &["morning_before_hour", "lexicon", "window_ms"],
    ),
    (
        "opening_closing",
        &[
            "opening",
            "closing",
            "standard_opening",
            "standard_closing",
            "min_similarity",
            "last_turns",
        ],
    ),
    (
        "hold_etiquette",
        &["min_hold_ms", "before", "after", "look_ms"],
    ),
    ("lexicon_hits", &["categories", "role", "min_count"]),
    ("lexicon_rate", &["categories", "per_minute"]),
    ("speech_rate", &["min_cps", "max_cps", "max_cv"]),
    (
        "interruptions",
        &["min_overlap_ms", "backchannels", "min_count"],
    ),
    ("personal_numbers", &[]),
    ("fee_disclosure", &["offer", "fee", "trial"]),
    ("order_without_consent", &["order", "refusal"]),
];

fn line_of(text: &str, needle: &str, from_line: usize) -> usize {
    text.lines()
        .enumerate()
        .skip(from_line.saturating_sub(1))
        .find(|(_, l)| l.contains(needle))
        .map_or(from_line, |(i, _)| i + 1)
}

impl Rubric {
    /// Parses and checks one sheet.
    pub fn parse(path: &Path, text: &str) -> Result<Rubric, RubricError> {
        let err = |line: usize, message: String| RubricError {
            path: path.to_path_buf(),
            line,
            message,
        };
        let mut rubric: Rubric = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(0, |s| {
                text.as_bytes()[..s.start.min(text.len())]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count()
                    + 1
            });
            err(
                line,
                e.message().to_string() + "; see rubrics/README.md for every key",
            )
        })?;
        rubric.path = path.to_path_buf();
        let mut seen = BTreeMap::new();
        for item in &rubric.items {
            let item_line = line_of(text, &format!("id = \"{}\"", item.id), 1);
            if item.points < 0.0 {
                return Err(err(
                    item_line,
                    format!("item {} points must be 0 or more, e.g. 10", item.id),
                ));
            }
            let mut cursor = item_line;
            for rule in &item.rules {
                let line = line_of(text, &format!("id = \"{}\"", rule.id), cursor);
                cursor = line + 1;
                if seen.insert(rule.id.clone(), line).is_some() {
                    return Err(err(
                        line,
                        format!(
                            "duplicate rule id {}; every sub-rule needs its own id",
                            rule.id
                        ),
                    ));
                }
                match (&rule.detector, rule.check) {
                    (None, Check::Auto | Check::Assist) => {
                        return Err(err(line, format!("rule {} is {:?} but names no detector; add detector = \"…\" or make it manual", rule.id, rule.check)))
                    }
                    (Some(d), _) => {
                        let Some((_, keys)) = DETECTORS.iter().find(|(n, _)| n == d) else {
                            let known: Vec<&str> = DETECTORS.iter().map(|(n, _)| *n).collect();
                            return Err(err(line, format!("unknown detector {d:?} in rule {}; use one of {}", rule.id, known.join(", "))));
                        };
                        for key in rule.params.keys() {
                            if !keys.contains(&key.as_str()) {
                                return Err(err(line, format!("detector {d} has no parameter {key:?}; it takes {}", keys.join(", "))));
                            }
                        }
                        for (key, value) in &rule.params {
                            if key.ends_with("_ms") || key.starts_with("min_") || key.starts_with("max_") || key == "per_minute" {
                                let ok = value.as_float().map(|f| f >= 0.0).or(value.as_integer().map(|i| i >= 0)).unwrap_or(false);
                                if !ok {
                                    return Err(err(line, format!("{key} in rule {} must be a number of 0 or more", rule.id)));
                                }
                            }
                        }
                    }
                    (None, Check::Manual) => {}
                }
            }
        }
        Ok(rubric)
    }

    pub fn items_total(&self) -> f64 {
        self.items
            .iter()
            .filter(|i| !i.bonus && !i.per_occurrence)
            .map(|i| i.points)
            .sum()
    }
}

impl Rubrics {
    /// Loads every `*.toml` sheet of `dir`.
    pub fn load_dir(dir: &Path) -> Result<Rubrics, RubricError> {
        use sha2::{Digest, Sha256};
        let listing = std::fs::read_dir(dir).map_err(|e| RubricError {
            path: dir.to_path_buf(),
            line: 0,
            message: format!("cannot read the rubric folder ({e}); pass --rubrics DIR"),
        })?;
        let mut paths: Vec<PathBuf> = listing
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        let mut hash = Sha256::new();
        let mut sheets = Vec::new();
        for path in paths {
            let text = std::fs::read_to_string(&path).map_err(|e| RubricError {
                path: path.clone(),
                line: 0,
                message: format!("cannot read ({e})"),
            })?;
            hash.update(
                path.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            );
            hash.update(text.as_bytes());
            sheets.push(Rubric::parse(&path, &text)?);
        }
        for d in [Direction::Inbound, Direction::Outbound] {
            if !sheets.iter().any(|s| s.direction == d) {
                return Err(RubricError {
                    path: dir.to_path_buf(),
                    line: 0,
                    message: format!(
                        "no sheet for direction {d:?}; add one with direction = \"{}\"",
                        if d == Direction::Inbound {
                            "inbound"
                        } else {
                            "outbound"
                        }
                    ),
                });
            }
        }
        Ok(Rubrics {
            sheets,
            version: hex::encode(hash.finalize()),
        })
    }

    /// The sheet that scores calls of `direction`.
    pub fn for_direction(&self, direction: Direction) -> Option<&Rubric> {
        self.sheets.iter().find(|s| s.direction == direction)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Rubric, RubricError> {
        Rubric::parse(Path::new("rubrics/t.toml"), text)
    }

    const HEAD: &str = "name = \"客服\"\ntitle = \"t\"\ndirection = \"inbound\"\nmax_score = 100\n";

    #[test]
    fn errors_name_file_line_and_fix() {
        let typo = format!("{HEAD}[[item]]\nid = \"1\"\nname = \"及时应答\"\nponts = 5\n");
        let e = parse(&typo).expect_err("typo");
        assert!(e.to_string().starts_with("rubrics/t.toml:8:"), "{e}");
        let unknown = format!("{HEAD}[[item]]\nid = \"1\"\nname = \"x\"\npoints = 5\n[[item.rule]]\nid = \"1.1\"\ntext = \"t\"\ncheck = \"auto\"\ndetector = \"telepathy\"\n");
        let e = parse(&unknown).expect_err("unknown detector");
        assert!(
            e.to_string()
                .contains("rubrics/t.toml:10: unknown detector"),
            "{e}"
        );
        let dup = format!("{HEAD}[[item]]\nid = \"1\"\nname = \"x\"\npoints = 5\n[[item.rule]]\nid = \"1.1\"\ntext = \"t\"\ncheck = \"manual\"\n[[item.rule]]\nid = \"1.1\"\ntext = \"u\"\ncheck = \"manual\"\n");
        let e = parse(&dup).expect_err("duplicate");
        assert!(e.to_string().contains(":14: duplicate rule id 1.1"), "{e}");
        let bad = format!("{HEAD}[[item]]\nid = \"1\"\nname = \"x\"\npoints = 5\n[[item.rule]]\nid = \"1.1\"\ntext = \"t\"\ncheck = \"auto\"\ndetector = \"opening_latency\"\nparams = {{ within_ms = -5 }}\n");
        let e = parse(&bad).expect_err("negative threshold");
        assert!(e.to_string().contains("within_ms"), "{e}");
    }

    #[test]
    fn shipped_sheets_load_and_total_100() {
        let r = Rubrics::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("rubrics"))
            .unwrap_or_else(|e| panic!("{e}"));
        let kefu = r.for_direction(Direction::Inbound).expect("客服");
        let yingxiao = r.for_direction(Direction::Outbound).expect("营销");
        assert_eq!(kefu.name, "客服");
        assert_eq!(kefu.items.len(), 11);
        assert_eq!(kefu.items.iter().map(|i| i.rules.len()).sum::<usize>(), 53);
        assert_eq!(
            yingxiao.items.iter().map(|i| i.rules.len()).sum::<usize>(),
            31
        );
        assert_eq!(kefu.items_total(), 100.0);
        assert_eq!(yingxiao.items_total(), 100.0);
    }
}
