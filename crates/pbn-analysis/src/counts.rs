//! Spike-count matrix over counting windows (docs/analysis.md §5).

/// Spike counts n[w, j] of `neurons` neurons in `windows` consecutive windows of `window_ms`.
///
/// Window w is (from + w·T_win, from + (w+1)·T_win]; the windows tile (from, from + W·T_win] with
/// W = ⌊(to − from)/T_win⌋, so a last partial window is dropped (the reference's histogram dropped
/// the last *full* window, docs/plasticity.md §3.6 item 8). Stored neuron-major (column-major as a W×N
/// matrix): neuron j's counts are `data[j·W .. (j+1)·W]`.
#[derive(Debug, Clone, PartialEq)]
pub struct CountMatrix {
    /// Number of windows W.
    pub windows: usize,
    /// Number of neurons N.
    pub neurons: usize,
    /// Window length (ms).
    pub window_ms: f64,
    /// Start of the first window (ms).
    pub from_ms: f64,
    /// Counts, neuron-major (W consecutive values per neuron).
    pub data: Vec<f64>,
}

impl CountMatrix {
    /// Counts spikes (times ms, ids) of neurons `0..neurons`; ids ≥ `neurons` are ignored.
    pub fn from_spikes(
        times_ms: &[f64],
        ids: &[u32],
        neurons: usize,
        from_ms: f64,
        to_ms: f64,
        window_ms: f64,
    ) -> Self {
        let windows = crate::rates::whole_windows(from_ms, to_ms, window_ms);
        let mut data = vec![0.0; windows * neurons];
        for (&t, &id) in times_ms.iter().zip(ids) {
            let j = id as usize;
            if t <= from_ms || j >= neurons {
                continue;
            }
            let w = ((t - from_ms) / window_ms).ceil() as usize;
            if w == 0 || w > windows {
                continue;
            }
            data[j * windows + w - 1] += 1.0;
        }
        Self {
            windows,
            neurons,
            window_ms,
            from_ms,
            data,
        }
    }

    /// Counts of neuron `j` in every window.
    pub fn neuron(&self, j: usize) -> &[f64] {
        &self.data[j * self.windows..(j + 1) * self.windows]
    }

    /// Mean count of each neuron over the windows.
    pub fn means(&self) -> Vec<f64> {
        (0..self.neurons)
            .map(|j| self.neuron(j).iter().sum::<f64>() / self.windows as f64)
            .collect()
    }

    /// The matrix with each neuron's mean count subtracted (the centred counts Xc).
    pub fn centred(&self) -> Self {
        let means = self.means();
        let mut out = self.clone();
        for (j, m) in means.iter().enumerate() {
            for x in &mut out.data[j * self.windows..(j + 1) * self.windows] {
                *x -= m;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_hand() {
        // Windows of 250 ms tiling (1000, 1600] → 2 full windows (1000, 1250], (1250, 1500]; tail dropped.
        let t = [1000.0, 1000.5, 1250.0, 1250.1, 1499.0, 1550.0, 1200.0];
        let id = [0, 0, 1, 1, 0, 0, 5];
        let c = CountMatrix::from_spikes(&t, &id, 2, 1000.0, 1600.0, 250.0);
        assert_eq!((c.windows, c.neurons), (2, 2));
        assert_eq!(c.neuron(0), &[1.0, 1.0]);
        assert_eq!(c.neuron(1), &[1.0, 1.0]);
        let c = CountMatrix::from_spikes(&[10.0, 20.0, 30.0], &[0, 0, 0], 1, 0.0, 30.0, 15.0);
        // (0, 15] holds 10; (15, 30] holds 20 and 30.
        assert_eq!(c.neuron(0), &[1.0, 2.0]);
        assert_eq!(c.centred().neuron(0), &[-0.5, 0.5]);
    }
}
