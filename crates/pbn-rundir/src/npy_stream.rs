//! `.npy` arrays written row by row, with the length fixed in the header at the end.

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

use npyz::{AutoSerialize, NpyWriter, WriterBuilder};

/// A 1-D or 2-D array streamed to `PATH.part` and renamed to `PATH` by [`NpyStream::finish`].
pub struct NpyStream<T: AutoSerialize> {
    writer: Option<NpyWriter<T, BufWriter<File>>>,
    part: PathBuf,
    path: PathBuf,
}

impl<T: AutoSerialize> NpyStream<T> {
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
        let file = BufWriter::with_capacity(1 << 16, File::create(&part)?);
        let options = npyz::WriteOptions::<T>::new().default_dtype().writer(file);
        let writer = match row_len {
            None => options.begin_1d()?,
            Some(n) => options.begin_2d(n as u64)?,
        };
        Ok(Self {
            writer: Some(writer),
            part,
            path: path.to_path_buf(),
        })
    }

    /// Appends elements (a whole number of rows for 2-D arrays).
    pub fn extend(&mut self, values: impl IntoIterator<Item = T>) -> io::Result<()> {
        self.writer.as_mut().expect("stream is open").extend(values)
    }

    /// Writes the header's final length, flushes, and renames to the final name.
    pub fn finish(mut self) -> io::Result<()> {
        self.close()
    }

    fn close(&mut self) -> io::Result<()> {
        if let Some(w) = self.writer.take() {
            w.finish()?;
            std::fs::rename(&self.part, &self.path)?;
        }
        Ok(())
    }
}

impl<T: AutoSerialize> Drop for NpyStream<T> {
    fn drop(&mut self) {
        // Best effort: a stream dropped on an error path still leaves a readable array.
        let _ = self.close();
    }
}

/// Writes a whole 1-D array atomically.
pub fn write_array<T: AutoSerialize + Copy>(path: &Path, values: &[T]) -> io::Result<()> {
    let mut s = NpyStream::<T>::one_d(path)?;
    s.extend(values.iter().copied())?;
    s.finish()
}

fn part_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().expect("file path").to_os_string();
    name.push(".part");
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let bytes = std::fs::read(&p).unwrap();
        let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
        assert_eq!(npy.shape(), &[2, 3]);
        assert_eq!(npy.into_vec::<f64>().unwrap(), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);

        let q = dir.path().join("b.npy");
        write_array(&q, &[7u32, 8, 9]).unwrap();
        let bytes = std::fs::read(&q).unwrap();
        let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
        assert_eq!(npy.shape(), &[3]);
        assert_eq!(npy.into_vec::<u32>().unwrap(), vec![7, 8, 9]);
    }
}
