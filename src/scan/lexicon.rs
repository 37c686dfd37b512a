//! Lexicon files: parse QA staff's plain-text phrase lists into checked entries.
//!
//! Takes `lexicons/*.txt` (or any `(name, text)` pair) and returns [`Lexicons`], or every bad line
//! at once as [`LexiconErrors`]. The format is documented in `lexicons/README.md`: one phrase a
//! line, `#` comments, `re:` regexes, `A ~N B` proximity patterns, conditions after `|`
//! (`除外 <context>`, `引述除外`) and the file directives `@引述除外` and `@phonetic`.
//! Loading never half-succeeds: one bad line anywhere and no lexicon is returned, because a
//! silently missing phrase would score calls wrongly for a whole month.

use std::path::{Path, PathBuf};

use crate::text::normalize;
use crate::text::phonetic::MatchKind;

/// All entries of all lexicon files, in file-name then line order.
#[derive(Clone, Debug, Default)]
pub struct Lexicons {
    pub entries: Vec<Entry>,
    /// sha256 over every file's name and content: part of a result's cache key.
    pub version: String,
}

/// One phrase (or pattern) of one lexicon file.
#[derive(Clone, Debug)]
pub struct Entry {
    /// `<lexicon>:<line>`, e.g. `反问:14`.
    pub rule: String,
    /// File stem, e.g. `反问`.
    pub category: String,
    /// The entry as written, without its conditions.
    pub phrase: String,
    pub(crate) pattern: Pattern,
    /// Normalised contexts in which a match is not a hit.
    pub(crate) exclusions: Vec<String>,
    /// Not a hit when the speaker is quoting the other party (你说…, 你的意思是…).
    pub(crate) skip_quoted: bool,
    /// What hits that only sound like the entry do (the file's `@phonetic`).
    pub(crate) phonetic: PhoneticMode,
}

impl Entry {
    /// A plain phrase (not `re:` and not `A ~N B`).
    pub fn is_literal(&self) -> bool {
        matches!(self.pattern, Pattern::Literal(_))
    }
}

/// A lexicon file's `@phonetic` line: what to do with words that sound like an entry but are
/// written differently (Whisper's slips).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PhoneticMode {
    /// Exact matches only.
    Off,
    /// No `@phonetic` line: homophones count as exact hits, near matches go to the inspector.
    #[default]
    Auto,
    /// Every homophone and near hit goes to the inspector; none deducts.
    Review,
    /// Homophone and near hits count as exact hits.
    Deduct,
}

impl PhoneticMode {
    /// Whether a hit of this kind is for the inspector to judge rather than to deduct.
    pub fn review(self, kind: MatchKind) -> bool {
        !matches!(
            (self, kind),
            (_, MatchKind::Exact)
                | (PhoneticMode::Deduct, _)
                | (PhoneticMode::Auto, MatchKind::Homophone)
        )
    }
}

#[derive(Clone, Debug)]
pub(crate) enum Pattern {
    /// Normalised text.
    Literal(String),
    /// Applied to normalised text; `anchor` is a normalised word every match contains.
    Regex { re: regex::Regex, anchor: String },
    /// One of `before`, then one of `after` starting at most `within` chars after it ends
    /// (normalised words): `到底 ~6 懂/明白/想`.
    Near {
        before: Vec<String>,
        within: usize,
        after: Vec<String>,
    },
}

/// Largest gap a proximity pattern may ask for: the scanner looks this far past its first word.
pub const MAX_WITHIN: usize = 32;

/// One bad line of a lexicon file.
#[derive(Debug, thiserror::Error)]
pub enum LexiconError {
    #[error("{path}: cannot read lexicon file: {source} — check the path and permissions")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: no lexicon files (*.txt) found — pass --lexicons with the lexicons folder")]
    Empty { path: PathBuf },
    #[error("{path}:{line}: {what} — {fix}")]
    Line {
        path: PathBuf,
        line: usize,
        what: String,
        fix: &'static str,
    },
}

/// Every problem found while loading, one per line of `Display`.
#[derive(Debug, thiserror::Error)]
#[error("{}", self.0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
pub struct LexiconErrors(pub Vec<LexiconError>);

impl Lexicons {
    /// Loads every `*.txt` file of `dir`; the file stem is the category.
    pub fn load_dir(dir: &Path) -> Result<Lexicons, LexiconErrors> {
        let read = std::fs::read_dir(dir).map_err(|source| {
            LexiconErrors(vec![LexiconError::Read {
                path: dir.to_path_buf(),
                source,
            }])
        })?;
        let mut paths: Vec<PathBuf> = read
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "txt"))
            .collect();
        paths.sort();
        if paths.is_empty() {
            return Err(LexiconErrors(vec![LexiconError::Empty {
                path: dir.to_path_buf(),
            }]));
        }
        let mut sources = Vec::with_capacity(paths.len());
        let mut errors = Vec::new();
        for path in paths {
            match std::fs::read_to_string(&path) {
                Ok(text) => sources.push((path, text)),
                Err(source) => errors.push(LexiconError::Read { path, source }),
            }
        }
        match Lexicons::from_sources(sources.iter().map(|(p, t)| (p.as_path(), t.as_str()))) {
            Ok(lex) if errors.is_empty() => Ok(lex),
            Ok(_) => Err(LexiconErrors(errors)),
            Err(LexiconErrors(more)) => {
                errors.extend(more);
                Err(LexiconErrors(errors))
            }
        }
    }

    /// Parses lexicon texts; each path's file stem is its category.
    pub fn from_sources<'a>(
        sources: impl IntoIterator<Item = (&'a Path, &'a str)>,
    ) -> Result<Lexicons, LexiconErrors> {
        use sha2::Digest;
        let mut entries = Vec::new();
        let mut errors = Vec::new();
        let mut hash = sha2::Sha256::new();
        for (path, text) in sources {
            let stem = path.file_stem().unwrap_or_default().to_string_lossy();
            hash.update(stem.as_bytes());
            hash.update([0]);
            hash.update(text.as_bytes());
            hash.update([0]);
            parse_file(path, text, &mut entries, &mut errors);
        }
        if errors.is_empty() {
            Ok(Lexicons {
                entries,
                version: hex::encode(hash.finalize()),
            })
        } else {
            Err(LexiconErrors(errors))
        }
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The same lexicons with every file's `@phonetic` replaced by `mode`: to measure what
    /// phonetic matching would do everywhere.
    pub fn with_phonetic_mode(mut self, mode: PhoneticMode) -> Lexicons {
        for e in &mut self.entries {
            e.phonetic = mode;
        }
        self
    }
}

fn parse_file(path: &Path, text: &str, entries: &mut Vec<Entry>, errors: &mut Vec<LexiconError>) {
    let mut file = FileParser {
        path,
        category: path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
        seen: Default::default(),
        skip_quoted: false,
        phonetic: PhoneticMode::Auto,
        errors,
    };
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let raw = raw.trim_start_matches('\u{feff}').trim();
        if raw.is_empty() || raw.starts_with('#') {
            continue;
        }
        if let Some(directive) = raw.strip_prefix('@') {
            file.directive(line, directive);
        } else if let Some(entry) = file.entry(line, raw) {
            entries.push(entry);
        }
    }
}

/// One lexicon file being read: its directives so far, the phrases seen, the problems found.
struct FileParser<'a> {
    path: &'a Path,
    category: String,
    /// Normalised phrase → the line that first had it.
    seen: std::collections::HashMap<String, usize>,
    /// `@引述除外`: every later entry skips quotations.
    skip_quoted: bool,
    phonetic: PhoneticMode,
    errors: &'a mut Vec<LexiconError>,
}

impl FileParser<'_> {
    fn bad(&mut self, line: usize, what: String, fix: &'static str) {
        self.errors.push(LexiconError::Line {
            path: self.path.to_path_buf(),
            line,
            what,
            fix,
        })
    }

    /// `@引述除外` or `@phonetic <mode>`.
    fn directive(&mut self, line: usize, directive: &str) {
        let mut words = directive.split_whitespace();
        match (words.next(), words.next(), words.next()) {
            (Some("引述除外"), None, _) => self.skip_quoted = true,
            (Some("phonetic"), Some(mode), None) => match mode {
                "off" => self.phonetic = PhoneticMode::Off,
                "review" => self.phonetic = PhoneticMode::Review,
                "deduct" => self.phonetic = PhoneticMode::Deduct,
                _ => self.bad(
                    line,
                    format!("unknown @phonetic mode `{mode}`"),
                    "write @phonetic off, @phonetic review or @phonetic deduct",
                ),
            },
            _ => self.bad(
                line,
                format!("unknown directive @{}", directive.trim()),
                "the file directives are @引述除外 and @phonetic off|review|deduct; remove the line or fix the spelling",
            ),
        }
    }

    /// The entry of a phrase line, or `None` when the line has a problem (recorded).
    fn entry(&mut self, line: usize, raw: &str) -> Option<Entry> {
        let mut parts = split_conditions(raw).into_iter();
        let head = parts.next().unwrap_or_default().trim();
        let (exclusions, skip_quoted, conditions_ok) = self.conditions(line, parts);
        let (pattern, pattern_ok) = self.pattern(line, head, &exclusions)?;
        (conditions_ok && pattern_ok).then(|| Entry {
            rule: format!("{}:{line}", self.category),
            category: self.category.clone(),
            phrase: head.to_owned(),
            pattern,
            exclusions,
            skip_quoted,
            phonetic: self.phonetic,
        })
    }

    /// The conditions after `|`: normalised 除外 contexts, whether quotations are skipped, and
    /// whether all of them were understood.
    fn conditions<'s>(
        &mut self,
        line: usize,
        parts: impl Iterator<Item = &'s str>,
    ) -> (Vec<String>, bool, bool) {
        let mut exclusions = Vec::new();
        let mut skip_quoted = self.skip_quoted;
        let mut ok = true;
        for cond in parts {
            let cond = cond.trim();
            if cond == "引述除外" {
                skip_quoted = true;
            } else if let Some(ctx) = cond.strip_prefix("除外") {
                let ctx = normalize(ctx.trim()).as_str().to_owned();
                if ctx.is_empty() {
                    ok = false;
                    self.bad(
                        line,
                        "除外 without a context".into(),
                        "write the words in which the phrase is fine, e.g. `请讲清楚 | 除外 请您讲清楚一点`",
                    );
                } else {
                    exclusions.push(ctx);
                }
            } else {
                ok = false;
                self.bad(
                    line,
                    format!("unknown condition `{cond}` after |"),
                    "conditions are `除外 <words>` and `引述除外`",
                );
            }
        }
        (exclusions, skip_quoted, ok)
    }

    /// The line's pattern and whether it may be used; `None` when there is none at all.
    fn pattern(
        &mut self,
        line: usize,
        head: &str,
        exclusions: &[String],
    ) -> Option<(Pattern, bool)> {
        let parsed = match head.strip_prefix("re:") {
            Some(re) => Some(parse_regex(re.trim())),
            None => parse_near(head),
        };
        match parsed {
            Some(Ok(p)) => Some((p, true)),
            Some(Err((what, fix))) => {
                self.bad(line, what, fix);
                None
            }
            None => self.literal(line, head, exclusions),
        }
    }

    /// A plain phrase: normalised, its 除外 contexts checked, and unique in its file.
    fn literal(
        &mut self,
        line: usize,
        head: &str,
        exclusions: &[String],
    ) -> Option<(Pattern, bool)> {
        let norm = normalize(head).as_str().to_owned();
        if norm.is_empty() {
            self.bad(
                line,
                format!("`{head}` has no words left after removing punctuation"),
                "write the phrase itself, or start the line with # to make it a comment",
            );
            return None;
        }
        let mut ok = true;
        for ctx in exclusions {
            if !ctx.contains(&norm) {
                ok = false;
                self.bad(
                    line,
                    format!("除外 context `{ctx}` does not contain the phrase `{norm}`"),
                    "the context must be the phrase plus the surrounding words that make it harmless",
                );
            }
        }
        if let Some(dup) = self.seen.get(&norm).copied() {
            ok = false;
            self.bad(
                line,
                format!("same phrase as {}:{dup} after normalisation", self.category),
                "delete one of the two lines (您/你, punctuation and Traditional forms are already matched)",
            );
        }
        self.seen.entry(norm.clone()).or_insert(line);
        Some((Pattern::Literal(norm), ok))
    }
}

/// Parses `A ~N B` (alternatives separated by `/`); `None` when the line is not of that shape.
fn parse_near(head: &str) -> Option<Result<Pattern, (String, &'static str)>> {
    let words: Vec<&str> = head.split_whitespace().collect();
    let [a, gap, b] = words.as_slice() else {
        return None;
    };
    let within = gap.strip_prefix('~')?;
    const FIX: &str = "write the first words, ~ and the largest gap in characters, then the second words, e.g. `到底 ~6 懂/明白/想`";
    let Ok(within) = within.parse::<usize>() else {
        return Some(Err((format!("`{gap}` is not ~ and a number"), FIX)));
    };
    if within > MAX_WITHIN {
        return Some(Err((
            format!("gap {within} is larger than {MAX_WITHIN} characters"),
            "use a gap of at most 32; farther words are rarely one phrase",
        )));
    }
    let alternatives = |side: &str| -> Option<Vec<String>> {
        side.split('/')
            .map(|w| Some(normalize(w).as_str().to_owned()).filter(|n| !n.is_empty()))
            .collect()
    };
    match (alternatives(a), alternatives(b)) {
        (Some(before), Some(after)) => Some(Ok(Pattern::Near {
            before,
            within,
            after,
        })),
        _ => Some(Err((
            format!("`{head}` has an empty word before or after ~"),
            FIX,
        ))),
    }
}

/// Splits an entry from its conditions at `｜`, or at `|` with a space on both sides, so a regex
/// alternation such as `(到底|究竟)` stays part of the entry.
fn split_conditions(raw: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut from = 0;
    for (i, c) in raw.char_indices() {
        let spaced = |j: usize| {
            raw[..j].ends_with(char::is_whitespace)
                && raw[j + c.len_utf8()..].starts_with(char::is_whitespace)
        };
        if c == '｜' || (c == '|' && spaced(i)) {
            parts.push(&raw[from..i]);
            from = i + c.len_utf8();
        }
    }
    parts.push(&raw[from..]);
    parts
}

/// Builds a `re:` entry. The anchor is the longest run of plain chars outside any group, class or
/// alternation: every match contains it, so the scanner only runs the regex where it occurs.
fn parse_regex(src: &str) -> Result<Pattern, (String, &'static str)> {
    let folded: String = src
        .chars()
        .map(|c| {
            if c.is_ascii() {
                c
            } else {
                crate::text::normalize_char(c).unwrap_or(c)
            }
        })
        .collect();
    let re = regex::Regex::new(&folded).map_err(|e| {
        (
            format!(
                "bad regex `{src}`: {}",
                e.to_string().lines().last().unwrap_or("")
            ),
            "fix the pattern (see lexicons/README.md for the syntax) or remove the re: prefix",
        )
    })?;
    let anchor = regex_anchor(&folded);
    if anchor.is_empty() {
        return Err((
            format!("regex `{src}` has no fixed word outside (), [] and |"),
            "add a word every match contains outside brackets, e.g. `re:你(到底|究竟)想怎么样`",
        ));
    }
    Ok(Pattern::Regex { re, anchor })
}

fn regex_anchor(src: &str) -> String {
    if top_level_alternation(src) {
        return String::new();
    }
    let chars: Vec<char> = src.chars().collect();
    let mut best = String::new();
    let mut run = String::new();
    let mut depth = 0usize;
    let mut in_class = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let quantified = matches!(chars.get(i + 1), Some('?' | '*' | '{'));
        let plain = depth == 0 && !in_class && !c.is_ascii_punctuation() && !c.is_whitespace();
        match c {
            '\\' => {
                i += 1;
                flush(&mut run, &mut best);
            }
            '[' if !in_class => in_class = true,
            ']' if in_class => in_class = false,
            '(' if !in_class => depth += 1,
            ')' if !in_class => depth = depth.saturating_sub(1),
            _ => {}
        }
        if plain && !quantified {
            if let Some(n) = crate::text::normalize_char(c) {
                run.push(n);
            }
        } else {
            flush(&mut run, &mut best);
        }
        i += 1;
    }
    flush(&mut run, &mut best);
    best
}

fn flush(run: &mut String, best: &mut String) {
    if run.chars().count() > best.chars().count() {
        *best = std::mem::take(run);
    }
    run.clear();
}

fn top_level_alternation(src: &str) -> bool {
    let mut depth = 0usize;
    let mut in_class = false;
    let mut escaped = false;
    for c in src.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '[' => in_class = true,
            ']' => in_class = false,
            '(' if !in_class => depth += 1,
            ')' if !in_class => depth = depth.saturating_sub(1),
            '|' if !in_class && depth == 0 => return true,
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Lexicons, LexiconErrors> {
        Lexicons::from_sources([(Path::new("lexicons/反问.txt"), text)])
    }

    #[test]
    fn comments_blank_lines_and_rules() {
        let lex = parse("# P26\n\n你听懂了吗？\n  \n不是跟你说了吗\n").expect("valid");
        let rules: Vec<&str> = lex.entries().iter().map(|e| e.rule.as_str()).collect();
        assert_eq!(rules, ["反问:3", "反问:5"]);
        assert_eq!(lex.entries()[0].category, "反问");
        assert_eq!(lex.entries()[0].phrase, "你听懂了吗？");
    }

    #[test]
    fn all_bad_lines_reported_with_file_and_line() {
        let err = parse("re:你(到底\n好的\n@忽略\n请讲清楚 | 除外 请你讲\n，。\n好的呀 | 不算\n")
            .expect_err("five bad lines");
        let msg = err.to_string();
        let lines: Vec<&str> = msg.lines().collect();
        assert_eq!(lines.len(), 5, "{msg}");
        for (got, line) in lines.iter().zip([1, 3, 4, 5, 6]) {
            assert!(
                got.starts_with(&format!("lexicons/反问.txt:{line}: ")),
                "{got}"
            );
            assert!(got.contains(" — "), "{got}");
        }
    }

    #[test]
    fn duplicate_after_normalisation_is_an_error() {
        let err = parse("您听懂了吗\n你聽懂了嗎？\n").expect_err("duplicate");
        assert!(err.to_string().contains("反问:1"), "{err}");
    }

    #[test]
    fn regex_anchor_is_a_word_every_match_contains() {
        for (src, want) in [
            ("你(到底|究竟)想怎么样", "想怎么样"),
            ("(您|你)懂礼貌吗", "懂礼貌吗"),
            ("\\d+元每月", "元每月"),
            ("前[一二三]个月免费", "个月免费"),
            ("不是跟你说过?了吗", "不是跟你说"),
            ("好的|是的", ""),
        ] {
            assert_eq!(regex_anchor(src), want, "{src}");
        }
    }

    #[test]
    fn conditions_parse() {
        let lex =
            parse("@引述除外\n请讲清楚 ｜ 除外 请讲清楚一点 | 除外 请讲清楚一些\n").expect("valid");
        let e = &lex.entries()[0];
        assert_eq!(e.exclusions, ["请讲清楚一点", "请讲清楚一些"]);
        assert!(e.skip_quoted);
        assert_eq!(e.phrase, "请讲清楚");
    }

    #[test]
    fn proximity_and_phonetic_lines() {
        let lex = parse("@phonetic review\n你到底 ~6 懂/明白\n凭什么 ~0 说\n").expect("valid");
        let e = &lex.entries()[0];
        assert!(!e.is_literal());
        assert_eq!(e.phonetic, PhoneticMode::Review);
        let Pattern::Near {
            before,
            within,
            after,
        } = &e.pattern
        else {
            panic!("not a proximity pattern: {:?}", e.pattern);
        };
        assert_eq!(
            (before.as_slice(), *within),
            (["你到底".to_string()].as_slice(), 6)
        );
        assert_eq!(after, &["懂", "明白"]);
        assert_eq!(
            parse("信不信由你\n").expect("valid").entries()[0].phonetic,
            PhoneticMode::Auto
        );
    }

    #[test]
    fn bad_proximity_and_phonetic_lines_are_named() {
        let err = parse("到底 ~x 懂\n到底 ~99 懂\n到底 ~3 /\n@phonetic loud\n@phonetic\n")
            .expect_err("five bad lines");
        let msg = err.to_string();
        let lines: Vec<&str> = msg.lines().collect();
        assert_eq!(lines.len(), 5, "{msg}");
        for (got, line) in lines.iter().zip(1..) {
            assert!(
                got.starts_with(&format!("lexicons/反问.txt:{line}: ")),
                "{got}"
            );
        }
        assert!(lines[3].contains("@phonetic off, @phonetic review or @phonetic deduct"));
    }
}
