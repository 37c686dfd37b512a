//! Report stage: what people read — `calls.jsonl`, monthly rollups, the inspector's HTML,
//! trainer clips — and the redaction they share.

pub mod clips;
mod files;
pub mod html;
pub mod redact;
