//! Accuracy (CER) and speed (RTF) of callqa's Whisper stage on clips with reference transcripts.
//!
//! Reads `DATA/manifest.tsv` (a speech-dev style list: file in the first column, reference in
//! the sixth) or `DATA/references.tsv` (file, reference), paths relative to `DATA`; `DATA` is
//! `--data`, by default the clips the repository ships (`fixtures/speech`). Transcribes the
//! clips of one set with the
//! same `asr::Transcriber` the pipeline uses and prints one summary line: clips, reference
//! characters, CER (after Traditional→Simplified and punctuation removal on both sides), audio
//! seconds, wall seconds and RTF (model load excluded). Clips without a reference count toward
//! RTF only.
//!
//! ```text
//! cargo run --example asr_eval
//! cargo run --example asr_eval -- --data path/to/speech-dev --set hemingwaylee --limit 40
//! cargo run --example asr_eval -- --data path/to/speech-dev --set funasr/vad_example_70s --gate vad
//! ```
//!
//! `--gate whole` sends each clip whole (one region over the clip, the worst case for invented
//! text); `--gate vad` sends only what `audio::activity` finds, as `callqa run` does.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use clap::Parser;

use callqa::asr::{char_errors, AsrConfig, Model, Transcriber};
use callqa::audio::{SpeechRegion, VadConfig};
use callqa::AgentChannel;

#[derive(Debug, Parser)]
struct Opts {
    /// Folder holding `manifest.tsv` or `references.tsv` and the clips.
    #[arg(long, default_value = "fixtures/speech")]
    data: PathBuf,
    /// Rows whose file starts with this (`hemingwaylee`, `funasr`, `funasr/vad_example_70s`);
    /// empty: every row.
    #[arg(long, default_value = "")]
    set: String,
    /// Only the first N matching clips (0 = all).
    #[arg(long, default_value_t = 0)]
    limit: usize,
    /// Model file [default: where `callqa model prepare` puts the q8_0 model].
    #[arg(long)]
    model: Option<PathBuf>,
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Beam search width (1: greedy).
    #[arg(long, default_value_t = 1)]
    beam: usize,
    /// Simplified-Chinese initial prompt.
    #[arg(long)]
    prompt: Option<String>,
    #[arg(long, value_enum, default_value = "whole")]
    gate: Gate,
    /// Print each clip's reference and hypothesis on stderr.
    #[arg(long)]
    verbose: bool,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum Gate {
    Whole,
    Vad,
}

fn main() -> anyhow::Result<()> {
    let opts = Opts::parse();
    let data = &opts.data;
    let mut clips: Vec<(String, String)> = references(data)?
        .into_iter()
        .filter(|(file, _)| file.starts_with(&opts.set))
        .collect();
    if opts.limit > 0 {
        clips.truncate(opts.limit);
    }

    let model_path = opts
        .model
        .clone()
        .unwrap_or_else(|| callqa::settings::model_dir().join(callqa::settings::MODEL_FILE));
    let model = Arc::new(Model::load(&model_path)?);
    let config = AsrConfig {
        threads: opts.threads,
        initial_prompt: opts.prompt.clone(),
        beam_size: opts.beam,
        ..AsrConfig::default()
    };
    let mut transcriber = Transcriber::new(&model, &config)?;
    let (mut errors, mut ref_chars, mut scored) = (0, 0, 0);
    let (mut audio_ms, mut wall_s) = (0u64, 0f64);
    for (file, reference) in &clips {
        let path = data.join(file);
        let audio = callqa::audio::decode(&path, AgentChannel::Mono)?;
        let Some(track) = audio.tracks.first() else {
            continue;
        };
        let started = Instant::now();
        let regions = match opts.gate {
            Gate::Whole => vec![SpeechRegion {
                start_ms: 0,
                end_ms: audio.duration_ms,
            }],
            Gate::Vad => callqa::audio::activity(&audio, &VadConfig::default())
                .into_iter()
                .next()
                .map(|a| a.regions)
                .unwrap_or_default(),
        };
        let transcript = transcriber
            .transcribe(track, &regions)
            .with_context(|| format!("{}: transcription failed", path.display()))?;
        wall_s += started.elapsed().as_secs_f64();
        audio_ms += audio.duration_ms;
        let hypothesis: String = transcript
            .segments
            .iter()
            .map(|s| s.text.as_str())
            .collect();
        if !reference.is_empty() {
            let (e, n) = char_errors(reference, &hypothesis);
            errors += e;
            ref_chars += n;
            scored += 1;
            if opts.verbose {
                eprintln!("{file}\t{e}/{n}\tref {reference}\thyp {hypothesis}");
            }
        } else if opts.verbose {
            eprintln!("{file}\thyp {hypothesis}");
        }
    }
    let audio_s = audio_ms as f64 / 1000.0;
    println!(
        "set={} clips={} scored={} ref_chars={} CER={:.1}% audio_s={:.1} wall_s={:.1} RTF={:.3} threads={} beam={} gate={:?} prompt={:?} model={}",
        opts.set,
        clips.len(),
        scored,
        ref_chars,
        100.0 * errors as f64 / ref_chars.max(1) as f64,
        audio_s,
        wall_s,
        wall_s / audio_s.max(f64::EPSILON),
        opts.threads,
        opts.beam,
        opts.gate,
        opts.prompt,
        model_path.display()
    );
    Ok(())
}

/// (file, reference) rows of `data`'s list: `manifest.tsv` (speech-dev columns) if present,
/// else `references.tsv`.
fn references(data: &std::path::Path) -> anyhow::Result<Vec<(String, String)>> {
    let (list, reference_column) = match data.join("manifest.tsv") {
        p if p.exists() => (p, 5),
        _ => (data.join("references.tsv"), 1),
    };
    let text = std::fs::read_to_string(&list).with_context(|| {
        format!(
            "{}: cannot read the list of clips; give --data a folder with manifest.tsv or references.tsv",
            list.display()
        )
    })?;
    Ok(text
        .lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            let (file, reference) = (cols.first()?, cols.get(reference_column)?);
            Some((file.to_string(), reference.to_string()))
        })
        .collect())
}
