//! Fuzz `audio::decode_with_notes` on files: unlike `decode_bytes`, a file Symphonia refuses
//! goes on to FFmpeg's decoders (the `ffmpeg` feature), so this target covers the fallback:
//! the bytes are written under a telephony codec's usual name and must give `Ok` or an error
//! naming the file, never a panic or a hang. FFmpeg's own C decoders are fuzzed upstream
//! (OSS-Fuzz); what is fuzzed here is callqa's side: frame shapes, silence for rejected
//! packets, the length limit.
//! Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run --features ffmpeg decode_file` from the repo root.
#![no_main]
#![allow(dead_code, unused_imports)]

#[path = "../../src/audio/mod.rs"]
mod audio;
#[path = "../../src/call.rs"]
mod call;

use call::{AgentChannel, Role};

use libfuzzer_sys::fuzz_target;

/// Names whose content Symphonia refuses, so FFmpeg gets its turn, and the magic bytes that
/// make FFmpeg's probe pick the matching reader.
const FILES: [(&str, &[u8]); 6] = [
    ("call.amr", b"#!AMR\n"),
    ("call.awb", b"#!AMR-WB\n"),
    ("call.gsm", b""),
    ("call.wav", b"RIFF\xff\xff\xff\xffWAVEfmt \x14\x00\x00\x00\x31\x00"),
    ("call.ogg", b"OggS"),
    ("call.g729", b""),
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let (name, magic) = FILES[usize::from(selector) % FILES.len()];
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(name);
    let mut bytes = magic.to_vec();
    bytes.extend_from_slice(rest);
    std::fs::write(&path, &bytes).expect("write input");
    match audio::decode_with_notes(&path, AgentChannel::Left) {
        Ok((a, _)) => {
            assert!(a.tracks.len() == 1 || a.tracks.len() == 2);
            assert!(a.tracks.iter().all(|t| t.samples.len() as u64 <= a.duration_ms * 16 + 16));
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.starts_with(&path.display().to_string()), "{msg}");
            assert!(!msg.contains("decoder crashed"), "{msg}");
        }
    }
});
