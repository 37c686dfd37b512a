//! `callqa serve`: the review workspace over an output folder (see [`crate::serve`]).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use super::RubricArgs;

/// Arguments of `callqa serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Output folder whose `callqa.db` is reviewed (written by `callqa run` or `callqa score`).
    #[arg(long)]
    pub out: PathBuf,
    /// Address and port to listen on.
    ///
    /// The default keeps the server to this machine; to let others in, put a reverse proxy
    /// with TLS in front (README, "Review workspace") rather than listening on 0.0.0.0.
    /// Port 0 picks a free port; the address is printed on stdout.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Days an agent may appeal after a review is published; then the call is locked.
    #[arg(long, default_value_t = 7)]
    pub appeal_days: u32,
    /// Mark the session cookie `Secure`: set it when users reach the server over HTTPS.
    #[arg(long)]
    pub secure_cookie: bool,
    /// Bleep spoken personal numbers in the audio served [default: the settings' `redact`].
    #[arg(long)]
    pub redact: bool,
    #[command(flatten)]
    pub rubric: RubricArgs,
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let db = args.out.join(crate::store::DB_FILE);
    if !db.exists() {
        anyhow::bail!(
            "{}: no results here; run `callqa run` or `callqa score` with --out {} first",
            db.display(),
            args.out.display()
        );
    }
    let redact = args.redact || super::settings_redact(args.rubric.config.as_deref())?;
    crate::serve::run(crate::serve::Config {
        out: args.out,
        listen: args.listen,
        rubrics: args.rubric.load()?,
        appeal_window_secs: i64::from(args.appeal_days) * 86_400,
        secure_cookie: args.secure_cookie,
        redact,
    })?;
    Ok(ExitCode::SUCCESS)
}
