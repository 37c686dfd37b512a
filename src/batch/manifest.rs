//! The manifest: `call_id,audio,agent_id,started_at,direction,agent_channel` (+ extra columns).
//!
//! Read as a stream, one row at a time, so a manifest of millions of calls costs only the set
//! of call ids seen (needed to refuse duplicates). A bad row becomes a [`RowError`] carrying
//! the manifest's name and line; the rows after it still run.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use crate::CallMeta;

/// Columns every manifest has; any other column is carried through as `extra`.
pub const COLUMNS: [&str; 6] = [
    "call_id",
    "audio",
    "agent_id",
    "started_at",
    "direction",
    "agent_channel",
];

/// A row (or the header) that cannot be used, as `calls.csv:17: reason`.
/// Line 0 means the error is about the file as a whole (or a file name under `--dir`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct RowError {
    pub path: PathBuf,
    pub line: u64,
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            0 => write!(f, "{}: {}", self.path.display(), self.message),
            n => write!(f, "{}:{n}: {}", self.path.display(), self.message),
        }
    }
}

/// Streams the calls of a manifest file.
pub struct Manifest {
    path: PathBuf,
    base: PathBuf,
    reader: csv::Reader<std::fs::File>,
    header: Vec<String>,
    seen: HashSet<String>,
}

impl Manifest {
    /// Opens a manifest and checks its header: a missing column stops the whole run.
    pub fn open(path: &Path) -> Result<Manifest, RowError> {
        let fail = |line, message: String| RowError {
            path: path.to_path_buf(),
            line,
            message,
        };
        let file = std::fs::File::open(path).map_err(|e| {
            fail(
                0,
                format!("cannot open the manifest ({e}); check --manifest"),
            )
        })?;
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(file);
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| {
                fail(
                    1,
                    format!("unreadable header ({e}); save the file as UTF-8 CSV"),
                )
            })?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
            .collect();
        let missing: Vec<&str> = COLUMNS
            .iter()
            .copied()
            .filter(|c| !header.iter().any(|h| h == c))
            .collect();
        if !missing.is_empty() {
            return Err(fail(
                1,
                format!(
                    "header lacks {}; the header must name {}",
                    missing.join(", "),
                    COLUMNS.join(",")
                ),
            ));
        }
        Ok(Manifest {
            path: path.to_path_buf(),
            base: path.parent().map(Path::to_path_buf).unwrap_or_default(),
            reader,
            header,
            seen: HashSet::new(),
        })
    }

    fn row(&mut self, record: &csv::StringRecord, line: u64) -> Result<CallMeta, RowError> {
        let fail = |message: String| RowError {
            path: self.path.clone(),
            line,
            message,
        };
        if record.len() != self.header.len() {
            return Err(fail(format!(
                "{} fields, the header has {}; quote fields that contain commas",
                record.len(),
                self.header.len()
            )));
        }
        let mut fields = BTreeMap::new();
        let mut extra = BTreeMap::new();
        for (name, value) in self.header.iter().zip(record.iter()) {
            if COLUMNS.contains(&name.as_str()) {
                fields.insert(name.as_str(), value.trim());
            } else {
                extra.insert(name.clone(), value.to_string());
            }
        }
        let get = |name: &str| -> Result<&str, RowError> {
            match fields.get(name) {
                Some(v) if !v.is_empty() => Ok(v),
                _ => Err(fail(format!(
                    "{name} is empty; fill it in or remove the row"
                ))),
            }
        };
        let call_id = get("call_id")?.to_string();
        let started_at = chrono::DateTime::parse_from_rfc3339(get("started_at")?).map_err(|e| {
            fail(format!(
                "started_at {:?} is not RFC 3339 ({e}); write it like 2026-10-01T09:30:00+08:00",
                fields.get("started_at").copied().unwrap_or_default()
            ))
        })?;
        let direction = get("direction")?.parse().map_err(fail)?;
        let agent_channel = get("agent_channel")?.parse().map_err(fail)?;
        let agent_id = get("agent_id")?.to_string();
        let audio = self.base.join(get("audio")?);
        if !audio.is_file() {
            return Err(fail(format!(
                "audio {} does not exist; paths are relative to the manifest's folder",
                audio.display()
            )));
        }
        if !self.seen.insert(call_id.clone()) {
            return Err(fail(format!(
                "call_id {call_id} appears twice; give each call its own id"
            )));
        }
        Ok(CallMeta {
            call_id,
            audio,
            agent_id,
            started_at,
            direction,
            agent_channel,
            extra,
        })
    }
}

impl Iterator for Manifest {
    type Item = Result<CallMeta, RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut record = csv::StringRecord::new();
        match self.reader.read_record(&mut record) {
            Ok(false) => None,
            Ok(true) => {
                let line = record.position().map_or(0, |p| p.line());
                Some(self.row(&record, line))
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                // Skip to the next record: a broken row must not end the manifest.
                Some(Err(RowError {
                    path: self.path.clone(),
                    line,
                    message: format!("unreadable row ({e}); save the file as UTF-8 CSV"),
                }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(dir: &Path, body: &str) -> Vec<Result<CallMeta, RowError>> {
        std::fs::write(dir.join("a.wav"), b"x").expect("test setup");
        std::fs::write(dir.join("b.wav"), b"x").expect("test setup");
        let path = dir.join("calls.csv");
        std::fs::write(&path, body).expect("test setup");
        Manifest::open(&path).expect("test setup").collect()
    }

    #[test]
    fn good_rows_parse_and_bad_rows_name_their_line() {
        let dir = tempfile::tempdir().expect("test setup");
        let rows = manifest(
            dir.path(),
            "\u{feff}call_id,audio,agent_id,started_at,direction,agent_channel,team\n\
             c1,a.wav,A01,2026-10-01T09:30:00+08:00,inbound,left,东区\n\
             c2,b.wav,A02,yesterday,inbound,left,东区\n\
             c3,b.wav,A02,2026-10-01T09:30:00+08:00,sideways,left,东区\n\
             c1,b.wav,A02,2026-10-01T09:30:00+08:00,outbound,right,东区\n\
             c4,missing.wav,A02,2026-10-01T09:30:00+08:00,outbound,mono,东区\n\
             c5,b.wav,A02,2026-10-01T09:30:00+08:00,outbound,mono,西区\n",
        );
        let ok: Vec<&CallMeta> = rows.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[0].extra.get("team").map(String::as_str), Some("东区"));
        assert_eq!(ok[1].call_id, "c5");
        let errors: Vec<String> = rows
            .iter()
            .filter_map(|r| r.as_ref().err())
            .map(|e| e.to_string())
            .collect();
        assert_eq!(errors.len(), 4, "{errors:?}");
        assert!(
            errors[0].contains("calls.csv:3: started_at \"yesterday\" is not RFC 3339")
                && errors[0].ends_with("write it like 2026-10-01T09:30:00+08:00"),
            "{}",
            errors[0]
        );
        assert!(errors[1].contains("calls.csv:4: unknown direction"));
        assert!(errors[2].contains("calls.csv:5: call_id c1 appears twice"));
        assert!(errors[3].contains("calls.csv:6: audio"));
    }

    #[test]
    fn missing_column_is_a_manifest_error() {
        let dir = tempfile::tempdir().expect("test setup");
        let path = dir.path().join("calls.csv");
        std::fs::write(&path, "call_id,audio\n").expect("test setup");
        let err = Manifest::open(&path).err().expect("test setup").to_string();
        assert!(err.contains("calls.csv:1: header lacks agent_id"), "{err}");
    }
}
