//! Random sparse connectivity and its storage (docs/model.md §2.2, docs/engine.md §7.2).
//!
//! Connections are drawn per presynaptic neuron from that neuron's own random stream (Bernoulli
//! trials by geometric skipping), so the network does not depend on how many threads build it.
//! They are then stored per *chunk* of postsynaptic neurons: each chunk has a forward CSR (pre →
//! its targets inside the chunk) and, for plastic projections, a backward index (post →
//! positions of its incoming synapses in the forward arrays). The weights of a plastic part are
//! simulation state, kept apart (in forward order, one per synapse): they are stored once and a
//! thread owning a chunk writes only its own. Forward
//! order makes the frequent pre-spike work sequential in memory; the backward index lists each
//! post neuron's synapses by ascending pre index, which is the chunking-independent "post-major"
//! order used for every output.

use rand::RngExt;
use rayon::prelude::*;

use crate::huge_pages;
use crate::rng::{Purpose, stream};

/// Sorted targets (postsynaptic indices within the target population) of every presynaptic
/// neuron: row `k` is `targets[row_ptr[k]..row_ptr[k + 1]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Rows {
    /// Row offsets, length n_pre + 1.
    pub row_ptr: Vec<u64>,
    /// Postsynaptic indices, sorted within each row.
    pub targets: Vec<u32>,
}

impl Rows {
    /// Bernoulli(p) connections for every (pre, post) pair, self-pairs included.
    pub fn bernoulli(seed: u64, projection: usize, n_pre: usize, n_post: usize, p: f64) -> Self {
        let rows: Vec<Vec<u32>> = (0..n_pre)
            .into_par_iter()
            .map(|k| {
                let mut rng = stream(seed, Purpose::Connectivity, projection as u64, k as u64);
                bernoulli_row(&mut rng, n_post, p)
            })
            .collect();
        let mut row_ptr = Vec::with_capacity(n_pre + 1);
        row_ptr.push(0u64);
        let mut total = 0u64;
        for r in &rows {
            total += r.len() as u64;
            row_ptr.push(total);
        }
        let mut targets = Vec::with_capacity(total as usize);
        for r in rows {
            targets.extend_from_slice(&r);
        }
        Self { row_ptr, targets }
    }

    /// Targets of presynaptic neuron `k`.
    pub fn row(&self, k: usize) -> &[u32] {
        &self.targets[self.row_ptr[k] as usize..self.row_ptr[k + 1] as usize]
    }

    /// Number of presynaptic neurons.
    pub fn n_pre(&self) -> usize {
        self.row_ptr.len() - 1
    }
}

/// Indices j < n with independent probability p each, by geometric skipping (cost ∝ p·n).
fn bernoulli_row(rng: &mut crate::rng::Rng, n: usize, p: f64) -> Vec<u32> {
    if p <= 0.0 || n == 0 {
        return vec![];
    }
    if p >= 1.0 {
        return (0..n as u32).collect();
    }
    let log_q = (1.0 - p).ln();
    let mut out = Vec::with_capacity((p * n as f64 * 1.2) as usize + 4);
    let mut j: i64 = -1;
    loop {
        let u: f64 = rng.random();
        // 1 − u ∈ (0, 1], so the log is finite; the skip is Geometric(p) − 1.
        // (skip ≥ 0, so truncation is its floor, without a libm call.)
        let skip = (1.0 - u).ln() / log_q;
        if skip >= n as f64 {
            break;
        }
        j += skip as i64 + 1;
        if j >= n as i64 {
            break;
        }
        out.push(j as u32);
    }
    out
}

/// Entry (`i`, block `b`) of a blocked offset array (`ptr[i·n_blocks + b]..ptr[i·n_blocks + b + 1]`,
/// as both the forward rows and the backward lists are stored): (the block's first index, range).
#[inline(always)]
fn blocked(ptr: &[u64], n_blocks: usize, i: usize, b: usize) -> (usize, std::ops::Range<usize>) {
    let cell = i * n_blocks + b;
    (b * TARGET_BLOCK, ptr[cell] as usize..ptr[cell + 1] as usize)
}

/// All blocks of entry `i` of a blocked offset array: they are contiguous.
#[inline(always)]
fn whole(ptr: &[u64], n_blocks: usize, i: usize) -> std::ops::Range<usize> {
    ptr[i * n_blocks] as usize..ptr[(i + 1) * n_blocks] as usize
}

/// Targets are stored relative to blocks of this many chunk-local neurons, so that 16 bits (or
/// fewer, see [`TargetIndex`]) index them. A chunk of up to 65,536 neurons has one block.
pub const TARGET_BLOCK: usize = 1 << 16;

/// The largest distance between consecutive targets that [`TargetIndex::Gaps`] stores.
const MAX_GAP: usize = u8::MAX as usize;

/// The targets of a chunk part's synapses, one entry per synapse in forward order; the targets
/// of a segment (one presynaptic neuron, one target block) are ascending.
#[derive(Debug, Clone)]
pub enum TargetIndex {
    /// One byte per synapse: the distance from the segment's previous target (for its first
    /// synapse, from the first neuron of the part in that block, [`ChunkSynapses::first_target`]).
    /// Used when every distance fits, which is nearly certain for connection probabilities of
    /// 0.05 and more (a gap over 255 has probability (1 − p)^255 < 2·10⁻⁶ each): half the
    /// memory, and half the memory traffic of spike delivery, of [`TargetIndex::Offsets`].
    Gaps(Vec<u8>),
    /// Two bytes per synapse: the target's chunk-local index less its block's start.
    Offsets(Vec<u16>),
}

impl Default for TargetIndex {
    fn default() -> Self {
        TargetIndex::Offsets(Vec::new())
    }
}

impl TargetIndex {
    /// Number of synapses.
    pub fn len(&self) -> usize {
        match self {
            TargetIndex::Gaps(g) => g.len(),
            TargetIndex::Offsets(o) => o.len(),
        }
    }

    /// Bytes held.
    pub fn memory_bytes(&self) -> usize {
        match self {
            TargetIndex::Gaps(g) => g.capacity(),
            TargetIndex::Offsets(o) => 2 * o.capacity(),
        }
    }
}

/// The block-local targets of a [`TargetIndex::Gaps`] segment, decoded as they are read.
#[derive(Clone)]
pub struct GapTargets<'a> {
    gaps: std::slice::Iter<'a, u8>,
    at: u16,
}

impl<'a> GapTargets<'a> {
    /// The targets of the gaps `gaps`, counted from `first` ([`ChunkSynapses::first_target`]).
    #[inline(always)]
    pub fn new(gaps: &'a [u8], first: u16) -> Self {
        Self {
            gaps: gaps.iter(),
            at: first,
        }
    }
}

impl Iterator for GapTargets<'_> {
    type Item = u16;

    #[inline(always)]
    fn next(&mut self) -> Option<u16> {
        // Wrapping: a valid index never wraps, and a u16 indexes a target block without a
        // bounds check.
        self.at = self.at.wrapping_add(u16::from(*self.gaps.next()?));
        Some(self.at)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.gaps.size_hint()
    }
}

/// The block-local targets of a segment of either kind of [`TargetIndex`].
pub enum Targets<'a> {
    /// Of [`TargetIndex::Gaps`].
    Gaps(GapTargets<'a>),
    /// Of [`TargetIndex::Offsets`].
    Offsets(std::slice::Iter<'a, u16>),
}

impl Iterator for Targets<'_> {
    type Item = u16;

    #[inline]
    fn next(&mut self) -> Option<u16> {
        match self {
            Targets::Gaps(g) => g.next(),
            Targets::Offsets(o) => o.next().copied(),
        }
    }
}

/// Evaluates `$body` with `$targets` bound to an iterator over the block-local targets (`u16`)
/// of the forward range `$segment` of block start `$base` of the chunk part `$part`. The match
/// on the index's kind is outside `$body`, so each kind gets its own loop (hot paths).
macro_rules! with_targets {
    ($part:expr, $base:expr, $segment:expr, |$targets:ident| $body:expr) => {
        match &$part.targets {
            $crate::connectivity::TargetIndex::Gaps(g) => {
                let $targets = $crate::connectivity::GapTargets::new(&g[$segment], $part.first_target($base));
                $body
            }
            $crate::connectivity::TargetIndex::Offsets(o) => {
                let $targets = o[$segment].iter().copied();
                $body
            }
        }
    };
}
pub(crate) use with_targets;

/// Where the gaps of a segment start counting, for a part whose first neuron sits at chunk-local
/// `post_offset`, in the target block starting at `base`: the one rule the encoder
/// ([`ChunkSynapses::from_rows`]) and the decoder ([`ChunkSynapses::first_target`]) share.
fn gaps_start(post_offset: usize, base: usize) -> u16 {
    // (A block the part does not reach has empty segments: any start does.)
    post_offset.saturating_sub(base).min(TARGET_BLOCK - 1) as u16
}

/// Bytes per synapse that a part's [`TargetIndex`] is expected to take, for `synapses` synapses
/// of connection probability `p` (1 when no gap over 255 is expected, 2 otherwise).
pub fn expected_target_bytes(p: f64, synapses: f64) -> f64 {
    // Expected number of gaps over MAX_GAP, each one (1 − p)^255 likely.
    if synapses * (1.0 - p).powi(MAX_GAP as i32) < 0.01 {
        1.0
    } else {
        2.0
    }
}

/// The part of a projection whose postsynaptic neurons lie in one chunk.
#[derive(Debug, Clone, Default)]
pub struct ChunkSynapses {
    /// Forward segment offsets: the synapses of presynaptic neuron `k` onto target block `b` are
    /// `fwd_ptr[k·n_blocks + b]..fwd_ptr[k·n_blocks + b + 1]` (length n_pre·n_blocks + 1), so
    /// a whole row is contiguous too.
    pub fwd_ptr: Vec<u64>,
    /// The target of each synapse (see [`TargetIndex`]).
    pub targets: TargetIndex,
    /// Number of target blocks: ⌈(post_offset + post_len) / TARGET_BLOCK⌉.
    pub n_blocks: usize,
    /// Plastic projections only: backward slot offsets. The incoming synapses of the part's
    /// `i`-th postsynaptic neuron from presynaptic block `b` (presynaptic indices
    /// `b·TARGET_BLOCK…`) are slots `bwd_ptr[i·n_pre_blocks + b]..bwd_ptr[i·n_pre_blocks + b + 1]`
    /// (length post_len·n_pre_blocks + 1); all of neuron `i`'s are contiguous, by ascending
    /// presynaptic index.
    pub bwd_ptr: Vec<u64>,
    /// Number of presynaptic blocks: ⌈n_pre / TARGET_BLOCK⌉ (1 for plastic-free parts).
    pub n_pre_blocks: usize,
    /// Plastic projections only: forward position (into `targets` and the weights) of each backward slot.
    pub bwd_pos: Vec<u32>,
    /// Plastic projections only: presynaptic index of each backward slot, less its block's start.
    pub bwd_pre: Vec<u16>,
    /// Chunk-local index of the first postsynaptic neuron of this part.
    pub post_offset: usize,
    /// Number of postsynaptic neurons of the projection inside the chunk.
    pub post_len: usize,
}

impl ChunkSynapses {
    /// Extracts the synapses onto postsynaptic population indices [lo, hi), which sit at
    /// chunk-local positions starting at `post_offset`.
    pub fn from_rows(rows: &Rows, lo: usize, hi: usize, post_offset: usize, plastic: bool) -> Self {
        let n_pre = rows.n_pre();
        let post_len = hi - lo;
        // (Blocks start below post_offset + post_len ≤ the chunk's size; an empty part, which may
        // sit at any offset, gets one empty block.)
        let n_blocks = if post_len == 0 {
            1
        } else {
            (post_offset + post_len).div_ceil(TARGET_BLOCK)
        };
        assert!(
            n_pre * n_blocks < u32::MAX as usize,
            "too many presynaptic neurons for one chunk part"
        );
        let in_range = |k: usize| {
            let row = rows.row(k);
            row.partition_point(|&t| (t as usize) < lo)..row.partition_point(|&t| (t as usize) < hi)
        };
        let total: usize = (0..n_pre).map(|k| in_range(k).len()).sum();
        assert!(total < u32::MAX as usize, "too many synapses for one chunk part");
        // Row k's synapses as (block, block-local target, distance from the previous target of
        // the segment or from the block's first possible target).
        let first = |block: usize| usize::from(gaps_start(post_offset, block * TARGET_BLOCK));
        let placed = |k: usize| {
            let mut at = (0, first(0));
            rows.row(k)[in_range(k)].iter().map(move |&t| {
                let target = t as usize - lo + post_offset;
                let block = target / TARGET_BLOCK;
                let local = target - block * TARGET_BLOCK;
                if block != at.0 {
                    at = (block, first(block));
                }
                let gap = local - at.1;
                at.1 = local;
                (block, local, gap)
            })
        };
        let gaps_fit = (0..n_pre).all(|k| placed(k).all(|(_, _, gap)| gap <= MAX_GAP));
        let mut fwd_ptr = Vec::with_capacity(n_pre * n_blocks + 1);
        fwd_ptr.push(0u64);
        let mut targets = if gaps_fit {
            TargetIndex::Gaps(huge_pages::vec_with_capacity(total))
        } else {
            TargetIndex::Offsets(huge_pages::vec_with_capacity(total))
        };
        let mut stored = 0u64;
        for k in 0..n_pre {
            let mut segment = 0;
            for (block, local, gap) in placed(k) {
                // Close the segments of the blocks before this target's (sorted rows).
                while block > segment {
                    fwd_ptr.push(stored);
                    segment += 1;
                }
                match &mut targets {
                    TargetIndex::Gaps(g) => g.push(gap as u8),
                    TargetIndex::Offsets(o) => o.push(local as u16),
                }
                stored += 1;
            }
            while segment < n_blocks {
                fwd_ptr.push(stored);
                segment += 1;
            }
        }
        let mut s = ChunkSynapses {
            fwd_ptr,
            targets,
            n_blocks,
            post_offset,
            post_len,
            ..Default::default()
        };
        let n_pre_blocks = n_pre.div_ceil(TARGET_BLOCK).max(1);
        s.n_pre_blocks = n_pre_blocks;
        if plastic {
            // Slot counts per (post, presynaptic block), then their prefix sums.
            let mut counts = vec![0u64; post_len * n_pre_blocks];
            for k in 0..n_pre {
                for (base, segment) in s.segments(k) {
                    for t in s.targets(base, segment) {
                        let local = base + t as usize - post_offset;
                        counts[local * n_pre_blocks + k / TARGET_BLOCK] += 1;
                    }
                }
            }
            let mut bwd_ptr = Vec::with_capacity(counts.len() + 1);
            bwd_ptr.push(0u64);
            for c in &counts {
                bwd_ptr.push(bwd_ptr.last().unwrap() + c);
            }
            let total = *bwd_ptr.last().unwrap() as usize;
            let mut cursor: Vec<u64> = bwd_ptr[..counts.len()].to_vec();
            let mut bwd_pre = huge_pages::vec_filled(total, 0u16);
            let mut bwd_pos = huge_pages::vec_filled(total, 0u32);
            // Ascending k, so every (post, block) list comes out sorted by presynaptic index.
            for k in 0..n_pre {
                for (base, segment) in s.segments(k) {
                    for (f, t) in segment.clone().zip(s.targets(base, segment)) {
                        let local = base + t as usize - post_offset;
                        let cell = &mut cursor[local * n_pre_blocks + k / TARGET_BLOCK];
                        bwd_pre[*cell as usize] = (k % TARGET_BLOCK) as u16;
                        bwd_pos[*cell as usize] = f as u32;
                        *cell += 1;
                    }
                }
            }
            s.bwd_ptr = bwd_ptr;
            s.bwd_pre = bwd_pre;
            s.bwd_pos = bwd_pos;
        }
        s
    }

    /// Forward synapse index range of presynaptic neuron `k` (all blocks).
    #[inline(always)]
    pub fn row_range(&self, k: usize) -> std::ops::Range<usize> {
        whole(&self.fwd_ptr, self.n_blocks, k)
    }

    /// The first chunk-local neuron of this part in the target block starting at `base`, less
    /// `base`: where the [`TargetIndex::Gaps`] of a segment start counting.
    #[inline(always)]
    pub fn first_target(&self, base: usize) -> u16 {
        gaps_start(self.post_offset, base)
    }

    /// The block-local targets of the forward range `segment` of the block starting at `base`
    /// (a segment of [`ChunkSynapses::segments`]); the chunk-local target is `base + t`. For
    /// the hot loops, `with_targets!` gives each kind of index its own loop.
    pub fn targets(&self, base: usize, segment: std::ops::Range<usize>) -> Targets<'_> {
        match &self.targets {
            TargetIndex::Gaps(g) => Targets::Gaps(GapTargets::new(&g[segment], self.first_target(base))),
            TargetIndex::Offsets(o) => Targets::Offsets(o[segment].iter()),
        }
    }

    /// The synapses of presynaptic neuron `k`, block by block: (the block's first chunk-local
    /// neuron, forward index range); [`ChunkSynapses::targets`] gives their targets.
    #[inline(always)]
    pub fn segments(&self, k: usize) -> impl Iterator<Item = (usize, std::ops::Range<usize>)> + '_ {
        (0..self.n_blocks).map(move |b| self.segment(k, b))
    }

    /// Block `b` of [`ChunkSynapses::segments`]`(k)`.
    #[inline(always)]
    pub fn segment(&self, k: usize, b: usize) -> (usize, std::ops::Range<usize>) {
        blocked(&self.fwd_ptr, self.n_blocks, k, b)
    }

    /// Backward slot range of the `i`-th postsynaptic neuron of the part (all blocks).
    #[inline(always)]
    pub fn incoming_range(&self, i: usize) -> std::ops::Range<usize> {
        whole(&self.bwd_ptr, self.n_pre_blocks, i)
    }

    /// The incoming synapses of the part's `i`-th postsynaptic neuron, block by block: (the
    /// block's first presynaptic index, slot range); slot `s` comes from presynaptic neuron
    /// `base + bwd_pre[s]`.
    #[inline(always)]
    pub fn incoming(&self, i: usize) -> impl Iterator<Item = (usize, std::ops::Range<usize>)> + '_ {
        (0..self.n_pre_blocks).map(move |b| self.incoming_block(i, b))
    }

    /// Block `b` of [`ChunkSynapses::incoming`]`(i)`.
    #[inline(always)]
    pub fn incoming_block(&self, i: usize, b: usize) -> (usize, std::ops::Range<usize>) {
        blocked(&self.bwd_ptr, self.n_pre_blocks, i, b)
    }

    /// (postsynaptic index within the part, presynaptic index) of backward slot `slot`.
    pub fn slot_synapse(&self, slot: usize) -> (usize, usize) {
        let cell = self.bwd_ptr.partition_point(|&o| o as usize <= slot) - 1;
        let (i, b) = (cell / self.n_pre_blocks, cell % self.n_pre_blocks);
        (i, b * TARGET_BLOCK + self.bwd_pre[slot] as usize)
    }

    /// Initial weights of a plastic part, all `w0` (scaled), in forward order: one per synapse.
    pub fn initial_weights(&self, w0: f64) -> Vec<f64> {
        huge_pages::vec_filled(self.len(), w0)
    }

    /// Bytes held by this part's index arrays (row and backward pointers included; not the
    /// weights of a plastic part, `len()` f64 more).
    pub fn memory_bytes(&self) -> usize {
        fn bytes<T>(v: &Vec<T>) -> usize {
            v.capacity() * size_of::<T>()
        }
        bytes(&self.fwd_ptr)
            + self.targets.memory_bytes()
            + bytes(&self.bwd_ptr)
            + bytes(&self.bwd_pos)
            + bytes(&self.bwd_pre)
    }

    /// Number of synapses in this chunk part.
    pub fn len(&self) -> usize {
        self.targets.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bernoulli_rows_have_the_right_density_and_are_sorted() {
        let rows = Rows::bernoulli(7, 0, 2000, 3000, 0.1);
        let total = rows.targets.len() as f64;
        let expected: f64 = 2000.0 * 3000.0 * 0.1;
        let sd = (expected * 0.9).sqrt();
        assert!((total - expected).abs() < 5.0 * sd, "{total} vs {expected}");
        for k in 0..rows.n_pre() {
            assert!(rows.row(k).windows(2).all(|w| w[0] < w[1]));
            assert!(rows.row(k).iter().all(|&t| t < 3000));
        }
        // Every post index is hit about equally often (first vs last third).
        let first = rows.targets.iter().filter(|&&t| t < 1000).count() as f64;
        let last = rows.targets.iter().filter(|&&t| t >= 2000).count() as f64;
        assert!((first - last).abs() < 5.0 * (2.0 * expected / 3.0).sqrt());
        assert_eq!(Rows::bernoulli(1, 0, 3, 4, 1.0).targets.len(), 12);
        assert!(Rows::bernoulli(1, 0, 3, 4, 0.0).targets.is_empty());
    }

    #[test]
    fn chunk_parts_partition_the_synapses_and_index_weights_post_major() {
        let rows = Rows::bernoulli(3, 1, 50, 40, 0.3);
        let a = ChunkSynapses::from_rows(&rows, 0, 17, 5, true);
        let b = ChunkSynapses::from_rows(&rows, 17, 40, 0, true);
        assert_eq!(a.len() + b.len(), rows.targets.len());
        for part in [&a, &b] {
            for k in 0..50 {
                assert_eq!(part.n_blocks, 1);
                let row = part.row_range(k);
                for (f, t) in row.clone().zip(part.targets(0, row)) {
                    let post = t as usize - part.post_offset;
                    let slot = part
                        .incoming_range(post)
                        .find(|&s| part.bwd_pos[s] as usize == f)
                        .unwrap();
                    assert_eq!(part.slot_synapse(slot), (post, k));
                }
            }
            for i in 0..part.post_len {
                let pres = &part.bwd_pre[part.incoming_range(i)];
                assert!(pres.windows(2).all(|w| w[0] < w[1]));
            }
        }
    }

    /// Every row's targets, decoded from the part, as population indices.
    fn decoded(part: &ChunkSynapses, n_pre: usize, lo: usize) -> Vec<Vec<u32>> {
        (0..n_pre)
            .map(|k| {
                part.segments(k)
                    .flat_map(|(base, segment)| part.targets(base, segment).map(move |t| base + t as usize))
                    .map(|t| (t - part.post_offset + lo) as u32)
                    .collect()
            })
            .collect()
    }

    #[test]
    fn targets_are_stored_as_gaps_when_every_gap_fits_in_a_byte() {
        let rows = |targets: Vec<u32>| Rows {
            row_ptr: vec![0, 1, targets.len() as u64],
            targets,
        };
        // Gaps up to 255, counted from the part's first neuron (post_offset 7 in the chunk):
        // one byte each.
        let fits = rows(vec![200, 0, 255, 510]);
        let part = ChunkSynapses::from_rows(&fits, 0, 600, 7, true);
        let TargetIndex::Gaps(g) = &part.targets else {
            panic!("gaps expected")
        };
        assert_eq!(g, &[200, 0, 255, 255]);
        assert_eq!(decoded(&part, 2, 0), vec![vec![200], vec![0, 255, 510]]);
        // One gap of 256 (or a first target 256 past the part's first neuron): offsets.
        for targets in [vec![200, 0, 255, 511], vec![256, 0, 1, 2]] {
            let part = ChunkSynapses::from_rows(&rows(targets.clone()), 0, 600, 7, true);
            assert!(matches!(part.targets, TargetIndex::Offsets(_)));
            assert_eq!(decoded(&part, 2, 0), vec![targets[..1].to_vec(), targets[1..].to_vec()]);
        }
        // Both kinds give the same targets and backward index for real rows, and the estimate
        // of their size agrees with what is stored.
        for (p, kind) in [(0.1, 1), (0.005, 2)] {
            let rows = Rows::bernoulli(11, 0, 300, 5000, p);
            let part = ChunkSynapses::from_rows(&rows, 1000, 5000, 3, true);
            assert_eq!(part.targets.memory_bytes() / part.len(), kind, "p = {p}");
            assert_eq!(expected_target_bytes(p, part.len() as f64), kind as f64, "p = {p}");
            let want: Vec<Vec<u32>> = (0..300)
                .map(|k| rows.row(k).iter().copied().filter(|&t| t >= 1000).collect())
                .collect();
            assert_eq!(decoded(&part, 300, 1000), want, "p = {p}");
        }
    }

    #[test]
    fn targets_beyond_one_block_are_split_into_segments() {
        // 70,000 posts behind 1000 other chunk-local neurons: two blocks, the second holding
        // chunk-local indices 65,536..71,000.
        let rows = Rows::bernoulli(5, 2, 30, 70_000, 0.002);
        let part = ChunkSynapses::from_rows(&rows, 0, 70_000, 1000, true);
        assert_eq!(part.n_blocks, 2);
        assert_eq!(part.len(), rows.targets.len());
        let mut second_block = 0;
        for k in 0..30 {
            let mut targets = vec![];
            for (base, segment) in part.segments(k) {
                second_block += usize::from(base > 0) * segment.len();
                targets.extend(part.targets(base, segment).map(|t| (base + t as usize - 1000) as u32));
            }
            assert_eq!(targets, rows.row(k), "row {k}");
            assert_eq!(part.row_range(k).len(), rows.row(k).len());
        }
        assert!(second_block > 100, "{second_block} synapses in the second block");
        // A part with no postsynaptic neuron in the chunk, far into it: one empty block.
        let empty = ChunkSynapses::from_rows(&rows, 500, 500, 80_000, false);
        assert_eq!((empty.n_blocks, empty.len()), (1, 0));
        assert!((0..30).all(|k| empty.segments(k).all(|(base, r)| base == 0 && r.is_empty())));
        // The backward index still finds every synapse.
        for i in 0..part.post_len {
            for slot in part.incoming_range(i) {
                let (post, k) = part.slot_synapse(slot);
                assert_eq!(post, i);
                let f = part.bwd_pos[slot] as usize;
                let (base, segment) = part.segments(k).find(|(_, r)| r.contains(&f)).unwrap();
                let t = part.targets(base, segment.clone()).nth(f - segment.start).unwrap();
                assert_eq!(base + t as usize, 1000 + i);
            }
        }
    }

    #[test]
    fn presynaptic_indices_beyond_one_block_are_split_too() {
        // 70,000 presynaptic neurons onto 40 posts: two presynaptic blocks per post.
        let rows = Rows::bernoulli(9, 4, 70_000, 40, 0.01);
        let part = ChunkSynapses::from_rows(&rows, 0, 40, 0, true);
        assert_eq!(part.n_pre_blocks, 2);
        for i in 0..40 {
            let mut pres = vec![];
            for (base, slots) in part.incoming(i) {
                pres.extend(slots.map(|s| base + part.bwd_pre[s] as usize));
            }
            let expected: Vec<usize> = (0..70_000).filter(|&k| rows.row(k).contains(&(i as u32))).collect();
            assert_eq!(pres, expected, "post {i}");
            assert!(expected.iter().any(|&k| k >= 65_536));
            for (slot, &k) in part.incoming_range(i).zip(&expected) {
                assert_eq!(part.slot_synapse(slot), (i, k));
                assert!(part.row_range(k).contains(&(part.bwd_pos[slot] as usize)));
            }
        }
    }
}
