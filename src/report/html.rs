//! The inspector's report: a static site in `DIR/report/` that works from disk or any static
//! server, with no network resource.
//!
//! `index.html` lists every call (flagged first), sortable and filterable by agent, date,
//! direction, score, rubric item and 服务禁语 category, with a per-agent summary. Each call has
//! a page with its score, the deductions against the sheet, findings, the manual checklist and
//! the two-column transcript; clicking a deduction, hit or line plays the audio from 2 s before
//! that moment. The audio is always re-written as 16-bit PCM WAV beside the pages, because
//! browsers cannot play G.711 WAV and some recorder codecs.
//!
//! Every string that came from a recording or a manifest is HTML-escaped; `--redact` also
//! hides phone, ID-card and bank-card numbers in every text shown.

use std::fmt::Write as _;
use std::path::Path;

use super::redact::redact;
use super::rollup::FORBIDDEN;
use crate::score::{rule_text, Rubrics, Status};
use crate::{CallResult, Role};

const CSS: &str = include_str!("assets/report.css");
const JS: &str = include_str!("assets/report.js");

/// Report options.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub redact: bool,
}

/// HTML-escapes text for element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A file-name-safe form of a call id (no raw user text reaches the file system).
pub fn safe_name(id: &str) -> String {
    let cleaned: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(60)
        .collect();
    use sha2::{Digest, Sha256};
    let tag = hex::encode(&Sha256::digest(id.as_bytes())[..4]);
    format!("{cleaned}-{tag}")
}

fn mmss(ms: u64) -> String {
    format!("{}:{:04.1}", ms / 60_000, (ms % 60_000) as f64 / 1000.0)
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>{}</title><style>{CSS}</style></head><body>{body}<script>{JS}</script></body></html>\n",
        escape(title)
    )
}

/// Writes `DIR/report/` for `results`.
pub fn write(
    dir: &Path,
    results: &[CallResult],
    rubrics: &Rubrics,
    opts: &Options,
) -> Result<(), String> {
    let root = dir.join("report");
    let calls_dir = root.join("calls");
    let audio_dir = root.join("audio");
    for d in [&root, &calls_dir, &audio_dir] {
        std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    let show = |s: &str| {
        if opts.redact {
            escape(&redact(s))
        } else {
            escape(s)
        }
    };
    for r in results {
        let name = safe_name(&r.call_id);
        let audio = if r.status == Status::Ok {
            write_audio(r, &audio_dir.join(format!("{name}.wav")))
        } else {
            Err(String::new())
        };
        let html = call_page(
            r,
            rubrics,
            &show,
            audio.is_ok().then(|| format!("../audio/{name}.wav")),
        );
        super::write_atomic(&calls_dir.join(format!("{name}.html")), html.as_bytes())
            .map_err(|e| format!("{}: {e}", calls_dir.display()))?;
    }
    let index = index_page(results, &show);
    super::write_atomic(&root.join("index.html"), index.as_bytes())
        .map_err(|e| format!("{}: {e}", root.display()))
}

/// Re-writes the recording as 16-bit PCM WAV (agent left, customer right) a browser can play.
fn write_audio(r: &CallResult, path: &Path) -> Result<(), String> {
    let audio =
        crate::audio::decode(Path::new(&r.audio), r.agent_channel).map_err(|e| e.to_string())?;
    super::clips::write_wav(path, &audio, 0, audio.duration_ms, true)
}

fn call_page(
    r: &CallResult,
    rubrics: &Rubrics,
    show: &dyn Fn(&str) -> String,
    audio: Option<String>,
) -> String {
    let mut b = String::new();
    let _ = write!(
        b,
        "<p><a href=\"../index.html\">← 全部通话</a></p><h1>通话 {}</h1><dl class=\"meta\"><dt>坐席</dt><dd>{}</dd><dt>时间</dt><dd>{}</dd><dt>方向</dt><dd>{:?}</dd><dt>时长</dt><dd>{}</dd><dt>评分表</dt><dd>{}</dd></dl>",
        show(&r.call_id),
        show(&r.agent_id),
        escape(&r.started_at.to_rfc3339()),
        r.direction,
        mmss(r.duration_ms),
        escape(&r.rubric)
    );
    if let Some(err) = &r.error {
        let _ = write!(b, "<p class=\"error\">处理失败: {}</p>", show(err));
    }
    let _ = write!(
        b,
        "<p class=\"score\">得分 <b id=\"score\">{}</b> / {}{}</p>",
        r.score,
        r.max_score,
        if r.credits > 0.0 || r.fine_yuan > 0.0 {
            format!(" · 扣积分 {} · 罚款 {} 元", r.credits, r.fine_yuan)
        } else {
            String::new()
        }
    );
    match &audio {
        Some(src) => {
            let _ = write!(
                b,
                "<audio id=\"player\" controls preload=\"auto\" src=\"{}\"></audio>",
                escape(src)
            );
        }
        None => b.push_str("<p class=\"error\">录音无法转换为可播放格式</p>"),
    }
    b.push_str("<h2>扣分</h2>");
    if r.deductions.is_empty() {
        b.push_str("<p>无</p>");
    } else {
        b.push_str("<table class=\"deductions\"><tr><th>项</th><th>考核标准</th><th>扣分</th><th>原因</th><th>原话</th><th>时间</th></tr>");
        for d in &r.deductions {
            let _ = write!(
                b,
                "<tr class=\"jump deduction\" data-t=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                d.start_ms,
                escape(&d.rule),
                escape(rule_text(rubrics, &r.rubric, &d.rule).unwrap_or("")),
                d.points,
                show(&d.reason),
                show(&d.words),
                mmss(d.start_ms)
            );
        }
        b.push_str("</table>");
    }
    b.push_str("<h2>待复核</h2>");
    if r.findings.is_empty() {
        b.push_str("<p>无</p>");
    } else {
        b.push_str(
            "<table><tr><th>项</th><th>考核标准</th><th>原因</th><th>原话</th><th>时间</th></tr>",
        );
        for f in &r.findings {
            let _ = write!(
                b,
                "<tr class=\"jump\" data-t=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                f.start_ms,
                escape(&f.rule),
                escape(rule_text(rubrics, &r.rubric, &f.rule).unwrap_or("")),
                show(&f.reason),
                show(&f.words),
                mmss(f.start_ms)
            );
        }
        b.push_str("</table>");
    }
    b.push_str("<h2>通话记录</h2><div class=\"transcript\"><div class=\"col-head\">坐席</div><div class=\"col-head\">客户</div>");
    for s in &r.segments {
        let mut text = show(&s.text);
        for h in r.hits.iter().filter(|h| {
            h.role == s.role && h.start_ms < s.end_ms + 500 && h.end_ms + 500 > s.start_ms
        }) {
            let needle = show(&h.text);
            if !needle.is_empty()
                && text.contains(&needle)
                && !text.contains(&format!(">{needle}<"))
            {
                let cls = FORBIDDEN
                    .iter()
                    .position(|c| *c == h.category)
                    .map_or("hit".to_string(), |i| format!("hit c{i}"));
                text = text.replacen(
                    &needle,
                    &format!(
                        "<mark class=\"{cls} jump\" data-t=\"{}\" title=\"{}\">{needle}</mark>",
                        h.start_ms,
                        escape(&h.category)
                    ),
                    1,
                );
            }
        }
        let side = if s.role == Role::Customer {
            "customer"
        } else {
            "agent"
        };
        let _ = write!(
            b,
            "<div class=\"line {side} jump\" data-t=\"{}\"><span class=\"t\">{}</span> {text}</div>",
            s.start_ms,
            mmss(s.start_ms)
        );
    }
    b.push_str("</div>");
    if !r.manual.is_empty() {
        b.push_str("<h2>人工检查项</h2><ul class=\"manual\">");
        for m in &r.manual {
            let _ = write!(
                b,
                "<li><label><input type=\"checkbox\"> {}</label></li>",
                escape(m)
            );
        }
        b.push_str("</ul>");
    }
    page(&format!("通话 {}", r.call_id), &b)
}

fn index_page(results: &[CallResult], show: &dyn Fn(&str) -> String) -> String {
    let mut rows: Vec<&CallResult> = results.iter().collect();
    rows.sort_by(|a, b| {
        let flag = |r: &CallResult| {
            r.deductions.len() + r.findings.len() + usize::from(r.status == Status::Error)
        };
        flag(b)
            .cmp(&flag(a))
            .then(a.score.total_cmp(&b.score))
            .then(a.call_id.cmp(&b.call_id))
    });
    let mut agents: Vec<&str> = results.iter().map(|r| r.agent_id.as_str()).collect();
    agents.sort();
    agents.dedup();
    let mut items: Vec<&str> = results
        .iter()
        .flat_map(|r| r.deductions.iter().map(|d| d.rule.as_str()))
        .collect();
    items.sort();
    items.dedup();
    let options = |values: &[&str]| {
        values
            .iter()
            .map(|v| format!("<option>{}</option>", show(v)))
            .collect::<String>()
    };
    let mut b = String::new();
    let _ = write!(
        b,
        "<h1>质检报告</h1><div class=\"filters\"><label>坐席 <select id=\"f-agent\"><option value=\"\">全部</option>{}</select></label> <label>方向 <select id=\"f-direction\"><option value=\"\">全部</option><option>inbound</option><option>outbound</option></select></label> <label>扣分项 <select id=\"f-rule\"><option value=\"\">全部</option>{}</select></label> <label>禁语 <select id=\"f-category\"><option value=\"\">全部</option>{}</select></label> <label>日期 <input id=\"f-date\" placeholder=\"2026-10\"></label> <label>最高分 <input id=\"f-score\" type=\"number\"></label></div>",
        options(&agents),
        options(&items),
        options(&FORBIDDEN)
    );
    b.push_str("<table id=\"calls\" class=\"sortable\"><thead><tr><th>通话</th><th>坐席</th><th>时间</th><th>方向</th><th data-num>得分</th><th data-num>扣分项</th><th data-num>待复核</th><th>禁语</th><th>状态</th></tr></thead><tbody>");
    for r in rows {
        let categories: Vec<&str> = FORBIDDEN
            .iter()
            .copied()
            .filter(|c| {
                r.hits
                    .iter()
                    .any(|h| h.category == *c && h.role == Role::Agent)
            })
            .collect();
        let rules: Vec<&str> = r.deductions.iter().map(|d| d.rule.as_str()).collect();
        let _ = write!(
            b,
            "<tr data-agent=\"{}\" data-direction=\"{}\" data-date=\"{}\" data-score=\"{}\" data-rules=\" {} \" data-categories=\" {} \"><td><a href=\"calls/{}.html\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            show(&r.agent_id),
            if r.direction == crate::Direction::Inbound { "inbound" } else { "outbound" },
            escape(&r.started_at.to_rfc3339()),
            r.score,
            escape(&rules.join(" ")),
            categories.join(" "),
            safe_name(&r.call_id),
            show(&r.call_id),
            show(&r.agent_id),
            escape(&r.started_at.format("%Y-%m-%d %H:%M").to_string()),
            if r.direction == crate::Direction::Inbound { "呼入" } else { "外呼" },
            r.score,
            r.deductions.iter().filter(|d| d.points > 0.0).count(),
            r.findings.len(),
            categories.join(" "),
            if r.status == Status::Ok { "ok".to_string() } else { format!("<span class=\"error\">{}</span>", show(r.error.as_deref().unwrap_or("error"))) }
        );
    }
    b.push_str("</tbody></table><h2>坐席汇总</h2><table class=\"sortable\"><thead><tr><th>坐席</th><th data-num>通话</th><th data-num>平均分</th><th data-num>最低分</th><th data-num>禁语</th></tr></thead><tbody>");
    for a in &agents {
        let mine: Vec<&CallResult> = results
            .iter()
            .filter(|r| r.agent_id == *a && r.status == Status::Ok)
            .collect();
        let n = mine.len().max(1) as f64;
        let avg = mine.iter().map(|r| r.score).sum::<f64>() / n;
        let min = mine.iter().map(|r| r.score).fold(f64::INFINITY, f64::min);
        let forbidden = mine
            .iter()
            .flat_map(|r| &r.hits)
            .filter(|h| h.role == Role::Agent && FORBIDDEN.contains(&h.category.as_str()))
            .count();
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{:.1}</td><td>{}</td><td>{forbidden}</td></tr>",
            show(a),
            mine.len(),
            avg,
            if min.is_finite() {
                min.to_string()
            } else {
                "-".into()
            }
        );
    }
    b.push_str("</tbody></table>");
    page("质检报告", &b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(escape("\"onerror=x'"), "&quot;onerror=x&#39;");
    }

    #[test]
    fn safe_names_keep_no_user_text_that_could_escape() {
        let n = safe_name("../../etc/passwd 你好");
        assert!(
            n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "{n}"
        );
        assert_ne!(safe_name("a/b"), safe_name("a_b"));
    }
}
