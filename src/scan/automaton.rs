//! The phrase automaton behind [`super::Scanner`]: leftmost-longest, non-overlapping matches of
//! the distinct normalised words, whichever engine is faster for the lexicon's size.
//!
//! Lexicons hit often (fillers are single chars), so the time goes into state transitions.
//! Normalised text is almost all CJK, three UTF-8 bytes a char. A byte automaton makes three
//! transitions per char; daachorse's charwise double array makes one, after mapping the char to
//! a dense code. With few patterns aho-corasick's byte DFA still wins: its whole transition
//! table stays in cache and needs no failure links. With many patterns the DFA no longer fits
//! (10k phrases: 48 MiB) or cannot be built at all, and the charwise automaton is 2–5× faster
//! than any byte automaton (README, Performance). Both engines report the same matches.

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind as AcMatchKind};
use daachorse::{CharwiseDoubleArrayAhoCorasick, CharwiseDoubleArrayAhoCorasickBuilder};

/// Largest pattern count for which aho-corasick's byte DFA is used; above it, the charwise
/// double array. Measured with `cargo bench --bench scan` (shipped lexicons: ~1,300 words).
pub(crate) const BYTE_DFA_MAX_PATTERNS: usize = 2_000;

/// Which engine runs the search.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// The faster one for this many patterns.
    Auto,
    /// aho-corasick's byte DFA.
    ByteDfa,
    /// daachorse's charwise double array.
    Charwise,
}

/// Why an automaton could not be built.
#[derive(Debug, thiserror::Error)]
pub enum AutomatonError {
    #[error("{0}")]
    Bytes(#[from] aho_corasick::BuildError),
    /// daachorse is `no_std`: its error is `Display` only, so it is carried, not chained.
    #[error("{0}")]
    Chars(daachorse::errors::DaachorseError),
}

pub(crate) enum Automaton {
    Bytes(AhoCorasick),
    Chars(CharwiseDoubleArrayAhoCorasick<u32>),
}

impl std::fmt::Debug for Automaton {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Automaton::Bytes(ac) => f.debug_tuple("Bytes").field(ac).finish(),
            Automaton::Chars(da) => write!(f, "Chars({} states)", da.num_states()),
        }
    }
}

impl Automaton {
    /// Compiles `words` (distinct, non-empty); pattern ids are indices into `words`.
    pub(crate) fn build(words: &[String], engine: Engine) -> Result<Automaton, AutomatonError> {
        let charwise = match engine {
            Engine::Auto => words.len() > BYTE_DFA_MAX_PATTERNS,
            Engine::ByteDfa => false,
            Engine::Charwise => true,
        };
        if charwise {
            return CharwiseDoubleArrayAhoCorasickBuilder::new()
                .match_kind(daachorse::MatchKind::LeftmostLongest)
                .build::<_, _, u32>(words)
                .map(Automaton::Chars)
                .map_err(AutomatonError::Chars);
        }
        let ac = AhoCorasick::builder()
            .match_kind(AcMatchKind::LeftmostLongest)
            .kind(Some(AhoCorasickKind::DFA))
            .build(words)?;
        Ok(Automaton::Bytes(ac))
    }

    /// Calls `f(start, end, pattern)` for each leftmost-longest match, left to right.
    #[inline]
    pub(crate) fn for_each(&self, text: &str, mut f: impl FnMut(usize, usize, usize)) {
        match self {
            Automaton::Bytes(ac) => {
                for m in ac.find_iter(text) {
                    f(m.start(), m.end(), m.pattern().as_usize());
                }
            }
            Automaton::Chars(da) => {
                for m in da.leftmost_find_iter(text) {
                    f(m.start(), m.end(), m.value() as usize);
                }
            }
        }
    }

    /// Heap bytes of the automaton.
    pub(crate) fn memory_usage(&self) -> usize {
        match self {
            Automaton::Bytes(ac) => ac.memory_usage(),
            Automaton::Chars(da) => da.heap_bytes(),
        }
    }
}
