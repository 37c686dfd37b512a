//! The monthly per-agent rollup (polars): one row per agent and month, plus a row per team and
//! an overall row, written as CSV (UTF-8 with BOM, so Excel and WPS read the Chinese), Parquet
//! and XLSX (one sheet per month, frozen header, set widths).
//!
//! Months are taken in the call's own local time (the offset in `started_at`), because that is
//! the month the centre books the call in.

use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::{CallResult, Role};

/// 服务禁语 categories counted per agent.
pub const FORBIDDEN: [&str; 6] = ["机械", "愤怒", "反问", "质问", "散漫", "讽刺"];
/// Rubric items whose deductions are counted (both sheets use ids 1–11).
const ITEMS: [&str; 11] = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"];

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Parquet,
    Xlsx,
}

/// Header language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

/// (column, Chinese header) in output order.
fn columns() -> Vec<(String, String)> {
    let mut c: Vec<(String, String)> = [
        ("month", "月份"),
        ("team", "班组"),
        ("agent_id", "坐席工号"),
        ("calls", "通话数"),
        ("failed", "处理失败"),
        ("audio_minutes", "录音分钟"),
        ("avg_score", "平均得分"),
        ("min_score", "最低得分"),
        ("flagged", "待复核通话"),
        ("greeting_ok_pct", "开头语及问候合规率%"),
        ("open_close_ok_pct", "开头语结束语完整率%"),
        ("hold_ok_pct", "等待礼仪合规率%"),
        ("avg_dead_air_s", "平均静音秒"),
        ("total_dead_air_s", "静音总秒"),
        ("talk_ratio", "坐席说话占比"),
        ("avg_handle_s", "平均通话秒"),
        ("credits", "扣积分"),
        ("fine_yuan", "罚款元"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    for f in FORBIDDEN {
        c.push((format!("禁语_{f}"), format!("禁语·{f}")));
    }
    for i in ITEMS {
        c.push((format!("item_{i}"), format!("第{i}项扣分通话")));
    }
    c
}

/// One row per call, the input of the aggregation.
fn per_call(results: &[CallResult], month: Option<&str>) -> PolarsResult<DataFrame> {
    let rows: Vec<&CallResult> = results
        .iter()
        .filter(|r| month.is_none_or(|m| r.started_at.format("%Y-%m").to_string() == m))
        .collect();
    let ok = |r: &CallResult| r.status == crate::score::Status::Ok;
    let flag = |b: bool| if b { 1i64 } else { 0 };
    let has = |r: &CallResult, rules: &[&str]| {
        r.deductions
            .iter()
            .any(|d| rules.contains(&d.rule.as_str()))
    };
    let mut cols: Vec<Column> = vec![
        Column::new(
            "month".into(),
            rows.iter()
                .map(|r| r.started_at.format("%Y-%m").to_string())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "team".into(),
            rows.iter()
                .map(|r| r.extra.get("team").cloned().unwrap_or_default())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "agent_id".into(),
            rows.iter().map(|r| r.agent_id.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "failed".into(),
            rows.iter().map(|r| flag(!ok(r))).collect::<Vec<_>>(),
        ),
        Column::new(
            "score".into(),
            rows.iter()
                .map(|r| ok(r).then_some(r.score))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "duration_s".into(),
            rows.iter()
                .map(|r| r.duration_ms as f64 / 1000.0)
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "flagged".into(),
            rows.iter()
                .map(|r| flag(!r.deductions.is_empty() || !r.findings.is_empty()))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "greeting_ok".into(),
            rows.iter()
                .map(|r| ok(r).then(|| flag(!has(r, &["1.1", "2.2"]))))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "open_close_ok".into(),
            rows.iter()
                .map(|r| ok(r).then(|| flag(!has(r, &["2.3"]))))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "hold_ok".into(),
            rows.iter()
                .map(|r| ok(r).then(|| flag(!has(r, &["2.4"]))))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "dead_air_s".into(),
            rows.iter()
                .map(|r| r.metrics.dead_air_total_ms as f64 / 1000.0)
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "agent_talk_s".into(),
            rows.iter()
                .map(|r| r.metrics.agent_talk_ms as f64 / 1000.0)
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "customer_talk_s".into(),
            rows.iter()
                .map(|r| r.metrics.customer_talk_ms as f64 / 1000.0)
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "credits".into(),
            rows.iter().map(|r| r.credits).collect::<Vec<_>>(),
        ),
        Column::new(
            "fine_yuan".into(),
            rows.iter().map(|r| r.fine_yuan).collect::<Vec<_>>(),
        ),
    ];
    for f in FORBIDDEN {
        let counts: Vec<i64> = rows
            .iter()
            .map(|r| {
                r.hits
                    .iter()
                    .filter(|h| h.category == f && h.role == Role::Agent)
                    .count() as i64
            })
            .collect();
        cols.push(Column::new(format!("禁语_{f}").into(), counts));
    }
    for i in ITEMS {
        let counts: Vec<i64> = rows
            .iter()
            .map(|r| flag(r.deductions.iter().any(|d| d.item == i && d.points > 0.0)))
            .collect();
        cols.push(Column::new(format!("item_{i}").into(), counts));
    }
    DataFrame::new_infer_height(cols)
}

fn aggregate(lf: LazyFrame, keys: &[&str]) -> LazyFrame {
    let pct = |c: &str| {
        col(c).sum().cast(DataType::Float64) * lit(100.0) / col(c).count().cast(DataType::Float64)
    };
    let mut aggs = vec![
        len().cast(DataType::Int64).alias("calls"),
        col("failed").sum().alias("failed"),
        (col("duration_s").sum() / lit(60.0)).alias("audio_minutes"),
        col("score").mean().alias("avg_score"),
        col("score").min().alias("min_score"),
        col("flagged").sum().alias("flagged"),
        pct("greeting_ok").alias("greeting_ok_pct"),
        pct("open_close_ok").alias("open_close_ok_pct"),
        pct("hold_ok").alias("hold_ok_pct"),
        col("dead_air_s").mean().alias("avg_dead_air_s"),
        col("dead_air_s").sum().alias("total_dead_air_s"),
        (col("agent_talk_s").sum() / (col("agent_talk_s").sum() + col("customer_talk_s").sum()))
            .alias("talk_ratio"),
        col("duration_s").mean().alias("avg_handle_s"),
        col("credits").sum().alias("credits"),
        col("fine_yuan").sum().alias("fine_yuan"),
    ];
    for f in FORBIDDEN {
        aggs.push(col(format!("禁语_{f}")).sum());
    }
    for i in ITEMS {
        aggs.push(col(format!("item_{i}")).sum());
    }
    lf.group_by(keys.iter().map(|k| col(*k)).collect::<Vec<_>>())
        .agg(aggs)
}

/// The rollup table: agents, then a row per team (agent_id = the team's name in brackets) and
/// an overall row (agent_id = 全部) per month.
pub fn rollup(results: &[CallResult], month: Option<&str>) -> PolarsResult<DataFrame> {
    let calls = per_call(results, month)?.lazy();
    let order: Vec<Expr> = columns().iter().map(|(c, _)| col(c.as_str())).collect();
    let agents = aggregate(calls.clone(), &["month", "team", "agent_id"]).select(order.clone());
    let teams = aggregate(calls.clone(), &["month", "team"])
        .with_column((lit("(") + col("team") + lit(")")).alias("agent_id"))
        .select(order.clone());
    let overall = aggregate(calls, &["month"])
        .with_columns([lit("全部").alias("team"), lit("全部").alias("agent_id")])
        .select(order);
    let agents = agents
        .sort(
            ["month", "team", "agent_id"],
            SortMultipleOptions::default(),
        )
        .collect()?;
    let teams = teams
        .sort(["month", "team"], SortMultipleOptions::default())
        .collect()?;
    let overall = overall
        .sort(["month"], SortMultipleOptions::default())
        .collect()?;
    let mut all = agents;
    all.vstack_mut(&teams)?;
    all.vstack_mut(&overall)?;
    Ok(all)
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
    if lang == Lang::Zh {
        for (c, zh) in columns() {
            headers.rename(&c, zh.into()).map_err(|e| e.to_string())?;
        }
    }
    let mut written = Vec::new();
    for f in formats {
        let path = dir.join(match f {
            Format::Csv => "rollup.csv",
            Format::Parquet => "rollup.parquet",
            Format::Xlsx => "rollup.xlsx",
        });
        let tmp = path.with_extension("tmp");
        let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
        match f {
            Format::Csv => {
                let mut file = std::fs::File::create(&tmp).map_err(|e| fail(&e))?;
                std::io::Write::write_all(&mut file, "\u{feff}".as_bytes())
                    .map_err(|e| fail(&e))?;
                CsvWriter::new(&mut file)
                    .with_float_precision(Some(2))
                    .finish(&mut headers)
                    .map_err(|e| fail(&e))?;
            }
            Format::Parquet => {
                let file = std::fs::File::create(&tmp).map_err(|e| fail(&e))?;
                ParquetWriter::new(file)
                    .finish(&mut headers)
                    .map_err(|e| fail(&e))?;
            }
            Format::Xlsx => write_xlsx(&tmp, &headers).map_err(|e| fail(&e))?,
        }
        std::fs::rename(&tmp, &path).map_err(|e| fail(&e))?;
        written.push(path);
    }
    Ok(written)
}

fn write_xlsx(path: &Path, df: &DataFrame) -> Result<(), String> {
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
                    AnyValue::String(s) => sheet.write_string(row, c, s).map(|_| ()),
                    AnyValue::StringOwned(s) => sheet.write_string(row, c, s.as_str()).map(|_| ()),
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
    book.save(path).map_err(|e| e.to_string())
}
