//! Phonetic lexicon matching: the entries' homophones and near misses in a transcript.
//!
//! A window with at most `k` different syllables from a phrase contains at least one of `k + 1`
//! pieces of the phrase unchanged (pigeonhole). So one automaton over the pieces' first
//! readings, run over the text's first readings ([`SoundStream`], one byte a char), finds every
//! candidate; each is then compared syllable by syllable with every reading
//! ([`Phrase::compare`]). A window whose text reads a polyphone the other way than its first
//! reading is found only through a piece without that char: with one piece (short phrases) it
//! is missed, which keeps the pieces long and the candidates few.
//!
//! Only literal entries of at least [`Tolerance::homophone_min`] syllables take part; regexes
//! and proximity patterns are exact. A window whose characters are the entry itself is left to
//! the exact scan, which has already applied its conditions.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind as AcMatchKind};

use super::lexicon::{Entry, Pattern, PhoneticMode};
use crate::text::phonetic::{Compared, Phrase, SoundCodes, SoundStream, Tolerance};

/// One compiled entry.
#[derive(Debug)]
struct Compiled {
    entry: u32,
    phrase: Phrase,
    /// Each 除外 context with the char offset of the phrase inside it.
    exclusions: Vec<(Phrase, usize)>,
}

/// A phonetic match in normalised text: char range and how it compared.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Candidate {
    pub start: usize,
    pub end: usize,
    pub entry: usize,
    pub compared: Compared,
}

/// The automaton over phrase pieces and what each piece belongs to.
#[derive(Debug)]
pub(crate) struct PhoneticIndex {
    ac: AhoCorasick,
    /// Per automaton pattern: range into `pieces`.
    ranges: Vec<(u32, u32)>,
    /// `(phrase, offset of the piece in the phrase in chars)`.
    pieces: Vec<(u32, u32)>,
    phrases: Vec<Compiled>,
    codes: SoundCodes,
    tol: Tolerance,
}

/// The entries that take part, each with its readings and its 除外 contexts' readings.
fn compile(entries: &[Entry], tol: &Tolerance) -> Vec<Compiled> {
    let mut phrases = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let Pattern::Literal(word) = &e.pattern else {
            continue;
        };
        if e.phonetic == PhoneticMode::Off {
            continue;
        }
        let Some(phrase) = Phrase::new(word).filter(|p| p.len() >= tol.homophone_min) else {
            continue;
        };
        let exclusions = e
            .exclusions
            .iter()
            .filter_map(|ctx| {
                let at = ctx.find(word.as_str())?;
                Some((Phrase::new(ctx)?, ctx[..at].chars().count()))
            })
            .collect();
        phrases.push(Compiled {
            entry: i as u32,
            phrase,
            exclusions,
        });
    }
    phrases
}

impl PhoneticIndex {
    /// `Ok(None)` when no entry takes part.
    pub(crate) fn new(
        entries: &[Entry],
        tol: Tolerance,
    ) -> Result<Option<PhoneticIndex>, aho_corasick::BuildError> {
        let phrases = compile(entries, &tol);
        if phrases.is_empty() {
            return Ok(None);
        }
        let codes = SoundCodes::new(phrases.iter().map(|c| c.phrase.as_str()));
        let mut words: Vec<Vec<u8>> = Vec::new();
        let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut refs: Vec<Vec<(u32, u32)>> = Vec::new();
        for (pi, c) in phrases.iter().enumerate() {
            let chars: Vec<(usize, char)> = c.phrase.as_str().char_indices().collect();
            let n = chars.len();
            let parts = tol.max_subs(n) + 1;
            for k in 0..parts {
                let (from, to) = (k * n / parts, (k + 1) * n / parts);
                let end_byte = chars.get(to).map_or(c.phrase.as_str().len(), |c| c.0);
                let bytes = codes.encode(&c.phrase.as_str()[chars[from].0..end_byte]);
                let id = *index.entry(bytes.clone()).or_insert_with(|| {
                    words.push(bytes);
                    refs.push(Vec::new());
                    words.len() - 1
                });
                refs[id].push((pi as u32, from as u32));
            }
        }
        let ac = AhoCorasick::builder()
            .match_kind(AcMatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            // Pieces start with common syllables: a prefilter on first bytes would fire at
            // nearly every char and only slow the search down.
            .prefilter(false)
            .build(&words)?;
        let mut ranges = Vec::with_capacity(refs.len());
        let mut pieces = Vec::new();
        for r in refs {
            let start = pieces.len() as u32;
            pieces.extend(r);
            ranges.push((start, pieces.len() as u32));
        }
        Ok(Some(PhoneticIndex {
            ac,
            ranges,
            pieces,
            phrases,
            codes,
            tol,
        }))
    }

    /// Every phonetic match in normalised `norm`, as char ranges; `sounds` is scratch space
    /// reused between calls. Duplicates (one window found through two pieces) are removed.
    pub(crate) fn find(
        &self,
        norm: &str,
        sounds: &mut SoundStream,
        entries: &[Entry],
    ) -> Vec<Candidate> {
        sounds.fill(norm, &self.codes);
        let chars = sounds.bytes.len() - 1;
        let mut out: Vec<Candidate> = Vec::new();
        for m in self.ac.find_overlapping_iter(sounds.stream.as_slice()) {
            let piece_at = m.start();
            let (a, b) = self.ranges[m.pattern().as_usize()];
            for &(pi, offset) in &self.pieces[a as usize..b as usize] {
                let c = &self.phrases[pi as usize];
                let Some(start) = piece_at.checked_sub(offset as usize) else {
                    continue;
                };
                let end = start + c.phrase.len();
                if end > chars
                    || out
                        .iter()
                        .rev()
                        .take(8)
                        .any(|o| o.start == start && o.entry == c.entry as usize)
                {
                    continue;
                }
                let window = &norm[sounds.bytes[start] as usize..sounds.bytes[end] as usize];
                if window == c.phrase.as_str() {
                    continue;
                }
                let Some(compared) = c.phrase.compare(window, &self.tol) else {
                    continue;
                };
                if self.excluded(c, norm, sounds, start) {
                    continue;
                }
                let entry = &entries[c.entry as usize];
                if entry.skip_quoted && super::quoted(norm, sounds.bytes[start] as usize) {
                    continue;
                }
                out.push(Candidate {
                    start,
                    end,
                    entry: c.entry as usize,
                    compared,
                });
            }
        }
        out
    }

    /// A 除外 context that sounds the same around the window excludes it, as its characters
    /// would exclude an exact match.
    fn excluded(&self, c: &Compiled, norm: &str, sounds: &SoundStream, start: usize) -> bool {
        let chars = sounds.bytes.len() - 1;
        c.exclusions.iter().any(|(ctx, off)| {
            let Some(s) = start.checked_sub(*off) else {
                return false;
            };
            let e = s + ctx.len();
            e <= chars && ctx.sounds_same(&norm[sounds.bytes[s] as usize..sounds.bytes[e] as usize])
        })
    }
}
