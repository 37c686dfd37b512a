//! The phrase automaton behind [`super::Scanner`]: leftmost-longest, non-overlapping matches of
//! the distinct normalised words, on one of two engines.
//!
//! Lexicons hit often (fillers are single chars), so the time goes into state transitions.
//! Normalised text is almost all CJK, three UTF-8 bytes a char. A byte automaton makes three
//! transitions per char; daachorse's charwise double array makes one, after mapping the char to
//! a dense code, and its tables stay small (shipped lexicons: 0.2 MiB against the byte DFA's
//! 2.3 MiB; 100k phrases: 6 MiB against 0.4–0.8 GiB). Measured with `cargo bench --bench scan`
//! (README, Performance) it is on par with the byte DFA at the shipped lexicons (within the
//! noise of a shared machine) and 2–7× faster from 1k phrases on, so it is the default; the
//! byte DFA stays selectable to compare on other CPUs, and the tests check that both report
//! the same matches.

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind as AcMatchKind};
use daachorse::{CharwiseDoubleArrayAhoCorasick, CharwiseDoubleArrayAhoCorasickBuilder};

/// Which engine runs the search.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// daachorse's charwise double array (the default).
    Charwise,
    /// aho-corasick's byte DFA.
    ByteDfa,
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
    /// With each pattern's value (daachorse stores its own).
    Bytes(AhoCorasick, Vec<u32>),
    Chars(CharwiseDoubleArrayAhoCorasick<u32>),
}

impl std::fmt::Debug for Automaton {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Automaton::Bytes(ac, _) => f.debug_tuple("Bytes").field(ac).finish(),
            Automaton::Chars(da) => write!(f, "Chars({} states)", da.num_states()),
        }
    }
}

impl Automaton {
    /// Compiles `words` (distinct, non-empty); a match of `words[i]` reports `values[i]`.
    pub(crate) fn build(
        words: &[String],
        values: &[u32],
        engine: Engine,
    ) -> Result<Automaton, AutomatonError> {
        if engine == Engine::Charwise {
            return CharwiseDoubleArrayAhoCorasickBuilder::new()
                .match_kind(daachorse::MatchKind::LeftmostLongest)
                .build_with_values(words.iter().zip(values.iter().copied()))
                .map(Automaton::Chars)
                .map_err(AutomatonError::Chars);
        }
        let ac = AhoCorasick::builder()
            .match_kind(AcMatchKind::LeftmostLongest)
            .kind(Some(AhoCorasickKind::DFA))
            .build(words)?;
        Ok(Automaton::Bytes(ac, values.to_vec()))
    }

    /// Calls `f(start, end, value)` for each leftmost-longest match, left to right.
    #[inline]
    pub(crate) fn for_each(&self, text: &str, mut f: impl FnMut(usize, usize, u32)) {
        match self {
            Automaton::Bytes(ac, values) => {
                for m in ac.find_iter(text) {
                    f(m.start(), m.end(), values[m.pattern().as_usize()]);
                }
            }
            Automaton::Chars(da) => {
                for m in da.leftmost_find_iter(text) {
                    f(m.start(), m.end(), m.value());
                }
            }
        }
    }

    /// Heap bytes of the automaton.
    pub(crate) fn memory_usage(&self) -> usize {
        match self {
            Automaton::Bytes(ac, _) => ac.memory_usage(),
            Automaton::Chars(da) => da.heap_bytes(),
        }
    }
}
