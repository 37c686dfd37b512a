//! Phonetic lexicon matching measured: false hits on real agent speech, and recall on the dev set.
//!
//! `cargo run --release --example scan_eval -- DATA_DIR [LEXICONS_DIR]`
//!
//! DATA_DIR holds JSON-lines files of real customer-service text (`role`, `text`; e.g. the
//! cs-text-dev set). Every `agent` utterance is scanned with every lexicon's phonetic matching
//! on (whatever its `@phonetic` line says), and every 服务禁语 hit counts as a false hit: real
//! helpdesk agents (almost) never say them. Then the dev set `fixtures/phonetic/devset.tsv` is
//! scored per set and lexicon. Prints Markdown tables for the README. Customer utterances are
//! scanned too and their phonetic hits listed: customers do say rude things, so those are for
//! reading, not counting. `CALLQA_TOLERANCE=h,c,a,e,t` (homophone, one confusable, one other
//! inside, one other at an edge, two confusable; default 4,5,7,9,8) tries other thresholds.

#[path = "../tests/devset/mod.rs"]
mod devset;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use callqa::scan::{Lexicons, MatchKind, PhoneticMode, Scanner, Tolerance};

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1).map(PathBuf::from);
    let Some(data) = args.next() else {
        eprintln!(
            "usage: scan_eval DATA_DIR [LEXICONS_DIR] — DATA_DIR holds *.jsonl with role and text"
        );
        return ExitCode::from(2);
    };
    let lexicons = args
        .next()
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("lexicons"));
    let lex = match Lexicons::load_dir(&lexicons) {
        Ok(l) => l.with_phonetic_mode(PhoneticMode::Review),
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let tolerance = match std::env::var("CALLQA_TOLERANCE") {
        Ok(v) => match tolerance(&v) {
            Some(t) => t,
            None => {
                eprintln!("CALLQA_TOLERANCE={v}: write five numbers, e.g. 4,5,7,9,8");
                return ExitCode::from(2);
            }
        },
        Err(_) => Tolerance::default(),
    };
    let built = (
        Scanner::with_phonetic(&lex, Some(tolerance)),
        Scanner::exact_only(&lex),
    );
    let (Ok(phonetic), Ok(exact)) = built else {
        eprintln!("{}: cannot build the scanner", lexicons.display());
        return ExitCode::from(2);
    };
    let (agents, customers) = match utterances(&data) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{}: {e} — pass the folder of *.jsonl files", data.display());
            return ExitCode::from(2);
        }
    };
    println!("tolerance: {tolerance:?}\n");
    false_hits(&phonetic, &exact, &agents);
    customer_hits(&phonetic, &customers);
    dev_set(&phonetic);
    ExitCode::SUCCESS
}

fn tolerance(v: &str) -> Option<Tolerance> {
    let n: Vec<usize> = v
        .split(',')
        .map(|x| x.trim().parse().ok())
        .collect::<Option<_>>()?;
    let [homophone_min, one_confusable_min, one_any_min, one_any_edge_min, two_min] = n[..] else {
        return None;
    };
    Some(Tolerance {
        homophone_min,
        one_confusable_min,
        one_any_min,
        one_any_edge_min,
        two_min,
    })
}

/// Agent and customer utterances of every `*.jsonl` of `dir`.
fn utterances(dir: &Path) -> std::io::Result<(Vec<String>, Vec<String>)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    let (mut agents, mut customers) = (Vec::new(), Vec::new());
    for f in files {
        for line in std::fs::read_to_string(&f)?.lines() {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            let Some(t) = v["text"].as_str() else {
                continue;
            };
            match v["role"].as_str() {
                Some("agent") => agents.push(t.to_owned()),
                Some("customer") => customers.push(t.to_owned()),
                _ => {}
            }
        }
    }
    Ok((agents, customers))
}

fn customer_hits(scanner: &Scanner, customers: &[String]) {
    let mut lines = Vec::new();
    let mut counts = [0usize; 3];
    for t in customers {
        for h in scanner.scan_text(t) {
            if devset::FORBIDDEN.contains(&h.entry.category.as_str()) {
                counts[h.kind as usize] += 1;
                if h.kind != MatchKind::Exact {
                    let words: String = t.chars().skip(h.start).take(h.end - h.start).collect();
                    lines.push(format!(
                        "  {} {} 「{words}」 ≈ 「{}」 in {t}",
                        h.entry.rule,
                        h.kind.as_str(),
                        h.entry.phrase
                    ));
                }
            }
        }
    }
    println!(
        "\n## 服务禁语 hits on {} customer utterances (customers may say them)\n\nexact {}, homophone {}, near {}",
        customers.len(),
        counts[0],
        counts[1],
        counts[2]
    );
    for l in lines {
        println!("{l}");
    }
}

fn false_hits(phonetic: &Scanner, exact: &Scanner, agents: &[String]) {
    let mut counts = [0usize; 3];
    let mut exact_only = 0;
    let mut lines = Vec::new();
    for t in agents {
        for h in phonetic.scan_text(t) {
            if devset::FORBIDDEN.contains(&h.entry.category.as_str()) {
                counts[h.kind as usize] += 1;
                let words: String = t.chars().skip(h.start).take(h.end - h.start).collect();
                lines.push(format!(
                    "  {} {} 「{words}」 in {t}",
                    h.entry.rule,
                    h.kind.as_str()
                ));
            }
        }
        exact_only += exact
            .scan_text(t)
            .iter()
            .filter(|h| devset::FORBIDDEN.contains(&h.entry.category.as_str()))
            .count();
    }
    let n = agents.len();
    let total: usize = counts.iter().sum();
    println!("## False 服务禁语 hits on {n} real agent utterances (every phonetic mode on)\n");
    println!("| match | hits | per 1,000 utterances |\n|---|---|---|");
    for (kind, c) in [MatchKind::Exact, MatchKind::Homophone, MatchKind::Near]
        .iter()
        .zip(counts)
    {
        println!("| {} | {c} | {:.2} |", kind.as_str(), per_mille(c, n));
    }
    println!("| all | {total} | {:.2} |", per_mille(total, n));
    println!(
        "| exact-only scanner | {exact_only} | {:.2} |\n",
        per_mille(exact_only, n)
    );
    for l in lines {
        println!("{l}");
    }
}

fn per_mille(c: usize, n: usize) -> f64 {
    c as f64 * 1000.0 / n.max(1) as f64
}

fn dev_set(scanner: &Scanner) {
    let rows = devset::load();
    let outcomes = devset::run(scanner, &rows);
    println!("\n## Dev set (fixtures/phonetic/devset.tsv)\n");
    println!("| set | lexicon | found / rows | rate |\n|---|---|---|---|");
    for ((set, lexicon), (found, total)) in devset::by_set_and_lexicon(&outcomes) {
        let rate = found as f64 / total.max(1) as f64;
        println!("| {set} | {lexicon} | {found} / {total} | {rate:.2} |");
    }
    println!("\n| set | found / rows | rate |\n|---|---|---|");
    for (set, (found, total)) in devset::by_set(&outcomes) {
        println!(
            "| {set} | {found} / {total} | {:.2} |",
            found as f64 / total.max(1) as f64
        );
    }
    let mut kinds = std::collections::BTreeMap::<(String, &str), usize>::new();
    for o in outcomes.iter().filter(|o| o.ok && o.row.expect.is_some()) {
        if let Some(h) = o.hits.iter().find(|h| Some(&h.0) == o.row.expect.as_ref()) {
            *kinds.entry((o.row.set.clone(), h.1.as_str())).or_default() += 1;
        }
    }
    println!("\nFound as: {kinds:?}\n");
    for o in outcomes.iter().filter(|o| !o.ok) {
        println!(
            "  missed devset.tsv:{} {} {} {:?}",
            o.row.line, o.row.set, o.row.text, o.hits
        );
    }
}
