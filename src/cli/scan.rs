//! `callqa scan`: run the lexicons over JSON-lines text, one JSON line per hit on stdout.
//!
//! Input lines need `text`; `id` and `role` are copied through when present. A bad line is
//! reported on stderr with its line number and the rest still runs (exit 1 at the end), so a
//! QA lead can try a lexicon change on a month of exported transcripts without audio.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::scan::{Lexicons, Scanner};

/// Arguments of `callqa scan`.
#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// Folder of lexicon files (*.txt).
    ///
    /// Every `*.txt` file is one lexicon named by its file stem. Default: the settings file's,
    /// else the shipped lexicons.
    #[arg(long)]
    pub lexicons: Option<PathBuf>,
    /// Settings file [default: $CALLQA_CONFIG, else $XDG_CONFIG_HOME/callqa/callqa.toml].
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// JSON lines with `text` (and optional `id`, `role`); `-` or nothing reads stdin.
    ///
    /// Example line: {"id": "c1", "role": "agent", "text": "您好，请问有什么可以帮您？"}
    pub input: Option<PathBuf>,
}

#[derive(serde::Deserialize)]
struct InputLine {
    text: String,
    #[serde(default)]
    id: Option<serde_json::Value>,
    #[serde(default)]
    role: Option<String>,
}

#[derive(serde::Serialize)]
struct OutputLine<'a> {
    id: &'a Option<serde_json::Value>,
    role: &'a Option<String>,
    category: &'a str,
    rule: &'a str,
    phrase: &'a str,
    text: String,
    start: usize,
    end: usize,
    #[serde(rename = "match")]
    kind: crate::scan::MatchKind,
    similarity: f32,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    review: bool,
}

/// Runs the command: 0 all lines read, 1 some lines bad; an error (lexicons or input unusable)
/// becomes exit code 2 in the caller.
pub fn run(args: ScanArgs) -> anyhow::Result<ExitCode> {
    let bad = scan(&args)?;
    if bad == 0 {
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("{bad} input lines could not be read (see above)");
    Ok(ExitCode::from(1))
}

fn scan(args: &ScanArgs) -> anyhow::Result<usize> {
    let settings = crate::settings::Settings::find(args.config.as_deref())?;
    let dir = settings.folder(args.lexicons.as_deref(), crate::settings::Folder::Lexicons)?;
    let lexicons = Lexicons::load_dir(&dir.path)?;
    let scanner = Scanner::new(&lexicons)?;
    let (name, reader): (String, Box<dyn BufRead>) = match &args.input {
        None => ("-".into(), Box::new(std::io::stdin().lock())),
        Some(p) if p.as_os_str() == "-" => ("-".into(), Box::new(std::io::stdin().lock())),
        Some(p) => {
            let f = std::fs::File::open(p)
                .with_context(|| format!("{}: cannot open input — check the path", p.display()))?;
            (
                p.display().to_string(),
                Box::new(std::io::BufReader::new(f)),
            )
        }
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut bad = 0;
    for (i, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("{name}:{}: cannot read — is it UTF-8?", i + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let input: InputLine = match serde_json::from_str(&line) {
            Ok(v) => v,
            Err(e) => {
                eprintln!(
                    "{name}:{}: not a JSON object with a \"text\" string ({e}) — fix or drop the line",
                    i + 1
                );
                bad += 1;
                continue;
            }
        };
        for hit in scanner.scan_text(&input.text) {
            let row = OutputLine {
                id: &input.id,
                role: &input.role,
                category: &hit.entry.category,
                rule: &hit.entry.rule,
                phrase: &hit.entry.phrase,
                text: input
                    .text
                    .chars()
                    .skip(hit.start)
                    .take(hit.end - hit.start)
                    .collect(),
                start: hit.start,
                end: hit.end,
                kind: hit.kind,
                similarity: hit.similarity,
                review: hit.review,
            };
            serde_json::to_writer(&mut out, &row)?;
            out.write_all(b"\n")?;
        }
    }
    out.flush()?;
    Ok(bad)
}
