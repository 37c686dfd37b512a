//! `callqa serve` as its users meet it: the real binary on 127.0.0.1 with a free port, over a
//! store filled by `callqa score` from the fixture calls' scripts, driven by a plain HTTP/1.1
//! client. The security cases of issue 17 (no session, another agent's call, CSRF, escaping,
//! SQL metacharacters, login rate limit, session fixation), the audio Range answers, and the
//! whole workflow: assign → review → publish → appeal → overturn → settled version 2.

#[path = "common/browser.rs"]
mod browser;
mod common;
#[path = "common/http.rs"]
mod http;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Stdio};

use common::TestEnv;
use http::Client;
use serde_json::{json, Value};

const PASSWORD: &str = "correct horse 1";
const XSS: &str = "<script>alert(1)</script>";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fixture's script as a `callqa score` input line.
fn script_line(fixture: &str, call_id: &str, agent_id: &str) -> String {
    let path = repo()
        .join("fixtures")
        .join(format!("{fixture}.truth.json"));
    let truth: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture truth"))
            .expect("json");
    let segments: Vec<Value> = truth["turns"]
        .as_array()
        .expect("turns")
        .iter()
        .map(|t| json!({"role": t["role"], "start_ms": t["start_ms"], "end_ms": t["end_ms"], "text": t["text"]}))
        .collect();
    json!({
        "call_id": call_id, "agent_id": agent_id,
        "started_at": "2026-11-18T14:00:00+08:00", "direction": "inbound",
        "duration_ms": truth["duration_ms"], "segments": segments,
    })
    .to_string()
}

/// Runs `callqa ARGS` in the test folder with `stdin`; panics with stderr on failure.
fn callqa(env: &TestEnv, args: &[&str], stdin: &str) -> String {
    let out = assert_cmd::Command::from_std(common::callqa_command())
        .current_dir(env.dir.path())
        .env("XDG_CONFIG_HOME", env.path(".config"))
        .args(args)
        .write_stdin(stdin)
        .output()
        .expect("run callqa");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "callqa {args:?} failed: {stderr}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Three scored calls — `c1` of agent a1, `c2` of a2, `c3` of an agent id that is markup —
/// all from the bad inbound script, and the users of every role.
fn scored_folder() -> TestEnv {
    let env = TestEnv::new();
    let lines = [
        script_line("bad_inbound", "c1", "a1"),
        script_line("bad_inbound", "c2", "a2"),
        script_line("bad_inbound", "c3", XSS),
        script_line("good_inbound", "c4", "a1"),
    ];
    env.write("in.jsonl", &(lines.join("\n") + "\n"));
    callqa(
        &env,
        &["score", "--transcripts", "in.jsonl", "--out", "out"],
        "",
    );
    add_users(&env, "out");
    env
}

/// One user of every role in output folder `out`: insp, boss, ag1 (agent a1), ag2 (agent a2).
fn add_users(env: &TestEnv, out: &str) {
    for (name, role, agent) in [
        ("insp", "inspector", None),
        ("boss", "supervisor", None),
        ("ag1", "agent", Some("a1")),
        ("ag2", "agent", Some("a2")),
    ] {
        let mut args = vec!["user", "add", name, "--role", role, "--out", out];
        if let Some(a) = agent {
            args.extend(["--agent-id", a]);
        }
        callqa(env, &args, &format!("{PASSWORD}\n"));
    }
}

/// A review plan on the first two rubric items the call lost points on: every deduction of the
/// first is rejected (its item's points come back), the point-carrying deduction of the second
/// is confirmed and its other sub-rules rejected, so overturning that one on appeal gives the
/// second item's points back too (forfeit-once keeps them while any sub-rule stands).
/// Returns (ids to reject, the id to confirm, points refunded by the review, by the appeal).
fn plan(call: &Value) -> (Vec<u64>, u64, f64, f64) {
    let deductions = call["deductions"].as_array().expect("deductions");
    let mut per_item: std::collections::BTreeMap<&str, Vec<&Value>> = Default::default();
    for d in deductions {
        per_item
            .entry(d["item"].as_str().expect("item"))
            .or_default()
            .push(d);
    }
    let items: Vec<&Vec<&Value>> = per_item.values().take(2).collect();
    assert_eq!(
        items.len(),
        2,
        "two items with deductions in {deductions:?}"
    );
    let id = |d: &Value| d["id"].as_u64().expect("id");
    let points = |ds: &[&Value]| {
        ds.iter()
            .map(|d| d["points"].as_f64().expect("points"))
            .sum::<f64>()
    };
    let carrier = items[1]
        .iter()
        .find(|d| d["points"].as_f64() > Some(0.0))
        .expect("a deduction carrying the item's points");
    let mut reject: Vec<u64> = items[0].iter().map(|d| id(d)).collect();
    reject.extend(items[1].iter().map(|d| id(d)).filter(|&i| i != id(carrier)));
    (reject, id(carrier), points(items[0]), points(items[1]))
}

/// A running `callqa serve`, killed when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start(env: &TestEnv, out: &str) -> Server {
        let mut child = common::callqa_command()
            .current_dir(env.dir.path())
            .env("XDG_CONFIG_HOME", env.path(".config"))
            .args(["serve", "--out", out, "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start callqa serve");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the address line");
        let addr = line
            .trim()
            .rsplit("http://")
            .next()
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        Server { child, addr }
    }

    fn client(&self) -> Client {
        Client {
            addr: self.addr,
            cookie: None,
            csrf: None,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn logged_in(server: &Server, user: &str) -> Client {
    let mut c = server.client();
    let r = c.login(user, PASSWORD);
    assert_eq!(r.status, 200, "{user} logs in: {}", r.text());
    c
}

fn ids(list: &Value) -> Vec<String> {
    let mut v: Vec<String> = list["calls"]
        .as_array()
        .expect("calls")
        .iter()
        .map(|c| c["call_id"].as_str().expect("call_id").to_string())
        .collect();
    v.sort();
    v
}

/// Assigns `call` to insp and publishes it with every deduction confirmed.
fn publish(server: &Server, call: &str) {
    let boss = logged_in(server, "boss");
    let r = boss.post(
        &format!("/api/calls/{call}/assign"),
        &json!({"inspector": "insp"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let insp = logged_in(server, "insp");
    let r = insp.post(
        &format!("/api/calls/{call}/review"),
        &json!({"publish": true}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn without_a_session_only_healthz_and_login_answer() {
    let env = scored_folder();
    let server = Server::start(&env, "out");
    let anon = server.client();
    assert_eq!(anon.get("/healthz").status, 200);
    assert_eq!(anon.get("/login").status, 200);
    for page in ["/", "/calls/c1", "/admin", "/?state=published"] {
        let r = anon.get(page);
        assert_eq!(r.status, 303, "{page}");
        assert_eq!(r.header("location"), Some("/login"), "{page}");
    }
    for api in [
        "/api/calls",
        "/api/calls/c1",
        "/api/calls/c1/audio",
        "/api/me",
    ] {
        assert_eq!(anon.get(api).status, 401, "{api}");
    }
    let r = anon.post("/api/calls/c1/review", &json!({"publish": true}));
    assert_eq!(r.status, 401);
    // A made-up cookie is no session either.
    let mut forged = server.client();
    forged.cookie = Some("0".repeat(64));
    assert_eq!(forged.get("/api/calls").status, 401);
}

#[test]
fn a_wrong_password_is_401_and_repeated_failures_are_rate_limited() {
    let env = scored_folder();
    let server = Server::start(&env, "out");
    let mut c = server.client();
    for _ in 0..5 {
        assert_eq!(c.login("insp", "wrong password").status, 401);
    }
    // Now even the right password waits: the user's limit is reached.
    let r = c.login("insp", PASSWORD);
    assert_eq!(r.status, 429, "{}", r.text());
    assert!(r.header("retry-after").is_some());
    // Another user from the same address is not locked out by insp's failures...
    assert_eq!(c.login("boss", PASSWORD).status, 200);
    // ...until the address's own limit is reached.
    for i in 0..15 {
        assert_eq!(c.login(&format!("nobody{i}"), "x").status, 401);
    }
    assert_eq!(c.login("ag1", PASSWORD).status, 429);
}

#[test]
fn the_session_id_changes_at_login_and_the_old_one_stops_working() {
    let env = scored_folder();
    let server = Server::start(&env, "out");
    let mut c = server.client();
    let r = c.login("insp", PASSWORD);
    let set = r.header("set-cookie").expect("cookie").to_string();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(attr), "{attr} in {set}");
    }
    let first = c.cookie.clone().expect("first session");
    assert_eq!(c.get("/api/me").status, 200);
    // Logging in again while presenting the first id (as a planted one would be) replaces it.
    c.login("insp", PASSWORD);
    let second = c.cookie.clone().expect("second session");
    assert_ne!(first, second);
    assert_eq!(c.get("/api/me").status, 200);
    c.cookie = Some(first);
    assert_eq!(c.get("/api/me").status, 401);
}

#[test]
fn state_changes_need_the_sessions_csrf_token() {
    let env = scored_folder();
    let server = Server::start(&env, "out");
    let mut boss = logged_in(&server, "boss");
    let body = json!({"inspector": "insp"}).to_string();
    let missing = boss.send("POST", "/api/calls/c1/assign", &[], Some(&body));
    assert_eq!(missing.status, 403, "{}", missing.text());
    let wrong = boss.send(
        "POST",
        "/api/calls/c1/assign",
        &[("X-CSRF-Token", &"f".repeat(64))],
        Some(&body),
    );
    assert_eq!(wrong.status, 403);
    // Another session's token does not do either.
    let other = logged_in(&server, "insp").csrf;
    let token = boss.csrf.clone();
    boss.csrf = other;
    assert_eq!(
        boss.post("/api/calls/c1/assign", &json!({"inspector": "insp"}))
            .status,
        403
    );
    boss.csrf = token;
    let ok = boss.post("/api/calls/c1/assign", &json!({"inspector": "insp"}));
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert_eq!(ok.json()["state"], "assigned");
}

#[test]
fn agents_see_only_their_own_published_calls() {
    let env = scored_folder();
    let server = Server::start(&env, "out");
    let ag1 = logged_in(&server, "ag1");
    assert!(
        ids(&ag1.get("/api/calls").json()).is_empty(),
        "nothing published yet"
    );
    assert_eq!(ag1.get("/api/calls/c1").status, 404);
    publish(&server, "c1");
    publish(&server, "c2");
    assert_eq!(ids(&ag1.get("/api/calls").json()), ["c1"]);
    // Asking for someone else's call by id, or filtering for their agent id, shows nothing.
    for path in ["/api/calls/c2", "/api/calls/c2/audio", "/calls/c2"] {
        assert_eq!(ag1.get(path).status, 404, "{path}");
    }
    assert!(ids(&ag1.get("/api/calls?agent_id=a2").json()).is_empty());
    let appeal = ag1.post(
        "/api/calls/c2/appeal",
        &json!({"deduction": 0, "reason": "x"}),
    );
    assert_eq!(appeal.status, 404);
    // An inspector sees the calls assigned to them; a supervisor sees everything.
    assert_eq!(
        ids(&logged_in(&server, "insp").get("/api/calls").json()),
        ["c1", "c2"]
    );
    assert_eq!(
        ids(&logged_in(&server, "boss").get("/api/calls").json()).len(),
        4
    );
}

#[test]
fn markup_in_comments_and_agent_ids_comes_back_escaped() {
    let env = scored_folder();
    let server = Server::start(&env, "out");
    let boss = logged_in(&server, "boss");
    boss.post("/api/calls/c3/assign", &json!({"inspector": "boss"}));
    let r = boss.post(
        "/api/calls/c3/review",
        &json!({"decisions": [{"deduction": 0, "decision": "reject", "comment": XSS}]}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    for page in ["/calls/c3", "/", "/admin"] {
        let html = boss.get(page).text();
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{page}: {html}"
        );
        assert!(!html.contains(XSS), "{page} carries raw markup");
    }
    // JSON carries it as data, with a JSON content type a browser will not render.
    let r = boss.get("/api/calls/c3");
    assert!(r
        .header("content-type")
        .unwrap_or_default()
        .starts_with("application/json"));
    assert_eq!(r.json()["deductions"][0]["comment"], XSS);
    assert!(r
        .header("content-security-policy")
        .unwrap_or_default()
        .contains("script-src 'self'"));
}

/// Keyset pagination: `next` from a full page, passed as `after`, gives the rest, newest
/// first, without repeats.
#[test]
fn the_queue_pages_by_cursor() {
    let env = scored_folder();
    let server = Server::start(&env, "out");
    let boss = logged_in(&server, "boss");
    let first = boss.get("/api/calls?limit=3").json();
    let next = first["next"].as_str().expect("a cursor after a full page");
    let cursor = next.replace('+', "%2B").replace('|', "%7C");
    let rest = boss
        .get(&format!("/api/calls?limit=3&after={cursor}"))
        .json();
    assert_eq!(rest["next"], Value::Null, "{rest}");
    let mut seen = ids(&first);
    seen.extend(ids(&rest));
    seen.sort();
    assert_eq!(seen, ["c1", "c2", "c3", "c4"]);
}

#[test]
fn sql_metacharacters_in_filters_are_plain_text() {
    let env = scored_folder();
    let server = Server::start(&env, "out");
    let boss = logged_in(&server, "boss");
    let attacks = [
        "agent_id=%27%20OR%20%271%27%3D%271",
        "month=2026-11%27%3B%20DROP%20TABLE%20call_index%3B%20--",
        "state=published%27%20OR%201%3D1%20--",
        "rule=%25",
        "category=%27)%20OR%20(%271%27%3D%271",
    ];
    for q in attacks {
        let r = boss.get(&format!("/api/calls?{q}"));
        assert_eq!(r.status, 200, "{q}: {}", r.text());
        assert!(ids(&r.json()).is_empty(), "{q} matched calls");
        assert_eq!(boss.get(&format!("/?{q}")).status, 200, "page with {q}");
    }
    // The tables are intact and the real filters work.
    assert_eq!(ids(&boss.get("/api/calls").json()).len(), 4);
    assert_eq!(
        ids(&boss.get("/api/calls?agent_id=a1").json()),
        ["c1", "c4"]
    );
    assert_eq!(
        ids(&boss.get("/api/calls?flagged=true&agent_id=a1").json()),
        ["c1"]
    );
    assert_eq!(
        ids(&boss.get("/api/calls?month=2026-11&rule=4.6").json()).len(),
        3
    );
    assert_eq!(
        ids(&boss.get("/api/calls?category=%E5%8F%8D%E9%97%AE").json()).len(),
        3
    );
}

#[test]
fn review_publish_appeal_overturn_gives_a_settled_second_version() {
    let env = scored_folder();
    let server = Server::start(&env, "out");
    let boss = logged_in(&server, "boss");
    let insp = logged_in(&server, "insp");
    let ag1 = logged_in(&server, "ag1");
    // The inspector cannot review what is not assigned to them.
    let early = insp.post("/api/calls/c1/review", &json!({"publish": true}));
    assert_eq!(early.status, 404, "{}", early.text());
    boss.post("/api/calls/c1/assign", &json!({"inspector": "insp"}));
    let call = insp.get("/api/calls/c1").json();
    let (reject, cid, refund_review, refund_appeal) = plan(&call);
    let auto = call["score"].as_f64().expect("score");
    let manual_rule = call["manual"][0]["rule"]
        .as_str()
        .expect("a manual item")
        .to_string();
    let r = insp.post(
        "/api/calls/c1/review",
        &json!({
            "decisions": reject.iter()
                .map(|&i| json!({"deduction": i, "decision": "reject", "comment": "客户先骂人，坐席在复述"}))
                .chain([json!({"deduction": cid, "decision": "confirm", "comment": ""})])
                .collect::<Vec<_>>(),
            "manual": [{"rule": manual_rule, "points": null, "na": true, "comment": "不适用"}],
            "publish": true
        }),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let published = r.json();
    assert_eq!(published["state"], "published");
    let after_review = published["reviewed_score"]
        .as_f64()
        .expect("reviewed score");
    assert_eq!(
        after_review,
        auto + refund_review,
        "the rejected item is refunded"
    );
    // The agent sees it, and appeals the confirmed deduction.
    let seen = ag1.get("/api/calls/c1").json();
    assert_eq!(seen["reviewed_score"].as_f64(), Some(after_review));
    let r = ag1.post(
        "/api/calls/c1/appeal",
        &json!({"deduction": cid, "reason": "当时已告知客户稍等"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let appeal_id = r.json()["appeal_id"].as_i64().expect("appeal id");
    assert_eq!(r.json()["state"], "appealed");
    // Only a supervisor decides.
    let decision = json!({"outcome": "overturned", "comment": "录音中有提示"});
    let path = format!("/api/calls/c1/appeals/{appeal_id}/decision");
    assert_eq!(insp.post(&path, &decision).status, 403);
    let r = boss.post(&path, &decision);
    assert_eq!(r.status, 200, "{}", r.text());
    let settled = r.json();
    assert_eq!(settled["state"], "settled");
    assert_eq!(settled["version"], 2);
    let final_score = settled["reviewed_score"].as_f64().expect("score");
    assert_eq!(
        final_score,
        after_review + refund_appeal,
        "the overturned one too"
    );
    assert_two_versions_and_history(&settled, cid);
    // The queue shows the reviewed score; a second appeal on a settled call is refused.
    let list = boss.get("/api/calls?state=settled").json();
    assert_eq!(
        list["calls"][0]["reviewed_score"].as_f64(),
        Some(final_score)
    );
    let again = ag1.post(
        "/api/calls/c1/appeal",
        &json!({"deduction": cid, "reason": "x"}),
    );
    assert_eq!(again.status, 409);
    // The call page renders for each role.
    for c in [&boss, &insp, &ag1] {
        let html = c.get("/calls/c1").text();
        assert!(html.contains("已裁定"), "{html}");
    }
    // The rollup and calls.jsonl count c1 with its settled score, and say so.
    assert_report_uses_reviewed(&env, "out", "c1", final_score);
    assert_reviews_export(&env);
}

/// The settled call: version 1 superseded by 2, the overturned deduction rejected, and the
/// audit trail naming every step and who took it.
fn assert_two_versions_and_history(settled: &Value, overturned: u64) {
    let versions = settled["versions"].as_array().expect("versions");
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0]["superseded"], true);
    assert_eq!(versions[1]["superseded"], false);
    assert_eq!(
        settled["deductions"][overturned as usize]["decision"],
        "rejected"
    );
    let history: Vec<&str> = settled["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|h| h["action"].as_str().expect("action"))
        .collect();
    assert_eq!(
        history,
        ["assign", "publish", "appeal", "decide_appeal", "settle"]
    );
    let who: Vec<&str> = settled["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|h| h["who"].as_str().expect("who"))
        .collect();
    assert_eq!(who, ["boss", "insp", "ag1", "boss", "boss"]);
}

/// Both versions of c1, the verdicts, the appeal and the audit trail export (while the server
/// runs) as CSV and XLSX.
fn assert_reviews_export(env: &TestEnv) {
    // Both versions, the verdicts and the audit trail export while the server runs.
    callqa(env, &["export", "--out", "out", "--reviews"], "");
    let read =
        |name: &str| std::fs::read_to_string(env.path("out/reviews").join(name)).expect(name);
    assert_eq!(
        read("reviews.csv")
            .lines()
            .filter(|l| l.starts_with("c1,"))
            .count(),
        2
    );
    assert!(read("decisions.csv").contains("客户先骂人"));
    assert_eq!(
        read("appeals.csv").lines().count(),
        2,
        "header and the one appeal"
    );
    assert!(read("audit.csv").lines().any(|l| l.contains(",c1,settle,")));
    assert!(env.path("out/reviews/reviews.xlsx").exists());
}

/// `callqa report` on `out`: agent a1's row counts `call` as reviewed, its average uses the
/// reviewed score, and calls.jsonl marks the call's score source.
fn assert_report_uses_reviewed(env: &TestEnv, out: &str, call: &str, reviewed: f64) {
    callqa(
        env,
        &["report", "--out", out, "--format", "csv", "--lang", "en"],
        "",
    );
    let lines: Vec<Value> = std::fs::read_to_string(env.path(out).join("calls.jsonl"))
        .expect("calls.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    let line = lines
        .iter()
        .find(|l| l["call_id"] == call)
        .expect("the call");
    assert_eq!(line["score_source"], "reviewed");
    assert_eq!(line["reviewed_score"].as_f64(), Some(reviewed));
    let others: Vec<f64> = lines
        .iter()
        .filter(|l| l["agent_id"] == "a1" && l["call_id"] != call)
        .map(|l| {
            assert_eq!(l["score_source"], "auto");
            l["score"].as_f64().expect("score")
        })
        .collect();
    let csv = std::fs::read_to_string(env.path(out).join("rollup/rollup.csv")).expect("rollup");
    let mut rows = csv.trim_start_matches('\u{feff}').lines();
    let header: Vec<&str> = rows.next().expect("header").split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let a1: Vec<&str> = rows
        .map(|r| r.split(',').collect::<Vec<_>>())
        .find(|r| r[col("agent_id")] == "a1")
        .expect("a1's row")
        .into_iter()
        .collect();
    assert_eq!(a1[col("reviewed")], "1");
    let expected = (reviewed + others.iter().sum::<f64>()) / (1 + others.len()) as f64;
    let avg: f64 = a1[col("avg_score")].parse().expect("avg");
    assert!((avg - expected).abs() < 0.01, "{avg} vs {expected}");
}

/// A result whose recording is a fixture WAV, imported the way `callqa import` loads a
/// calls.jsonl from another machine.
fn folder_with_audio(env: &TestEnv) {
    let line = std::fs::read_to_string(env.path("out/calls.jsonl")).expect("calls.jsonl");
    let mut call: Value = serde_json::from_str(line.lines().next().expect("a call")).expect("json");
    let wav = repo().join("fixtures/bad_inbound.wav");
    call["audio"] = json!(wav.to_string_lossy());
    env.write("with-audio.jsonl", &(call.to_string() + "\n"));
    callqa(
        env,
        &[
            "import",
            "with-audio.jsonl",
            "--out",
            "audio-out",
            "--no-html",
        ],
        "",
    );
    add_users(env, "audio-out");
}

#[test]
fn audio_is_served_as_wav_with_range_requests() {
    let env = scored_folder();
    folder_with_audio(&env);
    let server = Server::start(&env, "audio-out");
    let boss = logged_in(&server, "boss");
    let whole = boss.get("/api/calls/c1/audio");
    assert_eq!(whole.status, 200, "{}", whole.text());
    assert_eq!(whole.header("content-type"), Some("audio/wav"));
    assert_eq!(whole.header("accept-ranges"), Some("bytes"));
    assert_eq!(&whole.body[..4], b"RIFF");
    let len = whole.body.len();
    // 16 kHz, 16-bit, two channels: 64 000 bytes per second of the 45 s call.
    assert!((44 * 64_000..46 * 64_000).contains(&len), "{len} bytes");
    let part = boss.send(
        "GET",
        "/api/calls/c1/audio",
        &[("Range", "bytes=100-199")],
        None,
    );
    assert_eq!(part.status, 206);
    assert_eq!(
        part.header("content-range"),
        Some(format!("bytes 100-199/{len}").as_str())
    );
    assert_eq!(part.body, whole.body[100..200]);
    let tail = boss.send(
        "GET",
        "/api/calls/c1/audio",
        &[("Range", "bytes=-10")],
        None,
    );
    assert_eq!(tail.body, whole.body[len - 10..]);
    // The energy strip: 100 ms peaks of both channels over the 45 s, with the deductions.
    let energy = boss.get("/api/calls/c1/energy").json();
    assert_eq!(energy["step_ms"], 100);
    let bars = |side: &str| -> Vec<u64> {
        energy[side]
            .as_array()
            .expect(side)
            .iter()
            .map(|v| v.as_u64().expect("peak"))
            .collect()
    };
    let (agent, customer) = (bars("agent"), bars("customer"));
    assert!((440..=460).contains(&agent.len()), "{} bars", agent.len());
    assert!(agent.iter().any(|&p| p > 5) && customer.iter().any(|&p| p > 5));
    assert!(agent.iter().chain(&customer).all(|&p| p <= 100));
    assert!(!energy["deductions"]
        .as_array()
        .expect("deductions")
        .is_empty());
    let past = format!("bytes={len}-");
    let r = boss.send("GET", "/api/calls/c1/audio", &[("Range", &past)], None);
    assert_eq!(r.status, 416);
    assert_eq!(
        r.header("content-range"),
        Some(format!("bytes */{len}").as_str())
    );
}

/// The workflow in Debian's chromium (tests/browser/review.js): the inspector plays from a
/// deduction, rejects one and confirms another, publishes; the agent appeals; the supervisor
/// overturns. Screenshots land in the target's tmp folder.
#[test]
fn browser_inspector_agent_and_supervisor_settle_an_appeal() {
    let env = scored_folder();
    folder_with_audio(&env);
    let server = Server::start(&env, "audio-out");
    let boss = logged_in(&server, "boss");
    let r = boss.post("/api/calls/c1/assign", &json!({"inspector": "insp"}));
    assert_eq!(r.status, 200, "{}", r.text());
    let call = r.json();
    let (reject, cid, refund_review, refund_appeal) = plan(&call);
    let auto = call["score"].as_f64().expect("score");
    let reject_ids: Vec<String> = reject.iter().map(u64::to_string).collect();
    let artifacts = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("test-artifacts/serve");
    let url = format!("http://{}", server.addr);
    let (rejects, confirm) = (reject_ids.join(","), cid.to_string());
    let seen = browser::run(
        "review.js",
        &[
            url.as_ref(),
            artifacts.as_os_str(),
            "c1".as_ref(),
            rejects.as_ref(),
            confirm.as_ref(),
            PASSWORD.as_ref(),
        ],
    );
    assert_eq!(
        seen["queue_rows"], 1,
        "the inspector's queue holds the assigned call"
    );
    let seek = seen["seek_ms"].as_f64().expect("seek");
    let played = seen["played_from_s"].as_f64().expect("played");
    assert!(
        (played - (seek / 1000.0 - 2.0).max(0.0)).abs() < 0.6,
        "{seen}"
    );
    assert_eq!(seen["after_publish"], "已发布");
    assert_eq!(seen["after_appeal"], "申诉中");
    assert_eq!(seen["after_decision"], "已裁定");
    assert_eq!(
        seen["reviewed_after_publish"].as_f64(),
        Some(auto + refund_review)
    );
    assert_eq!(
        seen["reviewed_after_settle"].as_f64(),
        Some(auto + refund_review + refund_appeal)
    );
    assert_eq!(
        seen["history"],
        json!(["assign", "publish", "appeal", "decide_appeal", "settle"])
    );
    assert_eq!(seen["script_errors"], json!([]));
    // 45 s of audio: 450 bars of 100 ms; the speeds offered reach 0.5× and 2×.
    let bars = seen["energy_bars"].as_u64().expect("energy bars");
    assert!((440..=460).contains(&bars), "{bars} bars");
    let rates: Vec<f64> = serde_json::from_value(seen["rates"].clone()).expect("rates");
    assert_eq!(rates, [0.5, 2.0, 1.0]);
    let api = boss.get("/api/calls/c1").json();
    assert_eq!(
        api["reviewed_score"].as_f64(),
        seen["reviewed_after_settle"].as_f64()
    );
    assert_eq!(
        api["deductions"][reject[0] as usize]["comment"],
        "坐席在复述客户的话"
    );
    assert_report_uses_reviewed(
        &env,
        "audio-out",
        "c1",
        seen["reviewed_after_settle"]
            .as_f64()
            .expect("settled score"),
    );
    eprintln!("screenshots: {}", artifacts.display());
}

/// Calibration over HTTP: the supervisor opens c1 with themself as lead; the lead and the
/// inspector answer blind (each sees only their own answers, through the calibration route,
/// not the review one); the report gives agreement per rule with the inspector's departures;
/// the call's state and scores do not move.
#[test]
fn calibration_is_blind_reported_per_rule_and_changes_nothing() {
    let env = scored_folder();
    let server = Server::start(&env, "out");
    let boss = logged_in(&server, "boss");
    let insp = logged_in(&server, "insp");
    let ag1 = logged_in(&server, "ag1");
    let opened = insp.post(
        "/api/calibration",
        &json!({"call_id": "c1", "lead": "boss"}),
    );
    assert_eq!(opened.status, 403, "{}", opened.text());
    let r = boss.post(
        "/api/calibration",
        &json!({"call_id": "c1", "lead": "boss"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(insp.get("/api/calls/c1").status, 404, "not assigned");
    let call = insp.get("/api/calibration/c1").json();
    let n = call["deductions"].as_array().expect("deductions").len();
    assert!(n >= 2, "{call}");
    let answers = |flip: bool| {
        let decisions: Vec<Value> = (0..n)
            .map(|i| {
                let reject = i == 0 && flip;
                json!({"deduction": i, "decision": if reject { "reject" } else { "confirm" }})
            })
            .collect();
        json!({"decisions": decisions})
    };
    assert_eq!(
        boss.post("/api/calibration/c1", &answers(false)).status,
        200
    );
    let r = insp.post("/api/calibration/c1", &answers(true));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["deductions"][0]["decision"], "rejected");
    let published = insp.post("/api/calibration/c1", &json!({"publish": true}));
    assert_eq!(published.status, 422, "{}", published.text());
    assert_eq!(ag1.get("/api/calibration").status, 403);
    let mine = insp.get("/api/calibration").json();
    assert_eq!(
        mine["report"],
        Value::Null,
        "inspectors do not see the report"
    );
    assert_eq!(mine["calls"][0]["answered"], true);
    let report = boss.get("/api/calibration").json()["report"].clone();
    assert_eq!(report["calls"], 1);
    let first_rule = call["deductions"][0]["rule"].as_str().expect("rule");
    let rules = report["rules"].as_array().expect("rules");
    let row = rules
        .iter()
        .find(|r| r["rule"] == first_rule)
        .unwrap_or_else(|| panic!("{first_rule} in {report}"));
    assert!(row["percent"].as_f64().expect("percent") < 100.0, "{row}");
    assert!(row["kappa"].is_number() || row["kappa"].is_null(), "{row}");
    let departures = &report["inspectors"][0]["departures"];
    assert_eq!(report["inspectors"][0]["inspector"], "insp");
    assert_eq!(departures[0]["answer"], "reject");
    assert_eq!(departures[0]["lead_answer"], "confirm");
    let page = boss.get("/calibration").text();
    assert!(
        page.contains("Cohen") && page.contains(first_rule),
        "{page}"
    );
    let after = boss.get("/api/calls/c1").json();
    assert_eq!(after["state"], "auto_scored");
    assert_eq!(after["reviewed_score"], Value::Null);
    assert_eq!(after["history"], json!([]));
}

/// Findings and modifier flags through the API: a confirmed finding is kept as confirmed and
/// the flag as set; a flag the call does not offer is refused.
#[test]
fn findings_are_judged_and_offered_flags_set_through_the_api() {
    let env = scored_folder();
    let server = Server::start(&env, "out");
    let boss = logged_in(&server, "boss");
    let r = boss.post("/api/calls/c2/assign", &json!({"inspector": "boss"}));
    assert_eq!(r.status, 200, "{}", r.text());
    let call = r.json();
    let findings = call["findings"].as_array().expect("findings");
    let flags = call["flags"].as_array().expect("flags");
    assert!(!findings.is_empty() && !flags.is_empty(), "{call}");
    assert_eq!(findings[0]["decision"], "pending");
    let flag = json!({"rule": flags[0]["rule"], "flag": flags[0]["flag"]});
    let bad = boss.post(
        "/api/calls/c2/review",
        &json!({"flags": [{"rule": "99.9", "flag": "扣分加倍"}]}),
    );
    assert_eq!(bad.status, 422, "{}", bad.text());
    let r = boss.post(
        "/api/calls/c2/review",
        &json!({"findings": [{"finding": 0, "decision": "confirm", "comment": "确有此事"}],
                "flags": [flag]}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let saved = r.json();
    assert_eq!(saved["findings"][0]["decision"], "confirmed");
    assert_eq!(saved["findings"][0]["comment"], "确有此事");
    assert_eq!(saved["flags"][0]["set"], true);
    assert!(
        saved["reviewed_score"].as_f64().expect("score") <= call["score"].as_f64().expect("auto")
    );
}
