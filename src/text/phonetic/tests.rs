//! Readings, comparisons and the public helpers on the issue's real Whisper slips.

use super::*;

#[test]
fn toneless_readings_with_ascii_kept() {
    assert_eq!(toneless("您好，客服中心"), "ni hao ke fu zhong xin");
    assert_eq!(toneless("女VIP"), "nü v i p");
    assert_eq!(toneless("這是我們"), "zhe shi wo men");
}

#[test]
fn polyphones_have_every_everyday_reading() {
    let names = |c: char| -> Vec<&str> { readings(c).iter().map(|s| s.as_str()).collect() };
    assert_eq!(names('行'), ["xing", "hang"]);
    assert_eq!(names('长'), ["chang", "zhang"]);
    assert_eq!(names('了'), ["le", "liao"]);
    assert_eq!(names('还'), ["hai", "huan"]);
    assert_eq!(names('得'), ["de", "dei"]);
    assert_eq!(names('由'), ["you"]);
    assert!(names('，').is_empty());
}

/// The issue's table: what was said, what Whisper wrote, and how it must match.
const SLIPS: [(&str, &str, Option<MatchKind>); 10] = [
    ("信不信由你", "信不信有你", Some(MatchKind::Homophone)),
    (
        "不满意你可以投诉我啊",
        "不买一你可以投诉我啊",
        Some(MatchKind::Near),
    ),
    (
        "你可以选择不使用",
        "你可以显责不使用",
        Some(MatchKind::Near),
    ),
    (
        "你明不明白我的意思",
        "你明不明白我的衣服",
        Some(MatchKind::Near),
    ),
    (
        "我们这不报名字有什么事吗",
        "我们这不报名份，有什么事吗",
        Some(MatchKind::Near),
    ),
    (
        "你怎么能听不懂呢",
        "你怎么能拼不懂能",
        Some(MatchKind::Near),
    ),
    ("我就这态度了", "我就这太独了", Some(MatchKind::Homophone)),
    (
        "你为什么老是挑剔我",
        "你为什么老是挑提我",
        Some(MatchKind::Homophone),
    ),
    ("客服中心", "刻服中心", Some(MatchKind::Homophone)),
    // Four syllables leave no room for a slip: the hold check needs its own tolerance.
    ("请您稍等", "请您收等", None),
];

#[test]
fn issue_slips_are_found_as_the_right_kind() {
    for (said, heard, want) in SLIPS {
        let got = find(heard, said);
        assert_eq!(
            got.map(|f| f.kind),
            want,
            "{said} heard as {heard}: {got:?}"
        );
        if let Some(f) = got {
            assert_eq!((f.start, f.end), (0, heard.chars().count()), "{heard}");
            assert!(f.similarity > 0.7 && f.similarity <= 1.0, "{f:?}");
        }
    }
}

#[test]
fn find_reports_original_offsets_and_prefers_exact() {
    let f = find("嗯，您好！刻服中心。", "客服中心").expect("homophone");
    assert_eq!((f.start, f.end, f.kind), (5, 9, MatchKind::Homophone));
    let f = find("刻服中心，客服中心", "客服中心").expect("both");
    assert_eq!((f.start, f.kind), (5, MatchKind::Exact));
}

#[test]
fn polite_sentences_do_not_sound_like_forbidden_phrases() {
    for (text, phrase) in [
        (
            "请问您想要什么样的回复方式，短信还是电话？",
            "那你想要什么样的回复呢",
        ),
        (
            "这个工单不是我受理的，我马上帮您查一下处理进度",
            "我们是无法处理的",
        ),
        ("我明白您的意思了", "你明白我的意思吗"),
        ("您可以选择不开通", "你可以选择不使用"),
    ] {
        assert_eq!(find(text, phrase), None, "{text} ~ {phrase}");
    }
}

#[test]
fn similarity_is_on_sound_and_in_order() {
    let standard = "您好，客服中心，请问有什么可以帮您";
    assert!(similarity("你好刻服中心请问有什么可以帮你", standard) > 0.99);
    assert!(similarity("你好，克服中兴，请问有什么可以帮您", standard) > 0.9);
    assert!(similarity("客服中心", standard) < 0.4);
    assert_eq!(similarity("", standard), 0.0);
    assert_eq!(similarity("随便", ""), 0.0);
}

#[test]
fn confusable_pairs_are_symmetric_and_specific() {
    let s = |c: char| readings(c)[0];
    for (a, b) in [
        ('四', '是'),
        ('南', '兰'),
        ('满', '买'),
        ('选', '显'),
        ('听', '拼'),
    ] {
        assert!(confusable(s(a), s(b)), "{a} {b}");
        assert!(confusable(s(b), s(a)), "{b} {a}");
    }
    for (a, b) in [('意', '服'), ('你', '我'), ('字', '份')] {
        assert!(!confusable(s(a), s(b)), "{a} {b}");
    }
}

#[test]
fn window_offsets_map_through_dropped_chars() {
    let p = PinyinText::new("喂， 您好！");
    assert_eq!(p.len(), 3);
    assert_eq!(p.orig_span(1, 3), (3, 5));
    assert_eq!(p.char_at_byte(p.norm_byte(2)), 2);
}
