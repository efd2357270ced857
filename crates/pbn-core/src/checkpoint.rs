//! Checkpoints: the complete dynamic state of a [`Simulation`](crate::Simulation) at the end of a
//! step, in one self-checking file, from which a run continues bit for bit.
//!
//! What is stored is what cannot be recomputed from the config: the step, voltages, currents,
//! STDP traces, every plastic weight, the input generators (random stream, pending spikes), the
//! recorder's running sums and the runaway guard's counts. Connectivity, the layout and the
//! recording plan are pure functions of the config and are rebuilt from it; the config itself
//! (its resolved TOML, with the duration left out so that a run can be extended) is stored to
//! refuse a checkpoint from another network. Arrays are stored in neuron-id and post-major
//! synapse order, so a checkpoint taken with one thread count resumes with any other.
//!
//! File layout (all integers little-endian):
//!
//! | bytes | content |
//! |---|---|
//! | 8 | magic `PBNCKPT\0` |
//! | 4 | format version ([`FORMAT_VERSION`]) |
//! | 8 | length H of the header |
//! | H | header, JSON: pbn version, config, step, time, random streams, attachments, and the name, dtype and length of every section |
//! | … | the sections' raw little-endian data, in header order |
//! | 4 | CRC-32 of everything before it |

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

/// Version of the file layout and of the set of sections; a file of another version is refused.
pub const FORMAT_VERSION: u32 = 1;

/// The version of pbn that writes checkpoints; one from another version is refused, since the
/// engine's arithmetic may differ between versions.
pub const PBN_VERSION: &str = env!("CARGO_PKG_VERSION");

const MAGIC: &[u8; 8] = b"PBNCKPT\0";

/// Why a checkpoint cannot be read or used.
#[derive(Debug, Error)]
pub enum CheckpointError {
    /// The file cannot be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// The file is not a complete, intact checkpoint.
    #[error("{path} is not a valid pbn checkpoint: {why}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// Another format or pbn version wrote it.
    #[error(
        "{path} was written by pbn {found} (checkpoint format {found_format}); this is pbn {PBN_VERSION} (format {FORMAT_VERSION}), whose engine may not continue it bit for bit"
    )]
    Version {
        /// The file.
        path: PathBuf,
        /// pbn version that wrote it.
        found: String,
        /// Its format version.
        found_format: u32,
    },
    /// It belongs to another network or recording plan.
    #[error("the checkpoint belongs to another config: {0}")]
    Config(String),
}

/// One named array of a checkpoint.
#[derive(Debug, Clone, PartialEq)]
pub enum Section {
    /// f64 values.
    F64(Vec<f64>),
    /// f32 values (voltages and currents of an f32 run).
    F32(Vec<f32>),
    /// u64 values.
    U64(Vec<u64>),
    /// u32 values.
    U32(Vec<u32>),
}

impl Section {
    fn dtype(&self) -> &'static str {
        match self {
            Section::F64(_) => "f64",
            Section::F32(_) => "f32",
            Section::U64(_) => "u64",
            Section::U32(_) => "u32",
        }
    }

    fn len(&self) -> usize {
        match self {
            Section::F64(v) => v.len(),
            Section::F32(v) => v.len(),
            Section::U64(v) => v.len(),
            Section::U32(v) => v.len(),
        }
    }

    fn write_to(&self, out: &mut impl Write) -> io::Result<()> {
        // Through a bounded buffer: a section can be hundreds of MB.
        fn put<const K: usize, T: Copy>(
            out: &mut impl Write,
            values: &[T],
            bytes: impl Fn(T) -> [u8; K],
        ) -> io::Result<()> {
            let mut buffer = Vec::with_capacity(K * 8192);
            for chunk in values.chunks(8192) {
                buffer.clear();
                for &v in chunk {
                    buffer.extend_from_slice(&bytes(v));
                }
                out.write_all(&buffer)?;
            }
            Ok(())
        }
        match self {
            Section::F64(v) => put(out, v, f64::to_le_bytes),
            Section::F32(v) => put(out, v, f32::to_le_bytes),
            Section::U64(v) => put(out, v, u64::to_le_bytes),
            Section::U32(v) => put(out, v, u32::to_le_bytes),
        }
    }

    fn read(dtype: &str, bytes: &[u8]) -> Option<Self> {
        fn get<const K: usize, T>(bytes: &[u8], from: impl Fn([u8; K]) -> T) -> Vec<T> {
            bytes
                .chunks_exact(K)
                .map(|c| from(c.try_into().expect("K bytes")))
                .collect()
        }
        Some(match dtype {
            "f64" => Section::F64(get(bytes, f64::from_le_bytes)),
            "f32" => Section::F32(get(bytes, f32::from_le_bytes)),
            "u64" => Section::U64(get(bytes, u64::from_le_bytes)),
            "u32" => Section::U32(get(bytes, u32::from_le_bytes)),
            _ => return None,
        })
    }

    fn item_bytes(dtype: &str) -> Option<usize> {
        match dtype {
            "f64" | "u64" => Some(8),
            "f32" | "u32" => Some(4),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct SectionEntry {
    name: String,
    dtype: String,
    len: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Header {
    pbn_version: String,
    config: String,
    step: u64,
    time_ms: f64,
    /// Random streams' states, in the order the engine lists them.
    rngs: Vec<Value>,
    attachments: serde_json::Map<String, Value>,
    sections: Vec<SectionEntry>,
}

/// The dynamic state of a simulation at the end of a step, plus what the caller attaches
/// (e.g. how far each output file had been written).
#[derive(Debug, Clone)]
pub struct Checkpoint {
    header: Header,
    sections: BTreeMap<String, Section>,
}

impl Checkpoint {
    /// An empty checkpoint of the network `config` (as [`config_key`] gives it) at `step`.
    pub(crate) fn new(config: String, step: u64, time_ms: f64) -> Self {
        Self {
            header: Header {
                pbn_version: PBN_VERSION.to_string(),
                config,
                step,
                time_ms,
                rngs: vec![],
                attachments: Default::default(),
                sections: vec![],
            },
            sections: BTreeMap::new(),
        }
    }

    /// Steps done at the checkpoint.
    pub fn step(&self) -> u64 {
        self.header.step
    }

    /// Simulated time at the checkpoint (ms).
    pub fn time_ms(&self) -> f64 {
        self.header.time_ms
    }

    /// The network's resolved config (TOML, duration left out).
    pub fn config(&self) -> &str {
        &self.header.config
    }

    /// Attaches caller data under `key` (replacing any).
    pub fn attach(&mut self, key: &str, value: Value) {
        self.header.attachments.insert(key.to_string(), value);
    }

    /// Caller data attached under `key`.
    pub fn attachment(&self, key: &str) -> Option<&Value> {
        self.header.attachments.get(key)
    }

    pub(crate) fn put(&mut self, name: impl Into<String>, section: Section) {
        self.sections.insert(name.into(), section);
    }

    pub(crate) fn put_rng(&mut self, rng: &crate::rng::Rng) {
        self.header
            .rngs
            .push(serde_json::to_value(rng).expect("a random stream serialises"));
    }

    pub(crate) fn rng(&self, i: usize) -> Result<crate::rng::Rng, CheckpointError> {
        let value = self
            .header
            .rngs
            .get(i)
            .ok_or_else(|| CheckpointError::Config(format!("it has no random stream {i}")))?;
        serde_json::from_value(value.clone())
            .map_err(|e| CheckpointError::Config(format!("random stream {i} cannot be read: {e}")))
    }

    pub(crate) fn section(&self, name: &str) -> Result<&Section, CheckpointError> {
        self.sections
            .get(name)
            .ok_or_else(|| CheckpointError::Config(format!("it has no section `{name}`")))
    }

    /// The section `name` as f64 values of length `len` (any length if `None`).
    pub(crate) fn f64s(&self, name: &str, len: Option<usize>) -> Result<&[f64], CheckpointError> {
        match self.section(name)? {
            Section::F64(v) if len.is_none_or(|l| l == v.len()) => Ok(v),
            other => Err(mismatch(name, other, "f64", len)),
        }
    }

    /// The section `name` as u64 values of length `len` (any length if `None`).
    pub(crate) fn u64s(&self, name: &str, len: Option<usize>) -> Result<&[u64], CheckpointError> {
        match self.section(name)? {
            Section::U64(v) if len.is_none_or(|l| l == v.len()) => Ok(v),
            other => Err(mismatch(name, other, "u64", len)),
        }
    }

    /// The section `name` as u32 values of length `len` (any length if `None`).
    pub(crate) fn u32s(&self, name: &str, len: Option<usize>) -> Result<&[u32], CheckpointError> {
        match self.section(name)? {
            Section::U32(v) if len.is_none_or(|l| l == v.len()) => Ok(v),
            other => Err(mismatch(name, other, "u32", len)),
        }
    }

    /// The file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![];
        self.write_to(&mut out).expect("writing to memory");
        out
    }

    fn write_to(&self, out: &mut impl Write) -> io::Result<()> {
        let mut header = self.header.clone();
        header.sections = self
            .sections
            .iter()
            .map(|(name, s)| SectionEntry {
                name: name.clone(),
                dtype: s.dtype().to_string(),
                len: s.len() as u64,
            })
            .collect();
        let header = serde_json::to_vec(&header).map_err(io::Error::other)?;
        let mut out = CrcWriter {
            inner: out,
            crc: crc32fast::Hasher::new(),
        };
        out.write_all(MAGIC)?;
        out.write_all(&FORMAT_VERSION.to_le_bytes())?;
        out.write_all(&(header.len() as u64).to_le_bytes())?;
        out.write_all(&header)?;
        for s in self.sections.values() {
            s.write_to(&mut out)?;
        }
        let crc = out.crc.finalize();
        out.inner.write_all(&crc.to_le_bytes())
    }

    /// Reads a checkpoint from `bytes` (`path` names it in errors).
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Self, CheckpointError> {
        let corrupt = |why: &str| CheckpointError::Corrupt {
            path: path.to_path_buf(),
            why: why.to_string(),
        };
        if bytes.len() < 24 || &bytes[..8] != MAGIC {
            return Err(corrupt("no checkpoint magic (not a checkpoint, or cut short)"));
        }
        let (body, crc) = bytes.split_at(bytes.len() - 4);
        if crc32fast::hash(body).to_le_bytes() != crc {
            return Err(corrupt("checksum mismatch (the file was cut short or altered)"));
        }
        let format = u32::from_le_bytes(body[8..12].try_into().expect("4 bytes"));
        let header_len = u64::from_le_bytes(body[12..20].try_into().expect("8 bytes")) as usize;
        let header_end = 20usize
            .checked_add(header_len)
            .filter(|&e| e <= body.len())
            .ok_or_else(|| corrupt("header longer than the file"))?;
        let header: Header =
            serde_json::from_slice(&body[20..header_end]).map_err(|e| corrupt(&format!("header: {e}")))?;
        if format != FORMAT_VERSION || header.pbn_version != PBN_VERSION {
            return Err(CheckpointError::Version {
                path: path.to_path_buf(),
                found: header.pbn_version,
                found_format: format,
            });
        }
        let mut sections = BTreeMap::new();
        let mut at = header_end;
        for entry in &header.sections {
            let item = Section::item_bytes(&entry.dtype).ok_or_else(|| corrupt(&format!("dtype {}", entry.dtype)))?;
            let end = (entry.len as usize)
                .checked_mul(item)
                .and_then(|n| n.checked_add(at))
                .filter(|&e| e <= body.len())
                .ok_or_else(|| corrupt(&format!("section {} runs past the end", entry.name)))?;
            let section = Section::read(&entry.dtype, &body[at..end]).expect("known dtype");
            sections.insert(entry.name.clone(), section);
            at = end;
        }
        if at != body.len() {
            return Err(corrupt("bytes after the last section"));
        }
        Ok(Self { header, sections })
    }

    /// Writes the checkpoint to `path` atomically: to `PATH.part`, synced, then renamed over
    /// `path`; the checkpoint it replaces is kept as `PATH.prev` until then, so that at every
    /// moment one complete checkpoint exists.
    pub fn write(&self, path: &Path) -> Result<(), CheckpointError> {
        let io_err = |p: &Path| {
            let p = p.to_path_buf();
            move |source| CheckpointError::Io { path: p, source }
        };
        let part = with_suffix(path, ".part");
        let written = (|| {
            let file = std::fs::File::create(&part)?;
            let mut writer = io::BufWriter::with_capacity(1 << 20, file);
            self.write_to(&mut writer)?;
            let file = writer.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()
        })();
        if let Err(e) = written {
            // A full disk: give back the room the partial file took.
            let _ = std::fs::remove_file(&part);
            return Err(io_err(&part)(e));
        }
        if path.exists() {
            std::fs::rename(path, with_suffix(path, ".prev")).map_err(io_err(path))?;
        }
        std::fs::rename(&part, path).map_err(io_err(path))?;
        if let Some(dir) = path.parent().and_then(|d| std::fs::File::open(d).ok()) {
            // Makes the renames durable; not every file system allows syncing a directory.
            let _ = dir.sync_all();
        }
        Ok(())
    }

    /// Reads the checkpoint at `path`.
    pub fn read(path: &Path) -> Result<Self, CheckpointError> {
        let bytes = std::fs::read(path).map_err(|source| CheckpointError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(&bytes, path)
    }

    /// Reads the newest intact checkpoint at `path`, falling back to the one it replaced
    /// (`PATH.prev`) when `path` is missing or damaged (a kill during a write). `Ok(None)` when
    /// there is none at all. The second value says why the fallback was needed.
    pub fn read_latest(path: &Path) -> Result<Option<(Self, Option<String>)>, CheckpointError> {
        let prev = with_suffix(path, ".prev");
        match Self::read(path) {
            Ok(c) => Ok(Some((c, None))),
            Err(CheckpointError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                if prev.exists() {
                    let c = Self::read(&prev)?;
                    Ok(Some((c, Some(format!("{} is missing", path.display())))))
                } else {
                    Ok(None)
                }
            }
            Err(e @ CheckpointError::Corrupt { .. }) if prev.exists() => {
                let c = Self::read(&prev)?;
                Ok(Some((c, Some(e.to_string()))))
            }
            Err(e) => Err(e),
        }
    }
}

/// The part of a config a checkpoint must match: the resolved TOML without the duration (a run
/// may be extended) and without the checkpoint interval.
pub fn config_key(spec: &crate::NetworkSpec) -> String {
    let mut spec = spec.clone();
    spec.duration_ms = 0.0;
    spec.checkpoint = Default::default();
    spec.to_resolved_toml()
}

/// The lines in which two configs differ, for an error message.
pub(crate) fn config_difference(stored: &str, current: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (stored.lines().collect(), current.lines().collect());
    let only = |x: &[&str], y: &[&str]| -> Vec<String> {
        x.iter()
            .filter(|l| !y.contains(l))
            .take(4)
            .map(|l| format!("`{}`", l.trim()))
            .collect()
    };
    let (gone, new) = (only(&a, &b), only(&b, &a));
    format!(
        "the checkpoint's network has {} where this one has {}",
        if gone.is_empty() {
            "nothing else".into()
        } else {
            gone.join(", ")
        },
        if new.is_empty() {
            "nothing else".into()
        } else {
            new.join(", ")
        }
    )
}

fn mismatch(name: &str, found: &Section, dtype: &str, len: Option<usize>) -> CheckpointError {
    CheckpointError::Config(format!(
        "section `{name}` holds {} {} values where this network needs {} {dtype}",
        found.len(),
        found.dtype(),
        len.map_or("some".to_string(), |l| l.to_string())
    ))
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

/// A writer that checksums what passes through it.
struct CrcWriter<'a, W: Write> {
    inner: &'a mut W,
    crc: crc32fast::Hasher,
}

impl<W: Write> Write for CrcWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.crc.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Checkpoint {
        let mut c = Checkpoint::new("n = 10\n".into(), 42, 4.2);
        c.put("a", Section::F64(vec![1.5, -0.0, f64::MIN_POSITIVE]));
        c.put("b", Section::F32(vec![3.25]));
        c.put("c", Section::U64(vec![u64::MAX]));
        c.put("d", Section::U32(vec![]));
        c.attach("streams", serde_json::json!({"x.npy": 7}));
        c
    }

    #[test]
    fn round_trips_bit_for_bit() {
        let c = sample();
        let bytes = c.to_bytes();
        let back = Checkpoint::from_bytes(&bytes, Path::new("mem")).unwrap();
        assert_eq!(back.sections, c.sections);
        assert_eq!(back.step(), 42);
        assert_eq!(back.attachment("streams").unwrap()["x.npy"], 7);
        assert_eq!(back.to_bytes(), bytes);
    }

    #[test]
    fn any_damage_is_detected() {
        let bytes = sample().to_bytes();
        for cut in [0, 10, bytes.len() / 2, bytes.len() - 1] {
            let e = Checkpoint::from_bytes(&bytes[..cut], Path::new("c")).unwrap_err();
            assert!(matches!(e, CheckpointError::Corrupt { .. }), "cut at {cut}: {e}");
        }
        for flip in [9, 30, bytes.len() - 10] {
            let mut b = bytes.clone();
            b[flip] ^= 0x10;
            let e = Checkpoint::from_bytes(&b, Path::new("c")).unwrap_err();
            assert!(e.to_string().contains("checksum"), "flip at {flip}: {e}");
        }
    }

    #[test]
    fn another_version_is_refused() {
        let mut c = sample();
        c.header.pbn_version = "0.0.1".into();
        let e = Checkpoint::from_bytes(&c.to_bytes(), Path::new("c")).unwrap_err();
        assert!(e.to_string().contains("written by pbn 0.0.1"), "{e}");
    }

    #[test]
    fn the_previous_checkpoint_survives_a_damaged_newer_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("checkpoint.bin");
        assert!(Checkpoint::read_latest(&path).unwrap().is_none());
        let first = sample();
        first.write(&path).unwrap();
        let mut second = sample();
        second.header.step = 43;
        second.write(&path).unwrap();
        assert_eq!(Checkpoint::read_latest(&path).unwrap().unwrap().0.step(), 43);
        // A newer one cut short (as if the machine died while it was written and renamed).
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        let (c, why) = Checkpoint::read_latest(&path).unwrap().unwrap();
        assert_eq!(c.step(), 42);
        assert!(why.unwrap().contains("checksum"));
        std::fs::remove_file(&path).unwrap();
        assert_eq!(Checkpoint::read_latest(&path).unwrap().unwrap().0.step(), 42);
    }
}
