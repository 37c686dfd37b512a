//! Lexicon files: the phrase lists QA staff own, one file per category in `lexicons/`.
//!
//! Syntax (documented for QA staff in `lexicons/README.md`):
//! - one phrase per line, written as agents say it; it is normalised like transcripts are;
//! - `#` starts a comment line; `  # …` after an entry is a comment too; blank lines are ignored;
//! - `re:` starts a regular expression over normalised text (no punctuation, 您 written 你);
//! - `[不算: A, B]` after an entry lists contexts in which it is not a hit; each context must
//!   contain the phrase (「请讲清楚 [不算: 请你讲清楚一点]」).
//!
//! Loading reports every bad line of every file at once, as `file:line: what — what to do`,
//! and then fails: a lexicon never half-loads.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::text::normalized;

/// How an entry matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pattern {
    /// Normalised literal text.
    Literal(String),
    /// A regular expression over normalised text.
    Regex(String),
}

/// One line of a lexicon file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The file stem, e.g. `反问`.
    pub category: String,
    /// 1-based line number in the file.
    pub line: usize,
    /// The entry as written.
    pub phrase: String,
    pub pattern: Pattern,
    /// Normalised contexts in which a match is not a hit.
    pub exclusions: Vec<String>,
}

impl Entry {
    /// `<category>:<line>`, the hit's `rule`.
    pub fn rule(&self) -> String {
        format!("{}:{}", self.category, self.line)
    }
}

/// All lexicons of a folder.
#[derive(Clone, Debug, Default)]
pub struct Lexicons {
    pub entries: Vec<Entry>,
    /// sha256 over every file's name and content: part of a result's cache key.
    pub version: String,
}

/// A bad line (or an unreadable file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineError {
    pub path: PathBuf,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.path.display(), self.message)
        } else {
            write!(f, "{}:{}: {}", self.path.display(), self.line, self.message)
        }
    }
}

/// Every problem found while loading lexicons.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct LexiconErrors(pub Vec<LineError>);

impl fmt::Display for LexiconErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&lines.join("\n"))
    }
}

impl Lexicons {
    /// Loads every `*.txt` in `dir`, in name order.
    pub fn load_dir(dir: &Path) -> Result<Lexicons, LexiconErrors> {
        let paths = crate::util::config_files(dir, "txt").map_err(|e| {
            LexiconErrors(vec![LineError {
                path: dir.to_path_buf(),
                line: 0,
                message: format!("cannot read the lexicon folder ({e}); pass --lexicons DIR"),
            }])
        })?;
        let mut files = Vec::new();
        let mut errors = Vec::new();
        for path in paths {
            match std::fs::read_to_string(&path) {
                Ok(text) => files.push((path, text)),
                Err(e) => errors.push(LineError {
                    path: path.clone(),
                    line: 0,
                    message: format!("cannot read ({e}); save it as UTF-8 text"),
                }),
            }
        }
        let refs: Vec<(&Path, &str)> = files
            .iter()
            .map(|(p, t)| (p.as_path(), t.as_str()))
            .collect();
        match Lexicons::parse(&refs) {
            Ok(lex) if errors.is_empty() => Ok(lex),
            Ok(_) => Err(LexiconErrors(errors)),
            Err(LexiconErrors(mut more)) => {
                errors.append(&mut more);
                Err(LexiconErrors(errors))
            }
        }
    }

    /// Parses lexicon files given as (path, content); the category is the file stem.
    pub fn parse(files: &[(&Path, &str)]) -> Result<Lexicons, LexiconErrors> {
        use sha2::{Digest, Sha256};
        let mut entries = Vec::new();
        let mut errors = Vec::new();
        let mut hash = Sha256::new();
        for (path, text) in files {
            let category = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            hash.update(category.as_bytes());
            hash.update([0]);
            hash.update(text.as_bytes());
            hash.update([0]);
            for (i, raw) in text.lines().enumerate() {
                match parse_line(&category, i + 1, raw) {
                    Ok(Some(entry)) => entries.push(entry),
                    Ok(None) => {}
                    Err(message) => errors.push(LineError {
                        path: path.to_path_buf(),
                        line: i + 1,
                        message,
                    }),
                }
            }
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

    /// Entries of one category.
    pub fn category<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Entry> + 'a {
        self.entries.iter().filter(move |e| e.category == name)
    }
}

/// Parses one line; `Ok(None)` for blank and comment lines.
pub fn parse_line(category: &str, line: usize, raw: &str) -> Result<Option<Entry>, String> {
    let raw = raw.trim_start_matches('\u{feff}');
    let body = match raw.find("  #").or_else(|| raw.find("\t#")) {
        Some(i) => &raw[..i],
        None => raw,
    };
    let body = body.trim();
    if body.is_empty() || body.starts_with('#') {
        return Ok(None);
    }
    let (body, exclusions) = match body.find('[') {
        Some(open) if body.ends_with(']') && body[open..].starts_with("[不算") => {
            let inner = body[open + "[不算".len()..body.len() - 1].trim_start();
            let inner = inner
                .strip_prefix(':')
                .or_else(|| inner.strip_prefix('：'))
                .ok_or("write exclusions as [不算: 语境1, 语境2]")?;
            let list: Vec<String> = inner
                .split([',', '，', '、'])
                .map(normalized)
                .filter(|s| !s.is_empty())
                .collect();
            if list.is_empty() {
                return Err("[不算: …] lists no context; remove it or add contexts".into());
            }
            (body[..open].trim(), list)
        }
        Some(_) if body.contains("[不算") => {
            return Err("an exclusion must close the line: phrase [不算: 语境1, 语境2]".into())
        }
        _ => (body, Vec::new()),
    };
    let pattern = if let Some(re) = body.strip_prefix("re:") {
        let re = re.trim();
        if re.is_empty() {
            return Err("re: with no expression; write re:你(到底|究竟)想怎么样".into());
        }
        regex::Regex::new(re).map_err(|e| {
            let first = e
                .to_string()
                .lines()
                .last()
                .unwrap_or("")
                .trim()
                .to_string();
            format!("bad regular expression ({first}); fix it or write the phrase without re:")
        })?;
        Pattern::Regex(re.to_string())
    } else if let Some(directive) = body.strip_prefix('@') {
        return Err(format!(
            "unknown directive @{directive}; a line is a phrase, re:PATTERN or a # comment"
        ));
    } else {
        let n = normalized(body);
        if n.is_empty() {
            return Err("the phrase has no letters or characters left after normalisation".into());
        }
        for x in &exclusions {
            if !x.contains(&n) {
                return Err(format!(
                    "exclusion {x:?} does not contain the phrase {n:?}; a context must include the phrase"
                ));
            }
        }
        Pattern::Literal(n)
    };
    Ok(Some(Entry {
        category: category.to_string(),
        line,
        phrase: body.to_string(),
        pattern,
        exclusions,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(line: &str) -> Result<Option<Entry>, String> {
        parse_line("反问", 7, line)
    }

    #[test]
    fn parses_phrases_comments_regexes_and_exclusions() {
        assert_eq!(one("# 反问语气").expect("ok"), None);
        assert_eq!(one("   ").expect("ok"), None);
        let e = one("你听懂了吗?  # P26").expect("ok").expect("entry");
        assert_eq!(e.pattern, Pattern::Literal("你听懂了吗".into()));
        assert_eq!(e.phrase, "你听懂了吗?");
        assert_eq!(e.rule(), "反问:7");
        let e = one("re:你(到底|究竟)想怎么样").expect("ok").expect("entry");
        assert_eq!(e.pattern, Pattern::Regex("你(到底|究竟)想怎么样".into()));
        let e = one("请讲清楚 [不算: 请讲清楚一点, 请讲清楚些]")
            .expect("ok")
            .expect("entry");
        assert_eq!(e.exclusions, vec!["请讲清楚一点", "请讲清楚些"]);
    }

    #[test]
    fn bad_lines_say_what_to_do() {
        for (line, says) in [
            ("re:你(到底", "bad regular expression"),
            ("@include 其他.txt", "unknown directive"),
            ("请讲清楚 [不算: 讲清楚一点]", "does not contain the phrase"),
            ("请讲清楚 [不算 讲清楚]", "[不算: 语境1"),
            ("，。！", "no letters"),
        ] {
            let err = one(line).expect_err(line);
            assert!(err.contains(says), "{line}: {err}");
        }
    }

    #[test]
    fn every_bad_line_of_every_file_is_reported_with_file_and_line() {
        let a = Path::new("lexicons/反问.txt");
        let b = Path::new("lexicons/质问.txt");
        let err = Lexicons::parse(&[(a, "你听懂了吗\nre:(\n"), (b, "ok\n@x\nre:[\n")])
            .expect_err("bad lines");
        let shown: Vec<String> = err.0.iter().map(ToString::to_string).collect();
        assert_eq!(shown.len(), 3, "{shown:?}");
        assert!(
            shown[0].starts_with("lexicons/反问.txt:2: "),
            "{}",
            shown[0]
        );
        assert!(
            shown[1].starts_with("lexicons/质问.txt:2: "),
            "{}",
            shown[1]
        );
        assert!(
            shown[2].starts_with("lexicons/质问.txt:3: "),
            "{}",
            shown[2]
        );
    }

    #[test]
    fn shipped_lexicons_load() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("lexicons");
        let lex = Lexicons::load_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
        for category in ["机械", "愤怒", "反问", "质问", "散漫", "讽刺"] {
            assert!(lex.category(category).count() > 0, "{category} is empty");
        }
    }
}
