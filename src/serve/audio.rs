//! `GET /api/calls/{call_id}/audio`: the call's recording as a browser-playable WAV, with
//! HTTP Range so the player can seek. The conversion is the HTML report's (16 kHz 16-bit PCM,
//! agent left, customer right), cached under `DIR/.serve/audio/` and redone when the recording
//! is newer; browsers cannot play G.711 WAV or rely on reaching the original's path.

use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::auth::Authed;
use super::error::ApiError;
use super::App;
use crate::store::review;

/// Largest body sent for one open-ended range; the player asks again for the rest.
const MAX_CHUNK: u64 = 4 << 20;

pub(crate) async fn serve(
    State(app): State<Arc<App>>,
    auth: Authed,
    Path(call_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let call = app
        .db(move |_, store| Ok(review::visible_result(store, &auth.user, &call_id)?))
        .await?;
    let wav = cache_path(&app, &call.call_id);
    {
        let _one_at_a_time = app.converting.lock().await;
        let (out, target) = (app.config.out.clone(), wav.clone());
        let redact = app.config.redact;
        tokio::task::spawn_blocking(move || {
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
            }
            crate::report::html::convert_audio(&out, &call, &target, redact)
        })
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Conflict(format!("the recording cannot be played: {e}")))?;
    }
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    tokio::task::spawn_blocking(move || respond(&wav, range.as_deref()))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
}

fn cache_path(app: &App, call_id: &str) -> PathBuf {
    let name = hex::encode(&Sha256::digest(call_id.as_bytes())[..16]);
    app.config
        .out
        .join(".serve")
        .join("audio")
        .join(format!("{name}.wav"))
}

/// The whole file (200) or the asked range (206), or 416 for a range outside the file.
fn respond(path: &std::path::Path, range: Option<&str>) -> Result<Response, ApiError> {
    let mut file = std::fs::File::open(path).map_err(|e| ApiError::Internal(e.to_string()))?;
    let len = file
        .metadata()
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .len();
    let (status, start, end) = match range.map(|r| parse_range(r, len)) {
        None => (StatusCode::OK, 0, len.saturating_sub(1)),
        Some(Some((s, e))) => (StatusCode::PARTIAL_CONTENT, s, e),
        Some(None) => {
            let mut r = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            insert(&mut r, header::CONTENT_RANGE, &format!("bytes */{len}"));
            return Ok(r);
        }
    };
    let mut body = vec![
        0u8;
        if len == 0 {
            0
        } else {
            (end - start + 1) as usize
        }
    ];
    file.seek(SeekFrom::Start(start))
        .and_then(|_| file.read_exact(&mut body))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut r = (status, body).into_response();
    insert(&mut r, header::CONTENT_TYPE, "audio/wav");
    insert(&mut r, header::ACCEPT_RANGES, "bytes");
    insert(&mut r, header::CACHE_CONTROL, "private, max-age=300");
    if status == StatusCode::PARTIAL_CONTENT {
        insert(
            &mut r,
            header::CONTENT_RANGE,
            &format!("bytes {start}-{end}/{len}"),
        );
    }
    Ok(r)
}

fn insert(r: &mut Response, name: header::HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        r.headers_mut().insert(name, v);
    }
}

/// One `bytes=` range of a file of `len` bytes, inclusive, clamped to the file; `None` when it
/// cannot be satisfied. Multiple ranges are answered with the first (players ask for one).
fn parse_range(header: &str, len: u64) -> Option<(u64, u64)> {
    let spec = header
        .trim()
        .strip_prefix("bytes=")?
        .split(',')
        .next()?
        .trim();
    let (a, b) = spec.split_once('-')?;
    if len == 0 {
        return None;
    }
    let (start, end) = if a.is_empty() {
        let suffix: u64 = b.parse().ok()?;
        if suffix == 0 {
            return None;
        }
        (len.saturating_sub(suffix), len - 1)
    } else {
        let start: u64 = a.parse().ok()?;
        let end = if b.is_empty() {
            (start + MAX_CHUNK - 1).min(len - 1)
        } else {
            b.parse::<u64>().ok()?.min(len - 1)
        };
        (start, end)
    };
    (start <= end && start < len).then_some((start, end))
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges_are_parsed_clamped_and_refused_like_rfc_9110_says() {
        let cases = [
            ("bytes=0-99", 1000, Some((0, 99))),
            ("bytes=900-", 1000, Some((900, 999))),
            ("bytes=-100", 1000, Some((900, 999))),
            ("bytes=-5000", 1000, Some((0, 999))),
            ("bytes=990-2000", 1000, Some((990, 999))),
            ("bytes=1000-", 1000, None),
            ("bytes=5-1", 1000, None),
            ("bytes=-0", 1000, None),
            ("items=0-1", 1000, None),
            ("bytes=a-b", 1000, None),
            ("bytes=0-", 100 << 20, Some((0, (4 << 20) - 1))),
        ];
        for (h, len, want) in cases {
            assert_eq!(parse_range(h, len), want, "{h} of {len}");
        }
    }
}
