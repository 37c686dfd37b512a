//! Fuzz the wav path of `audio::decode_bytes`: the fuzzer's bytes follow
//! a RIFF/WAVE header, so every input reaches the WAV header checks and Symphonia's WAV reader.
//! Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run decode_wav -- -max_total_time=600` from the repo root.
#![no_main]
#![allow(dead_code, unused_imports)]

include!("container.rs");

container_target!(b"RIFF\xff\xff\xff\xffWAVE", "call.wav");
