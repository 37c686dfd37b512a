//! One way for the integration tests to run the built `callqa` as a user would: in a fresh
//! temporary folder (so nothing in the clone is read by accident), with the shipped
//! configuration compiled in, and with results read back from the folder's `calls.jsonl`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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
        let mut cmd = callqa_command();
        cmd.current_dir(self.dir.path()).args(args);
        ran(cmd.output().expect("run callqa"))
    }

    /// `callqa score` of `lines` (written to `in.jsonl`) into the output folder `out`, no report.
    pub fn score(&self, lines: &str, out: &str) -> Ran {
        self.write("in.jsonl", lines);
        self.callqa([
            "score",
            "--out",
            out,
            "--no-html",
            "--transcripts",
            "in.jsonl",
        ])
    }

    /// The results of output folder `rel`, one JSON value per call.
    pub fn results(&self, rel: &str) -> Vec<serde_json::Value> {
        read_jsonl(&self.path(rel).join("calls.jsonl"))
    }
}

/// The built `callqa`, blind to the user's settings file: the one way every test starts it.
pub fn callqa_command() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_callqa"));
    cmd.env_remove("CALLQA_CONFIG")
        .env("XDG_CONFIG_HOME", env!("CARGO_TARGET_TMPDIR"));
    cmd
}

/// Runs `cmd` and returns its stdout, failing the test with its stderr if it did not succeed.
pub fn stdout_of(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run callqa");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

pub fn ran(out: Output) -> Ran {
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
