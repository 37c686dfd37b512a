//! `callqa export --reviews`: every review version, verdict, manual answer, appeal and the
//! audit trail, as CSV files (one per table) and one XLSX workbook (one sheet per table), for
//! QA leads and auditors who work in spreadsheets.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use crate::store::review;
use crate::store::Store;
use crate::util::spreadsheet_cell;

/// Arguments of `callqa export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Output folder whose `callqa.db` is read; files go to `DIR/reviews/`.
    #[arg(long)]
    pub out: PathBuf,
    /// Export the review workspace's records (the only export so far; required).
    #[arg(long, required = true)]
    pub reviews: bool,
}

pub fn run(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let store = Store::open(&args.out)?;
    let dir = args.out.join("reviews");
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("{}: cannot create the folder", dir.display()))?;
    let mut book = rust_xlsxwriter::Workbook::new();
    for (name, sql) in review::EXPORT_TABLES {
        let (header, rows) = review::export_table(&store, sql)?;
        let path = dir.join(format!("{name}.csv"));
        write_csv(&path, &header, &rows)?;
        let sheet = book.add_worksheet();
        sheet.set_name(*name)?;
        for (c, h) in header.iter().enumerate() {
            sheet.write_string(0, c as u16, h)?;
        }
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                sheet.write_string(r as u32 + 1, c as u16, spreadsheet_cell(cell))?;
            }
        }
        eprintln!("{}: {} rows", path.display(), rows.len());
    }
    let xlsx = dir.join("reviews.xlsx");
    let bytes = book.save_to_buffer()?;
    crate::util::write_atomic(&xlsx, &bytes)
        .with_context(|| format!("{}: cannot write", xlsx.display()))?;
    Ok(ExitCode::SUCCESS)
}

fn write_csv(path: &Path, header: &[String], rows: &[Vec<String>]) -> anyhow::Result<()> {
    crate::util::write_atomic_with(path, |w| {
        let mut csv = csv::Writer::from_writer(w);
        let io = |e: csv::Error| std::io::Error::other(e.to_string());
        csv.write_record(header).map_err(io)?;
        for row in rows {
            csv.write_record(row.iter().map(|c| spreadsheet_cell(c).into_owned()))
                .map_err(io)?;
        }
        csv.flush()
    })
    .with_context(|| format!("{}: cannot write", path.display()))
}
