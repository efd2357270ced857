//! How much memory a simulation will take, before anything is allocated, and how much the
//! machine has free: so that a config too large for the machine is refused with numbers instead
//! of dying in the allocator (or the kernel's OOM killer) after minutes of building.
//!
//! The estimate follows the storage of [`crate::connectivity`] and the engine exactly; only the
//! number of synapses is an expectation (p·n_pre·n_post per projection, the actual count differs
//! by a few standard deviations √(p·n_pre·n_post) at most):
//!
//! * synapses, per chunk of neurons (one per thread) and projection: 1 B per static
//!   synapse (8-bit distances between targets; 2 B, 16-bit offsets, where a connection
//!   probability below about 0.05 makes a distance over 255 likely) and 15 B per plastic one
//!   (target, f64 weight, 32-bit backward position, 16-bit backward presynaptic offset), plus
//!   the 8-byte row pointers:
//!   n_pre per target block of 65,536 neurons for every chunk, and for plastic projections
//!   n_post per presynaptic block;
//! * neuron state: voltage and scratch (8 or 4 B per neuron by `precision`), one synaptic
//!   current per source (padded to whole target blocks per chunk), one f64 trace per neuron and
//!   distinct τ_STDP;
//! * inputs: the pending external spikes (16 B each, twice for the buffer's growth headroom) of
//!   a 1-second generation chunk plus the jitter margin, and a correlated input's mother process
//!   (8 B per mother spike of a chunk);
//! * recording: sampled synapses (32 B each) and neurons, and the output streams' buffers;
//! * transient, during construction: a projection's connection lists before they are split into
//!   chunks (about 6 B per synapse, while the projections before it are already stored: on top
//!   of what a run holds, this matters for the largest projection when it comes first); at the
//!   end: one plastic projection's synapses copied out for `final_weights` (about 24 B each
//!   while they are written), while the allocator still holds about 1 B per synapse of the
//!   build's largest lists.
//!
//! Against the peak resident memory the OS reports for `pbn run` (default network at N = 40,000
//! and 80,000: 672 MiB and 2.54 GiB; examples/istdp_i_to_e.toml at N = 40,000: 1.19 GiB;
//! 2026-11-30, one-byte targets), the estimate is within 6 % (690 MiB, 2.7 GiB, 1.2 GiB); the
//! process's own code and stacks (some MiB) are not included.

use std::fmt;

use crate::connectivity::{TARGET_BLOCK, expected_target_bytes};
use crate::layout::Layout;
use crate::spec::{NetworkSpec, Precision};

/// Bytes per plastic synapse besides its target: weight (8), backward position (4) and
/// presynaptic offset (2).
pub const PLASTIC_SYNAPSE_BYTES: f64 = 14.0;

/// Networks estimated at this size or more are worth a line before the run (1 GiB).
pub const LARGE_BYTES: f64 = 1024.0 * 1024.0 * 1024.0;

/// An estimate of a simulation's memory, in bytes (f64: absurd configs give absurd numbers
/// without overflowing).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MemoryEstimate {
    /// Expected static synapses.
    pub static_synapses: f64,
    /// Their storage, row pointers included.
    pub static_bytes: f64,
    /// Expected plastic synapses.
    pub plastic_synapses: f64,
    /// Their storage: targets, weights, backward index and both pointer arrays.
    pub plastic_bytes: f64,
    /// Voltages, synaptic currents and traces.
    pub neuron_bytes: f64,
    /// Pending external spikes.
    pub input_bytes: f64,
    /// Sampled synapses and neurons, output buffers.
    pub recording_bytes: f64,
    /// Extra while the network is built (a projection's connection lists before they are split
    /// into chunks, less what the projections built after it will hold).
    pub build_bytes: f64,
    /// Extra at the end (the largest plastic projection copied out for `final_weights`, and
    /// about 1 B per synapse of the largest projection that the allocator kept from the build).
    pub final_weights_bytes: f64,
}

impl MemoryEstimate {
    /// The estimate for `spec` (validated) stepped with `threads` threads.
    pub fn new(spec: &NetworkSpec, threads: usize) -> Self {
        let layout = Layout::new(spec);
        let chunks = crate::simulation::chunk_ranges(spec, &layout, threads.max(1));
        let state = match spec.precision {
            Precision::F64 => 8.0,
            Precision::F32 => 4.0,
        };
        let n_sources = layout.sources().len() as f64;
        let block = TARGET_BLOCK as f64;
        let mut m = MemoryEstimate::default();

        for &(lo, hi) in &chunks {
            let len = (hi - lo) as f64;
            let blocks = (len / block).ceil().max(1.0);
            m.neuron_bytes += 2.0 * len * state + n_sources * blocks * block * state;
        }
        let mut taus: Vec<f64> = spec
            .projections
            .iter()
            .filter_map(|p| p.plasticity.as_ref().map(|r| r.tau_ms()))
            .collect();
        taus.sort_by(f64::total_cmp);
        taus.dedup();
        m.neuron_bytes += taus.len() as f64 * layout.n as f64 * 8.0;

        // Projections are built in config order: while projection k's connection lists exist,
        // the chunk parts of projections 0..k are built (and k's are being built).
        let mut built_before = 0.0;
        let mut build_peak: f64 = 0.0;
        let mut largest: f64 = 0.0;
        let mut sampling: f64 = 0.0;
        for p in &spec.projections {
            let (Some(source), Some(post)) = (layout.source(&p.from), layout.population(&p.to)) else {
                continue;
            };
            let n_pre = layout.source_len(source) as f64;
            let post = &layout.populations[post];
            let n_post = post.len as f64;
            let synapses = p.probability * n_pre * n_post;
            let target_bytes = expected_target_bytes(p.probability, synapses);
            let plastic = p.plasticity.is_some();
            let mut pointers = 0.0;
            for &(lo, hi) in &chunks {
                let a = post.start.max(lo);
                let b = (post.start + post.len).min(hi).max(a);
                let post_len = (b - a) as f64;
                let n_blocks = if b == a {
                    1.0
                } else {
                    (((b - lo) as f64) / block).ceil()
                };
                pointers += (n_pre * n_blocks + 1.0) * 8.0;
                if plastic {
                    let n_pre_blocks = (n_pre / block).ceil().max(1.0);
                    pointers += (post_len * n_pre_blocks + 1.0) * 8.0;
                }
            }
            let parts = if plastic {
                m.plastic_synapses += synapses;
                if spec.record.final_weights {
                    // (pre, post, w): 16 B, and about 8 B more while they are written (measured).
                    m.final_weights_bytes = m.final_weights_bytes.max(synapses * 24.0);
                }
                let k = (spec.record.weight_samples as f64).min(synapses);
                m.recording_bytes += k * 32.0;
                // Drawing the sample may index every synapse once (4 B each).
                sampling = sampling.max(synapses * 4.0 + k * 24.0);
                synapses * (target_bytes + PLASTIC_SYNAPSE_BYTES) + pointers
            } else {
                m.static_synapses += synapses;
                synapses * target_bytes + pointers
            };
            if plastic {
                m.plastic_bytes += parts;
            } else {
                m.static_bytes += parts;
            }
            // Rows::bernoulli: one list per presynaptic neuron (4 B per target with 20 %
            // headroom, 24 B per list), copied into one flat array (4 B per target, 8 B row
            // offsets) that is then split into the chunk parts; the lists are freed as they are
            // copied, and the allocator returns most of them (measured: about 2 B per synapse is
            // still held when the parts are built).
            let rows = 6.0 * synapses + 32.0 * (n_pre + 1.0);
            build_peak = build_peak.max(built_before + rows + parts);
            built_before += parts;
            largest = largest.max(synapses);
        }
        m.build_bytes = (build_peak - built_before).max(sampling);
        if m.final_weights_bytes > 0.0 {
            // What the allocator kept of the build's lists is still held at the end.
            m.final_weights_bytes += largest;
        }

        let ms = 1e-3;
        for (x, l) in spec.inputs.iter().zip(&layout.inputs) {
            let margin_ms = if x.correlation > 0.0 { 10.0 * x.jitter_ms } else { 0.0 };
            // One generation chunk (1 s) beyond the jitter margin, and the vector's doubling
            // headroom.
            let window_s = (1000.0 + margin_ms) * ms;
            m.input_bytes += 2.0 * 16.0 * l.len as f64 * x.rate_hz * window_s;
            if x.correlation > 0.0 {
                m.input_bytes += 8.0 * x.rate_hz / x.correlation;
            }
        }

        let sampled: f64 = layout
            .populations
            .iter()
            .map(|p| (spec.record.neuron_samples as f64).min(p.len as f64))
            .sum();
        m.recording_bytes += sampled * (8.0 * (1.0 + n_sources) + 4.0 + 16.0);
        let plastic_count = spec.projections.iter().filter(|p| p.plasticity.is_some()).count() as f64;
        let streams = 7.0 + 3.0 * plastic_count + n_sources;
        m.recording_bytes += streams * 65536.0;
        m
    }

    /// Held for the whole run: synapses, neurons, inputs and recording.
    pub fn running_bytes(&self) -> f64 {
        self.static_bytes + self.plastic_bytes + self.neuron_bytes + self.input_bytes + self.recording_bytes
    }

    /// The most held at any moment: the run's memory plus the larger transient.
    pub fn peak_bytes(&self) -> f64 {
        self.running_bytes() + self.build_bytes.max(self.final_weights_bytes)
    }
}

impl fmt::Display for MemoryEstimate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "about {} at peak (", format_bytes(self.peak_bytes()))?;
        if self.static_synapses > 0.0 {
            write!(
                f,
                "{:.3e} static synapses {}, ",
                self.static_synapses,
                format_bytes(self.static_bytes)
            )?;
        }
        if self.plastic_synapses > 0.0 {
            write!(
                f,
                "{:.3e} plastic synapses {}, ",
                self.plastic_synapses,
                format_bytes(self.plastic_bytes)
            )?;
        }
        write!(
            f,
            "neurons {}, inputs {}, recording {}; +{} while building",
            format_bytes(self.neuron_bytes),
            format_bytes(self.input_bytes),
            format_bytes(self.recording_bytes),
            format_bytes(self.build_bytes),
        )?;
        if self.final_weights_bytes > 0.0 {
            write!(f, ", +{} for the final weights", format_bytes(self.final_weights_bytes))?;
        }
        write!(f, ")")
    }
}

/// Bytes in binary units: `512 B`, `3.2 MiB`, `1.4 GiB`, … up to EiB, then powers of ten.
pub fn format_bytes(bytes: f64) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if !bytes.is_finite() {
        return format!("{bytes} B");
    }
    let mut v = bytes;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{v:.0} B")
    } else if v >= 10_000.0 {
        format!("{v:.2e} {}", UNITS[unit])
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// Memory the machine can give a new run (bytes), and where the number comes from: the
/// `PBN_AVAILABLE_MEMORY` environment variable if set (bytes, or with a K/M/G/T suffix, powers of
/// 1024; for tests and to leave room for other work), else `MemAvailable` of /proc/meminfo,
/// lowered to the free room of this process's cgroup (v2 `memory.max` − `memory.current`) where
/// one sets a limit. `None` when none of these can be read (then nothing is refused).
pub fn available_memory() -> Option<(f64, String)> {
    if let Ok(v) = std::env::var("PBN_AVAILABLE_MEMORY") {
        return parse_bytes(&v).map(|b| (b, "PBN_AVAILABLE_MEMORY".to_string()));
    }
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib: f64 = meminfo
        .lines()
        .find(|l| l.starts_with("MemAvailable:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    let mut available = (kib * 1024.0, "MemAvailable in /proc/meminfo".to_string());
    if let Some(room) = cgroup_room()
        && room < available.0
    {
        available = (room, "this cgroup's memory.max less memory.current".to_string());
    }
    Some(available)
}

/// Free room under this process's cgroup v2 memory limit, if it has one.
fn cgroup_room() -> Option<f64> {
    let cgroup = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let path = cgroup.lines().find_map(|l| l.strip_prefix("0::"))?;
    let dir = std::path::Path::new("/sys/fs/cgroup").join(path.trim_start_matches('/'));
    let max: f64 = std::fs::read_to_string(dir.join("memory.max"))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let current: f64 = std::fs::read_to_string(dir.join("memory.current"))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some((max - current).max(0.0))
}

/// `123`, `64K`, `1.5G`, `2TiB`, … (powers of 1024) as bytes.
pub fn parse_bytes(text: &str) -> Option<f64> {
    let t = text.trim();
    let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number.trim().parse().ok()?;
    let scale = match unit
        .trim()
        .to_ascii_uppercase()
        .trim_end_matches("IB")
        .trim_end_matches('B')
    {
        "" => 1.0,
        "K" => 1024.0,
        "M" => 1024.0f64.powi(2),
        "G" => 1024.0f64.powi(3),
        "T" => 1024.0f64.powi(4),
        _ => return None,
    };
    (value.is_finite() && value >= 0.0).then_some(value * scale)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SimOptions, Simulation};

    fn istdp(n: u64) -> NetworkSpec {
        let text = include_str!("../../../examples/istdp_i_to_e.toml");
        NetworkSpec::from_toml_with_overrides(text, &[format!("n={n}"), "duration_ms=1".into()]).unwrap()
    }

    #[test]
    fn synapse_estimate_matches_the_built_network_within_one_percent() {
        // Static and plastic projections, one thread and three (more chunks, more pointers),
        // and a network beyond one 65,536-neuron target block.
        let mut cases = vec![(istdp(5000), 1), (istdp(5000), 3)];
        let mut big = istdp(140_000);
        for p in &mut big.projections {
            p.probability = 2e-4;
        }
        cases.push((big, 2));
        for (spec, threads) in cases {
            let sim = Simulation::new(
                &spec,
                SimOptions {
                    threads,
                    ..Default::default()
                },
            )
            .unwrap();
            let (n_static, static_bytes, n_plastic, plastic_bytes) = sim.synapse_memory();
            let e = MemoryEstimate::new(&spec, threads);
            let close = |est: f64, got: usize, what: &str| {
                let rel = (est - got as f64).abs() / got as f64;
                assert!(
                    rel < 0.01,
                    "n = {}, {threads} threads, {what}: estimated {est}, built {got}",
                    spec.n
                );
            };
            close(e.static_synapses, n_static, "static synapses");
            close(e.static_bytes, static_bytes, "static bytes");
            close(e.plastic_synapses, n_plastic, "plastic synapses");
            close(e.plastic_bytes, plastic_bytes, "plastic bytes");
            assert!(e.peak_bytes() > e.running_bytes() && e.running_bytes() > (static_bytes + plastic_bytes) as f64);
        }
    }

    #[test]
    fn absurd_networks_give_finite_absurd_estimates() {
        let spec = NetworkSpec {
            n: 4_000_000_000,
            ..NetworkSpec::default()
        };
        let e = MemoryEstimate::new(&spec, 1);
        // 0.1 · (3.2e9)² E→E synapses alone: about 2e18 bytes.
        assert!(e.peak_bytes() > 1e18 && e.peak_bytes().is_finite(), "{e}");
        assert!(e.to_string().starts_with("about "), "{e}");
    }

    #[test]
    fn byte_sizes_format_and_parse() {
        assert_eq!(format_bytes(512.0), "512 B");
        assert_eq!(format_bytes(1536.0), "1.5 KiB");
        assert_eq!(format_bytes(3.0 * 1024.0 * 1024.0 * 1024.0), "3.0 GiB");
        assert_eq!(parse_bytes("64K"), Some(65536.0));
        assert_eq!(parse_bytes("1.5 GiB"), Some(1.5 * 1024.0 * 1024.0 * 1024.0));
        assert_eq!(parse_bytes("1000"), Some(1000.0));
        assert_eq!(parse_bytes("lots"), None);
        assert_eq!(parse_bytes("5X"), None);
    }
}
