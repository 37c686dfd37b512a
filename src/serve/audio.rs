//! `GET /api/calls/{call_id}/audio`: the call's recording as a browser-playable WAV, with
//! HTTP Range so the player can seek. The conversion is the HTML report's (16 kHz 16-bit PCM,
//! agent left, customer right), cached under `DIR/.serve/audio/` and redone when the recording
//! is newer; browsers cannot play G.711 WAV or rely on reaching the original's path.
//! `GET /api/calls/{call_id}/energy` reads the same WAV for the energy strip: the peak of
//! every 100 ms per channel, computed here so the page needs no audio decoding of its own.

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
    let (wav, _) = playable(&app, auth, call_id).await?;
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    tokio::task::spawn_blocking(move || respond(&wav, range.as_deref()))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
}

/// The converted WAV of a call the user may see (converted now if not cached or older than
/// the recording), and the call.
async fn playable(
    app: &Arc<App>,
    auth: Authed,
    call_id: String,
) -> Result<(PathBuf, crate::CallResult), ApiError> {
    let call = app
        .db(move |_, store| Ok(review::visible_result(store, &auth.user, &call_id)?))
        .await?;
    let wav = cache_path(app, &call.call_id);
    let _one_at_a_time = app.converting.lock().await;
    let (out, target, source) = (app.config.out.clone(), wav.clone(), call.clone());
    let redact = app.config.redact;
    tokio::task::spawn_blocking(move || {
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        crate::report::html::convert_audio(&out, &source, &target, redact)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
    .map_err(|e| ApiError::Conflict(format!("the recording cannot be played: {e}")))?;
    Ok((wav, call))
}

/// Width of one bar of the energy strip.
pub(crate) const STEP_MS: u64 = 100;

/// The energy strip of a call: per channel, the peak of each 100 ms as 0–100, and the
/// machine's deductions (their time spans) to mark on it.
#[derive(Debug, serde::Serialize)]
pub(crate) struct Energy {
    pub step_ms: u64,
    pub duration_ms: u64,
    pub agent: Vec<u8>,
    pub customer: Vec<u8>,
    pub deductions: Vec<(usize, u64, u64)>,
}

/// `GET /api/calls/{call_id}/energy`: the strip the call page draws under the player.
pub(crate) async fn energy(
    State(app): State<Arc<App>>,
    auth: Authed,
    Path(call_id): Path<String>,
) -> Result<super::json::Json<Energy>, ApiError> {
    let (wav, call) = playable(&app, auth, call_id).await?;
    let peaks = tokio::task::spawn_blocking(move || peaks(&wav))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    let step = peaks.0.len().max(peaks.1.len()) as u64 * STEP_MS;
    Ok(super::json::Json(Energy {
        step_ms: STEP_MS,
        duration_ms: call.duration_ms.max(step),
        agent: peaks.0,
        customer: peaks.1,
        deductions: call
            .deductions
            .iter()
            .enumerate()
            .map(|(i, d)| (i, d.start_ms, d.end_ms))
            .collect(),
    }))
}

/// Peak per 100 ms of each channel of the converted WAV (left agent, right customer), scaled
/// to 0–100 of full scale.
fn peaks(wav: &std::path::Path) -> Result<(Vec<u8>, Vec<u8>), ApiError> {
    let fail = |e: hound::Error| ApiError::Internal(format!("{}: {e}", wav.display()));
    let mut reader = hound::WavReader::open(wav).map_err(fail)?;
    let spec = reader.spec();
    let channels = usize::from(spec.channels.max(1));
    let per_bar = (spec.sample_rate as u64 * STEP_MS / 1000).max(1) as usize * channels;
    let (mut agent, mut customer) = (Vec::new(), Vec::new());
    let (mut peak, mut n) = ([0i32; 2], 0usize);
    let scale = |p: i32| ((p as f64 / i16::MAX as f64) * 100.0).round().min(100.0) as u8;
    for (i, s) in reader.samples::<i16>().enumerate() {
        let s = i32::from(s.map_err(fail)?).abs();
        let c = (i % channels).min(1);
        peak[c] = peak[c].max(s);
        n += 1;
        if n == per_bar {
            agent.push(scale(peak[0]));
            customer.push(scale(if channels > 1 { peak[1] } else { peak[0] }));
            (peak, n) = ([0; 2], 0);
        }
    }
    if n > 0 {
        agent.push(scale(peak[0]));
        customer.push(scale(if channels > 1 { peak[1] } else { peak[0] }));
    }
    Ok((agent, customer))
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
