//! Resampling to 16 kHz with rubato's FFT resampler.
//!
//! Takes channels at the source rate frame by frame as a decoder produces them, returns the same
//! channels at [`SAMPLE_RATE`] as 16-bit PCM (see [`Track`](super::Track) for why). The FFT
//! resampler is band-limited (its anti-aliasing filter matters when 44.1/48 kHz music-on-hold
//! is folded down to 16 kHz) and, for the fixed integer ratios of call audio, faster than
//! rubato's asynchronous sinc resampler. Output is trimmed of the resampler's delay so sample
//! `i` still sits at `i / 16 kHz` seconds from the start.

use audioadapter_buffers::direct::SequentialSliceOfVecs;
use rubato::{Fft, FixedSync, Indexing, Resampler};

use super::{to_i16, SAMPLE_RATE};

/// Input frames per FFT chunk: large enough for a sharp filter, small enough to stay in cache.
const CHUNK_FRAMES: usize = 1024;

/// Resamples every channel from `rate` Hz to [`SAMPLE_RATE`]; channels must be equally long.
#[cfg(test)]
pub(crate) fn to_16k(channels: &[Vec<f32>], rate: u32) -> Result<Vec<Vec<i16>>, String> {
    let mut stream = Streaming::new(rate, channels.len())?;
    let frames = channels.first().map_or(0, Vec::len);
    for i in 0..frames {
        stream.push_frame(channels.iter().map(|ch| ch[i]));
    }
    stream.process_ready()?;
    stream.finish()
}

/// Resampling as samples arrive, so a decoder never holds the source-rate audio of a whole
/// call (an hour of 48 kHz stereo is 1.4 GB of f32; at 16 kHz and 16 bits it is a sixth of that).
/// Output equals [`to_16k`] on the whole input: the resampler's delay is dropped from the
/// start and the end is flushed to `ceil(frames × 16 kHz / rate)` samples.
pub(crate) struct Streaming {
    /// `None` at 16 kHz: samples pass through.
    resampler: Option<Fft<f32>>,
    pending: Vec<Vec<f32>>,
    out: Vec<Vec<i16>>,
    scratch: Vec<Vec<f32>>,
    frames_in: usize,
    to_trim: usize,
    rate: u32,
}

impl Streaming {
    pub(crate) fn new(rate: u32, channels: usize) -> Result<Streaming, String> {
        let resampler = match rate {
            SAMPLE_RATE => None,
            _ => Some(
                Fft::<f32>::new(
                    rate as usize,
                    SAMPLE_RATE as usize,
                    CHUNK_FRAMES,
                    1,
                    channels.max(1),
                    FixedSync::Input,
                )
                .map_err(|e| e.to_string())?,
            ),
        };
        let out_max = resampler.as_ref().map_or(0, |r| r.output_frames_max());
        let to_trim = resampler.as_ref().map_or(0, |r| r.output_delay());
        Ok(Streaming {
            resampler,
            pending: vec![Vec::new(); channels],
            out: vec![Vec::new(); channels],
            scratch: vec![vec![0.0; out_max]; channels],
            frames_in: 0,
            to_trim,
            rate,
        })
    }

    /// One frame: a sample per channel.
    pub(crate) fn push_frame(&mut self, frame: impl Iterator<Item = f32>) {
        if self.resampler.is_some() {
            for (ch, s) in self.pending.iter_mut().zip(frame) {
                ch.push(s);
            }
        } else {
            for (ch, s) in self.out.iter_mut().zip(frame) {
                ch.push(to_i16(s));
            }
        }
        self.frames_in += 1;
    }

    /// 16 kHz samples of the first channel so far.
    pub(crate) fn output_len(&self) -> usize {
        self.out.first().map_or(0, Vec::len)
    }

    /// Resamples every whole chunk waiting; call it after each packet.
    pub(crate) fn process_ready(&mut self) -> Result<(), String> {
        let Some(r) = self.resampler.as_ref() else {
            return Ok(());
        };
        let mut need = r.input_frames_next();
        while self.pending.first().is_some_and(|p| p.len() >= need) {
            let used = self.run(None)?;
            for p in &mut self.pending {
                p.drain(..used);
            }
            need = self
                .resampler
                .as_ref()
                .map_or(usize::MAX, |r| r.input_frames_next());
        }
        Ok(())
    }

    /// The rest of the input, then zeros until the output has its full length.
    pub(crate) fn finish(mut self) -> Result<Vec<Vec<i16>>, String> {
        if self.resampler.is_none() {
            return Ok(self.out);
        }
        let expected = (self.frames_in as u64 * u64::from(SAMPLE_RATE))
            .div_ceil(u64::from(self.rate)) as usize;
        let mut partial = self.pending.first().map_or(0, Vec::len);
        // Each round yields at least one chunk's worth; the bound only guards against a
        // resampler that yields nothing.
        for _ in 0..expected / CHUNK_FRAMES + 64 {
            if self.output_len() >= expected {
                break;
            }
            self.run(Some(partial))?;
            for p in &mut self.pending {
                p.clear();
            }
            partial = 0;
        }
        for ch in &mut self.out {
            ch.truncate(expected);
        }
        Ok(self.out)
    }

    /// One resampler call on the pending input (`partial`: only that many frames, then
    /// zeros); appends its output past the delay still to trim. Returns the input used.
    fn run(&mut self, partial: Option<usize>) -> Result<usize, String> {
        let Some(r) = self.resampler.as_mut() else {
            return Ok(0);
        };
        let n = self.pending.len();
        let available = self.pending.first().map_or(0, Vec::len);
        let indexing = partial.map(|len| Indexing {
            input_offset: 0,
            output_offset: 0,
            partial_len: Some(len),
            active_channels_mask: None,
        });
        let input =
            SequentialSliceOfVecs::new(&self.pending, n, available).map_err(|e| e.to_string())?;
        let out_max = self.scratch.first().map_or(0, Vec::len);
        let mut output = SequentialSliceOfVecs::new_mut(&mut self.scratch, n, out_max)
            .map_err(|e| e.to_string())?;
        let (used, made) = r
            .process_into_buffer(&input, &mut output, indexing.as_ref())
            .map_err(|e| e.to_string())?;
        let skip = self.to_trim.min(made);
        for (out, scratch) in self.out.iter_mut().zip(&self.scratch) {
            out.extend(scratch[skip..made].iter().copied().map(to_i16));
        }
        self.to_trim -= skip;
        Ok(used)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(freq: f32, rate: u32, secs: f32) -> Vec<f32> {
        (0..(rate as f32 * secs) as usize)
            .map(|i| (2.0 * std::f32::consts::PI * freq * i as f32 / rate as f32).sin())
            .collect()
    }

    fn rms(x: &[i16]) -> f32 {
        let sum: f32 = x.iter().map(|&v| super::super::to_f32(v).powi(2)).sum();
        (sum / x.len() as f32).sqrt()
    }

    #[test]
    fn keeps_length_and_level_of_an_in_band_tone() {
        for rate in [8_000, 44_100, 48_000] {
            let out = to_16k(&[tone(1000.0, rate, 1.0)], rate).expect("resampler");
            assert_eq!(out[0].len(), 16_000, "{rate} Hz");
            let level = rms(&out[0][1000..15000]);
            assert!(
                (level - std::f32::consts::FRAC_1_SQRT_2).abs() < 0.02,
                "{rate} Hz: {level}"
            );
        }
    }

    #[test]
    fn removes_content_above_the_new_nyquist_instead_of_aliasing_it() {
        // 12 kHz at 48 kHz would alias to 4 kHz with a naive decimator.
        let out = to_16k(&[tone(12_000.0, 48_000, 1.0)], 48_000).expect("resampler");
        assert!(rms(&out[0][1000..15000]) < 0.01);
    }

    #[test]
    fn keeps_timing_of_an_onset() {
        let mut x = vec![0.0f32; 48_000];
        x.extend(tone(500.0, 48_000, 0.5));
        let out = to_16k(&[x], 48_000).expect("resampler");
        let onset = out[0].iter().position(|v| v.abs() > 3277).expect("onset");
        assert!(
            (onset as i64 - 16_000).abs() < 16,
            "onset at sample {onset}"
        );
    }
}

#[cfg(test)]
mod streaming_tests {
    use super::*;

    /// Pushed in packets of any size, the stream gives the one-shot result of rubato's own
    /// whole-clip processing, to the 16-bit step.
    #[test]
    fn streaming_equals_whole_clip_resampling() {
        for rate in [8_000u32, 44_100, 48_000] {
            let x: Vec<f32> = (0..rate as usize * 2 + 777)
                .map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5)
                .collect();
            let mut whole =
                Fft::<f32>::new(rate as usize, 16_000, CHUNK_FRAMES, 1, 1, FixedSync::Input)
                    .expect("resampler");
            let out_len = whole.process_all_needed_output_len(x.len());
            let mut reference = vec![vec![0.0f32; out_len]];
            let input =
                SequentialSliceOfVecs::new(std::slice::from_ref(&x), 1, x.len()).expect("in");
            let mut output =
                SequentialSliceOfVecs::new_mut(&mut reference, 1, out_len).expect("out");
            let (_, written) = whole
                .process_all_into_buffer(&input, &mut output, x.len(), None)
                .expect("process");
            reference[0].truncate(written);

            let mut stream = Streaming::new(rate, 1).expect("stream");
            for packet in x.chunks(1_153) {
                for &s in packet {
                    stream.push_frame(std::iter::once(s));
                }
                stream.process_ready().expect("process");
            }
            let streamed = stream.finish().expect("finish");
            assert_eq!(streamed[0].len(), reference[0].len(), "{rate} Hz");
            let worst = streamed[0]
                .iter()
                .zip(&reference[0])
                .map(|(&a, &b)| i32::from(a).abs_diff(i32::from(to_i16(b))))
                .max()
                .unwrap_or(0);
            assert!(worst <= 1, "{rate} Hz: differs by {worst} steps");
        }
    }
}
