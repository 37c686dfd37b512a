//! Trainer clips: one WAV per matching hit or deduction, the evidence plus context, with an
//! index (`index.csv` with BOM, `index.jsonl`).
//!
//! Clip names are built from a sanitised call id, the start time and an ASCII category code,
//! never from transcript text, so they are safe on every file system; they are deterministic,
//! so re-running into the same folder replaces clips instead of adding copies. Overlapping
//! clips of one call are merged into one.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::audio::{Audio, SAMPLE_RATE};
use crate::{CallResult, Role};

/// What to cut.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    pub category: Option<String>,
    pub rule: Option<String>,
    pub agent: Option<String>,
    /// `YYYY-MM`, in the call's local time.
    pub month: Option<String>,
    pub context_ms: u64,
    /// Both channels (stereo) instead of the agent's only.
    pub both: bool,
}

/// One line of the index.
#[derive(Clone, Debug, Serialize)]
pub struct ClipRow {
    pub clip: String,
    pub call_id: String,
    pub agent_id: String,
    pub started_at: String,
    pub category: String,
    pub rule: String,
    pub phrase: String,
    pub start_ms: u64,
    pub end_ms: u64,
    pub excerpt: String,
}

/// ASCII codes for file names.
fn code(category: &str) -> String {
    let known = [
        ("机械", "jixie"),
        ("愤怒", "fennu"),
        ("反问", "fanwen"),
        ("质问", "zhiwen"),
        ("散漫", "sanman"),
        ("讽刺", "fengci"),
        ("脏话", "zanghua"),
    ];
    match known.iter().find(|(c, _)| *c == category) {
        Some((_, a)) => a.to_string(),
        None => {
            let ascii: String = category
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect();
            if ascii.chars().any(|c| c.is_ascii_alphanumeric()) {
                format!("rule{ascii}")
            } else {
                "other".into()
            }
        }
    }
}

/// Writes samples `from_ms..to_ms` of `audio` as 16-bit PCM WAV: agent only, or every track.
pub fn write_wav(
    path: &Path,
    audio: &Audio,
    from_ms: u64,
    to_ms: u64,
    all_tracks: bool,
) -> Result<(), String> {
    let tracks: Vec<&[f32]> = if all_tracks {
        audio.tracks.iter().map(|t| t.samples.as_slice()).collect()
    } else {
        audio
            .tracks
            .iter()
            .find(|t| t.role == Role::Agent)
            .or(audio.tracks.first())
            .map(|t| vec![t.samples.as_slice()])
            .unwrap_or_default()
    };
    let spec = hound::WavSpec {
        channels: tracks.len().max(1) as u16,
        sample_rate: SAMPLE_RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let per_ms = SAMPLE_RATE as u64 / 1000;
    let len = tracks.iter().map(|t| t.len()).max().unwrap_or(0);
    let (a, b) = (
        ((from_ms * per_ms) as usize).min(len),
        ((to_ms * per_ms) as usize).min(len),
    );
    let tmp = path.with_extension("wav.tmp");
    let fail = |e: hound::Error| format!("{}: {e}", path.display());
    let mut w = hound::WavWriter::create(&tmp, spec).map_err(fail)?;
    for i in a..b {
        for t in &tracks {
            let v = t.get(i).copied().unwrap_or(0.0).clamp(-1.0, 1.0);
            w.write_sample((v * 32_767.0) as i16).map_err(fail)?;
        }
    }
    w.finalize().map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))
}

/// A stretch of evidence to cut.
struct Want {
    category: String,
    rule: String,
    phrase: String,
    start_ms: u64,
    end_ms: u64,
}

fn wanted(r: &CallResult, sel: &Selection) -> Vec<Want> {
    let mut out = Vec::new();
    if sel.rule.is_none() {
        for h in &r.hits {
            if h.role == Role::Customer || sel.category.as_ref().is_some_and(|c| *c != h.category) {
                continue;
            }
            if sel.category.is_none() && !super::rollup::FORBIDDEN.contains(&h.category.as_str()) {
                continue;
            }
            out.push(Want {
                category: h.category.clone(),
                rule: h.rule.clone(),
                phrase: h.phrase.clone(),
                start_ms: h.start_ms,
                end_ms: h.end_ms,
            });
        }
    } else {
        for d in r
            .deductions
            .iter()
            .filter(|d| sel.rule.as_ref() == Some(&d.rule))
        {
            let category = d
                .evidence
                .first()
                .and_then(|&i| r.hits.get(i))
                .map(|h| h.category.clone())
                .unwrap_or_else(|| d.rule.clone());
            if sel.category.as_ref().is_some_and(|c| *c != category) {
                continue;
            }
            out.push(Want {
                category,
                rule: d.rule.clone(),
                phrase: d.words.clone(),
                start_ms: d.start_ms,
                end_ms: d.end_ms.max(d.start_ms),
            });
        }
    }
    out
}

/// Cuts the clips of `results` into `out` and writes the index. Returns the index rows.
pub fn cut(results: &[CallResult], out: &Path, sel: &Selection) -> Result<Vec<ClipRow>, String> {
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut rows = Vec::new();
    for r in results {
        if r.status != crate::score::Status::Ok
            || sel.agent.as_ref().is_some_and(|a| *a != r.agent_id)
            || sel
                .month
                .as_ref()
                .is_some_and(|m| r.started_at.format("%Y-%m").to_string() != *m)
        {
            continue;
        }
        let mut wants = wanted(r, sel);
        if wants.is_empty() {
            continue;
        }
        wants.sort_by_key(|w| w.start_ms);
        let duration = r
            .duration_ms
            .max(wants.iter().map(|w| w.end_ms).max().unwrap_or(0));
        // Merge evidence whose clips (with context) would overlap.
        let mut merged: Vec<(u64, u64, Vec<Want>)> = Vec::new();
        for w in wants {
            let (a, b) = (
                w.start_ms.saturating_sub(sel.context_ms),
                (w.end_ms + sel.context_ms).min(duration),
            );
            match merged.last_mut() {
                Some(last) if a <= last.1 => {
                    last.1 = last.1.max(b);
                    last.2.push(w);
                }
                _ => merged.push((a, b, vec![w])),
            }
        }
        let audio = crate::audio::decode(Path::new(&r.audio), r.agent_channel)
            .map_err(|e| e.to_string())?;
        for (a, b, ws) in merged {
            let first = &ws[0];
            let name = format!(
                "{}_{:07}_{}.wav",
                super::html::safe_name(&r.call_id),
                a,
                code(&first.category)
            );
            let path: PathBuf = out.join(&name);
            write_wav(&path, &audio, a, b, sel.both)?;
            let excerpt: String = r
                .segments
                .iter()
                .filter(|s| s.start_ms < b && s.end_ms > a)
                .map(|s| {
                    format!(
                        "[{}] {}",
                        if s.role == Role::Customer {
                            "客户"
                        } else {
                            "坐席"
                        },
                        s.text
                    )
                })
                .collect::<Vec<_>>()
                .join(" ");
            rows.push(ClipRow {
                clip: name,
                call_id: r.call_id.clone(),
                agent_id: r.agent_id.clone(),
                started_at: r.started_at.to_rfc3339(),
                category: ws
                    .iter()
                    .map(|w| w.category.as_str())
                    .collect::<Vec<_>>()
                    .join("+"),
                rule: ws
                    .iter()
                    .map(|w| w.rule.as_str())
                    .collect::<Vec<_>>()
                    .join("+"),
                phrase: ws
                    .iter()
                    .map(|w| w.phrase.as_str())
                    .collect::<Vec<_>>()
                    .join(" / "),
                start_ms: a,
                end_ms: b,
                excerpt,
            });
        }
    }
    let mut csv = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
    let mut jsonl = String::new();
    for row in &rows {
        csv.serialize(row).map_err(|e| e.to_string())?;
        jsonl.push_str(&serde_json::to_string(row).map_err(|e| e.to_string())?);
        jsonl.push('\n');
    }
    let csv = csv.into_inner().map_err(|e| e.to_string())?;
    super::write_atomic(&out.join("index.csv"), &csv).map_err(|e| e.to_string())?;
    super::write_atomic(&out.join("index.jsonl"), jsonl.as_bytes()).map_err(|e| e.to_string())?;
    Ok(rows)
}
