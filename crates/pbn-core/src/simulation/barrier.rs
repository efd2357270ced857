//! The barrier between the phases of a step (see `team` and `handoff`).

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

/// A reusable barrier that spins, then yields, then sleeps. With a free core per thread the
/// others arrive within microseconds and a wait never gets past spinning; when threads outnumber
/// the free cores (more `--threads` than cores, or other programs running) a waiting thread
/// would take a core from the ones that still have work, so after a short while it sleeps on a
/// condition variable until the last party arrives and wakes it. If a party panics, the others
/// panic at their next wait instead of waiting forever. Aligned to (and padded to a multiple of)
/// 128 bytes: its counters are written at every wait, and the data the threads read between
/// waits must not share their cache lines.
#[repr(align(128))]
pub(super) struct SpinBarrier {
    parties: usize,
    /// Parties arrived in the current generation, counted per kind of turn they asked for: 16
    /// bits per kind 1–4, so that one atomic add both counts a party and records its kind.
    arrived: AtomicU64,
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
            self.0.poison();
        }
    }
}

impl SpinBarrier {
    /// Marks the barrier poisoned and wakes the sleepers, so that they see it.
    fn poison(&self) {
        self.poisoned.store(true, Ordering::SeqCst);
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        self.wake.notify_all();
    }

    /// A guard that poisons the barrier if the thread holding it unwinds.
    pub(super) fn poison_on_panic(&self) -> impl Drop + '_ {
        PoisonOnPanic(self)
    }

    pub(super) fn new(parties: usize) -> Self {
        assert!(parties < 1 << 16, "at most 65,535 threads");
        Self {
            parties,
            arrived: AtomicU64::new(0),
            generation: AtomicUsize::new(0),
            poisoned: AtomicBool::new(false),
            sleepers: AtomicUsize::new(0),
            lock: Mutex::new(()),
            wake: Condvar::new(),
        }
    }

    /// Returns once all parties have called `wait` for this generation. Every party passes the
    /// `kind` (1–4) of what it will do next; if they differ, the last party to arrive poisons the
    /// team instead of releasing it, and every party panics.
    pub(super) fn wait(&self, kind: u8) {
        assert!((1..=4).contains(&kind));
        let generation = self.generation.load(Ordering::Acquire);
        let unit = 1u64 << (16 * (kind as u32 - 1));
        let now = self.arrived.fetch_add(unit, Ordering::AcqRel) + unit;
        let arrived: u64 = (0..4).map(|k| (now >> (16 * k)) & 0xffff).sum();
        if arrived == self.parties as u64 {
            self.arrived.store(0, Ordering::Relaxed);
            if now != self.parties as u64 * unit {
                self.poison();
                panic!("simulation threads out of step: they asked for different phases ({now:#x})");
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parties_asking_for_the_same_phase_pass_together() {
        let barrier = SpinBarrier::new(3);
        let passed = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..3 {
                s.spawn(|| {
                    for kind in [1, 2, 1, 4] {
                        barrier.wait(kind);
                        passed.fetch_add(1, Ordering::SeqCst);
                    }
                });
            }
        });
        assert_eq!(passed.load(Ordering::SeqCst), 12);
    }

    #[test]
    fn parties_out_of_step_all_panic_instead_of_overlapping() {
        let barrier = SpinBarrier::new(2);
        let outcomes: Vec<bool> = std::thread::scope(|s| {
            let threads: Vec<_> = [1u8, 2]
                .into_iter()
                .map(|kind| {
                    let barrier = &barrier;
                    s.spawn(move || {
                        let _poison = barrier.poison_on_panic();
                        barrier.wait(kind);
                    })
                })
                .collect();
            threads.into_iter().map(|t| t.join().is_err()).collect()
        });
        assert_eq!(outcomes, [true, true], "both threads must panic");
    }
}
