//! The inspector's report: a static site in `DIR/report/` built from the scored calls.
//!
//! Takes the [`CallResult`]s of a results folder one at a time, as they stream from the store
//! ([`Report`]), and writes `index.html` (every call, flagged first, sortable and filterable,
//! with a per-agent summary), one page per call under `calls/` (deductions against the sheet,
//! findings, checklist, the two-column transcript with hits highlighted, an audio player) and
//! the CSS/JS compiled into the binary under `assets/`. No page loads anything from the
//! network, so it works from `file://` and any static server.
//!
//! The decision a reader may question: every recording is decoded again and written next to the
//! report as a 16 kHz 16-bit PCM WAV (agent left, customer right) instead of linking the
//! original. Browsers cannot play G.711 WAV, the original's path is rarely reachable from where
//! the report is opened, and one format means one code path to test. An existing WAV newer than
//! its recording is reused, so re-running is cheap; by default only flagged calls get audio.
//! `--redact` hides personal numbers in every text shown and bleeps them in the audio, and
//! builds the report in a fresh folder swapped in whole, so nothing of an earlier report stays.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::files::{locate_audio, safe_stem, spoken_numbers, write_wav};
use crate::audio::note_in_chinese;
use crate::score::{rule_text, Lang, Rubrics, Status};
use crate::text::redact::redact;
use crate::util::write_atomic;
use crate::{CallResult, Role};

mod index;

use index::Index;

const CSS: &str = include_str!("assets/report.css");
const JS: &str = include_str!("assets/report.js");
/// Number of category colours in the stylesheet (`.cat-0` … `.cat-11`).
const COLOURS: usize = 12;

/// How to write the report.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Replace phone, ID-card and bank-card numbers in every text, and leave the audio out.
    pub redact: bool,
    pub audio: AudioScope,
    /// Language of the interface words (the transcript and rule texts are as they are).
    pub lang: Lang,
}

/// Which call pages get a player. Each converted call costs a decode and 64 kB per second of
/// disk, so a monthly run over every call writes audio only where an inspector will listen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum AudioScope {
    /// Every call.
    All,
    /// Calls with deductions, findings or errors.
    #[default]
    Flagged,
    /// No audio at all.
    None,
}

/// What was written, and the calls whose audio could not be included.
#[derive(Debug, Default)]
pub struct HtmlSummary {
    pub calls: usize,
    pub index: PathBuf,
    /// One line per call without audio: `call_id: reason`.
    pub audio_problems: Vec<String>,
}

/// Why the report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: cannot write the report: {source}; check the folder exists and is writable", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A report written one call at a time: each call's page as the call comes, the index at the
/// end from what [`Index`] kept of each call (a few numbers and its row on disk), so writing
/// the report of a month costs memory for its agents and rubric items, not its calls.
pub struct Report<'a> {
    dir: PathBuf,
    root: PathBuf,
    page: Page<'a>,
    summary: HtmlSummary,
    index: Index,
}

impl<'a> Report<'a> {
    /// Starts the report of the results folder `dir`, whose calls' hits fall in `categories`
    /// (every category of every call: they fix each category's colour on every page).
    pub fn begin(
        dir: &Path,
        rubrics: &'a Rubrics,
        opts: &'a Options,
        categories: BTreeSet<String>,
    ) -> Result<Report<'a>, Error> {
        // Redacted: built in a fresh folder and swapped in by `finish`, so no page or recording
        // of an earlier, unredacted report survives beside it (their names may hold the very
        // numbers).
        let root = if opts.redact {
            let staging = dir.join(format!(".report-new-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&staging);
            staging
        } else {
            dir.join("report")
        };
        for sub in ["", "calls", "audio", "assets"] {
            let path = root.join(sub);
            std::fs::create_dir_all(&path).map_err(|source| Error::Write { path, source })?;
        }
        put(&root.join("assets/report.css"), CSS)?;
        put(&root.join("assets/report.js"), JS)?;
        // Colours by the report's sorted categories: distinct for up to 12, the same on every
        // page.
        let colours = categories
            .into_iter()
            .enumerate()
            .map(|(i, cat)| (cat, i % COLOURS))
            .collect();
        Ok(Report {
            dir: dir.to_path_buf(),
            index: Index::new(&root)?,
            summary: HtmlSummary {
                calls: 0,
                index: root.join("index.html"),
                audio_problems: Vec::new(),
            },
            root,
            page: Page {
                opts,
                rubrics,
                colours,
            },
        })
    }

    /// Writes the page (and, where wanted, the audio) of the next call.
    pub fn add(&mut self, call: &CallResult) -> Result<(), Error> {
        let stem = self.page.stem(call, self.summary.calls);
        self.summary.calls += 1;
        let wanted = match self.page.opts.audio {
            AudioScope::All => true,
            AudioScope::Flagged => call.needs_review(),
            AudioScope::None => false,
        };
        let audio = if call.audio.is_empty() {
            // Scored from text (`callqa score`): there is no recording to play, by design.
            Err("没有录音：这通电话是从文本转写评分的".to_string())
        } else if !wanted {
            Err("not written for this call; run `callqa html --audio all` to add it".to_string())
        } else {
            let out = self.root.join("audio").join(format!("{stem}.wav"));
            let converted = convert_audio(&self.dir, call, &out, self.page.opts.redact);
            if let Err(reason) = &converted {
                self.summary
                    .audio_problems
                    .push(format!("{}: {reason}", call.call_id));
            }
            converted
        };
        let html = self
            .page
            .call(call, &stem, audio.as_ref().copied().map_err(String::as_str));
        put(&self.root.join("calls").join(format!("{stem}.html")), &html)?;
        self.index.add(&self.page, call, &stem)
    }

    /// Writes the index and, when redacted, swaps the new report in whole.
    pub fn finish(self) -> Result<HtmlSummary, Error> {
        let Report {
            dir,
            root,
            page,
            mut summary,
            index,
        } = self;
        index.write(&page, &summary.index)?;
        if !page.opts.redact {
            return Ok(summary);
        }
        let target = dir.join("report");
        let fail = |path: &Path| {
            let path = path.to_path_buf();
            move |source| Error::Write { path, source }
        };
        let old = dir.join(format!(".report-old-{}", std::process::id()));
        if target.exists() {
            std::fs::rename(&target, &old).map_err(fail(&target))?;
        }
        std::fs::rename(&root, &target).map_err(fail(&target))?;
        let _ = std::fs::remove_dir_all(&old);
        summary.index = target.join("index.html");
        Ok(summary)
    }
}

fn put(path: &Path, text: &str) -> Result<(), Error> {
    write_atomic(path, text.as_bytes()).map_err(|source| Error::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes the file at `path` atomically, streamed by `fill`.
fn put_with(
    path: &Path,
    fill: impl FnOnce(&mut std::io::BufWriter<&mut std::fs::File>) -> std::io::Result<()>,
) -> Result<(), Error> {
    crate::util::write_atomic_with(path, fill).map_err(|source| Error::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Decodes the call's recording and writes it as a browser-playable WAV, unless an up-to-date
/// one is there already; redacted, with the personal numbers bleeped.
pub(crate) fn convert_audio(
    dir: &Path,
    call: &CallResult,
    out: &Path,
    redact: bool,
) -> Result<(), String> {
    let source = locate_audio(dir, &call.audio);
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if let (Some(src), Some(dst)) = (modified(&source), modified(out)) {
        if dst >= src {
            return Ok(());
        }
    }
    let audio = crate::audio::decode(&source, call.agent_channel).map_err(|e| e.to_string())?;
    let tracks: Vec<_> = audio.tracks.iter().collect();
    let len = tracks.iter().map(|t| t.samples.len()).max().unwrap_or(0);
    let bleep = if redact {
        spoken_numbers(call)
    } else {
        Vec::new()
    };
    write_wav(out, &tracks, 0, len, &bleep).map_err(|e| format!("{}: {e}", out.display()))
}

/// HTML-escapes text for element content and attribute values alike.
fn esc(s: &str) -> String {
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

/// `m:ss` for a time in milliseconds.
fn clock(ms: u64) -> String {
    format!("{}:{:02}", ms / 60_000, ms / 1000 % 60)
}

fn role_label(role: Role) -> &'static str {
    match role {
        Role::Agent => "坐席",
        Role::Customer => "客户",
        Role::Unknown => "未分离",
    }
}

/// Rubric items a call is marked on: its deductions' items and its findings' rules' items.
fn items(c: &CallResult) -> BTreeSet<String> {
    let item_of = |rule: &str| rule.split('.').next().unwrap_or(rule).to_string();
    c.deductions
        .iter()
        .map(|d| d.item.clone())
        .chain(c.findings.iter().map(|f| item_of(&f.rule)))
        .collect()
}

fn categories(c: &CallResult) -> BTreeSet<&str> {
    c.hits.iter().map(|h| h.category.as_str()).collect()
}

fn head(title: &str, assets: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>{}</title>\
         <link rel=\"stylesheet\" href=\"{assets}/report.css\"></head><body>\n",
        esc(title)
    )
}

fn foot(assets: &str) -> String {
    format!("<script src=\"{assets}/report.js\"></script>\n</body></html>\n")
}

struct Page<'a> {
    opts: &'a Options,
    rubrics: &'a Rubrics,
    colours: BTreeMap<String, usize>,
}

impl Page<'_> {
    /// The colour class number of a category.
    fn colour(&self, category: &str) -> usize {
        self.colours.get(category).copied().unwrap_or(0)
    }

    /// Text as the report shows it: redacted when asked.
    fn text<'s>(&self, s: &'s str) -> Cow<'s, str> {
        if self.opts.redact {
            Cow::Owned(redact(s))
        } else {
            Cow::Borrowed(s)
        }
    }

    /// Shown and escaped.
    fn t(&self, s: &str) -> String {
        esc(&self.text(s))
    }

    /// An interface word in the report's language: Chinese for inspectors unless asked.
    fn l<'w>(&self, zh: &'w str, en: &'w str) -> &'w str {
        match self.opts.lang {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    /// A table head row of interface words; `(class, zh, en, attributes)` per column.
    fn head_row(&self, columns: &[(&str, &str, &str, &str)]) -> String {
        let mut h = String::from("<thead><tr>");
        for (class, zh, en, attrs) in columns {
            let class = if class.is_empty() {
                String::new()
            } else {
                format!(" class=\"{class}\"")
            };
            let _ = write!(h, "<th{class}{attrs}>{}</th>", self.l(zh, en));
        }
        h.push_str("</tr></thead><tbody>");
        h
    }

    /// A call's page name; a redacted id must not leak into a URL, so it is numbered (by the
    /// call's place `i` in the report) instead of hashed (a hash of an 11-digit number is
    /// easily reversed).
    fn stem(&self, c: &CallResult, i: usize) -> String {
        match self.text(&c.call_id) {
            Cow::Owned(shown) if shown != c.call_id => format!("{}_{i}", safe_stem(&shown)),
            _ => safe_stem(&c.call_id),
        }
    }

    fn call(&self, c: &CallResult, stem: &str, audio: Result<(), &str>) -> String {
        let mut h = head(&format!("{} · 质检", self.text(&c.call_id)), "../assets");
        let _ = write!(
            h,
            "<p><a href=\"../index.html\">← {}</a></p><h1>{} {}</h1>",
            self.l("全部通话", "all calls"),
            self.l("通话", "Call"),
            self.t(&c.call_id)
        );
        h.push_str(&self.call_meta(c));
        h.push_str(&self.player(stem, audio));
        h.push_str(&self.deductions(c));
        h.push_str(&self.findings(c));
        h.push_str(&self.checklist(c));
        h.push_str(&self.hits(c));
        h.push_str(&self.transcript(c));
        h.push_str(&foot("../assets"));
        h
    }

    /// The call's facts: who, when, score, talk times, manifest columns, the error.
    fn call_meta(&self, c: &CallResult) -> String {
        let m = &c.metrics;
        let mut meta = vec![
            (self.l("坐席", "Agent"), self.t(&c.agent_id)),
            (self.l("开始时间", "Started"), esc(&c.started_at.to_rfc3339())),
            (self.l("方向", "Direction"), self.direction_name(c).to_string()),
            (self.l("评分表", "Sheet"), self.t(&c.rubric)),
            (self.l("时长", "Duration"), clock(c.duration_ms)),
            (self.l("录音", "Recording"), self.t(&c.audio)),
            (
                self.l("得分", "Score"),
                format!(
                    "<b>{}</b> / {} (积分 {}, 罚款 {} 元)",
                    c.score, c.max_score, c.credits, c.fine_yuan
                ),
            ),
            (
                self.l("通话时间", "Talk"),
                self.l(
                    "坐席 {a}，客户 {c}，重叠 {o}，冷场 {d}（最长静默 {s}），坐席首次开口 {f}",
                    "agent {a}, customer {c}, overlap {o}, dead air {d} (longest silence {s}), agent first speaks at {f}",
                )
                .replace("{a}", &clock(m.agent_talk_ms))
                .replace("{c}", &clock(m.customer_talk_ms))
                .replace("{o}", &clock(m.overlap_ms))
                .replace("{d}", &clock(m.dead_air_total_ms))
                .replace("{s}", &clock(m.longest_silence_ms))
                .replace("{f}", &m.first_agent_speech_ms.map_or("—".into(), clock)),
            ),
        ];
        if !m.decode_notes.is_empty() {
            let notes: Vec<String> = match self.opts.lang {
                Lang::Zh => m.decode_notes.iter().map(|n| note_in_chinese(n)).collect(),
                Lang::En => m.decode_notes.clone(),
            };
            meta.push((
                self.l("解码提示", "Decoding"),
                self.t(&notes.join(self.l("；", "; "))),
            ));
        }
        for (k, v) in &c.extra {
            meta.push(("", format!("{}: {}", self.t(k), self.t(v))));
        }
        if c.status == Status::Error {
            meta.push((
                self.l("错误", "Error"),
                format!(
                    "<span class=\"bad\">{}</span>",
                    self.t(c.error.as_deref().unwrap_or(""))
                ),
            ));
        }
        let mut h = String::new();
        h.push_str("<div class=\"meta\">");
        for (k, v) in meta {
            let _ = write!(h, "<div class=\"muted\">{k}</div><div>{v}</div>");
        }
        h.push_str("</div>");
        h
    }

    /// The audio player, or why there is none.
    fn player(&self, stem: &str, audio: Result<(), &str>) -> String {
        let mut h = String::new();
        match audio {
            Ok(()) => {
                let _ = write!(
                    h,
                    "<div class=\"player\"><audio id=\"player\" controls preload=\"auto\" \
                     src=\"../audio/{}.wav\"></audio><div class=\"muted\">{}</div></div>",
                    esc(stem),
                    self.l(
                        "点击扣分项、命中或任一句，从其前 2 秒开始播放。左声道：坐席，右声道：客户。",
                        "Click a deduction, hit or line to play from 2 s before it. Left: agent, right: customer."
                    )
                );
            }
            Err(reason) => {
                let _ = write!(
                    h,
                    "<p class=\"muted\">{}：{}</p>",
                    self.l("无录音", "No audio"),
                    self.t(reason)
                );
            }
        }
        h
    }

    /// The manual items as a checklist to tick while listening.
    fn checklist(&self, c: &CallResult) -> String {
        let mut h = String::new();
        if !c.manual.is_empty() {
            let _ = write!(
                h,
                "<h2>{}</h2><ul>",
                self.l(
                    "人工检查项（请听录音判断）",
                    "Checklist (judge by listening)"
                )
            );
            for item in &c.manual {
                let _ = write!(h, "<li>☐ {}</li>", self.t(item));
            }
            h.push_str("</ul>");
        }
        h
    }

    fn deductions(&self, c: &CallResult) -> String {
        let title = self.l("扣分", "Deductions");
        if c.deductions.is_empty() {
            return format!("<h2>{title}</h2><p>{}</p>", self.l("无。", "None."));
        }
        let mut h = format!("<h2>{title}</h2><table id=\"deductions\">");
        h.push_str(&self.head_row(&[
            ("", "项", "Item", ""),
            ("", "细则", "Rule", ""),
            ("", "质检标准", "质检标准", ""),
            ("num", "扣分", "Points", ""),
            ("", "原因", "Reason", ""),
            ("", "证据", "Evidence", ""),
            ("", "时间", "Time", ""),
        ]));
        for d in &c.deductions {
            let text = rule_text(self.rubrics, &c.rubric, &d.rule).unwrap_or("—");
            let _ = write!(
                h,
                "<tr class=\"seek\" data-seek-ms=\"{}\"><td>{}</td><td>{}</td><td>{}</td>\
                 <td class=\"num bad\">−{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                d.start_ms,
                esc(&d.item),
                esc(&d.rule),
                esc(text),
                d.points,
                self.t(&d.reason),
                self.evidence(c, &d.words, &d.evidence),
                clock(d.start_ms)
            );
        }
        h.push_str("</tbody></table>");
        h
    }

    fn findings(&self, c: &CallResult) -> String {
        if c.findings.is_empty() {
            return String::new();
        }
        let mut h = format!(
            "<h2>{}</h2><table id=\"findings\">",
            self.l("待质检员判断", "Findings for review")
        );
        h.push_str(&self.head_row(&[
            ("", "细则", "Rule", ""),
            ("", "质检标准", "质检标准", ""),
            ("", "原因", "Reason", ""),
            ("", "证据", "Evidence", ""),
            ("", "时间", "Time", ""),
        ]));
        for f in &c.findings {
            let text = rule_text(self.rubrics, &c.rubric, &f.rule).unwrap_or("—");
            let _ = write!(
                h,
                "<tr class=\"seek\" data-seek-ms=\"{}\"><td>{}</td><td>{}</td><td>{}</td>\
                 <td>{}</td><td>{}</td></tr>",
                f.start_ms,
                esc(&f.rule),
                esc(text),
                self.t(&f.reason),
                self.evidence(c, &f.words, &f.evidence),
                clock(f.start_ms)
            );
        }
        h.push_str("</tbody></table>");
        h
    }

    /// The words a deduction or finding rests on, or else the words of its hits.
    fn evidence(&self, c: &CallResult, words: &str, idx: &[usize]) -> String {
        if !words.is_empty() {
            return self.t(words);
        }
        idx.iter()
            .filter_map(|&i| c.hits.get(i))
            .map(|hit| {
                format!(
                    "<mark class=\"cat-{}\">{}</mark>",
                    self.colour(&hit.category),
                    self.t(&hit.text)
                )
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn hits(&self, c: &CallResult) -> String {
        if c.hits.is_empty() {
            return String::new();
        }
        let mut h = format!("<h2>{}</h2><table id=\"hits\">", self.l("命中", "Hits"));
        h.push_str(&self.head_row(&[
            ("", "类别", "Category", ""),
            ("", "词条", "Entry", ""),
            ("", "说话人", "Who", ""),
            ("", "听到的话", "Words heard", ""),
            ("", "词库短语", "Lexicon phrase", ""),
            ("", "匹配", "Match", ""),
            ("", "时间", "Time", ""),
        ]));
        for hit in &c.hits {
            let _ = write!(
                h,
                "<tr class=\"seek\" data-seek-ms=\"{}\"><td><mark class=\"cat-{}\">{}</mark></td>\
                 <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                hit.start_ms,
                self.colour(&hit.category),
                esc(&hit.category),
                esc(&hit.rule),
                role_label(hit.role),
                self.t(&hit.text),
                self.t(&hit.phrase),
                self.match_kind(hit),
                clock(hit.start_ms)
            );
        }
        h.push_str("</tbody></table>");
        h
    }

    fn transcript(&self, c: &CallResult) -> String {
        let mut h = format!(
            "<h2>{}</h2><div class=\"conv\" id=\"transcript\">\
             <div class=\"head\">{}</div><div class=\"head\">{}</div>",
            self.l("转写", "Transcript"),
            self.l("坐席", "Agent"),
            self.l("客户", "Customer"),
        );
        for seg in &c.segments {
            let _ = write!(
                h,
                "<div class=\"line {} seek\" data-seek-ms=\"{}\"><span class=\"t\">{}</span>{}</div>",
                seg.role.as_str(),
                seg.start_ms,
                clock(seg.start_ms),
                self.marked(c, seg)
            );
        }
        h.push_str("</div>");
        h
    }

    /// A segment's text with each hit on it wrapped in a category-coloured `<mark>`.
    ///
    /// Hits carry offsets into the per-speaker transcript, not into these merged segments, so
    /// they are placed again by speaker, time and words. Redaction keeps the length, so the
    /// places found in the original text hold in the redacted one.
    fn marked(&self, c: &CallResult, seg: &crate::score::ResultSegment) -> String {
        let original: Vec<char> = seg.text.chars().collect();
        let mut marks: Vec<(usize, usize, &str)> = Vec::new();
        for hit in &c.hits {
            let on_segment = hit.role == seg.role
                && hit.start_ms <= seg.end_ms
                && hit.end_ms >= seg.start_ms
                && !hit.text.is_empty();
            if !on_segment {
                continue;
            }
            let needle: Vec<char> = hit.text.chars().collect();
            let found = (0..original.len().saturating_sub(needle.len() - 1)).find(|&s| {
                original[s..s + needle.len()] == needle[..]
                    && marks
                        .iter()
                        .all(|&(a, b, _)| s + needle.len() <= a || s >= b)
            });
            if let Some(s) = found {
                marks.push((s, s + needle.len(), &hit.category));
            }
        }
        marks.sort_unstable();
        let shown: Vec<char> = self.text(&seg.text).chars().collect();
        let slice = |a: usize, b: usize| esc(&shown[a..b].iter().collect::<String>());
        let mut out = String::new();
        let mut at = 0;
        for (a, b, category) in marks {
            out.push_str(&slice(at, a));
            let _ = write!(
                out,
                "<mark class=\"cat-{}\" title=\"{}\">{}</mark>",
                self.colour(category),
                esc(category),
                slice(a, b)
            );
            at = b;
        }
        out.push_str(&slice(at, shown.len()));
        out
    }
}

/// The direction as the filter knows it.
fn direction_key(c: &CallResult) -> &'static str {
    match c.direction {
        crate::Direction::Inbound => "inbound",
        crate::Direction::Outbound => "outbound",
    }
}

impl Page<'_> {
    fn direction_name(&self, c: &CallResult) -> &'static str {
        match c.direction {
            crate::Direction::Inbound => self.l("呼入", "inbound"),
            crate::Direction::Outbound => self.l("外呼", "outbound"),
        }
    }

    /// How a hit matched its lexicon phrase: exactly, by sound, or nearly (with similarity).
    fn match_kind(&self, hit: &crate::Hit) -> String {
        use crate::text::phonetic::MatchKind;
        let kind = match hit.kind {
            MatchKind::Exact => self.l("原字", "exact"),
            MatchKind::Homophone => self.l("同音", "homophone"),
            MatchKind::Near => self.l("近音", "near"),
        };
        if hit.kind == MatchKind::Exact {
            kind.to_string()
        } else {
            format!("{kind} {:.0}%", hit.similarity * 100.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc("<script>\"onerror='x'&"),
            "&lt;script&gt;&quot;onerror=&#39;x&#39;&amp;"
        );
    }

    #[test]
    fn clock_formats_minutes_and_seconds() {
        assert_eq!(clock(0), "0:00");
        assert_eq!(clock(75_500), "1:15");
    }
}
