//! `calls.jsonl`: one `CallResult` per line, the latest result of every call, in call_id order.
//!
//! Written from the store, never appended to during a run: a temporary file beside the target
//! is filled, synced and renamed over it, so a reader (or a kill) never sees half a file.

use std::io::Write;
use std::path::Path;

use crate::store::Store;

/// File name of the per-call export in the output folder.
pub const FILE: &str = "calls.jsonl";

/// Why an export could not be written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] crate::store::Error),
    #[error("{}: cannot write ({source}); check free space and permissions of the output folder", path.display())]
    Write {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Writes `path` through a temporary file in the same folder, then renames it into place.
pub fn write_atomically(
    path: &Path,
    fill: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> Result<(), Error>,
) -> Result<(), Error> {
    let io = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    let file = std::fs::File::create(&tmp).map_err(io)?;
    let mut w = std::io::BufWriter::new(file);
    fill(&mut w)?;
    let file = w.into_inner().map_err(|e| io(e.into_error()))?;
    file.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// Exports every stored call to `DIR/calls.jsonl`; returns the number of lines.
pub fn export(store: &Store, dir: &Path) -> Result<u64, Error> {
    let path = dir.join(FILE);
    let mut lines = 0;
    write_atomically(&path, |w| {
        let io = |source| Error::Write {
            path: path.clone(),
            source,
        };
        let mut failed = None;
        store.for_each_result_json(|json| {
            let written = w
                .write_all(json.as_bytes())
                .and_then(|()| w.write_all(b"\n"));
            if let Err(e) = written {
                failed.get_or_insert(e);
            }
            lines += 1;
            Ok(())
        })?;
        failed.map_or(Ok(()), |e| Err(io(e)))
    })?;
    Ok(lines)
}
