//! Report stage: what people read — `calls.jsonl`, monthly rollups, the inspector's HTML,
//! trainer clips — and the redaction they share.

pub mod clips;
mod files;
pub mod html;
pub mod redact;
pub mod rollup;
pub mod scorecard;

/// Writes a file so that readers see either the old or the new content, never half of it.
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}
