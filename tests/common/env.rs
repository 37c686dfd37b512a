//! One way for the integration tests to run the built `callqa` as a user would: in a fresh
//! temporary folder (so nothing in the clone is read by accident), with the shipped
//! configuration compiled in, and with results read back from the folder's `calls.jsonl`.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::prelude::*;

/// A temporary working folder and the `callqa` binary.
pub struct TestEnv {
    pub dir: tempfile::TempDir,
}

/// What one `callqa` invocation did.
pub struct Ran {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl TestEnv {
    pub fn new() -> TestEnv {
        TestEnv {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Writes `text` to `rel` inside the folder and returns its path.
    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.path(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&path, text).expect("write test input");
        path
    }

    /// Runs `callqa ARGS` with the folder as working directory and no user settings.
    pub fn callqa<I, S>(&self, args: I) -> Ran
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut cmd = std::process::Command::cargo_bin("callqa").expect("callqa binary");
        cmd.current_dir(self.dir.path())
            .env_remove("CALLQA_CONFIG")
            .env("XDG_CONFIG_HOME", self.path(".config"))
            .args(args);
        ran(cmd.output().expect("run callqa"))
    }

    /// The results of output folder `rel`, one JSON value per call.
    pub fn results(&self, rel: &str) -> Vec<serde_json::Value> {
        read_jsonl(&self.path(rel).join("calls.jsonl"))
    }
}

fn ran(out: Output) -> Ran {
    Ran {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Every line of a JSON-lines file; a missing file is no lines.
pub fn read_jsonl(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}
