//! How often the scorer's tolerant hearing of an *expected* phrase (您好, 再见, 早上好,
//! 请您稍等, 让您久等了, the holiday greetings) fires on real agent utterances that do not contain
//! the phrase's characters. Such a false hearing only spares a deduction, but a high rate would
//! let an agent who skipped the phrase keep the points.
//!
//! Run: `cargo run --example expected_phrases -- DATA_DIR` where DATA_DIR holds JSON lines with
//! `role` and `text` (as the cs-text-dev set is written). Prints, per phrase, the utterances that
//! contain it exactly, those heard only by sound, and a few of the latter to read.

use std::path::PathBuf;

use callqa::score::heard;
use callqa::text::normalized;

#[path = "common/corpus.rs"]
mod corpus;

const PHRASES: [&str; 8] = [
    "您好",
    "再见",
    "早上好",
    "请您稍等",
    "让您久等了",
    "新年好",
    "劳动节快乐",
    "国庆快乐",
];

fn main() {
    let Some(dir) = std::env::args().nth(1).map(PathBuf::from) else {
        eprintln!("usage: expected_phrases DATA_DIR (a folder of .jsonl with role and text)");
        std::process::exit(2);
    };
    let utterances: Vec<String> = corpus::jsonl_rows(&dir)
        .iter()
        .filter(|v| v["role"] == "agent")
        .map(|v| v["text"].as_str().unwrap_or_default().to_string())
        .collect();
    println!("{} agent utterances", utterances.len());
    for phrase in PHRASES {
        let want = normalized(phrase);
        let exact = utterances
            .iter()
            .filter(|u| normalized(u).contains(&want))
            .count();
        let by_sound: Vec<&String> = utterances
            .iter()
            .filter(|u| !normalized(u).contains(&want) && heard(u, &[phrase.to_string()]))
            .collect();
        println!(
            "{phrase}: exact {exact}, by sound only {} ({:.2} per 1,000)",
            by_sound.len(),
            by_sound.len() as f64 * 1000.0 / utterances.len().max(1) as f64
        );
        for u in by_sound.iter().take(3) {
            println!("    {u}");
        }
    }
}
