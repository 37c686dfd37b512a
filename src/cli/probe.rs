//! `callqa probe`: format, channels, duration and speech timing of recordings.
//!
//! One line per file on stdout (or one JSON object per line with `--json`); a file that cannot
//! be decoded gives one line on stderr naming it, and the others are still reported. Exit code
//! 1 if any file failed, like a scoring run.

use std::io::Write;
use std::process::ExitCode;

use crate::audio::{self, ProbeReport, VadConfig};

/// Arguments of `callqa probe`.
#[derive(Debug, clap::Args)]
pub struct ProbeArgs {
    /// Recordings to inspect.
    #[arg(required = true)]
    pub files: Vec<std::path::PathBuf>,
    /// Which channel carries the agent.
    #[arg(long, value_enum, default_value = "left")]
    pub agent_channel: crate::AgentChannel,
    /// One JSON object per file on stdout.
    #[arg(long)]
    pub json: bool,
    /// Shortest silence of both parties that counts as dead air, in milliseconds.
    ///
    /// Silence before the first and after the last speech never counts. Default: 5000.
    #[arg(long, default_value_t = 5000, value_name = "MS")]
    pub dead_air_ms: u64,
}

/// Probes every file; 0 if all decoded, 1 if any failed.
pub fn run(args: &ProbeArgs) -> ExitCode {
    let cfg = VadConfig::default();
    let mut failed = 0usize;
    let stdout = std::io::stdout();
    for path in &args.files {
        match audio::probe(path, args.agent_channel, &cfg, args.dead_air_ms) {
            Ok(report) => {
                let line = if args.json {
                    serde_json::to_string(&report)
                        .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
                } else {
                    text_line(&report)
                };
                if writeln!(stdout.lock(), "{line}").is_err() {
                    // stdout closed (e.g. piped into `head`): nothing more to say.
                    return ExitCode::SUCCESS;
                }
            }
            Err(e) => {
                failed += 1;
                eprintln!("{e}");
            }
        }
    }
    if failed > 0 {
        eprintln!(
            "{} files: {} ok, {failed} failed",
            args.files.len(),
            args.files.len() - failed
        );
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn secs(ms: u64) -> String {
    format!("{}.{:03} s", ms / 1000, ms % 1000)
}

fn text_line(r: &ProbeReport) -> String {
    let s = &r.source;
    let speech: Vec<String> = r
        .tracks
        .iter()
        .map(|t| format!("{} speech {:.0}%", t.role.as_str(), t.speech_ratio * 100.0))
        .collect();
    let first = r
        .first_agent_speech_ms
        .map_or_else(|| "none".to_string(), secs);
    let mut line = format!(
        "{}: {} {} {} Hz {} ch {}; {}; first agent speech {}; longest dead air {}",
        r.path,
        s.container,
        s.codec,
        s.sample_rate,
        s.channels,
        secs(s.duration_ms),
        speech.join(", "),
        first,
        secs(r.longest_dead_air_ms),
    );
    for note in &r.notes {
        line.push_str("; ");
        line.push_str(note);
    }
    line
}
