//! pbn-core: plastic balanced spiking networks (Akil, Rosenbaum & Josić 2021).
//!
//! A [`spec::NetworkSpec`] (usually parsed from TOML) describes populations of exponential
//! integrate-and-fire neurons, external Poisson inputs, and projections with optional plasticity;
//! [`Simulation`] builds and integrates it, handing recordings to a [`RecordSink`]. Between
//! [`Simulation::run_for`] calls (which may go on past the configured duration) a caller can
//! change plasticity ([`Simulation::set_plasticity`]) and inputs ([`Simulation::set_input`]),
//! read spikes, rates and weights, and checkpoint ([`Simulation::checkpoint`]).
//!
//! ```no_run
//! use pbn_core::{MemorySink, NetworkSpec, SimOptions, Simulation};
//! let spec = NetworkSpec::default();
//! let mut sim = Simulation::new(&spec, SimOptions::default()).unwrap();
//! let mut sink = MemorySink::default();
//! sim.run_for(500.0, &mut sink).unwrap();
//! println!("{} spikes", sink.spike_ids.len());
//! ```

#[macro_use]
mod simd;

// The public API: the config, the simulation, what it records and where, the rules, checkpoints,
// memory estimates, and the generators tests and analyses share (input trains, random streams).
pub mod checkpoint;
pub mod input;
pub mod layout;
pub mod memory;
pub mod plasticity;
pub mod recording;
pub mod rng;
pub mod simulation;
pub mod spec;

// Engine internals: storage and arithmetic that may change with any release.
mod connectivity;
mod huge_pages;
mod neuron;
mod order_free_sum;
mod state_float;

pub use checkpoint::{Checkpoint, CheckpointError};
pub use layout::{Layout, Source};
pub use memory::MemoryEstimate;
pub use plasticity::{PlasticityRule, SpikeTerm, WeightFactor};
pub use recording::{MemorySink, RecordSink, RecordingPlan};
pub use simulation::{
    Phase, PhaseProfile, PostDeferral, SimError, SimOptions, Simulation, ThreadPacing, ThreadProfile,
};
pub use spec::NetworkSpec;
