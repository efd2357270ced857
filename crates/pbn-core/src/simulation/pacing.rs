//! Whether a multi-threaded simulation steps with its team of threads or on the calling thread
//! alone, batch by batch.
//!
//! The team only pays off when every thread has a core to itself: a step is three or four
//! barriers, and a thread that the kernel has descheduled (more threads than cores, or other
//! programs busy on them) holds every other thread up at each of them, so a run can become many
//! times slower than with one thread. The calling thread can step all chunks itself (the same
//! per-chunk operations in the same order, so results are bit-identical either way), so under
//! [`ThreadPacing::Adaptive`] the simulation measures both ways on short trial batches and
//! steps with the faster, trying the other again after a while (doubling the wait each time the
//! choice stands, up to [`MAX_RETRY`]) in case the load has changed.

use std::time::{Duration, Instant};

/// How a simulation with several threads chooses between its team and one thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ThreadPacing {
    /// Measure both and step with the faster (the default).
    #[default]
    Adaptive,
    /// Always step with the team (for measuring it: `pbn bench`, profiles).
    Team,
    /// Alternate between the team and one thread every this many steps (for tests: results
    /// must not depend on it).
    #[doc(hidden)]
    Alternate(u64),
}

/// Wall time a trial batch lasts at most: long enough to time it (and to amortise starting the
/// team's threads), short enough to cost little when it is the slower way.
const TRIAL: Duration = Duration::from_millis(4);
/// Wall time of a batch in the chosen way (the team's threads are started once per batch).
const BATCH: Duration = Duration::from_millis(50);
/// First wait before the way not chosen is tried again.
const FIRST_RETRY: Duration = Duration::from_millis(500);
/// Longest wait before the way not chosen is tried again.
const MAX_RETRY: Duration = Duration::from_secs(30);
/// Fewest and most steps in a batch.
const MIN_STEPS: u64 = 20;
const MAX_STEPS: u64 = 20_000;
/// The team must be at least this much faster to be chosen (one thread uses fewer cores).
const TEAM_MARGIN: f64 = 0.95;

/// The state of [`ThreadPacing`] over a run.
#[derive(Debug, Clone)]
pub(super) struct Pacer {
    pub(super) pacing: ThreadPacing,
    /// Latest measured wall seconds per step with the team, and with one thread.
    team_s: Option<f64>,
    serial_s: Option<f64>,
    /// Whether `serial_s` comes from a whole trial (the first short batch only warms up: it
    /// includes the first input generation and first touches of memory).
    warmed_up: bool,
    /// Currently chosen way.
    use_team: bool,
    /// When the way not chosen is tried next, and the wait after that.
    next_trial: Option<Instant>,
    retry: Duration,
}

/// One batch: with the team or not, how many steps, and (adaptive pacing) the wall time after
/// which it stops early, so that a trial of a much slower way costs little.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Batch {
    pub(super) team: bool,
    pub(super) steps: u64,
    pub(super) deadline: Option<Instant>,
}

impl Pacer {
    pub(super) fn new(pacing: ThreadPacing) -> Self {
        Self {
            pacing,
            team_s: None,
            serial_s: None,
            warmed_up: false,
            use_team: true,
            next_trial: None,
            retry: FIRST_RETRY,
        }
    }

    /// Which way the next batch, starting at step `step`, goes, and its length.
    pub(super) fn plan(&self, step: u64) -> Batch {
        let steps_for = |per_step: Option<f64>, wall: Duration| {
            per_step.map_or(MIN_STEPS, |s| {
                ((wall.as_secs_f64() / s.max(1e-9)).round() as u64).clamp(MIN_STEPS, MAX_STEPS)
            })
        };
        match self.pacing {
            ThreadPacing::Team => Batch {
                team: true,
                steps: u64::MAX,
                deadline: None,
            },
            ThreadPacing::Alternate(k) => {
                let k = k.max(1);
                Batch {
                    team: (step / k).is_multiple_of(2),
                    steps: k - step % k,
                    deadline: None,
                }
            }
            ThreadPacing::Adaptive => {
                // A warm-up and a trial with one thread, a trial with the team, then the
                // faster way, with a trial of the other whenever it is due.
                // A trial stops at its planned wall time (when it is the slower way, that is
                // all it costs); a batch of the chosen way at twice its own, in case the load
                // has changed meanwhile.
                let (team, wall, limit) = match (self.warmed_up, self.team_s) {
                    (false, _) => (false, TRIAL, TRIAL),
                    (true, None) => (true, TRIAL, TRIAL),
                    _ if self.next_trial.is_some_and(|t| Instant::now() >= t) => (!self.use_team, TRIAL, TRIAL),
                    _ => (self.use_team, BATCH, BATCH * 2),
                };
                // Size by the way's own speed if known, else by the other's.
                let own = if team { self.team_s } else { self.serial_s };
                Batch {
                    team,
                    steps: steps_for(own.or(self.serial_s), wall),
                    deadline: Some(Instant::now() + limit),
                }
            }
        }
    }

    /// Records that a batch (`team` or not) of `steps` steps took `elapsed`.
    pub(super) fn observe(&mut self, team: bool, steps: u64, elapsed: Duration) {
        if self.pacing != ThreadPacing::Adaptive || steps == 0 {
            return;
        }
        let per_step = elapsed.as_secs_f64() / steps as f64;
        let was_trial = team != self.use_team || self.team_s.is_none();
        if team {
            self.team_s = Some(per_step);
        } else {
            self.warmed_up = self.serial_s.is_some();
            self.serial_s = Some(per_step);
        }
        let (Some(t), Some(s)) = (self.team_s, self.serial_s) else {
            return;
        };
        let use_team = t < TEAM_MARGIN * s;
        if was_trial || self.next_trial.is_none() {
            // A trial that changes the choice restarts the waits; one that confirms it doubles them.
            self.retry = if use_team != self.use_team {
                FIRST_RETRY
            } else {
                (self.retry * 2).min(MAX_RETRY)
            };
            self.next_trial = Some(Instant::now() + self.retry);
        }
        self.use_team = use_team;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adaptive_pacing_tries_both_then_keeps_the_faster_and_retries_later() {
        let mut p = Pacer::new(ThreadPacing::Adaptive);
        let warm_up = p.plan(0);
        assert!(!warm_up.team && warm_up.steps == MIN_STEPS);
        p.observe(false, 20, Duration::from_micros(400)); // slow: first input generation
        let first = p.plan(20);
        assert!(
            !first.team && first.steps == 200,
            "a trial with one thread, sized by the warm-up"
        );
        p.observe(false, 100, Duration::from_micros(500)); // 5 µs per step with one thread
        let second = p.plan(120);
        assert!(second.team, "then the team is tried");
        assert_eq!(second.steps, 800, "a trial lasts about {TRIAL:?}");
        p.observe(true, 1000, Duration::from_millis(50)); // 50 µs per step: much slower
        let third = p.plan(2100);
        assert!(!third.team, "one thread is kept");
        assert_eq!(third.steps, 10_000, "a batch lasts about {BATCH:?}");
        // Once the retry is due, the team is tried again; when it is faster now, it is chosen.
        p.next_trial = Some(Instant::now() - Duration::from_millis(1));
        assert!(p.plan(12_100).team);
        p.observe(true, 4000, Duration::from_millis(10));
        assert!(p.plan(16_100).team);
        assert_eq!(p.retry, FIRST_RETRY, "a changed choice restarts the waits");
        // A team barely faster than one thread is not worth the cores.
        let mut q = Pacer::new(ThreadPacing::Adaptive);
        q.observe(false, 100, Duration::from_micros(1000));
        q.observe(false, 100, Duration::from_micros(1000));
        q.observe(true, 100, Duration::from_micros(980));
        assert!(!q.plan(200).team);
    }

    #[test]
    fn fixed_pacings() {
        let p = Pacer::new(ThreadPacing::Team);
        assert!(p.plan(5).team && p.plan(5).steps == u64::MAX);
        let a = Pacer::new(ThreadPacing::Alternate(10));
        let plan = |step| {
            let b = a.plan(step);
            assert_eq!(b.deadline, None);
            (b.team, b.steps)
        };
        assert_eq!(plan(0), (true, 10));
        assert_eq!(plan(13), (false, 7));
        assert_eq!(plan(20), (true, 10));
    }
}
