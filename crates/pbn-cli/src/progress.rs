//! Progress display for long runs: a bar on a terminal, nothing otherwise.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// Shows simulated time, wall time, ETA and the latest population rates.
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A bar over `total_ms` of simulated time, if stderr is a terminal and `enabled`.
    pub fn new(total_ms: f64, enabled: bool) -> Self {
        let bar = (enabled && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(total_ms.round() as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:30} {pos}/{len} ms simulated  [{elapsed_precise} < {eta_precise}]  {msg}",
                )
                .expect("valid template"),
            );
            // Appear only for runs longer than about a second.
            bar.enable_steady_tick(Duration::from_millis(250));
            bar
        });
        Self { bar }
    }

    /// Updates position (ms) and message (e.g. current rates).
    pub fn update(&self, t_ms: f64, message: String) {
        if let Some(bar) = &self.bar {
            bar.set_position(t_ms.round() as u64);
            bar.set_message(message);
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
