//! Where every population and input sits: sizes resolved from fractions, neuron index ranges,
//! and the list of current sources.

use crate::spec::{NetworkSpec, Sign};

/// A recurrent population with its neuron id range [start, start + len).
#[derive(Debug, Clone, PartialEq)]
pub struct PopulationLayout {
    /// Population name.
    pub name: String,
    /// Sign of outgoing weights.
    pub kind: Sign,
    /// First neuron id.
    pub start: usize,
    /// Number of neurons.
    pub len: usize,
}

impl PopulationLayout {
    /// Neuron ids of this population.
    pub fn range(&self) -> std::ops::Range<usize> {
        self.start..self.start + self.len
    }
}

/// An input layer: `len` spike trains, numbered 0..len within the layer.
#[derive(Debug, Clone, PartialEq)]
pub struct InputLayout {
    /// Input name.
    pub name: String,
    /// Number of trains.
    pub len: usize,
}

/// A sender of synaptic current: each has its own current variable in every neuron.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Population index.
    Population(usize),
    /// Input index.
    Input(usize),
}

/// Sizes and index ranges of a network.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// Recurrent populations in config order; ids are contiguous.
    pub populations: Vec<PopulationLayout>,
    /// Input layers in config order.
    pub inputs: Vec<InputLayout>,
    /// Total recurrent neurons.
    pub n: usize,
}

impl Layout {
    /// Resolves sizes (fraction·n rounded, or the given size).
    pub fn new(spec: &NetworkSpec) -> Self {
        let size = |fraction: Option<f64>, size: Option<u64>| {
            size.map_or_else(
                || (fraction.unwrap_or(0.0) * spec.n as f64).round() as usize,
                |s| s as usize,
            )
        };
        let mut start = 0;
        let populations = spec
            .populations
            .iter()
            .map(|p| {
                let len = size(p.fraction, p.size);
                let pl = PopulationLayout {
                    name: p.name.clone(),
                    kind: p.kind,
                    start,
                    len,
                };
                start += len;
                pl
            })
            .collect();
        let inputs = spec
            .inputs
            .iter()
            .map(|x| InputLayout {
                name: x.name.clone(),
                len: size(x.fraction, x.size),
            })
            .collect();
        Self {
            populations,
            inputs,
            n: start,
        }
    }

    /// All sources: populations first, then inputs; a source's position is its current index.
    pub fn sources(&self) -> Vec<Source> {
        (0..self.populations.len())
            .map(Source::Population)
            .chain((0..self.inputs.len()).map(Source::Input))
            .collect()
    }

    /// Current index of a source.
    pub fn source_index(&self, s: Source) -> usize {
        match s {
            Source::Population(p) => p,
            Source::Input(x) => self.populations.len() + x,
        }
    }

    /// Source by name.
    pub fn source(&self, name: &str) -> Option<Source> {
        self.population(name)
            .map(Source::Population)
            .or_else(|| self.inputs.iter().position(|x| x.name == name).map(Source::Input))
    }

    /// Population index by name.
    pub fn population(&self, name: &str) -> Option<usize> {
        self.populations.iter().position(|p| p.name == name)
    }

    /// Name of a source.
    pub fn source_name(&self, s: Source) -> &str {
        match s {
            Source::Population(p) => &self.populations[p].name,
            Source::Input(x) => &self.inputs[x].name,
        }
    }

    /// Number of neurons or trains of a source.
    pub fn source_len(&self, s: Source) -> usize {
        match s {
            Source::Population(p) => self.populations[p].len,
            Source::Input(x) => self.inputs[x].len,
        }
    }

    /// Population of a neuron id.
    pub fn population_of(&self, id: usize) -> usize {
        self.populations.partition_point(|p| p.start + p.len <= id)
    }
}
