//! The JSON API under `/api`: the contract integrations and tests rely on (see the README's
//! "Review workspace" section).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::{Authed, Changing};
use super::error::ApiError;
use super::json::Json;
use super::App;
use crate::store::review::{
    self, AppealInput, Filter, OutcomeInput, ReviewError, ReviewInput, User,
};
use crate::store::Store;

/// `GET /api/calls`: the calls the user may see, newest first, with counts per state.
pub(crate) async fn list(
    State(app): State<Arc<App>>,
    auth: Authed,
    Query(filter): Query<Filter>,
) -> Result<Json<Value>, ApiError> {
    let limit = filter.limit.unwrap_or(100).min(review::MAX_PAGE);
    let (calls, counts) = app.queue(auth.user, filter).await?;
    // A full page may have more after it: the cursor to ask for them with `after`.
    let next = (calls.len() == limit)
        .then(|| calls.last().map(review::cursor))
        .flatten();
    Ok(Json(
        json!({"calls": calls, "counts": counts, "next": next}),
    ))
}

/// The call as JSON: the review view plus the transcript and hits.
pub(crate) fn call_json(view: &review::CallView) -> Value {
    let mut v = serde_json::to_value(view).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.insert("segments".into(), json!(view.result.segments));
        o.insert("hits".into(), json!(view.result.hits));
    }
    v
}

async fn view(app: &Arc<App>, user: User, call_id: String) -> Result<Json<Value>, ApiError> {
    let view = app
        .db(move |_, store| Ok(review::call_view(store, &user, &call_id)?))
        .await?;
    Ok(Json(call_json(&view)))
}

/// `GET /api/calls/{call_id}`.
pub(crate) async fn detail(
    State(app): State<Arc<App>>,
    auth: Authed,
    Path(call_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    view(&app, auth.user, call_id).await
}

/// Runs a change as `auth`'s user on `call_id`, then answers with the call as they now see it.
async fn change<T, F>(
    app: &Arc<App>,
    auth: Authed,
    call_id: String,
    f: F,
) -> Result<(T, Json<Value>), ApiError>
where
    T: Send + 'static,
    F: FnOnce(&App, &Store, &User, &str) -> Result<T, ReviewError> + Send + 'static,
{
    let (user, id) = (auth.user.clone(), call_id.clone());
    let out = app
        .write(move |app, store| Ok(f(app, store, &user, &id)?))
        .await?;
    Ok((out, view(app, auth.user, call_id).await?))
}

/// `POST /api/calls/{call_id}/review`: verdicts, manual answers, and `publish`.
pub(crate) async fn review(
    State(app): State<Arc<App>>,
    Changing(auth): Changing,
    Path(call_id): Path<String>,
    Json(input): Json<ReviewInput>,
) -> Result<Json<Value>, ApiError> {
    let submit = move |app: &App, store: &Store, user: &User, id: &str| {
        review::submit_review(store, &app.config.rubrics, user, id, &input)
    };
    Ok(change(&app, auth, call_id, submit).await?.1)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AssignBody {
    inspector: String,
}

/// `POST /api/calls/{call_id}/assign` (supervisor, admin).
pub(crate) async fn assign(
    State(app): State<Arc<App>>,
    Changing(auth): Changing,
    Path(call_id): Path<String>,
    Json(body): Json<AssignBody>,
) -> Result<Json<Value>, ApiError> {
    let assign = move |_: &App, store: &Store, user: &User, id: &str| {
        review::assign(store, user, id, &body.inspector)
    };
    Ok(change(&app, auth, call_id, assign).await?.1)
}

/// `POST /api/calls/{call_id}/recall` (supervisor, admin): back to `auto_scored`.
pub(crate) async fn recall(
    State(app): State<Arc<App>>,
    Changing(auth): Changing,
    Path(call_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let recall = |_: &App, store: &Store, user: &User, id: &str| review::recall(store, user, id);
    Ok(change(&app, auth, call_id, recall).await?.1)
}

/// `POST /api/calls/{call_id}/acknowledge` (the agent).
pub(crate) async fn acknowledge(
    State(app): State<Arc<App>>,
    Changing(auth): Changing,
    Path(call_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let ack = |_: &App, store: &Store, user: &User, id: &str| review::acknowledge(store, user, id);
    Ok(change(&app, auth, call_id, ack).await?.1)
}

/// `POST /api/calls/{call_id}/appeal` (the agent, own published call, within the window).
pub(crate) async fn appeal(
    State(app): State<Arc<App>>,
    Changing(auth): Changing,
    Path(call_id): Path<String>,
    Json(input): Json<AppealInput>,
) -> Result<Json<Value>, ApiError> {
    let file = move |app: &App, store: &Store, user: &User, id: &str| {
        review::appeal(store, user, id, &input, app.config.appeal_window_secs)
    };
    let (appeal_id, Json(mut call)) = change(&app, auth, call_id, file).await?;
    if let Some(o) = call.as_object_mut() {
        o.insert("appeal_id".into(), json!(appeal_id));
    }
    Ok(Json(call))
}

/// `POST /api/calls/{call_id}/appeals/{appeal_id}/decision` (supervisor).
pub(crate) async fn decide(
    State(app): State<Arc<App>>,
    Changing(auth): Changing,
    Path((call_id, appeal_id)): Path<(String, i64)>,
    Json(input): Json<OutcomeInput>,
) -> Result<Json<Value>, ApiError> {
    let decide = move |app: &App, store: &Store, user: &User, id: &str| {
        review::decide_appeal(store, &app.config.rubrics, user, id, appeal_id, &input)
    };
    Ok(change(&app, auth, call_id, decide).await?.1)
}
