//! Trainer clips: short WAVs of what an agent said wrong, with a little context each side.
//!
//! Takes scored calls and a [`ClipOptions`] filter; for each matching agent hit or deduction it
//! cuts the evidence span plus `context_ms` before and after (clamped at the call's ends) from
//! the re-decoded recording and writes a 16 kHz 16-bit PCM WAV, agent channel or both. Returns
//! the rows of `index.csv` (UTF-8 with BOM, so spreadsheet programs read the Chinese) and
//! `index.jsonl` written beside the clips.
//!
//! Spans of one call that overlap once context is added become one clip: a trainer should hear
//! a 反问 and the deduction it earned once, not twice. Names are built from the call id (made
//! safe), the span and an ASCII code of the category, so a re-run writes the same files, and the
//! index is merged with what the folder already lists and rewritten atomically. Customer hits
//! (喂, 要求升级) are not clips: they are not the agent's words to train on.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::files::{locate_audio, safe_stem, sample_at, short_hash, spoken_numbers, write_wav};
use crate::util::write_atomic;
use crate::{CallResult, Role};

/// Which channels a clip carries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ClipChannel {
    /// The agent's channel only (mono recordings: their one channel).
    #[default]
    Agent,
    /// Agent left, customer right.
    Both,
}

/// Which hits and deductions to cut, and how.
#[derive(Clone, Debug, Default)]
pub struct ClipOptions {
    /// Lexicon category of a hit, e.g. `反问`; a deduction matches when one of its evidence hits has it.
    pub category: Option<String>,
    /// Rubric sub-rule (`4.6`) or item (`4`) of a deduction, or a hit's lexicon entry (`反问:14`).
    pub rule: Option<String>,
    pub agent: Option<String>,
    /// `YYYY-MM` of the call's local start time.
    pub month: Option<String>,
    pub context_ms: u64,
    pub channel: ClipChannel,
    /// Hide personal numbers: `*` in the index's excerpts, a bleep in the audio.
    pub redact: bool,
}

/// One line of `index.csv` / `index.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClipRow {
    /// File name of the clip, relative to the index.
    pub clip: String,
    pub call_id: String,
    pub agent_id: String,
    pub started_at: String,
    /// Categories in the clip, `|`-separated when spans were merged.
    pub category: String,
    pub rule: String,
    pub phrase: String,
    /// Where the clip sits in the call: evidence plus context, clamped at the call's ends.
    pub start_ms: u64,
    pub end_ms: u64,
    /// The evidence inside it.
    pub evidence_start_ms: u64,
    pub evidence_end_ms: u64,
    /// The agent's transcript lines the evidence falls on.
    pub excerpt: String,
}

impl ClipRow {
    /// The row with every text cell a spreadsheet would run as a formula defused.
    fn for_spreadsheet(&self) -> ClipRow {
        let cell = |s: &String| crate::util::spreadsheet_cell(s).into_owned();
        ClipRow {
            clip: cell(&self.clip),
            call_id: cell(&self.call_id),
            agent_id: cell(&self.agent_id),
            started_at: cell(&self.started_at),
            category: cell(&self.category),
            rule: cell(&self.rule),
            phrase: cell(&self.phrase),
            excerpt: cell(&self.excerpt),
            ..self.clone()
        }
    }
}

/// What a run wrote.
#[derive(Debug, Default)]
pub struct ClipsSummary {
    /// Rows written by this run.
    pub rows: Vec<ClipRow>,
    /// One line per call whose clips could not be cut: `call_id: reason`.
    pub failed: Vec<String>,
}

/// Why the clips folder could not be written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: cannot write: {source}; check the folder exists and is writable", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: cannot write the CSV index: {source}; check the folder is writable", path.display())]
    Csv {
        path: PathBuf,
        #[source]
        source: csv::Error,
    },
}

/// A span to cut, before merging.
#[derive(Clone, Debug)]
struct Span {
    start_ms: u64,
    end_ms: u64,
    categories: BTreeSet<String>,
    rules: BTreeSet<String>,
    phrases: BTreeSet<String>,
}

/// Cuts the clips for `results` into `out`; recordings are looked up as written or relative to
/// `results_dir`. A call that cannot be decoded is reported in the summary; the others go on.
pub fn write(
    out: &Path,
    results_dir: &Path,
    results: &[CallResult],
    opts: &ClipOptions,
) -> Result<ClipsSummary, Error> {
    std::fs::create_dir_all(out).map_err(|source| Error::Write {
        path: out.to_path_buf(),
        source,
    })?;
    let mut summary = ClipsSummary::default();
    for call in results.iter().filter(|c| call_matches(c, opts)) {
        let spans = merge(spans(call, opts), opts.context_ms);
        // A call scored from text has no recording to cut: nothing to do, nothing failed.
        if spans.is_empty() || call.audio.is_empty() {
            continue;
        }
        let source = locate_audio(results_dir, &call.audio);
        let audio = match crate::audio::decode(&source, call.agent_channel) {
            Ok(audio) => audio,
            Err(e) => {
                summary.failed.push(format!("{}: {e}", call.call_id));
                continue;
            }
        };
        let tracks: Vec<_> = match opts.channel {
            ClipChannel::Agent => audio.tracks.iter().take(1).collect(),
            ClipChannel::Both => audio.tracks.iter().collect(),
        };
        for span in spans {
            let (from_ms, to_ms) = with_context(&span, opts.context_ms, audio.duration_ms);
            let mut row = row(call, &span, from_ms, to_ms);
            if opts.redact {
                row.excerpt = crate::text::redact::redact(&row.excerpt);
            }
            let path = out.join(&row.clip);
            let bleep = if opts.redact {
                spoken_numbers(call)
            } else {
                Vec::new()
            };
            if let Err(e) = write_wav(&path, &tracks, sample_at(from_ms), sample_at(to_ms), &bleep)
            {
                summary
                    .failed
                    .push(format!("{}: {}: {e}", call.call_id, path.display()));
                continue;
            }
            summary.rows.push(row);
        }
    }
    write_index(out, &summary.rows)?;
    Ok(summary)
}

fn call_matches(c: &CallResult, opts: &ClipOptions) -> bool {
    opts.agent.as_ref().is_none_or(|a| *a == c.agent_id)
        && opts
            .month
            .as_ref()
            .is_none_or(|m| c.started_at.format("%Y-%m").to_string() == *m)
}

fn rule_matches(rule: &str, wanted: &str) -> bool {
    rule == wanted
        || rule
            .strip_prefix(wanted)
            .is_some_and(|rest| rest.starts_with('.'))
}

/// The agent hits and deductions of one call that pass the filter.
fn spans(c: &CallResult, opts: &ClipOptions) -> Vec<Span> {
    let category_ok = |cat: &str| opts.category.as_ref().is_none_or(|w| w == cat);
    let mut out = Vec::new();
    for hit in &c.hits {
        if hit.role == Role::Customer
            || !category_ok(&hit.category)
            || opts.rule.as_ref().is_some_and(|r| hit.rule != *r)
        {
            continue;
        }
        out.push(Span {
            start_ms: hit.start_ms,
            end_ms: hit.end_ms,
            categories: [hit.category.clone()].into(),
            rules: [hit.rule.clone()].into(),
            phrases: [hit.phrase.clone()].into(),
        });
    }
    for d in &c.deductions {
        let evidence: Vec<_> = d.evidence.iter().filter_map(|&i| c.hits.get(i)).collect();
        let has_category = opts
            .category
            .as_ref()
            .is_none_or(|w| evidence.iter().any(|h| h.category == *w));
        if !has_category
            || opts
                .rule
                .as_ref()
                .is_some_and(|r| !rule_matches(&d.rule, r))
        {
            continue;
        }
        out.push(Span {
            start_ms: d.start_ms,
            end_ms: d.end_ms.max(d.start_ms),
            categories: evidence.iter().map(|h| h.category.clone()).collect(),
            rules: [d.rule.clone()].into(),
            phrases: evidence.iter().map(|h| h.phrase.clone()).collect(),
        });
    }
    out
}

/// Merges spans whose clips (span plus context) would overlap.
fn merge(mut spans: Vec<Span>, context_ms: u64) -> Vec<Span> {
    spans.sort_by_key(|s| (s.start_ms, s.end_ms));
    let mut out: Vec<Span> = Vec::new();
    for s in spans {
        match out.last_mut() {
            Some(last) if s.start_ms.saturating_sub(context_ms) <= last.end_ms + context_ms => {
                last.end_ms = last.end_ms.max(s.end_ms);
                last.categories.extend(s.categories);
                last.rules.extend(s.rules);
                last.phrases.extend(s.phrases);
            }
            _ => out.push(s),
        }
    }
    out
}

fn with_context(span: &Span, context_ms: u64, duration_ms: u64) -> (u64, u64) {
    let end = (span.end_ms + context_ms).min(duration_ms);
    (span.start_ms.saturating_sub(context_ms).min(end), end)
}

/// ASCII codes for the shipped lexicon categories; others get a hash so names stay ASCII.
const CATEGORY_CODES: &[(&str, &str)] = &[
    ("久等致谢", "jiudeng-zhixie"),
    ("反问", "fanwen"),
    ("含糊词", "hanhuci"),
    ("客户拒绝", "kehu-jujue"),
    ("开头语", "kaitouyu"),
    ("愤怒", "fennu"),
    ("承诺回电", "chengnuo-huidian"),
    ("散漫", "sanman"),
    ("早安问候", "zaoan-wenhou"),
    ("机械", "jixie"),
    ("结束语", "jieshuyu"),
    ("脏话", "zanghua"),
    ("节日问候", "jieri-wenhou"),
    ("营销开场白", "yingxiao-kaichangbai"),
    ("营销结束语", "yingxiao-jieshuyu"),
    ("要求升级", "yaoqiu-shengji"),
    ("订购用语", "dinggou-yongyu"),
    ("讽刺", "fengci"),
    ("询问姓氏", "xunwen-xingshi"),
    ("语气词", "yuqici"),
    ("请稍等", "qing-shaodeng"),
    ("请重复", "qing-chongfu"),
    ("质问", "zhiwen"),
    ("资费告知", "zifei-gaozhi"),
    ("退订挽留", "tuiding-wanliu"),
];

fn category_code(span: &Span) -> String {
    let code = |cat: &str| {
        CATEGORY_CODES
            .iter()
            .find(|(name, _)| *name == cat)
            .map_or_else(|| format!("c{}", short_hash(cat)), |(_, c)| c.to_string())
    };
    match span.categories.first() {
        Some(cat) => code(cat),
        None => span
            .rules
            .first()
            .map_or_else(|| "clip".into(), |r| format!("rule{}", safe_stem(r))),
    }
}

fn row(c: &CallResult, span: &Span, from_ms: u64, to_ms: u64) -> ClipRow {
    let excerpt: Vec<&str> = c
        .segments
        .iter()
        .filter(|s| {
            s.role != Role::Customer && s.start_ms <= span.end_ms && s.end_ms >= span.start_ms
        })
        .map(|s| s.text.as_str())
        .collect();
    let join = |set: &BTreeSet<String>| set.iter().cloned().collect::<Vec<_>>().join("|");
    ClipRow {
        clip: format!(
            "{}_{from_ms:08}-{to_ms:08}_{}.wav",
            safe_stem(&c.call_id),
            category_code(span)
        ),
        call_id: c.call_id.clone(),
        agent_id: c.agent_id.clone(),
        started_at: c.started_at.to_rfc3339(),
        category: join(&span.categories),
        rule: join(&span.rules),
        phrase: join(&span.phrases),
        start_ms: from_ms,
        end_ms: to_ms,
        evidence_start_ms: span.start_ms,
        evidence_end_ms: span.end_ms,
        excerpt: excerpt.join(" "),
    }
}

/// Rewrites `index.jsonl` and `index.csv` with this run's rows over the rows already listed
/// whose clip files still exist, keyed by clip name.
fn write_index(out: &Path, rows: &[ClipRow]) -> Result<(), Error> {
    let jsonl = out.join("index.jsonl");
    let mut all: BTreeMap<String, ClipRow> = std::fs::read_to_string(&jsonl)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<ClipRow>(l).ok())
        .filter(|r| out.join(&r.clip).exists())
        .map(|r| (r.clip.clone(), r))
        .collect();
    all.extend(rows.iter().map(|r| (r.clip.clone(), r.clone())));

    let mut text = String::new();
    for r in all.values() {
        let line = serde_json::to_string(r).map_err(|e| Error::Write {
            path: jsonl.clone(),
            source: e.into(),
        })?;
        text.push_str(&line);
        text.push('\n');
    }
    write_atomic(&jsonl, text.as_bytes()).map_err(|source| Error::Write {
        path: jsonl.clone(),
        source,
    })?;

    let csv_path = out.join("index.csv");
    let csv_err = |source| Error::Csv {
        path: csv_path.clone(),
        source,
    };
    let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    for r in all.values() {
        w.serialize(r.for_spreadsheet()).map_err(csv_err)?;
    }
    let bytes = w.into_inner().map_err(|e| Error::Write {
        path: csv_path.clone(),
        source: e.into_error(),
    })?;
    write_atomic(&csv_path, &bytes).map_err(|source| Error::Write {
        path: csv_path.clone(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(start_ms: u64, end_ms: u64, cat: &str) -> Span {
        Span {
            start_ms,
            end_ms,
            categories: [cat.to_string()].into(),
            rules: BTreeSet::new(),
            phrases: BTreeSet::new(),
        }
    }

    #[test]
    fn overlapping_spans_merge_once_context_is_added() {
        let merged = merge(
            vec![
                span(10_000, 11_000, "反问"),
                span(14_500, 15_000, "愤怒"),
                span(30_000, 31_000, "反问"),
            ],
            2000,
        );
        assert_eq!(merged.len(), 2);
        assert_eq!((merged[0].start_ms, merged[0].end_ms), (10_000, 15_000));
        assert_eq!(merged[0].categories.len(), 2);
    }

    #[test]
    fn context_is_clamped_at_the_call_ends() {
        assert_eq!(
            with_context(&span(500, 1500, "反问"), 2000, 2500),
            (0, 2500)
        );
        assert_eq!(
            with_context(&span(5000, 6000, "反问"), 2000, 60_000),
            (3000, 8000)
        );
    }

    #[test]
    fn rule_filter_takes_sub_rule_or_item() {
        assert!(rule_matches("4.6", "4.6"));
        assert!(rule_matches("4.6", "4"));
        assert!(!rule_matches("4.6", "4.61"));
        assert!(!rule_matches("14.6", "4"));
    }

    #[test]
    fn names_are_ascii() {
        assert_eq!(category_code(&span(0, 1, "反问")), "fanwen");
        assert!(category_code(&span(0, 1, "新类别")).is_ascii());
    }
}
