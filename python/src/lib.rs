//! `pbn._pbn`: the Rust half of the Python package `pbn` (python/pbn/__init__.py is the other
//! half). It exposes the library API of pbn-core, pbn-theory and pbn-rundir with NumPy arrays;
//! every error becomes a Python exception with the message the CLI prints, and no panic crosses
//! into Python (pyo3 turns one into `PanicException`; the engine returns errors instead).

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use numpy::{PyArray1, PyArrayMethods};
use pyo3::create_exception;
use pyo3::exceptions::{PyIndexError, PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use pbn_core::spec::PlasticitySpec;
use pbn_core::{Checkpoint, CheckpointError, MemorySink, NetworkSpec, SimError, SimOptions, Simulation};

create_exception!(
    _pbn,
    SimulationError,
    PyRuntimeError,
    "The simulation stopped: runaway activity, a diverged voltage or a failed recording (the message is the CLI's)."
);

/// The built-in default config (`examples/default.toml`).
const DEFAULT_CONFIG: &str = include_str!("../../examples/default.toml");

/// Attachment of Python checkpoints: the resolved config, duration included.
const CONFIG_ATTACHMENT: &str = "pbn.python.config";

fn value_error(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

fn sim_error(e: SimError) -> PyErr {
    match e {
        SimError::Spec(_) | SimError::Change(_) => PyValueError::new_err(e.to_string()),
        _ => SimulationError::new_err(e.to_string()),
    }
}

fn checkpoint_error(e: CheckpointError) -> PyErr {
    match e {
        CheckpointError::Io { .. } => PyOSError::new_err(e.to_string()),
        _ => PyValueError::new_err(e.to_string()),
    }
}

/// Parses `text` with `--set` overrides as the CLI does; errors read `NAME: message`.
fn parse(text: &str, sets: &[String], name: &str) -> PyResult<NetworkSpec> {
    NetworkSpec::from_toml_with_overrides(text, sets).map_err(|e| PyValueError::new_err(format!("{name}: {e}")))
}

fn array<'py, T: numpy::Element>(py: Python<'py>, v: Vec<T>) -> Bound<'py, PyArray1<T>> {
    PyArray1::from_vec(py, v)
}

/// A (rows, cols) float array from a row-major vector.
fn matrix<'py>(py: Python<'py>, data: Vec<f64>, rows: usize, cols: usize) -> PyResult<Bound<'py, PyAny>> {
    Ok(PyArray1::from_vec(py, data).reshape([rows, cols])?.into_any())
}

/// The built-in default config (TOML).
#[pyfunction]
fn default_config() -> &'static str {
    DEFAULT_CONFIG
}

/// Validates `text` with `sets` (`KEY=VALUE`, as `--set`) and returns the resolved TOML (every
/// default written out). Raises ValueError with the CLI's message, prefixed by `name`.
#[pyfunction]
fn resolve_config(text: &str, sets: Vec<String>, name: &str) -> PyResult<String> {
    Ok(parse(text, &sets, name)?.to_resolved_toml())
}

/// TOML text of a config given as JSON (from a Python dict); not validated.
#[pyfunction]
fn toml_from_json(json: &str) -> PyResult<String> {
    let value: serde_json::Value = serde_json::from_str(json).map_err(value_error)?;
    let table: toml::Table = toml::Table::try_from(value).map_err(|e| value_error(format!("the config: {e}")))?;
    toml::to_string(&table).map_err(value_error)
}

/// `pbn theory` for a resolved config: the Prediction as the JSON `--json` writes.
#[pyfunction]
#[pyo3(signature = (text, at_ms, window_ms, fano, kappa, finite_n, correction, integrate_ms, samples))]
#[allow(clippy::too_many_arguments)]
fn theory_json(
    py: Python<'_>,
    text: &str,
    at_ms: f64,
    window_ms: f64,
    fano: f64,
    kappa: f64,
    finite_n: bool,
    correction: Option<Vec<f64>>,
    integrate_ms: Option<f64>,
    samples: Option<usize>,
) -> PyResult<String> {
    let spec = parse(text, &[], "the config")?;
    let mut options = pbn_theory::TheoryOptions {
        at_ms,
        window_ms,
        fano,
        kappa,
        finite_n_terms: finite_n,
        correction,
        integrate_ms,
        ..Default::default()
    };
    if let Some(s) = samples {
        options.samples = s;
    }
    let prediction = py
        .detach(|| pbn_theory::predict(&spec, &options))
        .map_err(value_error)?;
    serde_json::to_string(&prediction).map_err(value_error)
}

/// What a Python Simulation holds: the engine and what it recorded since it was built or
/// restored.
struct Inner {
    sim: Simulation,
    sink: MemorySink,
    /// The config as built (resolved TOML, duration included).
    config: String,
}

/// A running simulation (see `pbn.Simulation`).
#[pyclass(module = "pbn._pbn")]
struct RawSimulation {
    inner: Mutex<Inner>,
}

impl RawSimulation {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while locked cannot leave a half-made change: recover the guard.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn build(spec: &NetworkSpec, threads: usize) -> PyResult<Simulation> {
    let expected = pbn_theory::balance::initial_rates_hz(spec);
    Simulation::new(
        spec,
        SimOptions {
            threads: threads.max(1),
            expected_rates_hz: expected,
        },
    )
    .map_err(sim_error)
}

fn resolve_index(names: &[String], which: &Bound<'_, PyAny>, what: &str) -> PyResult<usize> {
    if let Ok(i) = which.extract::<usize>() {
        if i < names.len() {
            return Ok(i);
        }
        return Err(PyIndexError::new_err(format!(
            "there is no {what} {i}: the config has {} ({})",
            names.len(),
            names.join(", ")
        )));
    }
    let name: String = which.extract()?;
    names.iter().position(|n| *n == name).ok_or_else(|| {
        PyValueError::new_err(format!(
            "there is no {what} `{name}`: the config has {}",
            names.join(", ")
        ))
    })
}

#[pymethods]
impl RawSimulation {
    /// Builds the network of a resolved config.
    #[new]
    #[pyo3(signature = (text, threads = 1))]
    fn new(py: Python<'_>, text: &str, threads: usize) -> PyResult<Self> {
        let spec = parse(text, &[], "the config")?;
        let sim = py.detach(|| build(&spec, threads))?;
        Ok(Self {
            inner: Mutex::new(Inner {
                sim,
                sink: MemorySink::default(),
                config: spec.to_resolved_toml(),
            }),
        })
    }

    /// Restores a checkpoint written by `checkpoint` (or by `pbn run`, given `text`).
    #[staticmethod]
    #[pyo3(signature = (path, text = None, threads = 1))]
    fn restore(py: Python<'_>, path: PathBuf, text: Option<String>, threads: usize) -> PyResult<Self> {
        let cp = Checkpoint::read(&path).map_err(checkpoint_error)?;
        let text = match text {
            Some(t) => t,
            None => cp
                .attachment(CONFIG_ATTACHMENT)
                .and_then(|v| v.as_str())
                .map(str::to_string)
                .ok_or_else(|| {
                    PyValueError::new_err(format!(
                        "{}: the checkpoint holds no full config (pbn run wrote it?): pass config=",
                        path.display()
                    ))
                })?,
        };
        let spec = parse(&text, &[], "the config")?;
        let sim = py.detach(|| -> PyResult<Simulation> {
            let mut sim = build(&spec, threads)?;
            sim.restore(&cp).map_err(checkpoint_error)?;
            Ok(sim)
        })?;
        Ok(Self {
            inner: Mutex::new(Inner {
                sim,
                sink: MemorySink::default(),
                config: spec.to_resolved_toml(),
            }),
        })
    }

    /// Writes a checkpoint (atomically) to `path`.
    fn checkpoint(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        let inner = self.lock();
        let mut cp = inner.sim.checkpoint();
        cp.attach(CONFIG_ATTACHMENT, inner.config.clone().into());
        py.detach(|| cp.write(&path)).map_err(checkpoint_error)
    }

    /// Runs `ms` more (None: to the configured end) in slices of about `slice_s` of wall time
    /// each, with the GIL released while stepping. Between slices: Python signals (Ctrl-C raises
    /// KeyboardInterrupt with the state at the end of the last slice) and `progress(t_ms, end_ms,
    /// rates_hz)`.
    #[pyo3(signature = (ms = None, slice_s = 0.2, progress = None))]
    fn run(&self, py: Python<'_>, ms: Option<f64>, slice_s: f64, progress: Option<Py<PyAny>>) -> PyResult<()> {
        let mut inner = self.lock();
        let Inner { sim, sink, .. } = &mut *inner;
        let dt = sim.spec().dt_ms;
        let start = sim.steps_done();
        let end = match ms {
            Some(ms) if !(ms >= 0.0 && ms.is_finite()) => {
                return Err(PyValueError::new_err(format!(
                    "run(ms = {ms}): the duration must be a finite number of ms ≥ 0"
                )));
            }
            Some(ms) => start + (ms / dt).round() as u64,
            None => sim.total_steps().max(start),
        };
        let end_ms = end as f64 * dt;
        // Opens the sink even for zero steps.
        sim.run_for(0.0, sink).map_err(sim_error)?;
        let mut slice = 10u64.min(end - start).max(1);
        let (mut counts, mut t_last) = (sim.spike_counts().to_vec(), sim.time_ms());
        while sim.steps_done() < end {
            let target = (sim.steps_done() + slice).min(end);
            let started = Instant::now();
            py.detach(|| sim.run_until_step(target, sink)).map_err(sim_error)?;
            // Slices of about `slice_s`: short enough for Ctrl-C and progress, long enough to cost
            // nothing.
            let took = started.elapsed().max(Duration::from_micros(1)).as_secs_f64();
            slice = ((slice as f64 * (slice_s / took).clamp(0.25, 4.0)) as u64).max(1);
            py.check_signals()?;
            if let Some(p) = &progress {
                let t = sim.time_ms();
                let pops = &sim.layout().populations;
                let rates: Vec<f64> = sim
                    .spike_counts()
                    .iter()
                    .zip(&counts)
                    .zip(pops)
                    .map(|((&c, &c0), pop)| (c - c0) as f64 / pop.len as f64 / ((t - t_last) * 1e-3))
                    .collect();
                (counts, t_last) = (sim.spike_counts().to_vec(), t);
                p.call1(py, (t, end_ms, rates))?;
            }
        }
        Ok(())
    }

    /// Simulated time so far (ms).
    #[getter]
    fn time_ms(&self) -> f64 {
        self.lock().sim.time_ms()
    }

    /// The config as built (resolved TOML).
    #[getter]
    fn config(&self) -> String {
        self.lock().config.clone()
    }

    /// The config in force now, with the changes made since (resolved TOML).
    #[getter]
    fn current_config(&self) -> String {
        self.lock().sim.current_spec().to_resolved_toml()
    }

    /// Projection names (`FROM_to_TO`), in config order.
    #[getter]
    fn projection_names(&self) -> Vec<String> {
        projection_names(self.lock().sim.spec())
    }

    /// Population names and id ranges: [(name, first id, size)].
    #[getter]
    fn populations(&self) -> Vec<(String, usize, usize)> {
        let inner = self.lock();
        inner
            .sim
            .layout()
            .populations
            .iter()
            .map(|p| (p.name.clone(), p.start, p.len))
            .collect()
    }

    /// Names of the projections with plastic weights (those with weight records).
    #[getter]
    fn plastic_names(&self) -> Vec<String> {
        let inner = self.lock();
        inner
            .sim
            .plastic_projections()
            .iter()
            .map(|p| p.1.to_string())
            .collect()
    }

    /// The rule in force on a projection as JSON, or None.
    fn plasticity(&self, projection: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
        let inner = self.lock();
        let i = resolve_index(&projection_names(inner.sim.spec()), projection, "projection")?;
        inner.sim.current_spec().projections[i]
            .plasticity
            .as_ref()
            .map(|p| serde_json::to_string(p).map_err(value_error))
            .transpose()
    }

    /// Sets a projection's rule (JSON as `plasticity`, or None to switch it off).
    fn set_plasticity(&self, projection: &Bound<'_, PyAny>, rule: Option<&str>) -> PyResult<()> {
        let mut inner = self.lock();
        let i = resolve_index(&projection_names(inner.sim.spec()), projection, "projection")?;
        let rule: Option<PlasticitySpec> = rule
            .map(|r| serde_json::from_str(r).map_err(|e| value_error(format!("projections.{i}.plasticity: {e}"))))
            .transpose()?;
        inner.sim.set_plasticity(i, rule).map_err(sim_error)
    }

    /// Sets an input's rate (Hz) and optionally its correlation, from the next step on.
    #[pyo3(signature = (input, rate_hz, correlation = None))]
    fn set_input(&self, input: &Bound<'_, PyAny>, rate_hz: f64, correlation: Option<f64>) -> PyResult<()> {
        let mut inner = self.lock();
        let names: Vec<String> = inner.sim.spec().inputs.iter().map(|x| x.name.clone()).collect();
        let x = resolve_index(&names, input, "input")?;
        inner.sim.set_input(x, rate_hz, correlation).map_err(sim_error)
    }

    /// Recorded spikes: (times ms float64, ids uint32).
    fn spikes<'py>(&self, py: Python<'py>) -> (Bound<'py, PyArray1<f64>>, Bound<'py, PyArray1<u32>>) {
        let inner = self.lock();
        (
            PyArray1::from_slice(py, &inner.sink.spike_times_ms),
            PyArray1::from_slice(py, &inner.sink.spike_ids),
        )
    }

    /// Population rates: (bin ends ms (B,), rates Hz (B, P)).
    fn rates<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyArray1<f64>>, Bound<'py, PyAny>)> {
        let inner = self.lock();
        let rates = &inner.sink.rates;
        let cols = inner.sim.layout().populations.len();
        let t = rates.iter().map(|r| r.0).collect();
        let data = rates.iter().flat_map(|r| r.1.iter().copied()).collect();
        Ok((array(py, t), matrix(py, data, rates.len(), cols)?))
    }

    /// Weight records of a plastic projection: dict t_ms, samples (R, K), pre, post, mean, std.
    fn weights<'py>(&self, py: Python<'py>, projection: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyDict>> {
        let inner = self.lock();
        let plan = inner.sim.recording_plan();
        let names: Vec<String> = inner
            .sim
            .plastic_projections()
            .iter()
            .map(|p| p.1.to_string())
            .collect();
        let k = resolve_index(&names, projection, "plastic projection")?;
        let info = &plan.plastic[k];
        let records = inner.sink.weights.get(k).map(Vec::as_slice).unwrap_or_default();
        let d = PyDict::new(py);
        let samples: Vec<f64> = records.iter().flat_map(|r| r.1.iter().copied()).collect();
        d.set_item("t_ms", array(py, records.iter().map(|r| r.0).collect()))?;
        d.set_item("samples", matrix(py, samples, records.len(), info.sample_pre.len())?)?;
        d.set_item("pre", PyArray1::from_slice(py, &info.sample_pre))?;
        d.set_item("post", PyArray1::from_slice(py, &info.sample_post))?;
        d.set_item("mean", array(py, records.iter().map(|r| r.2).collect()))?;
        d.set_item("std", array(py, records.iter().map(|r| r.3).collect()))?;
        Ok(d)
    }

    /// Every synapse of a projection now: (pre uint32, post uint32, unscaled j float64),
    /// post-major.
    fn synapses<'py>(&self, py: Python<'py>, projection: &Bound<'py, PyAny>) -> PyResult<Synapses<'py>> {
        let inner = self.lock();
        let i = resolve_index(&projection_names(inner.sim.spec()), projection, "projection")?;
        let (pre, post, j) = py.detach(|| inner.sim.synapses(i));
        Ok((array(py, pre), array(py, post), array(py, j)))
    }

    /// Sampled neurons' block-averaged voltage and currents: dict ids (M,), t_ms (Q,),
    /// v_mv (Q, M), currents {source: (Q, M) mV/ms}.
    fn neurons<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let inner = self.lock();
        let plan = inner.sim.recording_plan();
        let m = plan.sampled_neurons.len();
        let records = &inner.sink.neurons;
        let d = PyDict::new(py);
        d.set_item("ids", PyArray1::from_slice(py, &plan.sampled_neurons))?;
        d.set_item("t_ms", array(py, records.iter().map(|r| r.0).collect()))?;
        let v = records.iter().flat_map(|r| r.1.iter().copied()).collect();
        d.set_item("v_mv", matrix(py, v, records.len(), m)?)?;
        let currents = PyDict::new(py);
        for (s, source) in plan.sources.iter().enumerate() {
            // Each record holds the currents source by source.
            let c = records
                .iter()
                .flat_map(|r| r.2[s * m..(s + 1) * m].iter().copied())
                .collect();
            currents.set_item(source, matrix(py, c, records.len(), m)?)?;
        }
        d.set_item("currents", currents)?;
        Ok(d)
    }

    /// Spikes per population since the start.
    fn spike_counts(&self) -> Vec<u64> {
        self.lock().sim.spike_counts().to_vec()
    }
}

/// (pre ids, post ids, unscaled weights).
type Synapses<'py> = (
    Bound<'py, PyArray1<u32>>,
    Bound<'py, PyArray1<u32>>,
    Bound<'py, PyArray1<f64>>,
);

fn projection_names(spec: &NetworkSpec) -> Vec<String> {
    spec.projections
        .iter()
        .map(|p| format!("{}_to_{}", p.from, p.to))
        .collect()
}

/// Reads a run directory of `pbn run`: a dict of its contents with NumPy arrays.
#[pyfunction]
fn load_run<'py>(py: Python<'py>, path: PathBuf) -> PyResult<Bound<'py, PyDict>> {
    let err = |e: pbn_rundir::ReadError| PyOSError::new_err(e.to_string());
    let run = pbn_rundir::RunData::open(&path).map_err(err)?;
    let d = PyDict::new(py);
    d.set_item("path", run.root.display().to_string())?;
    d.set_item("meta", serde_json::to_string(&run.meta).map_err(value_error)?)?;
    d.set_item("config", run.spec.to_resolved_toml())?;
    d.set_item("status", run.status())?;
    d.set_item("simulated_ms", run.simulated_ms)?;
    let pops: Vec<(String, usize, usize)> = run
        .populations
        .iter()
        .map(|p| (p.name.clone(), p.start, p.len))
        .collect();
    d.set_item("populations", pops)?;
    let (t, ids) = run.spikes().map_err(err)?;
    d.set_item("spike_times_ms", array(py, t))?;
    d.set_item("spike_ids", array(py, ids))?;
    let (t, r) = run.population_rates().map_err(err)?;
    d.set_item("rates_t_ms", array(py, t))?;
    d.set_item("rates_hz", matrix(py, r.data, r.rows, r.cols)?)?;
    let weights = PyDict::new(py);
    let finals = PyDict::new(py);
    for name in run.plastic_projections() {
        let w = run.weights(&name).map_err(err)?;
        let e = PyDict::new(py);
        e.set_item("t_ms", array(py, w.t_ms))?;
        e.set_item("samples", matrix(py, w.samples.data, w.samples.rows, w.samples.cols)?)?;
        e.set_item("pre", array(py, w.sample_pre))?;
        e.set_item("post", array(py, w.sample_post))?;
        e.set_item("mean", array(py, w.mean))?;
        e.set_item("std", array(py, w.std))?;
        weights.set_item(&name, e)?;
        if let Some(f) = run.final_weights(&name).map_err(err)? {
            finals.set_item(&name, (array(py, f.pre), array(py, f.post), array(py, f.j)))?;
        }
    }
    d.set_item("weights", weights)?;
    if let Some(nr) = run.neurons().map_err(err)? {
        let n = PyDict::new(py);
        n.set_item("ids", array(py, nr.ids))?;
        n.set_item("t_ms", array(py, nr.t_ms))?;
        n.set_item("v_mv", matrix(py, nr.v_mv.data, nr.v_mv.rows, nr.v_mv.cols)?)?;
        let currents = PyDict::new(py);
        for (source, c) in nr.currents {
            currents.set_item(source, matrix(py, c.data, c.rows, c.cols)?)?;
        }
        n.set_item("currents", currents)?;
        d.set_item("neurons", n)?;
    }
    d.set_item("final_weights", finals)?;
    d.set_item("plastic_names", PyList::new(py, run.plastic_projections())?)?;
    Ok(d)
}

/// `pbn analyze` of a run directory: the JSON it writes to `analysis.json` (nothing is written).
#[pyfunction]
#[pyo3(signature = (path, from_ms=None, to_ms=None, window_ms=250.0, rate_bin_ms=100.0))]
fn analyze_json(
    py: Python<'_>,
    path: PathBuf,
    from_ms: Option<f64>,
    to_ms: Option<f64>,
    window_ms: f64,
    rate_bin_ms: f64,
) -> PyResult<String> {
    if !(window_ms > 0.0 && rate_bin_ms > 0.0) {
        return Err(value_error(
            "window_ms and rate_bin_ms must be positive durations in ms",
        ));
    }
    let run = pbn_rundir::RunData::open(&path).map_err(|e| PyOSError::new_err(e.to_string()))?;
    let options = pbn_analysis::AnalyzeOptions {
        from_ms,
        to_ms,
        count_window_ms: window_ms,
        rate_bin_ms,
        ..pbn_analysis::AnalyzeOptions::default()
    };
    let analysis = py
        .detach(|| pbn_analysis::analyze_run(&run, &options))
        .map_err(value_error)?;
    serde_json::to_string(&analysis).map_err(value_error)
}

#[pymodule]
fn _pbn(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("SimulationError", m.py().get_type::<SimulationError>())?;
    m.add_class::<RawSimulation>()?;
    m.add_function(wrap_pyfunction!(default_config, m)?)?;
    m.add_function(wrap_pyfunction!(resolve_config, m)?)?;
    m.add_function(wrap_pyfunction!(toml_from_json, m)?)?;
    m.add_function(wrap_pyfunction!(theory_json, m)?)?;
    m.add_function(wrap_pyfunction!(load_run, m)?)?;
    m.add_function(wrap_pyfunction!(analyze_json, m)?)?;
    Ok(())
}
