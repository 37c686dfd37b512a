//! Logins, sessions, CSRF and the login rate limit.
//!
//! A handler that takes [`Authed`] cannot run without a live session; one that takes
//! [`Changing`] also needs the session's CSRF token in `X-CSRF-Token`; [`Page`] is [`Authed`]
//! for HTML, answering 303 to `/login` instead of 401.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::error::ApiError;
use super::json::Json;
use super::App;
use crate::store::review::{self, User};

/// The session cookie's name.
pub(crate) const COOKIE: &str = "callqa_session";

/// A request with a live session.
#[derive(Clone, Debug)]
pub(crate) struct Authed {
    pub user: User,
    pub csrf: String,
}

/// A request with a live session and the right CSRF token: every state change takes this.
#[derive(Clone, Debug)]
pub(crate) struct Changing(pub Authed);

/// A page request: like [`Authed`], but without a session the answer is 303 to `/login`.
#[derive(Clone, Debug)]
pub(crate) struct Page(pub Authed);

/// The value of cookie `name` in the request, if sent.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

async fn authed(parts: &Parts, app: &Arc<App>) -> Result<Authed, ApiError> {
    let token = cookie(&parts.headers, COOKIE).ok_or(ApiError::Unauthorized)?;
    // A real token is 64 hex characters; anything else is not worth a query.
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::Unauthorized);
    }
    let session = app
        .db(move |_, store| Ok(review::session(store, &token)?))
        .await?
        .ok_or(ApiError::Unauthorized)?;
    Ok(Authed {
        user: session.user,
        csrf: session.csrf,
    })
}

impl FromRequestParts<Arc<App>> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, ApiError> {
        authed(parts, app).await
    }
}

impl FromRequestParts<Arc<App>> for Changing {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, ApiError> {
        let auth = authed(parts, app).await?;
        let sent = parts
            .headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !same(sent.as_bytes(), auth.csrf.as_bytes()) {
            return Err(ApiError::Forbidden("missing or wrong CSRF token".into()));
        }
        Ok(Changing(auth))
    }
}

impl FromRequestParts<Arc<App>> for Page {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, Response> {
        match authed(parts, app).await {
            Ok(a) => Ok(Page(a)),
            Err(ApiError::Unauthorized) => Err(Redirect::to("/login").into_response()),
            Err(e) => Err(e.into_response()),
        }
    }
}

/// Constant-time comparison, so response timing does not reveal how much of a token matched.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Failed logins per key (`user:NAME`, `addr:IP`) in a sliding window.
#[derive(Default)]
pub(crate) struct Limiter {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

/// The window failures are counted in.
const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failures allowed per user name in the window.
const PER_USER: usize = 5;
/// Failures allowed per client address in the window (a shared office NAT has many users).
const PER_ADDRESS: usize = 20;
/// Keys kept before old ones are swept, so a flood of names cannot grow memory without bound.
const MAX_KEYS: usize = 10_000;

impl Limiter {
    fn limit(key: &str) -> usize {
        if key.starts_with("user:") {
            PER_USER
        } else {
            PER_ADDRESS
        }
    }

    /// Seconds to wait if any key is over its limit.
    fn blocked(&self, keys: &[String]) -> Option<u64> {
        let now = Instant::now();
        let mut map = self.failures.lock().ok()?;
        keys.iter()
            .filter_map(|k| {
                let times = map.get_mut(k)?;
                while times
                    .front()
                    .is_some_and(|t| now.duration_since(*t) > WINDOW)
                {
                    times.pop_front();
                }
                (times.len() >= Limiter::limit(k)).then(|| {
                    let oldest = times.front().copied().unwrap_or(now);
                    (WINDOW.saturating_sub(now.duration_since(oldest))).as_secs() + 1
                })
            })
            .max()
    }

    fn fail(&self, keys: &[String]) {
        let Ok(mut map) = self.failures.lock() else {
            return;
        };
        let now = Instant::now();
        if map.len() > MAX_KEYS {
            map.retain(|_, t| t.back().is_some_and(|t| now.duration_since(*t) < WINDOW));
        }
        for k in keys {
            map.entry(k.clone()).or_default().push_back(now);
        }
    }

    fn clear(&self, key: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(key);
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct LoginBody {
    username: String,
    password: String,
}

/// `POST /api/login`: a new session (any session the request carried is ended first, so a
/// planted session id never becomes a logged-in one), its cookie and its CSRF token.
pub(crate) async fn login(
    State(app): State<Arc<App>>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Json(body): Json<LoginBody>,
) -> Result<Response, ApiError> {
    let keys = [
        format!("user:{}", body.username),
        format!("addr:{}", addr.ip()),
    ];
    if let Some(wait) = app.limiter.blocked(&keys) {
        return Err(ApiError::TooMany(wait));
    }
    let old = cookie(&headers, COOKIE);
    let LoginBody { username, password } = body;
    let opened = app
        .db(move |_, store| {
            if let Some(old) = old {
                review::end_session(store, &old)?;
            }
            let Some(user) = review::check_password(store, &username, &password)? else {
                return Ok(None);
            };
            let (token, csrf) = review::create_session(store, &user)?;
            Ok(Some((user, token, csrf)))
        })
        .await?;
    let Some((user, token, csrf)) = opened else {
        app.limiter.fail(&keys);
        return Err(ApiError::Unauthorized);
    };
    app.limiter.clear(&keys[0]);
    let cookie = session_cookie(&token, app.config.secure_cookie, review::SESSION_SECS);
    Ok((
        [(header::SET_COOKIE, cookie)],
        Json(serde_json::json!({"csrf_token": csrf, "user": user})),
    )
        .into_response())
}

fn session_cookie(token: &str, secure: bool, max_age: i64) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text =
        format!("{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{secure}");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `POST /api/logout`.
pub(crate) async fn logout(
    State(app): State<Arc<App>>,
    Changing(_): Changing,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(token) = cookie(&headers, COOKIE) {
        app.db(move |_, store| Ok(review::end_session(store, &token)?))
            .await?;
    }
    let cookie = session_cookie("", app.config.secure_cookie, 0);
    Ok(([(header::SET_COOKIE, cookie)], Json(serde_json::json!({}))).into_response())
}

/// `GET /api/me`: who is logged in, and the CSRF token (for scripts that lost it).
pub(crate) async fn me(auth: Authed) -> Json<serde_json::Value> {
    Json(serde_json::json!({"user": auth.user, "csrf_token": auth.csrf}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limiter_blocks_a_user_after_five_failures_and_an_address_after_twenty() {
        let l = Limiter::default();
        let keys = |u: &str| [format!("user:{u}"), "addr:10.0.0.1".to_string()];
        for _ in 0..PER_USER {
            assert!(l.blocked(&keys("a")).is_none());
            l.fail(&keys("a"));
        }
        assert!(l.blocked(&keys("a")).is_some());
        // Another name from the same address still may, until the address's own limit.
        assert!(l.blocked(&keys("b")).is_none());
        for i in 0..(PER_ADDRESS - PER_USER) {
            l.fail(&keys(&format!("u{i}")));
        }
        assert!(l.blocked(&keys("c")).is_some());
    }

    #[test]
    fn cookies_are_read_among_others_and_compared_in_full() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; callqa_session=abc; b=2"),
        );
        assert_eq!(cookie(&h, COOKIE).as_deref(), Some("abc"));
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd") && !same(b"abc", b"ab"));
    }
}
