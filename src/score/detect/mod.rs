//! Detectors: one function per kind of check the rubric can name.
//!
//! Each takes the call (metadata, transcripts, hits, metrics) and its parameters from the
//! rubric, and returns what it saw: zero or more [`Signal`]s, each with the time and words that
//! justify it. Whether a signal deducts, flags or only informs is the rubric's business, not the
//! detector's.

use super::calendar::Calendar;
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

mod lexicon;
mod opening;
mod sales;
mod timing;

pub use opening::similarity;

/// Runs the named detector.
pub fn run(name: &str, call: &Call<'_>, params: &toml::Table) -> Vec<Signal> {
    let p = Params(params);
    match name {
        "opening_latency" => opening::opening_latency(call, &p),
        "no_agent_speech" => opening::no_agent_speech(call, &p),
        "unanswered_question" => timing::unanswered_question(call, &p),
        "greeting_for_day" => opening::greeting_for_day(call, &p),
        "opening_closing" => opening::opening_closing(call, &p),
        "hold_etiquette" => timing::hold_etiquette(call, &p),
        "lexicon_hits" => lexicon::lexicon_hits(call, &p),
        "lexicon_rate" => lexicon::lexicon_rate(call, &p),
        "speech_rate" => timing::speech_rate(call, &p),
        "interruptions" => timing::interruptions(call, &p),
        "personal_numbers" => lexicon::personal_numbers(call, &p),
        "fee_disclosure" => sales::fee_disclosure(call, &p),
        "order_without_consent" => sales::order_without_consent(call, &p),
        _ => Vec::new(),
    }
}

/// Calls built in a test, hits constructed directly (not by the scanner) so each detector is
/// tested on exactly the evidence it is given.
#[cfg(test)]
pub(crate) mod testkit {
    use super::{run, Call, Signal};
    use crate::score::Calendar;
    use crate::{AgentChannel, CallMeta, CallMetrics, Direction, Hit, HitSpan, Role, Segment};
    use crate::{SpeechRegion, Transcript};

    pub const A: Role = Role::Agent;
    pub const C: Role = Role::Customer;
    /// A Wednesday afternoon: no morning or holiday greeting applies.
    pub const WEDNESDAY: &str = "2026-11-18T14:00:00+08:00";

    pub struct Scene {
        meta: CallMeta,
        transcripts: Vec<Transcript>,
        hits: Vec<Hit>,
        metrics: CallMetrics,
        calendar: Calendar,
    }

    impl Scene {
        /// Turns are (role, start ms, end ms, text).
        pub fn new(started_at: &str, turns: &[(Role, u64, u64, &str)]) -> Scene {
            let transcripts = Transcript::by_role(
                turns
                    .iter()
                    .map(|&(role, start, end, text)| (role, Segment::text_only(start, end, text))),
            );
            let end = turns.iter().map(|t| t.2).max().unwrap_or(0);
            Scene {
                meta: CallMeta {
                    call_id: "t".into(),
                    audio: "t.wav".into(),
                    agent_id: "A1".into(),
                    started_at: chrono::DateTime::parse_from_rfc3339(started_at).expect("time"),
                    direction: Direction::Inbound,
                    agent_channel: AgentChannel::Left,
                    extra: Default::default(),
                },
                transcripts,
                hits: Vec::new(),
                metrics: CallMetrics {
                    duration_ms: end + 1000,
                    dead_air: Vec::<SpeechRegion>::new(),
                    ..CallMetrics::default()
                },
                calendar: Calendar::default(),
            }
        }

        /// Adds a hit of `category` on `text` at the given time.
        pub fn hit(
            mut self,
            role: Role,
            category: &str,
            start_ms: u64,
            end_ms: u64,
            text: &str,
        ) -> Scene {
            self.hits.push(Hit {
                rule: format!("{category}:1"),
                category: category.into(),
                role,
                start_ms,
                end_ms,
                text: text.into(),
                phrase: text.into(),
                span: HitSpan {
                    segment: 0,
                    start: 0,
                    end_segment: 0,
                    end: 0,
                },
                kind: Default::default(),
                similarity: 1.0,
                review: false,
            });
            self
        }

        pub fn calendar(mut self, calendar: Calendar) -> Scene {
            self.calendar = calendar;
            self
        }

        /// Runs `detector` with `params` written as the inside of a TOML inline table.
        pub fn run(&self, detector: &str, params: &str) -> Vec<Signal> {
            let params: toml::Table = toml::from_str(params).expect("params");
            let call = Call {
                meta: &self.meta,
                transcripts: &self.transcripts,
                hits: &self.hits,
                metrics: &self.metrics,
                calendar: &self.calendar,
            };
            run(detector, &call, &params)
        }
    }
}
