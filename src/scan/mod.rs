//! Scan stage: find every lexicon phrase in what each party said, and place it in the original
//! text and in time.
//!
//! [`Scanner`] is built once per run from [`Lexicons`] and shared read-only by every worker.
//! Literal entries of all categories go into one Aho-Corasick DFA searched once over the
//! normalised text; its overlapping matches are then resolved leftmost-longest *per category*,
//! so a longer phrase wins over its prefix (你到底什么意思 over 什么意思) while a phrase listed
//! in two categories is still reported in both. Regular-expression entries run only when a
//! `RegexSet` pass says the text can match, so they cost one extra pass, not one per entry.
//!
//! Transcripts are scanned as one string per speaker (segments joined), so a phrase Whisper
//! split across two segments is still found; the hit's time comes from the tokens Whisper
//! timed, or is interpolated by character within the segment.

mod lexicon;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use regex::{Regex, RegexSet};
use serde::{Deserialize, Serialize};

pub use lexicon::{parse_line, Entry, LexiconErrors, Lexicons, LineError, Pattern};

use crate::text::{normalize, Normalized};
use crate::{Role, Segment, Transcript};

/// One lexicon phrase found in a transcript.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    /// The lexicon entry that matched: `<lexicon>:<line>` (e.g. `反问:14`), stable while the file is.
    pub rule: String,
    /// The lexicon (file stem) the entry belongs to, e.g. `反问`, `开头语`.
    pub category: String,
    pub role: Role,
    pub start_ms: u64,
    pub end_ms: u64,
    /// The words as the transcript has them (original, unnormalised).
    pub text: String,
    /// The lexicon entry as written in the file.
    pub phrase: String,
    /// Where `text` sits: index of the segment in its transcript and char offsets within it.
    pub span: HitSpan,
}

/// Location of a hit in the transcript it came from. A phrase split across two segments
/// starts in `segment` and ends in `end_segment`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HitSpan {
    pub segment: usize,
    pub start: usize,
    pub end_segment: usize,
    pub end: usize,
}

/// A match in plain text: entry index and char offsets into the original text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TextHit {
    pub entry: usize,
    pub start: usize,
    pub end: usize,
}

/// Why a scanner could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("building the phrase automaton failed: {0}")]
    Automaton(#[from] aho_corasick::BuildError),
    #[error("building the regular expressions failed: {0}")]
    Regex(#[from] regex::Error),
}

/// The compiled lexicons; build once, share by reference (it is `Send + Sync`).
pub struct Scanner {
    lexicons: Lexicons,
    automaton: AhoCorasick,
    /// For each automaton pattern, the entries (indexes) that share its normalised text.
    pattern_entries: Vec<Vec<usize>>,
    regex_set: RegexSet,
    regexes: Vec<(usize, Regex)>,
    /// Category of each entry as a small integer, for per-category overlap resolution.
    category_of: Vec<usize>,
}

impl Scanner {
    pub fn new(lexicons: &Lexicons) -> Result<Scanner, BuildError> {
        let mut literal_index: std::collections::HashMap<&str, usize> = Default::default();
        let mut patterns: Vec<&str> = Vec::new();
        let mut pattern_entries: Vec<Vec<usize>> = Vec::new();
        let mut regexes = Vec::new();
        let mut categories: Vec<&str> = Vec::new();
        let mut category_of = Vec::with_capacity(lexicons.entries.len());
        for (i, e) in lexicons.entries.iter().enumerate() {
            let c = match categories.iter().position(|c| *c == e.category) {
                Some(c) => c,
                None => {
                    categories.push(&e.category);
                    categories.len() - 1
                }
            };
            category_of.push(c);
            match &e.pattern {
                Pattern::Literal(p) => {
                    let id = *literal_index.entry(p.as_str()).or_insert_with(|| {
                        patterns.push(p.as_str());
                        pattern_entries.push(Vec::new());
                        patterns.len() - 1
                    });
                    pattern_entries[id].push(i);
                }
                Pattern::Regex(r) => regexes.push((i, Regex::new(r)?)),
            }
        }
        let kind = if patterns.len() <= 20_000 {
            AhoCorasickKind::DFA
        } else {
            AhoCorasickKind::ContiguousNFA
        };
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .kind(Some(kind))
            .build(&patterns)?;
        let regex_set = RegexSet::new(regexes.iter().map(|(_, r)| r.as_str()))?;
        Ok(Scanner {
            lexicons: lexicons.clone(),
            automaton,
            pattern_entries,
            regex_set,
            regexes,
            category_of,
        })
    }

    pub fn lexicons(&self) -> &Lexicons {
        &self.lexicons
    }

    /// Matches in normalised text as (entry, byte start, byte end), leftmost-longest within each
    /// category, exclusions applied, sorted by position.
    pub fn scan_normalized(&self, text: &str) -> Vec<(usize, usize, usize)> {
        let mut raw: Vec<(usize, usize, usize)> = Vec::new();
        for m in self.automaton.find_overlapping_iter(text) {
            for &entry in &self.pattern_entries[m.pattern().as_usize()] {
                raw.push((entry, m.start(), m.end()));
            }
        }
        if !self.regexes.is_empty() {
            for i in self.regex_set.matches(text).iter() {
                let (entry, re) = &self.regexes[i];
                raw.extend(re.find_iter(text).map(|m| (*entry, m.start(), m.end())));
            }
        }
        // Leftmost-longest per category: earliest start first, then longest.
        raw.sort_by_key(|&(e, s, end)| (self.category_of[e], s, std::cmp::Reverse(end), e));
        let mut out = Vec::with_capacity(raw.len());
        let mut last: Option<(usize, usize)> = None;
        for (e, s, end) in raw {
            let c = self.category_of[e];
            if let Some((lc, lend)) = last {
                if lc == c && s < lend {
                    continue;
                }
            }
            if self.excluded(e, text, s, end) {
                continue;
            }
            last = Some((c, end));
            out.push((e, s, end));
        }
        out.sort_by_key(|&(e, s, end)| (s, end, e));
        out
    }

    fn excluded(&self, entry: usize, text: &str, start: usize, end: usize) -> bool {
        self.lexicons.entries[entry].exclusions.iter().any(|x| {
            text.match_indices(x.as_str())
                .any(|(at, m)| at <= start && at + m.len() >= end)
        })
    }

    /// Scans plain text; offsets are chars of the original `text`.
    pub fn scan_text(&self, text: &str) -> Vec<TextHit> {
        let n = normalize(text);
        self.scan_normalized(&n.text)
            .into_iter()
            .map(|(entry, s, e)| {
                let (start, end) = n.original(s, e);
                TextHit { entry, start, end }
            })
            .collect()
    }

    /// Scans a transcript's segments as one text and turns matches into timed hits.
    pub fn scan_transcript(&self, transcript: &Transcript) -> Vec<Hit> {
        let joined = Joined::new(&transcript.segments);
        let n: Normalized = normalize(&joined.text);
        self.scan_normalized(&n.text)
            .into_iter()
            .map(|(entry, s, e)| {
                let (start, end) = n.original(s, e);
                let e = &self.lexicons.entries[entry];
                let (seg_a, off_a) = joined.locate(start);
                let (seg_b, off_b) = joined.locate_end(end);
                Hit {
                    rule: e.rule(),
                    category: e.category.clone(),
                    role: transcript.role,
                    start_ms: char_time(&transcript.segments[seg_a], off_a, false),
                    end_ms: char_time(&transcript.segments[seg_b], off_b, true),
                    text: joined.chars[start..end].iter().collect(),
                    phrase: e.phrase.clone(),
                    span: HitSpan {
                        segment: seg_a,
                        start: off_a,
                        end_segment: seg_b,
                        end: off_b,
                    },
                }
            })
            .collect()
    }
}

/// Segments joined into one text, with where each segment starts (in chars).
struct Joined {
    text: String,
    chars: Vec<char>,
    starts: Vec<usize>,
}

impl Joined {
    fn new(segments: &[Segment]) -> Joined {
        let mut text = String::new();
        let mut starts = Vec::with_capacity(segments.len());
        let mut count = 0;
        for s in segments {
            starts.push(count);
            text.push_str(&s.text);
            count += s.text.chars().count();
        }
        let chars = text.chars().collect();
        Joined {
            text,
            chars,
            starts,
        }
    }

    /// Segment and char offset within it of the char at `at`.
    fn locate(&self, at: usize) -> (usize, usize) {
        let seg = self.starts.partition_point(|&s| s <= at).saturating_sub(1);
        (seg, at - self.starts.get(seg).copied().unwrap_or(0))
    }

    /// Like `locate`, for an exclusive end: the segment holding the char before `end`.
    fn locate_end(&self, end: usize) -> (usize, usize) {
        let (seg, off) = self.locate(end.saturating_sub(1));
        (seg, off + 1)
    }
}

/// Time of a char offset within a segment: from its token when Whisper timed tokens, else
/// interpolated over the segment's characters.
fn char_time(segment: &Segment, offset: usize, end: bool) -> u64 {
    if !segment.tokens.is_empty() {
        let mut seen = 0;
        for t in &segment.tokens {
            let len = t.text.trim().chars().count();
            if offset < seen + len || (end && offset <= seen + len) {
                return if end { t.end_ms } else { t.start_ms };
            }
            seen += len;
        }
    }
    let len = segment.text.chars().count().max(1) as u64;
    let span = segment.end_ms.saturating_sub(segment.start_ms);
    segment.start_ms + span * (offset as u64).min(len) / len
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn scanner(files: &[(&str, &str)]) -> Scanner {
        let files: Vec<(&Path, &str)> = files.iter().map(|(p, t)| (Path::new(*p), *t)).collect();
        let lex = Lexicons::parse(&files).expect("lexicons");
        Scanner::new(&lex).expect("scanner")
    }

    fn found(s: &Scanner, text: &str) -> Vec<(String, String)> {
        let chars: Vec<char> = text.chars().collect();
        s.scan_text(text)
            .into_iter()
            .map(|h| {
                (
                    s.lexicons().entries[h.entry].category.clone(),
                    chars[h.start..h.end].iter().collect(),
                )
            })
            .collect()
    }

    fn seg(start_ms: u64, end_ms: u64, text: &str) -> Segment {
        Segment {
            start_ms,
            end_ms,
            text: text.into(),
            tokens: Vec::new(),
            avg_logprob: 0.0,
            no_speech_prob: 0.0,
        }
    }

    #[test]
    fn finds_phrases_however_whisper_wrote_them() {
        let s = scanner(&[
            ("反问.txt", "你听懂了吗\n"),
            ("质问.txt", "你到底什么意思\n"),
        ]);
        assert_eq!(
            found(&s, "您聽懂了嗎？我說的"),
            vec![("反问".into(), "您聽懂了嗎".into())]
        );
        assert_eq!(
            found(&s, "那你 到底，什么意思"),
            vec![("质问".into(), "你 到底，什么意思".into())]
        );
    }

    #[test]
    fn longer_phrase_wins_within_a_category_but_categories_are_independent() {
        let s = scanner(&[
            ("质问.txt", "什么意思\n你到底什么意思\n"),
            ("反问.txt", "什么意思呢\n"),
        ]);
        let hits = found(&s, "你到底什么意思呢");
        assert_eq!(
            hits,
            vec![
                ("质问".into(), "你到底什么意思".into()),
                ("反问".into(), "什么意思呢".into())
            ]
        );
    }

    #[test]
    fn counts_every_occurrence() {
        let s = scanner(&[("反问.txt", "不是跟你说了吗\n")]);
        assert_eq!(found(&s, "不是跟你说了吗？不是跟您说了吗！").len(), 2);
    }

    #[test]
    fn regex_entries_and_exclusions() {
        let s = scanner(&[(
            "愤怒.txt",
            "re:你(到底|究竟)想怎么样\n请讲清楚 [不算: 请讲清楚一点]\n",
        )]);
        assert_eq!(found(&s, "你究竟想怎么样？").len(), 1);
        assert_eq!(found(&s, "请讲清楚！").len(), 1);
        assert!(found(&s, "麻烦您请讲清楚一点好吗").is_empty());
    }

    #[test]
    fn a_phrase_split_across_segments_is_found_and_timed() {
        let s = scanner(&[("请稍等.txt", "请您稍等\n")]);
        let t = Transcript {
            role: Role::Agent,
            segments: vec![
                seg(1_000, 2_000, "好的，请您"),
                seg(2_500, 3_500, "稍等一下"),
            ],
        };
        let hits = s.scan_transcript(&t);
        assert_eq!(hits.len(), 1);
        let h = &hits[0];
        assert_eq!(h.text, "请您稍等");
        assert_eq!(
            h.span,
            HitSpan {
                segment: 0,
                start: 3,
                end_segment: 1,
                end: 2
            }
        );
        assert_eq!((h.start_ms, h.end_ms), (1_600, 3_000));
        assert_eq!(h.role, Role::Agent);
    }

    #[test]
    fn token_times_place_the_hit_to_the_word() {
        let s = scanner(&[("反问.txt", "听懂了吗\n")]);
        let mut segment = seg(0, 4_000, "你听懂了吗");
        segment.tokens = ["你", "听懂", "了吗"]
            .iter()
            .enumerate()
            .map(|(i, t)| crate::Token {
                text: (*t).into(),
                start_ms: 500 + 1_000 * i as u64,
                end_ms: 1_400 + 1_000 * i as u64,
                p: 0.9,
            })
            .collect();
        let t = Transcript {
            role: Role::Customer,
            segments: vec![segment],
        };
        let h = &s.scan_transcript(&t)[0];
        assert_eq!((h.start_ms, h.end_ms), (1_500, 3_400));
        assert_eq!(h.role, Role::Customer);
    }

    #[test]
    fn scanner_is_shared_by_workers() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Scanner>();
    }
}
