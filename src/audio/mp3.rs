//! MP3 Xing/Info tag check, run before Symphonia's MP3 reader sees the file.
//!
//! Symphonia 0.5 takes the encoder delay and padding of a LAME tag off the frame count of the
//! Xing/Info tag unchecked: a tag claiming fewer samples than its delay and padding makes the
//! subtraction overflow, a panic in builds with overflow checks and a length of 2^64 samples in
//! others (found by fuzzing). Symphonia reads the tag from the first frame it syncs to, which
//! may lie after junk, so every tag in the bytes its probe scans is checked.

use std::io::{Read, SeekFrom};

use symphonia::core::io::MediaSource;

/// Symphonia's probe looks this far for a stream marker; a frame a little past it still counts.
const SCAN: u64 = (1 << 20) + (64 << 10);

/// Checks every Xing/Info tag near the start of the stream in `source`, then rewinds it.
pub(super) fn check(source: &mut dyn MediaSource) -> Result<(), String> {
    let io = |e: std::io::Error| format!("cannot read its frames ({e})");
    source.seek(SeekFrom::Start(0)).map_err(io)?;
    let mut head = [0u8; 10];
    let start = match source.read_exact(&mut head) {
        Ok(()) if &head[..3] == b"ID3" => {
            let size = head[6..10]
                .iter()
                .fold(0u64, |n, &b| (n << 7) | u64::from(b & 0x7f));
            10 + size + if head[5] & 0x10 != 0 { 10 } else { 0 }
        }
        _ => 0,
    };
    source.seek(SeekFrom::Start(start)).map_err(io)?;
    let mut bytes = Vec::new();
    (&mut *source)
        .take(SCAN)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    for at in (0..bytes.len().saturating_sub(4)).filter(|&i| is_tag_id(&bytes[i..i + 4])) {
        check_tag(&bytes, at)?;
    }
    source.seek(SeekFrom::Start(0)).map_err(io)?;
    Ok(())
}

fn is_tag_id(b: &[u8]) -> bool {
    b == b"Xing" || b == b"Info"
}

/// The Layer III frame header whose zeroed side information ends at `tag`, as Symphonia finds
/// it: samples per frame.
fn frame_before(bytes: &[u8], tag: usize) -> Option<u64> {
    [9, 17, 32].into_iter().find_map(|side| {
        let h = tag.checked_sub(side + 4)?;
        let header = &bytes[h..h + 4];
        let layer3 = header[0] == 0xff && header[1] & 0xe0 == 0xe0 && (header[1] >> 1) & 3 == 1;
        let mpeg1 = (header[1] >> 3) & 3 == 3;
        let mono = header[3] >> 6 == 3;
        let side_len = match (mpeg1, mono) {
            (true, true) => 17,
            (true, false) => 32,
            (false, true) => 9,
            (false, false) => 17,
        };
        let zeroed = bytes[h + 4..tag].iter().all(|&b| b == 0);
        (layer3 && side == side_len && zeroed).then_some(if mpeg1 { 1152 } else { 576 })
    })
}

/// The tag at `at`: its frame count must cover the LAME delay and padding it claims.
fn check_tag(bytes: &[u8], at: usize) -> Result<(), String> {
    let Some(per_frame) = frame_before(bytes, at) else {
        return Ok(());
    };
    let be32 = |i: usize| {
        bytes
            .get(i..i + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let Some(flags) = be32(at + 4) else {
        return Ok(());
    };
    let Some(frames) = (flags & 1 != 0).then(|| be32(at + 8)).flatten() else {
        return Ok(());
    };
    let fields = [(1, 4), (2, 4), (4, 100), (8, 4)];
    let lame = at
        + 8
        + fields
            .iter()
            .filter(|(f, _)| flags & f != 0)
            .map(|(_, n)| n)
            .sum::<usize>();
    let (Some(encoder), Some(trim)) = (bytes.get(lame..lame + 4), bytes.get(lame + 21..lame + 24))
    else {
        return Ok(());
    };
    if ![&b"LAME"[..], b"Lavf", b"Lavc"].contains(&encoder) {
        return Ok(());
    }
    let trim = u32::from_be_bytes([0, trim[0], trim[1], trim[2]]);
    let trimmed = 529 + u64::from(trim >> 12) + u64::from((trim & 0xfff).saturating_sub(529));
    let samples = u64::from(frames) * per_frame;
    if samples < trimmed {
        return Err(format!(
            "its Xing/Info tag counts {samples} samples, fewer than the {trimmed} of encoder delay and padding it claims"
        ));
    }
    Ok(())
}
