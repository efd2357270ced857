//! A persistent team of threads that steps the chunks in lockstep.
//!
//! With K threads the calling thread (thread 0) and K − 1 scoped workers run for a whole
//! `run_for` slice. Each thread advances a run of chunks in P1 and delivers to a run in P2 (the
//! two runs differ so that both phases are balanced: see `partition`). A step is four phases
//! separated by three barriers (A, B, C), plus a fifth phase and barrier (D) on the rare steps
//! whose weight statistics need a second pass over the weights:
//!
//! | phase | thread 0 (+ serial work)                           | thread t > 0              |
//! |-------|-----------------------------------------------------|---------------------------|
//! | S0    | inputs and stimuli of the slice's first step        | parked at barrier A       |
//! | P1    | advance its P1 run, post their spikes in their slots | same                      |
//! | P2    | gather all slots, deliver + finish its P2 run, and   | same; the last thread     |
//! |       | on record steps their weights' largest |w| and sums | then prepares the next    |
//! |       | at the scale of the previous record's largest |w|   | step's inputs             |
//! | P3    | (if that scale was wrong) the sums at the right one | same                      |
//! | S2    | gather, traces, count, record, guard                | parked at barrier A       |
//!
//! In P1–P3 every thread writes only the chunks of its run and their slots (and, in P2, the
//! last thread the inputs, which nobody else reads in P2), and reads only what nobody writes
//! until the following barrier: a chunk's state and spikes are written in P1 by one thread and
//! read in P2 by possibly another, after barrier B; each thread gathers the step's spikes from
//! the slots itself instead of waiting for a serial gather; the maxima are written in P2 and
//! read in P3. The weight statistics are the two passes of [`crate::order_free_sum`], so they
//! have the same bits as the serial path's. In S0 and S2 only thread 0 runs. The barriers
//! (acquire/release) order every write before the next phase's reads. This is what makes the
//! raw pointers below sound. Spinning replaces rayon's sleep/wake round trips, which cost more
//! than the work of a small step; a thread that has waited a while sleeps (see [`SpinBarrier`]),
//! so that more threads than free cores slow a run down instead of stalling it.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Instant;

use super::chunk::{Chunk, StepContext, mean_and_std};
use super::profile::{Activity, ThreadClock, lap_thread};
use super::{SimError, Simulation, StimulusInputs, prepare_inputs};
use crate::order_free_sum::{FixedPointScale, max_abs};
use crate::recording::RecordSink;

/// A reusable barrier that spins, then yields, then sleeps. With a free core per thread the
/// others arrive within microseconds and a wait never gets past spinning; when threads outnumber
/// the free cores (more `--threads` than cores, or other programs running) a waiting thread
/// would take a core from the ones that still have work, so after a short while it sleeps on a
/// condition variable until the last party arrives and wakes it. If a party panics, the others
/// panic at their next wait instead of waiting forever.
pub(super) struct SpinBarrier {
    parties: usize,
    arrived: AtomicUsize,
    generation: AtomicUsize,
    poisoned: AtomicBool,
    /// Threads asleep (or about to sleep) on `wake`.
    sleepers: AtomicUsize,
    lock: Mutex<()>,
    wake: Condvar,
}

/// Busy-wait iterations before a waiting thread starts yielding (a few microseconds).
const SPINS: u32 = 1_000;
/// Yields before a waiting thread goes to sleep (each gives the core away if anyone needs it).
const YIELDS: u32 = 50;

/// Marks the barrier poisoned when the thread holding it unwinds.
struct PoisonOnPanic<'a>(&'a SpinBarrier);

impl Drop for PoisonOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.poisoned.store(true, Ordering::SeqCst);
            // Wake sleepers so that they see the poison.
            let _guard = self.0.lock.lock().unwrap_or_else(|e| e.into_inner());
            self.0.wake.notify_all();
        }
    }
}

impl SpinBarrier {
    pub(super) fn new(parties: usize) -> Self {
        Self {
            parties,
            arrived: AtomicUsize::new(0),
            generation: AtomicUsize::new(0),
            poisoned: AtomicBool::new(false),
            sleepers: AtomicUsize::new(0),
            lock: Mutex::new(()),
            wake: Condvar::new(),
        }
    }

    /// Returns once all parties have called `wait` for this generation.
    pub(super) fn wait(&self) {
        let generation = self.generation.load(Ordering::Acquire);
        if self.arrived.fetch_add(1, Ordering::AcqRel) + 1 == self.parties {
            self.arrived.store(0, Ordering::Relaxed);
            // SeqCst with the sleepers' SeqCst increment and re-check below: either this load
            // sees a sleeper (and wakes it under the lock), or the sleeper sees the new generation.
            self.generation.fetch_add(1, Ordering::SeqCst);
            if self.sleepers.load(Ordering::SeqCst) > 0 {
                let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
                self.wake.notify_all();
            }
            return;
        }
        let released = || self.generation.load(Ordering::Acquire) != generation;
        let check_poison = || {
            if self.poisoned.load(Ordering::Acquire) {
                panic!("another simulation thread panicked");
            }
        };
        for _ in 0..SPINS {
            if released() {
                return;
            }
            check_poison();
            std::hint::spin_loop();
        }
        for _ in 0..YIELDS {
            if released() {
                return;
            }
            check_poison();
            std::thread::yield_now();
        }
        let mut guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        self.sleepers.fetch_add(1, Ordering::SeqCst);
        while self.generation.load(Ordering::SeqCst) == generation && !self.poisoned.load(Ordering::SeqCst) {
            guard = self.wake.wait(guard).unwrap_or_else(|e| e.into_inner());
        }
        self.sleepers.fetch_sub(1, Ordering::SeqCst);
        drop(guard);
        check_poison();
    }
}

/// A raw pointer that may cross threads (see the module docs for why that is sound here).
pub(super) struct SharedPtr<T>(pub(super) *mut T);
impl<T> Clone for SharedPtr<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for SharedPtr<T> {}
// SAFETY: access through the pointer follows the phase discipline of the module docs.
unsafe impl<T> Send for SharedPtr<T> {}
// SAFETY: as above.
unsafe impl<T> Sync for SharedPtr<T> {}

/// What the threads of a team share: raw pointers to the simulation, its chunks and one set of
/// slots per chunk (see the module docs for the discipline that makes them sound).
#[derive(Clone, Copy)]
struct Team {
    sim: SharedPtr<Simulation>,
    chunks: SharedPtr<Chunk>,
    n_chunks: usize,
    /// This step's spikes of each chunk (P1 → P2).
    spike_slots: SharedPtr<Vec<u32>>,
    /// Per chunk, the largest |weight| of each recorded plastic projection (P2 → P3).
    max_slots: SharedPtr<Vec<f64>>,
    /// Per chunk, the fixed-point (Σw, Σw²) of each recorded plastic projection (P3 → S2).
    sum_slots: SharedPtr<Vec<(i128, i128)>>,
}

impl Team {
    /// Phase P1 for thread `t`: steps 1–3 for its run of chunks, and each chunk's spikes copied
    /// into the chunk's slot. Returns whether this step's records include weight statistics,
    /// and the step's number.
    ///
    /// # Safety
    /// Between barriers A and B only, called by thread `t` alone.
    unsafe fn advance(self, t: usize) -> (bool, u64) {
        // SAFETY: the caller guarantees the phase; the chunks of the thread's P1 run and their
        // slots are touched by this thread only, and the shared view reads fields that no
        // thread writes during the phase.
        unsafe {
            let s = &*self.sim.0;
            for k in s.partition.advance[t].clone() {
                let chunk = &mut *self.chunks.0.add(k);
                chunk.advance(&step_context!(s));
                let slot = &mut *self.spike_slots.0.add(k);
                slot.clear();
                slot.extend_from_slice(&chunk.spikes);
            }
            (s.recorder.weight_stats_due(s.step + 1), s.step)
        }
    }

    /// Phase P2 for thread `t`: gathers every slot into `spikes` (chunks in order, so ids
    /// ascend), then steps 4–5 and 8 for its run of chunks, and if `due` the first pass of the
    /// weight statistics. With `prepare`, the thread then also prepares the next step's inputs
    /// (the calling thread would otherwise do it serially in S0).
    ///
    /// # Safety
    /// Between barriers B and C only, called by thread `t` alone, and `prepare` set on one
    /// thread at most.
    unsafe fn deliver(self, t: usize, spikes: &mut Vec<u32>, due: bool, guesses: &[Option<f64>], prepare: bool) {
        // SAFETY: as in `advance`, for the thread's P2 run; no thread writes a spike slot during
        // P2. The simulation is reached field by field: the inputs (written by the preparing
        // thread) are not read by any other thread in P2, so the delivery context leaves them
        // out.
        unsafe {
            spikes.clear();
            for k in 0..self.n_chunks {
                spikes.extend_from_slice(&*self.spike_slots.0.add(k));
            }
            let sim = self.sim.0;
            let ctx = step_context!(delivery: (*sim));
            for k in (&(*sim).partition.deliver)[t].clone() {
                let chunk = &mut *self.chunks.0.add(k);
                chunk.deliver(&ctx, spikes, &(*sim).traces, &mut |_| {});
                chunk.finish(&ctx);
                if due {
                    // The first pass: the largest |weight|, and the sums too at the scale the
                    // previous record's maximum gives (right unless a weight crossed a power
                    // of two since then).
                    let (maxima, sums) = (&mut *self.max_slots.0.add(k), &mut *self.sum_slots.0.add(k));
                    maxima.clear();
                    sums.clear();
                    for (p, guess) in (*sim).recorder.plan.plastic.iter().zip(guesses) {
                        let weights = &chunk.parts[p.projection].weights;
                        let (sum, sum_sq, max) = match guess.and_then(FixedPointScale::for_max) {
                            Some(scale) => scale.partial_sums_and_max(weights),
                            None => (0, 0, max_abs(weights)),
                        };
                        maxima.push(max);
                        sums.push((sum, sum_sq));
                    }
                }
            }
            if prepare {
                let next = (*sim).step + 1;
                let stimulus = StimulusInputs {
                    stimuli: &(*sim).stimuli,
                    stimulus: &mut (*sim).stimulus,
                };
                prepare_inputs(
                    next,
                    (*sim).dt_ms,
                    &mut (*sim).inputs,
                    &mut (*sim).input_spikes,
                    stimulus,
                );
                (*sim).inputs_ready_for = Some(next);
            }
        }
    }

    /// The largest |weight| of each recorded plastic projection, from every chunk's maximum.
    ///
    /// # Safety
    /// After P2 and before the next step's P2 (no thread writes a max slot then).
    unsafe fn maxima(self) -> Vec<f64> {
        // SAFETY: the caller guarantees that the max slots are not being written.
        unsafe {
            let slots = std::slice::from_raw_parts(self.max_slots.0, self.n_chunks);
            let mut max = slots[0].clone();
            for slot in &slots[1..] {
                for (m, &x) in max.iter_mut().zip(slot) {
                    *m = m.max(x);
                }
            }
            max
        }
    }

    /// Per recorded plastic projection, the scale of a second pass over the weights if the
    /// first pass's guess was wrong (the same answer on every thread). Updates `guesses` (each
    /// thread keeps its own copy) to this record's maxima.
    ///
    /// # Safety
    /// After P2 and before the next step's P2.
    unsafe fn second_pass(self, guesses: &mut [Option<f64>]) -> Vec<Option<FixedPointScale>> {
        // SAFETY: as in `maxima`.
        unsafe {
            self.maxima()
                .into_iter()
                .zip(guesses.iter_mut())
                .map(|(max, guess)| {
                    let guessed = guess.and_then(FixedPointScale::for_max);
                    *guess = Some(max);
                    FixedPointScale::for_max(max).filter(|_| !guessed.is_some_and(|g| g.fits(max)))
                })
                .collect()
        }
    }

    /// Phase P3 for thread `t`: the second pass of the weight statistics over its P2 run, for
    /// the projections in `pending`.
    ///
    /// # Safety
    /// Between barriers C and D only, called by thread `t` alone.
    unsafe fn sum_weights(self, t: usize, pending: &[Option<FixedPointScale>]) {
        // SAFETY: the caller guarantees the phase; weights are not written in it.
        unsafe {
            let s = &*self.sim.0;
            for k in s.partition.deliver[t].clone() {
                let chunk = &*self.chunks.0.add(k);
                let sums = &mut *self.sum_slots.0.add(k);
                for ((p, scale), sum) in s.recorder.plan.plastic.iter().zip(pending).zip(sums.iter_mut()) {
                    if let Some(scale) = scale {
                        *sum = scale.partial_sums(&chunk.parts[p.projection].weights);
                    }
                }
            }
        }
    }

    /// (mean, std) of every recorded plastic projection from the sum slots.
    ///
    /// # Safety
    /// After P2 (and P3 if it ran), in S2.
    unsafe fn weight_stats(self) -> Vec<(f64, f64)> {
        // SAFETY: in S2 no other thread runs.
        unsafe {
            let s = &*self.sim.0;
            let chunks = std::slice::from_raw_parts(self.chunks.0, self.n_chunks);
            let sums = std::slice::from_raw_parts(self.sum_slots.0, self.n_chunks);
            let maxima = self.maxima();
            s.recorder
                .plan
                .plastic
                .iter()
                .zip(&maxima)
                .enumerate()
                .map(|(j, (p, &max))| {
                    let n = chunks.iter().map(|c| c.parts[p.projection].weights.len()).sum();
                    let (sum, sum_sq) = sums.iter().fold((0, 0), |(a, b), slot| (a + slot[j].0, b + slot[j].1));
                    let float_sums = FixedPointScale::for_max(max).map_or((0.0, 0.0), |sc| sc.to_float(sum, sum_sq));
                    mean_and_std(n, float_sums, s.sqrt_n)
                })
                .collect()
        }
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
        let parties = self.partition.threads();
        let n_chunks = self.chunks.len();
        let first = self.step;
        let barrier = SpinBarrier::new(parties);
        let stop = AtomicBool::new(false);
        let mut spike_slots: Vec<Vec<u32>> = vec![vec![]; n_chunks];
        let mut max_slots: Vec<Vec<f64>> = vec![vec![]; n_chunks];
        let mut sum_slots: Vec<Vec<(i128, i128)>> = vec![vec![]; n_chunks];
        let team = Team {
            sim: SharedPtr(self as *mut Simulation),
            chunks: SharedPtr(self.chunks.as_mut_ptr()),
            n_chunks,
            spike_slots: SharedPtr(spike_slots.as_mut_ptr()),
            max_slots: SharedPtr(max_slots.as_mut_ptr()),
            sum_slots: SharedPtr(sum_slots.as_mut_ptr()),
        };
        let profiling = self.thread_profiles.is_some();
        let first_guesses = self.recorder.weight_max.clone();
        let (result, profiles) = std::thread::scope(|scope| {
            let workers: Vec<_> = (1..parties)
                .map(|k| {
                    let (barrier, stop, first_guesses) = (&barrier, &stop, &first_guesses);
                    scope.spawn(move || {
                        let _poison = PoisonOnPanic(barrier);
                        let mut clock = profiling.then(ThreadClock::new);
                        let mut spikes = vec![];
                        let mut guesses = first_guesses.clone();
                        loop {
                            barrier.wait(); // A
                            lap_thread(&mut clock, Activity::Wait);
                            if stop.load(Ordering::Acquire) {
                                return clock.map(|c| c.profile);
                            }
                            // SAFETY: phase P1, on this thread's own run of chunks.
                            let (due, step) = unsafe { team.advance(k) };
                            lap_thread(&mut clock, Activity::Advance);
                            barrier.wait(); // B
                            lap_thread(&mut clock, Activity::Wait);
                            // The last thread prepares the next step's inputs, if there is one.
                            let prepare = k == parties - 1 && step + 1 < target;
                            // SAFETY: phase P2, on this thread's own run; one thread prepares.
                            unsafe { team.deliver(k, &mut spikes, due, &guesses, prepare) };
                            lap_thread(&mut clock, Activity::Deliver);
                            barrier.wait(); // C
                            lap_thread(&mut clock, Activity::Wait);
                            // SAFETY: after P2; every thread reaches the same answer.
                            let pending = if due {
                                unsafe { team.second_pass(&mut guesses) }
                            } else {
                                vec![]
                            };
                            if pending.iter().any(Option::is_some) {
                                // SAFETY: phase P3, on this thread's own run.
                                unsafe { team.sum_weights(k, &pending) };
                                lap_thread(&mut clock, Activity::Deliver);
                                barrier.wait(); // D
                                lap_thread(&mut clock, Activity::Wait);
                            }
                        }
                    })
                })
                .collect();
            let _poison = PoisonOnPanic(&barrier);
            let mut clock = profiling.then(ThreadClock::new);
            let mut spikes = vec![];
            let mut guesses = first_guesses.clone();
            let mut result = Ok(());
            loop {
                // SAFETY: S0 — the workers are parked at barrier A.
                let s = unsafe { &mut *team.sim.0 };
                if s.step >= target
                    || s.stop_requested
                    || (s.step > first && deadline.is_some_and(|d| Instant::now() >= d))
                {
                    break;
                }
                s.prelude();
                lap_thread(&mut clock, Activity::Serial);
                barrier.wait(); // A
                lap_thread(&mut clock, Activity::Wait);
                // SAFETY: phase P1, on this thread's own run of chunks.
                let (due, _) = unsafe { team.advance(0) };
                lap_thread(&mut clock, Activity::Advance);
                barrier.wait(); // B
                lap_thread(&mut clock, Activity::Wait);
                // SAFETY: phase P2, on this thread's own run.
                unsafe { team.deliver(0, &mut spikes, due, &guesses, false) };
                lap_thread(&mut clock, Activity::Deliver);
                barrier.wait(); // C
                lap_thread(&mut clock, Activity::Wait);
                let weight_stats = due.then(|| {
                    // SAFETY: after P2: phase P3 on this thread's run if a second pass is
                    // needed, then (after barrier D) S2.
                    unsafe {
                        let pending = team.second_pass(&mut guesses);
                        if pending.iter().any(Option::is_some) {
                            team.sum_weights(0, &pending);
                            lap_thread(&mut clock, Activity::Deliver);
                            barrier.wait(); // D
                            lap_thread(&mut clock, Activity::Wait);
                        }
                        team.weight_stats()
                    }
                });
                // SAFETY: S2 — the workers are parked at barrier A.
                let s = unsafe { &mut *team.sim.0 };
                if weight_stats.is_some() {
                    // For later slices and the single-threaded path.
                    s.recorder.weight_max.clone_from(&guesses);
                }
                std::mem::swap(&mut s.spikes, &mut spikes);
                s.epilogue();
                let recorded = s.after_step(sink, weight_stats.as_deref());
                lap_thread(&mut clock, Activity::Serial);
                if let Err(e) = recorded {
                    result = Err(e);
                    break;
                }
            }
            stop.store(true, Ordering::Release);
            barrier.wait(); // A: releases the workers, which see `stop` and return.
            let mut profiles = vec![clock.map(|c| c.profile)];
            for worker in workers {
                profiles.push(worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
            }
            (result, profiles)
        });
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
