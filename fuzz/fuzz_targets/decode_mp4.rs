//! Fuzz the mp4 path of `audio::decode_bytes`: the fuzzer's bytes follow
//! an `ftyp` box, so every input reaches the MP4 box checks and Symphonia's MP4 reader (the stsc abort of the hardening issue lived there).
//! Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run decode_mp4 -- -max_total_time=600` from the repo root.
#![no_main]
#![allow(dead_code, unused_imports)]

include!("container.rs");

container_target!(b"\0\0\0\x10ftypM4A \0\0\0\0", "call.m4a");
