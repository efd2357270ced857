//! What this machine's memory system allows for the engine's three access patterns, with none
//! of the engine around them: the floors that benchmarks/LARGE_N.md compares each phase's cost
//! per unit of work with.
//!
//!     cargo bench -p pbn-core --bench memory_floors            # N = 5000- and 20,000-like sizes
//!     cargo bench -p pbn-core --bench memory_floors -- large   # also N = 100,000 (1.3 GB)
//!
//! * **kicks**: rows of sorted targets (one byte per target, the distance from the previous one,
//!   as the engine stores them) add a constant to f64 currents; 20 random rows per "step", the
//!   rows asked for (prefetched) at the step's start. ns per kick.
//! * **post-spike updates**: w ← w·(1 − c·x) at positions scattered over a weight array in
//!   presynaptic order, one per presynaptic neuron of a postsynaptic neuron (sorted), the weight
//!   48 updates ahead asked for into L2. ns per update.
//! * **streaming**: a ← 0.999·a + b over 512 MB arrays (read two, write one). GB/s.

use std::hint::black_box;
use std::time::Instant;

/// A small deterministic generator (xorshift64*), enough for random indices.
struct Xorshift(u64);

impl Xorshift {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        ((self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64 * n as f64) as usize
    }

    /// Sorted indices below `n`, each with probability `p` (geometric skipping).
    fn bernoulli(&mut self, n: usize, p: f64) -> Vec<usize> {
        let mut out = vec![];
        let mut j = 0usize;
        loop {
            let u = (self.below(1 << 30) as f64 + 0.5) / (1u64 << 30) as f64;
            j += (u.ln() / (1.0 - p).ln()) as usize;
            if j >= n {
                return out;
            }
            out.push(j);
            j += 1;
        }
    }
}

/// A zeroed vector whose memory is advised for 2 MiB pages (as the engine's synapse arrays are).
fn huge<T: Clone + Default>(len: usize) -> Vec<T> {
    let mut v = Vec::with_capacity(len);
    #[cfg(target_os = "linux")]
    // SAFETY: madvise on memory this vector owns changes only how it is backed.
    unsafe {
        libc::madvise(
            v.as_mut_ptr() as *mut libc::c_void,
            len * size_of::<T>(),
            libc::MADV_HUGEPAGE,
        );
    }
    v.resize(len, T::default());
    v
}

#[inline(always)]
fn prefetch_l2<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch never faults.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T1 }>(p.cast());
    }
}

/// ns per kick for `n_pre` rows of connection probability `p` onto `n_post` currents.
fn kicks(n_pre: usize, n_post: usize, p: f64, rng: &mut Xorshift) -> f64 {
    let (mut gaps, mut ptr) = (huge::<u8>(0), vec![0usize]);
    for _ in 0..n_pre {
        let mut at = 0;
        for t in rng.bernoulli(n_post, p) {
            gaps.push((t - at) as u8); // (a gap over 255 has probability ~1e-12 at p = 0.1)
            at = t;
        }
        ptr.push(gaps.len());
    }
    let mut cur = vec![0.0f64; 1 << 16];
    let steps: Vec<Vec<usize>> = (0..2000).map(|_| (0..20).map(|_| rng.below(n_pre)).collect()).collect();
    let run = |cur: &mut [f64]| {
        let cur: &mut [f64; 1 << 16] = cur.try_into().unwrap();
        let t0 = Instant::now();
        let mut events = 0;
        for rows in &steps {
            for &k in rows {
                gaps[ptr[k]..ptr[k + 1]].iter().step_by(64).for_each(|g| prefetch_l2(g));
            }
            for &k in rows {
                let mut t = 0u16;
                for &g in &gaps[ptr[k]..ptr[k + 1]] {
                    t = t.wrapping_add(u16::from(g));
                    cur[t as usize] += 0.5;
                }
                events += ptr[k + 1] - ptr[k];
            }
        }
        t0.elapsed().as_secs_f64() * 1e9 / events as f64
    };
    run(&mut cur);
    let ns = run(&mut cur);
    black_box(&cur);
    ns
}

/// ns per post-spike update for `n_pre` presynaptic rows of `row_len` weights, `k_in` incoming
/// synapses per postsynaptic neuron.
fn post_spike_updates(n_pre: usize, row_len: usize, k_in: usize, rng: &mut Xorshift) -> f64 {
    const AHEAD: usize = 48;
    let mut w = huge::<f64>(n_pre * row_len);
    w.iter_mut().for_each(|x| *x = 1.0);
    let x: Vec<f64> = (0..n_pre).map(|i| (i % 7) as f64).collect();
    let posts: Vec<(Vec<usize>, Vec<usize>)> = (0..2000)
        .map(|_| {
            let pre = rng.bernoulli(n_pre, k_in as f64 / n_pre as f64);
            let pos = pre.iter().map(|&i| i * row_len + rng.below(row_len)).collect();
            (pre, pos)
        })
        .collect();
    let spikes: Vec<usize> = (0..3000).map(|_| rng.below(posts.len())).collect();
    let t0 = Instant::now();
    let mut updates = 0;
    for &s in &spikes {
        let (pre, pos) = &posts[s];
        for (i, (&f, &k)) in pos.iter().zip(pre).enumerate() {
            if let Some(&ahead) = pos.get(i + AHEAD) {
                prefetch_l2(&w[ahead]);
            }
            w[f] *= 1.0 - 1e-6 * x[k];
        }
        updates += pos.len();
    }
    let ns = t0.elapsed().as_secs_f64() * 1e9 / updates as f64;
    black_box(&w);
    ns
}

/// GB/s of a ← 0.999·a + b (two streams read, one written) over 512 MB arrays.
fn streaming() -> f64 {
    let n = 64 << 20;
    let (mut a, b) = (vec![1.0f64; n], vec![2.0f64; n]);
    let mut best: f64 = 0.0;
    for _ in 0..3 {
        let t0 = Instant::now();
        a.iter_mut().zip(&b).for_each(|(a, b)| *a = *a * 0.999 + b);
        best = best.max(3.0 * 8.0 * n as f64 / t0.elapsed().as_secs_f64() / 1e9);
    }
    black_box(&a);
    best
}

fn main() {
    let large = std::env::args().any(|a| a == "large");
    let mut rng = Xorshift(0x9E37_79B9_7F4A_7C15);
    println!("memory floors of this machine (see the file's docs for what each kernel does)");
    for (label, n_pre, n_post) in [("N = 5000", 4000, 5000), ("N = 20,000", 16_000, 20_000)] {
        println!(
            "  kicks, {label}-like (p = 0.1): {:.2} ns per kick",
            kicks(n_pre, n_post, 0.1, &mut rng)
        );
    }
    let mut sizes = vec![("N = 20,000", 4000, 1600, 400)];
    if large {
        sizes.push(("N = 100,000", 20_000, 8000, 2000));
    }
    for (label, n_pre, row_len, k_in) in sizes {
        let mb = (n_pre * row_len * 8) as f64 / 1e6;
        let ns = post_spike_updates(n_pre, row_len, k_in, &mut rng);
        println!("  post-spike updates, {label}-like ({mb:.0} MB of weights): {ns:.2} ns per update");
    }
    println!("  streaming a = 0.999·a + b: {:.1} GB/s", streaming());
}
