//! The lexicon scan against other engines, on real customer-service text.
//!
//! Corpus: the text of ../shared/data/cs-text-dev repeated to `CALLQA_BENCH_MB` MiB (default 64),
//! normalised, plus a 1 MiB cache-resident slice. Lexicons: the shipped ones, and 1k / 10k /
//! 100k synthetic phrases of 2–8 characters cut from the corpus. Every engine counts
//! leftmost-longest matches on the same text and must agree with callqa before it is timed;
//! `memmem` per pattern (seed lexicon only) and an absent-byte `memchr` (the memory-bandwidth
//! limit) are shown for scale.
//!
//! Run: `cargo bench --bench scan` (add `-- --quick` for a short run).

use std::hint::black_box;
use std::path::Path;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use callqa::scan::{Lexicons, Pattern, Scanner};
use callqa::text::{normalize, normalized};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn corpus_text() -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/cs-text-dev");
    let mut text = String::new();
    for name in [
        "stc3_train_helpdesk.jsonl",
        "mobilecs_phone_transcripts.jsonl",
    ] {
        let Ok(body) = std::fs::read_to_string(dir.join(name)) else {
            continue;
        };
        for line in body.lines() {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(line) {
                if let Some(t) = v["text"].as_str() {
                    text.push_str(t);
                    text.push('\n');
                }
            }
        }
    }
    assert!(
        !text.is_empty(),
        "../shared/data/cs-text-dev is needed for this benchmark"
    );
    text
}

fn repeat_to(text: &str, bytes: usize) -> String {
    let mut out = String::with_capacity(bytes + text.len());
    while out.len() < bytes {
        out.push_str(text);
    }
    let mut end = bytes.min(out.len());
    while !out.is_char_boundary(end) {
        end -= 1;
    }
    out.truncate(end);
    out
}

/// `n` distinct phrases of 2–8 chars cut from the normalised corpus.
fn synthetic(norm: &str, n: usize) -> Vec<String> {
    let chars: Vec<char> = norm.chars().take(4_000_000).collect();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut set = std::collections::BTreeSet::new();
    while set.len() < n {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let len = 2 + (seed % 7) as usize;
        let at = (seed >> 8) as usize % (chars.len() - len);
        set.insert(chars[at..at + len].iter().collect::<String>());
    }
    set.into_iter().collect()
}

fn lexicon_of(patterns: &[String]) -> Lexicons {
    let body = patterns.join("\n");
    Lexicons::parse(&[(Path::new("bench.txt"), body.as_str())]).expect("synthetic lexicon")
}

fn literal_patterns(lex: &Lexicons) -> Vec<String> {
    lex.entries
        .iter()
        .filter_map(|e| match &e.pattern {
            Pattern::Literal(p) => Some(p.clone()),
            Pattern::Regex(_) => None,
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let mb: usize = std::env::var("CALLQA_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let raw = repeat_to(&corpus_text(), mb << 20);
    let norm = normalized(&raw);
    let small = repeat_to(&norm, 1 << 20);
    let shipped = Lexicons::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("lexicons"))
        .expect("lexicons");
    // The shipped lexicons without their regex entries, so that every engine sees the same set.
    let seed_patterns = literal_patterns(&shipped);
    let mut sets: Vec<(String, Vec<String>)> = vec![("seed".into(), seed_patterns)];
    for n in [1_000, 10_000, 100_000] {
        sets.push((format!("{}k", n / 1000), synthetic(&norm, n)));
    }

    for (set_name, patterns) in &sets {
        let lex = lexicon_of(patterns);
        let t0 = std::time::Instant::now();
        let scanner = Scanner::new(&lex).expect("scanner");
        eprintln!(
            "{set_name}: {} patterns, callqa scanner built in {:.1} ms",
            patterns.len(),
            t0.elapsed().as_secs_f64() * 1e3
        );
        let mut by_len = patterns.clone();
        by_len.sort_by_key(|p| std::cmp::Reverse(p.len()));
        let ac = |kind: Option<AhoCorasickKind>| {
            AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .kind(kind)
                .build(patterns)
                .expect("aho-corasick")
        };
        let engines: Vec<(&str, AhoCorasick)> = vec![
            ("aho-corasick default", ac(None)),
            (
                "aho-corasick nfa-noncontiguous",
                ac(Some(AhoCorasickKind::NoncontiguousNFA)),
            ),
            (
                "aho-corasick nfa-contiguous",
                ac(Some(AhoCorasickKind::ContiguousNFA)),
            ),
            ("aho-corasick dfa", ac(Some(AhoCorasickKind::DFA))),
        ];
        let daac_bytes: daachorse::DoubleArrayAhoCorasick<u32> =
            daachorse::DoubleArrayAhoCorasickBuilder::new()
                .match_kind(daachorse::MatchKind::LeftmostLongest)
                .build(patterns)
                .expect("daachorse");
        let daac_chars: daachorse::CharwiseDoubleArrayAhoCorasick<u32> =
            daachorse::CharwiseDoubleArrayAhoCorasickBuilder::new()
                .match_kind(daachorse::MatchKind::LeftmostLongest)
                .build(patterns)
                .expect("daachorse charwise");
        let alternation = regex::RegexBuilder::new(
            &by_len
                .iter()
                .map(|p| regex::escape(p))
                .collect::<Vec<_>>()
                .join("|"),
        )
        .size_limit(1 << 30)
        .dfa_size_limit(1 << 30)
        .build()
        .ok();

        for (label, text) in [("64MiB", norm.as_str()), ("1MiB", small.as_str())] {
            let expected = scanner.scan_normalized(text).len();
            for (name, engine) in &engines {
                assert_eq!(
                    engine.find_iter(text).count(),
                    expected,
                    "{name} disagrees on {set_name}"
                );
            }
            assert_eq!(
                daac_bytes.leftmost_find_iter(text).count(),
                expected,
                "daachorse disagrees"
            );
            assert_eq!(
                daac_chars.leftmost_find_iter(text).count(),
                expected,
                "daachorse charwise disagrees"
            );
            if let Some(re) = &alternation {
                assert_eq!(re.find_iter(text).count(), expected, "regex disagrees");
            }
            let mut g = c.benchmark_group(format!("scan/{set_name}/{label}"));
            g.throughput(Throughput::Bytes(text.len() as u64));
            g.sample_size(10);
            g.bench_function(BenchmarkId::new("callqa", ""), |b| {
                b.iter(|| black_box(scanner.scan_normalized(black_box(text)).len()))
            });
            for (name, engine) in &engines {
                g.bench_function(BenchmarkId::new(*name, ""), |b| {
                    b.iter(|| black_box(engine.find_iter(black_box(text)).count()))
                });
            }
            g.bench_function("daachorse bytewise", |b| {
                b.iter(|| black_box(daac_bytes.leftmost_find_iter(black_box(text)).count()))
            });
            g.bench_function("daachorse charwise", |b| {
                b.iter(|| black_box(daac_chars.leftmost_find_iter(black_box(text)).count()))
            });
            if let Some(re) = &alternation {
                g.bench_function("regex alternation", |b| {
                    b.iter(|| black_box(re.find_iter(black_box(text)).count()))
                });
            }
            if set_name == "seed" {
                let finders: Vec<memchr::memmem::Finder> = patterns
                    .iter()
                    .map(|p| memchr::memmem::Finder::new(p.as_bytes()))
                    .collect();
                g.bench_function("memmem per pattern", |b| {
                    b.iter(|| {
                        black_box(
                            finders
                                .iter()
                                .map(|f| f.find_iter(text.as_bytes()).count())
                                .sum::<usize>(),
                        )
                    })
                });
                g.bench_function("memchr absent byte (bandwidth)", |b| {
                    b.iter(|| black_box(memchr::memchr(0xFF, black_box(text.as_bytes()))))
                });
                let raw_slice = if label == "1MiB" {
                    repeat_to(&raw, 1 << 20)
                } else {
                    raw.clone()
                };
                g.throughput(Throughput::Bytes(raw_slice.len() as u64));
                g.bench_function("callqa normalise+scan (raw text)", |b| {
                    b.iter(|| {
                        let n = normalize(black_box(&raw_slice));
                        black_box(scanner.scan_normalized(&n.text).len())
                    })
                });
            }
            g.finish();
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
