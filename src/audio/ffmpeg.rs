//! Fallback decoder: FFmpeg's libraries for the telephony codecs Symphonia 0.5 lacks (AMR-NB
//! and AMR-WB from mobile recorders, GSM 6.10 from Asterisk, in WAV or raw `.gsm`, G.729 and
//! G.722 from VoIP recorders, Opus).
//!
//! Compiled only with the `ffmpeg` feature (it links Debian's libavformat, libavcodec and
//! libswresample), and tried only when Symphonia refuses a recording's container or encoding:
//! everything Symphonia decodes stays on its memory-safe, fuzzed path. Only files are handed
//! to FFmpeg (it opens them itself); bytes already in memory are not.

use std::path::Path;
use std::sync::Once;

use ffmpeg_next as ff;

use super::decode::Decoded;

/// Decodes the first audio stream of the file at `path` at its own rate, one `Vec` per
/// channel (the caller resamples). `Err` says why FFmpeg could not.
pub(super) fn decode_file(path: &Path, max_ms: u64) -> Result<Decoded, String> {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        // FFmpeg's own log lines would reach stderr beside callqa's one line per file.
        ff::util::log::set_level(ff::util::log::Level::Quiet);
        let _ = ff::init();
    });
    let mut input = ff::format::input(&path).map_err(|e| format!("FFmpeg cannot open it ({e})"))?;
    let container = input.format().name().to_string();
    let stream = input
        .streams()
        .best(ff::media::Type::Audio)
        .ok_or("FFmpeg finds no audio stream in it")?;
    let index = stream.index();
    let time_base = stream.time_base();
    let context = ff::codec::context::Context::from_parameters(stream.parameters())
        .map_err(|e| format!("FFmpeg cannot read its codec parameters ({e})"))?;
    let mut decoder = context
        .decoder()
        .audio()
        .map_err(|e| format!("FFmpeg has no decoder for it ({e})"))?;
    let codec = decoder.id().name().to_string();
    let mut out = Collected::default();
    let mut frame = ff::frame::Audio::empty();
    for (s, packet) in input.packets() {
        if s.index() != index {
            continue;
        }
        let mut sent = decoder.send_packet(&packet);
        if sent
            == Err(ff::Error::Other {
                errno: ff::util::error::EAGAIN,
            })
        {
            // The decoder holds frames not yet taken: take them, then it accepts the packet.
            while decoder.receive_frame(&mut frame).is_ok() {
                out.append(&frame)?;
            }
            sent = decoder.send_packet(&packet);
        }
        if sent.is_err() {
            // Keep the time the packet covered: later speech must stay where it was said.
            // (FFmpeg's AMR-NB decoder rejects some frames sox's encoder writes in quiet
            // stretches, as "not yet implemented"; they are near silence anyway.)
            out.bad_packets += 1;
            let rate = if out.rate > 0 {
                out.rate
            } else {
                decoder.rate()
            };
            let seconds = packet.duration() as f64 * f64::from(time_base);
            out.silence((seconds * f64::from(rate)).round() as usize, rate);
            continue;
        }
        while decoder.receive_frame(&mut frame).is_ok() {
            out.append(&frame)?;
        }
        if out.duration_ms() > max_ms {
            return Err(format!("longer than {} hours", max_ms / 3_600_000));
        }
    }
    let _ = decoder.send_eof();
    while decoder.receive_frame(&mut frame).is_ok() {
        out.append(&frame)?;
    }
    let mut notes = Vec::new();
    if out.bad_packets > 0 {
        notes.push(format!(
            "{} audio packets could not be decoded and are silence",
            out.bad_packets
        ));
    }
    Ok(Decoded {
        container,
        codec,
        sample_rate: out.rate,
        source_frames: out.channels.first().map_or(0, Vec::len) as u64,
        channels: out.channels,
        notes,
    })
}

/// Samples gathered frame by frame.
#[derive(Default)]
struct Collected {
    rate: u32,
    channels: Vec<Vec<f32>>,
    bad_packets: usize,
    decoded_any: bool,
}

impl Collected {
    fn duration_ms(&self) -> u64 {
        let frames = self.channels.first().map_or(0, Vec::len) as u64;
        frames * 1000 / u64::from(self.rate.max(1))
    }

    /// `n` samples of silence on every channel (one if none is known yet).
    fn silence(&mut self, n: usize, rate: u32) {
        if self.channels.is_empty() {
            self.channels = vec![Vec::new()];
            self.rate = rate;
        }
        for ch in &mut self.channels {
            ch.resize(ch.len() + n, 0.0);
        }
    }

    fn append(&mut self, frame: &ff::frame::Audio) -> Result<(), String> {
        let n = usize::from(frame.channels());
        if !self.decoded_any {
            // Silence put in before the first decoded frame is spread to every channel.
            let lead = self.channels.first().map_or(0, Vec::len);
            self.channels = vec![vec![0.0; lead]; n];
            self.rate = frame.rate();
            self.decoded_any = true;
        } else if n != self.channels.len() || frame.rate() != self.rate {
            return Err("channel count or sample rate changes mid-stream".into());
        }
        for (ch, samples) in self.channels.iter_mut().zip(planes(frame)?) {
            ch.extend(samples);
        }
        Ok(())
    }
}

/// A frame's samples as f32, one `Vec` per channel, from any of FFmpeg's sample formats.
fn planes(frame: &ff::frame::Audio) -> Result<Vec<Vec<f32>>, String> {
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
        other => {
            return Err(format!(
                "FFmpeg gave an unexpected sample format ({other:?})"
            ))
        }
    };
    let (n, channels) = (frame.samples(), usize::from(frame.channels()));
    let bytes = |plane: usize, len: usize| -> Result<&[u8], String> {
        frame
            .data(plane)
            .get(..len)
            .ok_or_else(|| "FFmpeg gave a frame shorter than it claims".to_string())
    };
    if frame.is_planar() {
        (0..channels)
            .map(|c| {
                Ok(bytes(c, n * width)?
                    .chunks_exact(width)
                    .map(value)
                    .collect())
            })
            .collect()
    } else {
        let all = bytes(0, n * channels * width)?;
        Ok((0..channels)
            .map(|c| {
                all.chunks_exact(width)
                    .skip(c)
                    .step_by(channels.max(1))
                    .map(value)
                    .collect()
            })
            .collect())
    }
}
