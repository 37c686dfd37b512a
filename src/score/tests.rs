//! Scoring with the shipped rubrics, lexicons and calendar on transcripts written here: each
//! detector's positive and negative cases, and the sheet's edge cases.

use std::path::Path;

use super::*;
use crate::scan::{Lexicons, Scanner};
use crate::{AgentChannel, Segment};

struct Fixture {
    scanner: Scanner,
    rubrics: Rubrics,
    calendar: Calendar,
}

fn fixture() -> &'static Fixture {
    static F: std::sync::OnceLock<Fixture> = std::sync::OnceLock::new();
    F.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let lex = Lexicons::load_dir(&root.join("lexicons")).unwrap_or_else(|e| panic!("{e}"));
        Fixture {
            scanner: Scanner::new(&lex).expect("scanner"),
            rubrics: Rubrics::load_dir(&root.join("rubrics")).unwrap_or_else(|e| panic!("{e}")),
            calendar: Calendar::load_dir(&root.join("calendars")).unwrap_or_else(|e| panic!("{e}")),
        }
    })
}

/// (role, start s, end s, text)
type Turn = (Role, f64, f64, &'static str);

fn call(started_at: &str, direction: Direction, turns: &[Turn]) -> CallResult {
    let f = fixture();
    let meta = CallMeta {
        call_id: "t".into(),
        audio: "t.wav".into(),
        agent_id: "A1".into(),
        started_at: chrono::DateTime::parse_from_rfc3339(started_at).expect("time"),
        direction,
        agent_channel: AgentChannel::Left,
        extra: Default::default(),
    };
    let transcripts = Transcript::by_role(turns.iter().map(|&(role, s, e, text)| {
        (
            role,
            Segment::text_only((s * 1000.0) as u64, (e * 1000.0) as u64, text),
        )
    }));
    let duration_ms = turns
        .iter()
        .map(|t| (t.2 * 1000.0) as u64)
        .max()
        .unwrap_or(0)
        + 1000;
    let metrics = CallMetrics {
        duration_ms,
        ..CallMetrics::default()
    };
    let hits = transcripts
        .iter()
        .flat_map(|t| f.scanner.scan_transcript(t))
        .collect();
    score_call(&meta, &transcripts, &metrics, hits, &f.rubrics, &f.calendar)
}

fn rules(r: &CallResult) -> Vec<&str> {
    r.deductions.iter().map(|d| d.rule.as_str()).collect()
}

fn flagged(r: &CallResult) -> Vec<&str> {
    r.findings.iter().map(|d| d.rule.as_str()).collect()
}

const A: Role = Role::Agent;
const C: Role = Role::Customer;
const TUESDAY: &str = "2026-10-13T14:20:00+08:00";

const GOOD: &[Turn] = &[
    (A, 0.5, 4.0, "您好，客服中心，请问有什么可以帮您？"),
    (C, 5.0, 8.0, "你好，我想查询一下我的话费余额。"),
    (A, 9.5, 12.0, "好的，请您稍等，我帮您查一下。"),
    (A, 24.0, 27.0, "让您久等了，您的余额是五十元。"),
    (C, 28.0, 29.0, "好的，谢谢。"),
    (A, 30.0, 33.0, "不客气，祝您心情愉快，再见！"),
];

#[test]
fn a_compliant_call_keeps_every_point() {
    let r = call(TUESDAY, Direction::Inbound, GOOD);
    assert_eq!(rules(&r), Vec::<&str>::new(), "{:#?}", r.deductions);
    assert_eq!(r.score, 100.0);
    assert_eq!(r.rubric, "客服");
    assert!(
        r.manual.iter().any(|m| m.starts_with("4.3 ")),
        "manual checklist: {:?}",
        r.manual
    );
}

#[test]
fn bonuses_and_modifiers_are_offered_to_the_inspector_never_applied() {
    let r = call(TUESDAY, Direction::Inbound, GOOD);
    let has = |rule: &str, flag: Flag, value: f64| {
        r.flags
            .iter()
            .any(|f| f.rule == rule && f.flag == flag && f.value == value)
    };
    assert!(has("7.2", Flag::Double, 2.0), "{:?}", r.flags);
    assert!(has("8.1", Flag::Half, 0.5), "{:?}", r.flags);
    assert!(has("8.4", Flag::Waive, 0.0), "{:?}", r.flags);
    assert!(has("10.1", Flag::Bonus, 2.0), "{:?}", r.flags);
    assert_eq!(r.score, 100.0);
    let sales = call(TUESDAY, Direction::Outbound, &[]);
    assert!(sales
        .flags
        .iter()
        .any(|f| f.rule == "8.2" && f.flag == Flag::Double));
}

#[test]
fn late_opening_hellos_and_missing_closing() {
    let r = call(
        TUESDAY,
        Direction::Inbound,
        &[
            (C, 1.0, 1.4, "喂？"),
            (C, 3.0, 3.4, "喂？"),
            (A, 6.5, 7.5, "客服中心。"),
            (C, 8.5, 11.0, "我的宽带断了。"),
            (A, 12.0, 14.0, "好的，重启一下就好了。"),
        ],
    );
    let d = rules(&r);
    assert!(d.contains(&"1.1"), "{d:?}");
    assert!(d.contains(&"2.3"), "{d:?}");
    let late = r.deductions.iter().find(|d| d.rule == "1.1").expect("1.1");
    assert!(late.reason.contains("6.5 s"), "{}", late.reason);
    assert!(r.deductions.iter().any(|d| d.reason.contains("喂 2 times")));
    // 1.1 forfeits item 1 once, even though two of its cases fired.
    let item1: f64 = r
        .deductions
        .iter()
        .filter(|d| d.item == "1")
        .map(|d| d.points)
        .sum();
    assert_eq!(item1, 10.0);
}

#[test]
fn no_agent_speech_at_all() {
    let r = call(
        TUESDAY,
        Direction::Inbound,
        &[(C, 1.0, 2.0, "喂，有人吗？")],
    );
    assert!(rules(&r).contains(&"1.3"), "{:?}", rules(&r));
}

#[test]
fn two_rhetorical_questions_in_one_sentence_cost_the_extra_five() {
    let mut turns = GOOD.to_vec();
    turns[2] = (A, 9.5, 12.0, "不是跟你说了吗？你听懂了吗？请您稍等。");
    let r = call(TUESDAY, Direction::Inbound, &turns);
    let fanwen: Vec<&Deduction> = r.deductions.iter().filter(|d| d.rule == "4.6").collect();
    assert_eq!(fanwen.len(), 3, "two hits and the extra: {fanwen:#?}");
    assert_eq!(
        fanwen.iter().map(|d| d.points).sum::<f64>(),
        5.0,
        "item 4 forfeited by 4.2 first"
    );
    assert!(rules(&r).contains(&"4.2"));
    // Item 4 (20) once + extra 5.
    assert_eq!(r.score, 75.0);
    for d in &fanwen[..2] {
        let h = &r.hits[d.evidence[0]];
        assert_eq!(h.category, "反问");
        assert!(d.start_ms >= 9_500 && d.end_ms <= 12_000, "{d:?}");
    }
}

#[test]
fn a_forbidden_phrase_said_by_the_customer_costs_nothing() {
    let mut turns = GOOD.to_vec();
    turns[1] = (C, 5.0, 8.0, "你听懂了吗？这是你们公司的规定吗？");
    let r = call(TUESDAY, Direction::Inbound, &turns);
    assert!(r
        .hits
        .iter()
        .any(|h| h.category == "反问" && h.role == Role::Customer));
    assert_eq!(r.score, 100.0, "{:#?}", r.deductions);
}

#[test]
fn closing_said_mid_call_then_the_call_goes_on() {
    let r = call(
        TUESDAY,
        Direction::Inbound,
        &[
            (A, 0.5, 4.0, "您好，客服中心，请问有什么可以帮您？"),
            (C, 5.0, 7.0, "我查话费。"),
            (A, 8.0, 11.0, "好的，祝您心情愉快，再见！"),
            (C, 12.0, 14.0, "等一下，还有一个问题。"),
            (A, 15.0, 17.0, "好的您说。"),
            (C, 18.0, 19.0, "没事了。"),
            (A, 20.0, 21.0, "好的。"),
        ],
    );
    let closing = r
        .deductions
        .iter()
        .find(|d| d.rule == "2.3")
        .expect("2.3 fires");
    assert!(closing.reason.contains("mid-call"), "{}", closing.reason);
}

#[test]
fn hold_needs_both_phrases() {
    let r = call(TUESDAY, Direction::Inbound, GOOD);
    assert!(!rules(&r).contains(&"2.4"));
    let mut turns = GOOD.to_vec();
    turns[2] = (A, 9.5, 12.0, "好的，我查一下。");
    turns[3] = (A, 24.0, 27.0, "您的余额是五十元。");
    let r = call(TUESDAY, Direction::Inbound, &turns);
    let hold = r.deductions.iter().find(|d| d.rule == "2.4").expect("2.4");
    assert!(
        hold.reason.contains("请您稍等") && hold.reason.contains("让您久等了"),
        "{}",
        hold.reason
    );
    assert_eq!((hold.start_ms, hold.end_ms), (12_000, 24_000));
}

#[test]
fn morning_and_holiday_greetings() {
    let r = call("2026-10-15T09:05:00+08:00", Direction::Inbound, GOOD);
    let g = r
        .deductions
        .iter()
        .find(|d| d.rule == "2.2")
        .expect("no 早上好");
    assert!(g.reason.contains("09:05"), "{}", g.reason);
    let mut morning = GOOD.to_vec();
    morning[0] = (A, 0.5, 4.0, "早上好！您好，客服中心，请问有什么可以帮您？");
    assert!(!rules(&call(
        "2026-10-15T09:05:00+08:00",
        Direction::Inbound,
        &morning
    ))
    .contains(&"2.2"));
    // A call crossing noon: what counts is the local time of the agent's opening.
    let r = call("2026-10-15T11:59:50+08:00", Direction::Inbound, GOOD);
    assert!(
        rules(&r).contains(&"2.2"),
        "opening at 11:59:50.5 needs 早上好"
    );
    let r = call("2026-10-15T11:59:59.800+08:00", Direction::Inbound, GOOD);
    assert!(
        !rules(&r).contains(&"2.2"),
        "opening at 12:00:00.3: {:#?}",
        r.deductions
    );
    // 国庆 on a Saturday: the holiday greeting, not the weekend's.
    let r = call("2026-10-03T15:00:00+08:00", Direction::Inbound, GOOD);
    let g = r.deductions.iter().find(|d| d.rule == "2.2").expect("国庆");
    assert!(g.reason.contains("国庆"), "{}", g.reason);
    let mut greeted = GOOD.to_vec();
    greeted[0] = (
        A,
        0.5,
        4.0,
        "国庆快乐！您好，客服中心，请问有什么可以帮您？",
    );
    assert!(!rules(&call(
        "2026-10-03T15:00:00+08:00",
        Direction::Inbound,
        &greeted
    ))
    .contains(&"2.2"));
}

#[test]
fn outbound_calls_use_the_sales_sheet() {
    let turns = [
        (
            A,
            0.6,
            5.0,
            "您好，打扰您了，我是移动公司的客服代表，请问您是机主吗？",
        ),
        (C, 7.0, 8.0, "是的，什么事？"),
        (
            A,
            9.5,
            15.0,
            "我们有一个流量套餐，每月十元，可以免费试用一个月。",
        ),
        (C, 17.0, 18.0, "不需要，谢谢。"),
        (
            A,
            19.5,
            24.0,
            "好的，很抱歉，打扰您了，祝您身体健康，再见！",
        ),
    ];
    let r = call(TUESDAY, Direction::Outbound, &turns);
    assert_eq!(r.rubric, "营销");
    assert_eq!(r.score, 100.0, "{:#?}", r.deductions);
    let mut pushy = turns.to_vec();
    pushy[2] = (A, 9.5, 15.0, "我们有一个流量套餐，很划算。");
    pushy[4] = (
        A,
        19.5,
        24.0,
        "已经为您开通了，很抱歉，打扰您了，祝您身体健康，再见！",
    );
    let r = call(TUESDAY, Direction::Outbound, &pushy);
    assert!(flagged(&r).contains(&"6.4"), "{:?}", flagged(&r));
    let forced = r.findings.iter().find(|f| f.rule == "6.3").expect("6.3");
    assert_eq!((forced.credits, forced.fine_yuan), (20.0, 50.0));
    assert_eq!(r.score, 100.0, "assist rules never deduct");
}

#[test]
fn ordering_needs_the_customers_consent() {
    let offer = (
        A,
        0.6,
        6.0,
        "您好，打扰您了，我是移动公司的客服代表，我们有一个流量套餐，每月十元。",
    );
    let cases: &[(&str, &str, bool)] = &[
        ("好的，可以，办吧。", "那我现在帮您办理。", false),
        ("我考虑一下吧。", "那我现在帮您办理。", true),
        ("不需要。", "那我还是给您开通吧。", true),
        ("现在几点了？", "我们有很多优惠。", false),
    ];
    for &(customer, agent, forced) in cases {
        let turns = [offer, (C, 7.0, 9.0, customer), (A, 10.0, 13.0, agent)];
        let r = call(TUESDAY, Direction::Outbound, &turns);
        assert_eq!(
            flagged(&r).contains(&"6.3"),
            forced,
            "{customer} / {agent}: {:?}",
            r.findings
        );
        assert_eq!(
            r.credits, 0.0,
            "assist: 积分 only when an inspector confirms"
        );
    }
}

#[test]
fn mono_calls_are_flagged_never_deducted() {
    let turns: Vec<Turn> = [
        (Role::Unknown, 6.5, 7.5, "客服中心。"),
        (Role::Unknown, 9.0, 11.0, "不是跟你说了吗？你听懂了吗？"),
    ]
    .to_vec();
    let r = call(TUESDAY, Direction::Inbound, &turns);
    assert!(r.deductions.is_empty(), "{:#?}", r.deductions);
    assert_eq!(r.score, 100.0);
    assert!(flagged(&r).contains(&"4.6"), "{:?}", flagged(&r));
}

#[test]
fn agent_reading_a_phone_number_is_flagged() {
    let mut turns = GOOD.to_vec();
    turns[3] = (A, 24.0, 27.0, "让您久等了，机主号码是13812345678。");
    let r = call(TUESDAY, Direction::Inbound, &turns);
    assert!(flagged(&r).contains(&"9.2"), "{:?}", flagged(&r));
}

#[test]
fn similarity_tolerates_asr_slips() {
    let standard = "您好，客服中心，请问有什么可以帮您？";
    assert!(similarity("你好,克服中心,请问有什么可以帮您。", standard) > 0.85);
    assert!(similarity("客服中心。", standard) < 0.5);
}

proptest::proptest! {
    #[test]
    fn score_stays_between_zero_and_max(picks in proptest::collection::vec((0usize..8, proptest::bool::ANY), 0..14)) {
        let lines = ["不是跟你说了吗？", "这是我们公司的规定。", "你懂礼貌吗？", "我就这态度了。", "喂？", "请讲清楚", "您好，客服中心，请问有什么可以帮您？", "祝您心情愉快，再见！"];
        let turns: Vec<Turn> = picks
            .iter()
            .enumerate()
            .map(|(i, &(p, agent))| (if agent { A } else { C }, i as f64 * 3.0, i as f64 * 3.0 + 2.0, lines[p]))
            .collect();
        let r = call(TUESDAY, Direction::Inbound, &turns);
        proptest::prop_assert!(r.score >= 0.0 && r.score <= r.max_score);
        let points: f64 = r.deductions.iter().map(|d| d.points).sum();
        proptest::prop_assert_eq!(r.score, (r.max_score - points).max(0.0));
        for d in &r.deductions {
            // Every deduction can be played and read: a time span, and hits or words.
            proptest::prop_assert!(d.start_ms <= d.end_ms, "{:?}", d);
            proptest::prop_assert!(d.evidence.iter().all(|&i| i < r.hits.len()), "{:?}", d);
            proptest::prop_assert!(!d.evidence.is_empty() || !d.words.is_empty() || d.rule == "1.3", "{:?}", d);
            // Lexicon rules deduct only for the agent's own words.
            for &i in &d.evidence {
                if d.rule.starts_with("4.") {
                    proptest::prop_assert_eq!(r.hits[i].role, Role::Agent, "{:?}", d);
                }
            }
        }
    }
}
