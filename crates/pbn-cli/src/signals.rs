//! One stop flag per process, raised by SIGINT (Ctrl-C), SIGTERM and SIGHUP, so that `run`,
//! `compare` and `study` stop between slices and keep what they recorded.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

static STOP: OnceLock<Arc<AtomicBool>> = OnceLock::new();

/// The process's stop flag; the first call installs the signal handler.
pub fn stop_flag() -> Arc<AtomicBool> {
    STOP.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let raised = flag.clone();
        // Fails only if another handler is installed already; then signals end the process as usual.
        let _ = ctrlc::set_handler(move || raised.store(true, Ordering::SeqCst));
        flag
    })
    .clone()
}
