//! Fuzz the ogg path of `audio::decode_bytes`: the fuzzer's bytes follow
//! an Ogg page marker, so every input reaches Symphonia's Ogg reader and its Vorbis/Opus paths.
//! Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run decode_ogg -- -max_total_time=600` from the repo root.
#![no_main]
#![allow(dead_code, unused_imports)]

include!("container.rs");

container_target!(b"OggS", "call.ogg");
