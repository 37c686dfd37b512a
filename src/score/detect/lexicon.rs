//! Lexicon families (4.1, 4.2, 4.6, 5.x, 7.x, 8.x, 2.5, 3.2, 9.2): hits of named lexicons by
//! role, their rate per agent minute, and personal numbers in the agent's speech.
//!
//! Rates are per minute of agent speech, not of the call, so a long hold does not dilute an
//! agent's fillers.

use super::registry::{LexiconHits, LexiconRate, PersonalNumbers};
use super::{Call, Signal};
use crate::Role;

/// 4.1 / 4.2 / 4.6 / 5.x / 7.x: hits of the listed lexicons by the given role, at least
/// `min_count` of them.
pub fn lexicon_hits(call: &Call<'_>, p: &LexiconHits) -> Vec<Signal> {
    let hits = call.hits_of(&p.categories, p.role.role());
    if (hits.len() as u64) < p.min_count || hits.is_empty() {
        return Vec::new();
    }
    hits.iter()
        .map(|&i| {
            let h = &call.hits[i];
            Signal::new(hit_reason(call, h), h.start_ms, h.end_ms, h.text.clone()).evidence(vec![i])
        })
        .collect()
}

/// `反问 「你听懂了吗」 (反问:6)`; a phonetic hit also names the phrase it sounds like:
/// `愤怒 「信不信有你」 (愤怒:29, homophone of 「信不信由你。」, similarity 1.00)`.
fn hit_reason(call: &Call<'_>, h: &crate::Hit) -> String {
    if h.kind == crate::scan::MatchKind::Exact {
        return format!("{} 「{}」 ({})", h.category, h.text, h.rule);
    }
    let zh_kind = match h.kind {
        crate::scan::MatchKind::Homophone => "同音",
        _ => "近音",
    };
    call.say(
        format!(
            "{} 「{}」 ({}，与「{}」{zh_kind}，相似度 {:.2})",
            h.category, h.text, h.rule, h.phrase, h.similarity
        ),
        format!(
            "{} 「{}」 ({}, {} of 「{}」, similarity {:.2})",
            h.category,
            h.text,
            h.rule,
            h.kind.as_str(),
            h.phrase,
            h.similarity
        ),
    )
}

fn agent_minutes(call: &Call<'_>) -> f64 {
    let from_lines: u64 = call
        .lines(Role::Agent)
        .iter()
        .map(|l| l.end_ms.saturating_sub(l.start_ms))
        .sum();
    (call.metrics.agent_talk_ms.max(from_lines) as f64 / 60_000.0).max(1.0 / 60.0)
}

/// 2.5 / 3.2 / 8.7: hits of the listed lexicons per minute of agent speech above `per_minute`.
pub fn lexicon_rate(call: &Call<'_>, p: &LexiconRate) -> Vec<Signal> {
    let hits = call.hits_of(&p.categories, Some(Role::Agent));
    let minutes = agent_minutes(call);
    let rate = hits.len() as f64 / minutes;
    let limit = p.per_minute;
    if hits.is_empty() || rate <= limit {
        return Vec::new();
    }
    let first = &call.hits[hits[0]];
    let last = &call.hits[hits[hits.len() - 1]];
    let rate = (rate * 10.0).round() / 10.0;
    let mut signal = Signal::new(
        call.say(
            format!("坐席每分钟 {rate} 次（上限 {limit}）"),
            format!("{rate} per agent minute (limit {limit})"),
        ),
        first.start_ms,
        last.end_ms,
        hits.iter()
            .map(|&i| call.hits[i].text.as_str())
            .collect::<Vec<_>>()
            .join("、"),
    )
    .evidence(hits.clone());
    signal.count = hits.len();
    vec![signal]
}

/// 9.2: the agent reads out an 11-digit mobile number, an ID-card number or a bank-card number.
/// The number's time is interpolated by character position within its segment: external
/// transcripts carry no token times, and a segment is short enough for that to land on it.
pub fn personal_numbers(call: &Call<'_>, _: &PersonalNumbers) -> Vec<Signal> {
    let mut out = Vec::new();
    for l in call.lines(Role::Agent) {
        let chars: Vec<char> = l.text.chars().collect();
        let at = |c: usize| {
            l.start_ms
                + (l.end_ms.saturating_sub(l.start_ms)) * c as u64 / chars.len().max(1) as u64
        };
        for (start, end, kind) in crate::text::redact::personal_numbers(l.text) {
            let zh = match kind {
                "mobile number" => "手机号",
                "ID-card number" => "身份证号",
                _ => "银行卡号",
            };
            out.push(Signal::new(
                call.say(format!("坐席报出{zh}"), format!("agent spoke a {kind}")),
                at(start),
                at(end),
                chars[start..end].iter().collect(),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{Scene, A, C, WEDNESDAY};

    #[test]
    fn lexicon_hits_table() {
        const AGENT: &str = "categories = [\"反问\"]\nrole = \"agent\"\nmin_count = 1";
        const CUSTOMER_TWICE: &str =
            "categories = [\"要求升级\"]\nrole = \"customer\"\nmin_count = 2";
        let turns = [
            (A, 1000, 4000, "不是跟你说了吗？你听懂了吗？"),
            (C, 5000, 7000, "我找你们领导。"),
        ];
        let two_in_one = Scene::new(WEDNESDAY, &turns)
            .hit(A, "反问", 1000, 2200, "不是跟你说了吗")
            .hit(A, "反问", 2500, 3600, "你听懂了吗");
        assert_eq!(
            two_in_one.run("lexicon_hits", AGENT).len(),
            2,
            "two 反问 in one sentence count twice"
        );
        let by_customer =
            Scene::new(WEDNESDAY, &turns).hit(C, "反问", 5000, 6000, "不是跟你说了吗");
        assert!(
            by_customer.run("lexicon_hits", AGENT).is_empty(),
            "the customer's words never count"
        );
        let once = Scene::new(WEDNESDAY, &turns).hit(C, "要求升级", 5000, 7000, "找你们领导");
        assert!(once.run("lexicon_hits", CUSTOMER_TWICE).is_empty());
        let twice = once.hit(C, "要求升级", 8000, 9000, "找你们领导");
        assert_eq!(twice.run("lexicon_hits", CUSTOMER_TWICE).len(), 2);
    }

    #[test]
    fn lexicon_rate_table() {
        const P: &str = "categories = [\"语气词\"]\nper_minute = 3.0";
        let minute = [(A, 0, 60_000, "那个，这个，啊，那个，就是那个。")];
        let mut many = Scene::new(WEDNESDAY, &minute);
        for i in 0..4 {
            many = many.hit(A, "语气词", i * 1000, i * 1000 + 300, "那个");
        }
        let got = many.run("lexicon_rate", P);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].count, 4);
        let few = Scene::new(WEDNESDAY, &minute)
            .hit(A, "语气词", 0, 300, "那个")
            .hit(A, "语气词", 1000, 1300, "这个");
        assert!(few.run("lexicon_rate", P).is_empty());
    }

    #[test]
    fn personal_numbers_table() {
        let cases = [
            ("他的手机号是13812345678。", 1),
            ("身份证号110101199003074514。", 1),
            ("您的余额是五十元。", 0),
            ("工单号是2026。", 0),
        ];
        for (text, want) in cases {
            let scene = Scene::new(WEDNESDAY, &[(A, 0, 5000, text)]);
            assert_eq!(scene.run("personal_numbers", "").len(), want, "{text}");
        }
        let span = Scene::new(WEDNESDAY, &[(A, 0, 2000, "号码是13812345678吗")])
            .run("personal_numbers", "");
        assert_eq!(span[0].words, "13812345678");
        assert_eq!((span[0].start_ms, span[0].end_ms), (400, 1866));
        let customer = Scene::new(WEDNESDAY, &[(C, 0, 5000, "我的手机号是13812345678。")]);
        assert!(customer.run("personal_numbers", "").is_empty());
    }

    /// Exact and homophone hits of 服务禁语 deduct item 4; a near hit only becomes a finding
    /// naming the phrase it sounds like (shipped rubric and lexicons).
    #[test]
    fn near_hits_are_findings_homophones_deduct() {
        use crate::scan::{Lexicons, Scanner};
        use crate::score::{score_call, Calendar, Rubrics};
        use crate::{AgentChannel, CallMeta, CallMetrics, Direction, Role, Segment, Transcript};
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let lex = Lexicons::load_dir(&root.join("lexicons")).expect("shipped lexicons");
        let scanner = Scanner::new(&lex).expect("scanner");
        let rubrics = Rubrics::load_dir(&root.join("rubrics")).expect("shipped rubrics");
        let meta = CallMeta {
            call_id: "t".into(),
            audio: "t.wav".into(),
            agent_id: "A1".into(),
            started_at: chrono::DateTime::parse_from_rfc3339(WEDNESDAY).expect("time"),
            direction: Direction::Inbound,
            agent_channel: AgentChannel::Left,
            extra: Default::default(),
        };
        let score = |said: &str| {
            let transcripts =
                Transcript::by_role([(Role::Agent, Segment::text_only(1000, 4000, said))]);
            let hits = transcripts
                .iter()
                .flat_map(|t| scanner.scan_transcript(t))
                .collect();
            let metrics = CallMetrics {
                duration_ms: 5000,
                ..CallMetrics::default()
            };
            score_call(
                &meta,
                &transcripts,
                &metrics,
                hits,
                &rubrics,
                &Calendar::default(),
            )
        };
        let deducted = |r: &crate::CallResult| r.deductions.iter().any(|d| d.rule == "4.1");
        let flagged = |r: &crate::CallResult| r.findings.iter().find(|f| f.rule == "4.1").cloned();

        let homophone = score("信不信有你。");
        assert!(deducted(&homophone), "{:#?}", homophone.deductions);

        let near = score("不买一你可以投诉我啊。");
        assert!(!deducted(&near), "{:#?}", near.deductions);
        let finding = flagged(&near).expect("near hit becomes a finding");
        assert!(
            finding.reason.contains("与「不满意你可以投诉我啊。」近音"),
            "{}",
            finding.reason
        );
    }
}
