//! Input balance (docs/theory.md §4.2): mean synaptic current from each source onto each population, and their sum.
//!
//! Inputs are the block-averaged currents (mV/ms) of sampled neurons, one row per averaging block, one
//! column per sampled neuron. The balanced state shows E + X ≈ −I, each O(√N), with an O(1) sum.

use pbn_rundir::Matrix;
use serde::Serialize;

use crate::Group;

/// Mean current from one source.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceCurrent {
    /// Source (population or input) name.
    pub source: String,
    /// Mean current (mV/ms) over the sampled neurons of the population and the blocks in the window.
    pub mean: f64,
}

/// Input balance of one population.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupBalance {
    /// Population name.
    pub name: String,
    /// Sampled neurons in the population.
    pub neurons: usize,
    /// Averaging blocks inside the window.
    pub blocks: usize,
    /// Mean current per source.
    pub sources: Vec<SourceCurrent>,
    /// Sum over sources (mV/ms).
    pub total: f64,
}

/// Mean current per source onto each group, over the blocks whose end lies in (`from_ms`, `to_ms`].
/// `ids[m]` is the neuron of column m; `t_ms[q]` the end of block q; `currents` one matrix per source.
pub fn input_balance(
    ids: &[u32],
    t_ms: &[f64],
    currents: &[(String, &Matrix)],
    groups: &[Group],
    from_ms: f64,
    to_ms: f64,
) -> Vec<GroupBalance> {
    let rows: Vec<usize> = (0..t_ms.len())
        .filter(|&q| t_ms[q] > from_ms && t_ms[q] <= to_ms)
        .collect();
    groups
        .iter()
        .map(|g| {
            let cols: Vec<usize> = (0..ids.len())
                .filter(|&m| g.range().contains(&(ids[m] as usize)))
                .collect();
            let count = (cols.len() * rows.len()) as f64;
            let sources: Vec<SourceCurrent> = currents
                .iter()
                .map(|(name, m)| {
                    let s: f64 = rows
                        .iter()
                        .filter(|&&q| q < m.rows)
                        .map(|&q| cols.iter().map(|&c| m.data[q * m.cols + c]).sum::<f64>())
                        .sum();
                    SourceCurrent {
                        source: name.clone(),
                        mean: s / count,
                    }
                })
                .collect();
            GroupBalance {
                name: g.name.clone(),
                neurons: cols.len(),
                blocks: rows.len(),
                total: sources.iter().map(|s| s.mean).sum(),
                sources,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balance_by_hand() {
        // Two sampled neurons: id 0 (E) and id 3 (I); three blocks ending at 100, 200, 300 ms.
        let ids = [0, 3];
        let t = [100.0, 200.0, 300.0];
        let e = Matrix {
            rows: 3,
            cols: 2,
            data: vec![9.0, 9.0, 1.0, 2.0, 3.0, 4.0],
        };
        let i = Matrix {
            rows: 3,
            cols: 2,
            data: vec![9.0, 9.0, -2.0, -3.0, -4.0, -5.0],
        };
        let groups = [Group::new("E", 0, 2), Group::new("I", 2, 2)];
        let b = input_balance(&ids, &t, &[("E".into(), &e), ("I".into(), &i)], &groups, 100.0, 300.0);
        assert_eq!((b[0].neurons, b[0].blocks), (1, 2));
        assert_eq!(b[0].sources[0].mean, 2.0);
        assert_eq!(b[0].sources[1].mean, -3.0);
        assert_eq!(b[0].total, -1.0);
        assert_eq!(
            (b[1].sources[0].mean, b[1].sources[1].mean, b[1].total),
            (3.0, -4.0, -1.0)
        );
    }
}
