//! Fuzz the flac path of `audio::decode_bytes`: the fuzzer's bytes follow
//! the FLAC marker, so every input reaches Symphonia's FLAC reader.
//! Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run decode_flac -- -max_total_time=600` from the repo root.
#![no_main]
#![allow(dead_code, unused_imports)]

include!("container.rs");

container_target!(b"fLaC", "call.flac");
