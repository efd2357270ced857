//! Changes between `run_for` calls (docs/engine.md §7.12): a projection's plasticity rule and
//! an input's rate and correlation. The spec in force ([`Simulation::current_spec`]) is the one
//! description of both; the engine's compiled rules and the input generators follow it, and a
//! checkpoint stores it, so that a restored simulation continues with the changed parameters.

use super::traces::TraceSet;
use super::{SimError, Simulation};
use crate::plasticity::{PlasticityRule, ScaledRule};
use crate::spec::{NetworkSpec, PlasticitySpec};

impl Simulation {
    /// Index of the projection named `FROM_to_TO` (as in output file names), or given as an index.
    pub fn projection_index(&self, name: &str) -> Option<usize> {
        self.projections
            .iter()
            .position(|p| p.name == name)
            .or_else(|| name.parse().ok().filter(|&i: &usize| i < self.projections.len()))
    }

    /// Index of the input layer named `name`, or given as an index.
    pub fn input_index(&self, name: &str) -> Option<usize> {
        self.spec
            .inputs
            .iter()
            .position(|x| x.name == name)
            .or_else(|| name.parse().ok().filter(|&i: &usize| i < self.inputs.len()))
    }

    /// Replaces the plasticity rule of projection `projection` (config index) from the next step
    /// on; `None` switches it off (the weights keep their values and still carry the spikes).
    ///
    /// Only projections built with a rule have weights of their own: a static projection cannot
    /// become plastic (give it a rule in the config and switch it off here until it should
    /// learn). The changed config is validated as a whole, with the CLI's messages. Traces of a
    /// time constant no projection used before start from zero at the change; traces of a
    /// known time constant have run all along, also while the rule was off. Deterministic: the
    /// same calls at the same steps give the same results for any thread count.
    pub fn set_plasticity(&mut self, projection: usize, plasticity: Option<PlasticitySpec>) -> Result<(), SimError> {
        let Some(proj) = self.projections.get(projection) else {
            return Err(SimError::Change(format!(
                "there is no projection {projection}: the config has {} (0 to {})",
                self.projections.len(),
                self.projections.len().saturating_sub(1)
            )));
        };
        if proj.rule.is_none() && plasticity.is_some() {
            return Err(SimError::Change(format!(
                "projection {projection} ({}) was built static: its synapses hold no weights of their own; give it a [projections.plasticity] in the config and switch it off (plasticity None) until it should learn",
                proj.name
            )));
        }
        let mut next = self.current.clone();
        next.projections[projection].plasticity = plasticity;
        next.validate()?;
        self.current = next;
        self.compile_rules();
        Ok(())
    }

    /// Sets the rate (Hz) of input layer `input` (config index) and, if given, its correlation,
    /// for every spike after the current time: the next step already receives the new trains.
    ///
    /// The spikes drawn ahead for later times are dropped and the trains drawn afresh from now on,
    /// continuing the input's own random stream: for independent trains exactly a Poisson process
    /// whose rate changes now; correlated trains miss the spikes jitter would have carried across
    /// now (a dip about one `jitter_ms` wide). The changed config is validated as a whole.
    /// Deterministic: the same calls at the same steps give the same results for any thread
    /// count.
    pub fn set_input(&mut self, input: usize, rate_hz: f64, correlation: Option<f64>) -> Result<(), SimError> {
        if input >= self.inputs.len() {
            return Err(SimError::Change(format!(
                "there is no input {input}: the config has {}",
                self.inputs.len()
            )));
        }
        let mut next = self.current.clone();
        next.inputs[input].rate_hz = rate_hz;
        if let Some(c) = correlation {
            next.inputs[input].correlation = c;
        }
        next.validate()?;
        let correlation = next.inputs[input].correlation;
        // Bring the next step's inputs to one state whether or not a team thread prepared them
        // (preparing may have drawn a chunk ahead), then draw this input afresh from now.
        self.prelude();
        let now = self.time_ms();
        let x = &mut self.inputs[input];
        x.change_at(now, rate_hz, correlation);
        self.input_spikes[input].clear();
        x.spikes_until((self.step + 1) as f64 * self.dt_ms, &mut self.input_spikes[input]);
        self.current = next;
        Ok(())
    }

    /// Puts `current` in force (from a checkpoint): rules and input parameters.
    pub(super) fn set_current(&mut self, mut current: NetworkSpec) {
        current.duration_ms = self.spec.duration_ms;
        current.checkpoint = self.spec.checkpoint.clone();
        for (input, x) in self.inputs.iter_mut().zip(&current.inputs) {
            input.set_params(x.rate_hz, x.correlation);
        }
        self.current = current;
        self.compile_rules();
    }

    /// Compiles the rules in force for the engine: every projection with weights of its own gets
    /// its rule (one that changes nothing while switched off) and the trace set of its τ.
    pub(super) fn compile_rules(&mut self) {
        let n = self.layout.n;
        for (i, proj) in self.projections.iter_mut().enumerate() {
            if proj.rule.is_none() {
                continue;
            }
            match &self.current.projections[i].plasticity {
                Some(spec) => {
                    let rule = PlasticityRule::from_spec_sqrt_n(spec, self.sqrt_n);
                    proj.rule = Some(rule.scaled(self.sqrt_n));
                    proj.trace = super::trace_index(&mut self.trace_taus, rule.tau_ms);
                    while self.traces.len() < self.trace_taus.len() {
                        let tau = self.trace_taus[self.traces.len()];
                        self.traces.push(TraceSet::new(n, 1.0 - self.dt_ms / tau));
                    }
                }
                None => proj.rule = Some(ScaledRule::FROZEN),
            }
        }
    }
}
