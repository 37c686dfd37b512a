//! Timing (1.2, 4.4, 7.1, 2.4, 3.1, 4.7): unanswered questions, holds and their etiquette,
//! speech rate and interruptions, from segment times.
//!
//! Holds are gaps between the agent's own turns in which the customer talks less than a third
//! of the time, not dead air: a customer's 「喂？」 during a hold ends the dead air but not the
//! hold.

use super::{secs, Call, Line, Params, Signal};
use crate::text::normalized;
use crate::Role;

fn is_question(text: &str) -> bool {
    let t = text.trim_end_matches(|c: char| c.is_whitespace());
    t.ends_with('?')
        || t.ends_with('？')
        || ["吗", "呢", "么", "没有", "怎么办", "多少", "什么"]
            .iter()
            .any(|q| normalized(t).ends_with(q))
}

/// 1.2 / 4.4 / 7.1: a customer question followed by at least `min_silence_ms` without agent
/// speech (and, with `until_end`, none until the call ends).
pub fn unanswered_question(call: &Call<'_>, p: &Params<'_>) -> Vec<Signal> {
    let min = p.u64("min_silence_ms", 15_000);
    let until_end = p.bool("until_end", false);
    let agent = call.lines(Role::Agent);
    let end = call.duration_ms();
    let mut out = Vec::new();
    for q in call
        .lines(Role::Customer)
        .iter()
        .filter(|l| is_question(l.text))
    {
        let next = agent
            .iter()
            .find(|a| a.start_ms >= q.end_ms.saturating_sub(200));
        let answered_at = next.map_or(end, |a| a.start_ms);
        let silent = answered_at.saturating_sub(q.end_ms);
        if silent >= min && (!until_end || next.is_none()) {
            out.push(Signal {
                reason: format!(
                    "customer question unanswered for {}{}",
                    secs(silent),
                    if next.is_none() {
                        " until the call ended"
                    } else {
                        ""
                    }
                ),
                start_ms: q.start_ms,
                end_ms: answered_at,
                words: q.text.to_string(),
                evidence: Vec::new(),
                count: 1,
            });
        }
    }
    out
}

/// 2.4: every hold (agent silent ≥ `min_hold_ms` between two of its turns while the customer
/// mostly waits) is announced before with `before` and thanked after with `after`.
pub fn hold_etiquette(call: &Call<'_>, p: &Params<'_>) -> Vec<Signal> {
    let min_hold = p.u64("min_hold_ms", 10_000);
    let look = p.u64("look_ms", 15_000);
    let before = call.hits_of(&[p.str("before", "请稍等")], Some(Role::Agent));
    let after = call.hits_of(&[p.str("after", "久等致谢")], Some(Role::Agent));
    let agent = call.lines(Role::Agent);
    let customer = call.lines(Role::Customer);
    let mut out = Vec::new();
    for pair in agent.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let gap = b.start_ms.saturating_sub(a.end_ms);
        if gap < min_hold {
            continue;
        }
        let customer_talk: u64 = customer
            .iter()
            .map(|c| {
                c.end_ms
                    .min(b.start_ms)
                    .saturating_sub(c.start_ms.max(a.end_ms))
            })
            .sum();
        // The customer talking through the gap is a conversation, not a hold.
        if customer_talk * 3 > gap {
            continue;
        }
        let announced: Vec<usize> = before
            .iter()
            .copied()
            .filter(|&i| {
                let h = &call.hits[i];
                h.end_ms <= a.end_ms + 500 && h.start_ms + look >= a.end_ms
            })
            .collect();
        let thanked: Vec<usize> = after
            .iter()
            .copied()
            .filter(|&i| {
                let h = &call.hits[i];
                h.start_ms + 500 >= b.start_ms && h.start_ms <= b.start_ms + look
            })
            .collect();
        let mut missing = Vec::new();
        if announced.is_empty() {
            missing.push("请您稍等 before it");
        }
        if thanked.is_empty() {
            missing.push("让您久等了 / 谢谢您的耐心等待 after it");
        }
        if !missing.is_empty() {
            out.push(Signal {
                reason: format!("hold of {} without {}", secs(gap), missing.join(" or ")),
                start_ms: a.end_ms,
                end_ms: b.start_ms,
                words: format!("{} … {}", a.text, b.text),
                evidence: announced.into_iter().chain(thanked).collect(),
                count: 1,
            });
        }
    }
    out
}

/// 3.1: characters per second of agent speech, mean and variability across turns.
pub fn speech_rate(call: &Call<'_>, p: &Params<'_>) -> Vec<Signal> {
    let rates: Vec<(f64, Line<'_>)> = call
        .lines(Role::Agent)
        .into_iter()
        .filter(|l| l.end_ms > l.start_ms + 500)
        .map(|l| {
            let chars = normalized(l.text).chars().count() as f64;
            (chars * 1000.0 / (l.end_ms - l.start_ms) as f64, l)
        })
        .collect();
    if rates.len() < 2 {
        return Vec::new();
    }
    let n = rates.len() as f64;
    let mean = rates.iter().map(|(r, _)| r).sum::<f64>() / n;
    let var = rates.iter().map(|(r, _)| (r - mean).powi(2)).sum::<f64>() / n;
    let cv = if mean > 0.0 { var.sqrt() / mean } else { 0.0 };
    let (lo, hi, max_cv) = (
        p.f64("min_cps", 2.0),
        p.f64("max_cps", 7.0),
        p.f64("max_cv", 0.6),
    );
    if mean >= lo && mean <= hi && cv <= max_cv {
        return Vec::new();
    }
    vec![Signal {
        reason: format!("agent speech rate {mean:.1} chars/s (normal {lo}–{hi}), variability {cv:.2} (limit {max_cv})"),
        start_ms: rates[0].1.start_ms,
        end_ms: rates[rates.len() - 1].1.end_ms,
        words: String::new(),
        evidence: Vec::new(),
        count: 1,
    }]
}

/// 4.7: the agent starts talking while the customer is speaking (back-channels excluded).
pub fn interruptions(call: &Call<'_>, p: &Params<'_>) -> Vec<Signal> {
    let min_overlap = p.u64("min_overlap_ms", 500);
    let backchannels: Vec<String> = p
        .list("backchannels")
        .iter()
        .map(|b| normalized(b))
        .collect();
    let customer = call.lines(Role::Customer);
    let mut found = Vec::new();
    for a in call.lines(Role::Agent) {
        if backchannels.contains(&normalized(a.text)) {
            continue;
        }
        if let Some(c) = customer
            .iter()
            .find(|c| c.start_ms < a.start_ms && c.end_ms >= a.start_ms + min_overlap)
        {
            found.push(Signal {
                reason: format!(
                    "agent started at {} while the customer was speaking",
                    secs(a.start_ms)
                ),
                start_ms: a.start_ms,
                end_ms: a.end_ms.min(c.end_ms),
                words: format!("{} / {}", c.text, a.text),
                evidence: Vec::new(),
                count: 1,
            });
        }
    }
    if found.len() < p.u64("min_count", 2) as usize {
        found.clear();
    }
    found
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{Scene, A, C, WEDNESDAY};

    #[test]
    fn unanswered_question_table() {
        const REVIEW: &str = "min_silence_ms = 15000\nuntil_end = false";
        const IGNORED: &str = "min_silence_ms = 120000\nuntil_end = true";
        let q = (C, 1000, 3000, "我的宽带怎么又断了？");
        let cases: Vec<(&str, Scene, &str, usize)> = vec![
            (
                "answered at once",
                Scene::new(WEDNESDAY, &[q, (A, 4000, 6000, "我帮您看一下。")]),
                REVIEW,
                0,
            ),
            (
                "answered after 20 s",
                Scene::new(WEDNESDAY, &[q, (A, 23000, 25000, "我帮您看一下。")]),
                REVIEW,
                1,
            ),
            (
                "a statement is not a question",
                Scene::new(
                    WEDNESDAY,
                    &[(C, 1000, 3000, "宽带断了。"), (A, 23000, 25000, "好的。")],
                ),
                REVIEW,
                0,
            ),
            (
                "2 min then the call ends",
                Scene::new(
                    WEDNESDAY,
                    &[(A, 0, 900, "您好。"), q, (C, 124000, 125000, "…")],
                ),
                IGNORED,
                1,
            ),
            (
                "2 min but the agent came back",
                Scene::new(WEDNESDAY, &[q, (A, 124000, 126000, "让您久等了。")]),
                IGNORED,
                0,
            ),
        ];
        for (name, scene, params, want) in cases {
            let got = scene.run("unanswered_question", params);
            assert_eq!(got.len(), want, "{name}: {got:?}");
        }
    }

    #[test]
    fn hold_etiquette_table() {
        const P: &str =
            "min_hold_ms = 10000\nbefore = \"请稍等\"\nafter = \"久等致谢\"\nlook_ms = 15000";
        let before = (A, 1000, 3000, "请您稍等，我查一下。");
        let after = (A, 16000, 18000, "让您久等了。");
        let both = || {
            Scene::new(WEDNESDAY, &[before, after])
                .hit(A, "请稍等", 1000, 2000, "请您稍等")
                .hit(A, "久等致谢", 16000, 17500, "让您久等了")
        };
        let cases: Vec<(&str, Scene, usize)> = vec![
            ("announced and thanked", both(), 0),
            (
                "neither",
                Scene::new(
                    WEDNESDAY,
                    &[(A, 1000, 3000, "我查一下。"), (A, 16000, 18000, "查到了。")],
                ),
                1,
            ),
            (
                "announced, not thanked",
                Scene::new(WEDNESDAY, &[before, (A, 16000, 18000, "查到了。")]).hit(
                    A,
                    "请稍等",
                    1000,
                    2000,
                    "请您稍等",
                ),
                1,
            ),
            (
                "a short pause is no hold",
                Scene::new(
                    WEDNESDAY,
                    &[(A, 1000, 3000, "我查一下。"), (A, 6000, 8000, "查到了。")],
                ),
                0,
            ),
            (
                "the customer talks through the gap: a conversation",
                Scene::new(
                    WEDNESDAY,
                    &[
                        (A, 1000, 3000, "您说。"),
                        (C, 3500, 15000, "是这样的，我上个月……"),
                        (A, 16000, 18000, "明白了。"),
                    ],
                ),
                0,
            ),
        ];
        for (name, scene, want) in cases {
            let got = scene.run("hold_etiquette", P);
            assert_eq!(got.len(), want, "{name}: {got:?}");
        }
    }

    #[test]
    fn speech_rate_and_interruptions_table() {
        const RATE: &str = "min_cps = 2.0\nmax_cps = 7.0\nmax_cv = 0.6";
        let normal = Scene::new(
            WEDNESDAY,
            &[
                (A, 0, 4000, "您好，客服中心，请问有什么可以帮您？"),
                (A, 5000, 8000, "好的，我帮您查一下。"),
            ],
        );
        assert!(normal.run("speech_rate", RATE).is_empty());
        let rushed = Scene::new(
            WEDNESDAY,
            &[
                (A, 0, 1000, "您好客服中心请问有什么可以帮您"),
                (A, 2000, 3000, "好的我帮您查一下余额马上"),
            ],
        );
        assert_eq!(rushed.run("speech_rate", RATE).len(), 1);

        const CUT: &str = "min_overlap_ms = 500\nbackchannels = [\"嗯\", \"对\"]\nmin_count = 2";
        let talking = (
            C,
            1000,
            9000,
            "我上个月的账单里面多了一笔钱，我也不知道是什么。",
        );
        let cut_twice = Scene::new(
            WEDNESDAY,
            &[
                talking,
                (A, 3000, 4000, "那是流量费。"),
                (A, 6000, 7000, "您听我说。"),
            ],
        );
        assert_eq!(cut_twice.run("interruptions", CUT).len(), 2);
        let backchannel = Scene::new(
            WEDNESDAY,
            &[talking, (A, 3000, 3300, "嗯"), (A, 6000, 6300, "对")],
        );
        assert!(backchannel.run("interruptions", CUT).is_empty());
        let once = Scene::new(WEDNESDAY, &[talking, (A, 3000, 4000, "那是流量费。")]);
        assert!(once.run("interruptions", CUT).is_empty(), "below min_count");
    }
}
