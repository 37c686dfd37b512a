//! Generated months for the scale benchmarks (`scripts/bench-scale`), the same on every run.
//!
//! - `scale_store calls N FILE`: N text-only calls as JSON lines for `callqa score`, from real
//!   dialogues (`CALLQA_BENCH_DATA`, else the fixture scripts), 20+ utterances each.
//! - `scale_store recordings N DIR`: N small, distinct WAV files under `DIR/audio`, their
//!   manifest `DIR/manifest.csv`, and each call's transcript already stored in `DIR/out` under
//!   the key `callqa run` looks for (the model named by `CALLQA_MODEL` keys it), so a run
//!   scores them without Whisper: what a month looks like once transcribed.
//! - `scale_store rerun DIR [--verify-audio]`: runs the manifest into `DIR/out` as
//!   `callqa run` does (one worker per core) and prints the summary line. Run it twice: the
//!   second pass is the rerun over finished calls, to be timed and traced for opened files.

use std::io::Write;
use std::path::{Path, PathBuf};

use callqa::batch::{ConfigPaths, Pipeline, RunOptions};
use callqa::store::Store;

#[path = "common/corpus.rs"]
mod corpus;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n = |s: &str| s.parse::<usize>().expect("N is a number of calls");
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["calls", count, file] => text_calls(n(count), Path::new(file)),
        ["recordings", count, dir] => recordings(n(count), Path::new(dir)),
        ["rerun", dir, rest @ ..] => rerun(Path::new(dir), rest.contains(&"--verify-audio")),
        _ => {
            eprintln!(
                "usage: scale_store calls N FILE | recordings N DIR | rerun DIR [--verify-audio]"
            );
            std::process::exit(2);
        }
    }
}

fn pipeline() -> Pipeline {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let config = ConfigPaths {
        lexicons: repo.join("lexicons"),
        rubrics: repo.join("rubrics"),
        calendar: repo.join("calendars"),
    };
    let model = std::env::var_os("CALLQA_MODEL")
        .map(PathBuf::from)
        .expect("CALLQA_MODEL names the Whisper model file (it keys transcripts)");
    Pipeline::load(&config, model, Default::default()).expect("rules load")
}

fn text_calls(n: usize, file: &Path) {
    let dialogues = corpus::bench_dialogues();
    let mut out = std::io::BufWriter::new(std::fs::File::create(file).expect("calls file"));
    for (i, turns) in corpus::calls(&dialogues, n).enumerate() {
        let meta = corpus::meta(i, PathBuf::new());
        let stored = corpus::stored_call(&turns);
        let segments: Vec<serde_json::Value> = stored
            .transcripts
            .iter()
            .flat_map(|t| {
                t.segments.iter().map(move |s| {
                    serde_json::json!({"role": t.role, "start_ms": s.start_ms,
                        "end_ms": s.end_ms, "text": s.text})
                })
            })
            .collect();
        let line = serde_json::json!({
            "call_id": meta.call_id, "agent_id": meta.agent_id,
            "started_at": meta.started_at, "direction": meta.direction,
            "segments": segments,
        });
        writeln!(out, "{line}").expect("write calls");
    }
    out.flush().expect("write calls");
}

/// A tenth of a second of 8 kHz mono whose samples spell the call's number: distinct hashes.
fn write_wav(path: &Path, i: usize) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("wav");
    for k in 0..800u32 {
        let v = ((i as u32).wrapping_mul(2_654_435_761) >> (k % 24)) as i16;
        w.write_sample(v).expect("wav sample");
    }
    w.finalize().expect("wav");
}

fn recordings(n: usize, dir: &Path) {
    let pipeline = pipeline();
    let dialogues = corpus::bench_dialogues();
    std::fs::create_dir_all(dir.join("out")).expect("output folder");
    let store = Store::open(&dir.join("out")).expect("store");
    let mut manifest = csv::Writer::from_path(dir.join("manifest.csv")).expect("manifest");
    manifest
        .write_record(callqa::batch::manifest::REQUIRED)
        .expect("manifest");
    for (i, turns) in corpus::calls(&dialogues, n).enumerate() {
        let rel = PathBuf::from(format!("audio/{:03}/call-{i:06}.wav", i / 1000));
        let path = dir.join(&rel);
        std::fs::create_dir_all(path.parent().expect("folder")).expect("audio folder");
        write_wav(&path, i);
        let meta = corpus::meta(i, path.clone());
        let sha = callqa::util::sha256_file(&path).expect("hash");
        let key = pipeline
            .transcript_key(&sha, &meta)
            .expect("transcript key");
        store
            .put_transcript(&key, &corpus::stored_call(&turns))
            .expect("put transcript");
        manifest
            .write_record([
                meta.call_id.as_str(),
                &rel.to_string_lossy(),
                &meta.agent_id,
                &meta.started_at.to_rfc3339(),
                &field(meta.direction),
                &field(meta.agent_channel),
            ])
            .expect("manifest");
    }
    manifest.flush().expect("manifest");
}

/// A value as the manifest spells it (its serde name, e.g. `inbound`, `left`).
fn field(v: impl serde::Serialize) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn rerun(dir: &Path, verify_audio: bool) {
    let pipeline = pipeline();
    let calls =
        callqa::batch::manifest::Manifest::open(&dir.join("manifest.csv")).expect("manifest");
    let opts = RunOptions {
        jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
        verify_audio,
        quiet: true,
        ..RunOptions::default()
    };
    let s = callqa::batch::run(&pipeline, calls, &dir.join("out"), &opts).expect("run");
    println!(
        "{} calls: {} scored, {} cached, {} failed, model loaded: {}, {:.2} s",
        s.calls, s.scored, s.cached, s.failed, s.model_loaded, s.wall_s
    );
}
