//! Runs one of the browser scripts (tests/browser/*.js, puppeteer-core over Debian's chromium,
//! launched by tests/browser/launch.js) and returns the JSON it printed. One place for the
//! node call and for the message that says what to install.

use std::ffi::OsStr;
use std::path::Path;

/// `node tests/browser/SCRIPT ARGS…`; panics with the script's output when it fails, and
/// with what to install when chromium or node is missing.
pub fn run(script: &str, args: &[&OsStr]) -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/browser")
        .join(script);
    let out = std::process::Command::new("node")
        .arg(&path)
        .args(args)
        .output()
        .expect("node runs (install Debian's nodejs, then `npm ci` in tests/browser)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(
        out.status.code(),
        Some(3),
        "chromium is missing: install Debian's package with `apt-get install -y chromium`\n{stderr}"
    );
    assert!(out.status.success(), "{script} failed: {stdout}\n{stderr}");
    serde_json::from_str(stdout.trim()).expect("JSON from the script")
}
