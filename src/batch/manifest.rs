//! Where calls come from: a manifest CSV, or recordings named by a pattern.
//!
//! Manifest contract (README "Inputs"): a UTF-8 CSV (a BOM is fine) with the header
//! `call_id,audio,agent_id,started_at,direction,agent_channel`; extra columns are carried
//! through to the results. `audio` is relative to the manifest's folder or absolute;
//! `started_at` is RFC 3339 with an offset. A bad row is reported with its line number and
//! skipped; the rest of the batch runs. Rows are read one at a time, so a manifest of millions
//! of calls never sits in memory.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use crate::{AgentChannel, CallMeta, Direction};

/// The columns every manifest must have (more are carried to the result as `extra`).
pub const REQUIRED: [&str; 6] = [
    "call_id",
    "audio",
    "agent_id",
    "started_at",
    "direction",
    "agent_channel",
];

/// A row that could not be used: file, line and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub path: PathBuf,
    pub line: u64,
    pub call_id: Option<String>,
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.path.display(), self.line, self.message)
    }
}

/// The manifest as a whole is unusable (missing file or header): nothing runs.
#[derive(Debug, thiserror::Error)]
#[error("{}: {message}", path.display())]
pub struct ManifestError {
    pub path: PathBuf,
    pub message: String,
}

/// Reads a manifest row by row.
pub struct Manifest {
    path: PathBuf,
    base: PathBuf,
    reader: csv::Reader<std::fs::File>,
    header: Vec<String>,
    seen: HashSet<String>,
}

impl Manifest {
    pub fn open(path: &Path) -> Result<Manifest, ManifestError> {
        let fail = |message: String| ManifestError {
            path: path.to_path_buf(),
            message,
        };
        let file = std::fs::File::open(path)
            .map_err(|e| fail(format!("cannot open the manifest ({e}); check --manifest")))?;
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(file);
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| fail(format!("cannot read the header ({e})")))?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
            .collect();
        let missing: Vec<&str> = REQUIRED
            .iter()
            .copied()
            .filter(|r| !header.iter().any(|h| h == r))
            .collect();
        if !missing.is_empty() {
            return Err(fail(format!(
                "line 1: header lacks {}; the header must name {}",
                missing.join(", "),
                REQUIRED.join(",")
            )));
        }
        Ok(Manifest {
            base: path.parent().map(Path::to_path_buf).unwrap_or_default(),
            path: path.to_path_buf(),
            reader,
            header,
            seen: HashSet::new(),
        })
    }

    fn parse(&mut self, record: &csv::StringRecord, line: u64) -> Result<CallMeta, RowError> {
        let field = |name: &str| -> Option<&str> {
            let i = self.header.iter().position(|h| h == name)?;
            record.get(i).map(str::trim).filter(|v| !v.is_empty())
        };
        let call_id = field("call_id").map(String::from);
        let fail = |message: String| RowError {
            path: self.path.clone(),
            line,
            call_id: call_id.clone(),
            message,
        };
        let get = |name: &str| {
            field(name)
                .ok_or_else(|| fail(format!("{name} is empty; fill it in or remove the row")))
        };
        let id = get("call_id")?.to_string();
        let audio_field = get("audio")?;
        let agent_id = get("agent_id")?.to_string();
        let started_raw = get("started_at")?;
        let started_at = chrono::DateTime::parse_from_rfc3339(started_raw).map_err(|_| {
            fail(format!(
                "started_at {started_raw:?} is not RFC 3339 with an offset; write e.g. 2026-10-01T09:30:00+08:00"
            ))
        })?;
        let direction: Direction = get("direction")?.parse().map_err(|e: String| fail(e))?;
        let agent_channel: AgentChannel =
            get("agent_channel")?.parse().map_err(|e: String| fail(e))?;
        let audio = {
            let p = PathBuf::from(audio_field);
            if p.is_absolute() {
                p
            } else {
                self.base.join(p)
            }
        };
        if !audio.is_file() {
            return Err(fail(format!(
                "audio {} not found (paths are relative to the manifest's folder)",
                audio.display()
            )));
        }
        let extra: BTreeMap<String, String> = self
            .header
            .iter()
            .enumerate()
            .filter(|(_, h)| !REQUIRED.contains(&h.as_str()))
            .filter_map(|(i, h)| record.get(i).map(|v| (h.clone(), v.to_string())))
            .collect();
        if !self.seen.insert(id.clone()) {
            return Err(fail(format!(
                "duplicate call_id {id}; each call needs its own id"
            )));
        }
        Ok(CallMeta {
            call_id: id,
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
                Some(self.parse(&record, line))
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                Some(Err(RowError {
                    path: self.path.clone(),
                    line,
                    call_id: None,
                    message: format!("unreadable row ({e}); fix its quoting or encoding (UTF-8)"),
                }))
            }
        }
    }
}

/// How to read call metadata from recording file names (`callqa run --dir`).
#[derive(Clone, Debug)]
pub struct NamePattern {
    pub regex: regex::Regex,
    pub direction: Direction,
    pub agent_channel: AgentChannel,
    pub utc_offset: chrono::FixedOffset,
}

/// The default file-name pattern: `AGENT_YYYYMMDD_HHMMSS_CALLID.ext`.
pub const DEFAULT_PATTERN: &str =
    r"^(?P<agent_id>[^_]+)_(?P<date>\d{8})_(?P<time>\d{6})_(?P<call_id>[^.]+)\.\w+$";

/// What `--dir` picks up: the containers Symphonia reads, and the telephony formats FFmpeg's
/// decoders add (AMR from mobile recorders, raw GSM from Asterisk, G.729 and G.722 from VoIP).
const AUDIO_EXTENSIONS: [&str; 15] = [
    "wav", "mp3", "flac", "ogg", "m4a", "mp4", "aac", "amr", "awb", "3gp", "gsm", "g729", "g722",
    "opus", "oga",
];

impl NamePattern {
    /// Metadata for one file name, or why it does not fit.
    pub fn meta(&self, path: &Path) -> Result<CallMeta, String> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let caps = self
            .regex
            .captures(&name)
            .ok_or_else(|| format!("file name {name:?} does not match --pattern"))?;
        let group = |g: &str| caps.name(g).map(|m| m.as_str().to_string());
        let call_id = group("call_id").unwrap_or_else(|| name.clone());
        let agent_id = group("agent_id").ok_or("--pattern has no (?P<agent_id>…) group")?;
        let started_at = match (group("started_at"), group("date"), group("time")) {
            (Some(s), _, _) => chrono::DateTime::parse_from_rfc3339(&s)
                .map_err(|e| format!("started_at {s:?}: {e}"))?,
            (None, Some(d), t) => {
                let t = t.unwrap_or_else(|| "000000".into());
                let naive =
                    chrono::NaiveDateTime::parse_from_str(&format!("{d}{t}"), "%Y%m%d%H%M%S")
                        .map_err(|e| format!("date/time {d} {t}: {e}; use YYYYMMDD and HHMMSS"))?;
                naive
                    .and_local_timezone(self.utc_offset)
                    .single()
                    .ok_or("ambiguous local time")?
            }
            _ => return Err("--pattern needs (?P<started_at>…) or (?P<date>…) groups".into()),
        };
        let direction = match group("direction") {
            Some(d) => d.parse()?,
            None => self.direction,
        };
        let agent_channel = match group("agent_channel") {
            Some(c) => c.parse()?,
            None => self.agent_channel,
        };
        Ok(CallMeta {
            call_id,
            audio: path.to_path_buf(),
            agent_id,
            started_at,
            direction,
            agent_channel,
            extra: BTreeMap::new(),
        })
    }

    /// Every recording under `dir` (sorted, recursive) as metadata or a reason. Linked
    /// folders are followed once each: a link back up the tree (`ln -s . rec/a`) would
    /// otherwise list every file again and again.
    pub fn scan(&self, dir: &Path) -> Vec<Result<CallMeta, RowError>> {
        let mut files = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        let mut visited = HashSet::new();
        while let Some(d) = stack.pop() {
            let real = std::fs::canonicalize(&d).unwrap_or_else(|_| d.clone());
            if !visited.insert(real) {
                continue;
            }
            let Ok(entries) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p
                    .extension()
                    .and_then(|x| x.to_str())
                    .is_some_and(|x| AUDIO_EXTENSIONS.contains(&x.to_ascii_lowercase().as_str()))
                {
                    files.push(p);
                }
            }
        }
        files.sort();
        let mut seen = HashSet::new();
        files
            .into_iter()
            .map(|p| {
                let fail = |message: String| RowError {
                    path: p.clone(),
                    line: 0,
                    call_id: None,
                    message,
                };
                let meta = self.meta(&p).map_err(fail)?;
                if !seen.insert(meta.call_id.clone()) {
                    return Err(fail(format!("duplicate call_id {}", meta.call_id)));
                }
                Ok(meta)
            })
            .collect()
    }
}

/// Which part of the calls this process runs: `i/n` (0-based), by a stable hash of call_id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// Parses `i/n`, or `auto` from a Kubernetes Indexed Job (`JOB_COMPLETION_INDEX`, with the
    /// shard count in `JOB_COMPLETIONS`) or a Slurm array (`SLURM_ARRAY_TASK_ID`,
    /// `SLURM_ARRAY_TASK_COUNT`).
    pub fn parse(s: &str) -> Result<Shard, String> {
        let env = |k: &str| {
            std::env::var(k)
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let (index, count) = if s == "auto" {
            match (env("JOB_COMPLETION_INDEX"), env("JOB_COMPLETIONS"), env("SLURM_ARRAY_TASK_ID"), env("SLURM_ARRAY_TASK_COUNT")) {
                (Some(i), Some(n), _, _) => (i, n),
                (_, _, Some(i), Some(n)) => (i, n),
                _ => return Err("--shard auto needs JOB_COMPLETION_INDEX and JOB_COMPLETIONS (Kubernetes) or SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT (Slurm)".into()),
            }
        } else {
            let (i, n) = s
                .split_once('/')
                .ok_or("--shard takes i/n, e.g. 0/4, or auto")?;
            (
                i.trim()
                    .parse()
                    .map_err(|_| format!("--shard {s}: i must be a number"))?,
                n.trim()
                    .parse()
                    .map_err(|_| format!("--shard {s}: n must be a number"))?,
            )
        };
        if count == 0 || index >= count {
            return Err(format!("--shard {index}/{count}: need 0 <= i < n"));
        }
        Ok(Shard { index, count })
    }

    /// FNV-1a of the call id: the same call lands in the same shard on every machine and run.
    pub fn contains(&self, call_id: &str) -> bool {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in call_id.bytes() {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h % self.count == self.index
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(rows: &str) -> (tempfile::TempDir, Vec<Result<CallMeta, RowError>>) {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("a.wav"), b"x").expect("audio");
        let path = dir.path().join("calls.csv");
        std::fs::write(
            &path,
            format!(
                "\u{feff}call_id,audio,agent_id,started_at,direction,agent_channel,team\n{rows}"
            ),
        )
        .expect("csv");
        let rows = Manifest::open(&path).expect("open").collect();
        (dir, rows)
    }

    #[test]
    fn good_rows_carry_extra_columns_and_bad_rows_name_their_line() {
        let (_d, rows) = manifest(
            "c1,a.wav,A1,2026-10-01T09:30:00+08:00,inbound,left,一组\n\
             c2,a.wav,A1,2026-10-01 09:30,inbound,left,一组\n\
             c3,a.wav,A1,2026-10-01T09:30:00+08:00,sideways,left,一组\n\
             c1,a.wav,A1,2026-10-01T09:30:00+08:00,inbound,left,一组\n\
             c5,missing.wav,A1,2026-10-01T09:30:00+08:00,inbound,left,一组\n\
             c6,a.wav,,2026-10-01T09:30:00+08:00,outbound,mono,二组\n",
        );
        let ok = rows[0].as_ref().expect("row 2");
        assert_eq!(ok.extra.get("team").map(String::as_str), Some("一组"));
        assert!(ok.audio.ends_with("a.wav"));
        let errors: Vec<String> = rows[1..]
            .iter()
            .map(|r| r.as_ref().expect_err("bad").to_string())
            .collect();
        assert!(
            errors[0].contains("calls.csv:3: started_at"),
            "{}",
            errors[0]
        );
        assert!(errors[1].contains(":4: unknown direction"), "{}", errors[1]);
        assert!(
            errors[2].contains(":5: duplicate call_id c1"),
            "{}",
            errors[2]
        );
        assert!(errors[3].contains(":6: audio"), "{}", errors[3]);
        assert!(errors[4].contains(":7: agent_id is empty"), "{}", errors[4]);
    }

    #[test]
    fn a_manifest_without_the_contract_header_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("m.csv");
        std::fs::write(&path, "id,file\n1,a.wav\n").expect("csv");
        let e = Manifest::open(&path).err().expect("refused");
        assert!(e.to_string().contains("header lacks call_id"), "{e}");
    }

    #[test]
    fn shards_partition_the_calls() {
        let shards: Vec<Shard> = (0..3)
            .map(|i| Shard::parse(&format!("{i}/3")).expect("shard"))
            .collect();
        for id in (0..300).map(|i| format!("call-{i}")) {
            assert_eq!(shards.iter().filter(|s| s.contains(&id)).count(), 1);
        }
        assert!(Shard::parse("3/3").is_err());
        assert!(Shard::parse("x").is_err());
    }

    fn default_pattern() -> NamePattern {
        NamePattern {
            regex: regex::Regex::new(DEFAULT_PATTERN).expect("regex"),
            direction: Direction::Inbound,
            agent_channel: AgentChannel::Left,
            utc_offset: chrono::FixedOffset::east_opt(8 * 3600).expect("offset"),
        }
    }

    #[test]
    fn file_names_give_metadata() {
        let p = default_pattern();
        let m = p
            .meta(Path::new("rec/A007_20261001_093000_X1.wav"))
            .expect("meta");
        assert_eq!((m.agent_id.as_str(), m.call_id.as_str()), ("A007", "X1"));
        assert_eq!(m.started_at.to_rfc3339(), "2026-10-01T09:30:00+08:00");
        assert!(p.meta(Path::new("notes.wav")).is_err());
    }

    #[test]
    fn a_link_back_up_the_tree_lists_each_recording_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let rec = dir.path().join("rec");
        std::fs::create_dir_all(rec.join("day1")).expect("mkdir");
        std::fs::write(rec.join("day1/A007_20261001_093000_X1.wav"), b"").expect("file");
        std::os::unix::fs::symlink("..", rec.join("day1/loop")).expect("symlink");
        let p = default_pattern();
        let found = p.scan(&rec);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].is_ok());
    }

    #[test]
    fn telephony_recordings_are_listed_and_notes_are_not() {
        let dir = tempfile::tempdir().expect("tempdir");
        let names = [
            "A1_20261001_093000_M1.AMR",
            "A1_20261001_093000_M2.awb",
            "A1_20261001_093000_V1.g729",
            "A1_20261001_093000_P1.gsm",
            "notes.txt",
            "A1_20261001_093000_X.csv",
        ];
        for name in names {
            std::fs::write(dir.path().join(name), b"").expect("file");
        }
        let found = default_pattern().scan(dir.path());
        assert_eq!(found.len(), 4, "{found:?}");
    }
}
