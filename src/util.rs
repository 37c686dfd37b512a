//! Plumbing shared by the stages that read the configuration folders QA staff own.

use std::path::{Path, PathBuf};

/// The files of `dir` ending in `.ext`, in name order (so versions hash the same everywhere).
pub(crate) fn config_files(dir: &Path, ext: &str) -> std::io::Result<Vec<PathBuf>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    paths.sort();
    Ok(paths)
}

/// 1-based line of byte offset `at` in `text`, for `file:line` messages from parser spans.
pub(crate) fn line_at(text: &str, at: usize) -> usize {
    text.as_bytes()[..at.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// `file:line`, or just `file` when the problem is with the whole file (line 0).
pub(crate) fn location(path: &Path, line: usize) -> String {
    if line == 0 {
        path.display().to_string()
    } else {
        format!("{}:{line}", path.display())
    }
}
