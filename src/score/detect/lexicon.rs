//! Lexicon families (4.1, 4.2, 4.6, 5.x, 7.x, 8.x, 2.5, 3.2, 9.2): hits of named lexicons by
//! role, their rate per agent minute, and personal numbers in the agent's speech.
//!
//! Rates are per minute of agent speech, not of the call, so a long hold does not dilute an
//! agent's fillers.

use super::{Call, Params, Signal};
use crate::Role;

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
