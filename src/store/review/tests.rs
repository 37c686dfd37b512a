//! The state machine and the reviewed score as tables; the store operations on a real
//! database in a temporary folder.

use super::*;
use crate::score::Rubric;
use crate::{AgentChannel, CallMeta, Deduction, Direction};

#[test]
fn state_machine_allows_exactly_the_documented_moves() {
    use Action as A;
    use State as S;
    // (from, action, to); every pair not listed must be refused.
    let allowed = [
        (S::AutoScored, A::Assign, S::Assigned),
        (S::Assigned, A::Assign, S::Assigned),
        (S::Assigned, A::Recall, S::AutoScored),
        (S::InReview, A::Recall, S::AutoScored),
        (S::Assigned, A::Save, S::InReview),
        (S::InReview, A::Save, S::InReview),
        (S::Assigned, A::Publish, S::Published),
        (S::InReview, A::Publish, S::Published),
        (S::Published, A::Acknowledge, S::Acknowledged),
        (S::Published, A::Appeal, S::Appealed),
        (S::Appealed, A::Appeal, S::Appealed),
        (S::Appealed, A::Settle, S::Settled),
        (S::Published, A::Lock, S::Locked),
        (S::Acknowledged, A::Lock, S::Locked),
    ];
    for &from in State::ALL {
        for &action in Action::ALL {
            let expected = allowed
                .iter()
                .find(|(f, a, _)| *f == from && *a == action)
                .map(|t| t.2);
            assert_eq!(next_state(from, action), expected, "{from} --{action}-->");
        }
    }
}

#[test]
fn roles_may_only_take_their_own_actions() {
    use Action as A;
    let table = [
        (Role::Agent, &[A::Acknowledge, A::Appeal][..]),
        (Role::Inspector, &[A::Save, A::Publish][..]),
        (
            Role::Supervisor,
            &[A::Assign, A::Recall, A::Save, A::Publish, A::Settle][..],
        ),
        (Role::Admin, &[A::Assign, A::Recall][..]),
    ];
    for (role, may) in table {
        for &action in Action::ALL {
            assert_eq!(role.may(action), may.contains(&action), "{role} {action}");
        }
    }
}

/// Item 1 (5 points, forfeited once) with 1.1 and 1.2; item 2 (10 points) whose rule 2.1
/// escalates by 5 at two occurrences; item 3 deducted per occurrence (2 each); item 4 a bonus;
/// item 5 manual-only (3 points, its rule may be doubled); item 6 (4 points) whose 6.3 carries
/// 20 积分 and 50 元.
const SHEET: &str = r#"
name = "客服"
title = "t"
direction = "inbound"
max_score = 100
[[item]]
id = "1"
name = "开头"
points = 5
[[item.rule]]
id = "1.1"
text = "a"
check = "manual"
[[item.rule]]
id = "1.2"
text = "b"
check = "manual"
[[item]]
id = "2"
name = "禁语"
points = 10
[[item.rule]]
id = "2.1"
text = "c"
check = "manual"
extra = { min_count = 2, points = 5 }
[[item]]
id = "3"
name = "其他"
points = 2
per_occurrence = true
[[item.rule]]
id = "3.1"
text = "d"
check = "manual"
[[item]]
id = "4"
name = "加分"
points = 5
bonus = true
[[item.rule]]
id = "4.1"
text = "e"
check = "manual"
[[item]]
id = "5"
name = "人工"
points = 3
[[item.rule]]
id = "5.1"
text = "f"
check = "manual"
modifiers = ["扣分加倍"]
[[item]]
id = "6"
name = "营销"
points = 4
[[item.rule]]
id = "6.3"
text = "g"
check = "manual"
credits = 20
fine_yuan = 50
"#;

fn sheet() -> Rubric {
    Rubric::parse(std::path::Path::new("t.toml"), SHEET).expect("test sheet parses")
}

fn deduction(item: &str, rule: &str, points: f64, reason: &str) -> Deduction {
    Deduction {
        item: item.into(),
        rule: rule.into(),
        points,
        reason: reason.into(),
        words: reason.into(),
        evidence: Vec::new(),
        start_ms: 0,
        end_ms: 0,
    }
}

/// A call as the scorer leaves it: 1.1 and 1.2 fired (5, then 0 forfeited), 2.1 twice plus its
/// escalation (10 + 0 + 5), 3.1 twice (2 + 2): 100 − 24 = 76.
fn scored() -> CallResult {
    let meta = CallMeta {
        call_id: "c".into(),
        audio: "c.wav".into(),
        agent_id: "a".into(),
        started_at: chrono::DateTime::parse_from_rfc3339("2026-11-18T14:00:00+08:00")
            .expect("time"),
        direction: Direction::Inbound,
        agent_channel: AgentChannel::Left,
        extra: Default::default(),
    };
    let mut r = CallResult::for_call(&meta);
    r.rubric = "客服".into();
    r.max_score = 100.0;
    r.deductions = vec![
        deduction("1", "1.1", 5.0, "late"),
        deduction("1", "1.2", 0.0, "incomplete"),
        deduction("2", "2.1", 10.0, "反问"),
        deduction("2", "2.1", 0.0, "反问"),
        deduction("2", "2.1", 5.0, "2 occurrences (≥2): extra 5 points"),
        deduction("3", "3.1", 2.0, "x"),
        deduction("3", "3.1", 2.0, "y"),
    ];
    r.score = 76.0;
    r
}

#[test]
fn reviewed_score_reapplies_forfeit_once_and_escalation() {
    let reject = |ids: &[usize]| -> Vec<Verdict> {
        (0..7)
            .map(|i| Verdict {
                rejected: ids.contains(&i),
                points: None,
            })
            .collect()
    };
    let manual = |m: &[(&str, f64)]| -> Vec<(String, f64)> {
        m.iter().map(|&(r, p)| (r.to_string(), p)).collect()
    };
    let judged = |verdicts, manual| Judgement {
        verdicts,
        manual,
        ..Judgement::default()
    };
    // (what, rejected deductions, manual answers, reviewed score)
    type Case<'a> = (&'a str, &'a [usize], &'a [(&'a str, f64)], f64);
    let cases: &[Case] = &[
        ("nothing changed keeps the machine's score", &[], &[], 76.0),
        (
            "rejecting the point-carrying 1.1 while 1.2 stands refunds nothing",
            &[0],
            &[],
            76.0,
        ),
        ("rejecting both of item 1 refunds its 5", &[0, 1], &[], 81.0),
        (
            "one 反问 rejected: below the escalation threshold, the extra 5 goes",
            &[3],
            &[],
            81.0,
        ),
        (
            "both 反问 rejected: item 2 and its extra refunded",
            &[2, 3],
            &[],
            91.0,
        ),
        ("the escalation alone rejected", &[4], &[], 81.0),
        ("per-occurrence items refund each", &[5], &[], 78.0),
        (
            "everything rejected gives full marks",
            &[0, 1, 2, 3, 4, 5, 6],
            &[],
            100.0,
        ),
        (
            "a confirmed manual item costs its points",
            &[],
            &[("5.1", 3.0)],
            73.0,
        ),
        (
            "a manual answer in an item already forfeited costs nothing more",
            &[],
            &[("1.2", 5.0)],
            76.0,
        ),
        (
            "a bonus adds, capped at the maximum",
            &[0, 1, 2, 3, 4, 5, 6],
            &[("4.1", 5.0)],
            100.0,
        ),
        ("a bonus adds below the maximum", &[], &[("4.1", 5.0)], 81.0),
    ];
    let sheet = sheet();
    let call = scored();
    for (what, rejected, answers, expected) in cases {
        let got = reviewed_score(
            &call,
            Some(&sheet),
            &judged(reject(rejected), manual(answers)),
        );
        assert_eq!(got, *expected, "{what}");
    }
}

#[test]
fn a_changed_appeal_replaces_the_points_and_an_unknown_sheet_falls_back() {
    let call = scored();
    let mut verdicts = vec![Verdict::default(); 7];
    verdicts[2].points = Some(4.0);
    let judged = |verdicts: &[Verdict]| Judgement {
        verdicts: verdicts.to_vec(),
        ..Judgement::default()
    };
    // Another standing occurrence still forfeits the whole item.
    assert_eq!(
        reviewed_score(&call, Some(&sheet()), &judged(&verdicts)),
        76.0
    );
    // Alone, item 2 forfeits the changed 4 instead of 10, and the escalation goes.
    verdicts[3].rejected = true;
    assert_eq!(
        reviewed_score(&call, Some(&sheet()), &judged(&verdicts)),
        87.0
    );
    verdicts[2] = Verdict {
        rejected: true,
        points: None,
    };
    // Without the sheet: the rejected deduction's own points come back.
    assert_eq!(reviewed_score(&call, None, &judged(&verdicts)), 86.0);
}

/// 营销 6.3's finding: an order placed without the customer's consent.
fn consent_finding() -> crate::Finding {
    crate::Finding {
        rule: "6.3".into(),
        reason: "ordered without consent".into(),
        words: "已经给您开通".into(),
        credits: 20.0,
        fine_yuan: 50.0,
        evidence: Vec::new(),
        start_ms: 1000,
        end_ms: 2000,
    }
}

/// An assist finding costs nothing until confirmed; confirmed, it forfeits its item and
/// charges the rule's 积分 / 元. A 扣分加倍 flag doubles its rule's points.
#[test]
fn confirmed_findings_accrue_and_flags_scale_the_rules_points() {
    let mut call = scored();
    call.findings.push(consent_finding());
    let sheet = sheet();
    let unconfirmed = reviewed(&call, Some(&sheet), &Judgement::default());
    assert_eq!(
        (
            unconfirmed.score,
            unconfirmed.credits,
            unconfirmed.fine_yuan
        ),
        (76.0, 0.0, 0.0)
    );
    let confirmed = Judgement {
        confirmed: vec![true],
        ..Judgement::default()
    };
    let got = reviewed(&call, Some(&sheet), &confirmed);
    assert_eq!((got.score, got.credits, got.fine_yuan), (72.0, 20.0, 50.0));
    let doubled = Judgement {
        manual: vec![("5.1".into(), 3.0)],
        factors: [("5.1".to_string(), 2.0)].into_iter().collect(),
        ..Judgement::default()
    };
    assert_eq!(reviewed_score(&call, Some(&sheet), &doubled), 70.0);
}

/// The textbook case, by hand: 50 items, both yes 20, A yes B no 5, A no B yes 10, both no
/// 15. Observed 35/50 = 0.7; A says yes half the time, B 0.6, so chance is
/// 0.5·0.6 + 0.5·0.4 = 0.5 and kappa = (0.7 − 0.5) / (1 − 0.5) = 0.4.
#[test]
fn cohen_kappa_matches_the_hand_computed_example() {
    let mut pairs = Vec::new();
    for (a, b, n) in [
        ("yes", "yes", 20),
        ("yes", "no", 5),
        ("no", "yes", 10),
        ("no", "no", 15),
    ] {
        pairs.extend(std::iter::repeat_n((a, b), n));
    }
    let kappa = cohen_kappa(&pairs).expect("defined");
    assert!((kappa - 0.4).abs() < 1e-9, "{kappa}");
    // Perfect agreement is 1; one answer everywhere leaves kappa undefined.
    assert_eq!(cohen_kappa(&[("a", "a"), ("b", "b")]), Some(1.0));
    assert_eq!(cohen_kappa(&[("a", "a"), ("a", "a")]), None);
    assert_eq!(cohen_kappa::<&str>(&[]), None);
}

#[test]
fn manual_rule_ids_are_the_first_word() {
    assert_eq!(manual_rule("4.3 服务态度"), "4.3");
    assert_eq!(manual_rule("5.1 (特别加分项 +5) 表扬"), "5.1");
}

mod store {
    use super::*;
    use crate::store::{review, Keys};

    fn user(name: &str, role: Role, agent: Option<&str>) -> User {
        User {
            name: name.into(),
            role,
            agent_id: agent.map(str::to_string),
        }
    }

    /// A store with `scored()` under call_id `c`, indexed, and four users.
    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        let call = scored();
        let meta = CallMeta {
            call_id: "c".into(),
            audio: "c.wav".into(),
            agent_id: "a".into(),
            started_at: call.started_at,
            direction: Direction::Inbound,
            agent_channel: AgentChannel::Left,
            extra: Default::default(),
        };
        store
            .put_result(&meta, &Keys::input("k1"), &call)
            .expect("put");
        assert_eq!(sync_index(&store).expect("sync"), 1);
        assert_eq!(sync_index(&store).expect("sync again"), 0);
        for (name, role, agent) in [
            ("insp", Role::Inspector, None),
            ("boss", Role::Supervisor, None),
            ("ag", Role::Agent, Some("a")),
            ("other", Role::Agent, Some("b")),
        ] {
            add_user(&store, "test", name, role, agent, "password1").expect("add user");
        }
        (dir, store)
    }

    fn rubrics() -> Rubrics {
        Rubrics {
            sheets: vec![sheet()],
            version: String::new(),
            lang: Default::default(),
        }
    }

    #[test]
    fn review_publish_appeal_settle_writes_versions_and_history() {
        let (_dir, store) = store();
        let (insp, boss, ag) = (
            user("insp", Role::Inspector, None),
            user("boss", Role::Supervisor, None),
            user("ag", Role::Agent, Some("a")),
        );
        let rubrics = rubrics();
        // Not assigned yet: the inspector may not review, the agent sees nothing.
        assert!(matches!(
            submit_review(&store, &rubrics, &insp, "c", &ReviewInput::default()),
            Err(ReviewError::NotFound(_))
        ));
        assert!(matches!(
            call_view(&store, &ag, "c"),
            Err(ReviewError::NotFound(_))
        ));
        assign(&store, &boss, "c", "insp").expect("assign");
        let input = ReviewInput {
            decisions: vec![
                DecisionInput {
                    deduction: 5,
                    decision: DecisionWord::Reject,
                    comment: "misheard".into(),
                },
                DecisionInput {
                    deduction: 2,
                    decision: DecisionWord::Confirm,
                    comment: String::new(),
                },
            ],
            publish: true,
            ..ReviewInput::default()
        };
        let score = submit_review(&store, &rubrics, &insp, "c", &input).expect("review");
        assert_eq!(score, 78.0);
        let seen = call_view(&store, &ag, "c").expect("the agent sees the published call");
        assert_eq!(seen.state, State::Published);
        assert_eq!(seen.deductions[5].decision, Decision::Rejected);
        // Another agent does not.
        assert!(call_view(&store, &user("other", Role::Agent, Some("b")), "c").is_err());
        let appeal_id = appeal(
            &store,
            &ag,
            "c",
            &AppealInput {
                deduction: 2,
                reason: "not a question".into(),
            },
            7 * 86400,
        )
        .expect("appeal");
        let after = decide_appeal(
            &store,
            &rubrics,
            &boss,
            "c",
            appeal_id,
            &OutcomeInput {
                outcome: Outcome::Overturned,
                points: None,
                comment: "agreed".into(),
            },
        )
        .expect("decide");
        // 2.1's first occurrence overturned: the other still forfeits item 2; below the
        // threshold, the escalation goes: 78 + 5.
        assert_eq!(after, 83.0);
        let view = call_view(&store, &boss, "c").expect("view");
        assert_eq!(view.state, State::Settled);
        assert_eq!(view.versions.len(), 2);
        assert!(view.versions[0].superseded && !view.versions[1].superseded);
        let actions: Vec<&str> = view.history.iter().map(|h| h.action.as_str()).collect();
        assert_eq!(
            actions,
            ["assign", "publish", "appeal", "decide_appeal", "settle"]
        );
        let scores = reviewed_scores(&store).expect("scores");
        assert_eq!(
            scores.get("c"),
            Some(&ReviewedScore {
                score: 83.0,
                version: 2,
                credits: 0.0,
                fine_yuan: 0.0,
            })
        );
    }

    /// A re-score that adds a deduction in front and drops another: every verdict stays on
    /// its own deduction (found by rule, time and words), the one whose deduction is gone is
    /// shown as stale and no longer counted, and the score follows.
    #[test]
    fn verdicts_follow_their_deduction_through_a_rescore() {
        let (_dir, store) = store();
        let boss = user("boss", Role::Supervisor, None);
        let rubrics = rubrics();
        assign(&store, &boss, "c", "insp").expect("assign");
        let verdict = |deduction, decision| DecisionInput {
            deduction,
            decision,
            comment: format!("on {deduction}"),
        };
        let input = ReviewInput {
            decisions: vec![
                verdict(5, DecisionWord::Reject),
                verdict(6, DecisionWord::Reject),
                verdict(0, DecisionWord::Confirm),
            ],
            ..ReviewInput::default()
        };
        // 3.1 twice rejected: 76 + 4.
        let score = submit_review(&store, &rubrics, &boss, "c", &input).expect("save");
        assert_eq!(score, 80.0);
        let mut rescored = scored();
        rescored.deductions.remove(6);
        rescored.deductions.insert(0, {
            let mut d = deduction("3", "3.1", 2.0, "new");
            d.start_ms = 500;
            d
        });
        rescored.score = 76.0;
        let meta = store.calls().expect("calls")[0].meta.clone();
        store
            .put_result(&meta, &Keys::input("k2"), &rescored)
            .expect("rescore");
        assert_eq!(sync_index(&store).expect("sync"), 1);
        let view = call_view(&store, &boss, "c").expect("view");
        let decided: Vec<(usize, Decision, &str)> = view
            .deductions
            .iter()
            .filter(|d| d.decision != Decision::Pending)
            .map(|d| (d.id, d.decision, d.comment.as_str()))
            .collect();
        assert_eq!(
            decided,
            [
                (1, Decision::Confirmed, "on 0"),
                (6, Decision::Rejected, "on 5")
            ]
        );
        assert_eq!(view.stale_decisions.len(), 1, "{:?}", view.stale_decisions);
        assert_eq!(view.stale_decisions[0].comment, "on 6");
        // Publishing rescores on the new result: the new 3.1 stands, the old one is gone.
        let publish = ReviewInput {
            publish: true,
            ..ReviewInput::default()
        };
        let score = submit_review(&store, &rubrics, &boss, "c", &publish).expect("publish");
        assert_eq!(score, 78.0);
    }

    /// A confirmed finding's 积分 / 元 reach the reviewed scores only once published.
    #[test]
    fn credits_from_a_confirmed_finding_accrue_at_publication() {
        let (_dir, store) = store();
        let boss = user("boss", Role::Supervisor, None);
        let mut call = scored();
        call.findings.push(consent_finding());
        let meta = store.calls().expect("calls")[0].meta.clone();
        store
            .put_result(&meta, &Keys::input("k2"), &call)
            .expect("put");
        sync_index(&store).expect("sync");
        assign(&store, &boss, "c", "insp").expect("assign");
        let mut input = ReviewInput {
            findings: vec![FindingInput {
                finding: 0,
                decision: DecisionWord::Confirm,
                comment: String::new(),
            }],
            ..ReviewInput::default()
        };
        submit_review(&store, &rubrics(), &boss, "c", &input).expect("save");
        assert!(reviewed_scores(&store).expect("scores").is_empty());
        input.publish = true;
        submit_review(&store, &rubrics(), &boss, "c", &input).expect("publish");
        let got = reviewed_scores(&store).expect("scores")["c"];
        assert_eq!((got.score, got.credits, got.fine_yuan), (72.0, 20.0, 50.0));
    }

    /// Three people score the call blind: each sees only their own answers, the report
    /// compares the inspectors with the lead per rule, and nothing reaches the call's state
    /// or any score.
    #[test]
    fn calibrations_are_blind_measured_and_never_counted() {
        let (_dir, store) = store();
        let boss = user("boss", Role::Supervisor, None);
        let insp = user("insp", Role::Inspector, None);
        add_user(&store, "test", "insp2", Role::Inspector, None, "password1").expect("add");
        let insp2 = user("insp2", Role::Inspector, None);
        assert!(matches!(
            open_calibration(&store, &insp, "c", "boss"),
            Err(ReviewError::Forbidden(_))
        ));
        open_calibration(&store, &boss, "c", "boss").expect("open");
        let answer = |who: &User, verdicts: &[(usize, DecisionWord)]| {
            let input = ReviewInput {
                decisions: verdicts
                    .iter()
                    .map(|&(deduction, decision)| DecisionInput {
                        deduction,
                        decision,
                        comment: String::new(),
                    })
                    .collect(),
                manual: vec![ManualInput {
                    rule: "5.1".into(),
                    points: Some(3.0),
                    na: false,
                    comment: String::new(),
                }],
                ..ReviewInput::default()
            };
            submit_calibration(&store, who, "c", &input).expect("answer");
        };
        use DecisionWord::{Confirm as C, Reject as X};
        let mut call = scored();
        call.manual = vec!["5.1 f".into()];
        let meta = store.calls().expect("calls")[0].meta.clone();
        store
            .put_result(&meta, &Keys::input("k2"), &call)
            .expect("put");
        sync_index(&store).expect("sync");
        answer(&boss, &[(0, C), (2, C), (5, X)]);
        answer(&insp, &[(0, C), (2, X), (5, X)]);
        answer(&insp2, &[(0, C), (2, C), (5, C)]);
        let seen = calibration_view(&store, &insp, "c").expect("blind view");
        assert_eq!(
            seen.deductions[2].decision,
            Decision::Rejected,
            "own answer"
        );
        assert_eq!(seen.deductions[1].decision, Decision::Pending);
        assert!(seen.history.is_empty() && seen.reviewed_score.is_none());
        assert!(matches!(
            calibration_report(&store, &insp),
            Err(ReviewError::Forbidden(_))
        ));
        let report = calibration_report(&store, &boss).expect("report");
        assert_eq!(report.calls, 1);
        let rule = |id: &str| {
            &report
                .rules
                .iter()
                .find(|r| r.rule == id)
                .expect(id)
                .agreement
        };
        assert_eq!((rule("1.1").pairs, rule("1.1").percent), (2, 100.0));
        assert_eq!((rule("2.1").pairs, rule("2.1").agreed), (2, 1));
        assert_eq!(rule("5.1").percent, 100.0);
        let departures: Vec<(&str, &str, &str)> = report
            .inspectors
            .iter()
            .flat_map(|i| {
                i.departures
                    .iter()
                    .map(|d| (i.inspector.as_str(), d.rule.as_str(), d.answer.as_str()))
            })
            .collect();
        assert_eq!(
            departures,
            [("insp", "2.1", "reject"), ("insp2", "3.1", "confirm")]
        );
        // Never published, never counted: the call is untouched.
        let view = call_view(&store, &boss, "c").expect("view");
        assert_eq!(view.state, State::AutoScored);
        assert!(view.history.is_empty(), "{:?}", view.history);
        assert!(reviewed_scores(&store).expect("scores").is_empty());
    }

    /// The counts the triggers maintain for a plain queue equal a fresh count, through
    /// assignment, publication and recall, for the supervisor and the inspector.
    #[test]
    fn maintained_state_counts_equal_a_fresh_count() {
        let (_dir, store) = store();
        let boss = user("boss", Role::Supervisor, None);
        let insp = user("insp", Role::Inspector, None);
        let check = |what: &str| {
            for who in [&boss, &insp] {
                let plain = count_states(&store, who, &Filter::default()).expect("plain");
                let counted = Filter {
                    month: Some("2026-11".into()),
                    ..Filter::default()
                };
                let fresh = count_states(&store, who, &counted).expect("counted");
                assert_eq!(plain, fresh, "{what}, {}", who.name);
            }
        };
        check("indexed");
        assign(&store, &boss, "c", "insp").expect("assign");
        check("assigned");
        recall(&store, &boss, "c").expect("recall");
        check("recalled");
        let plain = count_states(&store, &insp, &Filter::default()).expect("insp");
        assert!(plain.is_empty(), "{plain:?}");
        assign(&store, &boss, "c", "insp").expect("assign again");
        let publish = ReviewInput {
            publish: true,
            ..ReviewInput::default()
        };
        submit_review(&store, &rubrics(), &insp, "c", &publish).expect("publish");
        check("published");
    }

    /// A calibration of a published call leaves its reviewed score as published.
    #[test]
    fn calibrating_a_published_call_leaves_its_score() {
        let (_dir, store) = store();
        let boss = user("boss", Role::Supervisor, None);
        let insp = user("insp", Role::Inspector, None);
        assign(&store, &boss, "c", "insp").expect("assign");
        let publish = ReviewInput {
            publish: true,
            ..ReviewInput::default()
        };
        submit_review(&store, &rubrics(), &insp, "c", &publish).expect("publish");
        let before = reviewed_scores(&store).expect("scores");
        open_calibration(&store, &boss, "c", "boss").expect("open");
        let reject_all = ReviewInput {
            decisions: (0..7)
                .map(|deduction| DecisionInput {
                    deduction,
                    decision: DecisionWord::Reject,
                    comment: String::new(),
                })
                .collect(),
            ..ReviewInput::default()
        };
        for who in [&boss, &insp] {
            submit_calibration(&store, who, "c", &reject_all).expect("calibrate");
        }
        assert_eq!(reviewed_scores(&store).expect("scores"), before);
        assert_eq!(before["c"].score, 76.0);
        let view = call_view(&store, &boss, "c").expect("view");
        assert_eq!(view.state, State::Published);
        assert!(view
            .deductions
            .iter()
            .all(|d| d.decision == Decision::Pending));
    }

    #[test]
    fn appeals_close_with_the_window_and_published_calls_lock() {
        let (_dir, store) = store();
        let boss = user("boss", Role::Supervisor, None);
        let ag = user("ag", Role::Agent, Some("a"));
        assign(&store, &boss, "c", "insp").expect("assign");
        let publish = ReviewInput {
            publish: true,
            ..ReviewInput::default()
        };
        submit_review(&store, &rubrics(), &boss, "c", &publish).expect("publish");
        let late = appeal(
            &store,
            &ag,
            "c",
            &AppealInput {
                deduction: 0,
                reason: "r".into(),
            },
            -1,
        );
        assert!(matches!(late, Err(ReviewError::Conflict(_))), "{late:?}");
        assert_eq!(lock_expired(&store, 7 * 86400).expect("lock"), 0);
        assert_eq!(lock_expired(&store, -1).expect("lock"), 1);
        let view = call_view(&store, &boss, "c").expect("view");
        assert_eq!(view.state, State::Locked);
    }

    #[test]
    fn passwords_and_sessions() {
        let (_dir, store) = store();
        assert!(check_password(&store, "insp", "password1")
            .expect("check")
            .is_some());
        assert!(check_password(&store, "insp", "wrong-password")
            .expect("check")
            .is_none());
        assert!(check_password(&store, "nobody", "password1")
            .expect("check")
            .is_none());
        let insp = user("insp", Role::Inspector, None);
        let (token, csrf) = create_session(&store, &insp).expect("session");
        let s = session(&store, &token).expect("lookup").expect("live");
        assert_eq!(
            (s.user.name.as_str(), s.csrf.as_str()),
            ("insp", csrf.as_str())
        );
        end_session(&store, &token).expect("end");
        assert!(session(&store, &token).expect("lookup").is_none());
        assert!(matches!(
            add_user(&store, "t", "x", Role::Agent, None, "password1"),
            Err(ReviewError::Invalid(_))
        ));
        assert!(remove_user(&store, "t", "insp").expect("remove"));
        assert!(review::user(&store, "insp").expect("read").is_none());
    }
}
