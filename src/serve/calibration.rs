//! Calibration over HTTP: supervisors open a call for calibration with a lead; inspectors (and
//! the lead) score it blind on the usual call page, saving to `/api/calibration/{call_id}`;
//! `/calibration` and `GET /api/calibration` give supervisors and admins the agreement per
//! rule (percent and Cohen's kappa) and each inspector's departures from the lead. The logic
//! and the blindness live in [`crate::store::review`]; this is only HTTP.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Html;
use maud::html;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::{Authed, Changing, Page};
use super::error::ApiError;
use super::json::Json;
use super::pages::{call_markup, layout, points, segment, Can, Lang};
use super::App;
use crate::store::review::{self, Agreement, CalibrationReport, ReviewInput, Role};

/// What `/calibration` shows a user: the open calls, and the report for those who may see it.
async fn overview(
    app: &Arc<App>,
    auth: &Authed,
) -> Result<(Vec<review::CalibrationCall>, Option<CalibrationReport>), ApiError> {
    let user = auth.user.clone();
    app.db(move |_, store| {
        let calls = review::calibration_calls(store, &user)?;
        let report = match user.role {
            Role::Supervisor | Role::Admin => Some(review::calibration_report(store, &user)?),
            _ => None,
        };
        Ok((calls, report))
    })
    .await
}

/// `GET /api/calibration`: `{"calls": [...], "report": {...}}` (the report for supervisors
/// and admins only).
pub(crate) async fn list(
    State(app): State<Arc<App>>,
    auth: Authed,
) -> Result<Json<Value>, ApiError> {
    let (calls, report) = overview(&app, &auth).await?;
    Ok(Json(json!({"calls": calls, "report": report})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OpenBody {
    call_id: String,
    lead: String,
}

/// `POST /api/calibration` `{"call_id", "lead"}` (supervisor).
pub(crate) async fn open(
    State(app): State<Arc<App>>,
    Changing(auth): Changing,
    Json(body): Json<OpenBody>,
) -> Result<Json<Value>, ApiError> {
    let user = auth.user.clone();
    app.write(move |_, store| {
        Ok(review::open_calibration(
            store,
            &user,
            &body.call_id,
            &body.lead,
        )?)
    })
    .await?;
    list(State(app), auth).await
}

async fn blind(
    app: &Arc<App>,
    auth: &Authed,
    call_id: String,
) -> Result<review::CallView, ApiError> {
    let user = auth.user.clone();
    app.db(move |_, store| Ok(review::calibration_view(store, &user, &call_id)?))
        .await
}

/// `GET /api/calibration/{call_id}`: the call with the user's own answers only.
pub(crate) async fn detail(
    State(app): State<Arc<App>>,
    auth: Authed,
    Path(call_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(super::api::call_json(
        &blind(&app, &auth, call_id).await?,
    )))
}

/// `POST /api/calibration/{call_id}`: the user's blind answers (the review body, without
/// `publish` or `flags`).
pub(crate) async fn submit(
    State(app): State<Arc<App>>,
    Changing(auth): Changing,
    Path(call_id): Path<String>,
    Json(input): Json<ReviewInput>,
) -> Result<Json<Value>, ApiError> {
    let (user, id) = (auth.user.clone(), call_id.clone());
    app.write(move |_, store| Ok(review::submit_calibration(store, &user, &id, &input)?))
        .await?;
    detail(State(app), auth, Path(call_id)).await
}

/// `GET /calibration/{call_id}`: the call page for scoring blind.
pub(crate) async fn call_page(
    State(app): State<Arc<App>>,
    Page(auth): Page,
    headers: HeaderMap,
    Path(call_id): Path<String>,
) -> Result<Html<String>, ApiError> {
    let l = Lang::of(&headers);
    let view = blind(&app, &auth, call_id).await?;
    let body = html! {
        p.notice { (l.t("校准评分：独立作答，看不到他人的答案；不发布，不计入成绩。",
                        "Calibration: score on your own; nobody's answers are shown, nothing is published or counted.")) }
        (call_markup(l, &Can::calibrating(), &view))
    };
    Ok(layout(l, &view.call_id, Some(&auth.user), &auth.csrf, body))
}

fn kappa(a: &Agreement) -> String {
    a.kappa.map_or("—".into(), |k| format!("{k:.2}"))
}

/// `GET /calibration`: open calibration calls; for supervisors and admins, the agreement per
/// rule and per inspector with every departure, and a form to open a call.
pub(crate) async fn page(
    State(app): State<Arc<App>>,
    Page(auth): Page,
    headers: HeaderMap,
) -> Result<Html<String>, ApiError> {
    let l = Lang::of(&headers);
    let (calls, report) = overview(&app, &auth).await?;
    let body = html! {
        h1 { (l.t("校准", "Calibration")) }
        @if auth.user.role == Role::Supervisor {
            div.actions #calibrate {
                label { (l.t("通话", "Call")) input #calibrate-call name="call_id"; }
                label { (l.t("标准答案（组长）", "Lead")) input #calibrate-lead name="lead"; }
                button #open-calibration type="button" { (l.t("发起校准", "Open calibration")) }
            }
            p #message.error {}
        }
        table.queue.calibration-calls {
            thead { tr { th { (l.t("通话", "Call")) } th { (l.t("坐席", "Agent")) } th { (l.t("组长", "Lead")) } th { (l.t("已作答人数", "Answers")) } th { (l.t("我已作答", "Answered by me")) } } }
            tbody { @for c in &calls { tr {
                td { a href=(format!("/calibration/{}", segment(&c.call_id))) { (c.call_id) } }
                td { (c.agent_id) } td { (c.lead) } td { (c.answers) }
                td { @if c.answered { "✓" } }
            } } }
        }
        @if let Some(r) = &report { (report_markup(l, r)) }
    };
    Ok(layout(
        l,
        l.t("校准", "Calibration"),
        Some(&auth.user),
        &auth.csrf,
        body,
    ))
}

fn report_markup(l: Lang, r: &CalibrationReport) -> maud::Markup {
    html! {
        h2 { (l.t("各规则一致性", "Agreement per rule")) " (" (r.calls) " " (l.t("通", "calls")) ")" }
        table.agreement #rules {
            thead { tr { th { (l.t("规则", "Rule")) } th { (l.t("对比项", "Pairs")) } th { (l.t("一致率", "Agreement")) } th { "Cohen's κ" } } }
            tbody { @for x in &r.rules { @let a = &x.agreement; tr data-rule=(x.rule) {
                td { (x.rule) } td { (a.pairs) } td { (points((a.percent * 10.0).round() / 10.0)) "%" } td.kappa { (kappa(a)) }
            } } }
        }
        h2 { (l.t("各质检员与组长的差异", "Each inspector against the lead")) }
        @for i in &r.inspectors {
            h3 { (i.inspector) " · " (points((i.agreement.percent * 10.0).round() / 10.0)) "% · κ " (kappa(&i.agreement)) }
            @if !i.departures.is_empty() {
                table.departures { tbody { @for d in &i.departures { tr {
                    td { a href=(format!("/calibration/{}", segment(&d.call_id))) { (d.call_id) } }
                    td { (d.rule) } td { code { (d.item) } }
                    td { (l.t("答", "said")) " " (d.answer) } td { (l.t("组长", "lead")) " " (d.lead_answer) }
                } } } }
            }
        }
    }
}
