//! A [`RecordSink`] that writes a run directory (layout in the crate docs).

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use pbn_core::{RecordSink, RecordingPlan};
use serde::Serialize;

use crate::npy_stream::{NpyElement, NpyStream, write_array};

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Still running (or killed without a chance to finish).
    Running,
    /// Simulated the whole duration.
    Completed,
    /// Stopped by the user (Ctrl-C).
    Interrupted,
    /// Stopped by the runaway guard.
    Runaway,
    /// Stopped because the state became NaN.
    Diverged,
    /// Stopped because writing failed.
    Failed,
}

/// Writes `contents` to `path` atomically (temporary file, then rename).
pub fn write_atomic(path: &Path, contents: &[u8]) -> io::Result<()> {
    let mut tmp = path.as_os_str().to_os_string();
    tmp.push(".part");
    let written = std::fs::write(&tmp, contents).and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        // A full disk: leave the old file, and the room, as they were.
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// The error for records of a plastic projection whose files were never opened (`start`
/// failed before it got there).
fn not_started(k: usize) -> io::Error {
    io::Error::other(format!(
        "no files were opened for plastic projection {k} (the run directory could not be set up)"
    ))
}

/// Streams recordings into a directory.
pub struct RunDirectory {
    root: PathBuf,
    files: Vec<String>,
    spike_times: Option<NpyStream<f64>>,
    spike_ids: Option<NpyStream<u32>>,
    rates: Option<NpyStream<f64>>,
    rates_t: Option<NpyStream<f64>>,
    weights_t: Option<NpyStream<f64>>,
    weight_samples: Vec<NpyStream<f64>>,
    weight_mean: Vec<NpyStream<f64>>,
    weight_std: Vec<NpyStream<f64>>,
    neurons_t: Option<NpyStream<f64>>,
    neurons_v: Option<NpyStream<f64>>,
    neuron_currents: Vec<NpyStream<f64>>,
    n_sampled: usize,
    plastic_names: Vec<String>,
    /// When resuming: the length (elements) at which each stream is reopened.
    reopen_at: Option<BTreeMap<String, u64>>,
}

impl RunDirectory {
    /// Creates `root` (and parents) and writes `config.resolved.toml`.
    pub fn create(root: &Path, resolved_config: &str) -> io::Result<Self> {
        std::fs::create_dir_all(root)?;
        write_atomic(&root.join("config.resolved.toml"), resolved_config.as_bytes())?;
        Self::create_in(root)
    }

    /// An existing run directory whose streams [`RecordSink::start`] will reopen at the lengths
    /// in `positions` (file name → elements, as [`RunDirectory::positions`] gave them when the
    /// checkpoint was taken), cutting off anything written after.
    pub fn reopen(root: &Path, positions: BTreeMap<String, u64>) -> io::Result<Self> {
        let mut dir = Self::create_in(root)?;
        dir.reopen_at = Some(positions);
        Ok(dir)
    }

    fn create_in(root: &Path) -> io::Result<Self> {
        if !root.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{} is not a directory", root.display()),
            ));
        }
        Ok(Self {
            root: root.to_path_buf(),
            files: vec!["config.resolved.toml".into()],
            spike_times: None,
            spike_ids: None,
            rates: None,
            rates_t: None,
            weights_t: None,
            weight_samples: vec![],
            weight_mean: vec![],
            weight_std: vec![],
            neurons_t: None,
            neurons_v: None,
            neuron_currents: vec![],
            n_sampled: 0,
            plastic_names: vec![],
            reopen_at: None,
        })
    }

    /// Elements written so far to each open stream, by file name.
    pub fn positions(&self) -> BTreeMap<String, u64> {
        let mut out: BTreeMap<String, u64> = self.f64_streams().map(|s| (s.file_name(), s.elements())).collect();
        if let Some(s) = &self.spike_ids {
            out.insert(s.file_name(), s.elements());
        }
        out
    }

    /// Hands every stream's data to the operating system and returns handles with which to force
    /// it to the disk, so that a checkpoint can refer to [`RunDirectory::positions`].
    pub fn flush(&mut self) -> io::Result<Vec<std::fs::File>> {
        let mut files = vec![];
        for s in self.f64_streams_mut() {
            files.push(s.flush()?);
        }
        if let Some(s) = &mut self.spike_ids {
            files.push(s.flush()?);
        }
        Ok(files)
    }

    fn f64_streams(&self) -> impl Iterator<Item = &NpyStream<f64>> {
        [
            &self.spike_times,
            &self.rates,
            &self.rates_t,
            &self.weights_t,
            &self.neurons_t,
            &self.neurons_v,
        ]
        .into_iter()
        .flatten()
        .chain(&self.weight_samples)
        .chain(&self.weight_mean)
        .chain(&self.weight_std)
        .chain(&self.neuron_currents)
    }

    fn f64_streams_mut(&mut self) -> impl Iterator<Item = &mut NpyStream<f64>> {
        [
            &mut self.spike_times,
            &mut self.rates,
            &mut self.rates_t,
            &mut self.weights_t,
            &mut self.neurons_t,
            &mut self.neurons_v,
        ]
        .into_iter()
        .flatten()
        .chain(&mut self.weight_samples)
        .chain(&mut self.weight_mean)
        .chain(&mut self.weight_std)
        .chain(&mut self.neuron_currents)
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Names of the files written so far (relative to the root), `meta.json` excluded.
    pub fn files(&self) -> &[String] {
        &self.files
    }

    /// Writes `meta.json` atomically (call at start and again at the end).
    pub fn write_meta(&self, meta: &serde_json::Value) -> io::Result<()> {
        let text = serde_json::to_string_pretty(meta).map_err(io::Error::other)?;
        write_atomic(&self.root.join("meta.json"), text.as_bytes())
    }

    /// Closes every stream (fixing its header and renaming it to the final name).
    pub fn close_streams(&mut self) -> io::Result<()> {
        for s in self.f64_streams_mut() {
            s.close()?;
        }
        if let Some(s) = &mut self.spike_ids {
            s.close()?;
        }
        Ok(())
    }

    fn stream<T: NpyElement>(&mut self, name: &str, row_len: Option<usize>) -> io::Result<NpyStream<T>> {
        self.files.push(name.to_string());
        let path = self.root.join(name);
        if let Some(positions) = &self.reopen_at {
            let elements = positions.get(name).copied().ok_or_else(|| {
                io::Error::other(format!(
                    "the checkpoint has no position for {name}: it belongs to another recording plan"
                ))
            })?;
            return NpyStream::reopen(&path, row_len, elements);
        }
        match row_len {
            None => NpyStream::one_d(&path),
            Some(n) => NpyStream::two_d(&path, n),
        }
    }

    fn array<T: NpyElement>(&mut self, name: &str, values: &[T]) -> io::Result<()> {
        self.files.push(name.to_string());
        write_array(&self.root.join(name), values)
    }
}

impl RecordSink for RunDirectory {
    fn start(&mut self, plan: &RecordingPlan) -> io::Result<()> {
        if plan.spikes {
            self.spike_times = Some(self.stream("spike_times_ms.npy", None)?);
            self.spike_ids = Some(self.stream("spike_ids.npy", None)?);
        }
        self.rates = Some(self.stream("population_rates_hz.npy", Some(plan.populations.len()))?);
        self.rates_t = Some(self.stream("population_rates_t_ms.npy", None)?);
        if !plan.plastic.is_empty() {
            self.weights_t = Some(self.stream("weights_t_ms.npy", None)?);
        }
        for p in &plan.plastic {
            let name = &p.name;
            let samples = self.stream(&format!("weights_{name}_samples.npy"), Some(p.sample_pre.len()))?;
            self.weight_samples.push(samples);
            let mean = self.stream(&format!("weights_{name}_mean.npy"), None)?;
            self.weight_mean.push(mean);
            let std = self.stream(&format!("weights_{name}_std.npy"), None)?;
            self.weight_std.push(std);
            self.array(&format!("weights_{name}_sample_pre.npy"), &p.sample_pre)?;
            self.array(&format!("weights_{name}_sample_post.npy"), &p.sample_post)?;
            self.plastic_names.push(name.clone());
        }
        self.n_sampled = plan.sampled_neurons.len();
        if self.n_sampled > 0 {
            self.array("neurons_ids.npy", &plan.sampled_neurons)?;
            self.neurons_t = Some(self.stream("neurons_t_ms.npy", None)?);
            self.neurons_v = Some(self.stream("neurons_v_mv.npy", Some(self.n_sampled))?);
            for s in &plan.sources {
                let stream = self.stream(&format!("neurons_current_{s}.npy"), Some(self.n_sampled))?;
                self.neuron_currents.push(stream);
            }
        }
        Ok(())
    }

    fn spikes(&mut self, t_ms: f64, ids: &[u32]) -> io::Result<()> {
        if let (Some(t), Some(i)) = (&mut self.spike_times, &mut self.spike_ids) {
            t.extend(std::iter::repeat_n(t_ms, ids.len()))?;
            i.extend(ids.iter().copied())?;
        }
        Ok(())
    }

    fn population_rates(&mut self, t_end_ms: f64, rates_hz: &[f64]) -> io::Result<()> {
        if let (Some(r), Some(t)) = (&mut self.rates, &mut self.rates_t) {
            r.extend(rates_hz.iter().copied())?;
            t.extend([t_end_ms])?;
        }
        Ok(())
    }

    fn weights(&mut self, k: usize, t_ms: f64, samples: &[f64], mean: f64, std: f64) -> io::Result<()> {
        if k == 0
            && let Some(t) = &mut self.weights_t
        {
            t.extend([t_ms])?;
        }
        let (Some(samples_stream), Some(mean_stream), Some(std_stream)) = (
            self.weight_samples.get_mut(k),
            self.weight_mean.get_mut(k),
            self.weight_std.get_mut(k),
        ) else {
            return Err(not_started(k));
        };
        samples_stream.extend(samples.iter().copied())?;
        mean_stream.extend([mean])?;
        std_stream.extend([std])
    }

    fn neurons(&mut self, t_end_ms: f64, voltage_mv: &[f64], currents: &[f64]) -> io::Result<()> {
        if let (Some(t), Some(v)) = (&mut self.neurons_t, &mut self.neurons_v) {
            t.extend([t_end_ms])?;
            v.extend(voltage_mv.iter().copied())?;
            for (s, chunk) in self.neuron_currents.iter_mut().zip(currents.chunks(self.n_sampled)) {
                s.extend(chunk.iter().copied())?;
            }
        }
        Ok(())
    }

    fn final_weights(&mut self, k: usize, pre: &[u32], post: &[u32], weight: &[f64]) -> io::Result<()> {
        let name = self.plastic_names.get(k).ok_or_else(|| not_started(k))?.clone();
        self.array(&format!("final_weights_{name}_pre.npy"), pre)?;
        self.array(&format!("final_weights_{name}_post.npy"), post)?;
        self.array(&format!("final_weights_{name}_j.npy"), weight)
    }
}
