//! The configuration and input parsers a QA lead or an IT admin writes by hand, on arbitrary
//! bytes: the manifest CSV (header, rows, paths), the file-name pattern, and the holiday
//! calendar TOML. Each must answer with rows or errors naming the file and line, never panic.
//!
//! The sources are compiled in by path (`crate::…` resolves to the modules below), so the
//! target needs neither Whisper nor polars.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../../src/call.rs"]
mod call;
pub use call::{AgentChannel, CallMeta, Direction};

#[allow(dead_code)]
#[path = "../../src/util.rs"]
mod util;

#[allow(dead_code)]
#[path = "../../src/batch/manifest.rs"]
mod manifest;

#[allow(dead_code)]
#[path = "../../src/score/calendar.rs"]
mod calendar;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    match which % 3 {
        0 => {
            let path = dir.path().join("calls.csv");
            std::fs::write(&path, rest).expect("write manifest");
            if let Ok(rows) = manifest::Manifest::open(&path) {
                for row in rows.take(1000) {
                    if let Err(e) = row {
                        assert!(e.to_string().starts_with(&path.display().to_string()), "{e}");
                    }
                }
            }
        }
        1 => {
            let text = String::from_utf8_lossy(rest);
            let pattern = manifest::NamePattern {
                regex: regex::Regex::new(manifest::DEFAULT_PATTERN).expect("default pattern"),
                direction: Direction::Inbound,
                agent_channel: AgentChannel::Left,
                utc_offset: chrono::FixedOffset::east_opt(8 * 3600).expect("offset"),
            };
            let _ = pattern.meta(std::path::Path::new(text.as_ref()));
        }
        _ => {
            std::fs::write(dir.path().join("cn.toml"), rest).expect("write calendar");
            if let Err(e) = calendar::Calendar::load_dir(dir.path()) {
                assert!(e.to_string().contains("cn.toml"), "{e}");
            }
        }
    }
});
