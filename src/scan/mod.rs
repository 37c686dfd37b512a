//! Scan stage: find every lexicon phrase in what each party said, and place it in the text and
//! in time.

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
