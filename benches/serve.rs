//! Load benchmark of `callqa serve` (issue 17): a store of scored calls, then concurrent
//! clients on 127.0.0.1 browsing the queue with filters, opening calls (API and pages) and
//! reviewing the calls assigned to them, for a bounded time. Prints p50/p99 latency per kind of
//! request and the throughput.
//!
//! `cargo bench --bench serve`; `CALLQA_BENCH_CALLS` (default 100000), `CALLQA_BENCH_CLIENTS`
//! (50) and `CALLQA_BENCH_SECS` (20) change the size; `CALLQA_BENCH_DIR` keeps the store there
//! and reuses it. The calls are synthetic (8 lines, 0–3
//! deductions of real rubric rules, 200 agents over two months): the server never re-scores,
//! so only their size and spread matter.

#[path = "../tests/common/http.rs"]
mod http;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use callqa::score::{ResultSegment, Status};
use callqa::store::review::{self, Role, SamplePlan, User};
use callqa::store::{Keys, Store};
use callqa::{AgentChannel, CallMeta, CallResult, Deduction, Direction};
use http::Client;
use serde_json::json;

const PASSWORD: &str = "bench password";
const AGENTS: usize = 200;
const INSPECTORS: usize = 10;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Call `i`: agent `i % 200`, spread over October and November 2026, one in three flagged.
fn call(i: usize) -> (CallMeta, CallResult) {
    let day = i % 61;
    let (month, dom) = if day < 31 {
        (10, day + 1)
    } else {
        (11, day - 30)
    };
    let started_at = chrono::DateTime::parse_from_rfc3339(&format!(
        "2026-{month:02}-{dom:02}T{:02}:{:02}:00+08:00",
        9 + i % 9,
        i % 60
    ))
    .expect("time");
    let meta = CallMeta {
        call_id: format!("C{i:07}"),
        audio: format!("rec/C{i:07}.wav").into(),
        agent_id: format!("A{:03}", i % AGENTS),
        started_at,
        direction: Direction::Inbound,
        agent_channel: AgentChannel::Left,
        extra: Default::default(),
    };
    let mut r = CallResult::for_call(&meta);
    r.rubric = "客服".into();
    r.max_score = 100.0;
    r.duration_ms = 60_000;
    let lines = [
        (callqa::Role::Agent, "您好，客服中心，请问有什么可以帮您？"),
        (callqa::Role::Customer, "我的宽带又断了，你们怎么回事？"),
        (callqa::Role::Agent, "请您稍等，我帮您查询一下。"),
        (callqa::Role::Customer, "好的。"),
        (callqa::Role::Agent, "让您久等了，是线路故障，今天会修复。"),
        (callqa::Role::Customer, "那好吧。"),
        (callqa::Role::Agent, "还有其他可以帮您的吗？"),
        (callqa::Role::Agent, "感谢您的来电，再见。"),
    ];
    r.segments = lines
        .iter()
        .enumerate()
        .map(|(k, (role, text))| ResultSegment {
            role: *role,
            start_ms: k as u64 * 7_000,
            end_ms: k as u64 * 7_000 + 5_000,
            text: text.to_string(),
        })
        .collect();
    let rules: &[(&str, &str, f64)] = match i % 6 {
        0 => &[("4", "4.1", 20.0)],
        1 => &[("1", "1.1", 10.0), ("2", "2.3", 15.0)],
        _ => &[],
    };
    r.deductions = rules
        .iter()
        .map(|&(item, rule, points)| Deduction {
            item: item.into(),
            rule: rule.into(),
            points,
            reason: "bench".into(),
            words: "你们怎么回事".into(),
            evidence: Vec::new(),
            start_ms: 7_000,
            end_ms: 12_000,
        })
        .collect();
    r.score = 100.0 - rules.iter().map(|r| r.2).sum::<f64>();
    r.manual = vec!["4.3 服务态度".into(), "4.5 业务准确".into()];
    r.status = Status::Ok;
    (meta, r)
}

fn build(dir: &Path, calls: usize) {
    let store = Store::open(dir).expect("open store");
    for i in 0..calls {
        let (meta, result) = call(i);
        store
            .put_result(&meta, &Keys::input("bench"), &result)
            .expect("store a call");
    }
    let admin = User {
        name: "bench".into(),
        role: Role::Admin,
        agent_id: None,
    };
    review::add_user(&store, "bench", "boss", Role::Supervisor, None, PASSWORD).expect("user");
    let inspectors: Vec<String> = (0..INSPECTORS).map(|k| format!("insp{k}")).collect();
    for name in &inspectors {
        review::add_user(&store, "bench", name, Role::Inspector, None, PASSWORD).expect("user");
    }
    review::sync_index(&store).expect("index");
    let plan = SamplePlan {
        per_agent: 10,
        per_day: false,
        all_flagged: false,
        inspectors,
        seed: 17,
        month: None,
    };
    review::assign_sample(&store, &admin, &plan).expect("assign");
}

/// What one client does on its `n`-th request, and the kind it is counted as.
fn step(c: &Client, n: usize, reviewer: bool, calls: usize) -> (&'static str, u16) {
    let id = format!("C{:07}", (n * 7919 + c.addr.port() as usize) % calls);
    let agent = format!("A{:03}", n % AGENTS);
    match n % 10 {
        0 | 1 => ("queue api", c.get("/api/calls").status),
        2 => (
            "queue api: agent + month",
            c.get(&format!("/api/calls?agent_id={agent}&month=2026-10"))
                .status,
        ),
        3 => (
            "queue api: flagged + rule",
            c.get("/api/calls?flagged=true&rule=4.1").status,
        ),
        4 | 5 => (
            "queue page",
            c.get(&format!("/?state=assigned&agent_id={agent}")).status,
        ),
        6 | 7 if !reviewer => ("call api", c.get(&format!("/api/calls/{id}")).status),
        8 if !reviewer => ("call page", c.get(&format!("/calls/{id}")).status),
        _ if reviewer => review_one(c),
        _ => ("call page", c.get(&format!("/calls/{id}")).status),
    }
}

/// An inspector opens their oldest assigned call and publishes it with every deduction confirmed.
fn review_one(c: &Client) -> (&'static str, u16) {
    let list = c.get("/api/calls?state=assigned&limit=1").json();
    let Some(id) = list["calls"][0]["call_id"].as_str().map(str::to_string) else {
        return ("queue api", 200);
    };
    let call = c.get(&format!("/calls/{id}"));
    if call.status != 200 {
        return ("call page", call.status);
    }
    let body = json!({"decisions": [], "manual": [{"rule": "4.3", "na": true}], "publish": true});
    (
        "review",
        c.post(&format!("/api/calls/{id}/review"), &body).status,
    )
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// One thing a client did: its kind, how long it took, the status.
type Seen = (&'static str, Duration, u16);

/// `clients` threads logged in (the first ten as inspectors who review, the rest as the
/// supervisor browsing) sending requests one after another until `secs` have passed. The
/// clock starts once every client has logged in: fifty argon2 logins at once take seconds of
/// CPU, and timing browsing during them would measure the logins.
fn run_clients(addr: std::net::SocketAddr, clients: usize, secs: u64, calls: usize) -> Vec<Seen> {
    let ready = std::sync::Arc::new(std::sync::Barrier::new(clients));
    let workers: Vec<_> = (0..clients)
        .map(|k| {
            let ready = std::sync::Arc::clone(&ready);
            std::thread::spawn(move || {
                let reviewer = k < INSPECTORS;
                let user = if reviewer {
                    format!("insp{k}")
                } else {
                    "boss".into()
                };
                let mut c = Client {
                    addr,
                    cookie: None,
                    csrf: None,
                };
                assert_eq!(c.login(&user, PASSWORD).status, 200, "login {user}");
                ready.wait();
                let deadline = Instant::now() + Duration::from_secs(secs);
                let mut seen: Vec<Seen> = Vec::new();
                let mut n = k;
                while Instant::now() < deadline {
                    let t = Instant::now();
                    let (kind, status) = step(&c, n, reviewer, calls);
                    seen.push((kind, t.elapsed(), status));
                    n += 1;
                }
                seen
            })
        })
        .collect();
    workers
        .into_iter()
        .flat_map(|w| w.join().expect("client thread"))
        .collect()
}

fn main() {
    let calls = env_or("CALLQA_BENCH_CALLS", 100_000);
    let clients = env_or("CALLQA_BENCH_CLIENTS", 50);
    let secs = env_or("CALLQA_BENCH_SECS", 20) as u64;
    // CALLQA_BENCH_DIR keeps the store between runs (built once, reused while it exists).
    let temp = tempfile::tempdir().expect("tempdir");
    let dir = std::env::var_os("CALLQA_BENCH_DIR").map_or(temp.path().to_path_buf(), Into::into);
    if !dir.join("callqa.db").exists() {
        let t = Instant::now();
        build(&dir, calls);
        eprintln!(
            "store of {calls} calls built in {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    let t = Instant::now();
    let mut server = Command::new(env!("CARGO_BIN_EXE_callqa"))
        .args(["serve", "--listen", "127.0.0.1:0", "--out"])
        .arg(&dir)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start callqa serve");
    let mut line = String::new();
    BufReader::new(server.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("address line");
    let addr: std::net::SocketAddr = line
        .trim()
        .rsplit("http://")
        .next()
        .and_then(|a| a.parse().ok())
        .expect("address");
    eprintln!(
        "server up (index built) in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let seen = run_clients(addr, clients, secs, calls);
    let mut by_kind: BTreeMap<&str, Vec<Duration>> = BTreeMap::new();
    let mut failed = 0;
    let mut total = 0;
    for (kind, d, status) in seen {
        total += 1;
        if status >= 400 {
            failed += 1;
        }
        by_kind.entry(kind).or_default().push(d);
    }
    let _ = server.kill();
    let _ = server.wait();
    println!("| request | count | p50 ms | p99 ms |");
    println!("|---|---|---|---|");
    for (kind, mut ds) in by_kind {
        ds.sort();
        println!(
            "| {kind} | {} | {:.1} | {:.1} |",
            ds.len(),
            percentile(&ds, 0.5),
            percentile(&ds, 0.99)
        );
    }
    println!(
        "{total} requests in {secs} s from {clients} clients: {:.0} requests/s, {failed} failed",
        total as f64 / secs as f64
    );
}
