//! Reading a run directory back: the one reader every command uses.

use std::fs::File;
use std::io::{self, BufReader};
use std::path::{Path, PathBuf};

use pbn_core::NetworkSpec;
use serde_json::Value;

/// Why a run directory could not be read.
#[derive(Debug)]
pub struct ReadError(pub String);

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ReadError {}

/// A row-major 2-D array.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Matrix {
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    /// Elements, row by row.
    pub data: Vec<f64>,
}

impl Matrix {
    /// Row `r`.
    pub fn row(&self, r: usize) -> &[f64] {
        &self.data[r * self.cols..(r + 1) * self.cols]
    }

    /// Column `c`, copied.
    pub fn column(&self, c: usize) -> Vec<f64> {
        (0..self.rows).map(|r| self.data[r * self.cols + c]).collect()
    }
}

/// A recurrent population as recorded in `meta.json`.
#[derive(Debug, Clone, PartialEq)]
pub struct Population {
    /// Name.
    pub name: String,
    /// First neuron id.
    pub start: usize,
    /// Number of neurons.
    pub len: usize,
}

/// Weight records of one plastic projection.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightSeries {
    /// Projection name (`I_to_E`).
    pub name: String,
    /// Record times (ms).
    pub t_ms: Vec<f64>,
    /// Sampled unscaled weights, one row per record.
    pub samples: Matrix,
    /// Presynaptic ids of the sampled synapses.
    pub sample_pre: Vec<u32>,
    /// Postsynaptic ids of the sampled synapses.
    pub sample_post: Vec<u32>,
    /// Mean over all synapses of the block, per record.
    pub mean: Vec<f64>,
    /// Standard deviation over all synapses of the block, per record.
    pub std: Vec<f64>,
}

/// Every synapse of a plastic projection at the end of the run.
#[derive(Debug, Clone, PartialEq)]
pub struct FinalWeights {
    /// Presynaptic ids.
    pub pre: Vec<u32>,
    /// Postsynaptic ids.
    pub post: Vec<u32>,
    /// Unscaled weights.
    pub j: Vec<f64>,
}

/// Block-averaged voltages and currents of the sampled neurons.
#[derive(Debug, Clone, PartialEq)]
pub struct NeuronSeries {
    /// Sampled neuron ids.
    pub ids: Vec<u32>,
    /// Block ends (ms).
    pub t_ms: Vec<f64>,
    /// Voltage (mV), one row per block.
    pub v_mv: Matrix,
    /// Current from each source (mV/ms): (source name, one row per block).
    pub currents: Vec<(String, Matrix)>,
}

/// An opened run directory.
#[derive(Debug, Clone)]
pub struct RunData {
    /// The directory.
    pub root: PathBuf,
    /// `meta.json` as written.
    pub meta: Value,
    /// The resolved config.
    pub spec: NetworkSpec,
    /// Populations with id ranges.
    pub populations: Vec<Population>,
    /// How far the run got (ms).
    pub simulated_ms: f64,
}

impl RunData {
    /// Opens a run directory (reads `meta.json` and `config.resolved.toml`).
    pub fn open(root: &Path) -> Result<Self, ReadError> {
        let err = |what: &str, e: &dyn std::fmt::Display| ReadError(format!("{}: {what}: {e}", root.display()));
        let meta_text = std::fs::read_to_string(root.join("meta.json"))
            .map_err(|e| err("cannot read meta.json (is this a pbn run directory?)", &e))?;
        let meta: Value = serde_json::from_str(&meta_text).map_err(|e| err("meta.json is not valid JSON", &e))?;
        let config = std::fs::read_to_string(root.join("config.resolved.toml"))
            .map_err(|e| err("cannot read config.resolved.toml", &e))?;
        let spec = NetworkSpec::from_toml(&config).map_err(|e| err("config.resolved.toml", &e))?;
        let populations = meta["populations"]
            .as_array()
            .ok_or_else(|| ReadError(format!("{}: meta.json has no populations", root.display())))?
            .iter()
            .map(|p| Population {
                name: p["name"].as_str().unwrap_or_default().to_string(),
                start: p["first_id"].as_u64().unwrap_or(0) as usize,
                len: p["size"].as_u64().unwrap_or(0) as usize,
            })
            .collect();
        let simulated_ms = meta["simulated_ms"].as_f64().unwrap_or(0.0);
        Ok(Self {
            root: root.to_path_buf(),
            meta,
            spec,
            populations,
            simulated_ms,
        })
    }

    /// Run status as written (`completed`, `interrupted`, `runaway`, …).
    pub fn status(&self) -> &str {
        self.meta["status"].as_str().unwrap_or("unknown")
    }

    /// Whether a file exists in the run directory.
    pub fn has(&self, name: &str) -> bool {
        self.root.join(name).exists()
    }

    fn read<T: npyz::Deserialize>(&self, name: &str) -> Result<(Vec<u64>, Vec<T>), ReadError> {
        let path = self.root.join(name);
        let err = |e: &dyn std::fmt::Display| ReadError(format!("{}: {e}", path.display()));
        let file = File::open(&path).map_err(|e| err(&e))?;
        let npy = npyz::NpyFile::new(BufReader::new(file)).map_err(|e| err(&e))?;
        let shape = npy.shape().to_vec();
        let data = npy.into_vec::<T>().map_err(|e| err(&e))?;
        Ok((shape, data))
    }

    /// A 1-D array.
    pub fn vector<T: npyz::Deserialize>(&self, name: &str) -> Result<Vec<T>, ReadError> {
        Ok(self.read(name)?.1)
    }

    /// A 2-D float array.
    pub fn matrix(&self, name: &str) -> Result<Matrix, ReadError> {
        let (shape, data) = self.read::<f64>(name)?;
        let (rows, cols) = match shape[..] {
            [r, c] => (r as usize, c as usize),
            [r] => (r as usize, 1),
            _ => return Err(ReadError(format!("{name}: expected a 2-D array, shape {shape:?}"))),
        };
        Ok(Matrix { rows, cols, data })
    }

    /// All spikes: (times ms, neuron ids), in time order. Empty if spikes were not recorded.
    pub fn spikes(&self) -> Result<(Vec<f64>, Vec<u32>), ReadError> {
        if !self.has("spike_times_ms.npy") {
            return Ok((vec![], vec![]));
        }
        Ok((self.vector("spike_times_ms.npy")?, self.vector("spike_ids.npy")?))
    }

    /// Population rates (Hz): (bin ends ms, one row per bin, one column per population).
    pub fn population_rates(&self) -> Result<(Vec<f64>, Matrix), ReadError> {
        Ok((
            self.vector("population_rates_t_ms.npy")?,
            self.matrix("population_rates_hz.npy")?,
        ))
    }

    /// Names of the plastic projections that have weight records.
    pub fn plastic_projections(&self) -> Vec<String> {
        self.meta["projections"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .filter(|p| !p["plasticity"].is_null())
                    .filter_map(|p| p["name"].as_str().map(str::to_string))
                    .filter(|n| self.has(&format!("weights_{n}_mean.npy")))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Weight records of a plastic projection.
    pub fn weights(&self, name: &str) -> Result<WeightSeries, ReadError> {
        let f = |suffix: &str| format!("weights_{name}_{suffix}.npy");
        Ok(WeightSeries {
            name: name.to_string(),
            t_ms: self.vector("weights_t_ms.npy")?,
            samples: self.matrix(&f("samples"))?,
            sample_pre: self.vector(&f("sample_pre"))?,
            sample_post: self.vector(&f("sample_post"))?,
            mean: self.vector(&f("mean"))?,
            std: self.vector(&f("std"))?,
        })
    }

    /// Final weights of a plastic projection, if they were written.
    pub fn final_weights(&self, name: &str) -> Result<Option<FinalWeights>, ReadError> {
        let f = |suffix: &str| format!("final_weights_{name}_{suffix}.npy");
        if !self.has(&f("j")) {
            return Ok(None);
        }
        Ok(Some(FinalWeights {
            pre: self.vector(&f("pre"))?,
            post: self.vector(&f("post"))?,
            j: self.vector(&f("j"))?,
        }))
    }

    /// Sampled neuron recordings, if any were made.
    pub fn neurons(&self) -> Result<Option<NeuronSeries>, ReadError> {
        if !self.has("neurons_ids.npy") {
            return Ok(None);
        }
        let sources: Vec<String> = self.meta["sources"]
            .as_array()
            .map(|s| s.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        let currents = sources
            .into_iter()
            .map(|s| {
                let m = self.matrix(&format!("neurons_current_{s}.npy"))?;
                Ok((s, m))
            })
            .collect::<Result<_, ReadError>>()?;
        Ok(Some(NeuronSeries {
            ids: self.vector("neurons_ids.npy")?,
            t_ms: self.vector("neurons_t_ms.npy")?,
            v_mv: self.matrix("neurons_v_mv.npy")?,
            currents,
        }))
    }
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        ReadError(e.to_string())
    }
}
