use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    callqa::cli::run(callqa::cli::Args::parse())
}
