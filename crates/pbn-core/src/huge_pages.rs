//! Large synapse arrays on 2 MiB pages.
//!
//! Spike delivery and plasticity touch synapse arrays of up to gigabytes at random rows; with
//! 4 KiB pages nearly every such access also misses the TLB and walks the page table. Where
//! transparent huge pages are available on request (`madvise` mode, the usual default), asking
//! for them before the memory is first touched removes most of those walks. Purely a hint:
//! results never depend on it.

/// Arrays smaller than this stay on normal pages (they fit the TLB's reach anyway).
const MIN_BYTES: usize = 8 << 20;

/// An empty Vec with room for `capacity` elements, its memory advised for huge pages.
pub fn vec_with_capacity<T>(capacity: usize) -> Vec<T> {
    let v = Vec::with_capacity(capacity);
    advise(&v);
    v
}

/// `len` copies of `value`, on huge pages where possible.
pub fn vec_filled<T: Clone>(len: usize, value: T) -> Vec<T> {
    let mut v = vec_with_capacity(len);
    v.resize(len, value);
    v
}

/// `len` zeros of `T` (a type whose all-zero bytes are its zero/default, e.g. f32 or f64) and
/// the index at which `len` usable elements start. With `huge`, that start is 2 MiB-aligned and
/// advised for huge pages, so that a chunk's neuron state (scattered into by every spike) sits on
/// one or a few TLB entries. The memory comes zeroed and untouched, so only what is used
/// becomes resident.
pub fn zeroed_aligned<T: Clone + Default>(len: usize, huge: bool) -> (Vec<T>, usize) {
    const HUGE: usize = 2 << 20;
    if !huge {
        return (vec![T::default(); len], 0);
    }
    let v = vec![T::default(); len + HUGE / size_of::<T>()];
    let start = v.as_ptr() as usize;
    let base = (start.next_multiple_of(HUGE) - start) / size_of::<T>();
    #[cfg(target_os = "linux")]
    // SAFETY: the range lies inside the allocation `v` owns; MADV_HUGEPAGE changes only how the
    // kernel backs it, never its contents. Failure (no THP) is harmless.
    unsafe {
        let first = start + base * size_of::<T>();
        let last = (start + v.len() * size_of::<T>()) / HUGE * HUGE;
        libc::madvise(first as *mut libc::c_void, last - first, libc::MADV_HUGEPAGE);
    }
    (v, base)
}

/// Asks the kernel to back the whole 2 MiB pages inside `v`'s allocation with huge pages.
fn advise<T>(v: &Vec<T>) {
    let bytes = v.capacity() * size_of::<T>();
    if bytes < MIN_BYTES {
        return;
    }
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        let start = v.as_ptr() as usize;
        let (first, last) = (start.next_multiple_of(HUGE), (start + bytes) / HUGE * HUGE);
        if last > first {
            // SAFETY: [first, last) lies inside the allocation `v` owns; MADV_HUGEPAGE changes
            // only how the kernel backs it, never its contents. Failure (no THP) is harmless.
            unsafe {
                libc::madvise(first as *mut libc::c_void, last - first, libc::MADV_HUGEPAGE);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advised_vectors_hold_what_plain_ones_hold() {
        let big: Vec<u64> = vec_filled(3 << 20, 7);
        assert_eq!(big.len(), 3 << 20);
        assert!(big.iter().all(|&x| x == 7));
        let mut grown: Vec<u16> = vec_with_capacity(10 << 20);
        grown.extend((0..10 << 20).map(|i| i as u16));
        assert_eq!(grown[65_537], 1);
        assert_eq!(vec_filled(3, 1.5), vec![1.5; 3]);
    }
}
