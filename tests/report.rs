//! The inspector's report and the trainer's clips, run through the built `callqa` on scored
//! calls whose audio is the real fixture recordings (`fixtures/bad_inbound.wav`, G.711 μ-law
//! with the agent on the right; `fixtures/good_inbound.wav`) and whose transcript, hits and
//! deductions follow the fixtures' truth files. The browser test drives Debian's chromium.

mod common;

#[path = "common/browser.rs"]
mod browser;

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::prelude::*;
use callqa::CallResult;
use serde_json::json;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> String {
    repo().join("fixtures").join(name).display().to_string()
}

const XSS_SPEECH: &str = "<script>window.pwned=1</script>\"onerror=\"window.pwned=1\" 好的";
const PHONE: &str = "13812345678";
const ID_CARD: &str = "11010519491231002X";
const BANK_CARD: &str = "6222021234567890123";

/// The 45 s bad inbound call as the scorer writes it: two 反问, one 服务禁语, late opening.
fn bad_call() -> CallResult {
    let value = json!({
        "schema_version": 1, "call_id": "20261014-0001", "agent_id": "A017",
        "started_at": "2026-10-14T10:20:00+08:00", "direction": "inbound",
        "audio": fixture("bad_inbound.wav"), "agent_channel": "right", "duration_ms": 44970,
        "score": 65.0, "max_score": 100.0, "status": "ok", "rubric": "客服",
        "credits": 0.0, "fine_yuan": 0.0,
        "segments": [
            {"role": "customer", "start_ms": 1000, "end_ms": 1174, "text": "喂？"},
            {"role": "customer", "start_ms": 3000, "end_ms": 3179, "text": "喂？"},
            {"role": "agent", "start_ms": 6500, "end_ms": 7376, "text": "客服中心。"},
            {"role": "customer", "start_ms": 8500, "end_ms": 11290, "text": "我的宽带又断了，你们怎么回事？"},
            {"role": "agent", "start_ms": 12500, "end_ms": 15591, "text": "不是跟你说了吗？重启一下就好了。"},
            {"role": "customer", "start_ms": 17000, "end_ms": 18486, "text": "重启了也没用啊。"},
            {"role": "agent", "start_ms": 19500, "end_ms": 22595, "text": "你听懂了吗？我说的是重启路由器。"},
            {"role": "customer", "start_ms": 24000, "end_ms": 25374, "text": "那我找你们领导。"},
            {"role": "agent", "start_ms": 27000, "end_ms": 28476, "text": "这是我们公司的规定。"},
            {"role": "agent", "start_ms": 42000, "end_ms": 43470, "text": "好了，你再试试。"}
        ],
        "hits": [
            {"rule": "反问:3", "category": "反问", "role": "agent", "start_ms": 12500, "end_ms": 14000,
             "text": "不是跟你说了吗", "phrase": "不是跟你说了吗", "span": {"segment": 1, "start": 0, "end": 7, "end_segment": 1}},
            {"rule": "反问:7", "category": "反问", "role": "agent", "start_ms": 19500, "end_ms": 20700,
             "text": "你听懂了吗", "phrase": "你听懂了吗", "span": {"segment": 2, "start": 0, "end": 5, "end_segment": 2}},
            {"rule": "愤怒:8", "category": "愤怒", "role": "agent", "start_ms": 27000, "end_ms": 28476,
             "text": "这是我们公司的规定", "phrase": "这是我们公司的规定", "span": {"segment": 3, "start": 0, "end": 9, "end_segment": 3}},
            {"rule": "散漫:2", "category": "散漫", "role": "agent", "start_ms": 42000, "end_ms": 42600,
             "text": "好了", "phrase": "好了", "span": {"segment": 4, "start": 0, "end": 2, "end_segment": 4}},
            {"rule": "要求升级:1", "category": "要求升级", "role": "customer", "start_ms": 24000, "end_ms": 25374,
             "text": "找你们领导", "phrase": "找你们领导", "span": {"segment": 3, "start": 2, "end": 7, "end_segment": 3}}
        ],
        "deductions": [
            {"item": "1", "rule": "1.1", "points": 10.0, "reason": "开头语在 6.5 s，客户已喂两声", "words": "客服中心。",
             "evidence": [], "start_ms": 0, "end_ms": 6500},
            {"item": "4", "rule": "4.6", "points": 15.0, "reason": "反问 2 次（加扣 5 分）", "words": "不是跟你说了吗；你听懂了吗",
             "evidence": [0, 1], "start_ms": 12500, "end_ms": 14000},
            {"item": "4", "rule": "4.1", "points": 10.0, "reason": "服务禁语：愤怒", "words": "这是我们公司的规定",
             "evidence": [2], "start_ms": 27000, "end_ms": 28476}
        ],
        "findings": [
            {"rule": "2.4", "reason": "13 s 静音，未说请您稍等", "words": "", "evidence": [], "start_ms": 28476, "end_ms": 42000}
        ],
        "manual": ["2.1 客户来电时未称呼或称呼不到位"],
        "metrics": {"duration_ms": 44970, "agent_talk_ms": 11300, "customer_talk_ms": 5900, "overlap_ms": 0,
            "dead_air": [{"start_ms": 28476, "end_ms": 42000}], "dead_air_total_ms": 13524,
            "first_agent_speech_ms": 6500, "longest_silence_ms": 13524}
    });
    serde_json::from_value(value).expect("the bad call is a CallResult")
}

/// A compliant call whose speech carries markup and personal numbers, as ASR may write them.
fn tricky_call() -> CallResult {
    let value = json!({
        "schema_version": 1, "call_id": "<b>x\"onerror=1", "agent_id": "A\"onerror=\"alert(1)",
        "started_at": "2026-10-02T09:05:00+08:00", "direction": "inbound",
        "audio": fixture("good_inbound.wav"), "agent_channel": "left", "duration_ms": 27000,
        "score": 100.0, "max_score": 100.0, "status": "ok", "rubric": "客服",
        "credits": 0.0, "fine_yuan": 0.0,
        "segments": [
            {"role": "agent", "start_ms": 500, "end_ms": 3000, "text": "您好，请问有什么可以帮您？"},
            {"role": "customer", "start_ms": 3500, "end_ms": 6000, "text": XSS_SPEECH},
            {"role": "customer", "start_ms": 6500, "end_ms": 9000,
             "text": format!("我的手机是{PHONE}，身份证{ID_CARD}，卡号{BANK_CARD}")}
        ],
        "hits": [], "deductions": [], "findings": [], "manual": [],
        "metrics": {"duration_ms": 27000, "agent_talk_ms": 9000, "customer_talk_ms": 6000, "overlap_ms": 0,
            "dead_air": [], "dead_air_total_ms": 0, "first_agent_speech_ms": 500, "longest_silence_ms": 2000}
    });
    serde_json::from_value(value).expect("the tricky call is a CallResult")
}

/// A results folder whose store holds `calls`, as `callqa import` would leave it.
fn results_dir(calls: &[CallResult]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = callqa::store::Store::open(dir.path()).expect("open the store");
    for c in calls {
        store.import(c).expect("store the call");
    }
    dir
}

fn callqa() -> Command {
    let mut cmd = common::callqa_command();
    cmd.current_dir(repo());
    cmd
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn page_of(report: &Path, needle: &str) -> String {
    std::fs::read_dir(report.join("calls"))
        .expect("calls folder")
        .map(|e| read(&e.expect("entry").path()))
        .find(|p| p.contains(needle))
        .unwrap_or_else(|| panic!("no call page contains {needle}"))
}

#[test]
fn report_shows_deductions_with_rule_text_and_playable_audio() {
    let dir = results_dir(&[tricky_call(), bad_call()]);
    callqa()
        .args(["html", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    let report = dir.path().join("report");
    let index = read(&report.join("index.html"));
    // Flagged calls come first.
    let bad_at = index.find("20261014-0001").expect("bad call listed");
    let good_at = index.find("&lt;b&gt;x").expect("tricky call listed");
    assert!(bad_at < good_at, "flagged call is not listed first");
    assert!(!index.contains("http://") && !index.contains("https://"));

    let page = page_of(&report, "20261014-0001");
    assert!(
        page.contains("岀现反问语气。(如岀现两次以上加扣 5分)"),
        "verbatim 4.6 text missing"
    );
    assert!(page.contains("data-seek-ms=\"12500\""));
    assert!(page.contains("<mark class=\"cat-") && page.contains(">不是跟你说了吗</mark>"));
    assert!(page.contains("2.1 客户来电时未称呼或称呼不到位"));

    // The μ-law recording is re-encoded as 16-bit PCM, agent left, at its full length.
    let wav = std::fs::read_dir(report.join("audio"))
        .expect("audio folder")
        .map(|e| e.expect("entry").path())
        .find(|p| p.to_string_lossy().contains("20261014-0001"))
        .expect("converted audio");
    let reader = hound::WavReader::open(&wav).expect("playable WAV");
    let spec = reader.spec();
    assert_eq!((spec.channels, spec.bits_per_sample), (2, 16));
    let ms = u64::from(reader.duration()) * 1000 / u64::from(spec.sample_rate);
    assert!(ms.abs_diff(44_970) < 50, "converted audio lasts {ms} ms");
}

#[test]
fn only_flagged_calls_get_audio_unless_asked() {
    let dir = results_dir(&[tricky_call(), bad_call()]);
    let wavs = |dir: &Path| {
        std::fs::read_dir(dir.join("report/audio"))
            .expect("audio")
            .count()
    };
    callqa()
        .args(["html", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    assert_eq!(wavs(dir.path()), 1);
    assert!(page_of(&dir.path().join("report"), "&lt;b&gt;x").contains("--audio all"));
    callqa()
        .args(["html", "--audio", "all", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    assert_eq!(wavs(dir.path()), 2);
}

#[test]
fn markup_in_speech_and_ids_is_shown_as_text() {
    let dir = results_dir(&[tricky_call()]);
    callqa()
        .args(["html", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    let report = dir.path().join("report");
    for page in [
        read(&report.join("index.html")),
        page_of(&report, "&lt;b&gt;x"),
    ] {
        assert!(!page.contains("<script>window"), "raw <script> in the page");
        assert!(
            !page.contains("\"onerror="),
            "raw attribute break-out in the page"
        );
        assert!(!page.contains("<b>x"));
    }
    let page = page_of(&report, "&lt;b&gt;x");
    assert!(page.contains("&lt;script&gt;window.pwned=1&lt;/script&gt;&quot;onerror=&quot;"));
}

#[test]
fn redact_hides_personal_numbers_everywhere() {
    let mut call = tricky_call();
    call.call_id = format!("呼入_{PHONE}");
    call.extra.insert("caller".into(), PHONE.into());
    let dir = results_dir(&[call]);
    let report = dir.path().join("report");
    let names = |dir: &Path| -> Vec<String> {
        std::fs::read_dir(dir)
            .map(|d| {
                d.map(|e| e.expect("entry").path().display().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    // An earlier, unredacted report whose page names carry the number.
    callqa()
        .args(["html", "--audio", "all", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    assert!(names(&report.join("calls"))
        .iter()
        .any(|n| n.contains(PHONE)));

    callqa()
        .args(["html", "--redact", "--audio", "all", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    let mut texts = vec![read(&report.join("index.html"))];
    for sub in ["calls", "audio"] {
        for name in names(&report.join(sub)) {
            assert!(!name.contains(PHONE), "number in a file name: {name}");
            if sub == "calls" {
                texts.push(read(Path::new(&name)));
            }
        }
    }
    for text in &texts {
        for number in [PHONE, ID_CARD, BANK_CARD, "0519491231"] {
            assert!(
                !text.contains(number),
                "{number} shown in a redacted report"
            );
        }
    }
    assert!(texts[1].contains("我的手机是***********"));
    // The audio is there, with a tone where the numbers are read out (6.5–9 s).
    let wavs = names(&report.join("audio"));
    assert_eq!(wavs.len(), 1, "{wavs:?}");
    let mut reader = hound::WavReader::open(&wavs[0]).expect("wav");
    let channels = usize::from(reader.spec().channels);
    let samples: Vec<i16> = reader
        .samples::<i16>()
        .map(|s| s.expect("sample"))
        .collect();
    let window = &samples[7_000 * 16 * channels..8_500 * 16 * channels];
    let rms =
        (window.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / window.len() as f64).sqrt();
    let tone_rms = 0.1 * f64::from(i16::MAX) / 2f64.sqrt();
    assert!(
        (rms - tone_rms).abs() < 0.05 * tone_rms,
        "rms {rms} is not the bleep's {tone_rms}"
    );
}

#[test]
fn failed_calls_are_listed_first_with_their_error() {
    let mut failed = tricky_call();
    failed.call_id = "20261014-0099".into();
    failed.status = callqa::score::Status::Error;
    failed.error = Some("fixtures/x.wav: <truncated> header; export it again".into());
    failed.segments.clear();
    let dir = results_dir(&[bad_call(), failed]);
    callqa()
        .args(["html", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    let index = read(&dir.path().join("report/index.html"));
    let at = |id: &str| index.find(id).unwrap_or_else(|| panic!("{id} not listed"));
    assert!(
        at("20261014-0099") < at("20261014-0001"),
        "failed call (score 100) not first"
    );
    assert!(index.contains("fixtures/x.wav: &lt;truncated&gt; header; export it again"));
}

#[test]
fn a_folder_without_results_is_a_usage_error_naming_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    callqa()
        .args(["html", "--out"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "callqa.db: no results here; run `callqa run --out",
        ));
}

#[test]
fn unreadable_audio_still_gives_a_page_and_exit_1() {
    let mut call = bad_call();
    call.audio = "missing/recording.wav".into();
    let dir = results_dir(&[call]);
    let out = callqa()
        .args(["html", "--out"])
        .arg(dir.path())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("20261014-0001: missing/recording.wav"),
        "{stderr}"
    );
    assert!(page_of(&dir.path().join("report"), "20261014-0001").contains("无录音"));
}

/// The report speaks Chinese to inspectors, English when asked, and says how each hit matched.
#[test]
fn the_report_is_chinese_by_default_and_english_on_request() {
    let mut call = bad_call();
    call.hits[0].text = "不是跟你说了嘛".into();
    let mut value = serde_json::to_value(&call).expect("json");
    value["hits"][0]["match"] = json!("near");
    value["hits"][0]["similarity"] = json!(0.9);
    let call: CallResult = serde_json::from_value(value).expect("call");
    let dir = results_dir(&[call]);
    for (lang, words) in [
        ("zh", ["扣分", "转写", "近音 90%", "坐席汇总"]),
        ("en", ["Deductions", "Transcript", "near 90%", "Agents"]),
    ] {
        callqa()
            .args(["html", "--audio", "none", "--lang", lang, "--out"])
            .arg(dir.path())
            .assert()
            .success();
        let report = dir.path().join("report");
        let pages = read(&report.join("index.html")) + &page_of(&report, "20261014-0001");
        for w in words {
            assert!(pages.contains(w), "{lang}: {w} missing");
        }
    }
}

fn clips_index(out: &Path) -> Vec<serde_json::Value> {
    read(&out.join("index.jsonl"))
        .lines()
        .map(|l| serde_json::from_str(l).expect("index line is JSON"))
        .collect()
}

fn clip_ms(path: &Path) -> (u16, u64) {
    let reader = hound::WavReader::open(path).expect("clip is a WAV");
    let spec = reader.spec();
    assert_eq!(spec.bits_per_sample, 16);
    (
        spec.channels,
        u64::from(reader.duration()) * 1000 / u64::from(spec.sample_rate),
    )
}

#[test]
fn clips_cover_evidence_plus_context_and_reruns_do_not_duplicate() {
    let dir = results_dir(&[bad_call(), tricky_call()]);
    let out = tempfile::tempdir().expect("temp dir");
    for _ in 0..2 {
        callqa()
            .args([
                "clips",
                "--category",
                "反问",
                "--month",
                "2026-10",
                "--context",
                "2s",
            ])
            .arg("--results")
            .arg(dir.path())
            .arg("--out")
            .arg(out.path())
            .assert()
            .success();
    }
    let rows = clips_index(out.path());
    // Hit 1 and the 4.6 deduction share a span; hit 2 is 5.5 s later: two clips.
    assert_eq!(rows.len(), 2, "{rows:?}");
    let wavs = std::fs::read_dir(out.path())
        .expect("out")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "wav"))
        })
        .count();
    assert_eq!(wavs, 2);
    for (row, (start, end)) in rows.iter().zip([(12_500, 14_000), (19_500, 20_700)]) {
        assert_eq!(
            (
                row["evidence_start_ms"].as_u64(),
                row["evidence_end_ms"].as_u64()
            ),
            (Some(start), Some(end))
        );
        assert_eq!(
            (row["start_ms"].as_u64(), row["end_ms"].as_u64()),
            (Some(start - 2000), Some(end + 2000))
        );
        let name = row["clip"].as_str().expect("clip name");
        assert!(name.is_ascii() && name.contains("fanwen"), "{name}");
        let (channels, ms) = clip_ms(&out.path().join(name));
        assert_eq!(channels, 1);
        assert!(
            ms.abs_diff(end - start + 4000) <= 1,
            "clip {name} lasts {ms} ms"
        );
    }
    assert!(rows[0]["rule"].as_str().expect("rule").contains("4.6"));
    assert_eq!(rows[0]["excerpt"], "不是跟你说了吗？重启一下就好了。");
    let csv = std::fs::read(out.path().join("index.csv")).expect("index.csv");
    assert!(csv.starts_with(b"\xEF\xBB\xBFclip,call_id,agent_id,started_at,category,rule,phrase"));
    assert_eq!(String::from_utf8_lossy(&csv).lines().count(), 3);
}

#[test]
fn clips_are_clamped_at_the_call_ends() {
    let dir = results_dir(&[bad_call()]);
    let out = tempfile::tempdir().expect("temp dir");
    for (args, want_ms) in [
        // 1.1 spans 0–6.5 s: no context before the start of the call.
        (["--rule", "1.1", "--context", "2s"], 8_500),
        // 好了 at 42.0–42.6 s in a 44.97 s call.
        (["--category", "散漫", "--context", "5s"], 44_970 - 37_000),
    ] {
        callqa()
            .args(["clips", "--channel", "both"])
            .args(args)
            .arg("--results")
            .arg(dir.path())
            .arg("--out")
            .arg(out.path())
            .assert()
            .success();
        let rows = clips_index(out.path());
        let row = rows.last().expect("a clip");
        let (channels, ms) = clip_ms(&out.path().join(row["clip"].as_str().expect("name")));
        assert_eq!(channels, 2);
        // The end clamps at the decoded length, which the regenerated fixture puts within a
        // few ms of its nominal 44.97 s.
        assert!(
            ms.abs_diff(want_ms) <= 20,
            "{args:?}: {ms} ms, want {want_ms}"
        );
    }
    // Customer words are not training material.
    let out2 = tempfile::tempdir().expect("temp dir");
    callqa()
        .args(["clips", "--category", "要求升级", "--results"])
        .arg(dir.path())
        .arg("--out")
        .arg(out2.path())
        .assert()
        .success();
    assert!(clips_index(out2.path()).is_empty());
}

#[test]
fn clips_reject_a_bad_month_with_the_format() {
    callqa()
        .args(["clips", "--out", "x", "--month", "2026/10"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("YYYY-MM"));
}

/// Loads the report in Debian's chromium, filters, opens the call, clicks a deduction and
/// checks the player moved to 2 s before it. Screenshots land in the target's tmp folder.
#[test]
fn browser_filters_opens_and_plays_from_the_deduction() {
    let dir = results_dir(&[tricky_call(), bad_call()]);
    callqa()
        .args(["html", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    let report = dir.path().join("report");
    let xss_page = std::fs::read_dir(report.join("calls"))
        .expect("calls")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .find(|n| !n.starts_with("20261014"))
        .expect("tricky page");
    let artifacts = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("test-artifacts");
    std::fs::create_dir_all(&artifacts).expect("artifacts dir");
    let seen = browser::run(
        "report.js",
        &[
            report.as_os_str(),
            artifacts.as_os_str(),
            "反问".as_ref(),
            "20261014-0001".as_ref(),
            "2".as_ref(),
            xss_page.as_ref(),
        ],
    );
    assert_eq!(seen["rows"], 2);
    let sorted: Vec<f64> = serde_json::from_value(seen["sorted_by_score"].clone()).expect("scores");
    assert_eq!(sorted, [100.0, 65.0]);
    let duration = seen["duration_s"].as_f64().expect("duration");
    assert!((duration - 44.97).abs() < 0.1, "player duration {duration}");
    // The 4.6 deduction at 12.5 s: the player starts at 10.5 s, from 0.
    assert_eq!(seen["seek_ms"], 12_500);
    assert_eq!(seen["before_s"], 0);
    assert!(seen["transcript_text"]
        .as_str()
        .expect("text")
        .contains("<script>window.pwned=1</script>"));
    eprintln!("screenshots: {}", artifacts.display());
}
