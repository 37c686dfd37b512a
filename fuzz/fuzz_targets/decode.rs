//! Fuzz `audio::decode_bytes`: any bytes, under any file extension, must give `Ok` or an
//! `Error` naming the file, never a panic (caught or not), an abort or a hang.
//!
//! The audio stage's source is compiled in by path instead of depending on the `callqa` crate:
//! linking callqa would build whisper.cpp and polars with coverage instrumentation (half an
//! hour on a small machine) for code the fuzzer never reaches. It is the same source file.
//! Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run decode -- -max_total_time=300` from the repo root.
#![no_main]
#![allow(dead_code, unused_imports)]

#[path = "../../src/audio/mod.rs"]
mod audio;
#[path = "../../src/call.rs"]
mod call;

use std::path::Path;

use call::{AgentChannel, Role};
use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 7] = ["call.wav", "call.mp3", "call.flac", "call.ogg", "call.m4a", "call", "call.txt"];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let name = Path::new(NAMES[usize::from(selector) % NAMES.len()]);
    let agent = match selector / 7 % 3 {
        0 => AgentChannel::Left,
        1 => AgentChannel::Right,
        _ => AgentChannel::Mono,
    };
    match audio::decode_bytes(bytes.to_vec(), name, agent) {
        Ok(a) => {
            let vad = audio::activity(&a, &audio::VadConfig::default());
            let m = audio::metrics(&vad, a.duration_ms, 5000);
            assert!(m.agent_talk_ms <= a.duration_ms);
            assert!(a.tracks.iter().all(|t| t.role == Role::Unknown) || a.tracks.len() == 2);
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.starts_with(name.to_str().unwrap_or_default()), "{msg}");
            // decode catches panics as a last resort; here each one is a bug to fix.
            assert!(!msg.contains("decoder crashed"), "{msg}");
        }
    }
});
