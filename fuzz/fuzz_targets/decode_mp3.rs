//! Fuzz the mp3 path of `audio::decode_bytes`: the fuzzer's bytes follow
//! an empty ID3v2 tag, so every input reaches the ID3 reader and then the MP3 frame sync.
//! Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run decode_mp3 -- -max_total_time=600` from the repo root.
#![no_main]
#![allow(dead_code, unused_imports)]

include!("container.rs");

container_target!(b"ID3\x04\0\0\0\0\0\0", "call.mp3");
