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
