//! The other text inputs staff write or export, on arbitrary bytes (config.rs has the manifest,
//! the file-name pattern and the calendar): a `callqa score` transcripts line, a rubric sheet,
//! a scorecard, the team lead's events CSV and the settings file. Each must answer with a value
//! or an error naming the file (and line), never panic. What parses is used as callqa would use
//! it: a transcript line is scanned and scored with the shipped configuration, a rubric scores
//! a fixed call, so a value that passes the checks but breaks a later stage is found too.
//!
//! The sources are compiled in by path, as in the other targets, so neither Whisper nor polars
//! nor SQLite is built: `crate::…` resolves to the modules below, laid out as in callqa.
//! Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run parsers -- -max_total_time=600` from the repo root.

#![no_main]
#![allow(dead_code, unused_imports)]

use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

#[path = "../../src/asr/transcript.rs"]
mod asr;
#[path = "../../src/audio/mod.rs"]
mod audio;
#[path = "../../src/call.rs"]
mod call;
#[path = "../../src/batch/external/input.rs"]
mod input;
#[path = "../../src/scan/mod.rs"]
mod scan;
#[path = "../../src/score/mod.rs"]
mod score;
#[path = "../../src/report/scorecard/card.rs"]
mod scorecard;
#[path = "../../src/settings/file.rs"]
mod settings;
#[path = "../../src/text/mod.rs"]
mod text;
#[path = "../../src/util.rs"]
mod util;

pub use asr::{Segment, Token, Transcript};
pub use audio::{Audio, CallMetrics, SpeechRegion};
pub use call::{AgentChannel, CallMeta, Direction, Role};
pub use scan::{Hit, HitSpan};
pub use score::{CallResult, Deduction, Finding};

/// The shipped configuration, as `callqa score` uses it without flags.
struct Shipped {
    scanner: scan::Scanner,
    rubrics: score::Rubrics,
    calendar: score::Calendar,
    card: scorecard::Scorecard,
}

fn shipped() -> &'static Shipped {
    static SHIPPED: OnceLock<Shipped> = OnceLock::new();
    SHIPPED.get_or_init(|| {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let lexicons = scan::Lexicons::load_dir(&repo.join("lexicons")).expect("lexicons");
        Shipped {
            scanner: scan::Scanner::new(&lexicons).expect("scanner"),
            rubrics: score::Rubrics::load_dir(&repo.join("rubrics")).expect("rubrics"),
            calendar: score::Calendar::load_dir(&repo.join("calendars")).expect("calendar"),
            card: scorecard::Scorecard::load(&repo.join("scorecards"), "002").expect("scorecard"),
        }
    })
}

/// Scans and scores a call as `callqa score` does; the result must be a score within the
/// sheet's range.
fn score(
    meta: &CallMeta,
    transcripts: &[Transcript],
    metrics: &CallMetrics,
    rubrics: &score::Rubrics,
) {
    let s = shipped();
    let hits = transcripts
        .iter()
        .flat_map(|t| s.scanner.scan_transcript(t))
        .collect();
    let result = score::score_call(meta, transcripts, metrics, hits, rubrics, &s.calendar);
    assert!(
        result.score.is_finite() && result.score <= result.max_score,
        "{}",
        result.score
    );
    serde_json::to_string(&result).expect("a result serialises");
}

/// Every line of `text` as a transcripts line.
fn transcripts(text: &str) {
    for line in text.lines().take(20) {
        match input::parse_call(line, 5000) {
            Ok(call) => {
                let m = &call.metrics;
                assert!(m.duration_ms <= input::MAX_MS);
                assert!(m.agent_talk_ms <= m.duration_ms && m.customer_talk_ms <= m.duration_ms);
                score(&call.meta, &call.transcripts, m, &shipped().rubrics);
            }
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
}

/// A fixed inbound and outbound call with a little of everything the detectors look at.
fn sample_call(direction: Direction) -> (CallMeta, Vec<Transcript>, CallMetrics) {
    let line = format!(
        r#"{{"call_id":"F1","agent_id":"A001","started_at":"2026-10-13T08:59:58+08:00","direction":"{}","segments":[{{"role":"agent","start_ms":500,"end_ms":3000,"text":"您好，工号1023很高兴为您服务"}},{{"role":"customer","start_ms":3500,"end_ms":6000,"text":"我要投诉，你们怎么回事"}},{{"role":"agent","start_ms":9000,"end_ms":12000,"text":"请您稍等，我帮您查一下，您的号码是13812345678吗"}},{{"role":"agent","start_ms":40000,"end_ms":43000,"text":"感谢您的来电，再见"}}]}}"#,
        match direction {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    );
    let call = input::parse_call(&line, 5000).expect("the sample call parses");
    (call.meta, call.transcripts, call.metrics)
}

fn rubric(path: &Path, text: &str) {
    match score::Rubric::parse(path, text) {
        Ok(sheet) => {
            assert!(sheet.max_score.is_finite() && sheet.max_score > 0.0);
            assert!(sheet
                .items
                .iter()
                .all(|i| i.points.is_finite() && i.points >= 0.0));
            let (meta, transcripts, metrics) = sample_call(sheet.direction);
            let rubrics = score::Rubrics {
                sheets: vec![sheet],
                ..Default::default()
            };
            score(&meta, &transcripts, &metrics, &rubrics);
        }
        Err(e) => assert!(
            e.to_string().starts_with(&path.display().to_string()),
            "{e}"
        ),
    }
}

fn scorecard(path: &Path, text: &str) {
    match scorecard::Scorecard::parse(path, text) {
        Ok(card) => {
            assert!(card.base.is_finite() && card.cap >= card.base);
            assert!(card.grades.windows(2).all(|w| w[0].min >= w[1].min));
        }
        Err(e) => assert!(
            e.to_string().starts_with(&path.display().to_string()),
            "{e}"
        ),
    }
}

fn events(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).expect("write events");
    let card = &shipped().card;
    match scorecard::read_events(path, card) {
        Ok(events) => {
            for e in events {
                let kind = card
                    .events
                    .iter()
                    .find(|k| k.name == e.event)
                    .expect("a known event");
                let (lo, hi) = kind.range();
                assert!(
                    e.points.is_finite() && lo <= e.points && e.points <= hi,
                    "{e:?}"
                );
            }
        }
        Err(e) => assert!(
            e.to_string().starts_with(&path.display().to_string()),
            "{e}"
        ),
    }
}

fn settings(path: &Path, text: &str) {
    if let Err(e) = settings::SettingsFile::parse(path, text) {
        assert!(
            e.to_string().starts_with(&path.display().to_string()),
            "{e}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let dir = Path::new("parsers-fuzz");
    match which % 5 {
        0 => transcripts(&text),
        1 => rubric(&dir.join("rubrics/客服.toml"), &text),
        2 => scorecard(&dir.join("scorecards/002.toml"), &text),
        3 => {
            let tmp = tempfile::tempdir().expect("temp dir");
            events(&tmp.path().join("events.csv"), rest);
        }
        _ => settings(&dir.join("callqa.toml"), &text),
    }
});
