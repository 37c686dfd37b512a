//! The two kinds of failure a batch knows, kept apart because they call for different actions
//! and different exit codes.
//!
//! A [`CallError`] is one call's problem (a damaged recording, Whisper giving up, an
//! unreadable stored row): it is stored as that call's error result, printed on its own line,
//! and the run goes on (exit 1). A [`RunError`] is a problem with everything (the model, the
//! database, the configuration, the lock): the run stops at once with one line naming the file
//! and the fix (exit 2), instead of failing every call one by one with the same message.

use std::path::PathBuf;

use crate::asr::AsrError;
use crate::store::results::ResultsError;
use crate::store::StoreError;

/// Nothing (more) can run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Config(#[from] super::ConfigError),
    /// Kept behind an `Arc`: loaded once, the same failure is reported to every worker.
    #[error(transparent)]
    Model(std::sync::Arc<AsrError>),
    #[error(transparent)]
    Store(StoreError),
    #[error(transparent)]
    Results(#[from] ResultsError),
    #[error(transparent)]
    Manifest(#[from] super::ManifestError),
    #[error("{}: another callqa is writing to this folder; wait for it to finish (a killed run frees the lock at once)", path.display())]
    Locked { path: PathBuf },
    #[error("{}: cannot lock: {source}; check the folder is writable", path.display())]
    Lock {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: cannot write the rollup: {detail}; check the folder is writable", path.display())]
    Rollup { path: PathBuf, detail: String },
    #[error(transparent)]
    Report(#[from] crate::report::html::Error),
    #[error("{0}")]
    Usage(String),
}

impl From<StoreError> for RunError {
    fn from(e: StoreError) -> Self {
        RunError::Store(e)
    }
}

/// One call could not be scored; the others go on.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error(transparent)]
    Audio(#[from] crate::audio::Error),
    #[error("{}: {source}", path.display())]
    Asr { path: PathBuf, source: AsrError },
    #[error("{}: cannot read the recording: {source}; check the path and its permissions", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    StoredRow(StoreError),
    #[error("{}: internal error while processing; please report it with this file", path.display())]
    Panicked { path: PathBuf },
    /// A transcript line given to `callqa score` that cannot be used.
    #[error("{0}")]
    Input(String),
    /// Failed before on this very input; not tried again without `--retry-failed`.
    #[error("{0} (failed before on the same input; `--retry-failed` tries again)")]
    Remembered(String),
    /// An earlier run stopped (crash, kill, power loss) while working on this call.
    #[error("{}: an earlier run stopped while working on this recording (crash, kill or power loss); it is not retried blindly, so one bad file cannot stop every run: check the file, then run with --retry-failed", path.display())]
    Interrupted { path: PathBuf },
    /// The store holds another recording or other metadata under this call_id.
    #[error("{}: call_id {call_id} is already stored for another recording or other metadata; give this call its own call_id, or pass --replace to score it in place of the stored one", path.display())]
    Conflict { call_id: String, path: PathBuf },
}

/// What stopped one call: its own problem, or everything's.
#[derive(Debug)]
pub(crate) enum Failure {
    Call(CallError),
    Run(RunError),
}

impl From<CallError> for Failure {
    fn from(e: CallError) -> Self {
        Failure::Call(e)
    }
}

impl From<RunError> for Failure {
    fn from(e: RunError) -> Self {
        Failure::Run(e)
    }
}

/// A database that cannot be written stops the run; a row that cannot be read is one call's.
impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Corrupt { .. } => Failure::Call(CallError::StoredRow(e)),
            StoreError::Sqlite { .. } => Failure::Run(RunError::Store(e)),
        }
    }
}
