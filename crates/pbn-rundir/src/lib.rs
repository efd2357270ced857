//! The run directory: everything one run produced, readable with `numpy.load`.
//!
//! | file | dtype, shape | content |
//! |---|---|---|
//! | `config.resolved.toml` | text | the config with every default filled in |
//! | `meta.json` | JSON | version, seed, sizes, id ranges, files, timings, status, summary |
//! | `spike_times_ms.npy` | f64 (S,) | spike times (ms) |
//! | `spike_ids.npy` | u32 (S,) | neuron ids, population by population in config order |
//! | `population_rates_hz.npy` | f64 (B, P) | mean rate of each population per bin (Hz) |
//! | `population_rates_t_ms.npy` | f64 (B,) | end of each bin (ms) |
//! | `weights_t_ms.npy` | f64 (R,) | times of weight records (ms) |
//! | `weights_<from>_to_<to>_samples.npy` | f64 (R, K) | sampled unscaled weights |
//! | `weights_<from>_to_<to>_sample_pre.npy`, `..._sample_post.npy` | u32 (K,) | their neuron ids |
//! | `weights_<from>_to_<to>_mean.npy`, `..._std.npy` | f64 (R,) | mean / SD over all synapses |
//! | `neurons_ids.npy` | u32 (M,) | ids of the sampled neurons |
//! | `neurons_t_ms.npy` | f64 (Q,) | end of each averaging block (ms) |
//! | `neurons_v_mv.npy` | f64 (Q, M) | block-averaged voltage (mV) |
//! | `neurons_current_<source>.npy` | f64 (Q, M) | block-averaged current from each source (mV/ms) |
//! | `final_weights_<from>_to_<to>_pre.npy`, `_post.npy` | u32 (Z,) | every plastic synapse |
//! | `final_weights_<from>_to_<to>_j.npy` | f64 (Z,) | its final unscaled weight |
//!
//! [`RunData`] reads a directory back; it is the one reader every command uses.
//!
//! Arrays are streamed while the run goes, into `NAME.part` files that are renamed to their
//! final names when the run ends (normally or not), so a stopped run leaves a valid directory.

mod execute;
mod meta;
mod npy_stream;
mod reader;
mod recover;
mod run_directory;

pub use execute::{CHECKPOINT_FILE, ExecuteOptions, RunSummary, execute, resume};
pub use meta::describe_run;
pub use npy_stream::{HEADER_BYTES, NpyElement, NpyStream, part_path, write_array};
pub use reader::{FinalWeights, Matrix, NeuronSeries, Population, ReadError, RunData, WeightSeries};
pub use recover::{Recovery, host, recover, was_killed, writer_alive};
pub use run_directory::{RunDirectory, RunStatus, write_atomic};
