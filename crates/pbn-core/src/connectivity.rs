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

/// Targets are stored as 16-bit offsets into blocks of this many chunk-local neurons: half the
/// memory (and memory traffic) of 32-bit indices. A chunk of up to 65,536 neurons has one block.
pub const TARGET_BLOCK: usize = 1 << 16;

/// The part of a projection whose postsynaptic neurons lie in one chunk.
#[derive(Debug, Clone, Default)]
pub struct ChunkSynapses {
    /// Forward segment offsets: the synapses of presynaptic neuron `k` onto target block `b` are
    /// `fwd_ptr[k·n_blocks + b]..fwd_ptr[k·n_blocks + b + 1]` (length n_pre·n_blocks + 1), so
    /// a whole row is contiguous too.
    pub fwd_ptr: Vec<u64>,
    /// Chunk-local index of each target neuron, less its block's start `b·TARGET_BLOCK`.
    pub fwd_target: Vec<u16>,
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
    /// Plastic projections only: forward position (into `fwd_target` and the weights) of each backward slot.
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
        let mut fwd_ptr = Vec::with_capacity(n_pre * n_blocks + 1);
        fwd_ptr.push(0u64);
        let in_range = |k: usize| {
            let row = rows.row(k);
            row.partition_point(|&t| (t as usize) < lo)..row.partition_point(|&t| (t as usize) < hi)
        };
        let mut fwd_target = huge_pages::vec_with_capacity((0..n_pre).map(|k| in_range(k).len()).sum());
        for k in 0..n_pre {
            let mut block = 0;
            for &t in &rows.row(k)[in_range(k)] {
                let local = t as usize - lo;
                let target = local + post_offset;
                // Close the segments of the blocks before this target's (sorted rows).
                while target >= (block + 1) * TARGET_BLOCK {
                    fwd_ptr.push(fwd_target.len() as u64);
                    block += 1;
                }
                fwd_target.push((target - block * TARGET_BLOCK) as u16);
            }
            while block < n_blocks {
                fwd_ptr.push(fwd_target.len() as u64);
                block += 1;
            }
        }
        assert!(
            fwd_target.len() < u32::MAX as usize,
            "too many synapses for one chunk part"
        );
        let mut s = ChunkSynapses {
            fwd_ptr,
            fwd_target,
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
                    for f in segment {
                        let local = base + s.fwd_target[f] as usize - post_offset;
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
                    for f in segment {
                        let local = base + s.fwd_target[f] as usize - post_offset;
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

    /// The synapses of presynaptic neuron `k`, block by block: (the block's first chunk-local
    /// neuron, forward index range); the target of synapse `f` is `base + fwd_target[f]`.
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
            + bytes(&self.fwd_target)
            + bytes(&self.bwd_ptr)
            + bytes(&self.bwd_pos)
            + bytes(&self.bwd_pre)
    }

    /// Number of synapses in this chunk part.
    pub fn len(&self) -> usize {
        self.fwd_target.len()
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
                for f in part.row_range(k) {
                    let post = part.fwd_target[f] as usize - part.post_offset;
                    assert_eq!(part.n_blocks, 1);
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
                targets.extend(
                    part.fwd_target[segment]
                        .iter()
                        .map(|&t| (base + t as usize - 1000) as u32),
                );
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
                let (base, _) = part.segments(k).find(|(_, r)| r.contains(&f)).unwrap();
                assert_eq!(base + part.fwd_target[f] as usize, 1000 + i);
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
