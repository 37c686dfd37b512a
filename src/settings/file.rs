//! The settings file `callqa.toml` as QA staff or IT write it, and every way reading the
//! settings can fail. Kept apart from where the settings are looked for and the shipped
//! configuration compiled into the binary, so the fuzz targets can compile it by path.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The settings file, as written by QA staff or IT.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsFile {
    pub lexicons: Option<PathBuf>,
    pub rubrics: Option<PathBuf>,
    pub calendars: Option<PathBuf>,
    pub scorecards: Option<PathBuf>,
    pub model: Option<PathBuf>,
    pub jobs: Option<usize>,
    pub dead_air_ms: Option<u64>,
    pub redact: Option<bool>,
}

impl SettingsFile {
    /// Reads the text of the settings file at `path`; an unknown key or a bad value is named
    /// with its line.
    pub fn parse(path: &Path, text: &str) -> Result<SettingsFile, SettingsError> {
        toml::from_str(text).map_err(|e| SettingsError::Parse {
            path: path.to_path_buf(),
            line: e.span().map_or(0, |s| crate::util::line_at(text, s.start)),
            message: e.message().to_string(),
        })
    }
}

/// Why the settings could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{}: cannot read the settings file: {source}; check --config or $CALLQA_CONFIG", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}: {message}; see `callqa init` for a commented example", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{}: cannot write the shipped configuration there: {source}; set $CALLQA_CACHE to a writable folder", path.display())]
    Unpack {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {what} already exists; `callqa init` never overwrites, pick an empty folder", path.display())]
    Exists { path: PathBuf, what: &'static str },
}
