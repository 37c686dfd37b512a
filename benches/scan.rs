//! Lexicon scan throughput: callqa's scanner next to the engines it could have used.
//!
//! Corpus: `CALLQA_BENCH_CORPUS` — a folder of JSON-lines files with a `text` field (real
//! customer-service text such as the cs-text-dev set) or a text file of one utterance a line;
//! by default the repository's own `fixtures/scan/helpdesk.txt`. It is repeated to
//! `CALLQA_BENCH_MB` MiB (default 64), normalised (what the scanner sees) and raw (normalise +
//! scan), plus a 1 MiB cache-resident slice. The shipped lexicons also run with phonetic
//! matching on (`Scanner::new`) beside exact only (`Scanner::exact_only`), on raw text and per
//! utterance (as transcripts are scanned). Lexicons: the shipped `lexicons/` and 1k / 10k / 100k synthetic phrases of 2–8 chars
//! cut from the corpus. Every engine uses leftmost-longest semantics and must report the same
//! match count before it is timed; the regex alternation gets its patterns longest first, which
//! makes its leftmost-first rule pick the longest. `memchr` for a byte UTF-8 never contains is the
//! memory-bandwidth ceiling. Build time and heap size of each automaton go to stderr.
//!
//! Quick run: `CALLQA_BENCH_MB=8 CALLQA_BENCH_SIZES= cargo bench --bench scan -- --warm-up-time 1 --measurement-time 2 shipped`

use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use callqa::scan::{Lexicons, Scanner};
use callqa::text::normalize;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

#[path = "../examples/common/corpus.rs"]
mod corpus;

fn corpus_path() -> std::path::PathBuf {
    std::env::var_os("CALLQA_BENCH_CORPUS")
        .map(Into::into)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/scan/helpdesk.txt"))
}

/// Every utterance of the corpus once: `text` of each JSON line of a folder's `*.jsonl`, or
/// each line of a text file.
fn utterances() -> Vec<String> {
    let path = corpus_path();
    let read =
        |p: &Path| std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    if !path.is_dir() {
        return read(&path).lines().map(str::to_owned).collect();
    }
    corpus::jsonl_rows(&path)
        .iter()
        .filter_map(|v| v["text"].as_str().map(str::to_owned))
        .collect()
}

/// Raw corpus of about `mib` MiB: every utterance, one per line, repeated.
fn raw_corpus(mib: usize) -> String {
    let mut one = String::new();
    for u in utterances() {
        one.push_str(&u);
        one.push('\n');
    }
    assert!(
        !one.trim().is_empty(),
        "{}: no text",
        corpus_path().display()
    );
    let mut out = String::with_capacity(mib << 20);
    while out.len() < mib << 20 {
        out.push_str(&one);
    }
    out
}

/// Up to `n` distinct phrases of 2–8 chars cut from `norm` at pseudo-random places (fewer when
/// a small corpus has fewer).
fn synthetic(norm: &str, n: usize) -> Vec<String> {
    let chars: Vec<char> = norm.chars().take(4 << 20).collect();
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(n);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..n * 50 {
        if out.len() == n {
            break;
        }
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let len = 2 + (x % 7) as usize;
        let at = (x >> 8) as usize % (chars.len() - len);
        let w: String = chars[at..at + len].iter().collect();
        if seen.insert(w.clone()) {
            out.push(w);
        }
    }
    out
}

fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let v = f();
    eprintln!("build {what}: {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
    v
}

fn ac(words: &[String], kind: Option<AhoCorasickKind>) -> AhoCorasick {
    AhoCorasick::builder()
        .match_kind(MatchKind::LeftmostLongest)
        .kind(kind)
        .build(words)
        .unwrap_or_else(|e| panic!("aho-corasick {kind:?}: {e}"))
}

/// Leftmost-longest from every pattern's own occurrences, as a careful naive program would.
fn naive_count(words: &[memchr::memmem::Finder], hay: &[u8]) -> usize {
    let mut all: Vec<(usize, usize)> = Vec::new();
    for f in words {
        all.extend(f.find_iter(hay).map(|s| (s, s + f.needle().len())));
    }
    all.sort_unstable_by_key(|&(s, e)| (s, std::cmp::Reverse(e)));
    let mut count = 0;
    let mut next = 0;
    for (s, e) in all {
        if s >= next {
            count += 1;
            next = e;
        }
    }
    count
}

/// Counts matches in a text.
type Engine = Box<dyn Fn(&str) -> usize>;

/// The Aho-Corasick automata of the aho-corasick and daachorse crates over `words`.
fn automata(name: &str, words: &[String]) -> Vec<(String, Engine)> {
    let mut engines: Vec<(String, Engine)> = Vec::new();
    for (label, kind) in [
        ("aho-corasick default", None),
        (
            "aho-corasick nfa-noncontiguous",
            Some(AhoCorasickKind::NoncontiguousNFA),
        ),
        (
            "aho-corasick nfa-contiguous",
            Some(AhoCorasickKind::ContiguousNFA),
        ),
        ("aho-corasick dfa", Some(AhoCorasickKind::DFA)),
    ] {
        let a = timed(&format!("{name} {label}"), || ac(words, kind));
        eprintln!("memory {name} {label}: {} KiB", a.memory_usage() >> 10);
        engines.push((
            label.into(),
            Box::new(move |t: &str| a.find_iter(t).count()),
        ));
    }
    let dc = timed(&format!("{name} daachorse charwise"), || {
        daachorse::CharwiseDoubleArrayAhoCorasickBuilder::new()
            .match_kind(daachorse::MatchKind::LeftmostLongest)
            .build::<_, _, u32>(words)
            .expect("daachorse charwise")
    });
    eprintln!(
        "memory {name} daachorse charwise: {} KiB",
        dc.heap_bytes() >> 10
    );
    engines.push((
        "daachorse charwise".into(),
        Box::new(move |t: &str| dc.leftmost_find_iter(t).count()),
    ));
    let db = timed(&format!("{name} daachorse bytewise"), || {
        daachorse::DoubleArrayAhoCorasickBuilder::new()
            .match_kind(daachorse::MatchKind::LeftmostLongest)
            .build::<_, _, u32>(words)
            .expect("daachorse bytewise")
    });
    eprintln!(
        "memory {name} daachorse bytewise: {} KiB",
        db.heap_bytes() >> 10
    );
    engines.push((
        "daachorse bytewise".into(),
        Box::new(move |t: &str| db.leftmost_find_iter(t).count()),
    ));
    engines
}

/// A regex alternation (longest first) and, for small lexicons, one memmem per pattern.
fn regex_and_naive(name: &str, words: &[String]) -> Vec<(String, Engine)> {
    let mut engines: Vec<(String, Engine)> = Vec::new();
    let mut by_len = words.to_vec();
    by_len.sort_by_key(|w| std::cmp::Reverse(w.len()));
    let alternation = by_len
        .iter()
        .map(|w| regex::escape(w))
        .collect::<Vec<_>>()
        .join("|");
    let built = timed(&format!("{name} regex alternation"), || {
        regex::RegexBuilder::new(&alternation)
            .size_limit(1 << 30)
            .dfa_size_limit(1 << 30)
            .build()
    });
    match built {
        Ok(re) => engines.push((
            "regex alternation".into(),
            Box::new(move |t: &str| re.find_iter(t).count()),
        )),
        Err(e) => eprintln!("regex alternation skipped for {name}: {e}"),
    }
    if words.len() < 1000 {
        let finders: Vec<memchr::memmem::Finder<'static>> = words
            .iter()
            .map(|w| memchr::memmem::Finder::new(w.as_bytes()).into_owned())
            .collect();
        engines.push((
            "naive memmem per pattern".into(),
            Box::new(move |t: &str| naive_count(&finders, t.as_bytes())),
        ));
    }
    engines
}

fn bench_lexicon(
    c: &mut Criterion,
    name: &str,
    lex: &Lexicons,
    words: Vec<String>,
    norm: &str,
    raw: &str,
) {
    let scanner = timed(&format!("{name} callqa"), || {
        Scanner::new(lex).expect("scanner")
    });
    eprintln!("memory {name} callqa: {} KiB", scanner.memory_usage() >> 10);
    let count_callqa = |text: &str| {
        let mut n = 0usize;
        scanner.for_each_normalized(text, |_| n += 1);
        n
    };
    // callqa on each of its engines (`callqa` alone is the default).
    let mut own: Vec<(String, Scanner)> = Vec::new();
    for (label, engine) in [
        ("callqa byte DFA", callqa::scan::Engine::ByteDfa),
        ("callqa charwise", callqa::scan::Engine::Charwise),
    ] {
        let s = timed(&format!("{name} {label}"), || {
            Scanner::with_engine(lex, None, engine).expect("scanner")
        });
        eprintln!("memory {name} {label}: {} KiB", s.memory_usage() >> 10);
        own.push((label.into(), s));
    }
    let mut engines = automata(name, &words);
    engines.extend(regex_and_naive(name, &words));

    let big = format!("{}MiB", norm.len() >> 20);
    for (corpus, text) in [
        (big.as_str(), norm),
        ("1MiB", &norm[..floor(norm, 1 << 20)]),
    ] {
        let expected = engines[0].1(text);
        for (label, f) in &engines {
            let n = f(text);
            // The naive program's own leftmost-longest is only an approximation; the automata
            // must agree exactly.
            if label.starts_with("naive") && n != expected {
                eprintln!("{label}: {n} matches on {name}/{corpus}, the automata {expected}");
                continue;
            }
            assert_eq!(n, expected, "{label} disagrees on {name}/{corpus}");
        }
        let ours = count_callqa(text);
        // The shipped lexicon has exclusions, nested other-lexicon phrases and regexes on top of
        // the plain automaton, so only the synthetic lexicons must agree exactly.
        if name != "shipped" {
            assert_eq!(ours, expected, "callqa disagrees on {name}/{corpus}");
        }
        eprintln!("matches {name}/{corpus}: engines {expected}, callqa {ours}");
        let mut g = c.benchmark_group(format!("scan/{name}/{corpus}"));
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.sample_size(10);
        g.bench_function("callqa", |b| b.iter(|| count_callqa(black_box(text))));
        for (label, s) in &own {
            let count = |t: &str| {
                let mut n = 0usize;
                s.for_each_normalized(t, |_| n += 1);
                n
            };
            assert_eq!(count(text), ours, "{label} disagrees on {name}/{corpus}");
            g.bench_function(label.as_str(), |b| b.iter(|| count(black_box(text))));
        }
        for (label, f) in &engines {
            g.bench_function(label.as_str(), |b| b.iter(|| f(black_box(text))));
        }
        g.bench_function("memchr absent byte (bandwidth)", |b| {
            b.iter(|| memchr::memchr(0xFF, black_box(text.as_bytes())))
        });
        g.finish();
    }
    let mut g = c.benchmark_group(format!("scan/{name}/raw"));
    g.throughput(Throughput::Bytes(raw.len() as u64));
    g.sample_size(10);
    g.bench_function("callqa normalize+scan", |b| {
        b.iter(|| count_callqa(normalize(black_box(raw)).as_str()))
    });
    g.bench_function("normalize only", |b| {
        b.iter(|| normalize(black_box(raw)).as_str().len())
    });
    g.finish();
}

/// Exact-only against phonetic matching with the shipped lexicons, each the full
/// `scan_normalized` (dedup and merge included): on the raw corpus as one text, and utterance
/// by utterance as transcripts are scanned.
fn bench_phonetic(c: &mut Criterion, lex: &Lexicons, raw: &str) {
    let exact = Scanner::exact_only(lex).expect("exact scanner");
    let phonetic = timed("shipped phonetic", || Scanner::new(lex).expect("scanner"));
    let lines: Vec<&str> = raw.lines().collect();
    let whole = |s: &Scanner, t: &str| s.scan_normalized(normalize(t).as_str()).len();
    let per_line = |s: &Scanner| {
        lines
            .iter()
            .map(|l| s.scan_normalized(normalize(l).as_str()).len())
            .sum::<usize>()
    };
    eprintln!(
        "matches shipped/raw: exact {} / {} per line, phonetic {} / {} per line",
        whole(&exact, raw),
        per_line(&exact),
        whole(&phonetic, raw),
        per_line(&phonetic)
    );
    let mut g = c.benchmark_group("scan/shipped/phonetic");
    g.throughput(Throughput::Bytes(raw.len() as u64));
    g.sample_size(10);
    g.bench_function("normalize+scan exact only", |b| {
        b.iter(|| whole(&exact, black_box(raw)))
    });
    g.bench_function("normalize+scan phonetic", |b| {
        b.iter(|| whole(&phonetic, black_box(raw)))
    });
    g.bench_function("per utterance exact only", |b| {
        b.iter(|| per_line(black_box(&exact)))
    });
    g.bench_function("per utterance phonetic", |b| {
        b.iter(|| per_line(black_box(&phonetic)))
    });
    g.finish();
}

fn floor(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn benches(c: &mut Criterion) {
    let mib = std::env::var("CALLQA_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let raw = raw_corpus(mib);
    let norm = normalize(&raw).as_str().to_owned();
    eprintln!(
        "corpus: {} MiB raw, {} MiB normalised",
        raw.len() >> 20,
        norm.len() >> 20
    );

    let shipped = Lexicons::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("lexicons"))
        .expect("lexicons");
    let scanner = Scanner::new(&shipped).expect("scanner");
    let words = scanner.pattern_words();
    bench_lexicon(c, "shipped", &shipped, words, &norm, &raw);
    bench_phonetic(c, &shipped, &raw);

    let only = std::env::var("CALLQA_BENCH_SIZES").unwrap_or_else(|_| "1000,10000,100000".into());
    for n in only
        .split(',')
        .filter_map(|s| s.trim().parse::<usize>().ok())
    {
        let words = synthetic(&norm, n);
        if words.len() < n {
            eprintln!(
                "{n} synthetic phrases skipped: the corpus has only {} distinct",
                words.len()
            );
            continue;
        }
        let text: String = words.iter().map(|w| format!("{w}\n")).collect();
        let lex = Lexicons::from_sources([(Path::new("synthetic.txt"), text.as_str())])
            .expect("synthetic lexicon");
        bench_lexicon(c, &format!("{}k", n / 1000), &lex, words, &norm, &raw);
    }
}

criterion_group!(scan, benches);
criterion_main!(scan);
