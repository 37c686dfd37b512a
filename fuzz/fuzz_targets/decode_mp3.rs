//! Fuzz the mp3 path of `audio::decode_bytes`: the fuzzer's bytes follow the first two bytes of
//! an MPEG-1 Layer III frame header, so every input reaches the MP3 reader's frame sync and the
//! decoder. (An empty ID3v2 tag in front, as this target once had, made Symphonia refuse every
//! input before the first frame: ten minutes covered 294 edges.) ID3 tags are reached by the
//! `decode` target. Seed it with an MP3 at 32, 44.1 or 48 kHz minus its first two bytes.
//! Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run decode_mp3 -- -max_total_time=600` from the repo root.
#![no_main]
#![allow(dead_code, unused_imports)]

include!("container.rs");

container_target!(b"\xff\xfb", "call.mp3");
