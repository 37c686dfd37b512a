//! Score stage: apply the 质检标准 rubric to a call's transcripts, hits and metrics, and write
//! the deductions an inspector would, each with its evidence.
//!
//! [`score_call`] is a pure function: the sheet for the call's direction ([`Rubrics`]), the
//! [`Calendar`], and the outputs of the earlier stages in; a [`CallResult`] out. An item's
//! points are forfeited once however many of its sub-rules fire (「如有以下情况不得分」); every
//! sub-rule that fires is still listed, with its evidence, so the inspector sees all of them.
//! `assist` rules and every rule on a mono recording (roles unknown) become findings for review,
//! never deductions: a phrase the customer said must not cost the agent points.

mod calendar;
mod detect;
mod rubric;

use serde::{Deserialize, Serialize};

pub use calendar::{Calendar, CalendarError, DayGreeting};
pub use detect::{docs as detector_docs, heard, similarity, Detector, DetectorDoc, Speaker};
pub use rubric::{Check, Item, Modifier, Rubric, RubricError, Rubrics, Rule};

use crate::{CallMeta, CallMetrics, Direction, Hit, Role, Transcript};

/// Language of the reasons and findings inspectors read: Chinese unless asked otherwise. The
/// words and times that make up the evidence are the same in both.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// 中文
    #[default]
    Zh,
    /// English
    En,
}

/// Version of the `calls.jsonl` schema; bump on any change to field names or meaning.
pub const SCHEMA_VERSION: u32 = 1;

/// Points taken off for one rubric sub-rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Deduction {
    /// Rubric item id, e.g. `4`.
    pub item: String,
    /// Sub-rule id, e.g. `4.6`.
    pub rule: String,
    /// Points taken off the 100-point score (positive number).
    pub points: f64,
    pub reason: String,
    /// The words that justify it, as transcribed.
    pub words: String,
    /// Indexes into `CallResult::hits`.
    pub evidence: Vec<usize>,
    /// The moment to jump to in the audio.
    pub start_ms: u64,
    pub end_ms: u64,
}

#[cfg(test)]
impl Deduction {
    /// A deduction of `points` under `rule` (its item is the part before the dot), with no
    /// words or evidence: for tests of what reads deductions.
    pub(crate) fn bare(rule: &str, points: f64) -> Deduction {
        Deduction {
            item: rule.split('.').next().unwrap_or_default().into(),
            rule: rule.into(),
            points,
            reason: String::new(),
            words: String::new(),
            evidence: Vec::new(),
            start_ms: 0,
            end_ms: 0,
        }
    }
}

/// Something a detector flagged for the inspector to judge; no points taken.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub rule: String,
    pub reason: String,
    pub words: String,
    /// 积分 / 元 the rule carries, should the inspector confirm it.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub credits: f64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub fine_yuan: f64,
    pub evidence: Vec<usize>,
    pub start_ms: u64,
    pub end_ms: u64,
}

/// A flag the inspector may set on this call: a 特别加分项 to award, or a modifier of a rule's
/// deduction. The machine never sets them; the report offers them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AvailableFlag {
    pub rule: String,
    pub flag: Flag,
    /// Points added for a bonus; the factor on the rule's points for a modifier.
    pub value: f64,
}

/// What an [`AvailableFlag`] does: award a 特别加分项, or change a rule's deduction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Flag {
    #[serde(rename = "特别加分")]
    Bonus,
    /// Written as the modifier's own word (`扣分加倍`, `扣分减半`, `不扣分`).
    #[serde(untagged)]
    Modifier(Modifier),
}

/// A transcript line in the result: who said what, when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResultSegment {
    pub role: Role,
    pub start_ms: u64,
    pub end_ms: u64,
    pub text: String,
}

/// Whether a call was scored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Error,
}

/// The scored call: one line of `calls.jsonl`. Field names are a public contract.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallResult {
    pub schema_version: u32,
    pub call_id: String,
    pub agent_id: String,
    pub started_at: chrono::DateTime<chrono::FixedOffset>,
    pub direction: Direction,
    #[serde(default)]
    pub agent_channel: crate::AgentChannel,
    pub audio: String,
    pub duration_ms: u64,
    pub score: f64,
    pub max_score: f64,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Which rubric sheet scored it (`客服` or `营销`).
    pub rubric: String,
    /// 积分 and 元 penalties, kept apart from the 100-point score.
    pub credits: f64,
    pub fine_yuan: f64,
    pub segments: Vec<ResultSegment>,
    pub hits: Vec<Hit>,
    pub deductions: Vec<Deduction>,
    pub findings: Vec<Finding>,
    /// Sub-rules no machine can judge, for the inspector's checklist.
    pub manual: Vec<String>,
    /// Bonuses and modifiers the inspector may set.
    #[serde(default)]
    pub flags: Vec<AvailableFlag>,
    pub metrics: CallMetrics,
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub extra: std::collections::BTreeMap<String, String>,
}

impl CallResult {
    /// Whether an inspector should look at this call: it failed, lost points, or holds a
    /// finding with words to judge (a half-heard forbidden phrase, say). Checklist-style
    /// findings that fire on nearly every call (2.1's missing surname) do not flag a call on
    /// their own, or every call would be "flagged" and the queue would mean nothing.
    pub fn needs_review(&self) -> bool {
        self.status == Status::Error
            || !self.deductions.is_empty()
            || self.findings.iter().any(|f| !f.evidence.is_empty())
    }

    /// A result carrying the call's metadata with nothing scored yet.
    pub fn for_call(meta: &CallMeta) -> CallResult {
        CallResult {
            schema_version: SCHEMA_VERSION,
            call_id: meta.call_id.clone(),
            agent_id: meta.agent_id.clone(),
            started_at: meta.started_at,
            direction: meta.direction,
            agent_channel: meta.agent_channel,
            audio: meta.audio.display().to_string(),
            duration_ms: 0,
            score: 0.0,
            max_score: 0.0,
            status: Status::Ok,
            error: None,
            rubric: String::new(),
            credits: 0.0,
            fine_yuan: 0.0,
            segments: Vec::new(),
            hits: Vec::new(),
            deductions: Vec::new(),
            findings: Vec::new(),
            manual: Vec::new(),
            flags: Vec::new(),
            metrics: CallMetrics::default(),
            extra: meta.extra.clone(),
        }
    }
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

/// The rubric sheet's text of a rule, for reports.
pub fn rule_text<'r>(rubrics: &'r Rubrics, rubric: &str, rule: &str) -> Option<&'r str> {
    rubrics
        .sheets
        .iter()
        .find(|s| s.name == rubric)?
        .items
        .iter()
        .flat_map(|i| &i.rules)
        .find(|r| r.id == rule)
        .map(|r| r.text.as_str())
}

/// Scores one call. Pure: no I/O.
pub fn score_call(
    meta: &CallMeta,
    transcripts: &[Transcript],
    metrics: &CallMetrics,
    hits: Vec<Hit>,
    rubrics: &Rubrics,
    calendar: &Calendar,
) -> CallResult {
    let mut result = CallResult::for_call(meta);
    result.duration_ms = metrics.duration_ms;
    result.segments = segments(transcripts);
    result.hits = hits;
    result.metrics = metrics.clone();
    let Some(sheet) = rubrics.for_direction(meta.direction) else {
        result.status = Status::Error;
        result.error = Some(no_sheet(meta.direction));
        return result;
    };
    result.rubric = sheet.name.clone();
    result.max_score = sheet.max_score;
    let view = RoleView::new(transcripts, &result.hits);
    let judge = Judge {
        call: detect::Call {
            meta,
            transcripts: &view.transcripts,
            hits: &view.hits,
            metrics,
            calendar,
            lang: rubrics.lang,
        },
        mono: view.mono,
    };
    let mut total = 0.0;
    for item in &sheet.items {
        total += score_item(&mut result, &judge, item);
    }
    result.score = (sheet.max_score - total).clamp(0.0, sheet.max_score);
    result
}

fn no_sheet(direction: Direction) -> String {
    let name = if direction == Direction::Inbound {
        "inbound"
    } else {
        "outbound"
    };
    format!("no rubric sheet for direction {direction:?}; add one with direction = \"{name}\" to rubrics/")
}

/// The call as the detectors see it. A mono recording has no roles: detectors read its speech
/// as the agent's, and everything they find goes to review.
struct RoleView {
    mono: bool,
    transcripts: Vec<Transcript>,
    hits: Vec<Hit>,
}

impl RoleView {
    fn new(transcripts: &[Transcript], hits: &[Hit]) -> RoleView {
        let mono = !transcripts.is_empty() && transcripts.iter().all(|t| t.role == Role::Unknown);
        let as_agent = |role: Role| {
            if mono && role == Role::Unknown {
                Role::Agent
            } else {
                role
            }
        };
        RoleView {
            mono,
            transcripts: transcripts
                .iter()
                .map(|t| Transcript {
                    role: as_agent(t.role),
                    segments: t.segments.clone(),
                })
                .collect(),
            hits: hits
                .iter()
                .map(|h| Hit {
                    role: as_agent(h.role),
                    ..h.clone()
                })
                .collect(),
        }
    }
}

/// What a rule's judge decides about one thing it saw.
enum Verdict {
    /// No machine can judge the rule: a line for the inspector's checklist.
    Manual(String),
    /// For the inspector to judge; no points taken.
    Finding(Finding),
    /// Points come off, subject to the item's forfeit-once and escalation rules.
    Deduction(detect::Signal),
}

/// Judges each rule of the sheet against one call.
struct Judge<'a> {
    call: detect::Call<'a>,
    mono: bool,
}

impl Judge<'_> {
    fn rule(&self, item: &Item, rule: &Rule) -> Vec<Verdict> {
        let Some(detector) = &rule.detect else {
            return vec![Verdict::Manual(manual_line(item, rule))];
        };
        let for_review = rule.check != Check::Auto || self.mono || item.bonus;
        let lang = self.call.lang;
        detector
            .run(&self.call)
            .into_iter()
            .map(|s| {
                let near = self.rests_on_near_hits(&s);
                if s.review || for_review || near {
                    Verdict::Finding(finding(rule, s, self.mono, near, lang))
                } else {
                    Verdict::Deduction(s)
                }
            })
            .collect()
    }

    /// Signals resting only on hits marked for review (near phonetic matches) never deduct.
    fn rests_on_near_hits(&self, s: &detect::Signal) -> bool {
        !s.evidence.is_empty()
            && s.evidence
                .iter()
                .all(|&i| self.call.hits.get(i).is_some_and(|h| h.review))
    }
}

/// Applies every rule of `item` to the result; returns the points taken.
fn score_item(result: &mut CallResult, judge: &Judge, item: &Item) -> f64 {
    let mut forfeited = false;
    let mut total = 0.0;
    for rule in &item.rules {
        offer_flags(result, item, rule);
        let mut deduct = Vec::new();
        for verdict in judge.rule(item, rule) {
            match verdict {
                Verdict::Manual(line) => result.manual.push(line),
                Verdict::Finding(f) => result.findings.push(f),
                Verdict::Deduction(s) => deduct.push(s),
            }
        }
        if !deduct.is_empty() {
            total += deduct_rule(result, item, rule, &deduct, &mut forfeited, judge.call.lang);
        }
    }
    total
}

/// The 特别加分 and modifier flags an inspector may set for `rule`; a rule that `modifies`
/// another offers its modifiers on that one.
fn offer_flags(result: &mut CallResult, item: &Item, rule: &Rule) {
    let target = rule.modifies.as_ref().unwrap_or(&rule.id);
    for &m in &rule.modifiers {
        let flag = AvailableFlag {
            rule: target.clone(),
            flag: Flag::Modifier(m),
            value: m.factor(),
        };
        if !result.flags.contains(&flag) {
            result.flags.push(flag);
        }
    }
    if item.bonus {
        result.flags.push(AvailableFlag {
            rule: rule.id.clone(),
            flag: Flag::Bonus,
            value: item.points,
        });
    }
}

/// A checklist line: the rule, its text, and what an inspector may set on it.
fn manual_line(item: &Item, rule: &Rule) -> String {
    let mut note = rule.text.clone();
    if !rule.modifiers.is_empty() {
        let names: Vec<&str> = rule.modifiers.iter().map(|m| m.as_str()).collect();
        note = match &rule.modifies {
            Some(target) => format!("{note} [{}：修正 {target} 的扣分]", names.join("、")),
            None => format!("{note} [{}]", names.join("、")),
        };
    }
    if item.bonus {
        format!("{} (特别加分项 +{}) {note}", rule.id, item.points)
    } else {
        format!("{} {note}", rule.id)
    }
}

fn finding(rule: &Rule, s: detect::Signal, mono: bool, near: bool, lang: Lang) -> Finding {
    let reason = match (mono, near, lang) {
        (true, _, Lang::Zh) => format!("单声道录音，无法区分坐席与客户：{}", s.reason),
        (true, _, Lang::En) => format!("mono recording, roles unknown: {}", s.reason),
        (false, true, Lang::Zh) => format!("近音匹配，请先听录音再扣分：{}", s.reason),
        (false, true, Lang::En) => format!("near match, listen before deducting: {}", s.reason),
        (false, false, _) => s.reason,
    };
    Finding {
        rule: rule.id.clone(),
        reason,
        words: s.words,
        credits: rule.credits,
        fine_yuan: rule.fine_yuan,
        evidence: s.evidence,
        start_ms: s.start_ms,
        end_ms: s.end_ms,
    }
}

/// Deducts an `auto` rule's signals: the item's points once (or per occurrence), each signal
/// listed, the `extra` on repeats. Returns the points taken.
fn deduct_rule(
    result: &mut CallResult,
    item: &Item,
    rule: &Rule,
    signals: &[detect::Signal],
    forfeited: &mut bool,
    lang: Lang,
) -> f64 {
    let occurrences: usize = signals.iter().map(|s| s.count).sum();
    result.credits += rule.credits * occurrences as f64;
    result.fine_yuan += rule.fine_yuan * occurrences as f64;
    let mut total = 0.0;
    for s in signals {
        let points = if item.per_occurrence {
            item.points * s.count as f64
        } else if !*forfeited {
            *forfeited = true;
            item.points
        } else {
            0.0
        };
        total += points;
        result.deductions.push(Deduction {
            item: item.id.clone(),
            rule: rule.id.clone(),
            points,
            reason: s.reason.clone(),
            words: s.words.clone(),
            evidence: s.evidence.clone(),
            start_ms: s.start_ms,
            end_ms: s.end_ms,
        });
    }
    if let Some(extra) = rule.extra.as_ref().filter(|e| occurrences >= e.min_count) {
        let (first, last) = (&signals[0], &signals[signals.len() - 1]);
        total += extra.points;
        let (n, min, pts) = (occurrences, extra.min_count, extra.points);
        result.deductions.push(Deduction {
            item: item.id.clone(),
            rule: rule.id.clone(),
            points: extra.points,
            reason: match lang {
                Lang::Zh => format!("出现 {n} 次（≥{min}）：加扣 {pts} 分"),
                Lang::En => format!("{n} occurrences (≥{min}): extra {pts} points"),
            },
            words: signals
                .iter()
                .map(|s| s.words.as_str())
                .collect::<Vec<_>>()
                .join(" / "),
            evidence: signals
                .iter()
                .flat_map(|s| s.evidence.iter().copied())
                .collect(),
            start_ms: first.start_ms,
            end_ms: last.end_ms,
        });
    }
    total
}

fn segments(transcripts: &[Transcript]) -> Vec<ResultSegment> {
    let mut out: Vec<ResultSegment> = transcripts
        .iter()
        .flat_map(|t| {
            t.segments.iter().map(move |s| ResultSegment {
                role: t.role,
                start_ms: s.start_ms,
                end_ms: s.end_ms,
                text: s.text.clone(),
            })
        })
        .collect();
    out.sort_by_key(|s| (s.start_ms, s.role));
    out
}

#[cfg(test)]
mod tests;
