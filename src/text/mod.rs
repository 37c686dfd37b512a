//! Text stage: normalise what was said so lexicon phrases match however Whisper wrote them, and
//! keep a map back to the original characters.
//!
//! Normalisation, applied alike to transcripts and lexicon entries:
//! - Traditional → Simplified with the `zhconv` crate, by phrase where that keeps the length
//!   (回覆 → 回复), then one character at a time through a table built once from the same data
//!   (Whisper-base writes Traditional for much Mandarin);
//! - full-width ASCII → half-width; Latin letters lower-cased;
//! - 您 → 你 (agents soften 你 to 您 and Whisper writes either);
//! - whitespace and punctuation removed, so 「请您稍等，」 and 「请您 稍等」 both match 请您稍等.
//!
//! Digits and Chinese numerals are left as they are: Whisper writes 一百 and 100 for the same
//! words, but the phrases QA staff list contain almost no numbers, and turning 一下 or 一定 into
//! digits would break far more phrases than it would join. Number patterns belong in `re:`
//! entries (`[0-9一二三四五六七八九十]`).
//!
//! The mapping is one character to one character (or to nothing), which is what makes the
//! offset map exact: [`Normalized::original`] sends any normalised span back to the original.

use std::sync::OnceLock;

/// Normalised text with a map back to the original.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Normalized {
    pub text: String,
    /// For every byte of `text`, the char index in the original it came from.
    byte_to_char: Vec<u32>,
}

impl Normalized {
    /// Char range in the original text covered by the normalised byte range `start..end`.
    pub fn original(&self, start: usize, end: usize) -> (usize, usize) {
        if start >= end || end > self.byte_to_char.len() {
            return (0, 0);
        }
        let first = self.byte_to_char[start] as usize;
        let last = self.byte_to_char[end - 1] as usize;
        (first, last + 1)
    }
}

const CJK_START: u32 = 0x3400;
const CJK_END: u32 = 0xA000;
const COMPAT_START: u32 = 0xF900;
const COMPAT_END: u32 = 0xFB00;

/// Traditional → Simplified for single characters, indexed from [`CJK_START`] (and the
/// compatibility block after it). 0 means unchanged.
fn t2s_table() -> &'static [u32] {
    static TABLE: OnceLock<Vec<u32>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let ranges = [(CJK_START, CJK_END), (COMPAT_START, COMPAT_END)];
        let mut table = vec![0u32; ((CJK_END - CJK_START) + (COMPAT_END - COMPAT_START)) as usize];
        // One call on all characters at once (each followed by a separator, so the converter's
        // multi-character rules cannot join neighbours) is far faster than one call per character.
        let mut batch = String::new();
        for &(lo, hi) in &ranges {
            for cp in lo..hi {
                if let Some(c) = char::from_u32(cp) {
                    batch.push(c);
                    batch.push('\n');
                }
            }
        }
        let converted = zhconv::zhconv(&batch, zhconv::Variant::ZhHans);
        let mut originals = batch.split('\n');
        for out in converted.split('\n') {
            let Some(orig) = originals.next() else { break };
            let (mut o, mut s) = (orig.chars(), out.chars());
            if let (Some(oc), None, Some(sc), None) = (o.next(), o.next(), s.next(), s.next()) {
                if oc != sc {
                    if let Some(i) = table_index(oc) {
                        table[i] = sc as u32;
                    }
                }
            }
        }
        table
    })
}

fn table_index(c: char) -> Option<usize> {
    let cp = c as u32;
    if (CJK_START..CJK_END).contains(&cp) {
        Some((cp - CJK_START) as usize)
    } else if (COMPAT_START..COMPAT_END).contains(&cp) {
        Some((cp - COMPAT_START + (CJK_END - CJK_START)) as usize)
    } else {
        None
    }
}

/// Normalises one character; `None` drops it.
#[inline]
pub fn normalize_char(c: char) -> Option<char> {
    if c.is_ascii() {
        return match c {
            'A'..='Z' => Some(c.to_ascii_lowercase()),
            'a'..='z' | '0'..='9' => Some(c),
            _ => None,
        };
    }
    let c = match c as u32 {
        0xFF01..=0xFF5E => return normalize_char(char::from_u32(c as u32 - 0xFEE0)?),
        _ => c,
    };
    if c == '您' {
        return Some('你');
    }
    if let Some(i) = table_index(c) {
        let s = t2s_table()[i];
        return Some(if s == 0 {
            c
        } else {
            char::from_u32(s).unwrap_or(c)
        });
    }
    if c.is_alphanumeric() {
        Some(c.to_lowercase().next().unwrap_or(c))
    } else {
        None
    }
}

/// Traditional → Simplified by phrase first (回覆 → 回复 needs the word, not the character),
/// kept only when it maps character for character, so offsets stay exact.
fn phrase_t2s(original: &str) -> Option<String> {
    if original.is_ascii() {
        return None;
    }
    let converted = zhconv::zhconv(original, zhconv::Variant::ZhHans);
    (converted != original && converted.chars().count() == original.chars().count())
        .then_some(converted)
}

/// Normalises `original` for matching and records where every character came from.
pub fn normalize(original: &str) -> Normalized {
    let phrased = phrase_t2s(original);
    let source = phrased.as_deref().unwrap_or(original);
    let mut text = String::with_capacity(original.len());
    let mut byte_to_char = Vec::with_capacity(original.len());
    for (i, c) in source.chars().enumerate() {
        if let Some(n) = normalize_char(c) {
            let before = text.len();
            text.push(n);
            byte_to_char.extend(std::iter::repeat_n(i as u32, text.len() - before));
        }
    }
    Normalized { text, byte_to_char }
}

/// Normalised text only, for lexicon entries and comparisons.
pub fn normalized(original: &str) -> String {
    let phrased = phrase_t2s(original);
    phrased
        .as_deref()
        .unwrap_or(original)
        .chars()
        .filter_map(normalize_char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn folds_script_width_case_and_punctuation() {
        assert_eq!(normalized("請您稍等，讓您久等了！"), "请你稍等让你久等了");
        assert_eq!(
            normalized("ＡＢＣ　１２３ Hello, World"),
            "abc123helloworld"
        );
        assert_eq!(normalized("您好 , 客服中心。"), "你好客服中心");
        assert_eq!(normalized("這個問題"), "这个问题");
        assert_eq!(
            normalized("那你想要什麼樣的回覆呢?"),
            "那你想要什么样的回复呢"
        );
    }

    #[test]
    fn digits_and_chinese_numerals_are_kept_apart() {
        assert_eq!(normalized("一百元"), "一百元");
        assert_eq!(normalized("100元"), "100元");
    }

    #[test]
    fn maps_a_normalised_span_back_to_the_original() {
        let original = "好的，請您 稍等。";
        let n = normalize(original);
        let start = n.text.find("请你稍等").expect("found");
        let (a, b) = n.original(start, start + "请你稍等".len());
        let chars: Vec<char> = original.chars().collect();
        assert_eq!(chars[a..b].iter().collect::<String>(), "請您 稍等");
    }

    proptest! {
        #[test]
        fn every_normalised_char_maps_inside_the_original(s in "\\PC{0,64}") {
            let n = normalize(&s);
            let len = s.chars().count();
            for (b, _) in n.text.char_indices() {
                let (start, end) = n.original(b, b + n.text[b..].chars().next().map_or(1, char::len_utf8));
                prop_assert!(start < end && end <= len);
            }
        }

        #[test]
        fn normalising_twice_changes_nothing(s in "\\PC{0,64}") {
            let once = normalized(&s);
            prop_assert_eq!(normalized(&once), once.clone());
        }
    }
}
