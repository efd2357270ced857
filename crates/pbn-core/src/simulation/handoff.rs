//! How the threads of a team share a simulation's state, phase by phase: the one place in the
//! engine where threads touch the same mutable memory, and the only `unsafe` of the stepping
//! code besides prefetch hints and the SIMD dispatch.
//!
//! A team of K threads steps in lockstep (see `team`): every step is a sequence of phases
//! separated by barriers, and in each phase a thread may write only what that phase's table
//! row gives it. The [`Network`] is never written while the team runs: every thread reads it by
//! shared reference. The rest is handed out here:
//!
//! | turn ([`Kind`]) | each thread t may write                                  | and read (shared by all)          |
//! |-----------------|---------------------------------------------------------|-----------------------------------|
//! | `Advance` (P1)  | the chunks of its advance run and their spike slots; the weights of its share of the previous step's post-spike updates (any chunk's, through the weight table) | inputs, serial state |
//! | `Deliver` (P2)  | the chunks of its deliver run, their max and sum slots; the last thread also the inputs | every spike slot, serial state |
//! | `SecondPass` (P3) | the sum slots of its deliver run                      | the chunks of its deliver run      |
//! | `Between` steps | thread 0 only: inputs and serial state                   | chunks, max and sum slots          |
//!
//! Why that is sound:
//! - **Disjoint runs.** The partition's runs of one phase are ascending, non-overlapping ranges
//!   of chunk indices (checked when the [`Stage`] is set up), and each [`Seat`] (one per thread,
//!   not clonable) has its own index: no two threads get the same chunk or slot mutably. In P1
//!   the weights are the one exception to "own chunks only": no chunk's are touched by advancing
//!   it, and the post-spike updates reach them through raw views, each thread for a disjoint
//!   set of postsynaptic neurons cut by the same fractions (`deferred_post`).
//! - **Same phase everywhere.** A thread gets a turn only from [`Seat::wait`], which passes the
//!   barrier and checks that every thread arriving at it asked for the same kind of turn (a
//!   mismatch panics every thread instead of letting two phases overlap); [`Seat::turn`] gives
//!   the turn of the phase the thread is already in. `Between` is the phase after the barriers
//!   that end a step (and before the first): its writer (thread 0) and readers (the others,
//!   reading slots) do not conflict.
//! - **No borrow outlives its phase.** A view borrows its [`Turn`], which borrows its seat
//!   mutably, and the seat's next `wait` needs that borrow back: references handed out in a
//!   phase are gone before the thread's next barrier.
//! - **Ordering.** The barrier's release/acquire orders every write of a phase before every
//!   read in the next.

use std::marker::PhantomData;
use std::ops::Range;
use std::ptr::NonNull;
use std::sync::atomic::AtomicU64;

use super::barrier::SpinBarrier;
use super::chunk::ChunkState;
use super::deferred_post::{self, PostWeightTable};
use super::network::Network;
use super::state::{InputState, SerialState, State};

/// The kinds of turns, one per phase of a step (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(super) enum Kind {
    /// P1: steps 1–3 for the thread's advance run.
    Advance = 1,
    /// P2: steps 4–5 and 8 for the thread's deliver run.
    Deliver = 2,
    /// P3: a second pass of the weight statistics.
    SecondPass = 3,
    /// Between steps: serial work on thread 0.
    Between = 4,
}

/// Per-chunk slots through which a step's results pass between threads.
#[derive(Default)]
pub(super) struct Slots {
    /// This step's spikes of each chunk (P1 → P2).
    pub(super) spikes: Vec<Vec<u32>>,
    /// Per chunk, the largest |weight| of each recorded plastic projection (P2 → between).
    pub(super) maxima: Vec<Vec<f64>>,
    /// Per chunk, the fixed-point (Σw, Σw²) of each recorded plastic projection (P2/P3 →
    /// between).
    pub(super) sums: Vec<Vec<(i128, i128)>>,
}

impl Slots {
    /// Empty slots for `n_chunks` chunks.
    pub(super) fn new(n_chunks: usize) -> Self {
        Self {
            spikes: vec![vec![]; n_chunks],
            maxima: vec![vec![]; n_chunks],
            sums: vec![vec![]; n_chunks],
        }
    }
}

/// A slice several threads take disjoint parts of.
struct Shared<'s, T> {
    ptr: NonNull<T>,
    len: usize,
    _borrow: PhantomData<&'s mut [T]>,
}

impl<'s, T> Shared<'s, T> {
    fn new(slice: &'s mut [T]) -> Self {
        Self {
            len: slice.len(),
            ptr: NonNull::from(slice).cast(),
            _borrow: PhantomData,
        }
    }

    /// # Safety
    /// No other reference to elements of `range` may exist while the result lives.
    #[allow(clippy::mut_from_ref)] // what this type is for: disjoint parts to different threads
    unsafe fn part_mut(&self, range: Range<usize>) -> &mut [T] {
        assert!(range.start <= range.end && range.end <= self.len);
        // SAFETY: in bounds (asserted); exclusive by the caller's guarantee.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr().add(range.start), range.len()) }
    }

    /// # Safety
    /// No mutable reference to any element may exist while the result lives.
    unsafe fn all(&self) -> &[T] {
        // SAFETY: the whole borrowed slice; shared by the caller's guarantee.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

/// What a team shares: the network by reference, the state and slots handed out by turn.
pub(super) struct Stage<'s> {
    network: &'s Network,
    chunks: Shared<'s, ChunkState>,
    spike_slots: Shared<'s, Vec<u32>>,
    max_slots: Shared<'s, Vec<f64>>,
    sum_slots: Shared<'s, Vec<(i128, i128)>>,
    /// Every chunk's plastic weights, for the previous step's post-spike updates in P1.
    post_weights: PostWeightTable,
    /// Per thread, how long its last P1 took (ns): what thread 0 shares the post-spike updates
    /// by (see `deferred_post`).
    p1_ns: Vec<ThreadSlot>,
    /// From `&'s mut` borrows: raw, so that references are derived from them phase by phase.
    inputs: NonNull<InputState>,
    serial: NonNull<SerialState>,
    _state: PhantomData<&'s mut State>,
    barrier: SpinBarrier,
    threads: usize,
}

// SAFETY: the threads reach the state only through turns, which follow the table of the module
// docs; every shared type is itself Send + Sync (plain data: vectors, numbers, generators).
unsafe impl Sync for Stage<'_> {}

/// Checks at compile time that what the stage hands across threads may cross them.
const _: fn() = || {
    fn sendable<T: Send + Sync>() {}
    sendable::<Network>();
    sendable::<ChunkState>();
    sendable::<InputState>();
    sendable::<SerialState>();
};

impl<'s> Stage<'s> {
    /// The stage for a team of the partition's threads over `state`, with `slots` (one per
    /// chunk) for what passes between them.
    pub(super) fn new(network: &'s Network, state: &'s mut State, slots: &'s mut Slots) -> Self {
        let n = state.chunks.len();
        assert!(slots.spikes.len() == n && slots.maxima.len() == n && slots.sums.len() == n);
        let partition = &network.partition;
        for runs in [&partition.advance, &partition.deliver] {
            // Disjoint by construction; checked because soundness rests on it.
            assert!(runs.windows(2).all(|w| w[0].end <= w[1].start));
            assert!(runs.iter().all(|r| r.start <= r.end && r.end <= n));
        }
        let threads = partition.threads();
        let post_weights = deferred_post::weight_table(&mut state.chunks, network);
        Self {
            network,
            post_weights,
            p1_ns: (0..threads).map(|_| ThreadSlot::default()).collect(),
            chunks: Shared::new(&mut state.chunks),
            spike_slots: Shared::new(&mut slots.spikes),
            max_slots: Shared::new(&mut slots.maxima),
            sum_slots: Shared::new(&mut slots.sums),
            inputs: NonNull::from(&mut state.inputs),
            serial: NonNull::from(&mut state.serial),
            _state: PhantomData,
            barrier: SpinBarrier::new(threads),
            threads,
        }
    }

    /// One seat per thread, thread 0 first (the calling thread's).
    pub(super) fn seats(&mut self) -> Vec<Seat<'_>> {
        let stage = &*self;
        (0..self.threads)
            .map(|t| Seat {
                stage,
                t,
                kind: Kind::Between,
            })
            .collect()
    }

    fn inputs(&self) -> *mut InputState {
        self.inputs.as_ptr()
    }

    fn serial(&self) -> *mut SerialState {
        self.serial.as_ptr()
    }
}

/// One thread's number, on a cache line of its own (each thread writes its own every step).
#[derive(Default)]
#[repr(align(128))]
pub(super) struct ThreadSlot(pub(super) AtomicU64);

/// A thread's place in the team.
pub(super) struct Seat<'a> {
    stage: &'a Stage<'a>,
    t: usize,
    /// The phase this thread is in: that of the last barrier it passed (between steps before
    /// the first).
    kind: Kind,
}

impl<'a> Seat<'a> {
    /// This seat's thread index (0: the calling thread).
    pub(super) fn index(&self) -> usize {
        self.t
    }

    /// Threads in the team.
    pub(super) fn threads(&self) -> usize {
        self.stage.threads
    }

    /// This thread's turn in the phase it is in (the last barrier's), again.
    pub(super) fn turn(&mut self) -> Turn<'_, 'a> {
        let kind = self.kind;
        Turn { seat: self, kind }
    }

    /// Waits until every thread has asked for a turn of `kind`, then returns this thread's.
    /// Panics if another thread asked for another kind (or panicked).
    pub(super) fn wait(&mut self, kind: Kind) -> Turn<'_, 'a> {
        self.stage.barrier.wait(kind as u8);
        self.kind = kind;
        Turn { seat: self, kind }
    }

    /// Marks the team poisoned if this thread unwinds, so that the others panic at their next
    /// barrier instead of waiting forever.
    pub(super) fn poison_on_panic(&self) -> impl Drop + use<'a> {
        let stage: &'a Stage<'a> = self.stage;
        stage.barrier.poison_on_panic()
    }
}

/// A thread's turn in one phase: what it may touch, as views.
pub(super) struct Turn<'t, 'a> {
    seat: &'t mut Seat<'a>,
    kind: Kind,
}

/// P1: a thread's advance run.
pub(super) struct AdvanceView<'v> {
    pub(super) network: &'v Network,
    /// The run's first chunk index.
    pub(super) first: usize,
    pub(super) chunks: &'v mut [ChunkState],
    /// The run's spike slots.
    pub(super) spike_slots: &'v mut [Vec<u32>],
    pub(super) inputs: &'v InputState,
    pub(super) serial: &'v SerialState,
    /// Every chunk's plastic weights, for this thread's share of the previous step's post-spike
    /// updates (see `deferred_post`): the only way to a weight in P1.
    pub(super) post_weights: &'v PostWeightTable,
    /// This thread's index (its share is `serial.post_fractions[t]`).
    pub(super) t: usize,
    /// Where this thread leaves how long its P1 took (ns).
    pub(super) p1_ns: &'v AtomicU64,
}

/// P2: a thread's deliver run.
pub(super) struct DeliverView<'v> {
    pub(super) network: &'v Network,
    /// The run's first chunk index.
    pub(super) first: usize,
    pub(super) chunks: &'v mut [ChunkState],
    /// Every chunk's spikes of this step.
    pub(super) spike_slots: &'v [Vec<u32>],
    /// The run's max and sum slots.
    pub(super) max_slots: &'v mut [Vec<f64>],
    pub(super) sum_slots: &'v mut [Vec<(i128, i128)>],
    pub(super) serial: &'v SerialState,
    /// The inputs, for the last thread (it prepares the next step's).
    pub(super) inputs: Option<&'v mut InputState>,
}

/// P3: a thread's deliver run, read, and its sum slots.
pub(super) struct SecondPassView<'v> {
    pub(super) network: &'v Network,
    pub(super) chunks: &'v [ChunkState],
    pub(super) sum_slots: &'v mut [Vec<(i128, i128)>],
}

/// Between steps, what every thread may read.
#[derive(Clone, Copy)]
pub(super) struct SlotsView<'v> {
    pub(super) max_slots: &'v [Vec<f64>],
    pub(super) sum_slots: &'v [Vec<(i128, i128)>],
}

/// Between steps, thread 0's serial work.
pub(super) struct SerialView<'v> {
    pub(super) network: &'v Network,
    pub(super) chunks: &'v [ChunkState],
    pub(super) slots: SlotsView<'v>,
    pub(super) inputs: &'v mut InputState,
    pub(super) serial: &'v mut SerialState,
    /// Per thread, how long its last P1 took (ns).
    pub(super) p1_ns: &'v [ThreadSlot],
}

impl Turn<'_, '_> {
    fn expect(&self, kind: Kind) {
        assert_eq!(self.kind, kind, "a {kind:?} view asked for in a {:?} turn", self.kind);
    }

    /// P1's view.
    pub(super) fn advance(&mut self) -> AdvanceView<'_> {
        self.expect(Kind::Advance);
        let (stage, t) = (self.seat.stage, self.seat.t);
        let run = stage.network.partition.advance[t].clone();
        // SAFETY: an Advance turn (every thread is in P1, checked at the barrier); runs of a
        // phase are disjoint, so the run's chunks and spike slots are this thread's alone; in P1
        // nobody writes the inputs or the serial state. The chunks' weights are reached in P1
        // only through `post_weights` (advancing a chunk never touches them), by each thread for
        // its own share of postsynaptic neurons (see `deferred_post::apply`).
        unsafe {
            AdvanceView {
                network: stage.network,
                first: run.start,
                chunks: stage.chunks.part_mut(run.clone()),
                spike_slots: stage.spike_slots.part_mut(run),
                inputs: &*stage.inputs(),
                serial: &*stage.serial(),
                post_weights: &stage.post_weights,
                t,
                p1_ns: &stage.p1_ns[t].0,
            }
        }
    }

    /// P2's view; with `prepare` (the last thread only) the inputs too.
    pub(super) fn deliver(&mut self, prepare: bool) -> DeliverView<'_> {
        self.expect(Kind::Deliver);
        let (stage, t) = (self.seat.stage, self.seat.t);
        assert!(
            !prepare || t == stage.threads - 1,
            "only the last thread prepares the inputs"
        );
        let run = stage.network.partition.deliver[t].clone();
        // SAFETY: a Deliver turn; the run's chunks and max/sum slots are this thread's alone;
        // nobody writes a spike slot or the serial state in P2, and nobody but the last thread
        // touches the inputs.
        unsafe {
            DeliverView {
                network: stage.network,
                first: run.start,
                chunks: stage.chunks.part_mut(run.clone()),
                spike_slots: stage.spike_slots.all(),
                max_slots: stage.max_slots.part_mut(run.clone()),
                sum_slots: stage.sum_slots.part_mut(run),
                serial: &*stage.serial(),
                inputs: prepare.then(|| &mut *stage.inputs()),
            }
        }
    }

    /// P3's view.
    pub(super) fn second_pass(&mut self) -> SecondPassView<'_> {
        self.expect(Kind::SecondPass);
        let (stage, t) = (self.seat.stage, self.seat.t);
        let run = stage.network.partition.deliver[t].clone();
        // SAFETY: a SecondPass turn; the run's sum slots are this thread's alone, and nobody
        // writes a chunk in P3.
        unsafe {
            SecondPassView {
                network: stage.network,
                chunks: &stage.chunks.all()[run.clone()],
                sum_slots: stage.sum_slots.part_mut(run),
            }
        }
    }

    /// Between steps: the slots, read.
    pub(super) fn slots(&mut self) -> SlotsView<'_> {
        self.expect(Kind::Between);
        let stage = self.seat.stage;
        // SAFETY: between steps nobody writes a slot.
        unsafe {
            SlotsView {
                max_slots: stage.max_slots.all(),
                sum_slots: stage.sum_slots.all(),
            }
        }
    }

    /// Between steps, on thread 0: the serial work's view.
    pub(super) fn serial(&mut self) -> SerialView<'_> {
        self.expect(Kind::Between);
        let stage = self.seat.stage;
        assert!(self.seat.t == 0, "serial work is thread 0's");
        // SAFETY: between steps the other threads read only slots (or wait): thread 0 alone
        // touches the inputs and the serial state, and nobody writes a chunk or a slot.
        unsafe {
            SerialView {
                network: stage.network,
                chunks: stage.chunks.all(),
                slots: SlotsView {
                    max_slots: stage.max_slots.all(),
                    sum_slots: stage.sum_slots.all(),
                },
                inputs: &mut *stage.inputs(),
                serial: &mut *stage.serial(),
                p1_ns: &stage.p1_ns,
            }
        }
    }
}
