//! Named random streams derived from the master seed.
//!
//! Every stream belongs to a *work unit* (a projection row, an input layer, a population), never
//! to a thread, so results do not depend on the thread count and one stream can be regenerated
//! without touching the others (e.g. the same network with other initial weights).

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

/// The random number generator used everywhere in pbn.
pub type Rng = Xoshiro256PlusPlus;

/// What a stream is used for; part of its derivation key.
#[derive(Debug, Clone, Copy)]
pub enum Purpose {
    /// Connections of one presynaptic neuron (`a` = projection, `b` = pre index).
    Connectivity,
    /// Initial membrane voltages.
    InitialVoltage,
    /// Spike trains of an input layer (`a` = input index).
    Input,
    /// Choice of recorded synapses (`a` = projection).
    WeightSample,
    /// Choice of recorded neurons (`a` = population).
    NeuronSample,
}

/// SplitMix64 finaliser: a bijective mixer with good avalanche.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The stream for (`seed`, `purpose`, `a`, `b`).
pub fn stream(seed: u64, purpose: Purpose, a: u64, b: u64) -> Rng {
    let key = mix(mix(mix(seed) ^ (purpose as u64 + 1)) ^ a.wrapping_mul(0x1000_0000_01B3)) ^ b;
    Rng::seed_from_u64(mix(key))
}
