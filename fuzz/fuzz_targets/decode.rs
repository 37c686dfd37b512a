//! Fuzz `audio::decode_bytes`: any bytes (the `decode_<container>` targets start each input
//! with one container's magic so the fuzzer reaches deep into that reader), under any file extension, must give `Ok` or an
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
#[path = "check.rs"]
mod check;

// The audio source names these as `crate::AgentChannel` and `crate::Role`, as in callqa.
use call::{AgentChannel, Role};

use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 7] = ["call.wav", "call.mp3", "call.flac", "call.ogg", "call.m4a", "call", "call.txt"];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let name = NAMES[usize::from(selector) % NAMES.len()];
    check::decode_and_check(bytes, name, selector / 7);
});
