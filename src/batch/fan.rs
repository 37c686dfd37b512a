//! The shape `rescore` and `score` share: this thread feeds items, `jobs` workers turn them into
//! outcomes, and one writer stores the outcomes in batches. Bounded channels keep memory flat
//! however long the input is, and the first error of any side stops the rest.

use std::sync::Mutex;

use crossbeam_channel::{Receiver, Sender};

use super::RunError;

/// Runs `feed` here, `jobs` copies of `work` and one `write`, joined by bounded channels, and
/// returns what `write` returns, or the first error any of them met.
pub(super) fn fan_out<I: Send, O: Send, S: Send>(
    jobs: usize,
    feed: impl FnOnce(&Sender<I>) -> Result<(), RunError>,
    work: impl Fn(Receiver<I>, Sender<O>) -> Result<(), RunError> + Sync,
    write: impl FnOnce(Receiver<O>) -> Result<S, RunError> + Send,
) -> Result<S, RunError> {
    let jobs = jobs.max(1);
    let (items_tx, items_rx) = crossbeam_channel::bounded::<I>(jobs * 64);
    let (done_tx, done_rx) = crossbeam_channel::bounded::<O>(jobs * 64);
    let failure: Mutex<Option<RunError>> = Mutex::new(None);
    let fail = |e: RunError| {
        if let Ok(mut slot) = failure.lock() {
            slot.get_or_insert(e);
        }
    };
    let written = std::thread::scope(|scope| {
        for _ in 0..jobs {
            let (rx, tx) = (items_rx.clone(), done_tx.clone());
            let (work, fail) = (&work, &fail);
            scope.spawn(move || {
                if let Err(e) = work(rx, tx) {
                    fail(e);
                }
            });
        }
        drop((items_rx, done_tx));
        let writer = scope.spawn(|| write(done_rx));
        if let Err(e) = feed(&items_tx) {
            fail(e);
        }
        drop(items_tx);
        writer
            .join()
            .unwrap_or_else(|_| Err(RunError::Usage("the result writer panicked".into())))
    });
    match failure.into_inner().ok().flatten() {
        Some(e) => Err(e),
        None => written,
    }
}

/// The error a feeder meets when every worker has stopped (one of them failed first).
pub(super) fn stopped() -> RunError {
    RunError::Usage("stopped early".into())
}
