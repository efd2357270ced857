//! Recovering a run that was killed (SIGKILL, out of memory, power loss) while its arrays were
//! still `.npy.part` streams: each stream's data is read up to its last whole element or row, and
//! every array is cut at one time — the last step whose spikes are all on disk — so that spike
//! times and ids have equal length and every time series ends at or before it.

use std::path::Path;

use serde_json::{Value, json};

use crate::{RunStatus, write_array, write_atomic};

/// What `recover` did.
#[derive(Debug, Clone, PartialEq)]
pub struct Recovery {
    /// Simulated time up to which the recovered arrays are complete (ms).
    pub cut_ms: f64,
    /// Arrays written from `.part` streams: (file, elements or rows kept).
    pub arrays: Vec<(String, usize)>,
}

/// A streamed array read back from its `.part` file.
pub(crate) struct PartArray {
    /// Elements per row (1 for 1-D arrays).
    row_len: usize,
    /// `<f8` or `<u4`.
    descr: String,
    /// The whole rows' raw little-endian bytes.
    data: Vec<u8>,
}

impl PartArray {
    /// Reads a stream; one killed before its header reached the disk is empty, with the dtype and
    /// row length it would have had (`empty_as`).
    pub(crate) fn read(path: &Path, empty_as: (&str, usize)) -> Result<Self, String> {
        let empty = || Self {
            row_len: empty_as.1.max(1),
            descr: empty_as.0.to_string(),
            data: vec![],
        };
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let bad = |why: &str| format!("{} is not a pbn stream ({why})", path.display());
        // Streams are buffered: one killed before its first flush holds nothing, not even its
        // header, and recovers as empty.
        let flushed = bytes.len() >= 6 && &bytes[..6] == b"\x93NUMPY";
        if !flushed && bytes.len() < (1 << 16) && b"\x93NUMPY".starts_with(&bytes[..bytes.len().min(6)]) {
            return Ok(empty());
        }
        if bytes.len() < 10 || !flushed {
            return Err(bad("no .npy magic"));
        }
        let (header_len, start) = match bytes[6] {
            1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
            2 | 3 if bytes.len() >= 12 => (
                u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
                12,
            ),
            _ => return Err(bad("unknown .npy version")),
        };
        let end = start + header_len;
        let Some(header) = bytes.get(start..end) else {
            // Killed while the header itself was being written.
            return Ok(empty());
        };
        let header = std::str::from_utf8(header).map_err(|_| bad("header is not text"))?;
        let descr = header
            .split("'descr': '")
            .nth(1)
            .and_then(|s| s.split('\'').next())
            .ok_or_else(|| bad("no dtype"))?
            .to_string();
        let item = match descr.as_str() {
            "<f8" => 8,
            "<u4" => 4,
            other => return Err(bad(&format!("dtype {other}"))),
        };
        // `(****, 20)`: the placeholder length, then the row length of a 2-D stream.
        let shape = header
            .split("'shape': (")
            .nth(1)
            .and_then(|s| s.split(')').next())
            .ok_or_else(|| bad("no shape"))?;
        let row_len = match shape.split(',').nth(1).map(str::trim).filter(|s| !s.is_empty()) {
            Some(n) => n.parse().map_err(|_| bad("row length"))?,
            None => 1,
        };
        let whole = (bytes.len() - end) / (item * row_len) * (item * row_len);
        Ok(Self {
            row_len,
            descr,
            data: bytes[end..end + whole].to_vec(),
        })
    }

    fn rows(&self) -> usize {
        self.data.len() / (self.item() * self.row_len)
    }

    fn item(&self) -> usize {
        if self.descr == "<u4" { 4 } else { 8 }
    }

    pub(crate) fn f64s(&self) -> Vec<f64> {
        self.data
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect()
    }

    pub(crate) fn u32s(&self) -> Vec<u32> {
        self.data
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect()
    }

    /// Writes the first `rows` rows as a finished array at `path`.
    fn write(&self, path: &Path, rows: usize) -> std::io::Result<()> {
        let n = rows * self.row_len;
        if self.descr == "<u4" {
            return write_array(path, &self.u32s()[..n]);
        }
        let values = &self.f64s()[..n];
        if self.row_len == 1 {
            return write_array(path, values);
        }
        let mut s = crate::NpyStream::<f64>::two_d(path, self.row_len)?;
        s.extend(values.iter().copied())?;
        s.finish()
    }
}

/// The process that wrote a run directory, if it is still alive on this machine.
pub fn writer_alive(meta: &Value) -> Option<u64> {
    let pid = meta["pid"].as_u64()?;
    let same_host = meta["host"].as_str() == host().as_deref();
    // A zombie (killed, not yet reaped by its parent) writes nothing any more.
    let alive = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(')').map(|(_, rest)| rest.trim_start().chars().next()))
        .is_some_and(|state| state != Some('Z'));
    (same_host && alive).then_some(pid)
}

/// This machine's name (for telling whether a run's writer could still be alive).
pub fn host() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
}

/// Whether a run directory was left by a killed run: `meta.json` says `running`, and the process
/// that wrote it is gone.
pub fn was_killed(root: &Path) -> bool {
    std::fs::read_to_string(root.join("meta.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .is_some_and(|m| m["status"] == "running" && writer_alive(&m).is_none())
}

/// Turns the `.part` streams of a killed run into finished arrays cut at the last complete step,
/// and marks the run `interrupted` with the reason. Refuses a run whose writer is still alive or
/// that is not marked `running`.
pub fn recover(root: &Path) -> Result<Recovery, String> {
    let meta_path = root.join("meta.json");
    let text = std::fs::read_to_string(&meta_path).map_err(|e| format!("cannot read {}: {e}", meta_path.display()))?;
    let mut meta: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", meta_path.display()))?;
    if meta["status"] != "running" {
        return Err(format!(
            "{} ended as `{}`: there is nothing to recover",
            root.display(),
            meta["status"].as_str().unwrap_or("?")
        ));
    }
    if let Some(pid) = writer_alive(&meta) {
        return Err(format!("{} is still being written by process {pid}", root.display()));
    }
    let dt = meta["dt_ms"].as_f64().unwrap_or(0.1);
    let part = |name: &str| root.join(format!("{name}.part"));
    // Dtype and row length of each stream (for one that never reached the disk).
    let length = |file: &str| -> usize {
        std::fs::read(root.join(file))
            .ok()
            .and_then(|b| {
                npyz::NpyFile::new(&b[..])
                    .ok()
                    .map(|f| f.shape().first().copied().unwrap_or(0) as usize)
            })
            .unwrap_or(1)
    };
    let populations = meta["populations"].as_array().map_or(1, Vec::len);
    let layout = |name: &str| -> (&'static str, usize) {
        if name == "spike_ids.npy" {
            ("<u4", 1)
        } else if name == "population_rates_hz.npy" {
            ("<f8", populations)
        } else if let Some(projection) = name
            .strip_prefix("weights_")
            .and_then(|n| n.strip_suffix("_samples.npy"))
        {
            ("<f8", length(&format!("weights_{projection}_sample_pre.npy")))
        } else if name == "neurons_v_mv.npy" || name.starts_with("neurons_current_") {
            ("<f8", length("neurons_ids.npy"))
        } else {
            ("<f8", 1)
        }
    };
    let open = |name: &str| -> Result<Option<PartArray>, String> {
        if part(name).exists() {
            PartArray::read(&part(name), layout(name)).map(Some)
        } else {
            Ok(None)
        }
    };

    // The cut: spikes are written step by step, so every step before the last one on disk is
    // whole; without spike streams, the end of the shortest time series.
    let times = open("spike_times_ms.npy")?;
    let ids = open("spike_ids.npy")?;
    let mut series: Vec<(&str, Vec<String>)> =
        vec![("population_rates_t_ms.npy", vec!["population_rates_hz.npy".into()])];
    let plastic: Vec<String> = meta["projections"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .filter(|p| !p["plasticity"].is_null())
                .filter_map(|p| p["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let weight_files: Vec<String> = plastic
        .iter()
        .flat_map(|n| ["samples", "mean", "std"].map(|s| format!("weights_{n}_{s}.npy")))
        .collect();
    series.push(("weights_t_ms.npy", weight_files));
    let sources: Vec<String> = meta["sources"]
        .as_array()
        .map(|s| {
            s.iter()
                .filter_map(|v| v.as_str().map(|s| format!("neurons_current_{s}.npy")))
                .collect()
        })
        .unwrap_or_default();
    series.push((
        "neurons_t_ms.npy",
        [vec!["neurons_v_mv.npy".to_string()], sources].concat(),
    ));

    let mut recovery = Recovery {
        cut_ms: f64::INFINITY,
        arrays: vec![],
    };
    // Everything up to the last checkpoint was on disk when it was written: never cut below it
    // (so that `pbn resume` can still continue from it).
    let checkpointed_ms = pbn_core::Checkpoint::read_latest(&root.join(crate::CHECKPOINT_FILE))
        .ok()
        .flatten()
        .map_or(0.0, |(c, _)| c.time_ms());
    if let (Some(t), Some(i)) = (&times, &ids) {
        let (t_values, n) = (t.f64s(), t.rows().min(i.rows()));
        let last = t_values[..n].last().copied();
        // Drop the last step on disk: it may be incomplete.
        recovery.cut_ms = last.map_or(0.0, |l| l - dt).max(checkpointed_ms);
        let keep = t_values[..n].partition_point(|&x| x <= recovery.cut_ms + 1e-9);
        t.write(&root.join("spike_times_ms.npy"), keep)
            .map_err(|e| e.to_string())?;
        i.write(&root.join("spike_ids.npy"), keep).map_err(|e| e.to_string())?;
        recovery.arrays.push(("spike_times_ms.npy".into(), keep));
        recovery.arrays.push(("spike_ids.npy".into(), keep));
    }
    let mut loaded = vec![];
    for (t_name, names) in &series {
        let Some(t) = open(t_name)? else { continue };
        let arrays: Vec<(String, PartArray)> = names
            .iter()
            .filter_map(|n| open(n).transpose().map(|a| a.map(|a| (n.clone(), a))))
            .collect::<Result<_, _>>()?;
        let rows = arrays.iter().map(|(_, a)| a.rows()).fold(t.rows(), usize::min);
        let t_values = t.f64s();
        if times.is_none() {
            recovery.cut_ms = recovery.cut_ms.min(
                t_values
                    .get(rows.wrapping_sub(1))
                    .copied()
                    .unwrap_or(0.0)
                    .max(checkpointed_ms),
            );
        }
        loaded.push((t_name.to_string(), t, arrays, rows, t_values));
    }
    if !recovery.cut_ms.is_finite() {
        recovery.cut_ms = 0.0;
    }
    for (t_name, t, arrays, rows, t_values) in loaded {
        let keep = t_values[..rows].partition_point(|&x| x <= recovery.cut_ms + 1e-9);
        t.write(&root.join(&t_name), keep).map_err(|e| e.to_string())?;
        recovery.arrays.push((t_name, keep));
        for (name, a) in arrays {
            a.write(&root.join(&name), keep).map_err(|e| e.to_string())?;
            recovery.arrays.push((name, keep));
        }
    }
    // Every .part the stream layout did not name is left alone; those it did are now arrays.
    for (name, _) in &recovery.arrays {
        let _ = std::fs::remove_file(part(name));
    }
    let mut files: Vec<String> = std::fs::read_dir(root)
        .map_err(|e| format!("cannot list {}: {e}", root.display()))?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n.ends_with(".npy"))
        .collect();
    files.sort();
    meta["status"] = json!(RunStatus::Interrupted);
    meta["stop_reason"] = json!(format!(
        "the process was killed; `pbn recover` cut the arrays at t = {} ms, the last step whose spikes were all written",
        recovery.cut_ms
    ));
    meta["simulated_ms"] = json!(recovery.cut_ms);
    meta["files"] = json!(files);
    meta["recovered"] = json!(true);
    let text = serde_json::to_string_pretty(&meta).map_err(|e| e.to_string())?;
    write_atomic(&meta_path, text.as_bytes()).map_err(|e| format!("cannot write {}: {e}", meta_path.display()))?;
    Ok(recovery)
}
