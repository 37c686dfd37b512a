//! Detectors: one function per kind of check the rubric can name, and the one registry of them.
//!
//! Each takes the call (metadata, transcripts, hits, metrics) and its typed parameters, and
//! returns what it saw: zero or more [`Signal`]s, each with the time and words that justify it.
//! Whether a signal deducts, flags or only informs is the rubric's business, not the
//! detector's — except that a detector may mark a signal `review` when what it saw can never
//! justify a deduction on its own (a missing step of the 营销 opening order, a 不客气 not said).
//!
//! [`registry`] lists every detector once: its name, its parameter struct (defaults in the
//! struct's `Default`, unknown keys rejected), the function that runs it and a line of docs.
//! The rubric loader, `callqa check`, the dispatch and the README table all come from it.
//! Times for silences and holds come from both channels' voice activity
//! ([`CallMetrics::agent_speech`] / [`CallMetrics::customer_speech`]), not from transcript
//! segments: Whisper writes nothing for unintelligible speech, and a customer who is talking
//! is not waiting on a hold.

use super::calendar::Calendar;
use super::Lang;
use crate::text::phonetic;
use crate::{CallMeta, CallMetrics, Hit, Role, SpeechRegion, Transcript};

mod dialogue;
mod lexicon;
mod opening;
mod registry;
mod sales;
mod timing;

pub use opening::similarity;
pub use registry::{docs, Detector, DetectorDoc, ParamError, Speaker};

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
    /// For the inspector only, even under an `auto` rule.
    pub review: bool,
}

impl Signal {
    fn new(reason: String, start_ms: u64, end_ms: u64, words: String) -> Signal {
        Signal {
            reason,
            start_ms,
            end_ms,
            words,
            evidence: Vec::new(),
            count: 1,
            review: false,
        }
    }

    fn evidence(mut self, evidence: Vec<usize>) -> Signal {
        self.evidence = evidence;
        self
    }

    fn for_review(mut self) -> Signal {
        self.review = true;
        self
    }
}

/// Everything a detector may look at.
pub struct Call<'a> {
    pub meta: &'a CallMeta,
    pub transcripts: &'a [Transcript],
    pub hits: &'a [Hit],
    pub metrics: &'a CallMetrics,
    pub calendar: &'a Calendar,
    /// Language of reasons.
    pub lang: Lang,
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

    fn hits_in(&self, lexicon: &str, role: Role, from_ms: u64, to_ms: u64) -> Vec<usize> {
        self.hits_of(&[lexicon.to_string()], Some(role))
            .into_iter()
            .filter(|&i| self.hits[i].start_ms >= from_ms && self.hits[i].start_ms <= to_ms)
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

    /// Where `role` speaks, from voice activity; from transcript segments only for results
    /// stored before the metrics carried the regions (both lists empty).
    fn speech(&self, role: Role) -> Vec<SpeechRegion> {
        let m = self.metrics;
        if !m.agent_speech.is_empty() || !m.customer_speech.is_empty() {
            return match role {
                Role::Agent => m.agent_speech.clone(),
                Role::Customer => m.customer_speech.clone(),
                Role::Unknown => Vec::new(),
            };
        }
        let mut out: Vec<SpeechRegion> = Vec::new();
        for l in self.lines(role) {
            match out.last_mut() {
                Some(last) if l.start_ms <= last.end_ms => last.end_ms = last.end_ms.max(l.end_ms),
                _ => out.push(SpeechRegion {
                    start_ms: l.start_ms,
                    end_ms: l.end_ms,
                }),
            }
        }
        out
    }

    /// The reason in the inspector's language: both texts carry the same words and times.
    fn say(&self, zh: String, en: String) -> String {
        match self.lang {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

/// How far from a phrase a check that *expects* it still hears it. A phrase expected at a
/// known place (the opening, around a hold) that Whisper half-heard must not cost the agent
/// points, and hearing it where it was not said only spares a deduction, so this is looser than
/// the scanner's tolerance for 服务禁语: 您好 and 再见 as homophones, one confusable syllable
/// from 3 syllables, any one syllable inside from 4 (请您收等 for 请您稍等) and at an edge from 5
/// (劳动节快论 for 劳动节快乐; at 4, 请您稍后 would pass for 请您稍等). Measured with
/// `examples/expected_phrases.rs` on 7,137 real agent utterances: heard by sound without the
/// characters 0.6 per 1,000 for 您好, 1.5 for 再见, 0 for 早上好 and the holiday greetings.
pub const EXPECTED: phonetic::Tolerance = phonetic::Tolerance {
    homophone_min: 2,
    one_confusable_min: 3,
    one_any_min: 4,
    one_any_edge_min: 5,
    two_min: 6,
};

/// Whether `said` contains one of `phrases`, exactly or by sound ([`EXPECTED`]); a phrase may
/// list alternatives as `a|b`.
pub fn heard(said: &str, phrases: &[String]) -> bool {
    let norm = crate::text::normalized(said);
    phrases.iter().flat_map(|p| p.split('|')).any(|alt| {
        let alt_norm = crate::text::normalized(alt);
        !alt_norm.is_empty()
            && (norm.contains(&alt_norm) || phonetic::find_with(said, alt, &EXPECTED).is_some())
    })
}

/// Milliseconds of `regions` inside [from, to).
fn talk_within(regions: &[SpeechRegion], from: u64, to: u64) -> u64 {
    regions
        .iter()
        .map(|r| r.end_ms.min(to).saturating_sub(r.start_ms.max(from)))
        .sum()
}

/// Gaps of at least `min_ms` between consecutive regions.
fn gaps(regions: &[SpeechRegion], min_ms: u64) -> Vec<SpeechRegion> {
    regions
        .windows(2)
        .map(|w| SpeechRegion {
            start_ms: w[0].end_ms,
            end_ms: w[1].start_ms,
        })
        .filter(|g| g.end_ms.saturating_sub(g.start_ms) >= min_ms)
        .collect()
}

fn secs(ms: u64) -> String {
    format!("{:.1} s", ms as f64 / 1000.0)
}

fn miao(ms: u64) -> String {
    format!("{:.1} 秒", ms as f64 / 1000.0)
}

/// Calls built in a test, hits constructed directly (not by the scanner) so each detector is
/// tested on exactly the evidence it is given.
#[cfg(test)]
pub(crate) mod testkit {
    use super::{Call, Detector, Signal};
    use crate::score::{Calendar, Lang};
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
        lang: Lang,
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
                lang: Lang::Zh,
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

        /// Voice activity of both channels, (start ms, end ms), in place of the transcript's
        /// segment times; `duration_ms` is where the recording stops.
        pub fn activity(
            mut self,
            agent: &[(u64, u64)],
            customer: &[(u64, u64)],
            end: u64,
        ) -> Scene {
            let regions = |rs: &[(u64, u64)]| {
                rs.iter()
                    .map(|&(start_ms, end_ms)| SpeechRegion { start_ms, end_ms })
                    .collect::<Vec<_>>()
            };
            self.metrics.agent_speech = regions(agent);
            self.metrics.customer_speech = regions(customer);
            self.metrics.duration_ms = end;
            self
        }

        pub fn english(mut self) -> Scene {
            self.lang = Lang::En;
            self
        }

        /// Runs `detector` with `params` written as the inside of a TOML inline table.
        pub fn run(&self, detector: &str, params: &str) -> Vec<Signal> {
            let params: toml::Table = toml::from_str(params).expect("params");
            let detector = Detector::parse(detector, &params).expect("valid params");
            let call = Call {
                meta: &self.meta,
                transcripts: &self.transcripts,
                hits: &self.hits,
                metrics: &self.metrics,
                calendar: &self.calendar,
                lang: self.lang,
            };
            detector.run(&call)
        }
    }
}
