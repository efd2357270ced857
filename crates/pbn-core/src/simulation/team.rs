//! A persistent team of threads that steps the chunks in lockstep.
//!
//! With K threads the calling thread and K − 1 scoped workers each own one chunk for a whole
//! `run_for` slice. A step is four phases separated by three barriers (A, B, C):
//!
//! | phase | calling thread (chunk 0 + serial work)             | worker k            |
//! |-------|-----------------------------------------------------|---------------------|
//! | S0    | inputs and stimuli for the step                    | parked at barrier A |
//! | P1    | advance chunk 0, post its spikes in slot 0          | same for chunk k    |
//! | P2    | gather all slots, deliver + finish chunk 0          | same for chunk k    |
//! | S2    | gather, traces, count, record, guard                | parked at barrier A |
//!
//! In P1/P2 every thread writes only its own chunk and its own spike slot, and reads only what
//! nobody writes until the following barrier (the slots are written in P1 and read in P2, so
//! each thread gathers the step's spikes itself instead of waiting for a serial gather). In S0
//! and S2 only the calling thread runs. The barriers (acquire/release) order every write before
//! the next phase's reads. This is what makes the raw pointers below sound. Spinning replaces
//! rayon's sleep/wake round trips, which cost more than the work of a small step.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::chunk::{Chunk, StepContext};
use super::{SimError, Simulation};
use crate::recording::RecordSink;

/// A reusable barrier that spins (then yields, if it waits long) instead of sleeping. If a
/// party panics, the others panic at their next wait instead of spinning forever.
pub(super) struct SpinBarrier {
    parties: usize,
    arrived: AtomicUsize,
    generation: AtomicUsize,
    poisoned: AtomicBool,
}

/// Marks the barrier poisoned when the thread holding it unwinds.
struct PoisonOnPanic<'a>(&'a SpinBarrier);

impl Drop for PoisonOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.poisoned.store(true, Ordering::Release);
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
        }
    }

    /// Returns once all parties have called `wait` for this generation.
    pub(super) fn wait(&self) {
        let generation = self.generation.load(Ordering::Acquire);
        if self.arrived.fetch_add(1, Ordering::AcqRel) + 1 == self.parties {
            self.arrived.store(0, Ordering::Relaxed);
            self.generation.fetch_add(1, Ordering::Release);
            return;
        }
        let mut spins = 0u32;
        while self.generation.load(Ordering::Acquire) == generation {
            if self.poisoned.load(Ordering::Acquire) {
                panic!("another simulation thread panicked");
            }
            if spins < 1_000 {
                std::hint::spin_loop();
                spins += 1;
            } else {
                // More threads than free cores: let the others run.
                std::thread::yield_now();
            }
        }
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

/// Phase P1 for chunk `k`: steps 1–3, and the chunk's spikes copied into its slot.
///
/// # Safety
/// Between barriers A and B only, with `k` owned by the calling thread.
unsafe fn advance(sim: SharedPtr<Simulation>, chunks: SharedPtr<Chunk>, slots: SharedPtr<Vec<u32>>, k: usize) {
    // SAFETY: the caller guarantees the phase; chunk k and slot k are touched by this thread
    // only, and the shared view reads fields that no thread writes during the phase.
    unsafe {
        let s = &*sim.0;
        let chunk = &mut *chunks.0.add(k);
        chunk.advance(&step_context!(s));
        let slot = &mut *slots.0.add(k);
        slot.clear();
        slot.extend_from_slice(&chunk.spikes);
    }
}

/// Phase P2 for chunk `k`: gathers every slot into `spikes` (chunks in order, so ids ascend),
/// then steps 4–5 and 8 for chunk k.
///
/// # Safety
/// Between barriers B and C only, with `k` owned by the calling thread; `parties` slots.
unsafe fn deliver(
    sim: SharedPtr<Simulation>,
    chunks: SharedPtr<Chunk>,
    slots: SharedPtr<Vec<u32>>,
    parties: usize,
    k: usize,
    spikes: &mut Vec<u32>,
) {
    // SAFETY: as in `advance`; no thread writes a slot during P2.
    unsafe {
        spikes.clear();
        for j in 0..parties {
            spikes.extend_from_slice(&*slots.0.add(j));
        }
        let s = &*sim.0;
        let chunk = &mut *chunks.0.add(k);
        let ctx = step_context!(s);
        chunk.deliver(&ctx, spikes, &s.traces, &mut |_| {});
        chunk.finish(&ctx);
    }
}

impl Simulation {
    /// Steps up to `target` with one thread per chunk (see the module docs).
    pub(super) fn run_steps_team(&mut self, target: u64, sink: &mut dyn RecordSink) -> Result<(), SimError> {
        let parties = self.chunks.len();
        let barrier = SpinBarrier::new(parties);
        let stop = AtomicBool::new(false);
        let chunks = SharedPtr(self.chunks.as_mut_ptr());
        let mut spike_slots: Vec<Vec<u32>> = vec![vec![]; parties];
        let slots = SharedPtr(spike_slots.as_mut_ptr());
        let sim = SharedPtr(self as *mut Simulation);
        std::thread::scope(|scope| {
            for k in 1..parties {
                let (barrier, stop) = (&barrier, &stop);
                scope.spawn(move || {
                    let _poison = PoisonOnPanic(barrier);
                    let mut spikes = vec![];
                    loop {
                        barrier.wait(); // A
                        if stop.load(Ordering::Acquire) {
                            return;
                        }
                        // SAFETY: phase P1, chunk k belongs to this thread.
                        unsafe { advance(sim, chunks, slots, k) };
                        barrier.wait(); // B
                        // SAFETY: phase P2, chunk k belongs to this thread.
                        unsafe { deliver(sim, chunks, slots, parties, k, &mut spikes) };
                        barrier.wait(); // C
                    }
                });
            }
            let _poison = PoisonOnPanic(&barrier);
            let mut spikes = vec![];
            let mut result = Ok(());
            loop {
                // SAFETY: S0 — the workers are parked at barrier A.
                let s = unsafe { &mut *sim.0 };
                if s.step >= target {
                    break;
                }
                s.prelude();
                barrier.wait(); // A
                // SAFETY: phase P1, chunk 0 belongs to this thread.
                unsafe { advance(sim, chunks, slots, 0) };
                barrier.wait(); // B
                // SAFETY: phase P2, chunk 0 belongs to this thread.
                unsafe { deliver(sim, chunks, slots, parties, 0, &mut spikes) };
                barrier.wait(); // C
                // SAFETY: S2 — the workers are parked at barrier A.
                let s = unsafe { &mut *sim.0 };
                std::mem::swap(&mut s.spikes, &mut spikes);
                s.epilogue();
                if let Err(e) = s.after_step(sink) {
                    result = Err(e);
                    break;
                }
            }
            stop.store(true, Ordering::Release);
            barrier.wait(); // A: releases the workers, which see `stop` and return.
            result
        })
    }
}
