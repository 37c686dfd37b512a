//! Command-line interface: argument definitions and the dispatch to the library.
//!
//! Exit codes: 0 all ok; 1 ran, but some calls or files failed; 2 could not run (usage, config,
//! lexicon, rubric, model, manifest); 130 interrupted (a rerun resumes).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub mod scan;

/// Quality inspection of recorded customer-service calls.
#[derive(Debug, Parser)]
#[command(name = "callqa", version, about, long_about = None)]
pub struct Args {
    /// More detail on stderr (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show format, channels, duration and speech timing of recordings.
    Probe(ProbeArgs),
    /// Find lexicon phrases in JSON-lines text (one JSON line per hit).
    Scan(scan::ScanArgs),
}

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
}

/// Runs the parsed command and maps the outcome to the documented exit code.
pub fn run(args: Args) -> ExitCode {
    match args.command {
        Command::Probe(_) => ExitCode::from(2),
        Command::Scan(a) => scan::run(a),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        super::Args::command().debug_assert();
    }
}
