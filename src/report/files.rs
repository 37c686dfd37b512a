//! File plumbing shared by the HTML report and the clips: safe file names, finding a call's
//! recording, and writing 16-bit PCM WAV atomically.
//!
//! Names are derived from call ids, which come from customers' manifests and may hold any
//! character; a name is the id with everything outside `[A-Za-z0-9._-]` replaced, plus a short
//! hash of the original id whenever anything was replaced, so two ids never share a file.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::audio::{Track, SAMPLE_RATE};
use crate::CallResult;

/// Longest stem kept from a call id; long enough to recognise, short enough for every filesystem.
const MAX_STEM_CHARS: usize = 80;

/// A file-name stem for `id`, safe on every filesystem and distinct for distinct ids.
pub(crate) fn safe_stem(id: &str) -> String {
    let cleaned: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(MAX_STEM_CHARS)
        .collect();
    let cleaned = cleaned.trim_start_matches('.').to_string();
    if cleaned == id && !cleaned.is_empty() {
        cleaned
    } else {
        format!("{cleaned}_{}", short_hash(id))
    }
}

/// First 8 hex digits of the SHA-256 of `s`.
pub(crate) fn short_hash(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .take(4)
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp{}", std::process::id()));
    path.with_file_name(name)
}

/// Where a call's recording is: its path as written, or relative to the results folder.
pub(crate) fn locate_audio(results_dir: &Path, audio: &str) -> PathBuf {
    let as_written = PathBuf::from(audio);
    if as_written.is_absolute() || as_written.exists() {
        return as_written;
    }
    let beside = results_dir.join(&as_written);
    if beside.exists() {
        beside
    } else {
        as_written
    }
}

/// Writes samples `[start, end)` of `tracks` (one channel per track, in order) as a 16-bit
/// PCM WAV at [`SAMPLE_RATE`], atomically.
/// Writes samples `start..end` of `tracks` as 16-bit PCM, with a 1 kHz tone in place of the
/// audio wherever `bleep` (milliseconds of the call) says a personal number is spoken.
pub(crate) fn write_wav(
    path: &Path,
    tracks: &[&Track],
    start: usize,
    end: usize,
    bleep: &[(u64, u64)],
) -> Result<(), hound::Error> {
    let bleeped: Vec<(usize, usize)> = bleep
        .iter()
        .map(|&(from, to)| (sample_at(from), sample_at(to)))
        .collect();
    let spec = hound::WavSpec {
        channels: u16::try_from(tracks.len().max(1)).unwrap_or(u16::MAX),
        sample_rate: SAMPLE_RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let tmp = tmp_path(path);
    let result = (|| {
        let mut writer = hound::WavWriter::create(&tmp, spec)?;
        for i in start..end {
            let tone = bleeped.iter().any(|&(a, b)| (a..b).contains(&i));
            for track in tracks {
                let s = if tone {
                    crate::audio::to_i16(
                        BLEEP_LEVEL
                            * (std::f32::consts::TAU * 1000.0 * i as f32 / SAMPLE_RATE as f32)
                                .sin(),
                    )
                } else {
                    track.samples.get(i).copied().unwrap_or(0)
                };
                writer.write_sample(s)?;
            }
        }
        writer.finalize()?;
        std::fs::rename(&tmp, path).map_err(hound::Error::IoError)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Amplitude of the bleep: −20 dBFS, clearly a bleep and never louder than speech.
const BLEEP_LEVEL: f32 = 0.1;

/// Widening of each bleep on both sides: results keep line times, not word times, so a
/// number's place in its line is estimated from its characters' share of the line.
const BLEEP_MARGIN_MS: u64 = 500;

/// The times (ms) at which the call's transcript says a personal number is spoken.
pub(crate) fn spoken_numbers(call: &CallResult) -> Vec<(u64, u64)> {
    call.segments
        .iter()
        .flat_map(|seg| {
            let chars = seg.text.chars().count().max(1) as u64;
            let span = seg.end_ms.saturating_sub(seg.start_ms);
            let at = move |c: usize| seg.start_ms + span * c as u64 / chars;
            crate::text::redact::personal_numbers(&seg.text)
                .into_iter()
                .map(move |(a, b, _)| {
                    (
                        at(a).saturating_sub(BLEEP_MARGIN_MS),
                        at(b) + BLEEP_MARGIN_MS,
                    )
                })
        })
        .collect()
}

/// Sample index of a time in milliseconds at [`SAMPLE_RATE`].
pub(crate) fn sample_at(ms: u64) -> usize {
    usize::try_from(ms * u64::from(SAMPLE_RATE) / 1000).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_are_safe_and_distinct() {
        assert_eq!(safe_stem("C-0001_a.b"), "C-0001_a.b");
        let a = safe_stem("../呼入/001");
        let b = safe_stem("../呼出/001");
        assert_ne!(a, b);
        for s in [&a, &b] {
            assert!(s
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)));
            assert!(!s.starts_with('.'));
        }
        assert_ne!(safe_stem("a/b"), safe_stem("a_b"));
    }
}
