//! Studies: the unit of work a computational neuroscientist reports — a base config, a run matrix
//! (sweep axes × realizations, at a `quick` and a `paper` scale), the theory for the same points,
//! figures, and **claims** judged by numbers.
//!
//! | module | concept |
//! |---|---|
//! | [`spec`] | the study file (`studies/NAME.toml`) and the catalogue |
//! | [`points`] | the run matrix: points with their configs and seeds |
//! | [`quantity`] | typed quantities, measured in a run and predicted by the theory over the same window |
//! | [`executor`] | the study directory, point states, and the local executor (resumable) |
//! | [`claims`] | judging claims: simulation mean ± SD, theory, published value, verdict |
//! | [`report`] | `report.md`, `report.json` and the figures |
//! | [`slurm`] | the Slurm executor: unfinished points as a job array |
//!
//! A study directory is `manifest.json`, `points/pNNN/` (ordinary run directories), `figures/`,
//! `report.md` and `report.json`; the file format and the catalogue are described in
//! `docs/studies.md`.

pub mod claims;
pub mod executor;
pub mod points;
pub mod quantity;
pub mod report;
pub mod slurm;
pub mod spec;

pub use claims::{ClaimResult, Collection, Verdict};
pub use executor::{LocalOptions, Manifest, PointState, StudyProgress, load_manifest, point_state, prepare, run_local};
pub use quantity::{Measure, MeasuredRun, Quantity, TheoryAt};
pub use report::Report;
pub use spec::{Study, StudySpec, catalogue, find};
