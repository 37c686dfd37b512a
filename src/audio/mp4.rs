//! MP4/M4A box tree checks, run before Symphonia's MP4 reader sees the file.
//!
//! Symphonia 0.5 trusts the entry counts of the sample tables: `stsc`, `stco`, `co64`, `stsz`
//! and `stts` reserve `count` entries up front, so a 44-byte file whose `stsc` claims 4 billion
//! entries asks for 68 GB and the process aborts, which `catch_unwind` cannot catch and which
//! would stop every later batch run on the same file. Its box reader also does not bound a
//! child box by its parent, and subtracts fixed header sizes from box lengths without checking
//! them. So every box that Symphonia parses is checked here against the bytes that really hold
//! it: each box fits its parent, each table's entries fit its box, each fixed header fits, and
//! no sample claims more bytes than the file has. Only the boxes outside `mdat` are read, so
//! the check costs the size of the index (a few MB for a four-hour call), not of the audio.

mod esds;

use std::io::SeekFrom;

use symphonia::core::io::MediaSource;

/// The index boxes of one file are read into memory; no real index comes near this.
const MAX_INDEX_BOX: u64 = 256 << 20;

/// No file is larger than this (1 PiB); a larger length is a lie that overflows positions.
const MAX_BOX: u64 = 1 << 50;

/// Boxes holding only other boxes, as Symphonia descends into them.
const CONTAINERS: [&[u8; 4]; 11] = [
    b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"mvex", b"moof", b"traf", b"udta",
    b"dinf",
];

/// Top-level boxes Symphonia skips or reads incrementally: they may be large and may run past
/// the end of a truncated recording.
const SKIPPED_TOP_LEVEL: [&[u8; 4]; 4] = [b"mdat", b"free", b"skip", b"wide"];

/// Checks the box tree of the MP4 stream in `source`, then rewinds it. `Err` says what is wrong.
pub(super) fn check(source: &mut dyn MediaSource) -> Result<(), String> {
    let io = |e: std::io::Error| format!("cannot read its boxes ({e})");
    let file_len = match source.byte_len() {
        Some(n) => n,
        None => source.seek(SeekFrom::End(0)).map_err(io)?,
    };
    let mut pos = 0u64;
    while file_len.saturating_sub(pos) >= 8 {
        source.seek(SeekFrom::Start(pos)).map_err(io)?;
        let mut head = [0u8; 16];
        let wanted = if file_len - pos >= 16 { 16 } else { 8 };
        source.read_exact(&mut head[..wanted]).map_err(io)?;
        let Some(b) = parse_header(&head[..wanted], file_len - pos)? else {
            break;
        };
        let name = b.kind;
        if b.len > MAX_BOX {
            // Symphonia adds box lengths to stream positions unchecked.
            return Err(format!(
                "its {} box claims {} bytes, an impossible size",
                show(&name),
                b.len
            ));
        }
        if SKIPPED_TOP_LEVEL.contains(&&name) {
            pos = pos.saturating_add(b.len);
            continue;
        }
        unsized_box(&head, &name)?;
        if b.len > file_len - pos {
            return Err(format!(
                "its {} box claims {} bytes but only {} are left in the file",
                show(&name),
                b.len,
                file_len - pos
            ));
        }
        if b.len > MAX_INDEX_BOX {
            return Err(format!(
                "its {} box is {} bytes, larger than any call recording's index",
                show(&name),
                b.len
            ));
        }
        let mut payload = vec![0u8; (b.len - b.header_len) as usize];
        source
            .seek(SeekFrom::Start(pos + b.header_len))
            .map_err(io)?;
        source.read_exact(&mut payload).map_err(io)?;
        check_box(&name, &payload, file_len)?;
        pos += b.len;
    }
    source.seek(SeekFrom::Start(0)).map_err(io)?;
    Ok(())
}

/// A box header: type, header length (8 or 16), whole length.
struct BoxHeader {
    kind: [u8; 4],
    header_len: u64,
    len: u64,
}

/// Parses the header at the start of `bytes`; `room` is what the parent has left from there.
/// `Ok(None)` when fewer than 8 bytes are left (trailing padding).
fn parse_header(bytes: &[u8], room: u64) -> Result<Option<BoxHeader>, String> {
    let Some(head) = bytes.get(..8) else {
        return Ok(None);
    };
    let kind = [head[4], head[5], head[6], head[7]];
    let size = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
    let (header_len, len) = match size {
        // "To the end of the file": Symphonia then takes the payload as empty and subtracts
        // headers from it, so only the boxes it skips may say so (checked by the callers).
        0 => (8, room),
        1 => {
            let large = bytes
                .get(8..16)
                .ok_or_else(|| format!("its {} box header is cut off", show(&kind)))?;
            let mut be = [0u8; 8];
            be.copy_from_slice(large);
            (16, u64::from_be_bytes(be))
        }
        n => (8, u64::from(n)),
    };
    if len < header_len {
        return Err(format!(
            "its {} box claims {len} bytes, less than its own header",
            show(&kind)
        ));
    }
    Ok(Some(BoxHeader {
        kind,
        header_len,
        len,
    }))
}

/// Refuses a box Symphonia parses whose header gives no length (size field 0).
fn unsized_box(header: &[u8], kind: &[u8; 4]) -> Result<(), String> {
    if header.get(..4) == Some(&[0, 0, 0, 0]) {
        return Err(format!(
            "its {} box gives no length; only mdat may run to the end of the file",
            show(kind)
        ));
    }
    Ok(())
}

/// Checks every child box in `bytes` (the payload of a container).
fn check_children(bytes: &[u8], file_len: u64) -> Result<(), String> {
    let mut pos = 0usize;
    while bytes.len() - pos >= 8 {
        let room = (bytes.len() - pos) as u64;
        let Some(b) = parse_header(&bytes[pos..], room)? else {
            break;
        };
        if b.len > room {
            return Err(format!(
                "its {} box claims {} bytes but its parent holds only {room} more",
                show(&b.kind),
                b.len
            ));
        }
        unsized_box(&bytes[pos..], &b.kind)?;
        let end = pos + b.len as usize;
        check_box(&b.kind, &bytes[pos + b.header_len as usize..end], file_len)?;
        pos = end;
    }
    Ok(())
}

/// Checks one box's payload by its type; unknown boxes are Symphonia's to skip.
fn check_box(kind: &[u8; 4], payload: &[u8], file_len: u64) -> Result<(), String> {
    if CONTAINERS.contains(&kind) {
        return check_children(payload, file_len);
    }
    match kind {
        // Full boxes: version and flags, then children.
        b"meta" => check_children(
            at_least(kind, payload, 4)?.get(4..).unwrap_or_default(),
            file_len,
        ),
        b"ilst" => check_ilst(payload),
        b"hdlr" => at_least(kind, payload, 24).map(drop),
        b"stsd" => check_children(
            at_least(kind, payload, 8)?.get(8..).unwrap_or_default(),
            file_len,
        ),
        b"stsc" => table(kind, payload, 8, 12).and_then(|()| check_stsc(payload)),
        b"stco" | b"stss" => table(kind, payload, 8, 4),
        b"co64" | b"stts" | b"ctts" => table(kind, payload, 8, 8),
        b"elst" => table(
            kind,
            payload,
            8,
            if payload.first() == Some(&1) { 20 } else { 12 },
        ),
        b"stsz" => check_stsz(payload, file_len),
        b"trun" => check_trun(payload, file_len),
        b"esds" => esds::check_esds(payload),
        b"mvhd" | b"mdhd" => check_timescale(kind, payload),
        // QuickTime's sound description keeps the esds box in a `wave` box.
        b"wave" => check_children(payload, file_len),
        _ if esds::AUDIO_ENTRIES.contains(&kind) => {
            esds::check_audio_entry(kind, payload, file_len)
        }
        _ => Ok(()),
    }
}

/// A movie or media header: a timescale of 0 makes Symphonia build a time base of 0, which
/// panics (found by fuzzing).
fn check_timescale(kind: &[u8; 4], payload: &[u8]) -> Result<(), String> {
    let at = if payload.first() == Some(&1) { 20 } else { 12 };
    if be32(at_least(kind, payload, at + 4)?, at) == 0 {
        return Err(format!("its {} box gives a timescale of 0", show(kind)));
    }
    Ok(())
}

/// Metadata items: each holds `data` boxes whose 8-byte header (type, locale) Symphonia
/// subtracts from their length.
fn check_ilst(payload: &[u8]) -> Result<(), String> {
    let mut pos = 0usize;
    while payload.len() - pos >= 8 {
        let room = (payload.len() - pos) as u64;
        let Some(item) = parse_header(&payload[pos..], room)? else {
            break;
        };
        if item.len > room {
            return Err("its ilst metadata holds an item larger than the list".into());
        }
        let end = pos + item.len as usize;
        let body = &payload[pos + item.header_len as usize..end];
        let mut at = 0usize;
        while body.len() - at >= 8 {
            let Some(b) = parse_header(&body[at..], (body.len() - at) as u64)? else {
                break;
            };
            if b.len > (body.len() - at) as u64 || b.len - b.header_len < 8 {
                return Err("its ilst metadata holds a malformed data box".into());
            }
            at += b.len as usize;
        }
        pos = end;
    }
    Ok(())
}

/// Sample-to-chunk entries (first chunk, samples per chunk, description), as Symphonia
/// reads them: it takes 1 off each first chunk and sums samples chunk by chunk in 32 bits, so
/// a first chunk of 0 or a sum past 2^32 overflowed (found by fuzzing). Where it would stop at
/// an entry out of order or with no samples, so does this check.
fn check_stsc(payload: &[u8]) -> Result<(), String> {
    let entries: Vec<(u32, u32)> = payload[8..]
        .chunks_exact(12)
        .take(be32(payload, 4) as usize)
        .map(|e| (be32(e, 0), be32(e, 4)))
        .collect();
    if entries.iter().any(|&(first_chunk, _)| first_chunk == 0) {
        return Err("its stsc table numbers a chunk 0; chunks count from 1".into());
    }
    let mut first_sample = 0u64;
    for pair in entries.windows(2) {
        let ((chunk, samples), (next_chunk, _)) = (pair[0], pair[1]);
        if next_chunk < chunk || samples == 0 {
            break;
        }
        first_sample += u64::from(next_chunk - chunk) * u64::from(samples);
        if first_sample > u64::from(u32::MAX) {
            return Err("its stsc table counts more than 2^32 samples".into());
        }
    }
    Ok(())
}

/// Sample sizes: a constant size, or one 4-byte size per sample; no sample can be larger than
/// the file.
fn check_stsz(payload: &[u8], file_len: u64) -> Result<(), String> {
    let p = at_least(b"stsz", payload, 12)?;
    let constant = be32(p, 4);
    let count = be32(p, 8);
    if constant == 0 {
        table_entries(b"stsz", count, p.len() - 12, 4)?;
        let largest = p[12..]
            .chunks_exact(4)
            .take(count as usize)
            .map(|c| be32(c, 0))
            .max()
            .unwrap_or(0);
        too_large_sample(u64::from(largest), file_len)
    } else {
        too_large_sample(u64::from(constant), file_len)
    }
}

fn too_large_sample(size: u64, file_len: u64) -> Result<(), String> {
    if size > file_len {
        return Err(format!(
            "its stsz table claims a {size}-byte sample in a {file_len}-byte file"
        ));
    }
    Ok(())
}

/// Track fragment runs: optional fixed fields by flag, then per-sample fields by flag.
fn check_trun(payload: &[u8], file_len: u64) -> Result<(), String> {
    let p = at_least(b"trun", payload, 8)?;
    let flags = be32(p, 0) & 0x00ff_ffff;
    let count = be32(p, 4);
    let fixed = 8 + 4 * usize::from(flags & 0x1 != 0) + 4 * usize::from(flags & 0x4 != 0);
    let per_sample = 4 * (flags & 0xf00).count_ones() as usize;
    let Some(rest) = p.len().checked_sub(fixed) else {
        return Err("its trun box is shorter than its header".into());
    };
    if per_sample == 0 {
        // Nothing to read per sample, but Symphonia still loops over every one.
        if u64::from(count) > file_len {
            return Err(format!(
                "its trun box claims {count} samples in a {file_len}-byte file"
            ));
        }
        return Ok(());
    }
    table_entries(b"trun", count, rest, per_sample)
}

/// A table box: `fixed` bytes of version, flags and count (the count in the last 4), then
/// `count` entries of `entry` bytes each.
fn table(kind: &[u8; 4], payload: &[u8], fixed: usize, entry: usize) -> Result<(), String> {
    let p = at_least(kind, payload, fixed)?;
    table_entries(kind, be32(p, fixed - 4), p.len() - fixed, entry)
}

fn table_entries(kind: &[u8; 4], count: u32, room: usize, entry: usize) -> Result<(), String> {
    let held = room / entry;
    if count as usize > held {
        return Err(format!(
            "its {} table claims {count} entries but its box holds {held}",
            show(kind)
        ));
    }
    Ok(())
}

fn at_least<'a>(kind: &[u8; 4], payload: &'a [u8], n: usize) -> Result<&'a [u8], String> {
    if payload.len() < n {
        return Err(format!(
            "its {} box is {} bytes, shorter than its {n}-byte header",
            show(kind),
            payload.len()
        ));
    }
    Ok(payload)
}

fn be32(bytes: &[u8], at: usize) -> u32 {
    bytes
        .get(at..at + 4)
        .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// A box type for a message: printable ASCII as is, anything else as hex.
fn show(kind: &[u8; 4]) -> String {
    if kind.iter().all(|b| b.is_ascii_graphic()) {
        String::from_utf8_lossy(kind).into_owned()
    } else {
        format!(
            "0x{}",
            kind.iter().map(|b| format!("{b:02x}")).collect::<String>()
        )
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = ((8 + body.len()) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out
    }

    fn nest(path: &[&[u8; 4]], leaf: Vec<u8>) -> Vec<u8> {
        path.iter()
            .rev()
            .fold(leaf, |inner, kind| boxed(kind, &inner))
    }

    fn run(bytes: Vec<u8>) -> Result<(), String> {
        check(&mut Cursor::new(bytes))
    }

    fn file_with(table: Vec<u8>) -> Vec<u8> {
        let mut f = boxed(b"ftyp", b"M4A \0\0\0\0");
        f.extend(nest(&[b"moov", b"trak", b"mdia", b"minf", b"stbl"], table));
        f
    }

    /// The file of the hardening issue, and the same lie in every table Symphonia
    /// reserves memory for.
    #[test]
    fn a_table_count_larger_than_its_box_is_refused() {
        let huge = [0u8, 0, 0, 0, 0xff, 0xff, 0xff, 0xff];
        for kind in [
            b"stsc", b"stco", b"co64", b"stts", b"ctts", b"stss", b"elst",
        ] {
            let err = run(file_with(boxed(kind, &huge))).expect_err("refused");
            assert!(err.contains("4294967295 entries"), "{err}");
        }
        let mut stsz = vec![0u8; 8];
        stsz.extend_from_slice(&u32::MAX.to_be_bytes());
        let err = run(file_with(boxed(b"stsz", &stsz))).expect_err("stsz refused");
        assert!(err.contains("stsz"), "{err}");
    }

    #[test]
    fn tables_whose_entries_fit_are_accepted() {
        run(file_with(boxed(b"stsc", &stsc(&[(1, 1024), (2, 512)])))).expect("fits");
        let mut stsz = vec![0u8; 8];
        stsz.extend_from_slice(&2u32.to_be_bytes());
        stsz.extend_from_slice(&[0, 0, 0, 10, 0, 0, 0, 12]);
        run(file_with(boxed(b"stsz", &stsz))).expect("fits");
    }

    /// An stsc box of `(first chunk, samples per chunk)` entries, description 1.
    fn stsc(entries: &[(u32, u32)]) -> Vec<u8> {
        let mut body = vec![0u8; 4];
        body.extend_from_slice(&(entries.len() as u32).to_be_bytes());
        for &(chunk, samples) in entries {
            for n in [chunk, samples, 1] {
                body.extend_from_slice(&n.to_be_bytes());
            }
        }
        body
    }

    /// Found by fuzzing: Symphonia takes 1 off a first chunk of 0 and sums samples per chunk
    /// in 32 bits, both overflowing.
    #[test]
    fn an_stsc_chunk_0_or_a_sample_count_past_32_bits_is_refused() {
        let err = run(file_with(boxed(b"stsc", &stsc(&[(0, 1024)])))).expect_err("chunk 0");
        assert!(err.contains("chunk 0"), "{err}");
        let many = stsc(&[(1, 0x10_0000), (0x1_0001, 1)]);
        let err = run(file_with(boxed(b"stsc", &many))).expect_err("2^36 samples");
        assert!(err.contains("2^32 samples"), "{err}");
    }

    #[test]
    fn a_sample_larger_than_the_file_is_refused() {
        let mut stsz = vec![0u8; 8];
        stsz.extend_from_slice(&1u32.to_be_bytes());
        stsz.extend_from_slice(&0x4000_0000u32.to_be_bytes());
        let err = run(file_with(boxed(b"stsz", &stsz))).expect_err("refused");
        assert!(err.contains("1073741824-byte sample"), "{err}");
    }

    #[test]
    fn a_child_larger_than_its_parent_is_refused() {
        let mut f = boxed(b"ftyp", b"M4A \0\0\0\0");
        let mut moov = boxed(b"moov", &boxed(b"trak", &[]));
        moov[8..12].copy_from_slice(&1000u32.to_be_bytes());
        f.extend(moov);
        let err = run(f).expect_err("refused");
        assert!(err.contains("trak box claims 1000 bytes"), "{err}");
    }

    #[test]
    fn a_media_timescale_of_0_is_refused() {
        let mut mdhd = vec![0u8; 24];
        let err = run(file_with(boxed(b"mdhd", &mdhd))).expect_err("timescale 0");
        assert!(err.contains("timescale"), "{err}");
        mdhd[15] = 100;
        run(file_with(boxed(b"mdhd", &mdhd))).expect("timescale 100");
    }

    #[test]
    fn a_short_handler_box_is_refused_before_symphonia_subtracts_its_header() {
        let err = run(file_with(boxed(b"hdlr", &[0u8; 10]))).expect_err("refused");
        assert!(err.contains("hdlr"), "{err}");
    }

    #[test]
    fn a_truncated_mdat_is_left_to_the_decoder() {
        let mut f = boxed(b"ftyp", b"M4A \0\0\0\0");
        f.extend(nest(&[b"moov", b"trak"], Vec::new()));
        let mut mdat = boxed(b"mdat", &[0u8; 100]);
        mdat[0..4].copy_from_slice(&10_000u32.to_be_bytes());
        f.extend(mdat);
        run(f).expect("mdat may run past the end");
    }

    /// Found by the decode_mp4 fuzzer: a 64-bit mdat length of 2^64 - 1 overflowed
    /// Symphonia's position arithmetic.
    #[test]
    fn an_impossible_64_bit_box_length_is_refused() {
        let mut f = boxed(b"ftyp", b"M4A \0\0\0\0");
        f.extend_from_slice(&[0, 0, 0, 1]);
        f.extend_from_slice(b"mdat");
        f.extend_from_slice(&[0xff; 8]);
        let err = run(f).expect_err("refused");
        assert!(err.contains("impossible size"), "{err}");
    }

    /// Found by the decode_mp4 fuzzer: a `meta` box of size 0 made Symphonia subtract its
    /// version field from an empty payload.
    #[test]
    fn a_parsed_box_without_a_length_is_refused() {
        let mut f = boxed(b"ftyp", b"M4A \0\0\0\0");
        f.extend_from_slice(&[0, 0, 0, 0]);
        f.extend_from_slice(b"meta");
        f.extend_from_slice(&[8, 0, 0, 0, 0, 0, 0, 0]);
        let err = run(f).expect_err("refused");
        assert!(err.contains("meta box gives no length"), "{err}");
    }

    #[test]
    fn a_trun_with_more_samples_than_bytes_is_refused() {
        let mut trun = vec![0u8, 0, 0x02, 0];
        trun.extend_from_slice(&1000u32.to_be_bytes());
        let mut f = boxed(b"ftyp", b"M4A \0\0\0\0");
        f.extend(nest(&[b"moof", b"traf"], boxed(b"trun", &trun)));
        let err = run(f).expect_err("refused");
        assert!(err.contains("trun table claims 1000 entries"), "{err}");
    }
}
