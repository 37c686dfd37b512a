//! Ogg comment checks, run before Symphonia's Ogg reader sees the file.
//!
//! Symphonia 0.5 reads the comment header of a Vorbis or Opus stream with the same code as
//! FLAC's comment block: it allocates each comment's claimed length (up to 4 GB) before reading
//! it, which aborts the process on a machine without that much memory. The comment packet can
//! come anywhere in the stream, and page checksums keep a fuzzer from reaching it, so this was
//! found by reading Symphonia's code and shown with a crafted file. Every page is walked as
//! Symphonia walks them (resynchronising after a damaged page), packets are put together per
//! stream, and each comment packet is checked with [`super::flac::comments`]. Only comment
//! packets are kept; the rest is read and dropped, so the check costs one read of the file.

use std::collections::HashMap;
use std::io::{BufReader, Read, Seek, SeekFrom};

use symphonia::core::io::MediaSource;

/// The packets Symphonia reads Vorbis comments from, by their leading bytes.
const COMMENT_SIGNATURES: [&[u8]; 2] = [b"\x03vorbis", b"OpusTags"];

/// No comment header comes near this; a larger one is refused rather than held.
const MAX_COMMENT_PACKET: usize = 16 << 20;

/// The file is read through a buffer of this size.
const BUFFER: usize = 1 << 16;

/// Checks every comment packet of the Ogg stream in `source`, then rewinds it.
pub(super) fn check(source: &mut dyn MediaSource) -> Result<(), String> {
    let io = |e: std::io::Error| format!("cannot read its pages ({e})");
    source.seek(SeekFrom::Start(0)).map_err(io)?;
    let mut bytes = Bytes::new(&mut *source);
    let mut streams: HashMap<u32, Partial> = HashMap::new();
    while bytes.sync().map_err(io)? {
        let Some(page) = bytes.page().map_err(io)? else {
            continue;
        };
        let partial = streams.entry(page.serial).or_default();
        for (segment, ends_packet) in page.segments() {
            partial.take(segment)?;
            if ends_packet {
                partial.finish()?;
            }
        }
    }
    drop(bytes);
    source.seek(SeekFrom::Start(0)).map_err(io)?;
    Ok(())
}

/// The packet a stream is in the middle of: its bytes while it may be a comment packet.
#[derive(Default)]
struct Partial {
    bytes: Vec<u8>,
    /// It is not a comment packet; its bytes are not kept.
    skipping: bool,
}

impl Partial {
    fn take(&mut self, segment: &[u8]) -> Result<(), String> {
        if self.skipping {
            return Ok(());
        }
        if self.bytes.len() + segment.len() > MAX_COMMENT_PACKET {
            return Err("its comment header is larger than 16 MB".into());
        }
        self.bytes.extend_from_slice(segment);
        let decided = self.bytes.len() >= 8;
        if decided && signature(&self.bytes).is_none() {
            self.bytes = Vec::new();
            self.skipping = true;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), String> {
        let packet = std::mem::take(&mut self.bytes);
        self.skipping = false;
        match signature(&packet) {
            Some(s) => super::flac::comments(&packet[s.len()..]),
            None => Ok(()),
        }
    }
}

fn signature(packet: &[u8]) -> Option<&'static [u8]> {
    COMMENT_SIGNATURES
        .into_iter()
        .find(|s| packet.starts_with(s))
}

/// One page that passed its checksum: its stream, lacing values and body.
struct Page {
    serial: u32,
    lacing: Vec<u8>,
    body: Vec<u8>,
}

impl Page {
    /// Each segment of the body, and whether it ends a packet (a lacing value below 255).
    fn segments(&self) -> impl Iterator<Item = (&[u8], bool)> {
        let mut at = 0;
        self.lacing.iter().map(move |&n| {
            let segment = &self.body[at..at + usize::from(n)];
            at += usize::from(n);
            (segment, n < 255)
        })
    }
}

/// The stream read forwards through a buffer, with a position Symphonia's
/// resynchronisation can return to.
struct Bytes<'s> {
    reader: BufReader<&'s mut dyn MediaSource>,
    pos: u64,
}

impl<'s> Bytes<'s> {
    fn new(source: &'s mut dyn MediaSource) -> Bytes<'s> {
        Bytes {
            reader: BufReader::with_capacity(BUFFER, source),
            pos: 0,
        }
    }

    /// Fills `buf`; `false` when the stream ends first.
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<bool> {
        let mut filled = 0;
        while filled < buf.len() {
            match self.reader.read(&mut buf[filled..])? {
                0 => return Ok(false),
                n => filled += n,
            }
        }
        self.pos += buf.len() as u64;
        Ok(true)
    }

    /// Moves just past the next `OggS`; `false` at the end of the stream.
    fn sync(&mut self) -> std::io::Result<bool> {
        let mut window = [0u8; 4];
        if !self.read(&mut window)? {
            return Ok(false);
        }
        let mut next = [0u8; 1];
        while &window != b"OggS" {
            if !self.read(&mut next)? {
                return Ok(false);
            }
            window = [window[1], window[2], window[3], next[0]];
        }
        Ok(true)
    }

    /// The page after an `OggS`, or `None` (positioned just after that `OggS` again, as
    /// Symphonia does) when its header or checksum is bad.
    fn page(&mut self) -> std::io::Result<Option<Page>> {
        let sync_pos = self.pos;
        let mut head = [0u8; 27];
        head[..4].copy_from_slice(b"OggS");
        if !self.read(&mut head[4..])? {
            return Ok(None);
        }
        let mut lacing = vec![0u8; usize::from(head[26])];
        let mut body = Vec::new();
        let whole = head[4] == 0 && head[5] & 0xf8 == 0 && self.read(&mut lacing)? && {
            body.resize(lacing.iter().map(|&n| usize::from(n)).sum(), 0);
            self.read(&mut body)?
        };
        let stored = u32::from_le_bytes([head[22], head[23], head[24], head[25]]);
        head[22..26].fill(0);
        if whole && crc(&[&head, &lacing, &body]) == stored {
            let serial = u32::from_le_bytes([head[14], head[15], head[16], head[17]]);
            return Ok(Some(Page {
                serial,
                lacing,
                body,
            }));
        }
        self.reader.seek(SeekFrom::Start(sync_pos))?;
        self.pos = sync_pos;
        Ok(None)
    }
}

/// Ogg's CRC-32 (polynomial 0x04c11db7, not reflected, initial value 0).
fn crc(parts: &[&[u8]]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t = [0u32; 256];
        for (i, entry) in t.iter_mut().enumerate() {
            let mut c = (i as u32) << 24;
            for _ in 0..8 {
                c = if c & 0x8000_0000 != 0 {
                    (c << 1) ^ 0x04c1_1db7
                } else {
                    c << 1
                };
            }
            *entry = c;
        }
        t
    });
    let mut c = 0u32;
    for &b in parts.iter().flat_map(|p| p.iter()) {
        c = (c << 8) ^ table[((c >> 24) as u8 ^ b) as usize];
    }
    c
}
