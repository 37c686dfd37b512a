//! Lexicon line parser, text normaliser and pinyin reader on arbitrary input: never panic, the
//! offset maps always point inside the original text, in order, and similarities stay in 0–1.
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
    let pinyin = text::phonetic::PinyinText::new(&input);
    for i in 0..pinyin.len() {
        let (s, e) = pinyin.orig_span(i, i + 1);
        assert!(s < e && e <= orig_len, "char {i} maps to {s}..{e} of {orig_len}");
    }
    if let Some(f) = text::phonetic::find(&input, "信不信由你") {
        assert!(f.start < f.end && f.end <= orig_len, "{f:?}");
        assert!((0.0..=1.0).contains(&f.similarity), "{f:?}");
    }
    let similarity = text::phonetic::similarity(&input, "您好，客服中心");
    assert!((0.0..=1.0).contains(&similarity), "{similarity}");
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
