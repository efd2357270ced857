//! `.npy` arrays written row by row, with the length fixed in the header at the end.
//!
//! A stream's header has a fixed size ([`HEADER_BYTES`]), so the final shape is written in place
//! and a stream can be reopened at a known length (to resume a run from a checkpoint).

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Bytes of every stream's header (magic, version, length, padded dict): room for any u64 shape.
pub const HEADER_BYTES: usize = 128;

/// An element type a stream can hold.
pub trait NpyElement: Copy {
    /// The `.npy` dtype (`<f8`, `<u4`).
    const DESCR: &'static str;
    /// Bytes per element.
    const SIZE: usize;
    /// Appends the little-endian bytes.
    fn put(self, out: &mut Vec<u8>);
}

impl NpyElement for f64 {
    const DESCR: &'static str = "<f8";
    const SIZE: usize = 8;
    fn put(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
}

impl NpyElement for u32 {
    const DESCR: &'static str = "<u4";
    const SIZE: usize = 4;
    fn put(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
}

/// The fixed-size header of an array of `rows` rows (`row_len` = None for 1-D).
fn header<T: NpyElement>(rows: u64, row_len: Option<usize>) -> Vec<u8> {
    let shape = match row_len {
        None => format!("({rows},)"),
        Some(n) => format!("({rows}, {n})"),
    };
    let mut dict = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': {shape}, }}",
        T::DESCR
    );
    let room = HEADER_BYTES - 10 - 1;
    assert!(dict.len() <= room, "npy header too long");
    dict.push_str(&" ".repeat(room - dict.len()));
    dict.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&((HEADER_BYTES - 10) as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out
}

/// The dtype and the shape after its first entry (`""` for 1-D, the row length for 2-D) of a
/// header: what must match for a stream to be reopened.
fn signature(head: &[u8]) -> Option<(String, String)> {
    let text = std::str::from_utf8(head.get(10..)?).ok()?;
    let descr = text.split("'descr': '").nth(1)?.split('\'').next()?;
    let shape = text.split("'shape': (").nth(1)?.split(')').next()?;
    let columns = shape.split_once(',')?.1.trim();
    Some((descr.to_string(), columns.to_string()))
}

/// A 1-D or 2-D array streamed to `PATH.part` and renamed to `PATH` by [`NpyStream::finish`].
pub struct NpyStream<T: NpyElement> {
    file: Option<BufWriter<File>>,
    part: PathBuf,
    path: PathBuf,
    row_len: Option<usize>,
    /// Elements written so far.
    elements: u64,
    scratch: Vec<u8>,
    _element: std::marker::PhantomData<T>,
}

impl<T: NpyElement> NpyStream<T> {
    /// A 1-D array of unknown length.
    pub fn one_d(path: &Path) -> io::Result<Self> {
        Self::open(path, None)
    }

    /// A 2-D array with rows of `row_len` elements and an unknown number of rows.
    pub fn two_d(path: &Path, row_len: usize) -> io::Result<Self> {
        Self::open(path, Some(row_len))
    }

    fn open(path: &Path, row_len: Option<usize>) -> io::Result<Self> {
        let part = part_path(path);
        let mut file = BufWriter::with_capacity(1 << 16, File::create(&part)?);
        file.write_all(&header::<T>(0, row_len))?;
        Ok(Self {
            file: Some(file),
            part,
            path: path.to_path_buf(),
            row_len,
            elements: 0,
            scratch: vec![],
            _element: std::marker::PhantomData,
        })
    }

    /// Reopens the stream of `path` (its `.part`, or the finished array, which becomes a `.part`
    /// again) holding exactly its first `elements` elements: later data is cut off. Fails if the
    /// file holds fewer, or another dtype or row length.
    pub fn reopen(path: &Path, row_len: Option<usize>, elements: u64) -> io::Result<Self> {
        let part = part_path(path);
        let source = if part.exists() {
            part.clone()
        } else {
            path.to_path_buf()
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&source)
            .map_err(|e| io::Error::new(e.kind(), format!("cannot open {}: {e}", source.display())))?;
        let bad = |why: String| io::Error::new(io::ErrorKind::InvalidData, format!("{}: {why}", source.display()));
        let mut head = vec![0u8; HEADER_BYTES];
        io::Read::read_exact(&mut file, &mut head).map_err(|_| bad("shorter than its header".into()))?;
        if head[..10] != header::<T>(0, row_len)[..10] || signature(&head) != signature(&header::<T>(0, row_len)) {
            return Err(bad(format!(
                "not a stream of {} with {} columns",
                T::DESCR,
                row_len.map_or("no".to_string(), |n| n.to_string())
            )));
        }
        let len = HEADER_BYTES as u64 + elements * T::SIZE as u64;
        let on_disk = file.metadata()?.len();
        if on_disk < len {
            return Err(bad(format!(
                "holds {} elements, fewer than the {elements} the checkpoint recorded",
                (on_disk - HEADER_BYTES as u64) / T::SIZE as u64
            )));
        }
        file.set_len(len)?;
        file.seek(SeekFrom::Start(len))?;
        if source != part {
            std::fs::rename(&source, &part)?;
        }
        Ok(Self {
            file: Some(BufWriter::with_capacity(1 << 16, file)),
            part,
            path: path.to_path_buf(),
            row_len,
            elements,
            scratch: vec![],
            _element: std::marker::PhantomData,
        })
    }

    /// Appends elements (a whole number of rows for 2-D arrays).
    pub fn extend(&mut self, values: impl IntoIterator<Item = T>) -> io::Result<()> {
        self.scratch.clear();
        for v in values {
            v.put(&mut self.scratch);
        }
        self.elements += (self.scratch.len() / T::SIZE) as u64;
        self.file.as_mut().expect("stream is open").write_all(&self.scratch)
    }

    /// The final file's name (without directory).
    pub fn file_name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// Elements written so far.
    pub fn elements(&self) -> u64 {
        self.elements
    }

    /// Hands everything written so far to the operating system (it survives a kill of this
    /// process) and returns a handle on the file with which to force it to the disk
    /// (`sync_data`, for a checkpoint that refers to it; it may be done on another thread).
    pub fn flush(&mut self) -> io::Result<File> {
        let f = self.file.as_mut().expect("stream is open");
        f.flush()?;
        f.get_ref().try_clone()
    }

    /// Writes the header's final length, flushes, and renames to the final name.
    pub fn finish(mut self) -> io::Result<()> {
        self.close()
    }

    /// [`NpyStream::finish`] in place: the stream takes no more elements afterwards.
    pub fn close(&mut self) -> io::Result<()> {
        if let Some(w) = self.file.take() {
            let mut file = w.into_inner().map_err(|e| e.into_error())?;
            let rows = match self.row_len {
                Some(n) if n > 0 => self.elements / n as u64,
                Some(_) => 0,
                None => self.elements,
            };
            file.seek(SeekFrom::Start(0))?;
            file.write_all(&header::<T>(rows, self.row_len))?;
            file.flush()?;
            drop(file);
            std::fs::rename(&self.part, &self.path)?;
        }
        Ok(())
    }
}

impl<T: NpyElement> Drop for NpyStream<T> {
    fn drop(&mut self) {
        // Best effort: a stream dropped on an error path still leaves a readable array.
        let _ = self.close();
    }
}

/// Writes a whole 1-D array atomically.
pub fn write_array<T: NpyElement>(path: &Path, values: &[T]) -> io::Result<()> {
    let mut s = NpyStream::<T>::one_d(path)?;
    s.extend(values.iter().copied())?;
    s.finish()
}

/// `PATH.part`: where the stream of `PATH` is written until it is finished.
pub fn part_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().expect("file path").to_os_string();
    name.push(".part");
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(p: &Path) -> (Vec<u64>, Vec<f64>) {
        let bytes = std::fs::read(p).unwrap();
        let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
        (npy.shape().to_vec(), npy.into_vec::<f64>().unwrap())
    }

    #[test]
    fn streamed_arrays_read_back_with_their_shape() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.npy");
        let mut s = NpyStream::<f64>::two_d(&p, 3).unwrap();
        s.extend([1.0, 2.0, 3.0]).unwrap();
        s.extend([4.0, 5.0, 6.0]).unwrap();
        assert!(dir.path().join("a.npy.part").exists());
        s.finish().unwrap();
        assert!(!dir.path().join("a.npy.part").exists());
        assert_eq!(read(&p), (vec![2, 3], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]));

        let q = dir.path().join("b.npy");
        write_array(&q, &[7u32, 8, 9]).unwrap();
        let bytes = std::fs::read(&q).unwrap();
        assert_eq!(bytes.len(), HEADER_BYTES + 12);
        let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
        assert_eq!(npy.shape(), &[3]);
        assert_eq!(npy.into_vec::<u32>().unwrap(), vec![7, 8, 9]);
    }

    #[test]
    fn a_reopened_stream_continues_from_the_recorded_length() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.npy");
        let mut s = NpyStream::<f64>::two_d(&p, 2).unwrap();
        s.extend([1.0, 2.0, 3.0, 4.0]).unwrap();
        s.flush().unwrap().sync_data().unwrap();
        // Written after the "checkpoint": cut off on reopening.
        s.extend([9.0, 9.0]).unwrap();
        s.finish().unwrap();
        let mut s = NpyStream::<f64>::reopen(&p, Some(2), 4).unwrap();
        assert!(!p.exists(), "a finished array becomes a stream again");
        s.extend([5.0, 6.0]).unwrap();
        s.finish().unwrap();
        assert_eq!(read(&p), (vec![3, 2], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]));
        // The same bytes as one uninterrupted stream.
        let q = dir.path().join("b.npy");
        let mut s = NpyStream::<f64>::two_d(&q, 2).unwrap();
        s.extend([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
        s.finish().unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), std::fs::read(&q).unwrap());

        let too_long = NpyStream::<f64>::reopen(&p, Some(2), 7).err().unwrap();
        assert!(too_long.to_string().contains("fewer than the 7"), "{too_long}");
        let other_shape = NpyStream::<f64>::reopen(&p, Some(3), 3).err().unwrap();
        assert!(other_shape.to_string().contains("3 columns"), "{other_shape}");
        let other_dtype = NpyStream::<u32>::reopen(&p, Some(2), 2).err().unwrap();
        assert!(other_dtype.to_string().contains("<u4"), "{other_dtype}");
    }
}
