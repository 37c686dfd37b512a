//! Scanner behaviour on small lexicons made in code, and properties on real helpdesk text.

use std::path::Path;

use proptest::prelude::*;

use super::*;
use crate::asr::Token;
use crate::Role;

fn scanner(files: &[(&str, &str)]) -> Scanner {
    let lex = Lexicons::from_sources(files.iter().map(|(p, t)| (Path::new(*p), *t)))
        .expect("test lexicon is valid");
    Scanner::new(&lex).expect("scanner builds")
}

fn shipped() -> Scanner {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("lexicons");
    Scanner::new(&Lexicons::load_dir(&dir).expect("shipped lexicons load")).expect("builds")
}

/// `(rule, original text)` of every hit.
fn hits(s: &Scanner, text: &str) -> Vec<(String, String)> {
    s.scan_text(text)
        .into_iter()
        .map(|h| {
            let t: String = text.chars().skip(h.start).take(h.end - h.start).collect();
            (h.entry.rule.clone(), t)
        })
        .collect()
}

macro_rules! case {
    ($name:ident, $text:expr, &[$(($rule:expr, $span:expr)),*]) => {
        #[test]
        fn $name() {
            let want: Vec<(String, String)> = vec![$(($rule.to_string(), $span.to_string())),*];
            assert_eq!(hits(&shipped(), $text), want);
        }
    };
}

case!(
    seed_with_punctuation,
    "这是我们公司的规定。",
    &[("愤怒:7", "这是我们公司的规定")]
);
case!(
    traditional_and_spaces,
    "這是 我們公司的 規定！",
    &[("愤怒:7", "這是 我們公司的 規定")]
);
case!(nin_matches_ni, "您听懂了吗", &[("反问:6", "您听懂了吗")]);
case!(
    longest_wins_over_prefix,
    "对不起，请您稍等。",
    &[("请稍等:2", "对不起，请您稍等")]
);
case!(exclusion_keeps_polite_form, "麻烦请讲清楚一点好吗", &[]);
case!(
    exclusion_only_where_context_is,
    "请讲清楚",
    &[("愤怒:21", "请讲清楚")]
);
case!(quoted_customer_is_not_a_hit, "您是说“你懂礼貌吗”对吧", &[]);
case!(unquoted_is_a_hit, "你懂礼貌吗", &[("讽刺:8", "你懂礼貌吗")]);
case!(
    regex_variant,
    "你究竟想怎么样",
    &[("反问:22", "你究竟想怎么样")]
);
case!(
    seed_and_regex_counted_once,
    "你到底想怎么样？",
    &[("反问:10", "你到底想怎么样")]
);
case!(
    same_phrase_in_two_lexicons,
    "你可以投诉，这是你的自由",
    &[
        ("愤怒:35", "你可以投诉，这是你的自由"),
        ("散漫:7", "你可以投诉，这是你的自由")
    ]
);
case!(
    hedge_inside_forbidden_phrase_not_counted,
    "这不可能是我们的错",
    &[("愤怒:3", "这不可能是我们的错")]
);
case!(
    benign_helpdesk_reply,
    "您好，您反映的情况我们已认真记录，会及时向相关部门反馈",
    &[]
);

#[test]
fn scanner_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Scanner>();
    assert_send_sync::<Lexicons>();
}

#[test]
fn shorter_phrase_of_other_lexicon_inside_longer_is_reported() {
    let s = scanner(&[
        ("a/开头语.txt", "请问有什么可以帮您\n"),
        ("a/结束语.txt", "请问还有什么可以帮您\n"),
    ]);
    let got: Vec<String> = hits(&s, "请问还有什么可以帮您")
        .into_iter()
        .map(|h| h.0)
        .collect();
    assert_eq!(got, ["结束语:1"]);
    let s = scanner(&[
        ("a/开头语.txt", "有什么可以帮您\n"),
        ("a/结束语.txt", "请问还有什么可以帮您\n"),
    ]);
    let got: Vec<String> = hits(&s, "请问还有什么可以帮您")
        .into_iter()
        .map(|h| h.0)
        .collect();
    assert_eq!(got, ["结束语:1", "开头语:1"]);
}

fn seg(start_ms: u64, end_ms: u64, text: &str) -> Segment {
    Segment::text_only(start_ms, end_ms, text)
}

#[test]
fn transcript_hit_times_interpolate_by_char() {
    let s = scanner(&[("l/愤怒.txt", "信不信由你\n")]);
    let t = Transcript {
        role: Role::Agent,
        segments: vec![seg(0, 1000, "好的"), seg(2000, 3000, "嗯，信不信由你。")],
    };
    let h = s.scan_transcript(&t);
    assert_eq!(h.len(), 1);
    assert_eq!((h[0].start_ms, h[0].end_ms), (2250, 2875));
    assert_eq!(
        h[0].span,
        HitSpan {
            segment: 1,
            start: 2,
            end_segment: 1,
            end: 7
        }
    );
    assert_eq!(
        (h[0].text.as_str(), h[0].role, h[0].rule.as_str()),
        ("信不信由你", Role::Agent, "愤怒:1")
    );
}

#[test]
fn transcript_hit_times_from_tokens() {
    let s = scanner(&[("l/愤怒.txt", "不属我范围\n")]);
    let mut seg = seg(0, 5000, "这不属我范围");
    seg.tokens = ["这", "不属", "我", "范围"]
        .iter()
        .enumerate()
        .map(|(i, t)| Token {
            text: (*t).into(),
            start_ms: 1000 * i as u64,
            end_ms: 1000 * i as u64 + 900,
            p: 0.9,
        })
        .collect();
    let h = s.scan_transcript(&Transcript {
        role: Role::Customer,
        segments: vec![seg],
    });
    assert_eq!(
        (h[0].start_ms, h[0].end_ms, h[0].role),
        (1000, 3900, Role::Customer)
    );
}

#[test]
fn phrase_split_across_segments_is_found() {
    let s = scanner(&[("l/机械.txt", "我们是无法处理的\n")]);
    let t = Transcript {
        role: Role::Agent,
        segments: vec![seg(0, 1000, "这个我们是"), seg(1200, 2000, "无法处理的。")],
    };
    let h = s.scan_transcript(&t);
    assert_eq!(h.len(), 1);
    assert_eq!(
        h[0].span,
        HitSpan {
            segment: 0,
            start: 2,
            end_segment: 1,
            end: 5
        }
    );
    assert_eq!(h[0].text, "我们是无法处理的");
    assert_eq!((h[0].start_ms, h[0].end_ms), (400, 1866));
}

/// Leftmost-longest by brute force: at each char, the longest entry starting there.
fn oracle(words: &[String], text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let longest = words
            .iter()
            .filter(|w| text[i..].starts_with(w.as_str()))
            .map(|w| w.len())
            .max();
        match longest {
            Some(n) => {
                out.push((i, i + n));
                i += n;
            }
            None => i += text[i..].chars().next().map_or(1, char::len_utf8),
        }
    }
    out
}

fn real_lines() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/cs-text-dev/mobilecs_phone_transcripts.jsonl");
    let text = std::fs::read_to_string(&path).expect("shared data beside the repo");
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["text"].as_str().map(str::to_owned))
        .filter(|t| t.chars().count() > 4)
        .collect()
}

const FORBIDDEN: [&str; 6] = ["机械", "愤怒", "反问", "质问", "散漫", "讽刺"];

fn seed_phrases() -> Vec<String> {
    shipped()
        .entries()
        .iter()
        .filter(|e| FORBIDDEN.contains(&e.category.as_str()))
        .filter(|e| !e.phrase.starts_with("re:") && e.exclusions.is_empty())
        .map(|e| e.phrase.clone())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn inserted_phrase_found_with_its_span(
        line in 0usize..400, phrase in 0usize..200, at in 0usize..200,
        traditional in any::<bool>(), sprinkle in proptest::collection::vec((0usize..20, prop::sample::select(vec![" ", "，", "、", "　", "“", "!"])), 0..3),
    ) {
        let lines = real_lines();
        let phrases = seed_phrases();
        let host = &lines[line % lines.len()];
        let seed = &phrases[phrase % phrases.len()];
        let mut inserted: String = if traditional { zhconv::zhconv(seed, zhconv::Variant::ZhHant) } else { seed.clone() };
        for (pos, p) in &sprinkle {
            let idx = inserted.char_indices().nth(1 + pos % (inserted.chars().count() - 1)).map_or(0, |(i, _)| i);
            inserted.insert_str(idx, p);
        }
        // Trailing punctuation of the seed is not part of what must be found.
        let inserted = inserted.trim_end_matches(|c: char| crate::text::normalize_char(c).is_none()).to_string();
        let char_at = at % (host.chars().count() + 1);
        let byte_at = host.char_indices().nth(char_at).map_or(host.len(), |(i, _)| i);
        let text = format!("{}。{}。{}", &host[..byte_at], inserted, &host[byte_at..]);
        let start = char_at + 1;
        let end = start + inserted.chars().count();
        // Alone, so a longer variant around the insertion point cannot take the match.
        let s = single_lexicon(std::slice::from_ref(seed));
        let found = s.scan_text(&text).iter().any(|h| h.start == start && h.end == end);
        prop_assert!(found, "{seed} as {inserted} not found in {text}");
    }

    #[test]
    fn offset_map_points_back_to_the_source_char(line in 0usize..400, cut in 0usize..50) {
        let lines = real_lines();
        let host = &lines[line % lines.len()];
        let text: String = host.chars().skip(cut % host.chars().count()).collect();
        let n = crate::text::normalize(&text);
        let orig: Vec<char> = text.chars().collect();
        let mut last = None;
        for (b, c) in n.as_str().char_indices() {
            let o = n.orig_offset(b);
            prop_assert!(o < orig.len());
            prop_assert_eq!(crate::text::normalize_char(orig[o]), Some(c));
            prop_assert!(last.is_none_or(|l| l < o));
            last = Some(o);
        }
    }

    #[test]
    fn scan_equals_naive_oracle(line in 0usize..400, picks in proptest::collection::vec((0usize..400, 0usize..60, 2usize..6), 1..40)) {
        let lines = real_lines();
        let corpus: String = lines.iter().map(|l| crate::text::normalize(l).as_str().to_owned()).collect();
        let chars: Vec<char> = corpus.chars().collect();
        let mut words: Vec<String> = picks.iter().map(|(l, off, len)| {
            let start = (l * 97 + off) % (chars.len() - 8);
            chars[start..start + len].iter().collect()
        }).collect();
        words.sort();
        words.dedup();
        let text = crate::text::normalize(&lines[line % lines.len()]).as_str().to_owned();
        let s = single_lexicon(&words);
        let got: Vec<(usize, usize)> = s.scan_normalized(&text).iter().map(|m| (m.start, m.end)).collect();
        prop_assert_eq!(got, oracle(&words, &text));
    }
}

/// One lexicon holding `phrases`, duplicates after normalisation dropped.
fn single_lexicon(phrases: &[String]) -> Scanner {
    let mut seen = std::collections::HashSet::new();
    let text: String = phrases
        .iter()
        .filter(|p| seen.insert(crate::text::normalize(p).as_str().to_owned()))
        .map(|p| format!("{p}\n"))
        .collect();
    scanner(&[("x/测试.txt", &text)])
}
