//! What every decode fuzz target asserts: any bytes give `Ok` with consistent tracks and
//! timings, or an `Error` naming the file; never a panic (caught or not), an abort or a hang.
//! Compiled into each target by path (see decode.rs for why the audio source is, too).

use std::path::Path;

use crate::audio;
use crate::call::{AgentChannel, Role};

/// Decodes `bytes` as the file `name` with the channel choice picked by `selector`.
pub fn decode_and_check(bytes: &[u8], name: &str, selector: u8) {
    let name = Path::new(name);
    let agent = match selector % 3 {
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
}

/// `magic` followed by the fuzzer's bytes, so every input reaches one container's reader.
pub fn with_magic(magic: &[u8], data: &[u8]) -> Vec<u8> {
    let mut bytes = magic.to_vec();
    bytes.extend_from_slice(data);
    bytes
}
