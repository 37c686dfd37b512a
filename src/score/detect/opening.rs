//! Openings and closings (1.1, 1.3, 2.2, 2.3): when the agent first speaks, whether the
//! standard 欢迎语 / 结束语 and the day's greeting were said.
//!
//! Standard texts are compared by normalised character-level LCS ([`similarity`]) rather than
//! equality: Whisper drops and swaps characters and agents insert a company name, and LCS
//! ignores insertions while tolerating a few substitutions.

use chrono::Timelike;

use super::{secs, Call, Line, Params, Signal};
use crate::text::normalized;
use crate::Role;

/// Similarity of `said` to `standard` in [0, 1]: the share of the standard's characters that
/// appear, in order, in what was said (longest common subsequence over normalised text).
/// Whisper drops and swaps characters (客服→克服), so exact equality would fail good openings.
pub fn similarity(said: &str, standard: &str) -> f64 {
    let a: Vec<char> = normalized(said).chars().collect();
    let b: Vec<char> = normalized(standard).chars().collect();
    if b.is_empty() {
        return 0.0;
    }
    let mut prev = vec![0usize; b.len() + 1];
    for ca in &a {
        let mut cur = vec![0usize; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = if ca == cb {
                prev[j] + 1
            } else {
                cur[j].max(prev[j + 1])
            };
        }
        prev = cur;
    }
    prev[b.len()] as f64 / b.len() as f64
}

fn best_similarity(said: &str, standards: &[String]) -> f64 {
    standards
        .iter()
        .map(|s| similarity(said, s))
        .fold(0.0, f64::max)
}

/// Agent lines that start before `until_ms`, joined: the opening as said.
fn opening_text(lines: &[Line<'_>], until_ms: u64) -> (String, u64, u64) {
    let within: Vec<&Line<'_>> = lines.iter().filter(|l| l.start_ms < until_ms).collect();
    let text = within.iter().map(|l| l.text).collect::<String>();
    let start = within.first().map_or(0, |l| l.start_ms);
    let end = within.last().map_or(0, |l| l.end_ms);
    (text, start, end)
}

/// 1.1: the opening must start within `within_ms`, and the customer must not have said 喂
/// `hello_count` times before the agent speaks.
pub fn opening_latency(call: &Call<'_>, p: &Params<'_>) -> Vec<Signal> {
    let within = p.u64("within_ms", 5_000);
    let standards = p.list("standard");
    let threshold = p.f64("min_similarity", 0.6);
    let lexicon = p.str("lexicon", "开头语");
    let agent = call.lines(Role::Agent);
    let mut out = Vec::new();
    let Some(first) = agent.first() else {
        return out;
    };
    let opening_hits: Vec<usize> = call
        .hits_of(std::slice::from_ref(&lexicon), Some(Role::Agent))
        .into_iter()
        .filter(|&i| call.hits[i].start_ms < first.start_ms + 15_000)
        .collect();
    let (said, _, end) = opening_text(&agent, first.start_ms + 8_000);
    let sim = best_similarity(&said, &standards);
    if first.start_ms > within {
        out.push(Signal {
            reason: format!(
                "开头语 began at {} (limit {})",
                secs(first.start_ms),
                secs(within)
            ),
            start_ms: first.start_ms,
            end_ms: end,
            words: said.clone(),
            evidence: opening_hits.clone(),
            count: 1,
        });
    } else if opening_hits.is_empty() && sim < threshold {
        out.push(Signal {
            reason: format!(
                "no 开头语 within {} (similarity {:.2} to the standard, need {:.2})",
                secs(within),
                sim,
                threshold
            ),
            start_ms: first.start_ms,
            end_ms: end,
            words: said.clone(),
            evidence: Vec::new(),
            count: 1,
        });
    }
    let hello_count = p.u64("hello_count", 2) as usize;
    let before: Vec<Line<'_>> = call
        .lines(Role::Customer)
        .into_iter()
        .filter(|l| l.start_ms < first.start_ms)
        .collect();
    let hellos: usize = before.iter().map(|l| l.text.matches('喂').count()).sum();
    // Whisper often writes two quick 喂 as one; separate customer utterances before the agent
    // speaks count as separate calls for attention.
    if hellos >= 1 && hellos.max(before.len()) >= hello_count {
        out.push(Signal {
            reason: format!(
                "customer said 喂 {} times before the agent answered",
                hellos.max(before.len())
            ),
            start_ms: before.first().map_or(0, |l| l.start_ms),
            end_ms: first.start_ms,
            words: before.iter().map(|l| l.text).collect(),
            evidence: Vec::new(),
            count: 1,
        });
    }
    out
}

/// 1.3: the agent never speaks.
pub fn no_agent_speech(call: &Call<'_>, _: &Params<'_>) -> Vec<Signal> {
    if call.lines(Role::Agent).is_empty() && call.metrics.agent_talk_ms == 0 {
        vec![Signal {
            reason: "the agent never spoke".into(),
            start_ms: 0,
            end_ms: call.duration_ms(),
            words: String::new(),
            evidence: Vec::new(),
            count: 1,
        }]
    } else {
        Vec::new()
    }
}

/// 2.2: 早上好 before noon local time; the calendar's greeting on holidays (and weekends).
pub fn greeting_for_day(call: &Call<'_>, p: &Params<'_>) -> Vec<Signal> {
    let agent = call.lines(Role::Agent);
    let Some(first) = agent.first() else {
        return Vec::new();
    };
    let window = p.u64("window_ms", 15_000);
    let (said, start, end) = opening_text(&agent, first.start_ms + window);
    let said_n = normalized(&said);
    let mut out = Vec::new();
    let local = call.meta.started_at + chrono::Duration::milliseconds(first.start_ms as i64);
    if (local.hour() as u64) < p.u64("morning_before_hour", 12) {
        let lexicon = p.str("lexicon", "早安问候");
        let hits: Vec<usize> = call
            .hits_of(std::slice::from_ref(&lexicon), Some(Role::Agent))
            .into_iter()
            .filter(|&i| call.hits[i].start_ms <= first.start_ms + window)
            .collect();
        if hits.is_empty() {
            out.push(Signal {
                reason: format!(
                    "call at {} local time: no 早上好 in the opening",
                    local.format("%H:%M")
                ),
                start_ms: start,
                end_ms: end,
                words: said.clone(),
                evidence: Vec::new(),
                count: 1,
            });
        }
    }
    if let Some(day) = call.calendar.greeting_for(local.date_naive()) {
        let greeted = day
            .greetings
            .iter()
            .any(|g| said_n.contains(&normalized(g)));
        if !greeted {
            out.push(Signal {
                reason: format!(
                    "{} ({}): no holiday greeting such as {}",
                    day.occasion,
                    local.format("%Y-%m-%d"),
                    day.greetings.first().map_or("", String::as_str)
                ),
                start_ms: start,
                end_ms: end,
                words: said,
                evidence: Vec::new(),
                count: 1,
            });
        }
    }
    out
}

/// 2.3: the standard opening at the start, and the standard closing in the agent's last turns.
pub fn opening_closing(call: &Call<'_>, p: &Params<'_>) -> Vec<Signal> {
    let agent = call.lines(Role::Agent);
    let Some(first) = agent.first() else {
        return Vec::new();
    };
    let threshold = p.f64("min_similarity", 0.6);
    let mut out = Vec::new();
    let opening_lex = p.str("opening", "开头语");
    let (said, start, end) = opening_text(&agent, first.start_ms + 10_000);
    let sim = best_similarity(&said, &p.list("standard_opening"));
    let open_hits: Vec<usize> = call
        .hits_of(std::slice::from_ref(&opening_lex), Some(Role::Agent))
        .into_iter()
        .filter(|&i| call.hits[i].start_ms < first.start_ms + 10_000)
        .collect();
    if sim < threshold {
        out.push(Signal {
            reason: format!(
                "开头语 incomplete: similarity {sim:.2} to the standard, need {threshold:.2}"
            ),
            start_ms: start,
            end_ms: end,
            words: said,
            evidence: open_hits,
            count: 1,
        });
    }
    let last_turns = p.u64("last_turns", 2) as usize;
    let tail: Vec<&Line<'_>> = agent.iter().rev().take(last_turns.max(1)).collect();
    let tail_start = tail.last().map_or(0, |l| l.start_ms);
    let closing_said: String = tail.iter().rev().map(|l| l.text).collect();
    let closing_lex = p.str("closing", "结束语");
    let close_hits: Vec<usize> = call
        .hits_of(std::slice::from_ref(&closing_lex), Some(Role::Agent))
        .into_iter()
        .filter(|&i| call.hits[i].start_ms >= tail_start)
        .collect();
    let close_sim = best_similarity(&closing_said, &p.list("standard_closing"));
    if close_sim < threshold {
        let earlier = call
            .hits_of(std::slice::from_ref(&closing_lex), Some(Role::Agent))
            .into_iter()
            .filter(|&i| call.hits[i].start_ms < tail_start)
            .collect::<Vec<_>>();
        out.push(Signal {
            reason: if earlier.is_empty() {
                format!("结束语 missing from the agent's last turns (similarity {close_sim:.2})")
            } else {
                format!("结束语 said mid-call but not at the end (similarity {close_sim:.2} in the last turns)")
            },
            start_ms: tail_start,
            end_ms: tail.first().map_or(0, |l| l.end_ms),
            words: closing_said,
            evidence: if close_hits.is_empty() { earlier } else { close_hits },
            count: 1,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{Scene, A, C, WEDNESDAY};
    use crate::score::Calendar;

    const OPENING: &str = "您好，客服中心，请问有什么可以帮您？";
    const LATENCY: &str = "within_ms = 5000\nlexicon = \"开头语\"\nstandard = [\"您好，客服中心，请问有什么可以帮您？\"]\nmin_similarity = 0.6\nhello_count = 2";

    #[test]
    fn opening_latency_table() {
        type Case = (&'static str, Scene, usize);
        let cases: Vec<Case> = vec![
            (
                "standard opening on time",
                Scene::new(WEDNESDAY, &[(A, 800, 3500, OPENING)]),
                0,
            ),
            (
                "first words after 5 s",
                Scene::new(WEDNESDAY, &[(A, 6500, 9000, OPENING)]),
                1,
            ),
            (
                "on time but incomplete",
                Scene::new(WEDNESDAY, &[(A, 800, 1500, "客服中心。")]),
                1,
            ),
            (
                "a lexicon opening counts even if unlike the standard",
                Scene::new(WEDNESDAY, &[(A, 800, 3000, "欢迎致电，请讲。")]).hit(
                    A,
                    "开头语",
                    800,
                    1800,
                    "欢迎致电",
                ),
                0,
            ),
            (
                "customer said 喂 twice first",
                Scene::new(
                    WEDNESDAY,
                    &[
                        (C, 500, 800, "喂？"),
                        (C, 2000, 2300, "喂？"),
                        (A, 4000, 6500, OPENING),
                    ],
                ),
                1,
            ),
            (
                "one 喂 is patience, not a complaint",
                Scene::new(
                    WEDNESDAY,
                    &[(C, 500, 800, "喂？"), (A, 2000, 4500, OPENING)],
                ),
                0,
            ),
        ];
        for (name, scene, want) in cases {
            let got = scene.run("opening_latency", LATENCY);
            assert_eq!(got.len(), want, "{name}: {got:?}");
        }
    }

    #[test]
    fn no_agent_speech_table() {
        let silent = Scene::new(WEDNESDAY, &[(C, 500, 900, "喂？"), (C, 3000, 3400, "喂？")]);
        assert_eq!(silent.run("no_agent_speech", "").len(), 1);
        let spoke = Scene::new(WEDNESDAY, &[(A, 500, 3000, OPENING)]);
        assert!(spoke.run("no_agent_speech", "").is_empty());
    }

    fn calendar() -> Calendar {
        let mut cal = Calendar::default();
        cal.add(
            std::path::Path::new("calendars/t.toml"),
            "[[holiday]]\nname = \"国庆\"\ndates = [\"2026-10-03\"]\ngreetings = [\"国庆快乐\"]\n",
        )
        .expect("calendar");
        cal
    }

    #[test]
    fn greeting_for_day_table() {
        const P: &str = "morning_before_hour = 12\nlexicon = \"早安问候\"\nwindow_ms = 15000";
        let morning_good = "早上好！您好，客服中心，请问有什么可以帮您？";
        let cases: Vec<(&str, Scene, usize)> = vec![
            (
                "morning without 早上好",
                Scene::new("2026-11-18T09:00:00+08:00", &[(A, 800, 3500, OPENING)]),
                1,
            ),
            (
                "morning with 早上好",
                Scene::new("2026-11-18T09:00:00+08:00", &[(A, 800, 3500, morning_good)]).hit(
                    A,
                    "早安问候",
                    800,
                    1300,
                    "早上好",
                ),
                0,
            ),
            (
                "afternoon",
                Scene::new(WEDNESDAY, &[(A, 800, 3500, OPENING)]),
                0,
            ),
            // Rings at 11:59:58, the agent opens at 12:00:01: afternoon by the time it matters.
            (
                "call crossing noon",
                Scene::new("2026-11-18T11:59:58+08:00", &[(A, 3000, 5500, OPENING)]),
                0,
            ),
            (
                "holiday on a Saturday without its greeting",
                Scene::new("2026-10-03T15:00:00+08:00", &[(A, 800, 3500, OPENING)])
                    .calendar(calendar()),
                1,
            ),
            (
                "holiday on a Saturday with its greeting",
                Scene::new(
                    "2026-10-03T15:00:00+08:00",
                    &[(A, 800, 3500, "国庆快乐！客服中心，请问有什么可以帮您？")],
                )
                .calendar(calendar()),
                0,
            ),
        ];
        for (name, scene, want) in cases {
            let got = scene.run("greeting_for_day", P);
            assert_eq!(got.len(), want, "{name}: {got:?}");
        }
    }

    #[test]
    fn opening_closing_table() {
        const P: &str = "opening = \"开头语\"\nclosing = \"结束语\"\nstandard_opening = [\"您好，客服中心，请问有什么可以帮您？\"]\nstandard_closing = [\"祝您心情愉快，再见！\"]\nmin_similarity = 0.6\nlast_turns = 2";
        let bye = "不客气，祝您心情愉快，再见！";
        let cases: Vec<(&str, Scene, Vec<&str>)> = vec![
            (
                "both complete",
                Scene::new(WEDNESDAY, &[(A, 800, 3500, OPENING), (A, 9000, 12000, bye)]),
                vec![],
            ),
            (
                "no closing",
                Scene::new(
                    WEDNESDAY,
                    &[(A, 800, 3500, OPENING), (A, 9000, 12000, "好的。")],
                ),
                vec!["结束语 missing"],
            ),
            (
                "closing said mid-call, then the call goes on",
                Scene::new(
                    WEDNESDAY,
                    &[
                        (A, 800, 3500, OPENING),
                        (A, 9000, 12000, bye),
                        (C, 13000, 15000, "等一下，还有个问题。"),
                        (A, 16000, 18000, "您说。"),
                        (A, 25000, 27000, "好的，已经处理了。"),
                    ],
                )
                .hit(A, "结束语", 9500, 12000, "祝您心情愉快，再见"),
                vec!["结束语 said mid-call"],
            ),
            (
                "opening without 您好 and the question",
                Scene::new(
                    WEDNESDAY,
                    &[(A, 800, 1500, "客服中心。"), (A, 9000, 12000, bye)],
                ),
                vec!["开头语 incomplete"],
            ),
        ];
        for (name, scene, want) in cases {
            let got = scene.run("opening_closing", P);
            assert_eq!(got.len(), want.len(), "{name}: {got:?}");
            for (g, w) in got.iter().zip(&want) {
                assert!(g.reason.starts_with(w), "{name}: {}", g.reason);
            }
        }
    }
}
