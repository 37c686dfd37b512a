//! Re-scoring throughput: N stored calls (default 100 000, `CALLQA_BENCH_CALLS` to change)
//! built from real customer-service dialogues, re-scored after a rules change and exported
//! (`calls.jsonl` + rollups), as `callqa rescore` does. The dialogues are the folder named by
//! `CALLQA_BENCH_DATA` (JSON lines with `dialogue_id, role, text`, as the cs-text-dev set
//! is written), else the scripts of the fixture calls the repository ships.
//!
//! A plain timed run (harness = false), not criterion: one pass over 100 000 calls takes tens
//! of seconds, and the number that matters is calls per second of that pass. Each call joins
//! consecutive dialogues until it has at least 20 utterances (a phone call's size), with
//! utterance times from a speaking rate of 250 ms per character.
//!
//! Run: `cargo bench --bench rescore` (add `--profile dev` to skip the release build; then
//! `--config 'profile.dev.package.callqa.opt-level=3'` keeps callqa itself optimised).
//!
//! Re-scoring runs one worker per core (`RunOptions::jobs`); results are in the README
//! (Performance), measured with the other scale rows by `scripts/bench-scale`.

use std::path::PathBuf;
use std::time::Instant;

use callqa::batch::{ConfigPaths, Pipeline, RunOptions};
use callqa::store::{Keys, Store};

#[path = "../examples/common/corpus.rs"]
mod corpus;

fn main() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let n: usize = std::env::var("CALLQA_BENCH_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    // No model path: re-scoring must never need one.
    let config = ConfigPaths {
        lexicons: repo.join("lexicons"),
        rubrics: repo.join("rubrics"),
        calendar: repo.join("calendars"),
    };
    let pipeline = Pipeline::load(&config, PathBuf::new(), Default::default()).expect("rules load");
    let dialogues = corpus::bench_dialogues();
    let out = tempfile::tempdir().expect("tempdir");

    let setup = Instant::now();
    let store = Store::open(out.path()).expect("store");
    let mut utterances = 0usize;
    for (i, turns) in corpus::calls(&dialogues, n).enumerate() {
        utterances += turns.len();
        let meta = corpus::meta(i, PathBuf::from(format!("recordings/call-{i:06}.wav")));
        let key = format!("transcript-{i}");
        store
            .put_transcript(&key, &corpus::stored_call(&turns))
            .expect("put transcript");
        let stale = callqa::batch::error_result(&meta, "not scored yet");
        let keys = Keys {
            input: "stale".into(),
            transcript: Some(key),
            identity: None,
        };
        store.put_result(&meta, &keys, &stale).expect("put call");
    }
    drop(store);
    eprintln!(
        "setup: {n} calls, {:.1} utterances each, stored in {:.1} s",
        utterances as f64 / n as f64,
        setup.elapsed().as_secs_f64()
    );

    let timed = Instant::now();
    let opts = RunOptions {
        jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
        ..RunOptions::default()
    };
    let summary = callqa::batch::rescore(&pipeline, out.path(), &opts).expect("rescore");
    let rescore_s = timed.elapsed().as_secs_f64();
    assert_eq!(summary.scored, n as u64, "every call must be re-scored");
    callqa::batch::finish(out.path(), &pipeline.rubrics, false, false)
        .expect("calls.jsonl and rollups");
    let total_s = timed.elapsed().as_secs_f64();
    println!(
        "rescore {n} calls on {} workers: {rescore_s:.1} s ({:.0} calls/s); with calls.jsonl + rollups: {total_s:.1} s ({:.0} calls/s)",
        opts.jobs,
        n as f64 / rescore_s,
        n as f64 / total_s
    );
}
