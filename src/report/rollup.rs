//! The monthly per-agent rollup: one row per agent and month, plus a row per team and an
//! overall row, written (polars) as CSV (UTF-8 with BOM, so Excel and WPS read the Chinese), Parquet
//! and XLSX (one sheet per month, frozen header, set widths).
//!
//! The totals are kept per month, team and agent and fed one call at a time ([`Rollup`]) as the
//! results stream from the store, so a month of 100,000 calls costs memory for its agents, not
//! its calls; polars only writes the finished table.
//!
//! Months are taken in the call's own local time (the offset in `started_at`), because that is
//! the month the centre books the call in.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::score::{Check, Detector, Rubrics};
use crate::{CallResult, Role};

pub use crate::score::Lang;

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Parquet,
    Xlsx,
}

/// The fixed columns: (column, Chinese header) in output order.
const FIXED: [(&str, &str); 16] = [
    ("month", "月份"),
    ("team", "班组"),
    ("agent_id", "坐席工号"),
    ("calls", "通话数"),
    ("failed", "处理失败"),
    ("audio_minutes", "录音分钟"),
    ("avg_score", "平均得分"),
    ("reviewed", "按复核分计通话"),
    ("min_score", "最低得分"),
    ("flagged", "待复核通话"),
    ("avg_dead_air_s", "平均静音秒"),
    ("total_dead_air_s", "静音总秒"),
    ("talk_ratio", "坐席说话占比"),
    ("avg_handle_s", "平均通话秒"),
    ("credits", "扣积分"),
    ("fine_yuan", "罚款元"),
];

/// The columns the rubric decides: one per item of each sheet (calls that lost points on it;
/// the two sheets number their items differently, so a column is a sheet's item, never a bare
/// number), and one per lexicon an `auto` rule charges the agent for (服务禁语 and the like).
struct RubricColumns {
    /// (sheet, item id, item name)
    items: Vec<(String, String, String)>,
    categories: Vec<String>,
}

impl RubricColumns {
    fn of(rubrics: &Rubrics) -> RubricColumns {
        let mut items = Vec::new();
        let mut categories: Vec<String> = Vec::new();
        for sheet in &rubrics.sheets {
            for item in sheet
                .items
                .iter()
                .filter(|i| !i.bonus && !i.rules.is_empty())
            {
                items.push((sheet.name.clone(), item.id.clone(), item.name.clone()));
                for rule in item.rules.iter().filter(|r| r.check == Check::Auto) {
                    if let Some(Detector::LexiconHits(p)) = &rule.detect {
                        if p.role == crate::score::Speaker::Agent {
                            for c in &p.categories {
                                if !categories.contains(c) {
                                    categories.push(c.clone());
                                }
                            }
                        }
                    }
                }
            }
        }
        RubricColumns { items, categories }
    }

    fn item_column(sheet: &str, id: &str, name: &str) -> String {
        format!("{sheet}·{id}·{name}")
    }

    fn category_column(category: &str) -> String {
        format!("禁语_{category}")
    }

    /// The column names, in output order: charged lexicons, then sheet items.
    fn names(&self) -> Vec<String> {
        let categories = self.categories.iter().map(|c| Self::category_column(c));
        let items = self
            .items
            .iter()
            .map(|(s, i, n)| Self::item_column(s, i, n));
        categories.chain(items).collect()
    }
}

/// The header of column `c` in `lang`: fixed columns by the table, rubric columns by their
/// shape (`禁语_反问`, `客服·1·及时应答`).
fn header(c: &str, lang: Lang) -> String {
    if let Some((_, zh)) = FIXED.iter().find(|(name, _)| *name == c) {
        return match lang {
            Lang::Zh => zh.to_string(),
            Lang::En => c.to_string(),
        };
    }
    if let Some(cat) = c.strip_prefix("禁语_") {
        return match lang {
            Lang::Zh => format!("禁语·{cat}"),
            Lang::En => format!("agent_hits_{cat}"),
        };
    }
    let parts: Vec<&str> = c.splitn(3, '·').collect();
    match (parts.as_slice(), lang) {
        ([sheet, _, name], Lang::Zh) => format!("{sheet}·{name}扣分通话"),
        ([sheet, id, name], Lang::En) => format!("calls_deducted_{sheet}_{id}_{name}"),
        _ => c.to_string(),
    }
}

/// The published reviews by call_id: a call with one is counted with its reviewed score and
/// the 积分 / 元 the review charged, instead of the machine's.
pub use crate::store::results::Reviewed;

/// The running totals of one row of the rollup (an agent, a team or the whole centre in a
/// month).
#[derive(Default)]
struct Totals {
    calls: i64,
    failed: i64,
    duration_s: Sum,
    /// Scores of calls that did not fail: their sum, how many, the lowest.
    score: Sum,
    scored: i64,
    min_score: Option<f64>,
    reviewed: i64,
    flagged: i64,
    dead_air_s: Sum,
    agent_talk_s: Sum,
    customer_talk_s: Sum,
    credits: Sum,
    fine_yuan: Sum,
    /// One count per rubric column, in [`RubricColumns`] order.
    counted: Vec<i64>,
}

/// A sum of floats with Kahan's compensation, added call by call in call_id order: what polars
/// did when it aggregated a table of one row per call, so every total comes out the same to
/// the last digit.
#[derive(Clone, Copy, Default)]
struct Sum {
    total: f64,
    error: f64,
}

impl Sum {
    fn add(&mut self, x: f64) {
        let y = x - self.error;
        let total = self.total + y;
        let error = (total - self.total) - y;
        self.total = total;
        // An infinite error would turn every later sum into NaN.
        if error.is_finite() {
            self.error = error;
        }
    }
}

/// What one call adds to each row it falls in.
struct CallFacts {
    failed: bool,
    score: Option<f64>,
    reviewed: bool,
    flagged: bool,
    credits: f64,
    fine_yuan: f64,
    counted: Vec<i64>,
}

impl Totals {
    fn add(&mut self, r: &CallResult, f: &CallFacts) {
        let secs = |ms: u64| ms as f64 / 1000.0;
        self.calls += 1;
        self.failed += i64::from(f.failed);
        self.duration_s.add(secs(r.duration_ms));
        if let Some(s) = f.score {
            self.score.add(s);
            self.scored += 1;
            self.min_score = Some(self.min_score.map_or(s, |m| m.min(s)));
        }
        self.reviewed += i64::from(f.reviewed);
        self.flagged += i64::from(f.flagged);
        self.dead_air_s.add(secs(r.metrics.dead_air_total_ms));
        self.agent_talk_s.add(secs(r.metrics.agent_talk_ms));
        self.customer_talk_s.add(secs(r.metrics.customer_talk_ms));
        self.credits.add(f.credits);
        self.fine_yuan.add(f.fine_yuan);
        self.counted.resize(f.counted.len(), 0);
        for (total, n) in self.counted.iter_mut().zip(&f.counted) {
            *total += n;
        }
    }
}

/// An agent's, a team's or the centre's row: its month, team and agent_id cells and totals.
type Row<'a> = (&'a str, Cow<'a, str>, Cow<'a, str>, &'a Totals);

/// One team of a month: its totals and its agents'.
#[derive(Default)]
struct Team {
    totals: Totals,
    agents: BTreeMap<String, Totals>,
}

/// One month: the centre's totals and its teams'.
#[derive(Default)]
struct Month {
    totals: Totals,
    teams: BTreeMap<String, Team>,
}

/// The rollup built one call at a time, in memory that grows with agents × months, never with
/// the number of calls: [`Rollup::add`] each result as it streams from the store, then
/// [`Rollup::table`].
pub struct Rollup {
    columns: RubricColumns,
    month: Option<String>,
    months: BTreeMap<String, Month>,
}

/// `map[key]`, inserted empty when missing, without allocating a key for a present one.
fn slot<'m, T: Default>(map: &'m mut BTreeMap<String, T>, key: &str) -> &'m mut T {
    if !map.contains_key(key) {
        map.insert(key.to_string(), T::default());
    }
    map.get_mut(key).expect("inserted above")
}

impl Rollup {
    /// An empty rollup with the columns of `rubrics`, counting only `month` (YYYY-MM) if given.
    pub fn new(rubrics: &Rubrics, month: Option<&str>) -> Rollup {
        Rollup {
            columns: RubricColumns::of(rubrics),
            month: month.map(str::to_string),
            months: BTreeMap::new(),
        }
    }

    /// Counts one call. Scores, 积分 and 元 are the published review's where `reviewed` has
    /// one, the machine's otherwise.
    pub fn add(&mut self, r: &CallResult, reviewed: &Reviewed) {
        let month = r.started_at.format("%Y-%m").to_string();
        if self.month.as_ref().is_some_and(|m| *m != month) {
            return;
        }
        let facts = self.facts(r, reviewed);
        let m = slot(&mut self.months, &month);
        m.totals.add(r, &facts);
        let team = slot(&mut m.teams, r.extra.get("team").map_or("", String::as_str));
        team.totals.add(r, &facts);
        slot(&mut team.agents, &r.agent_id).add(r, &facts);
    }

    fn facts(&self, r: &CallResult, reviewed: &Reviewed) -> CallFacts {
        let ok = r.status == crate::score::Status::Ok;
        let review = reviewed.get(&r.call_id).filter(|_| ok);
        let agent_hits = |category: &String| {
            r.hits
                .iter()
                .filter(|h| &h.category == category && h.role == Role::Agent)
                .count() as i64
        };
        let deducted = |(sheet, id, _): &(String, String, String)| {
            i64::from(
                &r.rubric == sheet && r.deductions.iter().any(|d| &d.item == id && d.points > 0.0),
            )
        };
        CallFacts {
            failed: !ok,
            score: ok.then(|| review.map_or(r.score, |v| v.score)),
            reviewed: review.is_some(),
            flagged: r.needs_review(),
            credits: review.map_or(r.credits, |v| v.credits),
            fine_yuan: review.map_or(r.fine_yuan, |v| v.fine_yuan),
            counted: (self.columns.categories.iter().map(agent_hits))
                .chain(self.columns.items.iter().map(deducted))
                .collect(),
        }
    }

    /// The rollup table: agents, then a row per team (agent_id = the team's name in brackets)
    /// and an overall row (agent_id = 全部) per month, each part in month, team, agent order.
    /// Columns after the fixed ones come from the rubrics: agent hits per charged lexicon,
    /// then calls deducted per sheet item; column `reviewed` counts the calls whose published
    /// review is counted instead of the machine's score.
    pub fn table(&self) -> PolarsResult<DataFrame> {
        let mut rows: Vec<Row> = Vec::new();
        for (month, m) in &self.months {
            for (team, t) in &m.teams {
                rows.extend(t.agents.iter().map(|(agent, a)| {
                    (
                        month.as_str(),
                        Cow::from(team.as_str()),
                        Cow::from(agent.as_str()),
                        a,
                    )
                }));
            }
        }
        for (month, m) in &self.months {
            rows.extend(m.teams.iter().map(|(team, t)| {
                (
                    month.as_str(),
                    Cow::from(team.as_str()),
                    Cow::from(format!("({team})")),
                    &t.totals,
                )
            }));
        }
        for (month, m) in &self.months {
            rows.push((
                month.as_str(),
                Cow::from("全部"),
                Cow::from("全部"),
                &m.totals,
            ));
        }
        let mut cols = fixed_columns(&rows);
        let names = self.columns.names();
        for (i, name) in names.iter().enumerate() {
            let counts: Vec<i64> = rows
                .iter()
                .map(|r| r.3.counted.get(i).copied().unwrap_or(0))
                .collect();
            cols.push(Column::new(name.into(), counts));
        }
        DataFrame::new_infer_height(cols)
    }
}

/// The [`FIXED`] columns of `rows`, computed from their totals.
fn fixed_columns(rows: &[Row]) -> Vec<Column> {
    fn column<T>(name: &str, rows: &[Row], f: impl Fn(&Totals) -> T) -> Column
    where
        Series: NamedFrom<Vec<T>, [T]>,
    {
        Column::new(name.into(), rows.iter().map(|r| f(r.3)).collect::<Vec<T>>())
    }
    let text = |name: &str, f: for<'r> fn(&'r Row<'r>) -> &'r str| {
        Column::new(name.into(), rows.iter().map(f).collect::<Vec<&str>>())
    };
    let mean = |sum: Sum, n: i64| sum.total / n as f64;
    vec![
        text("month", |r| r.0),
        text("team", |r| r.1.as_ref()),
        text("agent_id", |r| r.2.as_ref()),
        column("calls", rows, |t| t.calls),
        column("failed", rows, |t| t.failed),
        // Times the reciprocal, not divided: the last digit as polars computed it before.
        column("audio_minutes", rows, |t| t.duration_s.total * (1.0 / 60.0)),
        column("avg_score", rows, |t| {
            (t.scored > 0).then(|| mean(t.score, t.scored))
        }),
        column("reviewed", rows, |t| t.reviewed),
        column("min_score", rows, |t| t.min_score),
        column("flagged", rows, |t| t.flagged),
        column("avg_dead_air_s", rows, |t| mean(t.dead_air_s, t.calls)),
        column("total_dead_air_s", rows, |t| t.dead_air_s.total),
        column("talk_ratio", rows, |t| {
            let agent = t.agent_talk_s.total;
            agent / (agent + t.customer_talk_s.total)
        }),
        column("avg_handle_s", rows, |t| mean(t.duration_s, t.calls)),
        column("credits", rows, |t| t.credits.total),
        column("fine_yuan", rows, |t| t.fine_yuan.total),
    ]
}

/// The rollup table of `results` (see [`Rollup::table`]), counting only `month` if given.
pub fn rollup(
    results: &[CallResult],
    reviewed: &Reviewed,
    rubrics: &Rubrics,
    month: Option<&str>,
) -> PolarsResult<DataFrame> {
    let mut r = Rollup::new(rubrics, month);
    for call in results {
        r.add(call, reviewed);
    }
    r.table()
}

/// Writes the rollup in every requested format into `dir` (created), atomically per file.
pub fn write(
    dir: &Path,
    df: &mut DataFrame,
    formats: &[Format],
    lang: Lang,
) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut headers = df.clone();
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|c| c.to_string())
        .collect();
    for c in names {
        headers
            .rename(&c, header(&c, lang).into())
            .map_err(|e| e.to_string())?;
    }
    write_table(dir, "rollup", &mut headers, formats)
}

/// Writes a table whose first column is the month as `dir/STEM.{csv,parquet,xlsx}` (XLSX: one
/// sheet per month), atomically per file; the scorecard is written beside the rollup this way.
pub fn write_table(
    dir: &Path,
    stem: &str,
    headers: &mut DataFrame,
    formats: &[Format],
) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut written = Vec::new();
    for f in formats {
        let path = dir.join(format!(
            "{stem}.{}",
            match f {
                Format::Csv => "csv",
                Format::Parquet => "parquet",
                Format::Xlsx => "xlsx",
            }
        ));
        let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
        match f {
            Format::Csv => {
                let mut safe = spreadsheet_safe(headers).map_err(|e| fail(&e))?;
                crate::util::write_atomic_with(&path, |w| {
                    w.write_all("\u{feff}".as_bytes())?;
                    CsvWriter::new(w)
                        .with_float_precision(Some(2))
                        .finish(&mut safe)
                        .map_err(std::io::Error::other)
                })
                .map_err(|e| fail(&e))?;
            }
            Format::Parquet => crate::util::write_atomic_with(&path, |w| {
                ParquetWriter::new(w)
                    .finish(headers)
                    .map(drop)
                    .map_err(std::io::Error::other)
            })
            .map_err(|e| fail(&e))?,
            Format::Xlsx => {
                let bytes = xlsx_bytes(headers).map_err(|e| fail(&e))?;
                crate::util::write_atomic(&path, &bytes).map_err(|e| fail(&e))?;
            }
        }
        written.push(path);
    }
    Ok(written)
}

/// The table with every text cell that Excel or WPS would run as a formula defused: manifest
/// columns such as the team come from outside.
fn spreadsheet_safe(df: &DataFrame) -> PolarsResult<DataFrame> {
    let mut safe = df.clone();
    for col in df.columns() {
        if col.dtype() != &DataType::String {
            continue;
        }
        let cleaned: StringChunked = col
            .str()?
            .iter()
            .map(|v| v.map(|s| crate::util::spreadsheet_cell(s).into_owned()))
            .collect();
        safe.replace(
            col.name(),
            cleaned.with_name(col.name().clone()).into_column(),
        )?;
    }
    Ok(safe)
}

/// Longest text an XLSX cell holds; longer text is cut with a marker instead of failing the
/// whole rollup.
const XLSX_CELL_MAX: usize = 32_767;

fn xlsx_cell(s: &str) -> std::borrow::Cow<'_, str> {
    const MARK: &str = "…（已截断）";
    if s.chars().count() <= XLSX_CELL_MAX {
        return s.into();
    }
    let kept: String = s
        .chars()
        .take(XLSX_CELL_MAX - MARK.chars().count())
        .collect();
    (kept + MARK).into()
}

fn xlsx_bytes(df: &DataFrame) -> Result<Vec<u8>, String> {
    use rust_xlsxwriter::{Format as XFormat, Workbook};
    let mut book = Workbook::new();
    let bold = XFormat::new().set_bold();
    let number = XFormat::new().set_num_format("0.0#");
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let months: Vec<String> = {
        let m = df.column(&names[0]).map_err(|e| e.to_string())?;
        let mut v: Vec<String> = (0..m.len())
            .filter_map(|i| m.get(i).ok().map(|x| x.get_str().unwrap_or("").to_string()))
            .collect();
        v.dedup();
        v.sort();
        v.dedup();
        v
    };
    for month in &months {
        let sheet = book.add_worksheet();
        sheet.set_name(month).map_err(|e| e.to_string())?;
        for (c, name) in names.iter().enumerate() {
            sheet
                .write_string_with_format(0, c as u16, name, &bold)
                .map_err(|e| e.to_string())?;
            sheet
                .set_column_width(
                    c as u16,
                    (name.chars().count() as f64 * 2.0).clamp(8.0, 24.0),
                )
                .map_err(|e| e.to_string())?;
        }
        sheet.set_freeze_panes(1, 0).map_err(|e| e.to_string())?;
        let mut row = 1u32;
        for i in 0..df.height() {
            let m = df
                .column(&names[0])
                .and_then(|c| c.get(i))
                .map_err(|e| e.to_string())?;
            if m.get_str() != Some(month.as_str()) {
                continue;
            }
            for (c, name) in names.iter().enumerate() {
                let v = df
                    .column(name)
                    .and_then(|col| col.get(i))
                    .map_err(|e| e.to_string())?;
                let c = c as u16;
                match v {
                    AnyValue::Null => Ok(()),
                    AnyValue::String(s) => sheet.write_string(row, c, xlsx_cell(s)).map(|_| ()),
                    AnyValue::StringOwned(s) => sheet
                        .write_string(row, c, xlsx_cell(s.as_str()))
                        .map(|_| ()),
                    other => match other.extract::<f64>() {
                        Some(n) => sheet
                            .write_number_with_format(row, c, n, &number)
                            .map(|_| ()),
                        None => sheet.write_string(row, c, other.to_string()).map(|_| ()),
                    },
                }
                .map_err(|e| e.to_string())?;
            }
            row += 1;
        }
    }
    if months.is_empty() {
        book.add_worksheet()
            .set_name("空")
            .map_err(|e| e.to_string())?;
    }
    book.save_to_buffer().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::Deduction;
    use crate::{AgentChannel, CallMeta, Direction};

    fn result(call_id: &str, rubric: &str, item: &str) -> CallResult {
        let meta = CallMeta {
            call_id: call_id.into(),
            audio: "a.wav".into(),
            agent_id: "A1".into(),
            started_at: chrono::DateTime::parse_from_rfc3339("2026-10-13T14:20:00+08:00")
                .expect("time"),
            direction: if rubric == "客服" {
                Direction::Inbound
            } else {
                Direction::Outbound
            },
            agent_channel: AgentChannel::Left,
            extra: Default::default(),
        };
        let mut r = CallResult::for_call(&meta);
        r.rubric = rubric.into();
        r.score = 90.0;
        r.deductions
            .push(Deduction::bare(&format!("{item}.1"), 10.0));
        r
    }

    /// Item 5 is 推诿客户 on the 客服 sheet and 服务技巧 on the 营销 sheet: two columns named by
    /// the sheets' own item names, never one column 「第5项」.
    #[test]
    fn item_columns_come_from_each_sheets_names() {
        let rubrics = Rubrics::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("rubrics"))
            .unwrap_or_else(|e| panic!("{e}"));
        let results = [
            result("c1", "客服", "5"),
            result("c2", "营销", "5"),
            result("c3", "营销", "5"),
        ];
        let df = rollup(&results, &Reviewed::new(), &rubrics, None).expect("rollup");
        let agent_row = |c: &str| {
            df.column(c)
                .expect(c)
                .get(0)
                .expect("row")
                .extract::<i64>()
                .expect("count")
        };
        assert_eq!(agent_row("客服·5·推诿客户"), 1);
        assert_eq!(agent_row("营销·5·服务技巧"), 2);
        assert!(df
            .get_column_names()
            .iter()
            .all(|c| !c.starts_with("item_")));
        assert!(
            df.column("禁语_反问").is_ok(),
            "charged lexicons come from the rubric"
        );
        assert_eq!(header("营销·5·服务技巧", Lang::Zh), "营销·服务技巧扣分通话");
        assert_eq!(header("禁语_反问", Lang::Zh), "禁语·反问");
        assert_eq!(header("avg_score", Lang::Zh), "平均得分");
        assert_eq!(header("avg_score", Lang::En), "avg_score");
    }

    /// A manifest value that Excel or WPS would run as a formula reaches the CSV defused, and
    /// an over-long one is cut in the XLSX instead of failing the rollup.
    #[test]
    fn hostile_and_huge_cells_are_written_safely() {
        let rubrics = Rubrics::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("rubrics"))
            .unwrap_or_else(|e| panic!("{e}"));
        let mut hostile = result("c1", "客服", "5");
        hostile.agent_id = "=HYPERLINK(\"http://x\",\"y\")".into();
        let mut huge = result("c2", "客服", "5");
        huge.agent_id = "长".repeat(40_000);
        let mut df = rollup(&[hostile, huge], &Reviewed::new(), &rubrics, None).expect("rollup");
        let dir = tempfile::tempdir().expect("tempdir");
        let written = write_table(dir.path(), "rollup", &mut df, &[Format::Csv, Format::Xlsx])
            .expect("written");
        let csv = std::fs::read_to_string(&written[0]).expect("csv");
        assert!(csv.contains("'=HYPERLINK"), "{csv}");
        for unsafe_start in [",=HYPERLINK", "\"=HYPERLINK", "\n=HYPERLINK"] {
            assert!(!csv.contains(unsafe_start), "{csv}");
        }
        assert!(written[1].metadata().expect("xlsx").len() > 0);
    }
}
