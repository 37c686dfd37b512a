//! Decoding one role's speech with whisper.cpp.
//!
//! Speech regions are packed into windows of at most 30 s (each region padded a little, the
//! silence between regions left out), so Whisper never sees long silence and a call's worth of
//! short turns costs a few encoder passes instead of one per turn. `audio_ctx` is trimmed to the
//! window: whisper.cpp otherwise encodes a full 30 s for every window (≈5× the cost on short
//! clips at equal accuracy). Every segment and token time is mapped back through the packing to
//! milliseconds in the original recording.
//!
//! What Whisper invents is removed after decoding: a window Whisper itself rates as no speech
//! (hold music, hiss, silence that VAD let through), subtitle credits and bracketed captions it
//! learnt from film subtitles, and repetition loops. Temperature fallback is whisper.cpp's
//! (0.2 steps on high entropy or low log-probability) with faster-whisper's five samples per
//! step, on a fresh decoding state per window so its sampling starts from the same seed every
//! time; the time limit aborts through its abort callback.

use std::sync::Arc;
use std::time::{Duration, Instant};

use whisper_rs::{FullParams, SamplingStrategy, WhisperState};

use super::{AsrConfig, AsrError, Model, Segment, Token, Transcript};
use crate::audio::{SpeechRegion, Track, SAMPLE_RATE};

const MAX_WINDOW_MS: u64 = 30_000;
/// A pause at least this long between two speech regions ends a segment.
const TURN_GAP_MS: u64 = 1_500;
/// Centiseconds, whisper.cpp's time unit.
const CS_MS: i64 = 10;

/// A run of samples cut from the track: where it sits in the window and in the recording.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Piece {
    window_ms: u64,
    source_ms: u64,
    len_ms: u64,
}

/// Regions packed for one Whisper call.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Window {
    pieces: Vec<Piece>,
}

impl Window {
    fn len_ms(&self) -> u64 {
        self.pieces.last().map_or(0, |p| p.window_ms + p.len_ms)
    }

    /// Index of the piece a window time falls in.
    fn piece_at(&self, t_ms: u64) -> usize {
        self.pieces
            .iter()
            .rposition(|p| p.window_ms <= t_ms)
            .unwrap_or(0)
    }

    /// For each piece, the turn it belongs to: pieces less than [`TURN_GAP_MS`] apart in the
    /// recording are one turn.
    fn turns(&self) -> Vec<usize> {
        let mut turn = 0;
        let mut out = Vec::with_capacity(self.pieces.len());
        for (i, p) in self.pieces.iter().enumerate() {
            if i > 0 {
                let prev = &self.pieces[i - 1];
                if p.source_ms.saturating_sub(prev.source_ms + prev.len_ms) >= TURN_GAP_MS {
                    turn += 1;
                }
            }
            out.push(turn);
        }
        out
    }

    /// Maps a window time to the recording, never past the end of `piece`: an end time that
    /// whisper.cpp placed a little late must not jump across a pause.
    fn to_source_within(&self, piece: usize, t_ms: u64) -> u64 {
        match self.pieces.get(piece) {
            Some(p) => p.source_ms + t_ms.saturating_sub(p.window_ms).min(p.len_ms),
            None => self.to_source(t_ms),
        }
    }

    /// Maps a time inside the window back to the recording.
    fn to_source(&self, t_ms: u64) -> u64 {
        let piece = self
            .pieces
            .iter()
            .rev()
            .find(|p| p.window_ms <= t_ms)
            .or(self.pieces.first());
        match piece {
            Some(p) => p.source_ms + (t_ms - p.window_ms.min(t_ms)).min(p.len_ms),
            None => t_ms,
        }
    }
}

/// Packs padded regions into windows of at most [`MAX_WINDOW_MS`]; a longer region is cut.
fn pack(regions: &[SpeechRegion], pad_ms: u64, duration_ms: u64) -> Vec<Window> {
    let mut windows = Vec::new();
    let mut current = Window { pieces: Vec::new() };
    for r in regions {
        let mut start = r.start_ms.saturating_sub(pad_ms);
        let end = (r.end_ms + pad_ms).min(duration_ms);
        if let Some(last) = current.pieces.last_mut() {
            // Padding of neighbours may overlap: never feed the same audio twice.
            start = start.max(last.source_ms + last.len_ms);
        }
        while start < end {
            let room = MAX_WINDOW_MS - current.len_ms();
            if room < 1_000 {
                windows.push(std::mem::replace(
                    &mut current,
                    Window { pieces: Vec::new() },
                ));
                continue;
            }
            let len = (end - start).min(room);
            if current.pieces.is_empty() || len == end - start {
                current.pieces.push(Piece {
                    window_ms: current.len_ms(),
                    source_ms: start,
                    len_ms: len,
                });
                start += len;
            } else {
                // The region does not fit: start a new window rather than split it.
                windows.push(std::mem::replace(
                    &mut current,
                    Window { pieces: Vec::new() },
                ));
            }
        }
    }
    if !current.pieces.is_empty() {
        windows.push(current);
    }
    windows
}

/// Texts Whisper learnt from subtitles and emits on noise or music.
const CREDITS: [&str; 12] = [
    "字幕",
    "明镜",
    "点点栏目",
    "不吝点赞",
    "点赞订阅",
    "订阅转发",
    "打赏支持",
    "谢谢观看",
    "感谢观看",
    "优优独播",
    "中文字幕",
    "请订阅",
];

fn is_invented(text: &str) -> bool {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.is_empty() {
        return true;
    }
    let bracketed = [
        ('(', ')'),
        ('（', '）'),
        ('[', ']'),
        ('【', '】'),
        ('《', '》'),
    ]
    .iter()
    .any(|(o, c)| compact.starts_with(*o) && compact.ends_with(*c));
    bracketed || CREDITS.iter().any(|c| compact.contains(c))
}

/// Cuts a repetition loop: a unit of 1–8 chars repeated more than three times in a row keeps
/// two copies.
fn cut_loops(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        let mut cut = None;
        for unit in 1..=8 {
            let mut reps = 1;
            while i + (reps + 1) * unit <= chars.len()
                && chars[i..i + unit] == chars[i + reps * unit..i + (reps + 1) * unit]
            {
                reps += 1;
            }
            if reps > 3 {
                cut = Some((unit, reps));
                break;
            }
        }
        match cut {
            Some((unit, reps)) => {
                out.extend_from_slice(&chars[i..i + 2 * unit]);
                i += reps * unit;
            }
            None => {
                out.push(chars[i]);
                i += 1;
            }
        }
    }
    out.into_iter().collect()
}

/// Whisper-base writes Traditional characters for much Mandarin; callqa's contract is Simplified.
pub fn to_simplified(text: &str) -> String {
    zhconv::zhconv(text, zhconv::Variant::ZhHans)
}

/// One decoding state on a shared model; one per worker thread.
pub struct Transcriber {
    model: Arc<Model>,
    state: WhisperState,
    config: AsrConfig,
}

impl Transcriber {
    pub fn new(model: &Arc<Model>, config: &AsrConfig) -> Result<Transcriber, AsrError> {
        let state = model
            .context
            .create_state()
            .map_err(|e| AsrError::Whisper(format!("creating a decoding state: {e}")))?;
        Ok(Transcriber {
            model: Arc::clone(model),
            state,
            config: config.clone(),
        })
    }

    /// Transcribes the speech regions of one track. Nothing outside the regions is decoded.
    pub fn transcribe(
        &mut self,
        track: &Track,
        regions: &[SpeechRegion],
    ) -> Result<Transcript, AsrError> {
        let duration_ms = track.samples.len() as u64 * 1000 / SAMPLE_RATE as u64;
        let deadline = Instant::now() + Duration::from_secs(self.config.time_limit_s);
        let mut segments = Vec::new();
        for window in pack(regions, self.config.pad_ms, duration_ms) {
            let samples = window_samples(track, &window);
            let mut decoded = self.decode(&samples, &window, deadline)?;
            segments.append(&mut decoded);
        }
        Ok(Transcript {
            role: track.role,
            segments,
        })
    }

    /// Replaces the decoding state with a new one. whisper.cpp seeds the random generator it
    /// samples with at temperature fallback only when a state is created, and carries it from
    /// one `full` call to the next: on a reused state a window's words depended on every
    /// window the worker had decoded before, so the same call could come out differently with
    /// another `--jobs` or call order. A fresh state per window makes each window's text a
    /// function of its audio, the model and the parameters alone; creating one costs
    /// milliseconds against seconds of decoding.
    fn reset_state(&mut self) -> Result<(), AsrError> {
        self.state = self
            .model
            .context
            .create_state()
            .map_err(|e| AsrError::Whisper(format!("creating a decoding state: {e}")))?;
        Ok(())
    }

    /// Decodes one window: whisper.cpp on a fresh state, then Whisper's own no-speech check,
    /// then its segments as callqa segments in recording time.
    fn decode(
        &mut self,
        samples: &[f32],
        window: &Window,
        deadline: Instant,
    ) -> Result<Vec<Segment>, AsrError> {
        self.reset_state()?;
        let params = params(&self.config, window, deadline);
        self.state
            .full(params, samples)
            .map_err(|e| match Instant::now() > deadline {
                true => AsrError::TimeLimit(self.config.time_limit_s),
                false => AsrError::Whisper(format!("decoding failed: {e}")),
            })?;
        let no_speech_prob = self.no_speech_prob()?;
        if no_speech_prob > self.config.no_speech_max {
            tracing::debug!(no_speech_prob, "window dropped as non-speech");
            return Ok(Vec::new());
        }
        let eot = self.model.context.token_eot();
        let window_ms = window.len_ms();
        let clamp = |cs: i64| ((cs.max(0) * CS_MS) as u64).min(window_ms);
        let mut out = Vec::new();
        for seg in self.state.as_iter() {
            let timed: Vec<TimedToken> = (0..seg.n_tokens())
                .filter_map(|i| seg.get_token(i))
                .filter(|tok| tok.token_data().id < eot)
                .map(|tok| {
                    let data = tok.token_data();
                    TimedToken {
                        t0: clamp(data.t0),
                        t1: clamp(data.t1),
                        bytes: tok.to_bytes().map(<[u8]>::to_vec).unwrap_or_default(),
                        p: data.p,
                        plog: data.plog,
                    }
                })
                .collect();
            out.extend(
                split_at_turns(timed, window)
                    .iter()
                    .filter_map(|group| segment_of(group, window, no_speech_prob)),
            );
        }
        Ok(out)
    }
}

/// Decoding parameters for one window. Greedy at temperature 0, with faster-whisper's
/// fallback: when a window's average log-probability falls below −1 (or its last 32 tokens
/// repeat), it is decoded again at 0.2, 0.4, … and the best of five samples is kept. One
/// sample per temperature (whisper.cpp's default) left a bad guess to chance; five cost
/// nothing on windows that decode well at 0.
fn params<'c>(config: &'c AsrConfig, window: &Window, deadline: Instant) -> FullParams<'c, 'c> {
    let strategy = match config.beam_size {
        0 | 1 => SamplingStrategy::Greedy {
            best_of: FALLBACK_SAMPLES,
        },
        beam_size => SamplingStrategy::BeamSearch {
            beam_size: beam_size as i32,
            patience: -1.0,
        },
    };
    let mut params = FullParams::new(strategy);
    params.set_n_threads(config.threads.max(1) as i32);
    params.set_language(Some(&config.language));
    params.set_translate(false);
    params.set_no_context(true);
    params.set_token_timestamps(true);
    params.set_suppress_nst(true);
    params.set_print_progress(false);
    params.set_print_realtime(false);
    params.set_print_special(false);
    params.set_print_timestamps(false);
    if let Some(prompt) = &config.initial_prompt {
        params.set_initial_prompt(prompt);
    }
    let window_s = window.len_ms().div_ceil(1000) as i32;
    params.set_audio_ctx((window_s * 50 + 64).min(1500));
    params.set_abort_callback_safe(move || Instant::now() > deadline);
    params
}

/// Samples drawn per temperature when greedy decoding falls back (faster-whisper's `best_of`).
const FALLBACK_SAMPLES: i32 = 5;

/// One decoded text token: window times (ms), bytes, probability and log-probability.
struct TimedToken {
    t0: u64,
    t1: u64,
    bytes: Vec<u8>,
    p: f32,
    plog: f32,
}

/// Whisper happily runs one sentence across two packed regions; the tokens are split where
/// they cross a real pause, so a hold between them stays visible.
fn split_at_turns(timed: Vec<TimedToken>, window: &Window) -> Vec<Vec<TimedToken>> {
    let turns = window.turns();
    let mut groups: Vec<Vec<TimedToken>> = Vec::new();
    let mut last_turn = None;
    for t in timed {
        let turn = turns[window.piece_at(t.t0)];
        match groups.last_mut() {
            Some(g) if last_turn == Some(turn) => g.push(t),
            _ => groups.push(vec![t]),
        }
        last_turn = Some(turn);
    }
    groups
}

/// A segment in recording time from one group of tokens, unless Whisper invented it.
fn segment_of(group: &[TimedToken], window: &Window, no_speech_prob: f32) -> Option<Segment> {
    let (first, last) = (group.first()?, group.last()?);
    let start_ms = window.to_source(first.t0);
    let end_ms = window.to_source_within(window.piece_at(last.t0), last.t1);
    let bytes: Vec<u8> = group.iter().flat_map(|t| t.bytes.iter().copied()).collect();
    let text = cut_loops(&to_simplified(String::from_utf8_lossy(&bytes).trim()));
    if is_invented(&text) {
        return None;
    }
    let avg_logprob = group.iter().map(|t| t.plog).sum::<f32>() / group.len() as f32;
    let tokens = group
        .iter()
        .map(|t| Token {
            text: to_simplified(&String::from_utf8_lossy(&t.bytes)),
            start_ms: window.to_source(t.t0),
            end_ms: window.to_source_within(window.piece_at(t.t0), t.t1),
            p: t.p,
        })
        .collect();
    Some(Segment {
        start_ms,
        end_ms: end_ms.max(start_ms),
        text,
        tokens,
        avg_logprob,
        no_speech_prob,
    })
}

impl Transcriber {
    /// Whisper's own no-speech probability for the window just decoded: the softmax of the
    /// `<|nospeech|>` logit right after `<|startoftranscript|>`, as OpenAI's decoder reads it.
    /// whisper.cpp reads it after the language and task tokens instead, where it is always ≈0
    /// (measured: 3e-7 on digital silence that it then filled with invented sentences), so it
    /// is recomputed here with one decoder step on the encoding `full` left in the state.
    fn no_speech_prob(&mut self) -> Result<f32, AsrError> {
        let ctx = &self.model.context;
        let (sot, nosp) = (ctx.token_sot(), ctx.token_nosp());
        self.state
            .decode(&[sot], 0, self.config.threads.max(1))
            .map_err(|e| AsrError::Whisper(format!("no-speech check failed: {e}")))?;
        let logits = self
            .state
            .get_logits()
            .map_err(|e| AsrError::Whisper(format!("no-speech check failed: {e}")))?;
        let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let total: f32 = logits.iter().map(|l| (l - max).exp()).sum();
        let p = logits
            .get(nosp as usize)
            .map_or(0.0, |l| (l - max).exp() / total);
        Ok(p)
    }
}

fn window_samples(track: &Track, window: &Window) -> Vec<f32> {
    let per_ms = SAMPLE_RATE as u64 / 1000;
    let mut out = Vec::with_capacity((window.len_ms() * per_ms) as usize);
    for p in &window.pieces {
        let from = (p.source_ms * per_ms) as usize;
        out.extend(track.f32(from, from + (p.len_ms * per_ms) as usize));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(start_ms: u64, end_ms: u64) -> SpeechRegion {
        SpeechRegion { start_ms, end_ms }
    }

    #[test]
    fn packs_neighbouring_regions_and_maps_times_back() {
        let windows = pack(&[region(1_000, 3_000), region(10_000, 12_000)], 200, 60_000);
        assert_eq!(windows.len(), 1);
        let w = &windows[0];
        assert_eq!(w.len_ms(), 2_400 + 2_400);
        // 0.2 s into the window is the first region's start; 2.6 s is the second's.
        assert_eq!(w.to_source(200), 1_000);
        assert_eq!(w.to_source(2_600), 10_000);
        assert_eq!(w.to_source(4_800), 12_200);
    }

    #[test]
    fn long_speech_is_split_into_windows_of_at_most_30_s() {
        let windows = pack(&[region(0, 70_000)], 200, 80_000);
        assert_eq!(windows.len(), 3);
        assert!(windows.iter().all(|w| w.len_ms() <= MAX_WINDOW_MS));
        let covered: u64 = windows.iter().map(Window::len_ms).sum();
        assert_eq!(covered, 70_200);
    }

    #[test]
    fn a_region_that_does_not_fit_starts_a_new_window() {
        let windows = pack(&[region(0, 20_000), region(25_000, 40_000)], 0, 60_000);
        assert_eq!(windows.len(), 2);
        assert_eq!(windows[1].pieces[0].source_ms, 25_000);
    }

    #[test]
    fn no_regions_means_nothing_to_decode() {
        assert!(pack(&[], 200, 60_000).is_empty());
    }

    #[test]
    fn subtitle_credits_and_captions_are_recognised_as_invented() {
        for t in [
            "请不吝点赞 订阅 转发 打赏支持明镜与点点栏目",
            "字幕由Amara.org社区提供",
            "( 正在下雨 )",
            "（音乐）",
            "【掌声】",
        ] {
            assert!(is_invented(t), "{t}");
        }
        for t in ["您好，很高兴为您服务", "请您稍等", "好的"] {
            assert!(!is_invented(t), "{t}");
        }
    }

    #[test]
    fn repetition_loops_are_cut_to_two_copies() {
        assert_eq!(cut_loops("好的好的好的好的好的好的"), "好的好的");
        assert_eq!(cut_loops("嗯嗯嗯嗯嗯嗯嗯"), "嗯嗯");
        assert_eq!(cut_loops("谢谢您的来电"), "谢谢您的来电");
        assert_eq!(cut_loops("好的好的"), "好的好的");
    }

    #[test]
    fn traditional_output_becomes_simplified() {
        assert_eq!(
            to_simplified("請您稍等，讓您久等了"),
            "请您稍等，让您久等了"
        );
    }
}
