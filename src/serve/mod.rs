//! `callqa serve`: the inspectors' review workspace over an output folder's `callqa.db`.
//!
//! Inspectors confirm or reject each machine deduction and answer the manual items, then
//! publish; agents see their own published calls and acknowledge or appeal; supervisors settle
//! appeals, which writes a new review version. The workflow, its audit log and the reviewed
//! score live in [`crate::store::review`]; this module is only HTTP: axum on tokio, JSON under
//! `/api`, server-rendered pages (maud, which escapes every interpolated value) with one small
//! script and no external resources.
//!
//! Security defaults, and why: it listens on 127.0.0.1 unless told otherwise (TLS belongs to a
//! reverse proxy); sessions are opaque random tokens in an HttpOnly, SameSite=Strict cookie,
//! stored hashed and replaced at every login (no fixation); every state-changing request needs
//! the session's CSRF token in `X-CSRF-Token`; logins are rate-limited per user and per
//! address; agent scoping is done in the SQL, so a template cannot leak another agent's call.
//! Database work runs on blocking threads with a small pool of connections, each with the
//! store's WAL mode and busy timeout, so a `callqa run` writing the same file is never blocked
//! for long.

mod api;
mod audio;
mod auth;
mod calibration;
mod counts;
mod error;
mod json;
mod pages;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use axum::routing::{get, post};
use axum::Router;

use crate::score::Rubrics;
use crate::store::{review, Store, StoreError};
use error::ApiError;

/// What `callqa serve` was asked for.
#[derive(Clone, Debug)]
pub struct Config {
    /// The output folder holding `callqa.db`.
    pub out: PathBuf,
    pub listen: SocketAddr,
    /// The rubric sheets, for the reviewed score and rule texts.
    pub rubrics: Rubrics,
    /// How long an agent may appeal after publication.
    pub appeal_window_secs: i64,
    /// Mark the cookie `Secure` (behind a TLS proxy).
    pub secure_cookie: bool,
    /// Bleep spoken personal numbers in the audio served.
    pub redact: bool,
}

/// The shared state of every request.
pub(crate) struct App {
    config: Config,
    idle: Mutex<Vec<Store>>,
    limiter: auth::Limiter,
    /// One audio conversion at a time: they are CPU-heavy and share temporary file names.
    converting: tokio::sync::Mutex<()>,
    /// One review write at a time from this process: writers queue here, in order, instead
    /// of in SQLite's busy handler, whose back-off sleeps (up to 100 ms a try) made the slow
    /// tail of the load test.
    writing: tokio::sync::Mutex<()>,
    /// Counts per state of the queues, cached (see [`counts`]).
    pub(crate) counts: counts::CountsCache,
    /// One permit per pooled connection: requests beyond that wait here for a connection
    /// instead of each opening (and then dropping) one of their own, which costs the schema
    /// check and every prepared statement again, and buys nothing on a few cores.
    permits: tokio::sync::Semaphore,
    /// How many connections are kept: [`pool_size`].
    pool: usize,
}

/// Connections kept open between requests, and the most database work at once: four per
/// core. More only queues work at SQLite instead of here: with 16 on two cores, 50 clients
/// while reviews were published gave the flagged-and-rule queue a p99 of 394 ms against 186 ms
/// with 8 (the other pages 135 against 80 ms).
fn pool_size() -> usize {
    std::thread::available_parallelism().map_or(8, |n| (n.get() * 4).clamp(4, 32))
}

impl App {
    /// Runs `f` with a pooled store connection on a blocking thread.
    pub(crate) async fn db<T, F>(self: &Arc<Self>, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&App, &Store) -> Result<T, ApiError> + Send + 'static,
    {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| ApiError::Internal(format!("no connection: {e}")))?;
        let app = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let store = app.checkout()?;
            let result = f(&app, &store);
            if let Ok(mut idle) = app.idle.lock() {
                if idle.len() < app.pool {
                    idle.push(store);
                }
            }
            result
        })
        .await
        .map_err(|e| ApiError::Internal(format!("worker failed: {e}")))?
    }

    /// [`App::db`] for a change: one writer at a time.
    pub(crate) async fn write<T, F>(self: &Arc<Self>, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&App, &Store) -> Result<T, ApiError> + Send + 'static,
    {
        let _one_writer = self.writing.lock().await;
        let out = self.db(f).await;
        self.counts.changed();
        out
    }

    /// A queue page for `user`: its rows and the counts per state. A recount the counts
    /// cache asks for runs after the answer, on its own connection.
    pub(crate) async fn queue(
        self: &Arc<Self>,
        user: review::User,
        filter: review::Filter,
    ) -> Result<(Vec<review::CallRow>, counts::Counts), ApiError> {
        let (calls, counts, recount) = self
            .db(move |app, store| {
                let calls = review::list_calls(store, &user, &filter)?;
                let (counts, recount) = app.counts.get(store, &user, &filter)?;
                Ok((calls, counts, recount))
            })
            .await?;
        if let Some(r) = recount {
            let app = Arc::clone(self);
            tokio::spawn(async move {
                let _ = app
                    .db(move |app, store| {
                        app.counts.recount(store, r);
                        Ok(())
                    })
                    .await;
            });
        }
        Ok((calls, counts))
    }

    fn checkout(&self) -> Result<Store, StoreError> {
        let pooled = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        match pooled {
            Some(store) => Ok(store),
            None => Store::open_mapped(&self.config.out),
        }
    }
}

/// Every route.
fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/login", get(pages::login))
        .route("/", get(pages::queue))
        .route("/calls/{call_id}", get(pages::call))
        .route("/admin", get(pages::admin))
        .route("/calibration", get(calibration::page))
        .route("/calibration/{call_id}", get(calibration::call_page))
        .route(
            "/api/calibration",
            get(calibration::list).post(calibration::open),
        )
        .route(
            "/api/calibration/{call_id}",
            get(calibration::detail).post(calibration::submit),
        )
        .route("/lang/{lang}", get(pages::set_lang))
        .route("/static/app.js", get(pages::script))
        .route("/static/app.css", get(pages::style))
        .route("/api/login", post(auth::login))
        .route("/api/logout", post(auth::logout))
        .route("/api/me", get(auth::me))
        .route("/api/calls", get(api::list))
        .route("/api/calls/{call_id}", get(api::detail))
        .route("/api/calls/{call_id}/audio", get(audio::serve))
        .route("/api/calls/{call_id}/energy", get(audio::energy))
        .route("/api/calls/{call_id}/review", post(api::review))
        .route("/api/calls/{call_id}/assign", post(api::assign))
        .route("/api/calls/{call_id}/recall", post(api::recall))
        .route("/api/calls/{call_id}/acknowledge", post(api::acknowledge))
        .route("/api/calls/{call_id}/appeal", post(api::appeal))
        .route(
            "/api/calls/{call_id}/appeals/{appeal_id}/decision",
            post(api::decide),
        )
        .layer(axum::middleware::map_response(error::security_headers))
        .with_state(app)
}

/// Opens the store, brings the review index up to date and serves until killed. Prints
/// `listening on http://ADDR` on stdout once the socket is bound (port 0 picks a free one).
pub fn run(config: Config) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(config))
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let store = Store::open_mapped(&config.out)?;
    let indexed = review::sync_index(&store)?;
    review::lock_expired(&store, config.appeal_window_secs)?;
    tracing::info!("{indexed} calls indexed");
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| {
            format!(
                "{}: cannot listen there; pick another --listen address or port",
                config.listen
            )
        })?;
    let addr = listener.local_addr()?;
    let pool = pool_size();
    let app = Arc::new(App {
        config,
        idle: Mutex::new(vec![store]),
        limiter: auth::Limiter::default(),
        converting: tokio::sync::Mutex::new(()),
        writing: tokio::sync::Mutex::new(()),
        counts: counts::CountsCache::default(),
        permits: tokio::sync::Semaphore::new(pool),
        pool,
    });
    println!("callqa serve: listening on http://{addr}");
    tokio::spawn(maintain(Arc::clone(&app)));
    axum::serve(
        listener,
        router(app).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
    .context("the server stopped")
}

/// Every half minute: index calls a concurrent `callqa run` added or re-scored, and lock
/// calls whose appeal window closed.
async fn maintain(app: Arc<App>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(30));
    // The first tick is now, and `serve` has just done this.
    tick.tick().await;
    loop {
        tick.tick().await;
        let done = app
            .write(|app, store| {
                review::sync_index(store)?;
                review::lock_expired(store, app.config.appeal_window_secs)?;
                Ok(())
            })
            .await;
        if let Err(e) = done {
            tracing::warn!("background index update failed: {e:?}");
        }
    }
}
