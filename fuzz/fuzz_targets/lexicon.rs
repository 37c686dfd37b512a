//! Lexicon line parser and text normaliser on arbitrary input: never panic, and the offset map
//! always points inside the original text, in order.
//!
//! Like `decode.rs`, the stage sources are compiled in directly (`crate::text` resolves to the
//! module below), so this target does not pull in Whisper or polars.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../../src/text/mod.rs"]
mod text;

#[allow(dead_code)]
#[path = "../../src/scan/lexicon.rs"]
mod lexicon;

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    let n = text::normalize(&input);
    let orig_len = input.chars().count();
    assert_eq!(n.orig_len(), orig_len);
    let mut last = None;
    for (b, _) in n.as_str().char_indices() {
        let o = n.orig_offset(b);
        assert!(o < orig_len, "offset {o} outside {orig_len} chars");
        assert!(last.is_none_or(|l| l < o), "offsets out of order");
        last = Some(o);
    }
    let path = std::path::Path::new("lexicons/反问.txt");
    match lexicon::Lexicons::from_sources([(path, &*input)]) {
        Ok(lex) => {
            for e in &lex.entries {
                assert!(e.rule.starts_with("反问:"));
            }
        }
        Err(errors) => {
            for line in errors.to_string().lines() {
                assert!(line.starts_with("lexicons/反问.txt:"), "{line}");
            }
        }
    }
});
