//! Voice activity: where each track holds speech, as regions in milliseconds.
//!
//! Takes a decoded [`Audio`] and a [`VadConfig`]; returns one [`RoleActivity`] per track.
//! Each 10 ms frame's energy in the band of voiced speech (100 Hz – 1 kHz: the high-pass drops
//! mains hum and DC, the low-pass most of a line's hiss) is compared with the track's noise
//! floor, the 10th percentile of its frame energies: on a call channel
//! the other party talks at least a tenth of the time, so that percentile is the line's own
//! hiss, G.711 quantisation or background noise. A region opens on a frame a little above the
//! floor (or on 150 ms in a row above the lower threshold) and extends while frames stay above
//! the lower threshold (hysteresis); blips shorter than
//! 30 ms (clicks) are dropped, short pauses are bridged so words are not cut apart, bursts
//! shorter than `min_speech_ms` are dropped, and each region gets a hangover (quiet word
//! endings) and padding.
//!
//! The thresholds sit only 8 and 3.5 dB above the floor: a quiet talker's softer syllables
//! are only a few dB above −50 dBFS line noise, and the earlier 15 dB margin kept half of
//! continuous speech at −35 dBFS in such noise and 13 % at −45 dBFS; measured over the whole
//! band the 8 dB margin still kept only 64 % at −40 dBFS, measured below 1 kHz it keeps all. Stationary noise cannot
//! reach them: 10 ms frames of hiss vary by about ±1 dB. The floor may follow the speech on a
//! channel where somebody talks nearly all the time; that shows as a wide spread between the
//! floor and the median frame, and then the opening threshold is capped at an absolute
//! −35 dBFS. A narrow spread means the floor is the line itself, however loud (hiss at
//! −30 dBFS, the steady tones of hold music), and nothing caps it. The absolute lower limit is
//! −60 dBFS, so speech at −45 dBFS RMS on a clean line keeps its soft ends. Measured on real
//! speech, continuous quiet speech, and hiss, music and line noise in `tests/activity.rs`; the
//! choice over the neural `earshot` detector rests on that table.

use super::{Audio, RoleActivity, SpeechRegion, SAMPLE_RATE};

/// Analysis frame: 10 ms, the resolution of every region boundary.
const FRAME_MS: u64 = 10;
const FRAME_LEN: usize = (SAMPLE_RATE as u64 * FRAME_MS / 1000) as usize;

/// Percentile of frame energies taken as the noise floor.
const FLOOR_PERCENTILE: f64 = 0.10;

/// A median frame less than this above the floor means the floor is the line itself
/// (stationary noise or tones), not the quiet frames of a talker who never pauses.
const STATIONARY_SPREAD_DB: f32 = 4.0;

/// A run this long above the lower threshold is speech even if no frame reaches the opening
/// one: quiet syllables 6 dB above the line noise. Hiss never stays 3.5 dB above its own
/// 10th percentile for 150 ms (its 10 ms frames vary by about ±1 dB).
const SUSTAINED_FRAMES: u64 = 15;

/// Runs above the threshold shorter than this are clicks, dropped before pauses are bridged
/// (a train of clicks would otherwise be bridged into one long region).
const MIN_BLIP_FRAMES: u64 = 3;

/// Tuning of [`activity`]. The defaults were measured on real Mandarin clips placed on a
/// synthetic stereo call with −50 dBFS noise between them (see the tests).
#[derive(Clone, Debug, PartialEq)]
pub struct VadConfig {
    /// Shorter bursts are clicks or line noise, not speech (a short 嗯 is about 150 ms).
    pub min_speech_ms: u64,
    /// Pauses shorter than this stay inside one region: pauses between words, syllables and at
    /// commas are shorter (real speech pauses 200–600 ms at a comma, the TTS fixtures about 550 ms), pauses
    /// between turns are longer.
    pub min_silence_ms: u64,
    /// Kept after the energy falls below the lower threshold: word endings fade out quietly.
    pub hangover_ms: u64,
    /// Added before and after every final region so the first and last phoneme reach ASR.
    pub padding_ms: u64,
    /// A region opens on a frame this many dB above the noise floor.
    pub open_above_floor_db: f32,
    /// A region continues while frames stay this many dB above the floor (hysteresis).
    pub stay_above_floor_db: f32,
    /// Never open below this level, even on a track of digital silence.
    pub min_open_dbfs: f32,
    /// Always open above this level when the floor estimate may be speech (see the module doc).
    pub max_open_dbfs: f32,
}

impl Default for VadConfig {
    fn default() -> Self {
        VadConfig {
            min_speech_ms: 120,
            min_silence_ms: 600,
            hangover_ms: 50,
            padding_ms: 20,
            open_above_floor_db: 8.0,
            stay_above_floor_db: 3.5,
            min_open_dbfs: -60.0,
            max_open_dbfs: -35.0,
        }
    }
}

/// Speech regions of every track of `audio`, in the order of its tracks.
pub fn activity(audio: &Audio, cfg: &VadConfig) -> Vec<RoleActivity> {
    audio
        .tracks
        .iter()
        .map(|t| RoleActivity {
            role: t.role,
            regions: regions(&t.samples, audio.duration_ms, cfg),
        })
        .collect()
}

/// Energy of each 10 ms frame in dBFS (a full-scale sine is −3 dBFS): the band voiced speech
/// carries its energy in, or the whole band [`FULL_BAND_OFFSET_DB`] lower if that is more.
fn frame_energies(samples: &[i16]) -> Vec<f32> {
    // One-pole high-pass at ~100 Hz: telephone speech has nothing below 300 Hz.
    const A: f32 = 0.962;
    let mut prev_x = 0.0f32;
    let mut prev_y = 0.0f32;
    let mut low_pass = LowPass::new(LOW_PASS_HZ);
    samples
        .chunks(FRAME_LEN)
        .map(|frame| {
            let (mut band, mut full) = (0.0f64, 0.0f64);
            for &x in frame {
                let x = super::to_f32(x);
                let y = A * (prev_y + x - prev_x);
                prev_x = x;
                prev_y = y;
                let z = low_pass.next(y);
                band += f64::from(z) * f64::from(z);
                full += f64::from(y) * f64::from(y);
            }
            let db = |sum: f64| (10.0 * (sum / frame.len() as f64 + 1e-12).log10()) as f32;
            db(band).max(db(full) - FULL_BAND_OFFSET_DB)
        })
        .collect()
}

/// The level a region opens at: the noise floor plus the margin, capped as the module doc says.
fn open_threshold(energies: &[f32], cfg: &VadConfig) -> f32 {
    let mut sorted = energies.to_vec();
    sorted.sort_by(f32::total_cmp);
    let at = |p: f64| sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)];
    let (floor, median) = (at(FLOOR_PERCENTILE), at(0.5));
    let open = (floor + cfg.open_above_floor_db).max(cfg.min_open_dbfs);
    if median - floor < STATIONARY_SPREAD_DB {
        open
    } else {
        open.min(cfg.max_open_dbfs)
    }
}

/// Upper edge of the band whose energy is measured. Every Mandarin syllable is voiced at its
/// core and voicing puts most of the energy below 1 kHz, while hiss spreads evenly to 8 kHz:
/// leaving out what lies above gains ~7 dB of signal to noise on a hissing line (the
/// quiet-speech-in-noise rows of the README's table).
const LOW_PASS_HZ: f32 = 1_000.0;

/// The whole band, this much lower, counts too: unvoiced onsets (s, sh, x) lie above 1 kHz. At
/// 8 dB hiss still reads no louder than in the speech band, while the fricatives put region
/// starts back where the clean clips have them (real-call frame accuracy 0.984 / 0.988 against
/// 0.980 / 0.983 from the speech band alone); at 6 dB the hiss itself comes back (94.5 % of
/// −40 dBFS speech in −50 dBFS noise kept).
const FULL_BAND_OFFSET_DB: f32 = 8.0;

/// Second-order Butterworth low-pass (RBJ biquad), direct form I.
struct LowPass {
    b: [f32; 3],
    a: [f32; 2],
    x: [f32; 2],
    y: [f32; 2],
}

impl LowPass {
    fn new(cutoff_hz: f32) -> LowPass {
        let w0 = 2.0 * std::f32::consts::PI * cutoff_hz / SAMPLE_RATE as f32;
        let alpha = w0.sin() / (2.0 * std::f32::consts::FRAC_1_SQRT_2);
        let cos = w0.cos();
        let a0 = 1.0 + alpha;
        let b1 = (1.0 - cos) / a0;
        LowPass {
            b: [b1 / 2.0, b1, b1 / 2.0],
            a: [-2.0 * cos / a0, (1.0 - alpha) / a0],
            x: [0.0; 2],
            y: [0.0; 2],
        }
    }

    fn next(&mut self, x: f32) -> f32 {
        let y = self.b[0] * x + self.b[1] * self.x[0] + self.b[2] * self.x[1]
            - self.a[0] * self.y[0]
            - self.a[1] * self.y[1];
        self.x = [x, self.x[0]];
        self.y = [y, self.y[0]];
        y
    }
}

/// Regions as half-open frame index ranges.
type Spans = Vec<(u64, u64)>;

/// Maximal runs of frames at or above `level`.
fn runs_at_least(energies: &[f32], level: f32) -> Spans {
    let mut runs = Vec::new();
    let mut start = None;
    for (i, &v) in energies.iter().enumerate() {
        match (v >= level, start) {
            (true, None) => start = Some(i as u64),
            (false, Some(s)) => {
                runs.push((s, i as u64));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        runs.push((s, energies.len() as u64));
    }
    runs
}

fn regions(samples: &[i16], duration_ms: u64, cfg: &VadConfig) -> Vec<SpeechRegion> {
    let energies = frame_energies(samples);
    if energies.is_empty() {
        return Vec::new();
    }
    let open = open_threshold(&energies, cfg);
    let stay = open - (cfg.open_above_floor_db - cfg.stay_above_floor_db);

    let mut spans = runs_at_least(&energies, stay);
    spans.retain(|&(s, e)| {
        e - s >= SUSTAINED_FRAMES || energies[s as usize..e as usize].iter().any(|&v| v >= open)
    });
    spans.retain(|&(s, e)| e - s >= MIN_BLIP_FRAMES);
    let frames = |ms: u64| ms.div_ceil(FRAME_MS);
    let min_speech = frames(cfg.min_speech_ms);
    // The hangover belongs to the word before a pause, so a pause is what is left after it:
    // applying it before bridging keeps a 550 ms breath inside the turn.
    let hangover = frames(cfg.hangover_ms);
    let last = energies.len() as u64;
    let spans: Spans = spans
        .into_iter()
        .map(|(s, e)| (s, (e + hangover).min(last)))
        .collect();
    let spans = merge_closer_than(spans, frames(cfg.min_silence_ms));
    spans
        .into_iter()
        .filter(|&(s, e)| e - s >= min_speech + hangover)
        .map(|(s, e)| SpeechRegion {
            start_ms: (s * FRAME_MS).saturating_sub(cfg.padding_ms),
            end_ms: (e * FRAME_MS + cfg.padding_ms).min(duration_ms),
        })
        .filter(|r| r.end_ms > r.start_ms)
        .fold(Vec::new(), |mut acc: Vec<SpeechRegion>, r| {
            match acc.last_mut() {
                Some(last) if last.end_ms >= r.start_ms => last.end_ms = last.end_ms.max(r.end_ms),
                _ => acc.push(r),
            }
            acc
        })
}

fn merge_closer_than(spans: Spans, gap: u64) -> Spans {
    let mut out: Spans = Vec::with_capacity(spans.len());
    for (s, e) in spans {
        match out.last_mut() {
            Some(last) if s < last.1 + gap => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}
