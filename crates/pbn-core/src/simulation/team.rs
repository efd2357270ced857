//! A persistent team of threads that steps the chunks in lockstep.
//!
//! With K threads the calling thread (thread 0) and K − 1 scoped workers run for a whole
//! `run_for` slice. Each thread advances a run of chunks in P1 and delivers to a run in P2 (the
//! partition makes both runs the same chunk, but the phases do not rely on it: see
//! `partition`). A step is four phases
//! separated by three barriers (A, B, C), plus a fifth phase and barrier (D) on the rare steps
//! whose weight statistics need a second pass over the weights:
//!
//! | phase | thread 0 (+ serial work)                           | thread t > 0              |
//! |-------|-----------------------------------------------------|---------------------------|
//! | S0    | inputs and stimuli of the slice's first step        | parked at barrier A       |
//! | P1    | its share of the previous step's post-spike updates  | same                      |
//! |       | (see `deferred_post`), advance its P1 run, post      |                           |
//! |       | their spikes in their slots                          |                           |
//! | P2    | gather all slots, deliver + finish its P2 run (and   | same; the last thread     |
//! |       | add its sampled neurons' values to their sums), and  |                           |
//! |       | on record steps their weights' largest |w| and sums | then prepares the next    |
//! |       | at the scale of the previous record's largest |w|   | step's inputs             |
//! | P3    | (if that scale was wrong) the sums at the right one | same                      |
//! |       | (after a barrier of its own)                         |                           |
//! | S2    | gather, share out the next post-spike updates,      | parked at barrier A       |
//! |       | traces, count, record, guard                         |                           |
//!
//! A step's post-spike updates wait for the next step's P1, where every thread takes a share,
//! except on steps whose records read the weights: those do them in P2, in place, as the
//! single-threaded path always does (see `deferred_post`).
//!
//! What each thread may touch in each phase is handed out by `handoff` (its table); this module
//! is safe code over those views. Each thread gathers the step's spikes from the slots itself
//! instead of waiting for a serial gather; the weight statistics are the two passes of
//! [`crate::order_free_sum`], so they have the same bits as the serial path's. (A second pass,
//! P3, gets a barrier of its own before it, so that every phase starts at a barrier.) Spinning
//! barriers replace rayon's sleep/wake round trips, which cost more than the work of a small
//! step; a thread that has waited a while sleeps (see `barrier`), so that more threads than free
//! cores slow a run down instead of stalling it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use super::chunk::{ChunkState, StepContext, mean_and_std};
use super::deferred_post::{self, Share};
use super::handoff::{AdvanceView, DeliverView, Kind, Seat, SecondPassView, Slots, SlotsView, Stage};
use super::network::Network;
use super::profile::{Activity, ThreadClock, lap_thread};
use super::{SimError, Simulation, ThreadProfile};
use crate::order_free_sum::{FixedPointScale, max_abs};
use crate::recording::RecordSink;

/// Phase P1: steps 1–3 for the run, each chunk's spikes copied into its slot. Returns whether
/// this step's records include weight statistics, and the step's number.
/// With `pending`, first this thread's share of the previous step's post-spike updates (see
/// `deferred_post`).
fn advance(v: AdvanceView, pending: bool) -> (bool, u64) {
    let ctx = StepContext {
        network: v.network,
        rules: &v.serial.rules,
        stimulus: &v.inputs.stimulus,
        input_spikes: &v.inputs.spikes,
    };
    let (serial, network) = (v.serial, v.network);
    // Timed on some steps only: reading the clock costs about as much as a small step's
    // post-spike updates.
    let start = (pending && serial.step.is_multiple_of(deferred_post::TIMED_EVERY)).then(Instant::now);
    let share = Share {
        t: v.t,
        fractions: &serial.post_fractions,
    };
    if pending {
        // First, so that the voltage pass, streaming the chunk's state through the caches,
        // does not evict the weights asked for (at N = 100,000, 1.15–1.19× slower after it).
        deferred_post::prefetch(network, &serial.rules, v.post_weights, &serial.spikes, share);
        // SAFETY: P1, where weights are reached only through the table, each thread with its
        // own share of the same step's spikes (`serial.spikes`, read-only in P1).
        unsafe {
            deferred_post::apply(
                network,
                &serial.rules,
                &serial.traces,
                v.post_weights,
                &serial.spikes,
                share,
            )
        };
    }
    for (k, (chunk, slot)) in v.chunks.iter_mut().zip(v.spike_slots.iter_mut()).enumerate() {
        chunk.advance(&network.chunks[v.first + k], &ctx);
        slot.clear();
        slot.extend_from_slice(&chunk.spikes);
    }
    let ns = start.map_or(0, |s| s.elapsed().as_nanos().max(1) as u64);
    v.p1_ns.store(ns, Ordering::Relaxed);
    let step = serial.step;
    (network.schedule.weight_stats_due(step + 1), step)
}

/// Phase P2: gathers every slot into `spikes` (chunks in order, so ids ascend), then steps 4–5
/// and 8 for the run and its sampled neurons' sums, and if `due` the first pass of the weight
/// statistics. With the inputs in
/// the view, then prepares the next step's (the calling thread would otherwise do it serially).
fn deliver(v: DeliverView, spikes: &mut Vec<u32>, due: bool, post_now: bool, guesses: &[Option<f64>]) {
    spikes.clear();
    for slot in v.spike_slots {
        spikes.extend_from_slice(slot);
    }
    let ctx = StepContext {
        network: v.network,
        rules: &v.serial.rules,
        stimulus: &[],
        input_spikes: &[],
    };
    let plastic = &v.network.schedule.plan.plastic;
    for (k, chunk) in v.chunks.iter_mut().enumerate() {
        let wiring = &v.network.chunks[v.first + k];
        chunk.deliver(wiring, &ctx, spikes, &v.serial.traces, post_now, &mut |_| {});
        chunk.finish(wiring, &ctx);
        let step = v.serial.step + 1; // the step this phase completes
        v.network.schedule.accumulate_samples(v.first + k, chunk, step);
        if due {
            // The first pass: the largest |weight|, and the sums too at the scale the previous
            // record's maximum gives (right unless a weight crossed a power of two since then).
            let (maxima, sums) = (&mut v.max_slots[k], &mut v.sum_slots[k]);
            maxima.clear();
            sums.clear();
            for (p, guess) in plastic.iter().zip(guesses) {
                let weights = &chunk.weights[p.projection];
                let (sum, sum_sq, max) = match guess.and_then(FixedPointScale::for_max) {
                    Some(scale) => scale.partial_sums_and_max(weights),
                    None => (0, 0, max_abs(weights)),
                };
                maxima.push(max);
                sums.push((sum, sum_sq));
            }
        }
    }
    if let Some(inputs) = v.inputs {
        inputs.prepare(v.serial.step + 1, v.network);
    }
}

/// The largest |weight| of each recorded plastic projection, from every chunk's maximum.
fn maxima(max_slots: &[Vec<f64>]) -> Vec<f64> {
    let mut max = max_slots[0].clone();
    for slot in &max_slots[1..] {
        for (m, &x) in max.iter_mut().zip(slot) {
            *m = m.max(x);
        }
    }
    max
}

/// Per recorded plastic projection, the scale of a second pass over the weights if the first
/// pass's guess was wrong (the same answer on every thread). Updates `guesses` (each thread keeps
/// its own copy) to this record's maxima.
fn second_pass_scales(slots: SlotsView, guesses: &mut [Option<f64>]) -> Vec<Option<FixedPointScale>> {
    maxima(slots.max_slots)
        .into_iter()
        .zip(guesses.iter_mut())
        .map(|(max, guess)| {
            let guessed = guess.and_then(FixedPointScale::for_max);
            *guess = Some(max);
            FixedPointScale::for_max(max).filter(|_| !guessed.is_some_and(|g| g.fits(max)))
        })
        .collect()
}

/// Phase P3: the second pass of the weight statistics over the run, for the projections in
/// `pending`.
fn sum_weights(v: SecondPassView, pending: &[Option<FixedPointScale>]) {
    let plastic = &v.network.schedule.plan.plastic;
    for (chunk, sums) in v.chunks.iter().zip(v.sum_slots.iter_mut()) {
        for ((p, scale), sum) in plastic.iter().zip(pending).zip(sums.iter_mut()) {
            if let Some(scale) = scale {
                *sum = scale.partial_sums(&chunk.weights[p.projection]);
            }
        }
    }
}

/// After P2: barrier C, and if the weight statistics are `due` and the first pass's scale was
/// wrong for some projection, P3 and barrier D. Leaves the seat between steps.
fn finish_step(seat: &mut Seat, due: bool, guesses: &mut [Option<f64>], clock: &mut Option<ThreadClock>) {
    let mut turn = seat.wait(Kind::Between); // C
    lap_thread(clock, Activity::Wait);
    if !due {
        return;
    }
    let pending = second_pass_scales(turn.slots(), guesses);
    if pending.iter().any(Option::is_some) {
        sum_weights(seat.wait(Kind::SecondPass).second_pass(), &pending);
        lap_thread(clock, Activity::Deliver);
        seat.wait(Kind::Between); // D
        lap_thread(clock, Activity::Wait);
    }
}

/// (mean, std) of every recorded plastic projection from the slots.
fn weight_stats(network: &Network, chunks: &[ChunkState], slots: SlotsView) -> Vec<(f64, f64)> {
    let max = maxima(slots.max_slots);
    network
        .schedule
        .plan
        .plastic
        .iter()
        .zip(&max)
        .enumerate()
        .map(|(j, (p, &max))| {
            let n = chunks.iter().map(|c| c.weights[p.projection].len()).sum();
            let (sum, sum_sq) = slots
                .sum_slots
                .iter()
                .fold((0, 0), |(a, b), slot| (a + slot[j].0, b + slot[j].1));
            let float_sums = FixedPointScale::for_max(max).map_or((0.0, 0.0), |sc| sc.to_float(sum, sum_sq));
            mean_and_std(n, float_sums, network.sqrt_n)
        })
        .collect()
}

/// A worker thread (t > 0): phases P1–P3 until thread 0 says stop.
fn work(
    mut seat: Seat,
    stop: &AtomicBool,
    target: u64,
    first_guesses: &[Option<f64>],
    profiling: bool,
    defer: bool,
) -> Option<ThreadProfile> {
    let _poison = seat.poison_on_panic();
    let (t, last) = (seat.index(), seat.threads() - 1);
    let mut clock = profiling.then(ThreadClock::new);
    let mut spikes = vec![];
    let mut guesses = first_guesses.to_vec();
    let mut pending = false;
    loop {
        let mut turn = seat.wait(Kind::Advance); // A
        lap_thread(&mut clock, Activity::Wait);
        if stop.load(Ordering::Acquire) {
            return clock.map(|c| c.profile);
        }
        let (due, step) = advance(turn.advance(), pending); // P1
        // A step whose records read the weights does its post-spike updates in place.
        pending = defer && !due;
        lap_thread(&mut clock, Activity::Advance);
        let mut turn = seat.wait(Kind::Deliver); // B
        lap_thread(&mut clock, Activity::Wait);
        // The last thread prepares the next step's inputs, if there is one.
        deliver(
            turn.deliver(t == last && step + 1 < target),
            &mut spikes,
            due,
            !pending,
            &guesses,
        );
        lap_thread(&mut clock, Activity::Deliver);
        finish_step(&mut seat, due, &mut guesses, &mut clock);
    }
}

impl Simulation {
    /// Steps up to `target` (or, after at least one step, until `deadline`) with the
    /// partition's threads (see the module docs).
    pub(super) fn run_steps_team(
        &mut self,
        target: u64,
        deadline: Option<Instant>,
        sink: &mut dyn RecordSink,
    ) -> Result<(), SimError> {
        let first = self.state.serial.step;
        let defer = deferred_post::pays(self.post_deferral, &self.network, &self.state.serial.rules);
        for t in &mut self.state.serial.traces {
            t.keep_previous(defer);
        }
        let threads = self.network.partition.threads();
        if self.state.serial.post_fractions.len() != threads {
            self.state.serial.post_fractions = vec![1.0 / threads as f64; threads];
        }
        let profiling = self.thread_profiles.is_some();
        let first_guesses = self.state.serial.recorder.weight_max.clone();
        let mut slots = Slots::new(self.state.chunks.len());
        let mut stage = Stage::new(&self.network, &mut self.state, &mut slots);
        let stop = AtomicBool::new(false);
        let (result, profiles, pending) = std::thread::scope(|scope| {
            let mut seats = stage.seats().into_iter();
            let mut seat = seats.next().expect("thread 0");
            let workers: Vec<_> = seats
                .map(|s| {
                    let (stop, first_guesses) = (&stop, &first_guesses);
                    scope.spawn(move || work(s, stop, target, first_guesses, profiling, defer))
                })
                .collect();
            let _poison = seat.poison_on_panic();
            let mut clock = profiling.then(ThreadClock::new);
            let mut spikes = vec![];
            let mut guesses = first_guesses.clone();
            let mut result = Ok(());
            let mut pending = false;
            loop {
                {
                    // S0: between steps, on this thread alone.
                    let mut turn = seat.turn();
                    let s = turn.serial();
                    let step = s.serial.step;
                    if step >= target
                        || s.serial.stop_requested
                        || (step > first && deadline.is_some_and(|d| Instant::now() >= d))
                    {
                        break;
                    }
                    s.inputs.prepare(step, s.network);
                }
                lap_thread(&mut clock, Activity::Serial);
                let (due, _) = advance(seat.wait(Kind::Advance).advance(), pending); // A, P1
                pending = defer && !due;
                lap_thread(&mut clock, Activity::Advance);
                let mut turn = seat.wait(Kind::Deliver); // B
                lap_thread(&mut clock, Activity::Wait);
                deliver(turn.deliver(false), &mut spikes, due, !pending, &guesses); // P2
                lap_thread(&mut clock, Activity::Deliver);
                finish_step(&mut seat, due, &mut guesses, &mut clock); // C (and P3, D)
                // S2: between steps again.
                let mut turn = seat.turn();
                let s = turn.serial();
                let stats = due.then(|| weight_stats(s.network, s.chunks, s.slots));
                if due {
                    // For later slices and the single-threaded path.
                    s.serial.recorder.weight_max.clone_from(&guesses);
                }
                deferred_post::rebalance(&mut s.serial.post_fractions, s.p1_ns);
                std::mem::swap(&mut s.serial.spikes, &mut spikes);
                s.serial.epilogue(s.network);
                let recorded = s.serial.after_step(s.network, s.chunks, sink, stats.as_deref());
                lap_thread(&mut clock, Activity::Serial);
                if let Err(e) = recorded {
                    result = Err(e);
                    break;
                }
            }
            stop.store(true, Ordering::Release);
            seat.wait(Kind::Advance); // A: releases the workers, which see `stop` and return.
            let mut profiles = vec![clock.map(|c| c.profile)];
            for worker in workers {
                profiles.push(worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
            }
            (result, profiles, pending)
        });
        if pending {
            // The last step's post-spike updates, so that none outlives the run.
            let (network, state) = (&self.network, &mut self.state);
            let weights = deferred_post::weight_table(&mut state.chunks, network);
            let serial = &state.serial;
            // SAFETY: the team is gone; this thread alone touches the weights, all shares.
            unsafe {
                deferred_post::apply(
                    network,
                    &serial.rules,
                    &serial.traces,
                    &weights,
                    &serial.spikes,
                    Share::ALL,
                )
            };
        }
        for t in &mut self.state.serial.traces {
            t.keep_previous(false);
        }
        if let Some(total) = self.thread_profiles.as_mut() {
            for (t, p) in total.iter_mut().zip(profiles.into_iter().flatten()) {
                t.advance_s += p.advance_s;
                t.deliver_s += p.deliver_s;
                t.serial_s += p.serial_s;
                t.wait_s += p.wait_s;
            }
        }
        result
    }
}
