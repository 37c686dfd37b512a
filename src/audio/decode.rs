//! Decoding: bytes of any supported container → per-role 16-bit tracks at 16 kHz.
//!
//! Symphonia demuxes and decodes, each packet is resampled to 16 kHz as it arrives (so the
//! source-rate audio is never held whole), and the channels are then assigned to roles. MP4
//! box tables, MP3 Xing/Info tags and the lengths in FLAC and Ogg comments are checked before
//! Symphonia's reader sees them (`mp4`, `mp3`, `flac`, `ogg`). What Symphonia refuses goes to FFmpeg (the default `ffmpeg` feature). Packets that fail to decode are skipped
//! (a damaged frame in an MP3 costs milliseconds, not the call); a stream that ends early is
//! kept as far as it goes and reported as truncated. Symphonia 0.5 can still panic on some
//! malformed streams: WAV headers are checked for the values fuzzing found it panicking on
//! before its reader sees them, and the whole decode runs under `catch_unwind` as a last
//! resort, a panic becoming [`Error::Corrupt`].

use std::cell::Cell;
use std::fs::File;
use std::io::{Cursor, SeekFrom};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::{Once, OnceLock};

use symphonia::core::audio::{AudioBufferRef, SampleBuffer};
use symphonia::core::codecs::{
    CodecParameters, Decoder, DecoderOptions, CODEC_TYPE_ALAC, CODEC_TYPE_NULL,
};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::{FormatOptions, FormatReader, Packet};
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::{Hint, Probe};
use symphonia::default::formats::{self, WavReader};
use symphonia_metadata::id3v2::Id3v2Reader;

use super::notes::Note;
use super::sink::{check_channels, Sink, CONVERT_HINT};
use super::{flac, mp3, mp4, ogg, Audio, Error, SourceInfo, Track};
use crate::{AgentChannel, Role};

/// What a caught decoder panic is reported as; regression tests look for it.
const PANIC_REASON: &str = "the decoder crashed on malformed data";

/// A stream that delivers fewer frames than its header promised by more than this is
/// reported as truncated.
const TRUNCATION_TOLERANCE: f64 = 0.99;

/// Less decoded audio than this is no call: one analysis frame of the voice detector.
const MIN_AUDIO_MS: u64 = 10;

/// More consecutive undecodable packets than this means the stream is garbage, not damaged.
const MAX_BAD_PACKETS_IN_A_ROW: usize = 50;

const UNKNOWN_HINT: &str = "check that the path points at a call recording, or convert the \
     recording to WAV and run again";

/// Decodes the recording at `path` and assigns its channels to roles.
///
/// Stereo with `left`/`right` gives an agent track then a customer track; stereo with `mono`
/// is downmixed to one [`Role::Unknown`] track; a mono file always gives one unknown track
/// (the roles cannot be told apart, whatever `agent_channel` says).
pub fn decode(path: &Path, agent_channel: AgentChannel) -> Result<Audio, Error> {
    decode_with_notes(path, agent_channel).map(|(audio, _)| audio)
}

/// Like [`decode`], on bytes already in memory; `path` only names them in errors.
pub fn decode_bytes(
    bytes: Vec<u8>,
    path: &Path,
    agent_channel: AgentChannel,
) -> Result<Audio, Error> {
    if bytes.is_empty() {
        return Err(empty(path));
    }
    guarded(path, agent_channel, Box::new(Cursor::new(bytes)), false).map(|(audio, _)| audio)
}

/// [`decode`] plus remarks a user should see (truncation, damaged packets skipped, ignored
/// channel choice), for the caller to show or store: the `tracing` warnings they also go to
/// reach nobody unless a subscriber is installed.
pub fn decode_with_notes(
    path: &Path,
    agent_channel: AgentChannel,
) -> Result<(Audio, Vec<String>), Error> {
    let open_err = |source| Error::Open {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(open_err)?;
    let meta = file.metadata().map_err(open_err)?;
    if meta.is_dir() {
        return Err(Error::Unsupported {
            path: path.to_path_buf(),
            reason: "is a directory".into(),
            hint: "give the recording files, not their folder",
        });
    }
    if meta.len() == 0 {
        return Err(empty(path));
    }
    guarded(path, agent_channel, Box::new(file), true)
}

fn empty(path: &Path) -> Error {
    Error::Empty {
        path: path.to_path_buf(),
        reason: "zero-length file".into(),
    }
}

/// Decodes under `catch_unwind`; `is_file`: `path` can be opened again (by the fallback).
fn guarded(
    path: &Path,
    agent_channel: AgentChannel,
    source: Box<dyn MediaSource>,
    is_file: bool,
) -> Result<(Audio, Vec<String>), Error> {
    quiet_panics_while_decoding();
    DECODING.with(|d| d.set(true));
    let result = catch_unwind(AssertUnwindSafe(|| {
        decode_source(path, agent_channel, source, is_file)
    }));
    DECODING.with(|d| d.set(false));
    result.unwrap_or_else(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(Error::Corrupt {
            path: path.to_path_buf(),
            reason: format!("{PANIC_REASON} ({what})"),
        })
    })
}

thread_local! {
    static DECODING: Cell<bool> = const { Cell::new(false) };
}

/// A caught decoder panic must give the one error line, not also the panic message and
/// backtrace the default hook prints. Panics elsewhere still reach the previous hook.
fn quiet_panics_while_decoding() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !DECODING.with(Cell::get) {
                previous(info);
            }
        }));
    });
}

/// A decoded stream: what it was, and its channels at 16 kHz.
pub(super) struct Decoded {
    pub(super) container: String,
    pub(super) codec: String,
    /// The source's rate and length in its own frames.
    pub(super) sample_rate: u32,
    pub(super) source_frames: u64,
    /// One `Vec` per source channel.
    pub(super) channels: Vec<Vec<i16>>,
    pub(super) notes: Vec<String>,
}

fn decode_source(
    path: &Path,
    agent_channel: AgentChannel,
    source: Box<dyn MediaSource>,
    is_file: bool,
) -> Result<(Audio, Vec<String>), Error> {
    let decoded = match demux_and_decode(path, source) {
        Err(e) if is_file && refused_encoding(&e) => fallback(path, e)?,
        other => other?,
    };
    let mut notes = decoded.notes;
    let duration_ms = decoded.source_frames * 1000 / u64::from(decoded.sample_rate);
    let info = SourceInfo {
        container: decoded.container,
        codec: decoded.codec,
        sample_rate: decoded.sample_rate,
        channels: decoded.channels.len() as u16,
        duration_ms,
    };
    // Downmixing after resampling gives the same samples (both are linear).
    let (roles, channels) = assign_roles(decoded.channels, agent_channel, &mut notes);
    let tracks = roles
        .into_iter()
        .zip(channels)
        .map(|(role, samples)| Track { role, samples })
        .collect();
    for note in &notes {
        tracing::warn!("{}: {note}", path.display());
    }
    Ok((
        Audio {
            info,
            tracks,
            duration_ms,
        },
        notes,
    ))
}

/// Symphonia could not read the container or decode the codec (every such refusal carries
/// [`CONVERT_HINT`] or [`UNKNOWN_HINT`]; channel, rate and length refusals carry their own).
fn refused_encoding(e: &Error) -> bool {
    matches!(e, Error::Unsupported { hint, .. } if *hint == CONVERT_HINT || *hint == UNKNOWN_HINT)
}

/// FFmpeg's turn at a recording Symphonia refused; without the `ffmpeg` feature, or if FFmpeg
/// cannot read it either, Symphonia's refusal stands (with FFmpeg's reason added).
#[cfg(feature = "ffmpeg")]
fn fallback(path: &Path, refused: Error) -> Result<Decoded, Error> {
    use super::ffmpeg::Failure;
    super::ffmpeg::decode_file(path).map_err(|failure| match (failure, refused) {
        (Failure::Refused(why), Error::Unsupported { path, reason, hint }) => Error::Unsupported {
            path,
            reason: format!("{reason}; {why}"),
            hint,
        },
        (Failure::Refused(_), refused) => refused,
        (Failure::Failed(e), _) => e,
    })
}

#[cfg(not(feature = "ffmpeg"))]
fn fallback(_path: &Path, refused: Error) -> Result<Decoded, Error> {
    Err(refused)
}

fn assign_roles(
    mut channels: Vec<Vec<i16>>,
    agent_channel: AgentChannel,
    notes: &mut Vec<String>,
) -> (Vec<Role>, Vec<Vec<i16>>) {
    if channels.len() == 1 {
        if agent_channel != AgentChannel::Mono {
            let channel = format!("{agent_channel:?}").to_lowercase();
            notes.push(Note::MonoIgnoresChannel { channel }.to_string());
        }
        return (vec![Role::Unknown], channels);
    }
    let right = channels.pop().unwrap_or_default();
    let mut left = channels.pop().unwrap_or_default();
    match agent_channel {
        AgentChannel::Left => (vec![Role::Agent, Role::Customer], vec![left, right]),
        AgentChannel::Right => (vec![Role::Agent, Role::Customer], vec![right, left]),
        AgentChannel::Mono => {
            // In place: a second buffer would add a track's worth to the peak.
            for (l, r) in left.iter_mut().zip(&right) {
                *l = ((i32::from(*l) + i32::from(*r)) / 2) as i16;
            }
            (vec![Role::Unknown], vec![left])
        }
    }
}

/// Names the container from its magic bytes: Symphonia 0.5 does not say which reader it chose.
fn sniff_container(head: &[u8]) -> &'static str {
    match head {
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'A', b'V', b'E', ..] => "wav",
        [b'f', b'L', b'a', b'C', ..] => "flac",
        [b'O', b'g', b'g', b'S', ..] => "ogg",
        [_, _, _, _, b'f', b't', b'y', b'p', ..] => "mp4",
        [b'I', b'D', b'3', ..] => "mp3",
        [0xff, b, ..] if b & 0xe0 == 0xe0 => "mp3",
        [b'c', b'a', b'f', b'f', ..] => "caf",
        [0x1a, 0x45, 0xdf, 0xa3, ..] => "mkv",
        [b'#', b'!', b'A', b'M', b'R', ..] => "amr",
        _ => "unknown",
    }
}

/// Reads the first bytes, then rewinds so the probe still sees the whole stream.
fn read_head(source: &mut Box<dyn MediaSource>) -> std::io::Result<Vec<u8>> {
    let mut head = vec![0u8; HEAD_LEN];
    let mut filled = 0;
    while filled < head.len() {
        match source.read(&mut head[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    head.truncate(filled);
    source.seek(SeekFrom::Start(0))?;
    Ok(head)
}

/// Symphonia's probe with the containers callqa promises besides WAV and MP4 (MP3, FLAC, Ogg)
/// and no others: MKV, CAF and raw ADTS AAC are not call recordings, and every reader is
/// surface for malformed input (fuzzing found MKV's and ADTS's panicking). WAV and MP4 are left
/// out too: the probe scans up to 1 MiB for any known marker, so a `RIFF` or `ftyp` found
/// mid-file would reach their readers without [`check_wav_header`] or [`mp4::check`]; a real
/// WAV or MP4 starts with its marker and is opened by [`mp4_probe`] or directly instead.
fn non_wav_probe() -> &'static Probe {
    static PROBE: OnceLock<Probe> = OnceLock::new();
    PROBE.get_or_init(|| {
        let mut probe = Probe::default();
        probe.register_all::<formats::FlacReader>();
        probe.register_all::<formats::MpaReader>();
        probe.register_all::<formats::OggReader>();
        probe.register_all::<Id3v2Reader>();
        probe
    })
}

/// The MP4 reader alone, for streams [`mp4::check`] has passed.
fn mp4_probe() -> &'static Probe {
    static PROBE: OnceLock<Probe> = OnceLock::new();
    PROBE.get_or_init(|| {
        let mut probe = Probe::default();
        probe.register_all::<formats::IsoMp4Reader>();
        probe
    })
}

/// Enough to hold the header chunks of any WAV a recorder writes.
const HEAD_LEN: usize = 4096;

/// Checks the WAV `fmt ` chunk for values Symphonia 0.5 panics on (found by fuzzing): zero
/// channels, rate or block size (a division and a time base), and for the extensible format a
/// channel count or mask that overflows a shift. More than two channels is refused here too,
/// before Symphonia sees it. A header that does not fit in `head` is left to Symphonia.
fn check_wav_header(path: &Path, head: &[u8]) -> Result<(), Error> {
    let corrupt = |reason: &str| {
        Err(Error::Corrupt {
            path: path.to_path_buf(),
            reason: format!("WAV header {reason}"),
        })
    };
    let mut pos = 12;
    while let Some(chunk) = head.get(pos..pos + 8) {
        let len = u32::from_le_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]) as usize;
        if &chunk[..4] != b"fmt " {
            pos = pos.saturating_add(8).saturating_add(len + (len & 1));
            continue;
        }
        // A chunk cut short by the end of the file is checked as far as it goes.
        let fmt = head.get(pos + 8..).unwrap_or_default();
        let fmt = &fmt[..fmt.len().min(len)];
        let u16_at = |i: usize| fmt.get(i..i + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
        let u32_at = |i: usize| {
            fmt.get(i..i + 4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        };
        let channels = u16_at(2).unwrap_or(1);
        match (channels, u32_at(4), u16_at(12)) {
            (0, _, _) => return corrupt("declares zero channels"),
            (_, Some(0), _) => return corrupt("declares a sample rate of 0 Hz"),
            (_, _, Some(0)) => return corrupt("declares a block size of 0 bytes"),
            _ => {}
        }
        check_channels(path, usize::from(channels))?;
        const EXTENSIBLE: u16 = 0xfffe;
        if let (Some(EXTENSIBLE), Some(mask)) = (u16_at(0), u32_at(20)) {
            if mask.count_ones() < u32::from(channels) && mask & 0x8000_0000 != 0 {
                return corrupt("has a channel mask that does not match its channel count");
            }
        }
        return Ok(());
    }
    Ok(())
}

/// Symphonia's decode of the whole stream, in its steps: open the container, open the
/// codec, read the packets into a [`Sink`], judge what came out.
fn demux_and_decode(path: &Path, source: Box<dyn MediaSource>) -> Result<Decoded, Error> {
    let (mut format, container) = open_format(path, source)?;
    let mut opened = open_decoder(path, &*format)?;
    let mut sink = Sink::new(path);
    let read = read_packets(&mut *format, &mut opened, &mut sink)?;
    judge(path, container, opened, sink, read)
}

/// Checks the header bytes Symphonia is known to trust blindly, then opens the container with
/// the reader its magic bytes name.
fn open_format(
    path: &Path,
    mut source: Box<dyn MediaSource>,
) -> Result<(Box<dyn FormatReader>, &'static str), Error> {
    let head = read_head(&mut source).map_err(|source| Error::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let container = sniff_container(&head);
    if container == "wav" {
        check_wav_header(path, &head)?;
    }
    let checked = match container {
        "mp4" => mp4::check(&mut *source).map_err(|reason| format!("MP4 header: {reason}")),
        "flac" => flac::check(&mut *source).map_err(|reason| format!("FLAC header: {reason}")),
        "ogg" => ogg::check(&mut *source).map_err(|reason| format!("Ogg stream: {reason}")),
        "mp3" | "unknown" => {
            mp3::check(&mut *source).map_err(|reason| format!("MP3 header: {reason}"))
        }
        _ => Ok(()),
    };
    checked.map_err(|reason| Error::Corrupt {
        path: path.to_path_buf(),
        reason,
    })?;
    let mss = MediaSourceStream::new(source, Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let format_opts = FormatOptions {
        enable_gapless: true,
        ..Default::default()
    };
    let opened = match container {
        "wav" => {
            WavReader::try_new(mss, &format_opts).map(|r| Box::new(r) as Box<dyn FormatReader>)
        }
        // Symphonia has no AMR reader, and its MP3 reader, skipping "junk" for a frame sync,
        // runs off the end of an AMR-WB file and calls it truncated.
        "amr" => Err(SymphoniaError::Unsupported("AMR")),
        "mp4" => mp4_probe()
            .format(&hint, mss, &format_opts, &MetadataOptions::default())
            .map(|p| p.format),
        _ => non_wav_probe()
            .format(&hint, mss, &format_opts, &MetadataOptions::default())
            .map(|p| p.format),
    };
    opened
        .map(|format| (format, container))
        .map_err(|e| open_error(path, container, e))
}

fn open_error(path: &Path, container: &str, e: SymphoniaError) -> Error {
    let corrupt = |reason: String| Error::Corrupt {
        path: path.to_path_buf(),
        reason,
    };
    match e {
        // Magic bytes callqa does not know: Symphonia guessed, so its failure, whatever it
        // is, says only that it could not read the file, and FFmpeg gets a turn.
        _ if container == "unknown" => Error::Unsupported {
            path: path.to_path_buf(),
            reason: "not an audio file callqa recognises (WAV, MP3, FLAC, OGG, M4A)".into(),
            hint: UNKNOWN_HINT,
        },
        SymphoniaError::Unsupported(what) => Error::Unsupported {
            path: path.to_path_buf(),
            reason: format!("{container} file with an encoding callqa cannot decode ({what})"),
            hint: CONVERT_HINT,
        },
        SymphoniaError::IoError(e) => corrupt(format!("header is truncated or unreadable ({e})")),
        other => corrupt(format!("header is malformed ({other})")),
    }
}

/// The first audio track and a decoder for it.
struct Opened {
    track_id: u32,
    params: CodecParameters,
    codec: String,
    decoder: Box<dyn Decoder>,
}

fn open_decoder(path: &Path, format: &dyn FormatReader) -> Result<Opened, Error> {
    let track = format
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or_else(|| Error::Unsupported {
            path: path.to_path_buf(),
            reason: "no audio track with a known codec".into(),
            hint: CONVERT_HINT,
        })?;
    let params = track.codec_params.clone();
    let codec = symphonia::default::get_codecs()
        .get_codec(params.codec)
        .map_or_else(
            || format!("{:?}", params.codec),
            |d| d.short_name.to_string(),
        );
    if let Some(n) = params.channels.map(|c| c.count()) {
        check_channels(path, n)?;
    }
    check_codec_config(path, &params)?;
    let decoder = symphonia::default::get_codecs()
        .make(&params, &DecoderOptions::default())
        .map_err(|e| Error::Unsupported {
            path: path.to_path_buf(),
            reason: format!("codec {codec} cannot be decoded ({e})"),
            hint: CONVERT_HINT,
        })?;
    Ok(Opened {
        track_id: track.id,
        params,
        codec,
        decoder,
    })
}

/// Most samples per frame an ALAC configuration may claim: encoders write 4096.
const MAX_ALAC_FRAME: u32 = 1 << 16;

/// Checks the codec configuration values Symphonia's decoders size buffers by without bounds
/// (found by fuzzing): ALAC's frame length, where 0 panics on the first packet and billions
/// abort the process on allocation.
fn check_codec_config(path: &Path, params: &CodecParameters) -> Result<(), Error> {
    if params.codec != CODEC_TYPE_ALAC {
        return Ok(());
    }
    let frame_length = params
        .extra_data
        .as_deref()
        .and_then(|cookie| cookie.get(..4))
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    match frame_length {
        Some(n) if !(1..=MAX_ALAC_FRAME).contains(&n) => Err(Error::Corrupt {
            path: path.to_path_buf(),
            reason: format!("its ALAC configuration claims {n} samples per frame"),
        }),
        _ => Ok(()),
    }
}

/// How reading the packets went, beyond the frames the sink took.
#[derive(Default)]
struct Read {
    bad_packets: usize,
    /// Why reading stopped before the end of the stream.
    ended_early: Option<String>,
}

/// Why a packet gave no audio.
enum Failed {
    Refused(SymphoniaError),
    Panicked,
}

/// One packet through the decoder. Symphonia's AAC decoder panics on some damaged frames (it
/// indexes its tables with values read from the frame, unchecked; found by fuzzing): such a
/// frame counts as undecodable, like one the decoder refuses, so the damage costs that frame
/// and not the call.
fn decode_packet<'d>(
    decoder: &'d mut dyn Decoder,
    packet: &Packet,
) -> Result<AudioBufferRef<'d>, Failed> {
    // Moving the borrow into the closure lets the buffer keep it after the closure returns.
    let decode = move || {
        let decoder = decoder;
        decoder.decode(packet)
    };
    match catch_unwind(AssertUnwindSafe(decode)) {
        Ok(decoded) => decoded.map_err(Failed::Refused),
        Err(_) => Err(Failed::Panicked),
    }
}

/// Decodes packet after packet into `sink`. A damaged packet is skipped; a stream that ends
/// badly is kept as far as it went (`ended_early`); only the sink's refusals are errors.
fn read_packets(
    format: &mut dyn FormatReader,
    opened: &mut Opened,
    sink: &mut Sink,
) -> Result<Read, Error> {
    let mut read = Read::default();
    let mut bad_in_a_row = 0usize;
    let mut sample_buf: Option<SampleBuffer<f32>> = None;
    loop {
        let packet = match format.next_packet() {
            Ok(p) => p,
            Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                break
            }
            Err(SymphoniaError::ResetRequired) => break,
            Err(e) => {
                read.ended_early = Some(e.to_string());
                break;
            }
        };
        if packet.track_id() != opened.track_id {
            continue;
        }
        let buf = match decode_packet(&mut *opened.decoder, &packet) {
            Ok(buf) => buf,
            Err(Failed::Panicked) => {
                // Whatever state the decoder was left in goes; the next frame starts clean.
                let reset = catch_unwind(AssertUnwindSafe(|| opened.decoder.reset()));
                read.bad_packets += 1;
                if reset.is_err() {
                    read.ended_early = Some("the decoder failed on a damaged frame".into());
                    break;
                }
                continue;
            }
            Err(Failed::Refused(SymphoniaError::DecodeError(_)))
            | Err(Failed::Refused(SymphoniaError::IoError(_))) => {
                bad_in_a_row += 1;
                read.bad_packets += 1;
                if bad_in_a_row > MAX_BAD_PACKETS_IN_A_ROW {
                    read.ended_early = Some("too many undecodable packets in a row".into());
                    break;
                }
                continue;
            }
            Err(Failed::Refused(e)) => {
                read.ended_early = Some(e.to_string());
                break;
            }
        };
        bad_in_a_row = 0;
        let spec = *buf.spec();
        let n_channels = spec.channels.count();
        if !sink.fits(spec.rate, n_channels) {
            read.ended_early = Some("channel count or sample rate changes mid-stream".into());
            break;
        }
        if buf.frames() == 0 {
            continue;
        }
        let needed = buf.capacity() as u64 * n_channels as u64;
        let sb = match &mut sample_buf {
            Some(sb) if sb.capacity() as u64 >= needed => sb,
            _ => sample_buf.insert(SampleBuffer::new(buf.capacity() as u64, spec)),
        };
        sb.copy_interleaved_ref(buf);
        let samples = sb.samples();
        let frames = samples.len().checked_div(n_channels).unwrap_or(0);
        sink.push(spec.rate, n_channels, frames, |i, c| {
            samples[i * n_channels + c]
        })?;
    }
    Ok(read)
}

/// What the stream gave, judged against what its header promised: no audio is an error, less
/// than promised a truncation note.
fn judge(
    path: &Path,
    container: &str,
    opened: Opened,
    sink: Sink,
    read: Read,
) -> Result<Decoded, Error> {
    let (frames, rate) = (sink.frames, sink.rate);
    if frames == 0 {
        return Err(match read.ended_early {
            Some(reason) => Error::Corrupt {
                path: path.to_path_buf(),
                reason: format!("no audio could be decoded ({reason})"),
            },
            None if read.bad_packets > 0 => Error::Corrupt {
                path: path.to_path_buf(),
                reason: format!(
                    "none of its {} audio packets could be decoded",
                    read.bad_packets
                ),
            },
            None => Error::Empty {
                path: path.to_path_buf(),
                reason: format!("{container} header with no audio after it"),
            },
        });
    }
    let got_ms = sink.duration_ms();
    let promised = opened.params.n_frames.filter(|&n| n > 0);
    let promised_ms = promised.map(|n| n.saturating_mul(1000) / u64::from(rate));
    if got_ms < MIN_AUDIO_MS {
        let promised = promised_ms
            .filter(|_| promised > Some(frames))
            .map(|ms| format!("its header promises {ms} ms but "))
            .unwrap_or_default();
        return Err(Error::Empty {
            path: path.to_path_buf(),
            reason: format!("{promised}it holds {got_ms} ms of audio ({frames} samples)"),
        });
    }
    let mut notes = Vec::new();
    if let Some(reason) = read.ended_early {
        notes.push(Note::StoppedAt { ms: got_ms, reason }.to_string());
    } else if let (Some(n), Some(ms)) = (promised, promised_ms) {
        if (frames as f64) < n as f64 * TRUNCATION_TOLERANCE {
            let short = Note::ShortOfHeader {
                promised_ms: ms,
                got_ms,
            };
            notes.push(short.to_string());
        }
    }
    if read.bad_packets > 0 {
        notes.push(Note::SkippedPackets(read.bad_packets).to_string());
    }
    Ok(Decoded {
        container: container.to_string(),
        codec: opened.codec,
        sample_rate: rate,
        source_frames: frames,
        channels: sink.finish()?,
        notes,
    })
}
