//! The monthly per-agent rollup (质检 §5.6): one row per agent and month, one row per team
//! (manifest column `team`, when present) and one overall row per month.
//!
//! Takes the stored `CallResult`s, streamed and folded into one accumulator per row, so
//! 100 000 calls cost a few hundred rows of memory. Returns a [`Table`] written as CSV (UTF-8
//! with BOM, so Excel reads the Chinese headers), Parquet (through polars) and XLSX (one sheet
//! per month, frozen header). Definitions a reader might question: greeting and closing
//! compliance count calls whose agent said a phrase of the 开头语/营销开场白 and 结束语/营销结束语
//! lexicons; hold etiquette counts calls with no deduction or finding from a rubric rule whose
//! detector is `hold_etiquette`; 服务禁语 counts hits not said by the customer; scores average
//! only calls with status ok; "flagged" means at least one finding for the inspector.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;

use polars::prelude::*;

use super::jsonl::{write_atomically, Error as WriteError};
use crate::score::{Rubrics, Status};
use crate::{CallResult, Direction, Role};

/// The 服务禁语 categories of the source list, in its order.
pub const BANNED: [(&str, &str); 6] = [
    ("机械", "mechanical"),
    ("愤怒", "angry"),
    ("反问", "rhetorical"),
    ("质问", "interrogating"),
    ("散漫", "careless"),
    ("讽刺", "sarcastic"),
];
const GREETING: [&str; 2] = ["开头语", "营销开场白"];
const CLOSING: [&str; 2] = ["结束语", "营销结束语"];

/// Header language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    Zh,
    En,
}

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Format {
    Csv,
    Parquet,
    Xlsx,
}

/// Why the rollup could not be written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error("{}: {detail}; check free space and permissions of the output folder", path.display())]
    Encode {
        path: std::path::PathBuf,
        detail: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    Agent(String),
    Team(String),
    All,
}

#[derive(Default)]
struct Acc {
    calls: u64,
    inbound: u64,
    outbound: u64,
    failed: u64,
    audio_ms: u64,
    score_sum: f64,
    score_min: Option<f64>,
    banned: [u64; 6],
    rhetorical_2plus: u64,
    greeting: u64,
    closing: u64,
    hold_ok: u64,
    dead_air_ms: u64,
    agent_talk_ms: u64,
    customer_talk_ms: u64,
    flagged: u64,
    items: BTreeMap<String, u64>,
}

/// Folds calls into rollup rows.
pub struct Rollup {
    month: Option<String>,
    hold_rules: HashSet<(String, String)>,
    rows: BTreeMap<(String, Who), Acc>,
}

impl Rollup {
    /// `month` (`2026-10`) keeps only that month; `rubrics` says which rules check hold etiquette.
    pub fn new(month: Option<String>, rubrics: &Rubrics) -> Rollup {
        let hold_rules = rubrics
            .sheets
            .iter()
            .flat_map(|s| {
                s.items
                    .iter()
                    .flat_map(|i| &i.rules)
                    .filter(|r| r.detector.as_deref() == Some("hold_etiquette"))
                    .map(|r| (s.name.clone(), r.id.clone()))
            })
            .collect();
        Rollup {
            month,
            hold_rules,
            rows: BTreeMap::new(),
        }
    }

    /// Counts one call into its agent's, its team's and the overall row of its month.
    pub fn add(&mut self, call: &CallResult) {
        let month = call.started_at.format("%Y-%m").to_string();
        if self.month.as_ref().is_some_and(|m| *m != month) {
            return;
        }
        let mut whos = vec![Who::Agent(call.agent_id.clone()), Who::All];
        if let Some(team) = call.extra.get("team").filter(|t| !t.is_empty()) {
            whos.push(Who::Team(team.clone()));
        }
        let hold_ok = !call
            .deductions
            .iter()
            .map(|d| &d.rule)
            .chain(call.findings.iter().map(|f| &f.rule))
            .any(|rule| {
                self.hold_rules
                    .contains(&(call.rubric.clone(), rule.clone()))
            });
        let said = |cats: &[&str]| {
            call.hits
                .iter()
                .any(|h| h.role != Role::Customer && cats.contains(&h.category.as_str()))
        };
        let mut banned = [0u64; 6];
        for h in call.hits.iter().filter(|h| h.role != Role::Customer) {
            if let Some(i) = BANNED.iter().position(|(c, _)| *c == h.category) {
                banned[i] += 1;
            }
        }
        let items: BTreeSet<String> = call
            .deductions
            .iter()
            .map(|d| format!("{} {}", call.rubric, d.item))
            .collect();
        for who in whos {
            let acc = self.rows.entry((month.clone(), who)).or_default();
            acc.calls += 1;
            match call.direction {
                Direction::Inbound => acc.inbound += 1,
                Direction::Outbound => acc.outbound += 1,
            }
            if call.status == Status::Error {
                acc.failed += 1;
                continue;
            }
            acc.audio_ms += call.duration_ms;
            acc.score_sum += call.score;
            acc.score_min = Some(acc.score_min.map_or(call.score, |m: f64| m.min(call.score)));
            for (total, n) in acc.banned.iter_mut().zip(banned) {
                *total += n;
            }
            acc.rhetorical_2plus += u64::from(banned[2] >= 2);
            acc.greeting += u64::from(said(&GREETING));
            acc.closing += u64::from(said(&CLOSING));
            acc.hold_ok += u64::from(hold_ok);
            acc.dead_air_ms += call.metrics.dead_air_total_ms;
            acc.agent_talk_ms += call.metrics.agent_talk_ms;
            acc.customer_talk_ms += call.metrics.customer_talk_ms;
            acc.flagged += u64::from(!call.findings.is_empty());
            for item in &items {
                *acc.items.entry(item.clone()).or_default() += 1;
            }
        }
    }

    /// The rows, agents first, then teams, then the overall row, month by month.
    pub fn table(&self, lang: Lang) -> Table {
        let zh = lang == Lang::Zh;
        let h = |zh_name: &str, en_name: &str| {
            if zh {
                zh_name.to_string()
            } else {
                en_name.to_string()
            }
        };
        let item_names: BTreeSet<&String> =
            self.rows.values().flat_map(|a| a.items.keys()).collect();
        let mut t = Table::default();
        let mut text = |name: String, f: &dyn Fn(&(String, Who), &Acc) -> String| {
            t.push(
                name,
                Cells::Text(self.rows.iter().map(|(k, a)| f(k, a)).collect()),
            );
        };
        text(h("月份", "month"), &|k, _| k.0.clone());
        text(h("坐席工号", "agent_id"), &|k, _| match &k.1 {
            Who::Agent(a) => a.clone(),
            Who::Team(team) => {
                if zh {
                    format!("班组 {team}")
                } else {
                    format!("team {team}")
                }
            }
            Who::All => h("全部", "all"),
        });
        let mut int = |name: String, f: &dyn Fn(&Acc) -> u64| {
            t.push(name, Cells::Int(self.rows.values().map(f).collect()));
        };
        int(h("通话数", "calls"), &|a| a.calls);
        int(h("呼入", "inbound"), &|a| a.inbound);
        int(h("呼出", "outbound"), &|a| a.outbound);
        int(h("失败", "failed"), &|a| a.failed);
        let scored = |a: &Acc| a.calls - a.failed;
        let ratio = |n: f64, d: f64| (d > 0.0).then(|| n / d);
        let mut num = |name: String, f: &dyn Fn(&Acc) -> Option<f64>| {
            t.push(name, Cells::Num(self.rows.values().map(f).collect()));
        };
        num(h("录音分钟", "audio_minutes"), &|a| {
            Some(a.audio_ms as f64 / 60_000.0)
        });
        num(h("平均分", "avg_score"), &|a| {
            ratio(a.score_sum, scored(a) as f64)
        });
        num(h("最低分", "min_score"), &|a| a.score_min);
        for (i, (cat, en)) in BANNED.iter().enumerate() {
            let mut int = |name: String, f: &dyn Fn(&Acc) -> u64| {
                t.push(name, Cells::Int(self.rows.values().map(f).collect()));
            };
            int(h(&format!("禁语 {cat}"), &format!("banned_{en}")), &|a| {
                a.banned[i]
            });
        }
        let mut int = |name: String, f: &dyn Fn(&Acc) -> u64| {
            t.push(name, Cells::Int(self.rows.values().map(f).collect()));
        };
        int(h("反问≥2通话", "calls_rhetorical_2plus"), &|a| {
            a.rhetorical_2plus
        });
        let pct = |n: u64, a: &Acc| ratio(100.0 * n as f64, scored(a) as f64);
        let mut num = |name: String, f: &dyn Fn(&Acc) -> Option<f64>| {
            t.push(name, Cells::Num(self.rows.values().map(f).collect()));
        };
        num(h("开头语合规率%", "greeting_pct"), &|a| {
            pct(a.greeting, a)
        });
        num(h("结束语合规率%", "closing_pct"), &|a| {
            pct(a.closing, a)
        });
        num(h("等待礼仪合规率%", "hold_etiquette_pct"), &|a| {
            pct(a.hold_ok, a)
        });
        num(h("平均静音秒", "avg_dead_air_s"), &|a| {
            ratio(a.dead_air_ms as f64 / 1000.0, scored(a) as f64)
        });
        num(h("静音总秒", "total_dead_air_s"), &|a| {
            Some(a.dead_air_ms as f64 / 1000.0)
        });
        num(h("坐席说话占比", "agent_talk_ratio"), &|a| {
            ratio(
                a.agent_talk_ms as f64,
                (a.agent_talk_ms + a.customer_talk_ms) as f64,
            )
        });
        num(h("平均通话时长秒", "avg_handle_time_s"), &|a| {
            ratio(a.audio_ms as f64 / 1000.0, scored(a) as f64)
        });
        t.push(
            h("待复核通话", "flagged_for_review"),
            Cells::Int(self.rows.values().map(|a| a.flagged).collect()),
        );
        for item in item_names {
            let name = if zh {
                format!("扣分 {item}")
            } else {
                format!("deducted_item {item}")
            };
            t.push(
                name,
                Cells::Int(
                    self.rows
                        .values()
                        .map(|a| a.items.get(item).copied().unwrap_or(0))
                        .collect(),
                ),
            );
        }
        t
    }
}

/// One column's values.
#[derive(Clone, Debug, PartialEq)]
pub enum Cells {
    Text(Vec<String>),
    Int(Vec<u64>),
    Num(Vec<Option<f64>>),
}

/// The rollup as named columns, in order. Column 0 is the month.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    pub headers: Vec<String>,
    pub columns: Vec<Cells>,
}

impl Table {
    fn push(&mut self, name: String, cells: Cells) {
        self.headers.push(name);
        self.columns.push(cells);
    }

    fn frame(&self) -> PolarsResult<DataFrame> {
        let columns = self
            .headers
            .iter()
            .zip(&self.columns)
            .map(|(name, cells)| {
                let name = PlSmallStr::from(name.as_str());
                match cells {
                    Cells::Text(v) => Column::new(name, v),
                    Cells::Int(v) => Column::new(name, v),
                    Cells::Num(v) => Column::new(name, v),
                }
            })
            .collect();
        DataFrame::new_infer_height(columns)
    }

    fn rows(&self) -> usize {
        match self.columns.first() {
            Some(Cells::Text(v)) => v.len(),
            Some(Cells::Int(v)) => v.len(),
            Some(Cells::Num(v)) => v.len(),
            None => 0,
        }
    }

    /// Writes `DIR/rollup.{csv,parquet,xlsx}` for the formats asked for; returns the paths.
    pub fn write(&self, dir: &Path, formats: &[Format]) -> Result<Vec<std::path::PathBuf>, Error> {
        let mut written = Vec::new();
        for format in formats {
            let path = dir.join(match format {
                Format::Csv => "rollup.csv",
                Format::Parquet => "rollup.parquet",
                Format::Xlsx => "rollup.xlsx",
            });
            let encode = |detail: String| Error::Encode {
                path: path.clone(),
                detail,
            };
            match format {
                Format::Csv | Format::Parquet => {
                    let mut df = self.frame().map_err(|e| encode(e.to_string()))?;
                    let mut failure = None;
                    write_atomically(&path, |w| {
                        let done = if *format == Format::Csv {
                            CsvWriter::new(w).include_bom(true).finish(&mut df)
                        } else {
                            ParquetWriter::new(w).finish(&mut df).map(|_| ())
                        };
                        failure = done.err().map(|e| e.to_string());
                        Ok(())
                    })?;
                    if let Some(detail) = failure {
                        return Err(encode(detail));
                    }
                }
                Format::Xlsx => {
                    let bytes = self.xlsx().map_err(|e| encode(e.to_string()))?;
                    write_atomically(&path, |w| {
                        std::io::Write::write_all(w, &bytes).map_err(|source| WriteError::Write {
                            path: path.clone(),
                            source,
                        })
                    })?;
                }
            }
            written.push(path);
        }
        Ok(written)
    }

    /// One sheet per month, frozen header row, widths fitted to the headers.
    fn xlsx(&self) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
        let mut book = rust_xlsxwriter::Workbook::new();
        let Some(Cells::Text(months)) = self.columns.first() else {
            return book.save_to_buffer();
        };
        let distinct: BTreeSet<&String> = months.iter().collect();
        if distinct.is_empty() {
            self.sheet(book.add_worksheet(), &[])?;
        }
        for month in distinct {
            let rows: Vec<usize> = (0..self.rows()).filter(|&r| months[r] == *month).collect();
            let sheet = book.add_worksheet();
            sheet.set_name(month.as_str())?;
            self.sheet(sheet, &rows)?;
        }
        book.save_to_buffer()
    }

    fn sheet(
        &self,
        sheet: &mut rust_xlsxwriter::Worksheet,
        rows: &[usize],
    ) -> Result<(), rust_xlsxwriter::XlsxError> {
        let bold = rust_xlsxwriter::Format::new().set_bold();
        for (c, (name, cells)) in self.headers.iter().zip(&self.columns).enumerate() {
            let col = c as u16;
            sheet.write_string_with_format(0, col, name, &bold)?;
            // CJK characters are about two Latin widths wide.
            let width = name
                .chars()
                .map(|ch| if ch.is_ascii() { 1.1 } else { 2.1 })
                .sum::<f64>();
            sheet.set_column_width(col, width.max(10.0) + 1.0)?;
            for (i, &r) in rows.iter().enumerate() {
                let row = i as u32 + 1;
                match cells {
                    Cells::Text(v) => sheet.write_string(row, col, &v[r])?,
                    Cells::Int(v) => sheet.write_number(row, col, v[r] as f64)?,
                    Cells::Num(v) => match v[r] {
                        Some(x) => sheet.write_number(row, col, x)?,
                        None => sheet.write_blank(row, col, &rust_xlsxwriter::Format::new())?,
                    },
                };
            }
        }
        sheet.set_freeze_panes(1, 0)?;
        Ok(())
    }
}

/// Folds every stored call into the rollup and writes the formats asked for.
pub fn export(
    store: &crate::store::Store,
    dir: &Path,
    rubrics: &Rubrics,
    month: Option<String>,
    formats: &[Format],
    lang: Lang,
) -> Result<Vec<std::path::PathBuf>, Error> {
    let mut rollup = Rollup::new(month, rubrics);
    store
        .for_each_call(
            |row, _| {
                rollup.add(&row.result);
                Ok(())
            },
            false,
        )
        .map_err(|e| Error::Write(e.into()))?;
    rollup.table(lang).write(dir, formats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::{Deduction, Finding};
    use crate::{Hit, HitSpan};

    fn rubrics() -> Rubrics {
        Rubrics::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("rubrics")).expect("rubrics")
    }

    fn hit(category: &str, role: Role) -> Hit {
        Hit {
            rule: format!("{category}:1"),
            category: category.into(),
            role,
            start_ms: 0,
            end_ms: 1,
            text: String::new(),
            phrase: String::new(),
            span: HitSpan {
                segment: 0,
                start: 0,
                end_segment: 0,
                end: 1,
            },
        }
    }

    fn call(agent: &str, day: u32, score: f64, hits: Vec<Hit>, hold_rule: bool) -> CallResult {
        let started_at =
            chrono::DateTime::parse_from_rfc3339(&format!("2026-10-{day:02}T09:00:00+08:00"))
                .expect("time");
        let mut extra = BTreeMap::new();
        extra.insert("team".to_string(), "东区".to_string());
        CallResult {
            schema_version: 1,
            call_id: format!("{agent}-{day}"),
            agent_id: agent.into(),
            started_at,
            direction: Direction::Inbound,
            audio: String::new(),
            duration_ms: 60_000,
            score,
            max_score: 100.0,
            status: Status::Ok,
            error: None,
            rubric: "客服".into(),
            credits: 0.0,
            fine_yuan: 0.0,
            segments: Vec::new(),
            hits,
            deductions: vec![Deduction {
                item: "4".into(),
                rule: "4.2".into(),
                points: 5.0,
                reason: String::new(),
                words: String::new(),
                evidence: Vec::new(),
                start_ms: 0,
                end_ms: 0,
            }],
            findings: if hold_rule {
                vec![Finding {
                    rule: "2.4".into(),
                    reason: String::new(),
                    words: String::new(),
                    credits: 0.0,
                    fine_yuan: 0.0,
                    evidence: Vec::new(),
                    start_ms: 0,
                    end_ms: 0,
                }]
            } else {
                Vec::new()
            },
            manual: Vec::new(),
            metrics: crate::CallMetrics {
                duration_ms: 60_000,
                agent_talk_ms: 30_000,
                customer_talk_ms: 10_000,
                dead_air_total_ms: 4_000,
                ..Default::default()
            },
            extra,
        }
    }

    #[test]
    fn rows_match_a_hand_count() {
        let mut r = Rollup::new(None, &rubrics());
        r.add(&call(
            "A01",
            1,
            90.0,
            vec![
                hit("开头语", Role::Agent),
                hit("反问", Role::Agent),
                hit("反问", Role::Agent),
                hit("反问", Role::Customer),
            ],
            false,
        ));
        r.add(&call("A01", 2, 70.0, vec![hit("讽刺", Role::Agent)], true));
        let mut failed = call("A02", 3, 0.0, Vec::new(), false);
        failed.status = Status::Error;
        r.add(&failed);
        let t = r.table(Lang::En);
        let col = |name: &str| {
            let i = t.headers.iter().position(|h| h == name).expect(name);
            t.columns[i].clone()
        };
        // Rows: A01, A02, team 东区, all.
        assert_eq!(
            col("agent_id"),
            Cells::Text(vec![
                "A01".into(),
                "A02".into(),
                "team 东区".into(),
                "all".into()
            ])
        );
        assert_eq!(col("calls"), Cells::Int(vec![2, 1, 3, 3]));
        assert_eq!(col("failed"), Cells::Int(vec![0, 1, 1, 1]));
        assert_eq!(col("banned_rhetorical"), Cells::Int(vec![2, 0, 2, 2]));
        assert_eq!(col("banned_sarcastic"), Cells::Int(vec![1, 0, 1, 1]));
        assert_eq!(col("calls_rhetorical_2plus"), Cells::Int(vec![1, 0, 1, 1]));
        assert_eq!(
            col("avg_score"),
            Cells::Num(vec![Some(80.0), None, Some(80.0), Some(80.0)])
        );
        assert_eq!(
            col("min_score"),
            Cells::Num(vec![Some(70.0), None, Some(70.0), Some(70.0)])
        );
        assert_eq!(
            col("greeting_pct"),
            Cells::Num(vec![Some(50.0), None, Some(50.0), Some(50.0)])
        );
        assert_eq!(
            col("hold_etiquette_pct"),
            Cells::Num(vec![Some(50.0), None, Some(50.0), Some(50.0)])
        );
        assert_eq!(
            col("agent_talk_ratio"),
            Cells::Num(vec![Some(0.75), None, Some(0.75), Some(0.75)])
        );
        assert_eq!(col("deducted_item 客服 4"), Cells::Int(vec![2, 0, 2, 2]));
        assert_eq!(col("flagged_for_review"), Cells::Int(vec![1, 0, 1, 1]));
    }

    #[test]
    fn month_filter_and_files() {
        let mut r = Rollup::new(Some("2026-11".into()), &rubrics());
        r.add(&call("A01", 1, 90.0, Vec::new(), false));
        assert_eq!(r.table(Lang::Zh).rows(), 0);
        let dir = tempfile::tempdir().expect("tempdir");
        let written = r
            .table(Lang::Zh)
            .write(dir.path(), &[Format::Csv, Format::Parquet, Format::Xlsx])
            .expect("write");
        assert_eq!(written.len(), 3);
        assert!(written.iter().all(|p| p.is_file()));
    }
}
