//! Calibration: several inspectors score the same call blind, and the agreement between them
//! and the lead's answer is measured per rule (percent agreement and Cohen's kappa), with
//! every departure listed per inspector. Answers live in their own tables: a calibration is
//! never published, never changes the call's state and never reaches a score. Its audit rows
//! carry no call id, so the call's history (which the agent sees) does not reveal them, and an
//! inspector sees only their own answers until the report.

use super::*;

/// A call open for calibration, as a participant sees the list.
#[derive(Clone, Debug, Serialize)]
pub struct CalibrationCall {
    pub call_id: String,
    pub agent_id: String,
    pub lead: String,
    /// Whether the viewer has answered it.
    pub answered: bool,
    /// How many people have answered it.
    pub answers: i64,
}

/// Agreement on one rule, or of one inspector with the lead.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Agreement {
    /// Items both the lead and an inspector answered.
    pub pairs: usize,
    pub agreed: usize,
    /// Percent of pairs that agree.
    pub percent: f64,
    /// Cohen's kappa; `None` when chance agreement is total (one answer everywhere).
    pub kappa: Option<f64>,
}

/// Where an inspector's answer is not the lead's.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Departure {
    pub call_id: String,
    pub rule: String,
    /// The item: `d:` a deduction's key, `f:` a finding's, `m:` a manual rule.
    pub item: String,
    pub answer: String,
    pub lead_answer: String,
}

/// Agreement of one inspector with the lead, and their departures.
#[derive(Clone, Debug, Serialize)]
pub struct InspectorAgreement {
    pub inspector: String,
    #[serde(flatten)]
    pub agreement: Agreement,
    pub departures: Vec<Departure>,
}

/// Agreement on one rule.
#[derive(Clone, Debug, Serialize)]
pub struct RuleAgreement {
    pub rule: String,
    #[serde(flatten)]
    pub agreement: Agreement,
}

/// The calibration report: per rule, and per inspector.
#[derive(Clone, Debug, Serialize)]
pub struct CalibrationReport {
    pub calls: usize,
    pub rules: Vec<RuleAgreement>,
    pub inspectors: Vec<InspectorAgreement>,
}

/// Cohen's kappa of paired answers (rater A, rater B): observed agreement corrected for the
/// agreement the two raters' own answer rates would give by chance.
pub fn cohen_kappa<S: AsRef<str>>(pairs: &[(S, S)]) -> Option<f64> {
    if pairs.is_empty() {
        return None;
    }
    let n = pairs.len() as f64;
    let observed = pairs
        .iter()
        .filter(|(a, b)| a.as_ref() == b.as_ref())
        .count() as f64
        / n;
    let mut rates: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
    for (a, b) in pairs {
        rates.entry(a.as_ref()).or_default().0 += 1.0 / n;
        rates.entry(b.as_ref()).or_default().1 += 1.0 / n;
    }
    let chance: f64 = rates.values().map(|(a, b)| a * b).sum();
    if (1.0 - chance).abs() < 1e-12 {
        return None;
    }
    Some((observed - chance) / (1.0 - chance))
}

fn agreement(pairs: &[(String, String)]) -> Agreement {
    let agreed = pairs.iter().filter(|(a, b)| a == b).count();
    Agreement {
        pairs: pairs.len(),
        agreed,
        percent: if pairs.is_empty() {
            0.0
        } else {
            100.0 * agreed as f64 / pairs.len() as f64
        },
        kappa: cohen_kappa(pairs),
    }
}

fn may_calibrate(who: &User) -> Result<()> {
    match who.role {
        Role::Inspector | Role::Supervisor => Ok(()),
        _ => Err(ReviewError::Forbidden(format!(
            "a {} does not take part in calibrations",
            who.role
        ))),
    }
}

fn may_see_report(who: &User) -> Result<()> {
    match who.role {
        Role::Supervisor | Role::Admin => Ok(()),
        _ => Err(ReviewError::Forbidden(
            "calibration results are for supervisors".into(),
        )),
    }
}

/// Opens `call_id` for calibration with `lead` as the reference answer (supervisor only).
pub fn open_calibration(store: &Store, who: &User, call_id: &str, lead: &str) -> Result<()> {
    if who.role != Role::Supervisor {
        return Err(ReviewError::Forbidden(
            "only a supervisor opens a calibration".into(),
        ));
    }
    indexed(store, call_id)?;
    let target =
        user(store, lead)?.ok_or_else(|| ReviewError::Invalid(format!("no user {lead}")))?;
    may_calibrate(&target)?;
    let e = sql_err(store);
    let tx = write_tx(store).map_err(&e)?;
    tx.execute(
        "INSERT INTO calibration_leads (call_id, lead) VALUES (?1, ?2)
         ON CONFLICT (call_id) DO UPDATE SET lead = excluded.lead",
        params![call_id, lead],
    )
    .map_err(&e)?;
    audit(
        &tx,
        &who.name,
        None,
        "calibration_open",
        serde_json::Value::Null,
        serde_json::json!({"call_id": call_id, "lead": lead}),
    )
    .map_err(&e)?;
    tx.commit().map_err(&e)
}

/// The calls open for calibration, newest first.
pub fn calibration_calls(store: &Store, who: &User) -> Result<Vec<CalibrationCall>> {
    if who.role == Role::Agent {
        return Err(ReviewError::Forbidden(
            "agents do not take part in calibrations".into(),
        ));
    }
    let e = sql_err(store);
    let mut stmt = store
        .conn
        .prepare_cached(
            "SELECT l.call_id, i.agent_id, l.lead,
                    EXISTS (SELECT 1 FROM calibrations c WHERE c.call_id = l.call_id
                              AND c.inspector = ?1),
                    (SELECT COUNT(*) FROM calibrations c WHERE c.call_id = l.call_id)
             FROM calibration_leads l JOIN call_index i ON i.call_id = l.call_id
             ORDER BY i.started_at DESC, l.call_id",
        )
        .map_err(&e)?;
    let rows = stmt
        .query_map([&who.name], |r| {
            Ok(CalibrationCall {
                call_id: r.get(0)?,
                agent_id: r.get(1)?,
                lead: r.get(2)?,
                answered: r.get(3)?,
                answers: r.get(4)?,
            })
        })
        .map_err(&e)?;
    rows.collect::<rusqlite::Result<_>>().map_err(&e)
}

fn open_call(store: &Store, call_id: &str) -> Result<Indexed> {
    let open: bool = store
        .conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM calibration_leads WHERE call_id = ?1)",
            [call_id],
            |r| r.get(0),
        )
        .map_err(sql_err(store))?;
    if !open {
        return Err(ReviewError::NotFound(format!(
            "calibration of call {call_id}"
        )));
    }
    indexed(store, call_id)
}

/// The call as a participant scores it blind: the machine's result with their own answers
/// only, no review, no history.
pub fn calibration_view(store: &Store, who: &User, call_id: &str) -> Result<CallView> {
    may_calibrate(who)?;
    let idx = open_call(store, call_id)?;
    let result = result(store, call_id)?;
    let mut stored = Stored::empty(&result);
    for (item, answer, points, comment) in own_answers(store, who, call_id)? {
        place_answer(&mut stored, &result, &item, &answer, points, comment);
    }
    Ok(build_view(idx, result, stored))
}

type Answer = (String, String, Option<f64>, String);

fn own_answers(store: &Store, who: &User, call_id: &str) -> Result<Vec<Answer>> {
    let e = sql_err(store);
    let mut stmt = store
        .conn
        .prepare_cached(
            "SELECT a.item, a.answer, a.points, a.comment FROM calibration_answers a
             JOIN calibrations c ON c.id = a.calibration_id
             WHERE c.call_id = ?1 AND c.inspector = ?2",
        )
        .map_err(&e)?;
    let rows = stmt
        .query_map(params![call_id, who.name], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .map_err(&e)?;
    rows.collect::<rusqlite::Result<_>>().map_err(&e)
}

/// Shows one stored answer on the blind view, where the item still exists.
fn place_answer(
    stored: &mut Stored,
    result: &CallResult,
    item: &str,
    answer: &str,
    points: Option<f64>,
    comment: String,
) {
    let decision = if answer == "reject" {
        Decision::Rejected
    } else {
        Decision::Confirmed
    };
    if let Some(key) = item.strip_prefix("d:") {
        if let Some(i) = result
            .deductions
            .iter()
            .position(|d| deduction_key(d) == key)
        {
            stored.deductions[i] = Some(StoredVerdict {
                decision,
                comment,
                points: None,
            });
        }
    } else if let Some(key) = item.strip_prefix("f:") {
        if let Some(i) = result.findings.iter().position(|f| finding_key(f) == key) {
            stored.findings[i] = Some((decision, comment));
        }
    } else if let Some(rule) = item.strip_prefix("m:") {
        stored.manual.insert(rule.to_string(), (points, comment));
    }
}

/// The answers of one submission as (item, rule, answer, points, comment).
fn answers_of(
    result: &CallResult,
    input: &ReviewInput,
) -> Vec<(String, String, &'static str, Option<f64>, String)> {
    let word = |d: DecisionWord| match d {
        DecisionWord::Confirm => "confirm",
        DecisionWord::Reject => "reject",
    };
    let deductions = input.decisions.iter().map(|d| {
        let x = &result.deductions[d.deduction];
        (
            format!("d:{}", deduction_key(x)),
            x.rule.clone(),
            word(d.decision),
            None,
            d.comment.clone(),
        )
    });
    let findings = input.findings.iter().map(|f| {
        let x = &result.findings[f.finding];
        (
            format!("f:{}", finding_key(x)),
            x.rule.clone(),
            word(f.decision),
            None,
            f.comment.clone(),
        )
    });
    let manual = input.manual.iter().map(|m| {
        let points = if m.na { None } else { m.points };
        let answer = if points.is_some_and(|p| p > 0.0) {
            "deduct"
        } else {
            "pass"
        };
        (
            format!("m:{}", m.rule),
            m.rule.clone(),
            answer,
            points,
            m.comment.clone(),
        )
    });
    deductions.chain(findings).chain(manual).collect()
}

/// Records `who`'s blind answers on a calibration call, replacing the ones given on the same
/// items before. Nothing is published and no score changes.
pub fn submit_calibration(
    store: &Store,
    who: &User,
    call_id: &str,
    input: &ReviewInput,
) -> Result<()> {
    may_calibrate(who)?;
    if input.publish || input.flags.is_some() {
        return Err(ReviewError::Invalid(
            "a calibration is never published and takes no flags".into(),
        ));
    }
    open_call(store, call_id)?;
    let result = result(store, call_id)?;
    check_review(&result, input)?;
    let answers = answers_of(&result, input);
    let e = sql_err(store);
    let tx = write_tx(store).map_err(&e)?;
    tx.execute(
        "INSERT OR IGNORE INTO calibrations (call_id, inspector, created_at) VALUES (?1, ?2, ?3)",
        params![call_id, who.name, now_text()],
    )
    .map_err(&e)?;
    let id: i64 = tx
        .query_row(
            "SELECT id FROM calibrations WHERE call_id = ?1 AND inspector = ?2",
            params![call_id, who.name],
            |r| r.get(0),
        )
        .map_err(&e)?;
    for (item, rule, answer, points, comment) in &answers {
        tx.execute(
            "INSERT OR REPLACE INTO calibration_answers
                 (calibration_id, rule, item, answer, points, comment)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![id, rule, item, answer, points, comment],
        )
        .map_err(&e)?;
    }
    audit(
        &tx,
        &who.name,
        None,
        "calibrate",
        serde_json::Value::Null,
        serde_json::json!({"call_id": call_id, "answers": answers.len()}),
    )
    .map_err(&e)?;
    tx.commit().map_err(&e)
}

/// One answered item: (call, inspector, item, rule, answer, the call's lead).
type Answered = (String, String, String, String, String, String);

/// Agreement per rule and per inspector with the lead, over every calibration call. An item
/// counts where both the lead and the inspector answered it.
pub fn calibration_report(store: &Store, who: &User) -> Result<CalibrationReport> {
    may_see_report(who)?;
    let e = sql_err(store);
    let mut stmt = store
        .conn
        .prepare_cached(
            "SELECT c.call_id, c.inspector, a.item, a.rule, a.answer, l.lead
             FROM calibration_answers a
             JOIN calibrations c ON c.id = a.calibration_id
             JOIN calibration_leads l ON l.call_id = c.call_id
             ORDER BY c.call_id, a.item, c.inspector",
        )
        .map_err(&e)?;
    let rows: Vec<Answered> = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .map_err(&e)?
        .collect::<rusqlite::Result<_>>()
        .map_err(&e)?;
    Ok(report_of(&rows))
}

/// (an inspector's answer, the lead's answer) on one item.
type Pair = (String, String);

fn report_of(rows: &[Answered]) -> CalibrationReport {
    let lead_answer: HashMap<(&str, &str), &str> = rows
        .iter()
        .filter(|(_, who, .., lead)| who == lead)
        .map(|(call, _, item, _, answer, _)| ((call.as_str(), item.as_str()), answer.as_str()))
        .collect();
    let mut by_rule: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut by_inspector: BTreeMap<String, (Vec<Pair>, Vec<Departure>)> = BTreeMap::new();
    for (call, who, item, rule, answer, _) in rows.iter().filter(|r| r.1 != r.5) {
        let Some(&reference) = lead_answer.get(&(call.as_str(), item.as_str())) else {
            continue;
        };
        let pair = (answer.clone(), reference.to_string());
        by_rule.entry(rule.clone()).or_default().push(pair.clone());
        let mine = by_inspector.entry(who.clone()).or_default();
        mine.0.push(pair);
        if answer != reference {
            mine.1.push(Departure {
                call_id: call.clone(),
                rule: rule.clone(),
                item: item.clone(),
                answer: answer.clone(),
                lead_answer: reference.to_string(),
            });
        }
    }
    let calls: std::collections::BTreeSet<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    CalibrationReport {
        calls: calls.len(),
        rules: by_rule
            .into_iter()
            .map(|(rule, pairs)| RuleAgreement {
                agreement: agreement(&pairs),
                rule,
            })
            .collect(),
        inspectors: by_inspector
            .into_iter()
            .map(|(inspector, (pairs, departures))| InspectorAgreement {
                inspector,
                agreement: agreement(&pairs),
                departures,
            })
            .collect(),
    }
}
