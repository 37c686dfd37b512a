//! Detectors: one function per kind of check the rubric can name.
//!
//! Each takes the call (metadata, transcripts, hits, metrics) and its parameters from the
//! rubric, and returns what it saw: zero or more [`Signal`]s, each with the time and words that
//! justify it. Whether a signal deducts, flags or only informs is the rubric's business, not the
//! detector's.

use chrono::Timelike;

use super::calendar::Calendar;
use crate::text::normalized;
use crate::{CallMeta, CallMetrics, Hit, Role, Transcript};

/// What a detector found: why, when, the words, and the hits that show it.
#[derive(Clone, Debug, PartialEq)]
pub struct Signal {
    pub reason: String,
    pub start_ms: u64,
    pub end_ms: u64,
    pub words: String,
    pub evidence: Vec<usize>,
    /// How many occurrences this signal stands for (反问 counts for 4.6's extra).
    pub count: usize,
}

/// Everything a detector may look at.
pub struct Call<'a> {
    pub meta: &'a CallMeta,
    pub transcripts: &'a [Transcript],
    pub hits: &'a [Hit],
    pub metrics: &'a CallMetrics,
    pub calendar: &'a Calendar,
}

/// A time-ordered line of speech.
#[derive(Clone, Debug)]
struct Line<'a> {
    start_ms: u64,
    end_ms: u64,
    text: &'a str,
}

impl<'a> Call<'a> {
    fn lines(&self, role: Role) -> Vec<Line<'a>> {
        let mut out: Vec<Line<'a>> = self
            .transcripts
            .iter()
            .filter(|t| t.role == role)
            .flat_map(|t| {
                t.segments.iter().map(move |s| Line {
                    start_ms: s.start_ms,
                    end_ms: s.end_ms,
                    text: &s.text,
                })
            })
            .filter(|l| !l.text.trim().is_empty())
            .collect();
        out.sort_by_key(|l| l.start_ms);
        out
    }

    fn hits_of(&self, categories: &[String], role: Option<Role>) -> Vec<usize> {
        self.hits
            .iter()
            .enumerate()
            .filter(|(_, h)| categories.contains(&h.category))
            .filter(|(_, h)| role.is_none_or(|r| h.role == r))
            .map(|(i, _)| i)
            .collect()
    }

    fn duration_ms(&self) -> u64 {
        let end = self
            .transcripts
            .iter()
            .flat_map(|t| t.segments.iter().map(|s| s.end_ms))
            .max()
            .unwrap_or(0);
        self.metrics.duration_ms.max(end)
    }
}

/// Parameters of one rule, read with defaults.
pub struct Params<'a>(pub &'a toml::Table);

impl Params<'_> {
    fn u64(&self, key: &str, default: u64) -> u64 {
        match self.0.get(key) {
            Some(toml::Value::Integer(i)) => (*i).max(0) as u64,
            Some(toml::Value::Float(f)) => f.max(0.0) as u64,
            _ => default,
        }
    }
    fn f64(&self, key: &str, default: f64) -> f64 {
        match self.0.get(key) {
            Some(toml::Value::Integer(i)) => *i as f64,
            Some(toml::Value::Float(f)) => *f,
            _ => default,
        }
    }
    fn bool(&self, key: &str, default: bool) -> bool {
        self.0
            .get(key)
            .and_then(toml::Value::as_bool)
            .unwrap_or(default)
    }
    fn str(&self, key: &str, default: &str) -> String {
        self.0
            .get(key)
            .and_then(toml::Value::as_str)
            .unwrap_or(default)
            .to_string()
    }
    fn list(&self, key: &str) -> Vec<String> {
        match self.0.get(key) {
            Some(toml::Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect(),
            Some(toml::Value::String(s)) => vec![s.clone()],
            _ => Vec::new(),
        }
    }
    fn role(&self) -> Option<Role> {
        match self.str("role", "agent").as_str() {
            "customer" => Some(Role::Customer),
            "any" => None,
            _ => Some(Role::Agent),
        }
    }
}

fn secs(ms: u64) -> String {
    format!("{:.1} s", ms as f64 / 1000.0)
}

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

/// 4.1 / 4.2 / 4.6 / 5.x / 7.x: hits of the listed lexicons by the given role, at least
/// `min_count` of them.
pub fn lexicon_hits(call: &Call<'_>, p: &Params<'_>) -> Vec<Signal> {
    let hits = call.hits_of(&p.list("categories"), p.role());
    if hits.len() < p.u64("min_count", 1) as usize || hits.is_empty() {
        return Vec::new();
    }
    hits.iter()
        .map(|&i| {
            let h = &call.hits[i];
            Signal {
                reason: format!("{} 「{}」 ({})", h.category, h.text, h.rule),
                start_ms: h.start_ms,
                end_ms: h.end_ms,
                words: h.text.clone(),
                evidence: vec![i],
                count: 1,
            }
        })
        .collect()
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
pub fn lexicon_rate(call: &Call<'_>, p: &Params<'_>) -> Vec<Signal> {
    let hits = call.hits_of(&p.list("categories"), Some(Role::Agent));
    let minutes = agent_minutes(call);
    let rate = hits.len() as f64 / minutes;
    let limit = p.f64("per_minute", 3.0);
    if hits.is_empty() || rate <= limit {
        return Vec::new();
    }
    let first = &call.hits[hits[0]];
    let last = &call.hits[hits[hits.len() - 1]];
    vec![Signal {
        reason: format!(
            "{} per agent minute (limit {limit})",
            (rate * 10.0).round() / 10.0
        ),
        start_ms: first.start_ms,
        end_ms: last.end_ms,
        words: hits
            .iter()
            .map(|&i| call.hits[i].text.as_str())
            .collect::<Vec<_>>()
            .join("、"),
        evidence: hits.clone(),
        count: hits.len(),
    }]
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

/// 9.2: the agent reads out an 11-digit mobile number, an ID-card number or a bank-card number.
pub fn personal_numbers(call: &Call<'_>, _: &Params<'_>) -> Vec<Signal> {
    let mut out = Vec::new();
    for l in call.lines(Role::Agent) {
        if let Some(kind) = crate::report::redact::find_personal_number(l.text) {
            out.push(Signal {
                reason: format!("agent spoke a {kind}"),
                start_ms: l.start_ms,
                end_ms: l.end_ms,
                words: l.text.to_string(),
                evidence: Vec::new(),
                count: 1,
            });
        }
    }
    out
}

/// 营销 6.4: a product was offered but the fee or the trial terms were not told.
pub fn fee_disclosure(call: &Call<'_>, p: &Params<'_>) -> Vec<Signal> {
    let offers = call.hits_of(&[p.str("offer", "订购用语")], Some(Role::Agent));
    let agent_text: String = call.lines(Role::Agent).iter().map(|l| l.text).collect();
    let mentions_product = ["套餐", "业务", "流量包", "会员"]
        .iter()
        .any(|w| agent_text.contains(w));
    if offers.is_empty() && !mentions_product {
        return Vec::new();
    }
    let fee = call.hits_of(&[p.str("fee", "资费告知")], Some(Role::Agent));
    if !fee.is_empty() {
        return Vec::new();
    }
    let at = offers
        .first()
        .map(|&i| (call.hits[i].start_ms, call.hits[i].end_ms));
    let (start_ms, end_ms) = at.unwrap_or((0, call.duration_ms()));
    vec![Signal {
        reason: "a product was offered without its fee or free-trial terms".into(),
        start_ms,
        end_ms,
        words: offers
            .first()
            .map(|&i| call.hits[i].text.clone())
            .unwrap_or_default(),
        evidence: offers,
        count: 1,
    }]
}

/// 营销 6.3: ordering language after the customer refused.
pub fn order_without_consent(call: &Call<'_>, p: &Params<'_>) -> Vec<Signal> {
    let orders = call.hits_of(&[p.str("order", "订购用语")], Some(Role::Agent));
    let refusals = call.hits_of(&[p.str("refusal", "客户拒绝")], Some(Role::Customer));
    let mut out = Vec::new();
    for &o in &orders {
        let order = &call.hits[o];
        if let Some(&r) = refusals
            .iter()
            .find(|&&r| call.hits[r].end_ms <= order.start_ms)
        {
            out.push(Signal {
                reason: format!(
                    "「{}」 after the customer said 「{}」",
                    order.text, call.hits[r].text
                ),
                start_ms: call.hits[r].start_ms,
                end_ms: order.end_ms,
                words: order.text.clone(),
                evidence: vec![r, o],
                count: 1,
            });
        }
    }
    out
}

/// Runs the named detector.
pub fn run(name: &str, call: &Call<'_>, params: &toml::Table) -> Vec<Signal> {
    let p = Params(params);
    match name {
        "opening_latency" => opening_latency(call, &p),
        "no_agent_speech" => no_agent_speech(call, &p),
        "unanswered_question" => unanswered_question(call, &p),
        "greeting_for_day" => greeting_for_day(call, &p),
        "opening_closing" => opening_closing(call, &p),
        "hold_etiquette" => hold_etiquette(call, &p),
        "lexicon_hits" => lexicon_hits(call, &p),
        "lexicon_rate" => lexicon_rate(call, &p),
        "speech_rate" => speech_rate(call, &p),
        "interruptions" => interruptions(call, &p),
        "personal_numbers" => personal_numbers(call, &p),
        "fee_disclosure" => fee_disclosure(call, &p),
        "order_without_consent" => order_without_consent(call, &p),
        _ => Vec::new(),
    }
}
