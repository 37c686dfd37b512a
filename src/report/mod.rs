//! Report stage: what people read, built from the store's results — monthly rollups, the
//! inspector's HTML and trainer clips. (`calls.jsonl` belongs to [`crate::store::results`];
//! the number finder `--redact` uses to [`crate::text::redact`].)

pub mod clips;
mod files;
pub mod html;
pub mod rollup;
pub mod scorecard;
