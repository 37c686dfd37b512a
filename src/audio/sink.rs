//! Where a decoder's frames go: checked for a shape callqa takes (mono or stereo, a sane rate,
//! at most [`MAX_DURATION_MS`]) and resampled to 16 kHz 16-bit as they arrive, so no backend
//! ever holds a call's source-rate audio. Symphonia's path and the FFmpeg fallback share it,
//! so both refuse the same things with the same words.

use std::path::{Path, PathBuf};

use super::{resample, Error};

/// Longest recording accepted: the 16 kHz tracks are held in memory (a 4 h stereo call is
/// 0.9 GB), and nothing a call recorder writes is that long on purpose.
pub(super) const MAX_DURATION_MS: u64 = 4 * 3600 * 1000;

/// Rates outside this range are not telephone or music audio and break the resampler.
const MIN_RATE: u32 = 4_000;
const MAX_RATE: u32 = 384_000;

pub(super) const CONVERT_HINT: &str =
    "convert it to 16-bit PCM WAV (e.g. `sox in.xxx -e signed-integer -b 16 out.wav`) and run again";
const CHANNELS_HINT: &str = "callqa takes mono or stereo (agent/customer) recordings: \
     keep the two call channels (e.g. `sox in.wav out.wav remix 1 2`) and run again";

/// Frames on their way to 16 kHz; the stream's shape is fixed by its first frames.
pub(super) struct Sink<'p> {
    path: &'p Path,
    stream: Option<resample::Streaming>,
    pub(super) channels: usize,
    /// The source's rate (0 until the first frames) and its frames so far.
    pub(super) rate: u32,
    pub(super) frames: u64,
}

impl<'p> Sink<'p> {
    pub(super) fn new(path: &'p Path) -> Sink<'p> {
        Sink {
            path,
            stream: None,
            channels: 0,
            rate: 0,
            frames: 0,
        }
    }

    #[cfg(feature = "ffmpeg")]
    pub(super) fn path(&self) -> &'p Path {
        self.path
    }

    /// Whether frames of this shape may follow those already taken (any shape may come first).
    pub(super) fn fits(&self, rate: u32, channels: usize) -> bool {
        self.stream.is_none() || (rate == self.rate && channels == self.channels)
    }

    /// `n` frames of `channels` channels at `rate` Hz; `sample(i, c)` is frame `i`'s sample
    /// on channel `c`. The shape must [`fit`](Sink::fits).
    pub(super) fn push(
        &mut self,
        rate: u32,
        channels: usize,
        n: usize,
        sample: impl Fn(usize, usize) -> f32,
    ) -> Result<(), Error> {
        let stream = match &mut self.stream {
            Some(s) => s,
            None => {
                check_channels(self.path, channels)?;
                check_rate(self.path, rate)?;
                let s = resample::Streaming::new(rate, channels)
                    .map_err(|reason| cannot_resample(self.path, rate, &reason))?;
                (self.rate, self.channels) = (rate, channels);
                self.stream.insert(s)
            }
        };
        // Checked before the frames are taken: a damaged header may claim any length.
        let frames = self.frames.saturating_add(n as u64);
        if frames.saturating_mul(1000) / u64::from(rate) > MAX_DURATION_MS {
            return Err(Error::Unsupported {
                path: self.path.to_path_buf(),
                reason: format!("longer than {} hours", MAX_DURATION_MS / 3_600_000),
                hint: "split the recording into calls (e.g. `sox in.wav out.wav trim 0 3600`) and run again",
            });
        }
        for i in 0..n {
            stream.push_frame((0..channels).map(|c| sample(i, c)));
        }
        self.frames = frames;
        stream
            .process_ready()
            .map_err(|reason| cannot_resample(self.path, rate, &reason))
    }

    /// Source time taken so far.
    pub(super) fn duration_ms(&self) -> u64 {
        self.frames * 1000 / u64::from(self.rate.max(1))
    }

    /// The channels at 16 kHz, one `Vec` each (none if no frame came).
    pub(super) fn finish(self) -> Result<Vec<Vec<i16>>, Error> {
        match self.stream {
            Some(st) => st
                .finish()
                .map_err(|reason| cannot_resample(self.path, self.rate, &reason)),
            None => Ok(Vec::new()),
        }
    }
}

fn cannot_resample(path: &Path, rate: u32, reason: &str) -> Error {
    Error::Unsupported {
        path: path.to_path_buf(),
        reason: format!(
            "cannot resample {rate} Hz to {} Hz: {reason}",
            super::SAMPLE_RATE
        ),
        hint: CONVERT_HINT,
    }
}

pub(super) fn check_channels(path: &Path, n: usize) -> Result<(), Error> {
    match n {
        1 | 2 => Ok(()),
        0 => Err(Error::Corrupt {
            path: path.to_path_buf(),
            reason: "stream declares zero channels".into(),
        }),
        n => Err(Error::Unsupported {
            path: PathBuf::from(path),
            reason: format!("{n} channels"),
            hint: CHANNELS_HINT,
        }),
    }
}

fn check_rate(path: &Path, rate: u32) -> Result<(), Error> {
    if (MIN_RATE..=MAX_RATE).contains(&rate) {
        return Ok(());
    }
    Err(Error::Unsupported {
        path: path.to_path_buf(),
        reason: format!("sample rate {rate} Hz"),
        hint: "resample it to 8, 16, 44.1 or 48 kHz (e.g. `sox in.wav -r 16000 out.wav`) and run again",
    })
}
