// Included (`include!`) by each `decode_<container>` target: the audio source compiled in by
// path (see decode.rs for why), the shared checks, and the target itself, which puts one
// container's magic bytes in front of every input so the fuzzer starts inside that reader.
#[path = "../../src/audio/mod.rs"]
mod audio;
#[path = "../../src/call.rs"]
mod call;
#[path = "check.rs"]
mod check;

// The audio source names these as `crate::AgentChannel` and `crate::Role`, as in callqa.
use call::{AgentChannel, Role};

macro_rules! container_target {
    ($magic:expr, $name:expr) => {
        libfuzzer_sys::fuzz_target!(|data: &[u8]| {
            let Some((&selector, rest)) = data.split_first() else {
                return;
            };
            let bytes = check::with_magic($magic, rest);
            check::decode_and_check(&bytes, $name, selector);
        });
    };
}
