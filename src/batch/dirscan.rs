//! `callqa run --dir RECORDINGS --pattern REGEX`: call metadata from file names.
//!
//! The pattern is matched against each file's name (not its folder) and must match the whole
//! name. Named groups: `agent_id` (required), `call_id` (default: the file name without its
//! extension), `started_at` (RFC 3339) or `date` (`20261001` or `2026-10-01`) + `time`
//! (`093000` or `09:30:00`, in the `--utc-offset` zone), `direction` and `agent_channel`
//! (defaults from flags). Files that do not match are skipped (`-v` lists them): a recordings
//! folder usually holds other files too. Files are visited in name order so reruns agree.

use std::path::{Path, PathBuf};

use chrono::{FixedOffset, NaiveDate, NaiveTime, TimeZone};
use regex::Regex;

use super::manifest::RowError;
use crate::{AgentChannel, CallMeta, Direction};

/// A pattern for names like `20261001_093000_A017_in_c123.wav`.
pub const EXAMPLE_PATTERN: &str = r"(?P<date>\d{8})_(?P<time>\d{6})_(?P<agent_id>[^_]+)_(?P<direction>in|out)_(?P<call_id>[^.]+)\.\w+";

/// Defaults for what a file name does not say.
#[derive(Clone, Debug)]
pub struct Defaults {
    pub direction: Direction,
    pub agent_channel: AgentChannel,
    pub utc_offset: FixedOffset,
}

/// The calls of a recordings folder, in path order.
pub struct DirScan {
    files: std::vec::IntoIter<PathBuf>,
    pattern: Regex,
    defaults: Defaults,
}

impl DirScan {
    /// Lists `dir` (recursively) and checks the pattern's groups.
    pub fn new(dir: &Path, pattern: &str, defaults: Defaults) -> Result<DirScan, RowError> {
        let fail = |message: String| RowError {
            path: dir.to_path_buf(),
            line: 0,
            message,
        };
        let pattern = Regex::new(&format!("^(?:{pattern})$"))
            .map_err(|e| fail(format!("--pattern is not a valid regex ({e})")))?;
        let names: Vec<&str> = pattern.capture_names().flatten().collect();
        if !names.contains(&"agent_id") {
            return Err(fail(format!(
                "--pattern has no (?P<agent_id>...) group; for example {EXAMPLE_PATTERN}"
            )));
        }
        let has_time =
            names.contains(&"started_at") || (names.contains(&"date") && names.contains(&"time"));
        if !has_time {
            return Err(fail(
                "--pattern needs a (?P<started_at>...) group or (?P<date>...) and (?P<time>...)"
                    .into(),
            ));
        }
        let mut files = Vec::new();
        walk(dir, &mut files)
            .map_err(|e| fail(format!("cannot list the folder ({e}); check --dir")))?;
        files.sort();
        Ok(DirScan {
            files: files.into_iter(),
            pattern,
            defaults,
        })
    }

    fn meta(&self, path: PathBuf) -> Option<Result<CallMeta, RowError>> {
        let name = path.file_name()?.to_string_lossy().into_owned();
        let Some(caps) = self.pattern.captures(&name) else {
            tracing::debug!("{}: name does not match --pattern, skipped", path.display());
            return None;
        };
        let fail = |message: String| RowError {
            path: path.clone(),
            line: 0,
            message,
        };
        let group = |n: &str| caps.name(n).map(|m| m.as_str());
        let parse = || -> Result<CallMeta, RowError> {
            let started_at = match group("started_at") {
                Some(s) => chrono::DateTime::parse_from_rfc3339(s)
                    .map_err(|e| fail(format!("started_at {s:?} is not RFC 3339 ({e})")))?,
                None => {
                    let d = group("date").unwrap_or_default();
                    let t = group("time").unwrap_or_default();
                    let date = NaiveDate::parse_from_str(d, "%Y%m%d")
                        .or_else(|_| NaiveDate::parse_from_str(d, "%Y-%m-%d"))
                        .map_err(|_| fail(format!("date {d:?} is not 20261001 or 2026-10-01")))?;
                    let time = NaiveTime::parse_from_str(t, "%H%M%S")
                        .or_else(|_| NaiveTime::parse_from_str(t, "%H:%M:%S"))
                        .map_err(|_| fail(format!("time {t:?} is not 093000 or 09:30:00")))?;
                    self.defaults
                        .utc_offset
                        .from_local_datetime(&date.and_time(time))
                        .single()
                        .ok_or_else(|| fail(format!("{d} {t} is not a valid local time")))?
                }
            };
            let direction = group("direction")
                .map(str::parse)
                .transpose()
                .map_err(fail)?
                .unwrap_or(self.defaults.direction);
            let agent_channel = group("agent_channel")
                .map(str::parse)
                .transpose()
                .map_err(fail)?
                .unwrap_or(self.defaults.agent_channel);
            let call_id = group("call_id").map(str::to_string).unwrap_or_else(|| {
                path.file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default()
            });
            Ok(CallMeta {
                call_id,
                audio: path.clone(),
                agent_id: group("agent_id").unwrap_or_default().to_string(),
                started_at,
                direction,
                agent_channel,
                extra: Default::default(),
            })
        };
        Some(parse())
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

impl Iterator for DirScan {
    type Item = Result<CallMeta, RowError>;
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let path = self.files.next()?;
            if let Some(item) = self.meta(path) {
                return Some(item);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_pattern_reads_the_documented_name() {
        let dir = tempfile::tempdir().expect("test setup");
        std::fs::write(dir.path().join("20261001_093000_A017_out_c123.wav"), b"x")
            .expect("test setup");
        std::fs::write(dir.path().join("notes.txt"), b"x").expect("test setup");
        std::fs::write(dir.path().join("20261001_993000_A017_in_c124.wav"), b"x")
            .expect("test setup");
        let defaults = Defaults {
            direction: Direction::Inbound,
            agent_channel: AgentChannel::Right,
            utc_offset: FixedOffset::east_opt(8 * 3600).expect("test setup"),
        };
        let calls: Vec<_> = DirScan::new(dir.path(), EXAMPLE_PATTERN, defaults)
            .expect("test setup")
            .collect();
        assert_eq!(calls.len(), 2);
        let c = calls[0].as_ref().expect("test setup");
        assert_eq!(c.call_id, "c123");
        assert_eq!(c.agent_id, "A017");
        assert_eq!(c.direction, Direction::Outbound);
        assert_eq!(c.agent_channel, AgentChannel::Right);
        assert_eq!(c.started_at.to_rfc3339(), "2026-10-01T09:30:00+08:00");
        let bad = calls[1].as_ref().expect_err("should fail").to_string();
        assert!(bad.contains("c124.wav: time \"993000\""), "{bad}");
    }
}
