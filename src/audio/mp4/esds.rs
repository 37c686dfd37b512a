//! The audio sample entry (`mp4a` and its kin) and the MPEG-4 descriptors of its `esds` box,
//! checked before Symphonia reads them.
//!
//! Symphonia 0.5 subtracts each entry's and descriptor's fixed fields from its stated length
//! without checking that they fit (an overflow panic), and unwraps an `esds` box's ES
//! descriptor without checking that there is one (found by fuzzing `decode` and `decode_mp4`).

use super::{at_least, check_children};

/// The sample entry types Symphonia reads as audio (see its `stsd` reader).
pub(super) const AUDIO_ENTRIES: [&[u8; 4]; 15] = [
    b"mp4a", b"alac", b"fLaC", b"Opus", b".mp3", b"lpcm", b"alaw", b"ulaw", b"raw ", b"sowt",
    b"twos", b"in24", b"in32", b"fl32", b"fl64",
];

const ES: u8 = 0x03;
const DECODER_CONFIG: u8 = 0x04;
const DECODER_SPECIFIC: u8 = 0x05;

/// An audio sample entry: fixed fields whose length its version sets, then child boxes.
pub(super) fn check_audio_entry(
    kind: &[u8; 4],
    payload: &[u8],
    file_len: u64,
) -> Result<(), String> {
    let version = at_least(kind, payload, 10)?[8..10]
        .iter()
        .fold(0u16, |v, b| v << 8 | u16::from(*b));
    let fixed = match version {
        0 => 28,
        1 => 44,
        2 => 64,
        // Symphonia refuses other versions cleanly.
        _ => return Ok(()),
    };
    let p = at_least(kind, payload, fixed)?;
    check_children(&p[fixed..], file_len)
}

/// An `esds` box: version and flags, then descriptors, one of them the ES descriptor.
pub(super) fn check_esds(payload: &[u8]) -> Result<(), String> {
    let body = &at_least(b"esds", payload, 4)?[4..];
    let mut found = false;
    for (tag, len, inner) in Descriptors(body) {
        if tag == ES {
            found = true;
            check_es(len, inner)?;
        }
    }
    if !found {
        return Err("its esds box has no ES descriptor".into());
    }
    Ok(())
}

/// ES_ID and flags (3 bytes), the fields the flags add, then the decoder configuration.
fn check_es(len: u32, body: &[u8]) -> Result<(), String> {
    fits("ES", len, 3)?;
    let flags = body.get(2).copied().unwrap_or(0);
    let mut skip = 3;
    if flags & 0x80 != 0 {
        skip += 2;
    }
    if flags & 0x40 != 0 {
        skip += 1 + usize::from(body.get(skip).copied().unwrap_or(0));
    }
    if flags & 0x20 != 0 {
        skip += 2;
    }
    for (tag, len, inner) in Descriptors(body.get(skip..).unwrap_or_default()) {
        if tag == DECODER_CONFIG {
            check_decoder_config(len, inner)?;
        }
    }
    Ok(())
}

/// 13 fixed bytes, then the decoder-specific configuration, which Symphonia allocates whole
/// before reading it.
fn check_decoder_config(len: u32, body: &[u8]) -> Result<(), String> {
    fits("decoder config", len, 13)?;
    let rest = body.get(13..).unwrap_or_default();
    for (tag, len, inner) in Descriptors(rest) {
        if tag == DECODER_SPECIFIC && len as usize > inner.len() {
            return Err(format!(
                "its decoder-specific descriptor claims {len} bytes but holds {}",
                inner.len()
            ));
        }
    }
    Ok(())
}

fn fits(what: &str, len: u32, fixed: u32) -> Result<(), String> {
    if len < fixed {
        return Err(format!(
            "its {what} descriptor is {len} bytes, shorter than its {fixed} fixed bytes"
        ));
    }
    Ok(())
}

/// The descriptors in `bytes` as Symphonia walks them: a tag, a length of up to four 7-bit
/// groups, and the body (cut at the end of `bytes`), while more than two bytes are left.
struct Descriptors<'a>(&'a [u8]);

impl<'a> Iterator for Descriptors<'a> {
    type Item = (u8, u32, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.0.len() <= 2 {
            return None;
        }
        let tag = self.0[0];
        let mut len = 0u32;
        let mut at = 1;
        for _ in 0..4 {
            let b = *self.0.get(at)?;
            at += 1;
            len = len << 7 | u32::from(b & 0x7f);
            if b & 0x80 == 0 {
                break;
            }
        }
        let end = at.saturating_add(len as usize).min(self.0.len());
        let body = &self.0[at..end];
        self.0 = &self.0[end..];
        Some((tag, len, body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A descriptor with a one-byte length.
    fn desc(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut d = vec![tag, body.len() as u8];
        d.extend_from_slice(body);
        d
    }

    fn esds(descriptors: Vec<u8>) -> Vec<u8> {
        let mut p = vec![0u8; 4];
        p.extend(descriptors);
        p
    }

    #[test]
    fn a_well_formed_esds_is_accepted() {
        let specific = desc(DECODER_SPECIFIC, &[0x12, 0x10]);
        let config = desc(
            DECODER_CONFIG,
            &[[0x40u8; 13].as_slice(), &specific].concat(),
        );
        let es = desc(
            ES,
            &[[0u8, 1, 0].as_slice(), &config, &desc(0x06, &[2])].concat(),
        );
        check_esds(&esds(es)).expect("accepted");
    }

    #[test]
    fn descriptors_symphonia_would_overflow_or_unwrap_are_refused() {
        let table: [(&str, Vec<u8>); 4] = [
            ("no ES descriptor", esds(desc(0x06, &[2, 2, 2]))),
            ("ES shorter than 3", esds(desc(ES, &[0, 1]))),
            (
                "decoder config shorter than 13",
                esds(desc(
                    ES,
                    &[[0u8, 1, 0].as_slice(), &desc(DECODER_CONFIG, &[0; 5])].concat(),
                )),
            ),
            ("esds shorter than its header", vec![0, 0]),
        ];
        for (what, payload) in table {
            assert!(check_esds(&payload).is_err(), "{what}");
        }
    }

    #[test]
    fn an_audio_entry_shorter_than_its_version_s_fields_is_refused() {
        let mut v1 = vec![0u8; 30];
        v1[9] = 1;
        assert!(check_audio_entry(b"mp4a", &v1, 1000).is_err());
        assert!(check_audio_entry(b"mp4a", &[0u8; 28], 1000).is_ok());
    }
}
