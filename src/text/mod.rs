//! Text stage: normalise transcripts for matching and keep a map back to the original text and time.
