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

use super::detect::Detector;
use super::Lang;
use crate::util::line_at;
use crate::Direction;

/// How a sub-rule is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Check {
    /// A detector deducts on its own.
    Auto,
    /// A detector flags the call for an inspector; never deducts.
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
    pub modifiers: Vec<Modifier>,
    /// The rule whose deduction these modifiers change, when it is another one (8.4 and 8.5
    /// modify 8.1's deduction).
    #[serde(default)]
    pub modifies: Option<String>,
    /// Line of the rule's `params` (or its `id`) in its file, for messages found after parsing.
    #[serde(skip)]
    pub line: usize,
    /// The detector with its parameters, parsed at load time.
    #[serde(skip)]
    pub detect: Option<Detector>,
}

/// A change to a rule's deduction that only an inspector can decide on, because its condition
/// lies outside the call (a complaint was filed, the agent called back within 30 min).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
pub enum Modifier {
    #[serde(rename = "扣分加倍")]
    Double,
    #[serde(rename = "扣分减半")]
    Half,
    #[serde(rename = "不扣分")]
    Waive,
}

impl Modifier {
    /// The sheet's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Modifier::Double => "扣分加倍",
            Modifier::Half => "扣分减半",
            Modifier::Waive => "不扣分",
        }
    }

    /// What the rule's points are multiplied by when the inspector sets it.
    pub fn factor(self) -> f64 {
        match self {
            Modifier::Double => 2.0,
            Modifier::Half => 0.5,
            Modifier::Waive => 0.0,
        }
    }
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
    /// sha256 over the files (and the language, when not Chinese): part of a result's cache key.
    pub version: String,
    /// Language of deduction reasons and findings; set with [`Rubrics::with_lang`].
    pub lang: Lang,
}

/// A rubric problem, `file:line: what — what to do`.
#[derive(Debug, thiserror::Error)]
#[error("{}: {message}", crate::util::location(path, *line))]
pub struct RubricError {
    pub path: PathBuf,
    pub line: usize,
    pub message: String,
}

/// Where each item and rule sits in the file: a second, lenient read with `toml::Spanned`, so
/// checks made after parsing can name the line of the value at fault.
#[derive(Deserialize)]
struct SheetSpans {
    #[serde(default, rename = "item")]
    items: Vec<ItemSpans>,
}

#[derive(Deserialize)]
struct SheetHead {
    max_score: toml::Spanned<f64>,
}

#[derive(Deserialize)]
struct ItemSpans {
    points: toml::Spanned<f64>,
    #[serde(default, rename = "rule")]
    rules: Vec<RuleSpans>,
}

#[derive(Deserialize)]
struct RuleSpans {
    id: toml::Spanned<String>,
    #[serde(default)]
    detector: Option<toml::Spanned<String>>,
    #[serde(default)]
    params: Option<toml::Spanned<toml::Table>>,
}

/// A rule's detector, parameters and numbers, as `(line, message)`.
fn check_rule(rule: &mut Rule, spans: &RuleSpans, text: &str) -> Result<(), (usize, String)> {
    let line = line_at(text, spans.id.span().start);
    let detector_line = spans
        .detector
        .as_ref()
        .map_or(line, |d| line_at(text, d.span().start));
    let params_line = spans
        .params
        .as_ref()
        .map_or(line, |p| line_at(text, p.span().start));
    rule.line = params_line;
    let numbers = [("credits", rule.credits), ("fine_yuan", rule.fine_yuan)]
        .into_iter()
        .chain(rule.extra.as_ref().map(|e| ("extra.points", e.points)));
    for (key, v) in numbers {
        if !(v.is_finite() && v >= 0.0) {
            return Err((
                line,
                format!(
                    "{key} of rule {} must be a finite number of 0 or more",
                    rule.id
                ),
            ));
        }
    }
    match (&rule.detector, rule.check) {
        (None, Check::Auto | Check::Assist) => Err((
            line,
            format!(
                "rule {} is {:?} but names no detector; add detector = \"…\" or make it manual",
                rule.id, rule.check
            ),
        )),
        (Some(d), _) => {
            let parsed = Detector::parse(d, &rule.params).map_err(|e| {
                let at = match e {
                    super::detect::ParamError::UnknownDetector(_) => detector_line,
                    _ => params_line,
                };
                (at, format!("rule {}: {e}", rule.id))
            })?;
            rule.detect = Some(parsed);
            Ok(())
        }
        (None, Check::Manual) if !rule.params.is_empty() => Err((
            params_line,
            format!(
                "rule {} has params but no detector; add detector = \"…\" or remove params",
                rule.id
            ),
        )),
        (None, Check::Manual) => Ok(()),
    }
}

/// `modifies` names a rule of the same sheet and comes with modifiers.
fn check_modifies(rubric: &Rubric) -> Result<(), (String, String)> {
    let rules: Vec<&Rule> = rubric.items.iter().flat_map(|i| &i.rules).collect();
    for rule in &rules {
        let Some(target) = &rule.modifies else {
            continue;
        };
        if !rules.iter().any(|r| &r.id == target) {
            return Err((
                rule.id.clone(),
                format!(
                    "rule {} modifies {target}, which is not in this sheet",
                    rule.id
                ),
            ));
        }
        if rule.modifiers.is_empty() {
            return Err((rule.id.clone(), format!("rule {} modifies {target} but lists no modifiers; add modifiers = [\"扣分减半\"]", rule.id)));
        }
    }
    Ok(())
}

impl Rubric {
    /// Parses and checks one sheet.
    pub fn parse(path: &Path, text: &str) -> Result<Rubric, RubricError> {
        let err = |line: usize, message: String| RubricError {
            path: path.to_path_buf(),
            line,
            message,
        };
        let parse_error = |e: toml::de::Error| {
            err(
                e.span().map_or(0, |s| line_at(text, s.start)),
                e.message().to_string() + "; see rubrics/README.md for every key",
            )
        };
        let mut rubric: Rubric = toml::from_str(text).map_err(parse_error)?;
        let spans: SheetSpans = toml::from_str(text).map_err(parse_error)?;
        let head: SheetHead = toml::from_str(text).map_err(parse_error)?;
        rubric.path = path.to_path_buf();
        if !(rubric.max_score.is_finite() && rubric.max_score > 0.0) {
            return Err(err(
                line_at(text, head.max_score.span().start),
                "max_score must be a finite number above 0, e.g. 100".into(),
            ));
        }
        let mut seen = BTreeMap::new();
        for (item, item_spans) in rubric.items.iter_mut().zip(&spans.items) {
            if !(item.points.is_finite() && item.points >= 0.0) {
                return Err(err(
                    line_at(text, item_spans.points.span().start),
                    format!(
                        "item {} points must be a finite number of 0 or more, e.g. 10",
                        item.id
                    ),
                ));
            }
            for (rule, rule_spans) in item.rules.iter_mut().zip(&item_spans.rules) {
                let line = line_at(text, rule_spans.id.span().start);
                if seen.insert(rule.id.clone(), line).is_some() {
                    return Err(err(
                        line,
                        format!(
                            "duplicate rule id {}; every sub-rule needs its own id",
                            rule.id
                        ),
                    ));
                }
                check_rule(rule, rule_spans, text).map_err(|(line, message)| err(line, message))?;
            }
        }
        check_modifies(&rubric)
            .map_err(|(rule, message)| err(seen.get(&rule).copied().unwrap_or(0), message))?;
        Ok(rubric)
    }

    /// Every lexicon a rule's detector uses, its defaults included, as `(line, rule id,
    /// lexicon)`, so `callqa check` can tell a misspelt list from one that merely found nothing.
    pub fn lexicons_named(&self) -> Vec<(usize, String, String)> {
        self.items
            .iter()
            .flat_map(|i| &i.rules)
            .flat_map(|rule| {
                rule.detect
                    .iter()
                    .flat_map(Detector::lexicons)
                    .map(|l| (rule.line, rule.id.clone(), l))
            })
            .collect()
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
        let paths = crate::util::config_files(dir, "toml").map_err(|e| RubricError {
            path: dir.to_path_buf(),
            line: 0,
            message: format!("cannot read the rubric folder ({e}); pass --rubrics DIR"),
        })?;
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
            lang: Lang::Zh,
        })
    }

    /// The same sheets writing reasons in `lang`. The language is part of the cache key, so a
    /// rescore in another language rewrites the reasons.
    pub fn with_lang(mut self, lang: Lang) -> Rubrics {
        if lang != self.lang {
            self.version = match lang {
                Lang::Zh => self.version.trim_end_matches(":en").to_string(),
                Lang::En => format!("{}:en", self.version),
            };
            self.lang = lang;
        }
        self
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
                .contains("rubrics/t.toml:13: rule 1.1: unknown detector"),
            "{e}"
        );
        let dup = format!("{HEAD}[[item]]\nid = \"1\"\nname = \"x\"\npoints = 5\n[[item.rule]]\nid = \"1.1\"\ntext = \"t\"\ncheck = \"manual\"\n[[item.rule]]\nid = \"1.1\"\ntext = \"u\"\ncheck = \"manual\"\n");
        let e = parse(&dup).expect_err("duplicate");
        assert!(e.to_string().contains(":14: duplicate rule id 1.1"), "{e}");
        let modifier = format!("{HEAD}[[item]]\nid = \"7\"\nname = \"x\"\npoints = 5\n[[item.rule]]\nid = \"7.2\"\ntext = \"t\"\ncheck = \"manual\"\nmodifiers = [\"扣分翻倍\"]\n");
        let e = parse(&modifier).expect_err("unknown modifier");
        assert!(e.to_string().starts_with("rubrics/t.toml:13:"), "{e}");
        assert!(e.to_string().contains("扣分加倍"), "{e}");
        let bad = format!("{HEAD}[[item]]\nid = \"1\"\nname = \"x\"\npoints = 5\n[[item.rule]]\nid = \"1.1\"\ntext = \"t\"\ncheck = \"auto\"\ndetector = \"opening_latency\"\nparams = {{ within_ms = -5 }}\n");
        let e = parse(&bad).expect_err("negative threshold");
        assert!(
            e.to_string()
                .starts_with("rubrics/t.toml:14: rule 1.1: detector opening_latency:"),
            "{e}"
        );
        assert!(e.to_string().contains("within_ms"), "{e}");
        let role = format!("{HEAD}[[item]]\nid = \"4\"\nname = \"x\"\npoints = 5\n[[item.rule]]\nid = \"4.1\"\ntext = \"t\"\ncheck = \"auto\"\ndetector = \"lexicon_hits\"\nparams = {{ categories = [\"机械\"], role = \"agnet\" }}\n");
        let e = parse(&role).expect_err("misspelt role");
        assert!(
            e.to_string().starts_with("rubrics/t.toml:14:") && e.to_string().contains("agnet"),
            "{e}"
        );
        for bad in ["nan", "inf", "-inf"] {
            let points = format!("{HEAD}[[item]]\nid = \"1\"\nname = \"x\"\npoints = {bad}\n");
            let e = parse(&points).expect_err(bad);
            assert!(
                e.to_string()
                    .starts_with("rubrics/t.toml:8: item 1 points must be a finite number"),
                "{e}"
            );
            let param = format!("{HEAD}[[item]]\nid = \"2\"\nname = \"x\"\npoints = 5\n[[item.rule]]\nid = \"2.5\"\ntext = \"t\"\ncheck = \"assist\"\ndetector = \"lexicon_rate\"\nparams = {{ categories = [\"语气词\"], per_minute = {bad} }}\n");
            let e = parse(&param).expect_err(bad);
            assert!(
                e.to_string().starts_with("rubrics/t.toml:14:")
                    && e.to_string().contains("per_minute must be a finite number"),
                "{e}"
            );
        }
        let credits = format!("{HEAD}[[item]]\nid = \"6\"\nname = \"x\"\npoints = 5\n[[item.rule]]\nid = \"6.3\"\ntext = \"t\"\ncheck = \"manual\"\ncredits = nan\n");
        let e = parse(&credits).expect_err("nan credits");
        assert!(
            e.to_string()
                .contains("credits of rule 6.3 must be a finite number"),
            "{e}"
        );
        let stray = format!("{HEAD}[[item]]\nid = \"8\"\nname = \"x\"\npoints = 5\n[[item.rule]]\nid = \"8.4\"\ntext = \"t\"\ncheck = \"manual\"\nmodifiers = [\"不扣分\"]\nmodifies = \"8.9\"\n");
        let e = parse(&stray).expect_err("modifies a missing rule");
        assert!(
            e.to_string()
                .starts_with("rubrics/t.toml:10: rule 8.4 modifies 8.9"),
            "{e}"
        );
        // Lines come from the parser's spans, not from searching the text for `id = "…"`.
        let compact = format!("{HEAD}[[item]]\nid=\"1\"\nname=\"x\"\npoints=-1\n");
        let e = parse(&compact).expect_err("negative points");
        assert!(
            e.to_string().starts_with("rubrics/t.toml:8: item 1 points"),
            "{e}"
        );
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
