//! One error type for every handler, and the headers every response carries. Database and
//! internal details go to the log, never to the client.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::json::Json;

use crate::store::review::ReviewError;
use crate::store::StoreError;

#[derive(Debug)]
pub(crate) enum ApiError {
    /// No valid session.
    Unauthorized,
    Forbidden(String),
    NotFound,
    Conflict(String),
    Invalid(String),
    /// A body that is not the JSON asked for.
    BadRequest(String),
    /// Too many failed logins; retry after this many seconds.
    TooMany(u64),
    Internal(String),
}

impl From<ReviewError> for ApiError {
    fn from(e: ReviewError) -> ApiError {
        match e {
            ReviewError::Store(e) => e.into(),
            ReviewError::NotFound(_) => ApiError::NotFound,
            ReviewError::Forbidden(m) => ApiError::Forbidden(m),
            ReviewError::Conflict(m) => ApiError::Conflict(m),
            ReviewError::Invalid(m) => ApiError::Invalid(m),
            ReviewError::Random(m) => ApiError::Internal(m),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        ApiError::Internal(e.to_string())
    }
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn message(&self) -> String {
        match self {
            ApiError::Unauthorized => "not logged in".into(),
            ApiError::NotFound => "not found".into(),
            ApiError::Forbidden(m)
            | ApiError::Conflict(m)
            | ApiError::Invalid(m)
            | ApiError::BadRequest(m) => m.clone(),
            ApiError::TooMany(secs) => format!("too many failed logins; retry in {secs} s"),
            ApiError::Internal(_) => "internal error; see the server log".into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) = &self {
            tracing::error!("{detail}");
        }
        let mut response = (
            self.status(),
            Json(serde_json::json!({"error": self.message()})),
        )
            .into_response();
        if let ApiError::TooMany(secs) = self {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

/// Headers on every response: nothing loads from elsewhere or runs inline (the script is
/// `/static/app.js`), no framing, no MIME sniffing, no referrer, nothing cached.
pub(crate) async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    let set = [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             media-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
             frame-ancestors 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
    ];
    for (name, value) in set {
        h.insert(name, HeaderValue::from_static(value));
    }
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}
