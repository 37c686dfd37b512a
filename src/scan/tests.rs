//! Scanner behaviour on small lexicons made in code, and properties on helpdesk-like text.

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

/// Self-written helpdesk lines (fixtures/scan/helpdesk.txt): hosts for inserted phrases.
fn real_lines() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/scan/helpdesk.txt");
    let text = std::fs::read_to_string(&path).expect("fixtures/scan/helpdesk.txt");
    text.lines()
        .filter(|t| t.chars().count() > 4)
        .map(str::to_owned)
        .collect()
}

const FORBIDDEN: [&str; 6] = ["机械", "愤怒", "反问", "质问", "散漫", "讽刺"];

fn seed_phrases() -> Vec<String> {
    shipped()
        .entries()
        .iter()
        .filter(|e| FORBIDDEN.contains(&e.category.as_str()))
        .filter(|e| e.is_literal() && e.exclusions.is_empty())
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

/// The shipped lexicons compiled by each engine (built once: every case reuses them).
fn shipped_both() -> &'static (Scanner, Scanner) {
    static BOTH: std::sync::OnceLock<(Scanner, Scanner)> = std::sync::OnceLock::new();
    BOTH.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("lexicons");
        let lex = Lexicons::load_dir(&dir).expect("shipped lexicons load");
        let tol = Some(Tolerance::default());
        (
            Scanner::with_engine(&lex, tol, Engine::ByteDfa).expect("byte DFA builds"),
            Scanner::with_engine(&lex, tol, Engine::Charwise).expect("charwise builds"),
        )
    })
}

/// Every callback of `for_each_normalized` and the final hits, for comparing engines.
fn everything(s: &Scanner, norm: &str) -> (Vec<NormMatch>, Vec<NormMatch>) {
    let mut all = Vec::new();
    s.for_each_normalized(norm, |m| all.push(m));
    (all, s.scan_normalized(norm))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// The charwise engine is a drop-in for the byte DFA: same callbacks in the same order and
    /// the same hits (nested, regex, proximity, exclusions and phonetic included), on real text
    /// with shipped phrases, random CJK, Latin and emoji spliced in.
    #[test]
    fn charwise_engine_matches_byte_dfa(
        line in 0usize..400,
        inserts in proptest::collection::vec((0usize..2000, 0usize..100, "[\\u{4e00}-\\u{4e3f}a-c0-9😀 ]{0,3}"), 0..8),
    ) {
        let (bytes, chars) = shipped_both();
        let lines = real_lines();
        let words = bytes.pattern_words();
        let mut text = lines[line % lines.len()].clone();
        for (w, at, noise) in &inserts {
            let at = text.char_indices().nth(at % (text.chars().count() + 1)).map_or(text.len(), |(i, _)| i);
            text.insert_str(at, &format!("{}{noise}", words[w % words.len()]));
        }
        let norm = crate::text::normalize(&text);
        prop_assert_eq!(everything(bytes, norm.as_str()), everything(chars, norm.as_str()));
        let hits = |s: &Scanner| s.scan_text(&text).iter().map(|h| (h.entry.rule.clone(), h.start, h.end, h.kind)).collect::<Vec<_>>();
        prop_assert_eq!(hits(bytes), hits(chars));
    }

    /// Same on a large lexicon of phrases cut from the corpus, where most windows hit.
    #[test]
    fn charwise_engine_matches_byte_dfa_on_cut_phrases(line in 0usize..400, seed in 0usize..10_000) {
        let lines = real_lines();
        let corpus: String = lines.iter().map(|l| crate::text::normalize(l).as_str().to_owned()).collect();
        let chars: Vec<char> = corpus.chars().collect();
        let mut words: Vec<String> = (0..300).map(|k| {
            let start = (seed * 131 + k * 7919) % (chars.len() - 8);
            chars[start..start + 1 + (k + seed) % 6].iter().collect()
        }).collect();
        words.sort();
        words.dedup();
        let text: String = words.iter().map(|w| format!("{w}\n")).collect();
        let lex = Lexicons::from_sources([(Path::new("x/测试.txt"), text.as_str())]).expect("valid");
        let a = Scanner::with_engine(&lex, None, Engine::ByteDfa).expect("byte DFA builds");
        let b = Scanner::with_engine(&lex, None, Engine::Charwise).expect("charwise builds");
        let host = crate::text::normalize(&lines[line % lines.len()..].concat());
        let host = &host.as_str()[..floor_boundary(host.as_str(), 4096)];
        prop_assert_eq!(everything(&a, host), everything(&b, host));
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

/// `(rule, words, kind, review)` of a hit.
type Seen<'a> = (&'a str, &'a str, MatchKind, bool);

/// `(rule, words, kind, review)` of every hit but fillers (啊, 嗯 are everywhere).
fn kinds(s: &Scanner, text: &str) -> Vec<(String, String, MatchKind, bool)> {
    s.scan_text(text)
        .into_iter()
        .filter(|h| h.entry.category != "语气词")
        .map(|h| {
            let t: String = text.chars().skip(h.start).take(h.end - h.start).collect();
            (h.entry.rule.clone(), t, h.kind, h.review)
        })
        .collect()
}

#[test]
fn phonetic_hits_say_how_they_matched() {
    use MatchKind::{Exact, Homophone, Near};
    let s = shipped();
    let cases: [(&str, &[Seen]); 6] = [
        (
            "嗯，信不信有你。",
            &[("愤怒:29", "信不信有你", Homophone, false)],
        ),
        ("信不信由你", &[("愤怒:29", "信不信由你", Exact, false)]),
        (
            "不买一你可以投诉我啊",
            &[("散漫:5", "不买一你可以投诉我啊", Near, true)],
        ),
        (
            "你明不明白我的衣服？",
            &[("质问:16", "你明不明白我的衣服", Near, true)],
        ),
        // The exact hit of the same lexicon wins over the homophone of the longer seed.
        (
            "已经说这么多了我无话可说",
            &[("散漫:19", "我无话可说", Exact, false)],
        ),
        // 4 syllables: a homophone counts, a near miss does not.
        ("请您收等", &[]),
    ];
    for (text, want) in cases {
        let want: Vec<(String, String, MatchKind, bool)> = want
            .iter()
            .map(|(r, w, k, v)| (r.to_string(), w.to_string(), *k, *v))
            .collect();
        assert_eq!(kinds(&s, text), want, "{text}");
    }
}

#[test]
fn phonetic_directive_changes_what_deducts() {
    let text = "信不信有你，不买一你可以投诉我啊";
    let got = |directive: &str| {
        let lexicon = format!("{directive}\n信不信由你\n不满意你可以投诉我啊\n");
        let s = scanner(&[("l/散漫.txt", &lexicon)]);
        kinds(&s, text)
            .into_iter()
            .map(|(_, _, k, review)| (k, review))
            .collect::<Vec<_>>()
    };
    use MatchKind::{Homophone, Near};
    assert_eq!(got(""), [(Homophone, false), (Near, true)]);
    assert_eq!(got("@phonetic review"), [(Homophone, true), (Near, true)]);
    assert_eq!(got("@phonetic deduct"), [(Homophone, false), (Near, false)]);
    assert_eq!(got("@phonetic off"), []);
    let exact = Scanner::exact_only(
        &Lexicons::from_sources([(Path::new("l/散漫.txt"), "信不信由你\n")]).expect("valid"),
    )
    .expect("builds");
    assert!(exact.scan_text(text).is_empty());
}

#[test]
fn exclusions_apply_to_what_sounds_like_them() {
    let s = scanner(&[("l/愤怒.txt", "请讲清楚 | 除外 请讲清楚一点\n")]);
    assert!(hits(&s, "请讲青楚一点好吗").is_empty());
    assert_eq!(hits(&s, "请讲青楚！").len(), 1);
    let quoted = scanner(&[("l/反问.txt", "@引述除外\n你到底想怎么样\n")]);
    assert!(hits(&quoted, "您是说你到底想怎么养对吗").is_empty());
    assert_eq!(hits(&quoted, "你到底想怎么养").len(), 1);
}

#[test]
fn proximity_patterns_on_paraphrases_and_polite_sentences() {
    let s = scanner(&[
        ("l/反问.txt", "你到底 ~6 懂/明白\n"),
        ("l/质问.txt", "凭什么 ~6 说\n"),
    ]);
    let cases = [
        ("您到底听懂了没有？", Some(("反问:1", "您到底听懂"))),
        ("你到底明白没明白", Some(("反问:1", "你到底明白"))),
        ("你凭什么说是我们的问题", Some(("质问:1", "凭什么说"))),
        ("凭什么你说不办就不办", Some(("质问:1", "凭什么你说"))),
        // Too far apart, or the second word missing.
        ("你到底是哪一天办理的业务，我们一定帮你弄明白", None),
        ("您放心，我们一定会负责到底的，明白您的心情", None),
        ("凭您的身份证就可以办理，不用担心", None),
    ];
    for (text, want) in cases {
        let got = hits(&s, text);
        let want: Vec<(String, String)> = want
            .map(|(r, w)| (r.to_string(), w.to_string()))
            .into_iter()
            .collect();
        assert_eq!(got, want, "{text}");
    }
}

#[test]
fn hits_written_before_phonetic_matching_read_as_exact() {
    let old = r#"{"rule":"愤怒:29","category":"愤怒","role":"agent","start_ms":0,"end_ms":900,
        "text":"信不信由你","phrase":"信不信由你。","span":{"segment":0,"start":0,"end_segment":0,"end":5}}"#;
    let hit: Hit = serde_json::from_str(old).expect("old hit JSON reads");
    assert_eq!(
        (hit.kind, hit.similarity, hit.review),
        (MatchKind::Exact, 1.0, false)
    );
    let t = Transcript {
        role: Role::Agent,
        segments: vec![seg(0, 1000, "不买一你可以投诉我啊")],
    };
    let near = &shipped().scan_transcript(&t)[0];
    let json = serde_json::to_value(near).expect("serialises");
    assert_eq!(json["match"], "near");
    assert_eq!(json["review"], true);
    assert!(
        json["similarity"]
            .as_f64()
            .is_some_and(|x| x > 0.8 && x < 1.0),
        "{json}"
    );
}
