//! Report stage: what people read — `calls.jsonl`, monthly rollups, the inspector's HTML, trainer clips.
pub mod jsonl;
pub mod redact;
pub mod rollup;
