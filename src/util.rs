//! Plumbing every stage shares, one copy each: atomic file writes, sha256, the listing of the
//! configuration folders QA staff own, and line numbers of byte offsets.
//!
//! Atomic writes matter because cron readers (a BI tool picking up `calls.jsonl`, a browser
//! reloading the report) may read at any moment, and a killed run must never leave half a file:
//! the bytes go to a uniquely named temporary file in the same folder, are fsynced, renamed over
//! the target, and the folder is fsynced so the rename itself survives a power cut.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The files of `dir` ending in `.ext`, in name order (so versions hash the same everywhere).
pub(crate) fn config_files(dir: &Path, ext: &str) -> std::io::Result<Vec<PathBuf>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    paths.sort();
    Ok(paths)
}

/// Writes `path` through `fill` so that readers see the old content or the new, never half.
/// The temporary file is unique (a planted or stale name is never followed) and removed when
/// `fill` fails.
pub fn write_atomic_with<F>(path: &Path, fill: F) -> std::io::Result<()>
where
    F: FnOnce(&mut std::io::BufWriter<&mut std::fs::File>) -> std::io::Result<()>,
{
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)?;
    {
        let mut w = std::io::BufWriter::new(tmp.as_file_mut());
        fill(&mut w)?;
        w.flush()?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    // The rename is durable only once the folder's entry is on disk; not every filesystem
    // lets a folder be opened for that, and the data is already safe, so failure is ignored.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// [`write_atomic_with`] for bytes already in memory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// sha256 of `bytes`, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// sha256 of a file's content, hex, read in 1 MiB pieces.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// sha256 over `parts`, each followed by a NUL so `["ab","c"]` and `["a","bc"]` differ.
pub fn digest(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    hex::encode(h.finalize())
}

/// `file:line`, or just `file` when the problem is with the whole file (line 0).
pub(crate) fn location(path: &Path, line: usize) -> String {
    if line == 0 {
        path.display().to_string()
    } else {
        format!("{}:{line}", path.display())
    }
}

/// A text cell as a spreadsheet must receive it: a cell starting with `=`, `+`, `-` (unless it
/// is a number), `@`, tab or CR is a formula to Excel and WPS (`=HYPERLINK(…)`, `-cmd|…`), so
/// it gets a leading `'`, which they show as plain text. Manifest columns come from outside.
pub fn spreadsheet_cell(s: &str) -> std::borrow::Cow<'_, str> {
    let risky = match s.chars().next() {
        Some('=' | '+' | '@' | '\t' | '\r') => true,
        Some('-') => s.parse::<f64>().is_err(),
        _ => false,
    };
    if risky {
        format!("'{s}").into()
    } else {
        s.into()
    }
}

/// 1-based line number of byte offset `at` in `text`.
pub fn line_at(text: &str, at: usize) -> usize {
    text.as_bytes()[..at.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_whole_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("calls.jsonl");
        write_atomic(&path, b"old\n").expect("first write");
        let failed = write_atomic_with(&path, |w| {
            w.write_all(b"half")?;
            Err(std::io::Error::other("disk full"))
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read(&path).expect("read"), b"old\n");
        write_atomic(&path, b"new\n").expect("second write");
        assert_eq!(std::fs::read(&path).expect("read"), b"new\n");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("calls.jsonl")]);
    }

    #[test]
    fn line_numbers_count_from_one() {
        for (text, at, line) in [
            ("a\nb\nc", 0, 1),
            ("a\nb\nc", 2, 2),
            ("a\nb\nc", 4, 3),
            ("", 9, 1),
        ] {
            assert_eq!(line_at(text, at), line, "{text:?} at {at}");
        }
    }

    #[test]
    fn formulas_are_defused_and_numbers_kept() {
        for (cell, shown) in [
            ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0"),
            ("+1+1", "'+1+1"),
            ("\tx", "'\tx"),
            ("-12.5", "-12.5"),
            ("一组", "一组"),
            ("", ""),
        ] {
            assert_eq!(spreadsheet_cell(cell), shown, "{cell:?}");
        }
    }

    #[test]
    fn digests_separate_their_parts() {
        assert_ne!(digest(&["ab", "c"]), digest(&["a", "bc"]));
        assert_eq!(sha256_hex(b"").len(), 64);
    }
}
