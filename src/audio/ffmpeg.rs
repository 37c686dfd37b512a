//! Fallback decoder: FFmpeg's libraries for the telephony codecs Symphonia 0.5 lacks (AMR-NB
//! and AMR-WB from mobile recorders, GSM 6.10 from Asterisk, in WAV or raw `.gsm`, G.729 and
//! G.722 from VoIP recorders, Opus).
//!
//! Compiled with the `ffmpeg` feature, on by default (it links Debian's libavformat, libavcodec
//! and libswresample), and tried only when Symphonia refuses a recording's container or encoding:
//! everything Symphonia decodes stays on its memory-safe, fuzzed path. Only files are handed
//! to FFmpeg (it opens them itself); bytes already in memory are not.

use std::path::Path;
use std::sync::Once;

use ffmpeg_next as ff;

use super::decode::Decoded;
use super::sink::Sink;
use super::Error;

/// Why FFmpeg gave no audio.
pub(super) enum Failure {
    /// It cannot read the file either: the caller's refusal stands, with this reason added.
    Refused(String),
    /// It read the file, and the audio is not something callqa takes (length, channels, rate).
    Failed(Error),
}

/// Decodes the first audio stream of the file at `path` into 16 kHz channels.
pub(super) fn decode_file(path: &Path) -> Result<Decoded, Failure> {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        // FFmpeg's own log lines would reach stderr beside callqa's one line per file.
        ff::util::log::set_level(ff::util::log::Level::Quiet);
        let _ = ff::init();
    });
    let mut input = ff::format::input(&path)
        .map_err(|e| Failure::Refused(format!("FFmpeg cannot open it ({e})")))?;
    let container = input.format().name().to_string();
    let (index, time_base, mut decoder) = open_decoder(&input).map_err(Failure::Refused)?;
    let codec = decoder.id().name().to_string();
    let mut out = Collected::new(path);
    for (s, packet) in input.packets() {
        if s.index() == index {
            out.packet(&mut decoder, &packet, time_base)
                .map_err(Failure::Failed)?;
        }
    }
    let _ = decoder.send_eof();
    out.drain(&mut decoder).map_err(Failure::Failed)?;
    out.into_decoded(container, codec).map_err(Failure::Failed)
}

/// The best audio stream's index and time base, and a decoder for it.
fn open_decoder(
    input: &ff::format::context::Input,
) -> Result<(usize, ff::Rational, ff::decoder::Audio), String> {
    let stream = input
        .streams()
        .best(ff::media::Type::Audio)
        .ok_or("FFmpeg finds no audio stream in it")?;
    let context = ff::codec::context::Context::from_parameters(stream.parameters())
        .map_err(|e| format!("FFmpeg cannot read its codec parameters ({e})"))?;
    let decoder = context
        .decoder()
        .audio()
        .map_err(|e| format!("FFmpeg has no decoder for it ({e})"))?;
    Ok((stream.index(), stream.time_base(), decoder))
}

/// Frames gathered into a [`Sink`], with the silence that stands for undecodable packets.
struct Collected<'p> {
    sink: Sink<'p>,
    frame: ff::frame::Audio,
    bad_packets: usize,
    /// Seconds of silence owed before the first decoded frame fixes the rate and channels.
    lead_silence_s: f64,
}

impl<'p> Collected<'p> {
    fn new(path: &'p Path) -> Collected<'p> {
        Collected {
            sink: Sink::new(path),
            frame: ff::frame::Audio::empty(),
            bad_packets: 0,
            lead_silence_s: 0.0,
        }
    }

    /// Sends one packet and takes the frames it gives.
    fn packet(
        &mut self,
        decoder: &mut ff::decoder::Audio,
        packet: &ff::Packet,
        time_base: ff::Rational,
    ) -> Result<(), Error> {
        let mut sent = decoder.send_packet(packet);
        if sent
            == Err(ff::Error::Other {
                errno: ff::util::error::EAGAIN,
            })
        {
            // The decoder holds frames not yet taken: take them, then it accepts the packet.
            self.drain(decoder)?;
            sent = decoder.send_packet(packet);
        }
        if sent.is_err() {
            // Keep the time the packet covered: later speech must stay where it was said.
            // (FFmpeg's AMR-NB decoder rejects some frames sox's encoder writes in quiet
            // stretches, as "not yet implemented"; they are near silence anyway.)
            self.bad_packets += 1;
            return self.silence(packet.duration() as f64 * f64::from(time_base));
        }
        self.drain(decoder)
    }

    /// Takes every frame the decoder has ready.
    fn drain(&mut self, decoder: &mut ff::decoder::Audio) -> Result<(), Error> {
        while decoder.receive_frame(&mut self.frame).is_ok() {
            self.append()?;
        }
        Ok(())
    }

    fn silence(&mut self, seconds: f64) -> Result<(), Error> {
        if self.sink.rate == 0 {
            self.lead_silence_s += seconds;
            return Ok(());
        }
        let (rate, channels) = (self.sink.rate, self.sink.channels);
        let n = (seconds * f64::from(rate)).round() as usize;
        self.sink.push(rate, channels, n, |_, _| 0.0)
    }

    fn append(&mut self) -> Result<(), Error> {
        let frame = &self.frame;
        let (rate, channels) = (frame.rate(), usize::from(frame.channels()));
        if !self.sink.fits(rate, channels) {
            return Err(Error::Corrupt {
                path: self.sink_path(),
                reason: "channel count or sample rate changes mid-stream".into(),
            });
        }
        if self.sink.rate == 0 && self.lead_silence_s > 0.0 {
            let n = (self.lead_silence_s * f64::from(rate)).round() as usize;
            self.sink.push(rate, channels, n, |_, _| 0.0)?;
        }
        let Some(sample) = reader(frame) else {
            return Err(Error::Unsupported {
                path: self.sink_path(),
                reason: format!(
                    "FFmpeg gave an unexpected sample format ({:?})",
                    frame.format()
                ),
                hint: super::sink::CONVERT_HINT,
            });
        };
        self.sink
            .push(rate, channels, frame.samples(), |i, c| sample(frame, i, c))
    }

    fn sink_path(&self) -> std::path::PathBuf {
        self.sink.path().to_path_buf()
    }

    fn into_decoded(self, container: String, codec: String) -> Result<Decoded, Error> {
        if self.sink.frames == 0 {
            return Err(Error::Empty {
                path: self.sink_path(),
                reason: format!("{container} file with no audio FFmpeg could decode"),
            });
        }
        let mut notes = Vec::new();
        if self.bad_packets > 0 {
            notes.push(super::notes::Note::SilencedPackets(self.bad_packets).to_string());
        }
        let (sample_rate, source_frames) = (self.sink.rate, self.sink.frames);
        Ok(Decoded {
            container,
            codec,
            sample_rate,
            source_frames,
            channels: self.sink.finish()?,
            notes,
        })
    }
}

/// Reads sample `i` of channel `c` as f32 from a frame of any of FFmpeg's sample formats
/// (`None` for a format callqa does not know); a sample past the frame's data reads as 0.
fn reader(frame: &ff::frame::Audio) -> Option<impl Fn(&ff::frame::Audio, usize, usize) -> f32> {
    use ff::format::Sample;
    let (width, value): (usize, fn(&[u8]) -> f32) = match frame.format() {
        Sample::U8(_) => (1, |b| (f32::from(b[0]) - 128.0) / 128.0),
        Sample::I16(_) => (2, |b| {
            f32::from(i16::from_ne_bytes([b[0], b[1]])) / 32_768.0
        }),
        Sample::I32(_) => (4, |b| {
            i32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as f32 / 2_147_483_648.0
        }),
        Sample::F32(_) => (4, |b| f32::from_ne_bytes([b[0], b[1], b[2], b[3]])),
        Sample::F64(_) => (8, |b| {
            f64::from_ne_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32
        }),
        _ => return None,
    };
    let planar = frame.is_planar();
    Some(move |frame: &ff::frame::Audio, i: usize, c: usize| {
        let (plane, at) = if planar {
            (c, i * width)
        } else {
            (0, (i * usize::from(frame.channels()) + c) * width)
        };
        frame.data(plane).get(at..at + width).map_or(0.0, value)
    })
}
