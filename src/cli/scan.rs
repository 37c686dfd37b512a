//! `callqa scan`: lexicon hits in any JSON-lines text corpus, for measuring the scan.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::scan::{Lexicons, Scanner};

/// Arguments of `callqa scan`.
#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// JSON lines with at least `text` (optional `id`, `role`); `-` or nothing reads stdin.
    pub input: Option<PathBuf>,
    /// Lexicon folder.
    #[arg(long, default_value = "lexicons")]
    pub lexicons: PathBuf,
}

pub fn run(args: ScanArgs) -> anyhow::Result<ExitCode> {
    let lexicons = Lexicons::load_dir(&args.lexicons).map_err(|e| anyhow::anyhow!("{e}"))?;
    let scanner = Scanner::new(&lexicons).context("building the scanner")?;
    let (name, reader): (String, Box<dyn BufRead>) = match &args.input {
        None => ("<stdin>".into(), Box::new(std::io::stdin().lock())),
        Some(p) if p.as_os_str() == "-" => ("<stdin>".into(), Box::new(std::io::stdin().lock())),
        Some(p) => (
            p.display().to_string(),
            Box::new(std::io::BufReader::new(
                std::fs::File::open(p).with_context(|| format!("{}: cannot open", p.display()))?,
            )),
        ),
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut bad = 0usize;
    for (i, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("{name}:{}: cannot read", i + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value = match serde_json::from_str(&line) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("{name}:{}: not JSON ({e}); skipped", i + 1);
                bad += 1;
                continue;
            }
        };
        let Some(text) = value.get("text").and_then(|t| t.as_str()) else {
            eprintln!("{name}:{}: no \"text\" string; skipped", i + 1);
            bad += 1;
            continue;
        };
        let chars: Vec<char> = text.chars().collect();
        for hit in scanner.scan_text(text) {
            let entry = &lexicons.entries[hit.entry];
            let record = serde_json::json!({
                "id": value.get("id").cloned().unwrap_or(serde_json::Value::Null),
                "role": value.get("role").cloned().unwrap_or(serde_json::Value::Null),
                "category": entry.category,
                "rule": entry.rule(),
                "phrase": entry.phrase,
                "text": chars[hit.start..hit.end].iter().collect::<String>(),
                "start": hit.start,
                "end": hit.end,
            });
            writeln!(out, "{record}")?;
        }
    }
    out.flush()?;
    Ok(if bad > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
