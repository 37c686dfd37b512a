//! Review: what people decide about a scored call, kept in the same `callqa.db` as the
//! machine's results, so `callqa serve`, `callqa report` and a running `callqa run` share one
//! file (WAL mode and the store's busy timeout make that safe).
//!
//! A call moves through [`State`]s by [`Action`]s that [`next_state`] allows and
//! [`Role::may`] permits; every change writes an [`audit`](AuditEntry) row (who, when, what,
//! before, after) in the same transaction, so the log cannot miss a change. A review is
//! versioned: settling an appeal writes a new version and marks the old one superseded, never
//! editing a published version in place. The reviewed score is computed from the machine's
//! deductions and the reviewer's verdicts by [`reviewed_score`], which re-applies the rubric's
//! forfeit-once and escalation rules instead of adding points back one by one: rejecting the
//! deduction that carried an item's points must not refund them while another sub-rule of the
//! same item still stands.
//!
//! The schema is versioned ([`MIGRATIONS`]) and only ever grows: each step creates tables,
//! indexes or columns, so an older database keeps working and nothing is dropped.

use std::collections::{BTreeMap, HashMap};

use rusqlite::types::Value as SqlValue;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError};
use crate::score::{Rubric, Rubrics};
use crate::CallResult;

/// Why a review request was refused; the server maps each kind to a status code.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("not allowed: {0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error("the operating system gave no random bytes ({0}); sessions and passwords need them")]
    Random(String),
}

type Result<T> = std::result::Result<T, ReviewError>;

macro_rules! closed_set {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(s: &str) -> Option<$name> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

closed_set! {
    /// Who a user is, and so what they may see and do.
    Role { Agent = "agent", Inspector = "inspector", Supervisor = "supervisor", Admin = "admin" }
}

closed_set! {
    /// Where a call is in its review.
    State {
        AutoScored = "auto_scored",
        Assigned = "assigned",
        InReview = "in_review",
        Published = "published",
        Acknowledged = "acknowledged",
        Appealed = "appealed",
        Settled = "settled",
        Locked = "locked",
    }
}

closed_set! {
    /// What someone does to a call.
    Action {
        Assign = "assign",
        Recall = "recall",
        Save = "save",
        Publish = "publish",
        Acknowledge = "acknowledge",
        Appeal = "appeal",
        Settle = "settle",
        Lock = "lock",
    }
}

closed_set! {
    /// The reviewer's verdict on one machine deduction.
    Decision { Pending = "pending", Confirmed = "confirmed", Rejected = "rejected" }
}

closed_set! {
    /// A supervisor's answer to an appeal.
    Outcome { Upheld = "upheld", Overturned = "overturned", Changed = "changed" }
}

impl State {
    /// States in which the agent sees the call and monthly scores use the review.
    pub const PUBLISHED: &'static [State] = &[
        State::Published,
        State::Acknowledged,
        State::Appealed,
        State::Settled,
        State::Locked,
    ];

    pub fn is_published(self) -> bool {
        State::PUBLISHED.contains(&self)
    }
}

/// The state `action` leads to from `from`, or `None` when it is not allowed there.
pub fn next_state(from: State, action: Action) -> Option<State> {
    use Action as A;
    use State as S;
    Some(match (from, action) {
        (S::AutoScored | S::Assigned, A::Assign) => S::Assigned,
        (S::Assigned | S::InReview, A::Recall) => S::AutoScored,
        (S::Assigned | S::InReview, A::Save) => S::InReview,
        (S::Assigned | S::InReview, A::Publish) => S::Published,
        (S::Published, A::Acknowledge) => S::Acknowledged,
        // An agent may appeal several deductions while the window is open.
        (S::Published | S::Appealed, A::Appeal) => S::Appealed,
        (S::Appealed, A::Settle) => S::Settled,
        (S::Published | S::Acknowledged, A::Lock) => S::Locked,
        _ => return None,
    })
}

impl Role {
    /// Whether this role may take `action` at all (ownership is checked separately).
    pub fn may(self, action: Action) -> bool {
        use Action as A;
        match self {
            Role::Agent => matches!(action, A::Acknowledge | A::Appeal),
            Role::Inspector => matches!(action, A::Save | A::Publish),
            Role::Supervisor => matches!(
                action,
                A::Assign | A::Recall | A::Save | A::Publish | A::Settle
            ),
            Role::Admin => matches!(action, A::Assign | A::Recall),
        }
    }
}

/// A logged-in user as the server sees them.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct User {
    pub name: String,
    pub role: Role,
    /// The agent id whose calls an `agent` user sees.
    pub agent_id: Option<String>,
}

mod appeal;
mod calibration;
mod db;
mod export;
mod queue;
mod schema;
mod score;
mod stored;
mod view;
mod workflow;
pub use appeal::*;
pub use calibration::*;
use db::*;
pub use db::{result, visible_result};
pub use export::*;
pub use queue::*;
pub use schema::*;
pub use score::*;
use stored::offered;
pub use stored::{flag_name, StaleDecision};
use stored::{Stored, StoredVerdict};
pub use view::*;
pub use workflow::*;

mod users;
pub use users::{
    add_user, check_password, create_session, end_session, list_users, remove_user, session, user,
    Session, MIN_PASSWORD, SESSION_SECS,
};

mod sample;
pub use sample::{assign_sample, SamplePlan};

#[cfg(test)]
mod tests;
