//! Resampling to 16 kHz with rubato's FFT resampler.
//!
//! Takes channels at the source rate, returns the same channels at [`SAMPLE_RATE`]. The FFT
//! resampler is band-limited (its anti-aliasing filter matters when 44.1/48 kHz music-on-hold
//! is folded down to 16 kHz) and, for the fixed integer ratios of call audio, faster than
//! rubato's asynchronous sinc resampler. Output is trimmed of the resampler's delay so sample
//! `i` still sits at `i / 16 kHz` seconds from the start.

use audioadapter_buffers::direct::SequentialSliceOfVecs;
use rubato::{Fft, FixedSync, Resampler};

use super::SAMPLE_RATE;

/// Input frames per FFT chunk: large enough for a sharp filter, small enough to stay in cache.
const CHUNK_FRAMES: usize = 1024;

/// Resamples every channel from `rate` Hz to [`SAMPLE_RATE`]; channels must be equally long.
pub(crate) fn to_16k(channels: &[Vec<f32>], rate: u32) -> Result<Vec<Vec<f32>>, String> {
    let frames = channels.first().map_or(0, Vec::len);
    if rate == SAMPLE_RATE || frames == 0 {
        return Ok(channels.to_vec());
    }
    let n = channels.len();
    let mut resampler = Fft::<f32>::new(
        rate as usize,
        SAMPLE_RATE as usize,
        CHUNK_FRAMES,
        1,
        n,
        FixedSync::Input,
    )
    .map_err(|e| e.to_string())?;
    let out_len = resampler.process_all_needed_output_len(frames);
    let mut out = vec![vec![0.0f32; out_len]; n];
    let input = SequentialSliceOfVecs::new(channels, n, frames).map_err(|e| e.to_string())?;
    let mut output =
        SequentialSliceOfVecs::new_mut(&mut out, n, out_len).map_err(|e| e.to_string())?;
    let (_, written) = resampler
        .process_all_into_buffer(&input, &mut output, frames, None)
        .map_err(|e| e.to_string())?;
    for ch in &mut out {
        ch.truncate(written);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(freq: f32, rate: u32, secs: f32) -> Vec<f32> {
        (0..(rate as f32 * secs) as usize)
            .map(|i| (2.0 * std::f32::consts::PI * freq * i as f32 / rate as f32).sin())
            .collect()
    }

    fn rms(x: &[f32]) -> f32 {
        (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).sqrt()
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
        let onset = out[0].iter().position(|v| v.abs() > 0.1).expect("onset");
        assert!(
            (onset as i64 - 16_000).abs() < 16,
            "onset at sample {onset}"
        );
    }
}
