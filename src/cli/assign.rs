//! `callqa assign`: hand calls to inspectors — every flagged call plus a seeded random sample
//! per agent and period (the 「5条/人/天」 monitoring quota), spread evenly. The seed is printed
//! and stored with the draw, so the sample can be audited.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::store::review::{self, Role, SamplePlan, User};
use crate::store::Store;

/// Arguments of `callqa assign`.
#[derive(Debug, clap::Args)]
pub struct AssignArgs {
    /// Output folder whose calls are assigned.
    #[arg(long)]
    pub out: PathBuf,
    /// Calls sampled per agent and period, besides the flagged ones.
    #[arg(long, default_value_t = 5)]
    pub per_agent: usize,
    /// The period the sample quota counts in.
    #[arg(long, value_enum, default_value = "day")]
    pub per: Period,
    /// Whether every flagged call (deductions or findings) is assigned too.
    #[arg(long, value_enum, default_value = "all")]
    pub flagged: Flagged,
    /// Inspectors to spread the calls over, comma-separated (users added with `callqa user add`).
    #[arg(long, value_delimiter = ',', required = true)]
    pub inspectors: Vec<String>,
    /// Seed of the random sample [default: from the clock; printed either way].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Only calls of this month, e.g. 2026-10.
    #[arg(long)]
    pub month: Option<String>,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Period {
    /// The quota is per agent per day.
    Day,
    /// The quota is per agent per month.
    Month,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Flagged {
    /// Assign every flagged call.
    All,
    /// Flagged calls only count towards the sample like any other.
    None,
}

pub fn run(args: AssignArgs) -> anyhow::Result<ExitCode> {
    let store = Store::open(&args.out)?;
    review::sync_index(&store)?;
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
    });
    let plan = SamplePlan {
        per_agent: args.per_agent,
        per_day: matches!(args.per, Period::Day),
        all_flagged: matches!(args.flagged, Flagged::All),
        inspectors: args.inspectors,
        seed,
        month: args.month,
    };
    let who = User {
        name: super::user::cli_actor(),
        role: Role::Admin,
        agent_id: None,
    };
    let assigned = review::assign_sample(&store, &who, &plan)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.out.display()))?;
    for (call_id, inspector) in &assigned {
        println!("{call_id}\t{inspector}");
    }
    eprintln!(
        "{} calls assigned to {} inspectors (seed {seed}, recorded)",
        assigned.len(),
        plan.inspectors.len()
    );
    Ok(ExitCode::SUCCESS)
}
