//! Scan stage: find every lexicon phrase in what each party said, and place it in the text and
//! in time.
//!
//! [`Lexicons::load_dir`] reads `lexicons/*.txt`; [`Scanner::new`] compiles them once per run into
//! one Aho-Corasick automaton (a charwise double array, see `automaton`) shared read-only by
//! all workers. [`Scanner::scan_transcript`] turns a [`Transcript`] into [`Hit`]s
//! with times; [`Scanner::scan_text`] gives char offsets for any text.
//! Matching runs on [`crate::text::normalize`]d text, so punctuation, 您/你, full-width forms and
//! Traditional characters never hide a phrase.
//!
//! The automaton uses `MatchKind::LeftmostLongest`: where 请您稍等 and 对不起请您稍等 both match, the
//! longer phrase wins and its prefix is not reported again. A shorter phrase of a *different*
//! lexicon inside a longer one is still reported (precomputed per pattern, so it costs nothing
//! until the longer phrase occurs). `re:` entries are not run over the text: each has a fixed word
//! (its anchor) in the same automaton, and the regex runs only in a window around an anchor;
//! proximity entries (`到底 ~6 懂/明白/想`) likewise look for their second word only after their
//! first.
//!
//! Whisper's slips (信不信有你 for 信不信由你) are found on sound by a second automaton over
//! toneless pinyin (see `phonetic`); every hit says how it matched ([`MatchKind`]). Where an
//! exact hit and a phonetic one of the same lexicon overlap, the exact one is kept, then the
//! homophone, then the nearest.

mod automaton;
mod lexicon;
mod phonetic;

pub use crate::text::phonetic::{MatchKind, Tolerance};
pub use lexicon::{Entry, LexiconError, LexiconErrors, Lexicons, PhoneticMode};

use aho_corasick::AhoCorasick;
use automaton::Automaton;
pub use automaton::{AutomatonError, Engine};
use lexicon::Pattern;
use phonetic::PhoneticIndex;

use crate::asr::{Segment, Transcript};
use crate::text::phonetic::SoundStream;
use crate::text::Normalized;
use serde::{Deserialize, Serialize};

use crate::Role;

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
    /// How `text` matched `phrase`; results written before phonetic matching read as `exact`.
    #[serde(rename = "match", default)]
    pub kind: MatchKind,
    /// Similarity of `text` to `phrase` on toneless pinyin, 0–1 (1 for exact and homophone).
    #[serde(default = "full_similarity")]
    pub similarity: f32,
    /// For the inspector to judge, never deducted: near hits, or any phonetic hit of a
    /// `@phonetic review` lexicon.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub review: bool,
}

fn full_similarity() -> f32 {
    1.0
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

/// Regex matches are looked for this many bytes (64 CJK chars) either side of their anchor.
const REGEX_WINDOW: usize = 192;

/// Chars before a phrase searched for a quotation cue (你说, 你的意思是 …).
const QUOTE_WINDOW: usize = 24;

/// Why a scanner could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(
        "lexicons: cannot build the phrase automaton: {0} — remove very long or very many phrases"
    )]
    Build(#[from] AutomatonError),
    #[error("lexicons: no entries — add phrases to the lexicon files")]
    Empty,
}

impl From<aho_corasick::BuildError> for BuildError {
    fn from(e: aho_corasick::BuildError) -> BuildError {
        BuildError::Build(e.into())
    }
}

/// What a pattern of the automaton stands for.
#[derive(Clone, Copy, Debug)]
enum Target {
    Entry(u32),
    Regex(u32),
    /// The first word of a proximity entry.
    Near(u32),
}

#[derive(Clone, Debug, Default)]
struct PatternInfo {
    /// Range into `Scanner::targets`.
    targets: (u32, u32),
    /// Range into `Scanner::nested`.
    nested: (u32, u32),
}

/// Marks an automaton value that is a pattern to look up in `Scanner::patterns`; without it,
/// the value is the entry itself: one plain entry and nothing else to check, the common case,
/// reported without touching any table.
const LOOK_UP: u32 = 1 << 31;

/// A match in normalised text: entry index, byte range and how it matched.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NormMatch {
    pub start: usize,
    pub end: usize,
    pub entry: usize,
    pub kind: MatchKind,
    pub similarity: f32,
}

impl NormMatch {
    fn exact(start: usize, end: usize, entry: usize) -> NormMatch {
        NormMatch {
            start,
            end,
            entry,
            kind: MatchKind::Exact,
            similarity: 1.0,
        }
    }
}

/// A hit in plain text: char offsets into the text given to [`Scanner::scan_text`].
#[derive(Clone, Copy, Debug)]
pub struct TextHit<'s> {
    pub entry: &'s Entry,
    pub start: usize,
    pub end: usize,
    pub kind: MatchKind,
    pub similarity: f32,
    /// For the inspector only (see [`Hit::review`]).
    pub review: bool,
}

/// Compiled lexicons: build once, share by reference across threads.
#[derive(Debug)]
pub struct Scanner {
    lexicons: Lexicons,
    /// The automaton's patterns: distinct normalised literals and regex anchors.
    words: Vec<String>,
    automaton: Automaton,
    patterns: Vec<PatternInfo>,
    targets: Vec<Target>,
    /// `(target, byte offset inside the outer pattern, byte length)`.
    nested: Vec<(Target, u32, u32)>,
    /// Regex and proximity entries: their matches are found around anchors and deduplicated.
    regexes: Vec<u32>,
    phonetic: Option<PhoneticIndex>,
}

impl Scanner {
    /// Exact and phonetic matching with the default [`Tolerance`].
    pub fn new(lexicons: &Lexicons) -> Result<Scanner, BuildError> {
        Scanner::with_phonetic(lexicons, Some(Tolerance::default()))
    }

    /// Exact matching only, whatever the lexicons' `@phonetic` lines say.
    pub fn exact_only(lexicons: &Lexicons) -> Result<Scanner, BuildError> {
        Scanner::with_phonetic(lexicons, None)
    }

    /// Phonetic matching with `tolerance`, or none.
    pub fn with_phonetic(
        lexicons: &Lexicons,
        tolerance: Option<Tolerance>,
    ) -> Result<Scanner, BuildError> {
        Scanner::with_engine(lexicons, tolerance, Engine::Charwise)
    }

    /// As [`Scanner::with_phonetic`], on a chosen engine: for benchmarks and for checking that
    /// the engines agree.
    pub fn with_engine(
        lexicons: &Lexicons,
        tolerance: Option<Tolerance>,
        engine: Engine,
    ) -> Result<Scanner, BuildError> {
        if lexicons.is_empty() {
            return Err(BuildError::Empty);
        }
        let entries = lexicons.entries.clone();
        let words = Words::collect(&entries);
        let layout = Layout::precompute(&entries, &words)?;
        let automaton = Automaton::build(&words.words, &layout.values, engine)?;
        let phonetic = match tolerance {
            Some(tol) => PhoneticIndex::new(&entries, tol)?,
            None => None,
        };
        Ok(Scanner {
            phonetic,
            lexicons: Lexicons {
                entries,
                version: lexicons.version.clone(),
            },
            words: words.words,
            automaton,
            patterns: layout.patterns,
            targets: layout.targets,
            nested: layout.nested,
            regexes: words.regexes,
        })
    }

    pub fn entries(&self) -> &[Entry] {
        &self.lexicons.entries
    }

    /// The lexicons this scanner was built from (their `version` keys cached results).
    pub fn lexicons(&self) -> &Lexicons {
        &self.lexicons
    }

    /// The distinct normalised words the automaton looks for (literals and regex anchors), so a
    /// benchmark can give other engines exactly the same work.
    pub fn pattern_words(&self) -> Vec<String> {
        self.words.clone()
    }

    /// Heap bytes of the automaton (for capacity planning and the benchmark table).
    pub fn memory_usage(&self) -> usize {
        self.automaton.memory_usage()
    }

    /// Calls `f` for every hit in already normalised text, in automaton order (nested and regex
    /// hits right after the match that revealed them).
    pub fn for_each_normalized(&self, norm: &str, mut f: impl FnMut(NormMatch)) {
        let mut regex_end = vec![
            0usize;
            if self.regexes.is_empty() {
                0
            } else {
                self.lexicons.entries.len()
            }
        ];
        self.automaton.for_each(norm, |start, end, value| {
            if value & LOOK_UP == 0 {
                f(NormMatch::exact(start, end, value as usize));
                return;
            }
            let info = &self.patterns[(value & !LOOK_UP) as usize];
            for t in &self.targets[info.targets.0 as usize..info.targets.1 as usize] {
                self.check(norm, *t, start, end, &mut regex_end, &mut f);
            }
            for &(t, off, len) in &self.nested[info.nested.0 as usize..info.nested.1 as usize] {
                let s = start + off as usize;
                self.check(norm, t, s, s + len as usize, &mut regex_end, &mut f);
            }
        });
    }

    fn check(
        &self,
        norm: &str,
        target: Target,
        start: usize,
        end: usize,
        regex_end: &mut [usize],
        f: &mut impl FnMut(NormMatch),
    ) {
        match target {
            Target::Entry(e) => {
                let entry = &self.lexicons.entries[e as usize];
                if !self.excluded(norm, entry, start, end) {
                    f(NormMatch::exact(start, end, e as usize));
                }
            }
            Target::Near(e) => {
                let entry = &self.lexicons.entries[e as usize];
                let Pattern::Near { within, after, .. } = &entry.pattern else {
                    return;
                };
                let Some(t) = second_word(norm, end, *within, after) else {
                    return;
                };
                if start >= regex_end[e as usize] && !self.excluded(norm, entry, start, t) {
                    regex_end[e as usize] = t;
                    f(NormMatch::exact(start, t, e as usize));
                }
            }
            Target::Regex(e) => {
                let entry = &self.lexicons.entries[e as usize];
                let Pattern::Regex { re, .. } = &entry.pattern else {
                    return;
                };
                let lo = floor_boundary(norm, start.saturating_sub(REGEX_WINDOW));
                let hi = ceil_boundary(norm, end + REGEX_WINDOW);
                for rm in re.find_iter(&norm[lo..hi]) {
                    let (s, t) = (lo + rm.start(), lo + rm.end());
                    let covers_anchor = s <= start && end <= t;
                    if covers_anchor
                        && s >= regex_end[e as usize]
                        && !self.excluded(norm, entry, s, t)
                    {
                        regex_end[e as usize] = t;
                        f(NormMatch::exact(s, t, e as usize));
                    }
                }
            }
        }
    }

    fn excluded(&self, norm: &str, entry: &Entry, start: usize, end: usize) -> bool {
        if entry.skip_quoted && quoted(norm, start) {
            return true;
        }
        entry.exclusions.iter().any(|ctx| {
            let lo = floor_boundary(norm, start.saturating_sub(ctx.len()));
            let hi = ceil_boundary(norm, end + ctx.len());
            norm[lo..hi]
                .match_indices(ctx.as_str())
                .any(|(i, _)| lo + i <= start && end <= lo + i + ctx.len())
        })
    }

    /// Hits in normalised text, sorted by position. Where two entries of one lexicon cover
    /// overlapping text (a seed phrase and a regex for its variants), only the first and longest
    /// is kept: one utterance is one offence, and 反问 counts change the score.
    pub fn scan_normalized(&self, norm: &str) -> Vec<NormMatch> {
        let mut kept = self.scan_exact(norm);
        if let Some(index) = &self.phonetic {
            // Transcripts are scanned a segment at a time: reuse one stream per thread.
            thread_local! {
                static SOUNDS: std::cell::RefCell<SoundStream> = Default::default();
            }
            SOUNDS.with_borrow_mut(|sounds| {
                let found = index.find(norm, sounds, &self.lexicons.entries);
                if !found.is_empty() {
                    self.merge_phonetic(sounds, found, &mut kept);
                }
            });
        }
        kept
    }

    /// Adds phonetic matches that overlap no kept hit of their lexicon: homophones before near
    /// matches, the most similar first.
    fn merge_phonetic(
        &self,
        sounds: &SoundStream,
        mut found: Vec<phonetic::Candidate>,
        kept: &mut Vec<NormMatch>,
    ) {
        found.sort_by(|a, b| {
            let key = |c: &phonetic::Candidate| (c.compared.kind, -c.compared.similarity, c.start);
            key(a)
                .partial_cmp(&key(b))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        for c in found {
            let m = NormMatch {
                start: sounds.bytes[c.start] as usize,
                end: sounds.bytes[c.end] as usize,
                entry: c.entry,
                kind: c.compared.kind,
                similarity: c.compared.similarity,
            };
            let category = &self.lexicons.entries[m.entry].category;
            let before_end = kept.partition_point(|k| k.start < m.end);
            let overlaps =
                kept[..before_end].iter().rev().take(32).any(|k| {
                    k.end > m.start && self.lexicons.entries[k.entry].category == *category
                });
            if !overlaps {
                let at = kept.partition_point(|k| (k.start, m.end) <= (m.start, k.end));
                kept.insert(at, m);
            }
        }
    }

    /// Exact hits only, sorted by position, one per overlapping run of one lexicon.
    fn scan_exact(&self, norm: &str) -> Vec<NormMatch> {
        let mut out = Vec::new();
        self.for_each_normalized(norm, |m| out.push(m));
        out.sort_unstable_by_key(|m| (m.start, std::cmp::Reverse(m.end), m.entry));
        let mut kept: Vec<NormMatch> = Vec::with_capacity(out.len());
        for m in out {
            let category = &self.lexicons.entries[m.entry].category;
            // Phrases are short, so an overlapping hit is among the last few kept.
            let overlaps_same =
                kept.iter().rev().take(16).any(|k| {
                    k.end > m.start && self.lexicons.entries[k.entry].category == *category
                });
            if !overlaps_same {
                kept.push(m);
            }
        }
        kept
    }

    /// Hits in `text` with char offsets into it, sorted by position.
    pub fn scan_text(&self, text: &str) -> Vec<TextHit<'_>> {
        let norm = crate::text::normalize(text);
        self.scan_normalized(norm.as_str())
            .into_iter()
            .map(|m| {
                let (start, end) = norm.orig_span(m.start, m.end);
                let entry = &self.lexicons.entries[m.entry];
                TextHit {
                    entry,
                    start,
                    end,
                    kind: m.kind,
                    similarity: m.similarity,
                    review: entry.phonetic.review(m.kind),
                }
            })
            .collect()
    }

    /// Hits in one party's transcript. Segments are scanned as one text, so a phrase split
    /// across two consecutive segments is found; it then starts in one and ends in the other.
    pub fn scan_transcript(&self, transcript: &Transcript) -> Vec<Hit> {
        let mut norm = Normalized::new();
        let mut seg_start = Vec::with_capacity(transcript.segments.len() + 1);
        for seg in &transcript.segments {
            seg_start.push(norm.orig_len());
            norm.push_str(&seg.text);
        }
        seg_start.push(norm.orig_len());
        let locate = |c: usize| {
            let s = seg_start.partition_point(|&b| b <= c).saturating_sub(1);
            (s, c - seg_start[s])
        };
        self.scan_normalized(norm.as_str())
            .into_iter()
            .filter_map(|m| {
                let (gs, ge) = norm.orig_span(m.start, m.end);
                let (segment, start) = locate(gs);
                let (end_segment, last) = locate(ge.checked_sub(1)?);
                let first = transcript.segments.get(segment)?;
                let final_seg = transcript.segments.get(end_segment)?;
                let text: String = transcript.segments[segment..=end_segment]
                    .iter()
                    .flat_map(|s| s.text.chars())
                    .skip(start)
                    .take(ge - gs)
                    .collect();
                let entry = &self.lexicons.entries[m.entry];
                Some(Hit {
                    rule: entry.rule.clone(),
                    category: entry.category.clone(),
                    role: transcript.role,
                    start_ms: char_time(first, start).0,
                    end_ms: char_time(final_seg, last).1,
                    text,
                    phrase: entry.phrase.clone(),
                    span: HitSpan {
                        segment,
                        start,
                        end_segment,
                        end: last + 1,
                    },
                    kind: m.kind,
                    similarity: m.similarity,
                    review: entry.phonetic.review(m.kind),
                })
            })
            .collect()
    }
}

/// The automaton's patterns: each distinct normalised word once, with what it stands for.
struct Words {
    words: Vec<String>,
    per_pattern: Vec<Vec<Target>>,
    /// Regex and proximity entries.
    regexes: Vec<u32>,
}

impl Words {
    fn collect(entries: &[Entry]) -> Words {
        let mut w = Words {
            words: Vec::new(),
            per_pattern: Vec::new(),
            regexes: Vec::new(),
        };
        let mut index = std::collections::HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            let i = i as u32;
            match &e.pattern {
                Pattern::Literal(word) => w.add(&mut index, word, Target::Entry(i)),
                Pattern::Regex { anchor, .. } => {
                    w.regexes.push(i);
                    w.add(&mut index, anchor, Target::Regex(i));
                }
                Pattern::Near { before, .. } => {
                    w.regexes.push(i);
                    for word in before {
                        w.add(&mut index, word, Target::Near(i));
                    }
                }
            }
        }
        w
    }

    fn add(&mut self, index: &mut std::collections::HashMap<String, usize>, word: &str, t: Target) {
        let id = *index.entry(word.to_owned()).or_insert_with(|| {
            self.words.push(word.to_owned());
            self.per_pattern.push(Vec::new());
            self.words.len() - 1
        });
        self.per_pattern[id].push(t);
    }
}

/// Per pattern: its own targets and the other entries found inside it, worked out once so a
/// match costs a slice walk (or nothing, for a simple pattern).
struct Layout {
    /// Per pattern: what the automaton reports for it (see [`LOOK_UP`]).
    values: Vec<u32>,
    patterns: Vec<PatternInfo>,
    targets: Vec<Target>,
    nested: Vec<(Target, u32, u32)>,
}

impl Layout {
    fn precompute(entries: &[Entry], w: &Words) -> Result<Layout, BuildError> {
        let overlapping = AhoCorasick::new(&w.words)?;
        let category = |t: &Target| match *t {
            Target::Entry(i) | Target::Regex(i) | Target::Near(i) => {
                entries[i as usize].category.as_str()
            }
        };
        let mut out = Layout {
            values: Vec::with_capacity(w.words.len()),
            patterns: Vec::with_capacity(w.words.len()),
            targets: Vec::new(),
            nested: Vec::new(),
        };
        for (id, word) in w.words.iter().enumerate() {
            let own = &w.per_pattern[id];
            let t0 = out.targets.len() as u32;
            out.targets.extend_from_slice(own);
            let n0 = out.nested.len() as u32;
            for m in overlapping.find_overlapping_iter(word.as_str()) {
                if m.pattern().as_usize() == id {
                    continue;
                }
                for t in &w.per_pattern[m.pattern().as_usize()] {
                    let other_lexicon = own.iter().all(|o| category(o) != category(t));
                    if matches!(t, Target::Regex(_) | Target::Near(_)) || other_lexicon {
                        let span = (m.start() as u32, (m.end() - m.start()) as u32);
                        out.nested.push((*t, span.0, span.1));
                    }
                }
            }
            let simple = match own.as_slice() {
                [Target::Entry(e)] if out.nested.len() as u32 == n0 => {
                    let e_ref = &entries[*e as usize];
                    (e_ref.exclusions.is_empty() && !e_ref.skip_quoted).then_some(*e)
                }
                _ => None,
            };
            out.values.push(simple.unwrap_or(id as u32 | LOOK_UP));
            out.patterns.push(PatternInfo {
                targets: (t0, out.targets.len() as u32),
                nested: (n0, out.nested.len() as u32),
            });
        }
        Ok(out)
    }
}

/// End of the nearest of `after` that starts at most `within` chars after byte `from`.
fn second_word(norm: &str, from: usize, within: usize, after: &[String]) -> Option<usize> {
    let limit = norm[from..]
        .char_indices()
        .nth(within)
        .map_or(norm.len(), |(i, _)| from + i);
    after
        .iter()
        .filter_map(|w| {
            let hi = ceil_boundary(norm, limit + w.len());
            let at = norm[from..hi].find(w.as_str())?;
            Some((from + at, from + at + w.len()))
        })
        .min_by_key(|&(s, e)| (s, std::cmp::Reverse(e)))
        .map(|(_, e)| e)
}

/// Start and end time of char `c` of a segment: from its token when the tokens spell the
/// segment's text, else interpolated evenly over the segment.
fn char_time(seg: &Segment, c: usize) -> (u64, u64) {
    let n = seg.text.chars().count();
    let token_chars: usize = seg.tokens.iter().map(|t| t.text.chars().count()).sum();
    if !seg.tokens.is_empty() && token_chars == n {
        let mut seen = 0;
        for t in &seg.tokens {
            seen += t.text.chars().count();
            if c < seen {
                return (t.start_ms, t.end_ms);
            }
        }
    }
    let dur = seg.end_ms.saturating_sub(seg.start_ms);
    let n = n.max(1) as u64;
    let c = c as u64;
    (
        seg.start_ms + dur * c / n,
        seg.start_ms + dur * (c + 1).min(n) / n,
    )
}

/// True when the words right before `start` introduce a quotation of the other party. Only a cue
/// that ends exactly where the phrase starts counts: "不是跟你说了吗？你听懂了吗" is two offences.
pub(crate) fn quoted(norm: &str, start: usize) -> bool {
    let before = &norm[floor_boundary(norm, start.saturating_sub(QUOTE_WINDOW))..start];
    QUOTE_CUES.iter().any(|cue| before.ends_with(cue))
}

/// Normalised words that introduce a quotation (您 is already 你).
const QUOTE_CUES: [&str; 10] = [
    "你说",
    "你是说",
    "你刚才说",
    "你刚刚说",
    "你讲",
    "你的意思是",
    "你是指",
    "客户说",
    "你说的是",
    "你问",
];

fn floor_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests;
