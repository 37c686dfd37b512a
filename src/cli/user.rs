//! `callqa user add|list|remove`: the accounts of the review workspace. Passwords are read
//! from stdin (never from the command line, where `ps` and shell history would show them).

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;

use crate::store::review::{self, Role};
use crate::store::Store;

/// Arguments of `callqa user`.
#[derive(Debug, clap::Args)]
pub struct UserArgs {
    #[command(subcommand)]
    pub action: UserAction,
}

#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Add a user, or reset an existing user's role and password; the password is the first
    /// line of stdin, e.g. `printf '%s\n' "$PW" | callqa user add li --role inspector --out DIR`.
    Add {
        /// Login name.
        name: String,
        /// What the user may do.
        #[arg(long, value_enum)]
        role: RoleArg,
        /// For agents: the `agent_id` of their calls (they see only those).
        #[arg(long)]
        agent_id: Option<String>,
        /// Output folder whose `callqa.db` holds the users.
        #[arg(long)]
        out: PathBuf,
    },
    /// List users: name, role, agent id (tab-separated).
    List {
        #[arg(long)]
        out: PathBuf,
    },
    /// Remove a user and end their sessions.
    Remove {
        name: String,
        #[arg(long)]
        out: PathBuf,
    },
}

/// The roles, as the command line spells them.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum RoleArg {
    /// Sees only their own published calls; acknowledges or appeals.
    Agent,
    /// Reviews the calls assigned to them.
    Inspector,
    /// Sees everything, reviews, assigns and settles appeals.
    Supervisor,
    /// Assigns calls and manages users.
    Admin,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Role {
        match r {
            RoleArg::Agent => Role::Agent,
            RoleArg::Inspector => Role::Inspector,
            RoleArg::Supervisor => Role::Supervisor,
            RoleArg::Admin => Role::Admin,
        }
    }
}

/// Who the audit log names for changes made from the command line.
pub(crate) fn cli_actor() -> String {
    format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    )
}

fn open(out: &std::path::Path) -> anyhow::Result<Store> {
    std::fs::create_dir_all(out)
        .with_context(|| format!("{}: cannot create the output folder", out.display()))?;
    Ok(Store::open(out)?)
}

pub fn run(args: UserArgs) -> anyhow::Result<ExitCode> {
    match args.action {
        UserAction::Add {
            name,
            role,
            agent_id,
            out,
        } => {
            let mut password = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut password)
                .context("stdin: cannot read the password")?;
            let password = password.trim_end_matches(['\r', '\n']);
            let store = open(&out)?;
            review::add_user(
                &store,
                &cli_actor(),
                &name,
                role.into(),
                agent_id.as_deref(),
                password,
            )
            .map_err(|e| anyhow::anyhow!("{}: {e}", out.join(crate::store::DB_FILE).display()))?;
            eprintln!("user {name} saved");
        }
        UserAction::List { out } => {
            let store = open(&out)?;
            for u in review::list_users(&store)? {
                println!("{}\t{}\t{}", u.name, u.role, u.agent_id.unwrap_or_default());
            }
        }
        UserAction::Remove { name, out } => {
            let store = open(&out)?;
            if !review::remove_user(&store, &cli_actor(), &name)? {
                anyhow::bail!("{}: no user {name}; see `callqa user list`", out.display());
            }
            eprintln!("user {name} removed");
        }
    }
    Ok(ExitCode::SUCCESS)
}
