//! Changes between `run_for` calls (docs/engine.md §7.12): a projection's plasticity rule and
//! an input's rate and correlation. The spec in force ([`Simulation::current_spec`]) is the one
//! description of both; the engine's compiled rules and the input generators follow it, and a
//! checkpoint stores it, so that a restored simulation continues with the changed parameters.

use super::{SimError, Simulation};
use crate::spec::{NetworkSpec, PlasticitySpec};

impl Simulation {
    /// Index of the projection named `FROM_to_TO` (as in output file names), or given as an index.
    pub fn projection_index(&self, name: &str) -> Option<usize> {
        let projections = &self.network.projections;
        projections
            .iter()
            .position(|p| p.name == name)
            .or_else(|| name.parse().ok().filter(|&i: &usize| i < projections.len()))
    }

    /// Index of the input layer named `name`, or given as an index.
    pub fn input_index(&self, name: &str) -> Option<usize> {
        let inputs = &self.network.spec.inputs;
        inputs
            .iter()
            .position(|x| x.name == name)
            .or_else(|| name.parse().ok().filter(|&i: &usize| i < inputs.len()))
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
        let projections = &self.network.projections;
        let Some(proj) = projections.get(projection) else {
            return Err(SimError::Change(format!(
                "there is no projection {projection}: the config has {} (0 to {})",
                projections.len(),
                projections.len().saturating_sub(1)
            )));
        };
        if !proj.plastic && plasticity.is_some() {
            return Err(SimError::Change(format!(
                "projection {projection} ({}) was built static: its synapses hold no weights of their own; give it a [projections.plasticity] in the config and switch it off (plasticity None) until it should learn",
                proj.name
            )));
        }
        let serial = &mut self.state.serial;
        let mut next = serial.current.clone();
        next.projections[projection].plasticity = plasticity;
        next.validate()?;
        serial.current = next;
        serial.compile_rules(&self.network);
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
        let n_inputs = self.network.spec.inputs.len();
        if input >= n_inputs {
            return Err(SimError::Change(format!(
                "there is no input {input}: the config has {n_inputs}"
            )));
        }
        let (network, state) = (&self.network, &mut self.state);
        let mut next = state.serial.current.clone();
        next.inputs[input].rate_hz = rate_hz;
        if let Some(c) = correlation {
            next.inputs[input].correlation = c;
        }
        next.validate()?;
        let correlation = next.inputs[input].correlation;
        // Bring the next step's inputs to one state whether or not a team thread prepared them
        // (preparing may have drawn a chunk ahead), then draw this input afresh from now.
        let step = state.serial.step;
        let inputs = &mut state.inputs;
        inputs.prepare(step, network);
        let x = &mut inputs.generators[input];
        x.change_at(step as f64 * network.dt_ms, rate_hz, correlation);
        inputs.spikes[input].clear();
        x.spikes_until((step + 1) as f64 * network.dt_ms, &mut inputs.spikes[input]);
        state.serial.current = next;
        Ok(())
    }

    /// Puts `current` in force (from a checkpoint): rules and input parameters.
    pub(super) fn set_current(&mut self, mut current: NetworkSpec) {
        let spec = &self.network.spec;
        current.duration_ms = spec.duration_ms;
        current.checkpoint = spec.checkpoint.clone();
        for (input, x) in self.state.inputs.generators.iter_mut().zip(&current.inputs) {
            input.set_params(x.rate_hz, x.correlation);
        }
        self.state.serial.current = current;
        self.state.serial.compile_rules(&self.network);
    }
}
