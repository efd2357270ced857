//! Where a step's wall time goes: the cost model behind `pbn bench --profile`.
//!
//! Reading the clock costs some 20–50 ns on this VM, eight times per step (10,000 steps per
//! simulated second at dt = 0.1 ms), so profiling adds about 0.35 µs per step: about 3 % of the
//! run time at N = 5000 (paired `farm-bench`), less for larger networks. It is off by default.
//! Single-threaded runs time each [`Phase`] of a step; with several threads the phases overlap,
//! so each thread's time is split instead into its share of the two parallel phases, serial
//! work and waiting at barriers ([`ThreadProfile`]).

use std::time::Instant;

/// The phases of a step, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Drawing external spikes (1 s chunks) and stimuli.
    InputGeneration,
    /// Step 1: external spikes kick their targets.
    InputDelivery,
    /// Steps 2–3: EIF update (with the current decay) and spike detection.
    NeuronUpdate,
    /// Step 4 for static projections.
    StaticDelivery,
    /// Steps 4–5 for plastic projections: kicks and the pre-spike weight updates.
    PlasticDelivery,
    /// Step 5: post-spike weight updates.
    PostSpikeUpdates,
    /// Steps 6–8: traces and reset.
    TracesAndReset,
    /// Spike gathering, recording and the runaway guard.
    Recording,
}

impl Phase {
    /// Every phase, in step order.
    pub const ALL: [Phase; 8] = [
        Phase::InputGeneration,
        Phase::InputDelivery,
        Phase::NeuronUpdate,
        Phase::StaticDelivery,
        Phase::PlasticDelivery,
        Phase::PostSpikeUpdates,
        Phase::TracesAndReset,
        Phase::Recording,
    ];

    /// A snake_case name for tables and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Phase::InputGeneration => "input_generation",
            Phase::InputDelivery => "input_delivery",
            Phase::NeuronUpdate => "neuron_update",
            Phase::StaticDelivery => "static_delivery",
            Phase::PlasticDelivery => "plastic_delivery",
            Phase::PostSpikeUpdates => "post_spike_updates",
            Phase::TracesAndReset => "traces_and_reset",
            Phase::Recording => "recording",
        }
    }
}

/// Wall seconds spent in each [`Phase`] so far.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PhaseProfile {
    /// Seconds per phase, indexed like [`Phase::ALL`].
    pub seconds: [f64; 8],
}

impl PhaseProfile {
    /// Seconds spent in `phase`.
    pub fn get(&self, phase: Phase) -> f64 {
        self.seconds[phase as usize]
    }

    /// Seconds in all phases together.
    pub fn total(&self) -> f64 {
        self.seconds.iter().sum()
    }
}

/// Where one thread of a multi-threaded run spent its time (seconds).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ThreadProfile {
    /// Advancing its run of chunks: external kicks, voltage update, spike detection.
    pub advance_s: f64,
    /// Delivering to its run of chunks: spike gathering, recurrent kicks, plasticity, resets,
    /// weight statistics, and (the last thread) the next step's inputs.
    pub deliver_s: f64,
    /// Serial work (thread 0 only): traces, spike counts, recording, the runaway guard.
    pub serial_s: f64,
    /// Waiting at the barriers between phases, for slower threads or for thread 0's serial work.
    pub wait_s: f64,
}

impl ThreadProfile {
    /// Seconds in all four together.
    pub fn total(&self) -> f64 {
        self.advance_s + self.deliver_s + self.serial_s + self.wait_s
    }
}

/// What a team thread is doing, for [`ThreadClock::lap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Activity {
    Advance,
    Deliver,
    Serial,
    Wait,
}

/// Charges the time since the previous lap to an activity of one team thread.
pub(super) struct ThreadClock {
    last: Instant,
    pub(super) profile: ThreadProfile,
}

impl ThreadClock {
    pub(super) fn new() -> Self {
        Self {
            last: Instant::now(),
            profile: ThreadProfile::default(),
        }
    }

    pub(super) fn lap(&mut self, activity: Activity) {
        let now = Instant::now();
        let t = (now - self.last).as_secs_f64();
        self.last = now;
        let p = &mut self.profile;
        *match activity {
            Activity::Advance => &mut p.advance_s,
            Activity::Deliver => &mut p.deliver_s,
            Activity::Serial => &mut p.serial_s,
            Activity::Wait => &mut p.wait_s,
        } += t;
    }
}

/// Laps an optional thread clock (a no-op when profiling is off).
pub(super) fn lap_thread(clock: &mut Option<ThreadClock>, activity: Activity) {
    if let Some(c) = clock {
        c.lap(activity);
    }
}

/// Charges the time since the previous lap to a phase.
pub(super) struct Stopwatch {
    last: Instant,
    pub(super) profile: PhaseProfile,
}

impl Stopwatch {
    pub(super) fn new() -> Self {
        Self {
            last: Instant::now(),
            profile: PhaseProfile::default(),
        }
    }

    /// Restarts the clock without charging anyone (between `run_for` calls).
    pub(super) fn resume(&mut self) {
        self.last = Instant::now();
    }

    pub(super) fn lap(&mut self, phase: Phase) {
        let now = Instant::now();
        self.profile.seconds[phase as usize] += (now - self.last).as_secs_f64();
        self.last = now;
    }
}

/// Laps an optional stopwatch (a no-op when profiling is off).
pub(super) fn lap(stopwatch: &mut Option<Stopwatch>, phase: Phase) {
    if let Some(s) = stopwatch {
        s.lap(phase);
    }
}
