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
    scored(started_at, direction, turns, None, &fixture().rubrics)
}

/// Voice activity of both channels, seconds: (agent regions, customer regions, call length).
type Activity<'a> = (&'a [(f64, f64)], &'a [(f64, f64)], f64);

fn scored(
    started_at: &str,
    direction: Direction,
    turns: &[Turn],
    activity: Option<Activity<'_>>,
    rubrics: &Rubrics,
) -> CallResult {
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
    let ms = |s: f64| (s * 1000.0) as u64;
    let regions = |rs: &[(f64, f64)]| {
        rs.iter()
            .map(|&(s, e)| crate::SpeechRegion {
                start_ms: ms(s),
                end_ms: ms(e),
            })
            .collect::<Vec<_>>()
    };
    let metrics = match activity {
        None => CallMetrics {
            duration_ms,
            ..CallMetrics::default()
        },
        Some((agent, customer, end)) => CallMetrics {
            duration_ms: ms(end),
            agent_speech: regions(agent),
            customer_speech: regions(customer),
            ..CallMetrics::default()
        },
    };
    let hits = transcripts
        .iter()
        .flat_map(|t| f.scanner.scan_transcript(t))
        .collect();
    score_call(&meta, &transcripts, &metrics, hits, rubrics, &f.calendar)
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
    assert!(
        has("7.2", Flag::Modifier(Modifier::Double), 2.0),
        "{:?}",
        r.flags
    );
    assert!(
        has("8.1", Flag::Modifier(Modifier::Half), 0.5),
        "{:?}",
        r.flags
    );
    // 8.4 and 8.5 change 8.1's deduction: their flags sit on 8.1 (issue item 9).
    assert!(
        has("8.1", Flag::Modifier(Modifier::Waive), 0.0),
        "{:?}",
        r.flags
    );
    assert!(
        !r.flags.iter().any(|f| f.rule == "8.4" || f.rule == "8.5"),
        "{:?}",
        r.flags
    );
    assert!(has("10.1", Flag::Bonus, 2.0), "{:?}", r.flags);
    assert_eq!(r.score, 100.0);
    let sales = call(TUESDAY, Direction::Outbound, &[]);
    assert!(sales
        .flags
        .iter()
        .any(|f| f.rule == "8.2" && f.flag == Flag::Modifier(Modifier::Double)));
    // calls.jsonl writes each flag as the sheet's own word, and reads it back.
    for (flag, word) in [
        (Flag::Bonus, "特别加分"),
        (Flag::Modifier(Modifier::Double), "扣分加倍"),
        (Flag::Modifier(Modifier::Half), "扣分减半"),
        (Flag::Modifier(Modifier::Waive), "不扣分"),
    ] {
        let json = serde_json::to_value(flag).expect("flag");
        assert_eq!(json, serde_json::json!(word));
        assert_eq!(
            serde_json::from_value::<Flag>(json).expect("read back"),
            flag
        );
    }
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
    assert!(late.reason.starts_with("未报读开头语"), "{}", late.reason);
    assert!(r
        .deductions
        .iter()
        .any(|d| d.reason.contains("“喂”了 2 声")));
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
    assert!(closing.reason.contains("中途"), "{}", closing.reason);
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

/// What a rule did on a call: deducted, flagged for review, or nothing.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Outcome {
    Deducted,
    Flagged,
    Silent,
}

fn outcome(r: &CallResult, rule: &str) -> Outcome {
    if rules(r).contains(&rule) {
        Outcome::Deducted
    } else if flagged(r).contains(&rule) {
        Outcome::Flagged
    } else {
        Outcome::Silent
    }
}

struct Case {
    name: &'static str,
    started_at: &'static str,
    direction: Direction,
    turns: Vec<Turn>,
    activity: Option<Activity<'static>>,
    rule: &'static str,
    want: Outcome,
    /// Words the reason must contain, when it fires.
    reason: &'static str,
}

fn inbound(
    name: &'static str,
    turns: &[Turn],
    rule: &'static str,
    want: Outcome,
    reason: &'static str,
) -> Case {
    Case {
        name,
        started_at: TUESDAY,
        direction: Direction::Inbound,
        turns: turns.to_vec(),
        activity: None,
        rule,
        want,
        reason,
    }
}

const OPEN: Turn = (A, 0.5, 4.0, "您好，客服中心，请问有什么可以帮您？");
const BYE: Turn = (A, 60.0, 63.0, "不客气，祝您心情愉快，再见！");
const WAIT: &[Turn] = &[
    OPEN,
    (C, 5.0, 8.0, "我想查一下话费。"),
    (A, 9.0, 11.0, "好的，请您稍等。"),
];

/// Issue 14's rules 1–14, each with a positive and a negative case written the way the seed
/// text reads, scored end to end with the shipped rubric, lexicons and calendar.
#[test]
fn the_rules_as_the_seeds_word_them() {
    let new_year = "2027-01-01T09:10:00+08:00";
    let mut cases = vec![
        // 1. 「来电接入后五秒内未报读开头语」: the opening must start in 5 s.
        inbound(
            "1 a 喂 on time, the opening at 7 s",
            &[
                (A, 1.5, 1.8, "喂？"),
                (A, 7.0, 10.0, "您好，客服中心，请问有什么可以帮您？"),
                BYE,
            ],
            "1.1",
            Outcome::Deducted,
            "开头语于 7.0 秒开始",
        ),
        inbound(
            "1 the opening at 0.5 s",
            &[OPEN, BYE],
            "1.1",
            Outcome::Silent,
            "",
        ),
        // 2. 「客户“喂”了两声后才应答」: 喂 counted, 「喂喂」 twice.
        inbound(
            "2 「喂喂」 in one breath",
            &[
                (C, 0.5, 1.5, "喂喂？"),
                (A, 3.0, 6.0, "您好，客服中心，请问有什么可以帮您？"),
                BYE,
            ],
            "1.1",
            Outcome::Deducted,
            "“喂”了 2 声",
        ),
        inbound(
            "2 one 喂 and a question",
            &[
                (C, 0.5, 0.8, "喂？"),
                (C, 1.5, 2.5, "是客服吗？"),
                (A, 3.0, 6.0, "您好，客服中心，请问有什么可以帮您？"),
                BYE,
            ],
            "1.1",
            Outcome::Silent,
            "",
        ),
        // 4. 7.1: 「请您稍等」, then never back; the customer gives up after 2 min.
        Case {
            activity: Some((
                &[(0.5, 4.0), (9.0, 11.0)],
                &[(5.0, 8.0), (70.0, 71.0)],
                140.0,
            )),
            ..inbound(
                "4 请您稍等 and never back",
                WAIT,
                "7.1",
                Outcome::Deducted,
                "不理会客户",
            )
        },
        Case {
            activity: Some((
                &[(0.5, 4.0), (9.0, 11.0), (100.0, 103.0)],
                &[(5.0, 8.0)],
                104.0,
            )),
            ..inbound("4 back after 90 s", WAIT, "7.1", Outcome::Silent, "")
        },
        // 5. The customer's own 稍等 is not an agent hold; 「等一下」 instead of 「对不起，请您稍等」 is 2.4.
        inbound(
            "5 the customer goes to look",
            &[
                OPEN,
                (A, 5.0, 7.0, "请您提供一下身份证号。"),
                (C, 7.5, 8.5, "稍等，我找一下。"),
                (C, 25.0, 28.0, "一一零一零一。"),
                BYE,
            ],
            "2.4",
            Outcome::Silent,
            "",
        ),
        inbound(
            "5 「等一下」",
            &[
                OPEN,
                (C, 5.0, 8.0, "我想查一下话费。"),
                (A, 9.0, 10.0, "等一下。"),
                (A, 24.0, 27.0, "让您久等了，余额五十元。"),
                BYE,
            ],
            "2.4",
            Outcome::Deducted,
            "未说「对不起，请您稍等」",
        ),
        inbound(
            "5 thanks not answered with 不客气",
            &[
                OPEN,
                (C, 5.0, 7.0, "好的，谢谢。"),
                (A, 8.0, 10.0, "嗯，祝您心情愉快，再见！"),
            ],
            "2.4",
            Outcome::Flagged,
            "不客气",
        ),
        // 6. 2.3: 「开头语/结束语不全」.
        inbound(
            "6 opening without 您好",
            &[(A, 0.5, 4.0, "客服中心，请问有什么可以帮您？"), BYE],
            "2.3",
            Outcome::Deducted,
            "缺少「您好」",
        ),
        inbound(
            "6 closing without 再见",
            &[OPEN, (A, 60.0, 63.0, "不客气，祝您心情愉快。")],
            "2.3",
            Outcome::Deducted,
            "缺少「再见」",
        ),
        inbound(
            "6 an ASR slip in a whole opening",
            &[(A, 0.5, 4.0, "你好，克服中心，请问有什么可以帮您？"), BYE],
            "2.3",
            Outcome::Silent,
            "",
        ),
        // 10. 5.2 「能清楚的听到客户的声音,却说听不到让客户重拨」.
        Case {
            activity: Some((&[(0.5, 4.0), (12.0, 14.0)], &[(5.0, 11.0)], 15.0)),
            ..inbound(
                "10 听不到 while the customer spoke",
                &[
                    OPEN,
                    (C, 5.0, 11.0, "我的宽带断了，你们什么时候来修？"),
                    (A, 12.0, 14.0, "听不到，您重拨吧。"),
                ],
                "5.2",
                Outcome::Flagged,
                "客户声道",
            )
        },
        Case {
            activity: Some((&[(0.5, 4.0), (12.0, 14.0)], &[], 15.0)),
            ..inbound(
                "10 听不到 on a silent line",
                &[OPEN, (A, 12.0, 14.0, "听不到，您重拨吧。")],
                "5.2",
                Outcome::Silent,
                "",
            )
        },
        // 11. Lexicons put to use: 2.1 询问姓氏, 6.x 退订, 5.3 线路故障请挂机即可.
        inbound(
            "11 no surname, no 先生",
            &[OPEN, BYE],
            "2.1",
            Outcome::Flagged,
            "姓氏",
        ),
        inbound(
            "11 王先生",
            &[OPEN, (A, 10.0, 12.0, "好的王先生，我帮您查。"), BYE],
            "2.1",
            Outcome::Silent,
            "",
        ),
        inbound(
            "11 退订 with no reason asked",
            &[
                OPEN,
                (C, 5.0, 8.0, "我要退订这个业务。"),
                (A, 9.0, 11.0, "好的，已经取消了。"),
                BYE,
            ],
            "6.1",
            Outcome::Flagged,
            "退订原因",
        ),
        inbound(
            "11 退订 and the reason asked",
            &[
                OPEN,
                (C, 5.0, 8.0, "我要退订这个业务。"),
                (A, 9.0, 11.0, "请问您退订的原因是什么？"),
                BYE,
            ],
            "6.1",
            Outcome::Silent,
            "",
        ),
        inbound(
            "11 线路故障请挂机即可",
            &[
                OPEN,
                (C, 5.0, 8.0, "你们都是骗子！"),
                (A, 9.0, 11.0, "线路故障请挂机即可。"),
            ],
            "5.3",
            Outcome::Flagged,
            "线路故障",
        ),
        // 14. 1.2 dead air with nobody asked to wait; 2.4 only for the wording.
        inbound(
            "14 a question, then 20 s of silence",
            &[
                OPEN,
                (C, 5.0, 8.0, "我的宽带怎么又断了？"),
                (A, 28.0, 31.0, "您的宽带欠费了。"),
                BYE,
            ],
            "1.2",
            Outcome::Flagged,
            "静音 20.0 秒",
        ),
        inbound(
            "14 the same silence is no 2.4",
            &[
                OPEN,
                (C, 5.0, 8.0, "我的宽带怎么又断了？"),
                (A, 28.0, 31.0, "您的宽带欠费了。"),
                BYE,
            ],
            "2.4",
            Outcome::Silent,
            "",
        ),
        inbound(
            "14 a polite hold is no dead air",
            &[
                OPEN,
                (C, 5.0, 8.0, "我想查一下话费。"),
                (A, 9.0, 11.0, "对不起，请您稍等。"),
                (A, 30.0, 33.0, "让您久等了，余额五十元。"),
                (A, 34.0, 36.0, "祝您心情愉快，再见！"),
            ],
            "1.2",
            Outcome::Silent,
            "",
        ),
        // 12 of issue 12: a customer talking through a silence (Whisper wrote nothing) is no hold.
        Case {
            activity: Some((
                &[(0.5, 4.0), (9.0, 10.0), (24.0, 27.0), (60.0, 63.0)],
                &[(5.0, 8.0), (11.0, 16.0), (17.0, 23.0)],
                64.0,
            )),
            ..inbound(
                "12.6 unintelligible customer speech",
                &[
                    OPEN,
                    (C, 5.0, 8.0, "我想查一下话费。"),
                    (A, 9.0, 10.0, "等一下。"),
                    (A, 24.0, 27.0, "余额五十元。"),
                    BYE,
                ],
                "2.4",
                Outcome::Silent,
                "",
            )
        },
    ];
    // 3. Holiday openings: on 元旦 the prescribed 「新年好!XX客服中心,请问有什么可以帮您!」
    // replaces 早上好 and stands in for 您好.
    let holiday = |name, opening: &'static str, rule, want, reason| Case {
        started_at: new_year,
        ..inbound(name, &[(A, 0.5, 4.0, opening), BYE], rule, want, reason)
    };
    cases.push(holiday(
        "3 元旦 morning, prescribed opening: 2.2",
        "新年好！客服中心，请问有什么可以帮您！",
        "2.2",
        Outcome::Silent,
        "",
    ));
    cases.push(holiday(
        "3 元旦 morning, prescribed opening: 2.3",
        "新年好！客服中心，请问有什么可以帮您！",
        "2.3",
        Outcome::Silent,
        "",
    ));
    cases.push(holiday(
        "3 元旦 morning with 早上好 only",
        "早上好！您好，客服中心，请问有什么可以帮您？",
        "2.2",
        Outcome::Deducted,
        "新年好",
    ));
    // 7. and 8. 营销 6.4 and 6.3.
    let sales = |name, turns: &[Turn], rule, want, reason| Case {
        direction: Direction::Outbound,
        ..inbound(name, turns, rule, want, reason)
    };
    const HELLO: Turn = (
        A,
        0.5,
        5.0,
        "您好，打扰您了，我是移动公司的客服代表，请问您是机主吗？",
    );
    cases.push(sales(
        "7 「业务」 is no offer",
        &[
            HELLO,
            (C, 6.0, 7.0, "是的。"),
            (A, 8.0, 10.0, "您的业务都正常。"),
        ],
        "6.4",
        Outcome::Silent,
        "",
    ));
    cases.push(sales(
        "7 a trial without the fee",
        &[
            HELLO,
            (C, 6.0, 7.0, "是的。"),
            (A, 8.0, 12.0, "可以免费试用一个月，我给您开通。"),
        ],
        "6.4",
        Outcome::Flagged,
        "收费标准",
    ));
    cases.push(sales(
        "8 consent after a refusal",
        &[
            HELLO,
            (C, 6.0, 7.0, "不需要。"),
            (A, 8.0, 10.0, "每月只要五元。"),
            (C, 11.0, 12.0, "好的，那帮我办吧。"),
            (A, 13.0, 15.0, "好的，给您开通。"),
        ],
        "6.3",
        Outcome::Silent,
        "",
    ));
    cases.push(sales(
        "8 an order after a refusal",
        &[
            HELLO,
            (C, 6.0, 7.0, "不需要。"),
            (A, 8.0, 10.0, "我先给您开通吧。"),
        ],
        "6.3",
        Outcome::Flagged,
        "不需要",
    ));
    for c in &cases {
        let r = scored(
            c.started_at,
            c.direction,
            &c.turns,
            c.activity,
            &fixture().rubrics,
        );
        let got = outcome(&r, c.rule);
        assert_eq!(
            got, c.want,
            "{}: {:#?} {:#?}",
            c.name, r.deductions, r.findings
        );
        let reasons: Vec<&str> = r
            .deductions
            .iter()
            .filter(|d| d.rule == c.rule)
            .map(|d| d.reason.as_str())
            .chain(
                r.findings
                    .iter()
                    .filter(|f| f.rule == c.rule)
                    .map(|f| f.reason.as_str()),
            )
            .collect();
        assert!(
            reasons.iter().any(|x| x.contains(c.reason)) || got == Outcome::Silent,
            "{}: {reasons:?}",
            c.name
        );
    }
}

#[test]
fn reasons_are_chinese_unless_english_is_asked_for() {
    let turns = [(A, 6.5, 9.0, "您好，客服中心，请问有什么可以帮您？"), BYE];
    let zh = call(TUESDAY, Direction::Inbound, &turns);
    let late = zh.deductions.iter().find(|d| d.rule == "1.1").expect("1.1");
    assert_eq!(late.reason, "开头语于 6.5 秒开始（时限 5.0 秒）");
    let english = fixture().rubrics.clone().with_lang(Lang::En);
    assert_ne!(
        english.version,
        fixture().rubrics.version,
        "a rescore in English rewrites the reasons"
    );
    let en = scored(TUESDAY, Direction::Inbound, &turns, None, &english);
    let late = en.deductions.iter().find(|d| d.rule == "1.1").expect("1.1");
    assert_eq!(late.reason, "开头语 began at 6.5 s (limit 5.0 s)");
    assert_eq!(
        late.words,
        zh.deductions
            .iter()
            .find(|d| d.rule == "1.1")
            .expect("1.1")
            .words
    );
}

#[test]
fn every_lexicon_the_shipped_rubrics_use_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lex = Lexicons::load_dir(&root.join("lexicons")).unwrap_or_else(|e| panic!("{e}"));
    for sheet in &fixture().rubrics.sheets {
        for (line, rule, name) in sheet.lexicons_named() {
            assert!(
                lex.entries.iter().any(|e| e.category == name),
                "{}:{line}: rule {rule} uses lexicon {name}, which is missing",
                sheet.path.display()
            );
        }
    }
}

/// The README's detector table is the registry's: every detector and every parameter.
#[test]
fn the_readme_lists_every_detector_and_parameter() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("rubrics/README.md"))
            .expect("README");
    for d in detector_docs() {
        let row = readme
            .lines()
            .find(|l| l.starts_with(&format!("| `{}` |", d.name)))
            .unwrap_or_else(|| panic!("rubrics/README.md has no row for {}", d.name));
        for (key, _) in &d.params {
            assert!(
                row.contains(&format!("`{key}`")),
                "{}: {key} missing from {row}",
                d.name
            );
        }
    }
}
