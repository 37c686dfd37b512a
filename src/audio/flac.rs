//! FLAC metadata checks, run before Symphonia's FLAC reader sees the file.
//!
//! Symphonia 0.5 allocates what the length fields inside the comment and picture blocks claim
//! before reading them: a few-KB file whose comment claims 4 GB makes the process ask for 4 GB
//! at once, which aborts it on a machine without that much memory (`catch_unwind` cannot catch
//! it). Found by fuzzing. So every length inside those blocks is checked against the block that
//! holds it; the blocks themselves are at most 16 MB (a 24-bit length).

use std::io::SeekFrom;

use symphonia::core::io::MediaSource;

const VORBIS_COMMENT: u8 = 4;
const PICTURE: u8 = 6;

/// Checks the metadata blocks of the FLAC stream in `source`, then rewinds it.
pub(super) fn check(source: &mut dyn MediaSource) -> Result<(), String> {
    let io = |e: std::io::Error| format!("cannot read its metadata ({e})");
    let mut pos = 4u64;
    loop {
        source.seek(SeekFrom::Start(pos)).map_err(io)?;
        let mut head = [0u8; 4];
        if read_up_to(source, &mut head).map_err(io)? < head.len() {
            break;
        }
        let last = head[0] & 0x80 != 0;
        let kind = head[0] & 0x7f;
        let len = u32::from_be_bytes([0, head[1], head[2], head[3]]);
        if kind == VORBIS_COMMENT || kind == PICTURE {
            let mut body = vec![0u8; len as usize];
            let got = read_up_to(source, &mut body).map_err(io)?;
            let body = &body[..got];
            if kind == VORBIS_COMMENT {
                comments(body)?;
            } else {
                picture(body)?;
            }
        }
        pos += 4 + u64::from(len);
        if last {
            break;
        }
    }
    source.seek(SeekFrom::Start(0)).map_err(io)?;
    Ok(())
}

/// Fills as much of `buf` as the stream has; a block cut short by the end of the file is
/// checked as far as it goes.
fn read_up_to(source: &mut dyn MediaSource, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match source.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// A Vorbis comment block: vendor string, count, then each comment, lengths little-endian.
/// Ogg's Vorbis and Opus comment headers hold the same after their signature.
pub(super) fn comments(body: &[u8]) -> Result<(), String> {
    let mut rest = skip_sized(body, u32::from_le_bytes, "vendor string")?;
    let Some(count) = rest.get(..4) else {
        return Ok(());
    };
    let count = u32::from_le_bytes([count[0], count[1], count[2], count[3]]);
    rest = &rest[4..];
    for _ in 0..count {
        if rest.len() < 4 {
            break;
        }
        rest = skip_sized(rest, u32::from_le_bytes, "comment")?;
    }
    Ok(())
}

/// A picture block: type, then MIME type and description each with a big-endian length, four
/// numbers, and the picture data with its length.
fn picture(body: &[u8]) -> Result<(), String> {
    let rest = body.get(4..).unwrap_or_default();
    let rest = skip_sized(rest, u32::from_be_bytes, "picture MIME type")?;
    let rest = skip_sized(rest, u32::from_be_bytes, "picture description")?;
    skip_sized(
        rest.get(16..).unwrap_or_default(),
        u32::from_be_bytes,
        "picture",
    )
    .map(drop)
}

/// Skips a field of `bytes` that starts with its 4-byte length: the bytes after it, or an
/// error when the length runs past the block. Too few bytes for the length is left to
/// Symphonia, which reports the block as cut short.
fn skip_sized<'a>(
    bytes: &'a [u8],
    decode: fn([u8; 4]) -> u32,
    what: &str,
) -> Result<&'a [u8], String> {
    let Some(len) = bytes.get(..4) else {
        return Ok(&[]);
    };
    let len = decode([len[0], len[1], len[2], len[3]]) as usize;
    let rest = &bytes[4..];
    rest.get(len..).ok_or_else(|| {
        format!(
            "its {what} claims {len} bytes but only {} follow in its header",
            rest.len()
        )
    })
}
