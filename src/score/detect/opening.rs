//! Openings and closings (1.1, 1.3, 2.2, 2.3): when the 开头语 starts, whether the standard
//! 欢迎语 / 结束语 and the day's greeting were said, whole.
//!
//! Standard texts are compared by normalised character-level LCS ([`similarity`]) rather than
//! equality: Whisper drops and swaps characters and agents insert a company name, and LCS
//! ignores insertions while tolerating a few substitutions. Similarity alone would pass an
//! opening without its 您好 (0.87), and 001:138 allows no variation in openings and closings,
//! so the parts every opening and closing must contain (`opening_parts`, `closing_parts`) are
//! checked on their own.

use chrono::Timelike;
use serde::{Deserialize, Serialize};

use super::registry::{fraction, one_or_many, Params};
use super::{heard, miao, secs, Call, Line, Signal};
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

/// The best likeness to any standard, on characters or on sound (刻服中心 for 客服中心).
fn best_similarity(said: &str, standards: &[String]) -> f64 {
    standards
        .iter()
        .map(|s| similarity(said, s).max(crate::text::phonetic::similarity(said, s)))
        .fold(0.0, f64::max)
}

/// Whether `said` contains `part` (alternatives as `a|b`), exactly or by sound.
fn contains_part(said: &str, part: &str) -> bool {
    heard(said, std::slice::from_ref(&part.to_string()))
}

/// Agent lines that start in [from, until), joined: the opening as said.
fn text_between(lines: &[Line<'_>], from_ms: u64, until_ms: u64) -> (String, u64, u64) {
    let within: Vec<&Line<'_>> = lines
        .iter()
        .filter(|l| l.start_ms >= from_ms && l.start_ms < until_ms)
        .collect();
    let text = within.iter().map(|l| l.text).collect::<String>();
    let start = within.first().map_or(0, |l| l.start_ms);
    let end = within.last().map_or(0, |l| l.end_ms);
    (text, start, end)
}

/// Parameters of [`opening_latency`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OpeningLatency {
    pub within_ms: u64,
    pub lexicon: String,
    pub standard: Vec<String>,
    pub min_similarity: f64,
    pub hello_count: u64,
    /// How far after the agent's first words the opening is looked for.
    pub search_ms: u64,
}

impl Default for OpeningLatency {
    fn default() -> Self {
        OpeningLatency {
            within_ms: 5_000,
            lexicon: "开头语".into(),
            standard: Vec::new(),
            min_similarity: 0.6,
            hello_count: 2,
            search_ms: 15_000,
        }
    }
}

impl Params for OpeningLatency {
    fn lexicons(&self) -> Vec<String> {
        vec![self.lexicon.clone()]
    }
    fn validate(&self) -> Result<(), String> {
        fraction("min_similarity", self.min_similarity)
    }
}

/// When the opening itself starts: the first opening-lexicon hit, or the first agent line that
/// (with the lines of the next 8 s) is like a standard text.
fn opening_start(
    call: &Call<'_>,
    p: &OpeningLatency,
    agent: &[Line<'_>],
) -> Option<(u64, Vec<usize>)> {
    let first = agent.first()?;
    let until = first.start_ms + p.search_ms;
    let hits = call.hits_in(&p.lexicon, Role::Agent, 0, until);
    let by_hit = hits.first().map(|&i| call.hits[i].start_ms);
    // A line starts the opening when the text from it on is like a standard and the line itself
    // adds to the likeness: a 「喂？」 before the opening adds nothing and is not its start.
    let like_from = |from_ms: u64| {
        let (said, _, _) = text_between(agent, from_ms, from_ms + 8_000);
        best_similarity(&said, &p.standard)
    };
    let by_text = agent
        .windows(2)
        .map(|w| (w[0].start_ms, Some(w[1].start_ms)))
        .chain(agent.last().map(|l| (l.start_ms, None)))
        .filter(|(start, _)| *start < until)
        .find(|&(start, next)| {
            let sim = like_from(start);
            sim >= p.min_similarity && next.is_none_or(|n| sim > like_from(n))
        })
        .map(|(start, _)| start);
    let start = [by_hit, by_text].into_iter().flatten().min()?;
    Some((start, hits))
}

/// 1.1: the opening must *start* within `within_ms` (a 「喂」 on time followed by the opening
/// later is late), and the customer must not have said 喂 `hello_count` times before the agent
/// answered.
pub fn opening_latency(call: &Call<'_>, p: &OpeningLatency) -> Vec<Signal> {
    let agent = call.lines(Role::Agent);
    let mut out = Vec::new();
    let Some(first) = agent.first() else {
        return out;
    };
    match opening_start(call, p, &agent) {
        Some((start, hits)) if start > p.within_ms => {
            let (said, _, end) = text_between(&agent, start, start + 8_000);
            out.push(
                Signal::new(
                    call.say(
                        format!("开头语于 {}开始（时限 {}）", miao(start), miao(p.within_ms)),
                        format!(
                            "开头语 began at {} (limit {})",
                            secs(start),
                            secs(p.within_ms)
                        ),
                    ),
                    start,
                    end,
                    said,
                )
                .evidence(hits),
            );
        }
        Some(_) => {}
        None => {
            let (said, start, end) = text_between(&agent, 0, first.start_ms + p.search_ms);
            let sim = best_similarity(&said, &p.standard);
            out.push(Signal::new(
                call.say(
                    format!(
                        "未报读开头语（与标准开头语相似度 {sim:.2}，需 {:.2}）",
                        p.min_similarity
                    ),
                    format!(
                        "no 开头语 (similarity {sim:.2} to the standard, need {:.2})",
                        p.min_similarity
                    ),
                ),
                start,
                end,
                said,
            ));
        }
    }
    out.extend(hellos(call, p, first.start_ms));
    out
}

/// 「喂」了两声: every 喂 the customer said before the agent answered, 「喂喂」 in one segment
/// counting twice.
fn hellos(call: &Call<'_>, p: &OpeningLatency, answered_ms: u64) -> Option<Signal> {
    let before: Vec<Line<'_>> = call
        .lines(Role::Customer)
        .into_iter()
        .filter(|l| l.start_ms < answered_ms)
        .collect();
    let count = before
        .iter()
        .map(|l| l.text.matches('喂').count())
        .sum::<usize>();
    (count > 0 && count as u64 >= p.hello_count).then(|| {
        Signal::new(
            call.say(
                format!("客户“喂”了 {count} 声后坐席才应答（{}）", miao(answered_ms)),
                format!(
                    "customer said 喂 {count} times before the agent answered at {}",
                    secs(answered_ms)
                ),
            ),
            before.first().map_or(0, |l| l.start_ms),
            answered_ms,
            before.iter().map(|l| l.text).collect(),
        )
    })
}

/// Parameters of [`no_agent_speech`]: none.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NoAgentSpeech {}

impl Params for NoAgentSpeech {
    fn lexicons(&self) -> Vec<String> {
        Vec::new()
    }
}

/// 1.3: the agent never speaks.
pub fn no_agent_speech(call: &Call<'_>, _: &NoAgentSpeech) -> Vec<Signal> {
    if call.lines(Role::Agent).is_empty() && call.metrics.agent_talk_ms == 0 {
        vec![Signal::new(
            call.say("客服代表全程无应答".into(), "the agent never spoke".into()),
            0,
            call.duration_ms(),
            String::new(),
        )]
    } else {
        Vec::new()
    }
}

/// Parameters of [`greeting_for_day`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GreetingForDay {
    pub morning_before_hour: u32,
    pub lexicon: String,
    pub holiday_lexicon: String,
    /// The 欢迎语 lexicon: 早上好 must come before it (001:138 「在欢迎语前」).
    pub opening: String,
    pub window_ms: u64,
    /// 早上好 as heard, for when Whisper half-heard it and the lexicon has no hit.
    pub morning_sounds: Vec<String>,
}

impl Default for GreetingForDay {
    fn default() -> Self {
        GreetingForDay {
            morning_before_hour: 12,
            lexicon: "早安问候".into(),
            holiday_lexicon: "节日问候".into(),
            opening: "开头语".into(),
            window_ms: 15_000,
            morning_sounds: vec!["早上好".into()],
        }
    }
}

impl Params for GreetingForDay {
    fn lexicons(&self) -> Vec<String> {
        vec![
            self.lexicon.clone(),
            self.holiday_lexicon.clone(),
            self.opening.clone(),
        ]
    }
    fn validate(&self) -> Result<(), String> {
        if self.morning_before_hour > 24 {
            return Err("morning_before_hour must be an hour from 0 to 24, e.g. 12".into());
        }
        Ok(())
    }
}

/// 2.2: the calendar's greeting on holidays and weekends; on a holiday it replaces 早上好
/// (001:140 prescribes the whole holiday opening, 「新年好!XX客服中心…」). Otherwise before
/// `morning_before_hour`, 早上好 before the 欢迎语.
pub fn greeting_for_day(call: &Call<'_>, p: &GreetingForDay) -> Vec<Signal> {
    let agent = call.lines(Role::Agent);
    let Some(first) = agent.first() else {
        return Vec::new();
    };
    let until = first.start_ms + p.window_ms;
    let (said, start, end) = text_between(&agent, 0, until);
    let local = local_time(call, first.start_ms);
    let day = call.calendar.greeting_for(local.date_naive());
    if let Some(day) = &day {
        let greeted = day.greetings.iter().any(|g| contains_part(&said, g));
        if !greeted {
            // A greeting of the lexicon that is not the day's (国庆快乐 at 中秋) is named as
            // the evidence: the agent greeted, wrongly.
            let other = call.hits_in(&p.holiday_lexicon, Role::Agent, 0, until);
            let wanted = day.greetings.join("」或「");
            let (zh, en) = match other.first() {
                Some(&h) => (
                    format!("，说的是「{}」", call.hits[h].text),
                    format!(", said 「{}」", call.hits[h].text),
                ),
                None => (String::new(), String::new()),
            };
            return vec![Signal::new(
                call.say(
                    format!("{}：开头语中没有节日问候「{wanted}」{zh}", day.occasion),
                    format!("{}: no 「{wanted}」 in the opening{en}", day.occasion),
                ),
                start,
                end,
                said,
            )
            .evidence(other)];
        }
        if day.occasion != "周末" {
            return Vec::new();
        }
    }
    if local.hour() >= p.morning_before_hour {
        return Vec::new();
    }
    let clock = local.format("%H:%M").to_string();
    let morning = call.hits_in(&p.lexicon, Role::Agent, 0, until);
    if morning.is_empty() && heard(&said, &p.morning_sounds) {
        return Vec::new();
    }
    let Some(&m) = morning.first() else {
        return vec![Signal::new(
            call.say(
                format!("{clock} 的来电：开头语中没有「早上好」"),
                format!("call at {clock} local time: no 早上好 in the opening"),
            ),
            start,
            end,
            said,
        )];
    };
    let welcome = call.hits_in(&p.opening, Role::Agent, 0, until);
    match welcome.first() {
        Some(&w) if call.hits[w].start_ms < call.hits[m].start_ms => vec![Signal::new(
            call.say(
                format!("「早上好」应在欢迎语前，却在「{}」之后", call.hits[w].text),
                format!(
                    "早上好 said after the 欢迎语 「{}」, not before it",
                    call.hits[w].text
                ),
            ),
            call.hits[w].start_ms,
            call.hits[m].end_ms,
            said,
        )
        .evidence(vec![w, m])],
        _ => Vec::new(),
    }
}

/// Parameters of [`opening_closing`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OpeningClosing {
    /// One lexicon or several (the 营销 sheet accepts its 开场白 and the 回访 opening).
    #[serde(deserialize_with = "one_or_many")]
    pub opening: Vec<String>,
    pub closing: String,
    pub standard_opening: Vec<String>,
    pub standard_closing: Vec<String>,
    pub min_similarity: f64,
    pub last_turns: u64,
    /// Words every opening contains (`a|b` for alternatives); on a holiday the day's greeting
    /// stands in for the first.
    pub opening_parts: Vec<String>,
    pub closing_parts: Vec<String>,
    /// Lexicons the opening should all contain (003:227's outbound steps); review only.
    pub steps: Vec<String>,
    pub window_ms: u64,
}

impl Default for OpeningClosing {
    fn default() -> Self {
        OpeningClosing {
            opening: vec!["开头语".into()],
            closing: "结束语".into(),
            standard_opening: Vec::new(),
            standard_closing: Vec::new(),
            min_similarity: 0.6,
            last_turns: 2,
            opening_parts: vec!["您好".into()],
            closing_parts: vec!["再见".into()],
            steps: Vec::new(),
            window_ms: 10_000,
        }
    }
}

impl Params for OpeningClosing {
    fn lexicons(&self) -> Vec<String> {
        let mut v = self.opening.clone();
        v.push(self.closing.clone());
        v.extend(self.steps.iter().cloned());
        v
    }
    fn validate(&self) -> Result<(), String> {
        fraction("min_similarity", self.min_similarity)
    }
}

/// 2.3: the opening whole at the start, the closing whole in the agent's last turns.
pub fn opening_closing(call: &Call<'_>, p: &OpeningClosing) -> Vec<Signal> {
    let agent = call.lines(Role::Agent);
    let Some(first) = agent.first() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let until = first.start_ms + p.window_ms;
    let (said, start, end) = text_between(&agent, 0, until);
    let local = local_time(call, first.start_ms);
    let holiday = call
        .calendar
        .greeting_for(local.date_naive())
        .filter(|d| d.occasion != "周末");
    let hits: Vec<usize> = p
        .opening
        .iter()
        .flat_map(|l| call.hits_in(l, Role::Agent, 0, until))
        .collect();
    let missing: Vec<&str> = p
        .opening_parts
        .iter()
        .enumerate()
        .filter(|(i, part)| {
            let stand_in = *i == 0
                && holiday
                    .as_ref()
                    .is_some_and(|d| d.greetings.iter().any(|g| contains_part(&said, g)));
            !stand_in && !contains_part(&said, part)
        })
        .map(|(_, part)| part.as_str())
        .collect();
    let sim = best_similarity(&said, &p.standard_opening);
    if !missing.is_empty() {
        let parts = missing.join("」「");
        out.push(
            Signal::new(
                call.say(
                    format!("开头语不全：缺少「{parts}」"),
                    format!("开头语 incomplete: 「{parts}」 missing"),
                ),
                start,
                end,
                said.clone(),
            )
            .evidence(hits.clone()),
        );
    } else if hits.is_empty() && sim < p.min_similarity {
        out.push(Signal::new(
            call.say(
                format!(
                    "开头语不全或错误：与标准开头语相似度 {sim:.2}，需 {:.2}",
                    p.min_similarity
                ),
                format!(
                    "开头语 incomplete: similarity {sim:.2} to the standard, need {:.2}",
                    p.min_similarity
                ),
            ),
            start,
            end,
            said.clone(),
        ));
    }
    out.extend(missing_steps(call, p, &said, start, end));
    out.extend(closing(call, p, &agent));
    out
}

/// 003:227's outbound steps, each a lexicon, all expected in the opening. Order is not checked:
/// the 营销 sheet's own standard opening (004) names the company before it asks 「请问您是机主吗」.
fn missing_steps(
    call: &Call<'_>,
    p: &OpeningClosing,
    said: &str,
    start: u64,
    end: u64,
) -> Option<Signal> {
    let until = start + p.window_ms * 3;
    let missing: Vec<&str> = p
        .steps
        .iter()
        .filter(|s| call.hits_in(s, Role::Agent, 0, until).is_empty())
        .map(String::as_str)
        .collect();
    (!missing.is_empty()).then(|| {
        let steps = missing.join("」「");
        Signal::new(
            call.say(
                format!("外呼开场缺少「{steps}」（003:227：核实身份、报读公司/部门/工号、询问是否方便接听）"),
                format!("outbound opening without 「{steps}」 (003:227 order: verify identity, company/department/staff number, ask if convenient)"),
            ),
            start,
            end,
            said.to_string(),
        )
        .for_review()
    })
}

fn closing(call: &Call<'_>, p: &OpeningClosing, agent: &[Line<'_>]) -> Option<Signal> {
    let tail: Vec<&Line<'_>> = agent
        .iter()
        .rev()
        .take((p.last_turns as usize).max(1))
        .collect();
    let tail_start = tail.last().map_or(0, |l| l.start_ms);
    let said: String = tail.iter().rev().map(|l| l.text).collect();
    let lexicon = call.hits_of(std::slice::from_ref(&p.closing), Some(Role::Agent));
    let (in_tail, earlier): (Vec<usize>, Vec<usize>) = lexicon
        .into_iter()
        .partition(|&i| call.hits[i].start_ms >= tail_start);
    let sim = best_similarity(&said, &p.standard_closing);
    let missing: Vec<&str> = p
        .closing_parts
        .iter()
        .filter(|part| !contains_part(&said, part))
        .map(String::as_str)
        .collect();
    let like = !in_tail.is_empty() || sim >= p.min_similarity;
    if like && missing.is_empty() {
        return None;
    }
    let reason = if !like && !earlier.is_empty() {
        call.say(
            format!("结束语在通话中途说过，结尾没有（最后几句与标准相似度 {sim:.2}）"),
            format!(
                "结束语 said mid-call but not at the end (similarity {sim:.2} in the last turns)"
            ),
        )
    } else if !missing.is_empty() && like {
        let parts = missing.join("」「");
        call.say(
            format!("结束语不全：缺少「{parts}」"),
            format!("结束语 incomplete: 「{parts}」 missing"),
        )
    } else {
        call.say(
            format!("结尾没有结束语（最后几句与标准相似度 {sim:.2}）"),
            format!("结束语 missing from the agent's last turns (similarity {sim:.2})"),
        )
    };
    Some(
        Signal::new(
            reason,
            tail_start,
            tail.first().map_or(0, |l| l.end_ms),
            said,
        )
        .evidence(if in_tail.is_empty() { earlier } else { in_tail }),
    )
}

/// The local clock time `ms` into the call; the start itself when that is beyond the calendar
/// (a corrupt time must not stop the scoring).
fn local_time(call: &Call<'_>, ms: u64) -> chrono::DateTime<chrono::FixedOffset> {
    i64::try_from(ms)
        .ok()
        .and_then(|ms| {
            call.meta
                .started_at
                .checked_add_signed(chrono::Duration::milliseconds(ms))
        })
        .unwrap_or(call.meta.started_at)
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{Scene, A, C, WEDNESDAY};
    use crate::score::Calendar;

    const OPENING: &str = "您好，客服中心，请问有什么可以帮您？";
    const LATENCY: &str = "within_ms = 5000\nlexicon = \"开头语\"\nstandard = [\"您好，客服中心，请问有什么可以帮您？\"]\nmin_similarity = 0.6\nhello_count = 2";

    #[test]
    fn opening_latency_table() {
        type Case = (&'static str, Scene, Vec<&'static str>);
        let cases: Vec<Case> = vec![
            (
                "standard opening on time",
                Scene::new(WEDNESDAY, &[(A, 800, 3500, OPENING)]),
                vec![],
            ),
            (
                "first words after 5 s",
                Scene::new(WEDNESDAY, &[(A, 6500, 9000, OPENING)]),
                vec!["开头语于 6.5 秒开始（时限 5.0 秒）"],
            ),
            (
                "a 喂 on time, the opening at 7 s: late",
                Scene::new(
                    WEDNESDAY,
                    &[(A, 1500, 1800, "喂？"), (A, 7000, 9500, OPENING)],
                ),
                vec!["开头语于 7.0 秒开始"],
            ),
            (
                "on time but no opening",
                Scene::new(WEDNESDAY, &[(A, 800, 1500, "客服中心。")]),
                vec!["未报读开头语"],
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
                vec![],
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
                vec!["客户“喂”了 2 声后坐席才应答"],
            ),
            (
                "「喂喂」 in one segment is two",
                Scene::new(
                    WEDNESDAY,
                    &[(C, 500, 1200, "喂喂？"), (A, 3000, 5500, OPENING)],
                ),
                vec!["客户“喂”了 2 声"],
            ),
            (
                "one 喂 and another utterance is one 喂",
                Scene::new(
                    WEDNESDAY,
                    &[
                        (C, 500, 800, "喂？"),
                        (C, 1500, 2500, "我想问一下。"),
                        (A, 3000, 5500, OPENING),
                    ],
                ),
                vec![],
            ),
        ];
        for (name, scene, want) in cases {
            let got = scene.run("opening_latency", LATENCY);
            assert_eq!(got.len(), want.len(), "{name}: {got:?}");
            for (g, w) in got.iter().zip(&want) {
                assert!(g.reason.starts_with(w), "{name}: {}", g.reason);
            }
        }
        let english = Scene::new(WEDNESDAY, &[(A, 6500, 9000, OPENING)]).english();
        assert_eq!(
            english.run("opening_latency", LATENCY)[0].reason,
            "开头语 began at 6.5 s (limit 5.0 s)"
        );
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
            "[[holiday]]\nname = \"国庆\"\ndates = [\"2026-10-03\"]\ngreetings = [\"国庆快乐\"]\n[[holiday]]\nname = \"元旦\"\ndates = [\"2027-01-01\"]\ngreetings = [\"新年好\"]\n",
        )
        .expect("calendar");
        cal
    }

    #[test]
    fn greeting_for_day_table() {
        const P: &str = "morning_before_hour = 12\nlexicon = \"早安问候\"\nwindow_ms = 15000";
        let morning_good = "早上好！您好，客服中心，请问有什么可以帮您？";
        let new_year = "新年好！客服中心，请问有什么可以帮您！";
        let cases: Vec<(&str, Scene, usize)> = vec![
            (
                "morning without 早上好",
                Scene::new("2026-11-18T09:00:00+08:00", &[(A, 800, 3500, OPENING)]),
                1,
            ),
            (
                "morning with 早上好 before the 欢迎语",
                Scene::new("2026-11-18T09:00:00+08:00", &[(A, 800, 3500, morning_good)])
                    .hit(A, "早安问候", 800, 1300, "早上好")
                    .hit(
                        A,
                        "开头语",
                        1400,
                        3500,
                        "您好，客服中心，请问有什么可以帮您？",
                    ),
                0,
            ),
            (
                "morning with 早上好 after the 欢迎语",
                Scene::new(
                    "2026-11-18T09:00:00+08:00",
                    &[(A, 800, 4000, "您好，客服中心，请问有什么可以帮您？早上好！")],
                )
                .hit(
                    A,
                    "开头语",
                    800,
                    3300,
                    "您好，客服中心，请问有什么可以帮您？",
                )
                .hit(A, "早安问候", 3400, 4000, "早上好"),
                1,
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
            (
                "国庆's greeting on 元旦",
                Scene::new(
                    "2027-01-01T15:00:00+08:00",
                    &[(A, 800, 3500, "国庆快乐！客服中心，请问有什么可以帮您？")],
                )
                .calendar(calendar())
                .hit(A, "节日问候", 800, 1500, "国庆快乐"),
                1,
            ),
            (
                "元旦 morning, the prescribed holiday opening replaces 早上好",
                Scene::new("2027-01-01T09:00:00+08:00", &[(A, 800, 3500, new_year)])
                    .calendar(calendar()),
                0,
            ),
            (
                "元旦 morning with 早上好 but no 新年好",
                Scene::new("2027-01-01T09:00:00+08:00", &[(A, 800, 3500, morning_good)])
                    .calendar(calendar())
                    .hit(A, "早安问候", 800, 1300, "早上好"),
                1,
            ),
        ];
        for (name, scene, want) in cases {
            let got = scene.run("greeting_for_day", P);
            assert_eq!(got.len(), want, "{name}: {got:?}");
        }
        let wrong = Scene::new(
            "2027-01-01T15:00:00+08:00",
            &[(A, 800, 3500, "国庆快乐！客服中心，请问有什么可以帮您？")],
        )
        .calendar(calendar())
        .hit(A, "节日问候", 800, 1500, "国庆快乐")
        .run("greeting_for_day", P);
        assert!(
            wrong[0].reason.ends_with("，说的是「国庆快乐」") && wrong[0].evidence == vec![0],
            "{wrong:?}"
        );
    }

    #[test]
    fn opening_closing_table() {
        const P: &str = "opening = \"开头语\"\nclosing = \"结束语\"\nstandard_opening = [\"您好，客服中心，请问有什么可以帮您？\"]\nstandard_closing = [\"祝您心情愉快，再见！\"]\nmin_similarity = 0.6\nlast_turns = 2\nopening_parts = [\"您好\"]\nclosing_parts = [\"再见\"]";
        let bye = "不客气，祝您心情愉快，再见！";
        let cases: Vec<(&str, Scene, Vec<&str>)> = vec![
            (
                "both complete",
                Scene::new(WEDNESDAY, &[(A, 800, 3500, OPENING), (A, 9000, 12000, bye)]),
                vec![],
            ),
            (
                "你好 for 您好 is the same word to the matcher",
                Scene::new(
                    WEDNESDAY,
                    &[
                        (A, 800, 3500, "你好，克服中心，请问有什么可以帮您？"),
                        (A, 9000, 12000, bye),
                    ],
                ),
                vec![],
            ),
            (
                "no closing",
                Scene::new(
                    WEDNESDAY,
                    &[(A, 800, 3500, OPENING), (A, 9000, 12000, "好的。")],
                ),
                vec!["结尾没有结束语"],
            ),
            (
                "closing without 再见",
                Scene::new(
                    WEDNESDAY,
                    &[
                        (A, 800, 3500, OPENING),
                        (A, 9000, 12000, "不客气，祝您心情愉快。"),
                    ],
                ),
                vec!["结束语不全：缺少「再见」"],
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
                vec!["结束语在通话中途说过"],
            ),
            (
                "opening without 您好: similar enough, still incomplete",
                Scene::new(
                    WEDNESDAY,
                    &[
                        (A, 800, 3500, "客服中心，请问有什么可以帮您？"),
                        (A, 9000, 12000, bye),
                    ],
                ),
                vec!["开头语不全：缺少「您好」"],
            ),
            (
                "您好 alone: unlike the standard",
                Scene::new(
                    WEDNESDAY,
                    &[(A, 800, 1500, "您好。"), (A, 9000, 12000, bye)],
                ),
                vec!["开头语不全或错误"],
            ),
        ];
        for (name, scene, want) in cases {
            let got = scene.run("opening_closing", P);
            assert_eq!(got.len(), want.len(), "{name}: {got:?}");
            for (g, w) in got.iter().zip(&want) {
                assert!(g.reason.starts_with(w), "{name}: {}", g.reason);
            }
        }
        // On 元旦 the prescribed 新年好 stands in for 您好.
        let new_year = Scene::new(
            "2027-01-01T15:00:00+08:00",
            &[
                (A, 800, 3500, "新年好！客服中心，请问有什么可以帮您！"),
                (A, 9000, 12000, bye),
            ],
        )
        .calendar(calendar());
        assert!(new_year.run("opening_closing", P).is_empty());
        let plain = Scene::new(
            WEDNESDAY,
            &[
                (A, 800, 3500, "新年好！客服中心，请问有什么可以帮您！"),
                (A, 9000, 12000, bye),
            ],
        );
        assert_eq!(
            plain.run("opening_closing", P).len(),
            1,
            "新年好 on an ordinary day is no 您好"
        );
    }

    /// What Whisper half-heard (issue 12: 劳动节快论, 刻服中心, 在见) is still the expected phrase.
    #[test]
    fn expected_phrases_are_heard_through_asr_slips() {
        let mut cal = Calendar::default();
        cal.add(
            std::path::Path::new("calendars/t.toml"),
            "[[holiday]]\nname = \"劳动节\"\ndates = [\"2027-05-01\"]\ngreetings = [\"劳动节快乐\", \"五一快乐\"]\n",
        )
        .expect("calendar");
        let may_day = |opening: &'static str| {
            Scene::new("2027-05-01T15:00:00+08:00", &[(A, 800, 3500, opening)])
                .calendar(cal.clone())
        };
        let cases = [
            ("劳动节快论！客服中心，请问有什么可以帮您！", 0),
            ("劳动节快乐！客服中心，请问有什么可以帮您！", 0),
            ("客服中心，请问有什么可以帮您！", 1),
        ];
        for (opening, want) in cases {
            let got = may_day(opening).run("greeting_for_day", "");
            assert_eq!(got.len(), want, "{opening}: {got:?}");
        }
        const P: &str = "standard_opening = [\"您好，客服中心，请问有什么可以帮您？\"]\nstandard_closing = [\"祝您心情愉快，再见！\"]";
        let slips = Scene::new(
            WEDNESDAY,
            &[
                (A, 800, 3500, "您好，刻服中心，请问有什么可以帮您？"),
                (A, 9000, 12000, "祝您心情愉快，在见！"),
            ],
        );
        assert!(slips.run("opening_closing", P).is_empty());
        let morning = Scene::new(
            "2026-11-18T09:00:00+08:00",
            &[(A, 800, 3500, "早尚好！您好，客服中心，请问有什么可以帮您？")],
        );
        assert!(
            morning.run("greeting_for_day", "").is_empty(),
            "早尚好 is 早上好 on sound"
        );
    }

    #[test]
    fn outbound_steps_are_for_review() {
        const P: &str = "opening = \"营销开场白\"\nclosing = \"营销结束语\"\nstandard_opening = [\"您好，打扰您了，我是移动公司的客服代表，请问您是机主吗？\"]\nstandard_closing = [\"祝您身体健康，再见！\"]\nsteps = [\"核实身份\", \"报读工号\", \"方便接听\"]";
        let turns = [
            (
                A,
                800,
                5000,
                "您好，打扰您了，我是移动公司的客服代表，工号1024，请问您是机主吗？",
            ),
            (A, 6000, 8000, "请问您现在方便接听电话吗？"),
            (A, 20000, 22000, "祝您身体健康，再见！"),
        ];
        let all = Scene::new(WEDNESDAY, &turns)
            .hit(A, "报读工号", 2000, 3000, "工号")
            .hit(A, "核实身份", 3500, 5000, "请问您是机主吗")
            .hit(A, "方便接听", 6000, 8000, "现在方便接听电话吗");
        assert!(all.run("opening_closing", P).is_empty());
        let no_convenience = Scene::new(WEDNESDAY, &turns)
            .hit(A, "报读工号", 2000, 3000, "工号")
            .hit(A, "核实身份", 3500, 5000, "请问您是机主吗");
        let got = no_convenience.run("opening_closing", P);
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(
            got[0].review && got[0].reason.contains("方便接听"),
            "{got:?}"
        );
    }
}
