//! The mean-field description of a config: population fractions, the block matrices W and W_x,
//! the drive ξ, and which blocks are plastic (docs/model.md §1, docs/theory.md §4.1).
//!
//! Units: rates in kHz (spikes/ms) and time in ms inside every formula; weights unscaled (j).
//! W_ab = Σ_projections b→a p_ab j_ab q_b, W_ax = p_ax j_ax q_x, q = size/N.

use pbn_core::layout::Layout;
use pbn_core::spec::NetworkSpec;
use pbn_core::{PlasticityRule, Source};

use crate::error::TheoryError;
use crate::linalg::{Matrix, zeros};

/// A recurrent population.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Population {
    /// Name.
    pub name: String,
    /// Number of neurons.
    pub size: usize,
    /// Fraction q = size/N.
    pub q: f64,
    /// Whether outgoing weights are positive (Dale's law).
    pub excitatory: bool,
}

/// An external Poisson layer.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Input {
    /// Name.
    pub name: String,
    /// Number of trains.
    pub size: usize,
    /// Fraction q_x = size/N.
    pub q: f64,
    /// Rate of each train when on (Hz).
    pub rate_hz: f64,
    /// Pairwise correlation c.
    pub correlation: f64,
    /// Whether the input is on at the time the prediction is made.
    pub on: bool,
}

impl Input {
    /// Effective rate (kHz): the train rate when on, 0 when off.
    pub fn rate_khz(&self) -> f64 {
        if self.on { self.rate_hz * 1e-3 } else { 0.0 }
    }
}

/// A recurrent projection pre → post (one block of W), possibly plastic.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// Index of the projection in the config.
    pub projection: usize,
    /// Postsynaptic population.
    pub post: usize,
    /// Presynaptic population.
    pub pre: usize,
    /// Connection probability p.
    pub probability: f64,
    /// Unscaled weight j from the config (the initial mean weight).
    pub weight: f64,
    /// The plasticity rule, if the block is plastic (rules with zero rate count as static).
    pub rule: Option<PlasticityRule>,
}

/// Everything the theory needs from a config, at one instant (input windows resolved).
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// N (total recurrent neurons).
    pub n: u64,
    /// Recurrent populations.
    pub populations: Vec<Population>,
    /// Input layers.
    pub inputs: Vec<Input>,
    /// Recurrent projections.
    pub blocks: Vec<Block>,
    /// W_x (K×M): W_ax = p_ax j_ax q_x, summed over projections (unscaled weight).
    pub w_x: Matrix,
    /// Constant stimulus s per population (unscaled: the injected current is √N·s, mV/ms).
    pub stimulus: Vec<f64>,
    /// Empirical correction D per population (weight·kHz, docs/theory.md §4.7); zeros by default.
    pub correction: Vec<f64>,
    /// Indices into `blocks` of the plastic blocks, in config order.
    pub plastic: Vec<usize>,
    /// Time (ms) at which input and stimulus windows were evaluated.
    pub at_ms: f64,
}

impl Model {
    /// Builds the model of `spec` at time `at_ms` (inputs and stimuli count as on when
    /// start_ms ≤ at_ms < stop_ms).
    pub fn new(spec: &NetworkSpec, at_ms: f64) -> Result<Self, TheoryError> {
        let layout = Layout::new(spec);
        let n = spec.n;
        if n == 0 {
            return Err(TheoryError::Config("n must be positive".into()));
        }
        let nf = n as f64;
        let populations: Vec<Population> = layout
            .populations
            .iter()
            .map(|p| Population {
                name: p.name.clone(),
                size: p.len,
                q: p.len as f64 / nf,
                excitatory: p.kind == pbn_core::spec::Sign::Excitatory,
            })
            .collect();
        let on = |start: f64, stop: Option<f64>| start <= at_ms && stop.is_none_or(|s| at_ms < s);
        let inputs: Vec<Input> = spec
            .inputs
            .iter()
            .zip(&layout.inputs)
            .map(|(x, l)| Input {
                name: x.name.clone(),
                size: l.len,
                q: l.len as f64 / nf,
                rate_hz: x.rate_hz,
                correlation: x.correlation,
                on: on(x.start_ms, x.stop_ms),
            })
            .collect();
        let k = populations.len();
        let mut w_x = zeros(k, inputs.len());
        let mut blocks = Vec::new();
        for (i, p) in spec.projections.iter().enumerate() {
            let post = layout
                .population(&p.to)
                .ok_or_else(|| TheoryError::Config(format!("projections[{i}].to = {:?}: not a population", p.to)))?;
            match layout.source(&p.from) {
                Some(Source::Population(pre)) => {
                    let rule = p
                        .plasticity
                        .as_ref()
                        .map(|r| PlasticityRule::from_spec(r, n))
                        .filter(|r| r.rate != 0.0 && (r.on_pre.is_active() || r.on_post.is_active()));
                    blocks.push(Block {
                        projection: i,
                        post,
                        pre,
                        probability: p.probability,
                        weight: p.weight,
                        rule,
                    });
                }
                Some(Source::Input(x)) => {
                    if p.plasticity.is_some() {
                        return Err(TheoryError::Config(format!(
                            "projections[{i}]: input projections cannot be plastic"
                        )));
                    }
                    w_x[post][x] += p.probability * p.weight * inputs[x].q;
                }
                None => {
                    return Err(TheoryError::Config(format!(
                        "projections[{i}].from = {:?}: no population or input of that name",
                        p.from
                    )));
                }
            }
        }
        let mut stimulus = vec![0.0; k];
        for (i, s) in spec.stimuli.iter().enumerate() {
            let a = layout.population(&s.population).ok_or_else(|| {
                TheoryError::Config(format!(
                    "stimuli[{i}].population = {:?}: not a population",
                    s.population
                ))
            })?;
            if on(s.start_ms, s.stop_ms) {
                stimulus[a] += s.current;
            }
        }
        let plastic = blocks
            .iter()
            .enumerate()
            .filter(|(_, b)| b.rule.is_some())
            .map(|(i, _)| i)
            .collect();
        Ok(Self {
            n,
            populations,
            inputs,
            blocks,
            w_x,
            stimulus,
            correction: vec![0.0; k],
            plastic,
            at_ms,
        })
    }

    /// Number of recurrent populations K.
    pub fn k(&self) -> usize {
        self.populations.len()
    }

    /// √N.
    pub fn sqrt_n(&self) -> f64 {
        (self.n as f64).sqrt()
    }

    /// The config's weights of the plastic blocks (the ODE's initial state).
    pub fn initial_plastic_weights(&self) -> Vec<f64> {
        self.plastic.iter().map(|&b| self.blocks[b].weight).collect()
    }

    /// Label of a block, `pre→post` (e.g. `I→E`, the paper's j_ei).
    pub fn block_label(&self, b: usize) -> String {
        let bl = &self.blocks[b];
        format!("{}→{}", self.populations[bl.pre].name, self.populations[bl.post].name)
    }

    /// The block weights with the plastic ones replaced by `plastic_weights`.
    pub fn block_weights(&self, plastic_weights: &[f64]) -> Vec<f64> {
        let mut w: Vec<f64> = self.blocks.iter().map(|b| b.weight).collect();
        for (&b, &j) in self.plastic.iter().zip(plastic_weights) {
            w[b] = j;
        }
        w
    }

    /// W (K×K), W_ab = Σ p_ab j_ab q_b (docs/theory.md §4.1), at the given plastic weights.
    pub fn w(&self, plastic_weights: &[f64]) -> Matrix {
        let mut w = zeros(self.k(), self.k());
        for (bl, j) in self.blocks.iter().zip(self.block_weights(plastic_weights)) {
            w[bl.post][bl.pre] += bl.probability * j * self.populations[bl.pre].q;
        }
        w
    }

    /// Drive per population from inputs alone, (W_x r_x)_a (weight·kHz).
    pub fn input_drive(&self) -> Vec<f64> {
        self.w_x
            .iter()
            .map(|row| row.iter().zip(&self.inputs).map(|(w, x)| w * x.rate_khz()).sum())
            .collect()
    }

    /// Total drive ξ = W_x r_x + s + D (weight·kHz); balance is W r + ξ = 0 (docs/theory.md §4.1,
    /// §4.7; stimuli s as in docs/model.md §2.6a).
    pub fn drive(&self) -> Vec<f64> {
        self.input_drive()
            .iter()
            .zip(&self.stimulus)
            .zip(&self.correction)
            .map(|((x, s), d)| x + s + d)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_network_gives_the_documented_w_and_wx() {
        // docs/validation.md §8.A.1: W = [[2, −3], [9, −5]], W_x = [3.6, 2.7].
        let m = Model::new(&NetworkSpec::default(), 0.0).unwrap();
        let w = m.w(&[]);
        let want = [[2.0, -3.0], [9.0, -5.0]];
        for a in 0..2 {
            for b in 0..2 {
                assert!((w[a][b] - want[a][b]).abs() < 1e-12, "W[{a}][{b}] = {}", w[a][b]);
            }
        }
        assert!((m.w_x[0][0] - 3.6).abs() < 1e-12 && (m.w_x[1][0] - 2.7).abs() < 1e-12);
        assert!(m.plastic.is_empty());
        assert!((m.drive()[0] - 0.036).abs() < 1e-15);
    }

    #[test]
    fn input_windows_switch_inputs_and_stimuli() {
        let mut spec = NetworkSpec::default();
        spec.inputs[0].start_ms = 100.0;
        spec.inputs[0].stop_ms = Some(200.0);
        spec.stimuli.push(pbn_core::spec::StimulusSpec {
            population: "I".into(),
            current: 0.5,
            start_ms: 150.0,
            stop_ms: None,
        });
        let before = Model::new(&spec, 50.0).unwrap();
        assert_eq!(before.drive(), vec![0.0, 0.0]);
        let during = Model::new(&spec, 160.0).unwrap();
        assert!((during.drive()[1] - (0.027 + 0.5)).abs() < 1e-12);
        let after = Model::new(&spec, 200.0).unwrap();
        assert_eq!(after.drive(), vec![0.0, 0.5]);
    }
}
