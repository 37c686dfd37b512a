//! SIGINT and SIGTERM as a batch should take them: stop taking new calls, let the calls in
//! flight finish and be stored, write the exports, and exit 130 or 143, so a rerun resumes
//! where this one stopped. Kubernetes sends SIGTERM before it kills a pod, and an operator's
//! Ctrl-C should cost nothing already done. A second signal stops the process at once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use signal_hook::consts::{SIGINT, SIGTERM};

/// The first stop signal received, shared with the signal handlers.
#[derive(Clone, Debug, Default)]
pub struct Interrupt(Arc<AtomicUsize>);

impl Interrupt {
    /// Listens for SIGINT and SIGTERM. If the handlers cannot be installed the run simply
    /// has no graceful stop, as before; that is not worth failing it for.
    pub fn install() -> Interrupt {
        let flag = Interrupt::default();
        for signal in [SIGINT, SIGTERM] {
            // Registered first, so the second signal finds the flag set and exits at once.
            let shutdown = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let _ = signal_hook::flag::register_conditional_shutdown(
                signal,
                128 + signal,
                shutdown.clone(),
            );
            let _ = signal_hook::flag::register(signal, shutdown);
            let _ = signal_hook::flag::register_usize(signal, flag.0.clone(), signal as usize);
        }
        flag
    }

    /// The signal that asked the run to stop, if one did.
    pub fn signal(&self) -> Option<i32> {
        match self.0.load(Ordering::Relaxed) {
            0 => None,
            s => i32::try_from(s).ok(),
        }
    }

    /// The exit code a shell expects after the signal: 128 + its number.
    pub fn exit_code(&self) -> Option<u8> {
        self.signal().and_then(|s| u8::try_from(128 + s).ok())
    }
}
