//! callqa: quality inspection (质检) of recorded customer-service calls.
//!
//! A call flows through the stages in this order, each a function of the previous one's output:
//! [`call`] (metadata) → [`audio`] (decode, channels, voice activity) → [`asr`] (Whisper) →
//! [`text`] (normalisation with an offset map) → [`scan`] (lexicon hits) → [`score`]
//! (rubric deductions with evidence). [`batch`] runs the stages over many calls and writes
//! [`store`], the one source of truth for results; `calls.jsonl` is the store's export
//! ([`store::results`]), and [`report`] (rollups, HTML, clips) reads results from the store.
//! [`settings`] says where configuration comes from; [`cli`] only parses and calls.

pub mod asr;
pub mod audio;
pub mod batch;
pub mod call;
pub mod cli;
pub mod report;
pub mod scan;
pub mod score;
pub mod serve;
pub mod settings;
pub mod store;
pub mod text;
pub mod util;

pub use asr::{Segment, Token, Transcript};
pub use audio::{Audio, CallMetrics, SpeechRegion};
pub use call::{AgentChannel, CallMeta, Direction, Role};
pub use scan::{Hit, HitSpan};
pub use score::{CallResult, Deduction, Finding};
