//! The report's index page, built from what each call leaves behind as the calls stream past:
//! its place in the review order and its table row, kept on disk (a temporary file read back
//! in that order), the per-agent totals and the filters' choices. A month of calls then costs
//! the index a few dozen bytes a call, never the calls themselves.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Write as _;
use std::os::unix::fs::FileExt;
use std::path::Path;

use super::{categories, direction_key, esc, foot, head, items, put_with, Error, Page};
use crate::score::{Lang, Status};
use crate::CallResult;

/// What the index keeps of a call: the review order's keys and where its row is.
struct Entry {
    call_id: String,
    failed: bool,
    flagged: bool,
    score: f64,
    at: u64,
    len: usize,
}

/// One agent's line of the summary table.
#[derive(Default)]
pub(super) struct AgentRow {
    calls: usize,
    scored: usize,
    sum: f64,
    min: Option<f64>,
    flagged: usize,
    deductions: usize,
}

/// The index being gathered.
pub(super) struct Index {
    rows: std::io::BufWriter<std::fs::File>,
    written: u64,
    entries: Vec<Entry>,
    flagged: usize,
    agents: BTreeMap<String, AgentRow>,
    choices: Choices,
}

/// What the filters above the table offer.
#[derive(Default)]
struct Choices {
    /// Agents as the report shows them (redacted when asked).
    agents: BTreeSet<String>,
    items: BTreeSet<String>,
    categories: BTreeSet<String>,
}

impl Index {
    /// An empty index whose rows wait in a temporary file in `root`, gone when it is dropped.
    pub(super) fn new(root: &Path) -> Result<Index, Error> {
        let rows = tempfile::tempfile_in(root).map_err(|source| Error::Write {
            path: root.to_path_buf(),
            source,
        })?;
        Ok(Index {
            rows: std::io::BufWriter::new(rows),
            written: 0,
            entries: Vec::new(),
            flagged: 0,
            agents: BTreeMap::new(),
            choices: Choices::default(),
        })
    }

    /// Takes in one call whose page is `stem`.
    pub(super) fn add(&mut self, page: &Page, c: &CallResult, stem: &str) -> Result<(), Error> {
        let marked = items(c);
        let row = page.index_row(c, stem, &marked);
        self.rows
            .write_all(row.as_bytes())
            .map_err(|source| self.fail(source))?;
        let flagged = c.needs_review();
        self.entries.push(Entry {
            call_id: c.call_id.clone(),
            failed: c.status == Status::Error,
            flagged,
            score: c.score,
            at: self.written,
            len: row.len(),
        });
        self.written += row.len() as u64;
        self.flagged += usize::from(flagged);
        if !self.agents.contains_key(&c.agent_id) {
            self.choices
                .agents
                .insert(page.text(&c.agent_id).into_owned());
            self.agents.insert(c.agent_id.clone(), AgentRow::default());
        }
        if let Some(r) = self.agents.get_mut(&c.agent_id) {
            r.calls += 1;
            r.flagged += usize::from(flagged);
            r.deductions += c.deductions.len();
            if c.status == Status::Ok {
                r.scored += 1;
                r.sum += c.score;
                r.min = Some(r.min.map_or(c.score, |m: f64| m.min(c.score)));
            }
        }
        self.choices.items.extend(marked);
        for cat in categories(c) {
            if !self.choices.categories.contains(cat) {
                self.choices.categories.insert(cat.to_string());
            }
        }
        Ok(())
    }

    fn fail(&self, source: std::io::Error) -> Error {
        Error::Write {
            path: "index.html".into(),
            source,
        }
    }

    /// Writes `index.html` at `path`: the summary, the filters, then every call's row in the
    /// review order (failed calls first, then flagged ones, lowest score first, then by id).
    pub(super) fn write(self, page: &Page, path: &Path) -> Result<(), Error> {
        let Index {
            rows,
            mut entries,
            flagged,
            agents,
            choices,
            ..
        } = self;
        entries.sort_by(|x, y| {
            y.failed
                .cmp(&x.failed)
                .then(y.flagged.cmp(&x.flagged))
                .then(x.score.total_cmp(&y.score))
                .then(x.call_id.cmp(&y.call_id))
        });
        let rows = rows
            .into_inner()
            .map_err(|e| e.into_error())
            .map_err(|source| Error::Write {
                path: path.to_path_buf(),
                source,
            })?;
        put_with(path, |w| {
            w.write_all(head("质检报告", "assets").as_bytes())?;
            w.write_all(page.intro(entries.len(), flagged).as_bytes())?;
            w.write_all(page.agent_summary(&agents).as_bytes())?;
            w.write_all(page.filters(&choices, entries.len()).as_bytes())?;
            w.write_all(b"<table id=\"calls\">")?;
            w.write_all(page.index_head().as_bytes())?;
            w.write_all(b"\n")?;
            let mut row = Vec::new();
            for e in &entries {
                row.resize(e.len, 0);
                rows.read_exact_at(&mut row, e.at)?;
                w.write_all(&row)?;
            }
            w.write_all(b"</tbody></table>")?;
            w.write_all(foot("assets").as_bytes())
        })
    }
}

impl Page<'_> {
    /// The title and the one-line summary above the table.
    fn intro(&self, calls: usize, n_flagged: usize) -> String {
        match self.opts.lang {
            Lang::Zh => format!(
                "<h1>质检报告</h1><p>共 {calls} 通电话，{n_flagged} 通待复核（扣分、需判断的发现或出错），排在最前。</p>"
            ),
            Lang::En => format!(
                "<h1>Inspector report</h1><p>{calls} calls, {n_flagged} flagged \
                 (deductions, findings to judge or errors), shown first.</p>"
            ),
        }
    }

    fn index_head(&self) -> String {
        self.head_row(&[
            ("sortable", "通话", "Call", " data-key=\"call\""),
            ("sortable", "坐席", "Agent", " data-key=\"agent\""),
            ("sortable", "开始时间", "Started", " data-key=\"when\""),
            ("sortable", "方向", "Direction", " data-key=\"direction\""),
            (
                "sortable num",
                "得分",
                "Score",
                " data-key=\"score\" data-numeric",
            ),
            (
                "sortable num",
                "扣分项",
                "Deductions",
                " data-key=\"deductions\" data-numeric",
            ),
            ("", "质检项", "Items", ""),
            (
                "",
                "命中类别（服务禁语 …）",
                "Hit categories (服务禁语 …)",
                "",
            ),
            ("", "状态", "Status", ""),
        ])
    }

    /// One call's row, with the data- attributes the page's filters and sorting read.
    fn index_row(&self, c: &CallResult, stem: &str, items: &BTreeSet<String>) -> String {
        let items: Vec<&str> = items.iter().map(String::as_str).collect();
        let cats: Vec<&str> = categories(c).into_iter().collect();
        let status = match c.status {
            Status::Ok => self.l("正常", "ok").to_string(),
            Status::Error => format!(
                "<span class=\"bad\">{}</span> {}",
                self.l("出错", "error"),
                self.t(c.error.as_deref().unwrap_or(""))
            ),
        };
        let class = match (c.needs_review(), c.status) {
            (_, Status::Error) => "flagged error",
            (true, _) => "flagged",
            _ => "",
        };
        let direction = direction_key(c);
        format!(
            "<tr class=\"{class}\" data-call=\"{call}\" data-agent=\"{agent}\" \
             data-when=\"{when}\" data-date=\"{date}\" data-direction=\"{direction}\" \
             data-score=\"{score}\" data-deductions=\"{nd}\" data-items=\"{items}\" \
             data-categories=\"{cats}\" data-flagged=\"{fl}\">\
             <td><a href=\"calls/{stem}.html\">{call}</a></td><td>{agent}</td>\
             <td>{started}</td><td>{shown_direction}</td><td class=\"num\">{score}/{max}</td>\
             <td class=\"num\">{nd}</td><td>{items}</td><td>{cat_marks}</td><td>{status}</td></tr>\n",
            call = self.t(&c.call_id),
            agent = self.t(&c.agent_id),
            shown_direction = self.direction_name(c),
            when = esc(&c.started_at.to_rfc3339()),
            date = c.started_at.format("%Y-%m-%d"),
            score = c.score,
            max = c.max_score,
            nd = c.deductions.len(),
            items = esc(&items.join(" ")),
            cats = esc(&cats.join("|")),
            fl = u8::from(c.needs_review()),
            stem = esc(stem),
            started = esc(&c.started_at.format("%Y-%m-%d %H:%M").to_string()),
            cat_marks = cats
                .iter()
                .map(|k| format!("<mark class=\"cat-{}\">{}</mark>", self.colour(k), esc(k)))
                .collect::<Vec<_>>()
                .join(" "),
        )
    }

    fn agent_summary(&self, rows: &BTreeMap<String, AgentRow>) -> String {
        let mut h = format!(
            "<h2>{}</h2><table id=\"agents\">",
            self.l("坐席汇总", "Agents")
        );
        h.push_str(&self.head_row(&[
            ("", "坐席", "Agent", ""),
            ("num", "通话数", "Calls", ""),
            ("num", "平均分", "Mean score", ""),
            ("num", "最低分", "Lowest", ""),
            ("num", "扣分项", "Deductions", ""),
            ("num", "待复核", "Flagged", ""),
        ]));
        for (agent, r) in rows {
            let mean = if r.scored > 0 {
                format!("{:.1}", r.sum / r.scored as f64)
            } else {
                "—".into()
            };
            let _ = write!(
                h,
                "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{mean}</td>\
                 <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                self.t(agent),
                r.calls,
                r.min.map_or("—".into(), |m| m.to_string()),
                r.deductions,
                r.flagged
            );
        }
        h.push_str("</tbody></table>");
        h
    }

    fn filters(&self, choices: &Choices, calls: usize) -> String {
        let all = self.l("全部", "all");
        let options = |id: &str, label: &str, values: &BTreeSet<String>| {
            let mut s =
                format!("<label>{label}<select id=\"{id}\"><option value=\"\">{all}</option>");
            for v in values {
                let _ = write!(s, "<option value=\"{0}\">{1}</option>", esc(v), self.t(v));
            }
            s.push_str("</select></label>");
            s
        };
        format!(
            "<h2>{calls} (<span id=\"shown\">{}</span> {shown})</h2><div class=\"filters\">{}{}\
             <label>{from}<input id=\"f-from\" type=\"date\"></label>\
             <label>{to}<input id=\"f-to\" type=\"date\"></label>\
             <label>{score} ≤<input id=\"f-score\" type=\"number\" step=\"any\"></label>\
             {}{}<label>{only}<input id=\"f-flagged\" type=\"checkbox\"></label></div>",
            calls,
            options("f-agent", self.l("坐席", "Agent"), &choices.agents),
            options(
                "f-direction",
                self.l("方向", "Direction"),
                &["inbound", "outbound"].map(String::from).into()
            ),
            options("f-item", self.l("质检项", "Rubric item"), &choices.items),
            options(
                "f-category",
                self.l("命中类别", "Hit category"),
                &choices.categories
            ),
            calls = self.l("通话", "Calls"),
            shown = self.l("通显示", "shown"),
            from = self.l("从", "From"),
            to = self.l("到", "To"),
            score = self.l("得分", "Score"),
            only = self.l("只看待复核", "Flagged only"),
        )
    }
}
