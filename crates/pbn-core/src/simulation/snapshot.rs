//! Checkpoint and restore of a [`Simulation`]'s dynamic state (the format is in
//! [`crate::checkpoint`]). Arrays are stored by neuron id and, for weights, in post-major order
//! (each postsynaptic neuron's synapses by ascending presynaptic index), which does not depend on
//! how the neurons are split into chunks: a checkpoint resumes with any thread count.

use super::Simulation;
use super::chunk::ChunkState;
use super::state::built_trace_taus;
use super::traces::TraceSet;
use crate::checkpoint::{Checkpoint, CheckpointError, Section, config_difference, config_key};
use crate::spec::{NetworkSpec, Precision};

/// Attachment holding the spec in force when it differs from the built one (resolved TOML).
const CURRENT_CONFIG: &str = "pbn.current_config";

impl Simulation {
    /// The complete dynamic state at the end of the last step: continuing from it
    /// ([`Simulation::restore`]) gives bit for bit what continuing this simulation gives.
    pub fn checkpoint(&self) -> Checkpoint {
        let (network, state) = (&self.network, &self.state);
        let serial = &state.serial;
        let mut cp = Checkpoint::new(config_key(&network.spec), serial.step, self.time_ms());
        let per_neuron = |value: &dyn Fn(&ChunkState, usize) -> f64| -> Section {
            let values = network
                .chunks
                .iter()
                .zip(&state.chunks)
                .flat_map(|(w, c)| (0..w.len()).map(move |l| value(c, l)));
            match network.spec.precision {
                // f32 state widened to f64 and back is exact.
                Precision::F32 => Section::F32(values.map(|x| x as f32).collect()),
                Precision::F64 => Section::F64(values.collect()),
            }
        };
        cp.put("neurons/voltage_mv", per_neuron(&|c, l| c.voltage(l)));
        for s in 0..network.layout.sources().len() {
            cp.put(format!("neurons/current/{s}"), per_neuron(&|c, l| c.current(s, l)));
        }
        for (pi, proj) in network.projections.iter().enumerate() {
            if proj.plastic {
                // Scaled weights J as stored, in post-major order.
                let weights = network
                    .chunks
                    .iter()
                    .zip(&state.chunks)
                    .flat_map(|(w, c)| {
                        let weights = &c.weights[pi];
                        w.parts[pi].bwd_pos.iter().map(|&p| weights[p as usize])
                    })
                    .collect();
                cp.put(format!("weights/{pi}"), Section::F64(weights));
            }
        }
        if serial.current != network.spec {
            cp.attach(CURRENT_CONFIG, serial.current.to_resolved_toml().into());
        }
        cp.put("traces/tau_ms", Section::F64(serial.trace_taus.clone()));
        for (k, t) in serial.traces.iter().enumerate() {
            let (scaled, scale) = t.state();
            cp.put(format!("traces/{k}/scaled"), Section::F64(scaled.to_vec()));
            cp.put(format!("traces/{k}/scale"), Section::F64(vec![scale]));
        }
        let inputs = &state.inputs;
        for (x, input) in inputs.generators.iter().enumerate() {
            input.save(&mut cp, x);
            cp.put(format!("inputs/{x}/ready"), Section::U32(inputs.spikes[x].clone()));
        }
        cp.put("inputs/stimulus", Section::F64(inputs.stimulus.clone()));
        cp.put("inputs/ready_for", Section::U64(inputs.ready_for.into_iter().collect()));
        cp.put("spike_counts", Section::U64(serial.spike_counts.clone()));
        let r = &serial.recorder;
        cp.put("recorder/rate_counts", Section::U64(r.rate_counts.clone()));
        cp.put("recorder/guard_counts", Section::U64(r.guard_counts.clone()));
        cp.put("recorder/guard_elapsed", Section::U64(vec![r.guard_elapsed]));
        let (v_sum, current_sum) = network.schedule.sample_sums(&state.chunks, serial.step);
        cp.put("recorder/v_sum", Section::F64(v_sum));
        cp.put("recorder/current_sum", Section::F64(current_sum));
        cp.put(
            "recorder/weight_max",
            Section::F64(r.weight_max.iter().map(|m| m.unwrap_or(f64::NAN)).collect()),
        );
        cp.put(
            "recorder/weight_max_known",
            Section::U32(r.weight_max.iter().map(|m| m.is_some() as u32).collect()),
        );
        cp
    }

    /// Replaces the dynamic state with `cp`'s, taken from a simulation of the same network (the
    /// duration may differ, so that a finished run can be extended, and the checkpoint may lie
    /// beyond it). Plasticity rules and input parameters changed before the checkpoint was taken
    /// are put back in force. The next `run_for` starts its sink again (`RecordSink::start`)
    /// and records from the checkpoint's step on.
    pub fn restore(&mut self, cp: &Checkpoint) -> Result<(), CheckpointError> {
        let spec = &self.network.spec;
        let key = config_key(spec);
        if cp.config() != key {
            return Err(CheckpointError::Config(config_difference(cp.config(), &key)));
        }
        let current = match cp.attachment(CURRENT_CONFIG) {
            Some(v) => {
                let text = v.as_str().unwrap_or_default();
                let current = NetworkSpec::from_toml(text)
                    .map_err(|e| CheckpointError::Config(format!("its changed parameters are invalid: {e}")))?;
                // Apart from the parameters that may change, the built network.
                let mut back = current.clone();
                for (p, built) in back.projections.iter_mut().zip(&spec.projections) {
                    p.plasticity = built.plasticity.clone();
                }
                for (x, built) in back.inputs.iter_mut().zip(&spec.inputs) {
                    (x.rate_hz, x.correlation) = (built.rate_hz, built.correlation);
                }
                if config_key(&back) != key {
                    return Err(CheckpointError::Config(
                        "its changed parameters belong to another network".into(),
                    ));
                }
                current
            }
            None => spec.clone(),
        };
        // Trace sets in order of creation (a rule switched on later may have added one).
        let trace_taus = match cp.section("traces/tau_ms") {
            Ok(_) => cp.f64s("traces/tau_ms", None)?.to_vec(),
            Err(_) => built_trace_taus(spec),
        };
        let (network, state) = (&self.network, &self.state);
        let n = network.layout.n;
        // Everything is read and checked before anything is changed.
        let per_neuron = |name: &str| -> Result<Vec<f64>, CheckpointError> {
            match (cp.section(name)?, spec.precision) {
                (Section::F64(v), Precision::F64) if v.len() == n => Ok(v.clone()),
                (Section::F32(v), Precision::F32) if v.len() == n => Ok(v.iter().map(|&x| x as f64).collect()),
                _ => Err(CheckpointError::Config(format!(
                    "section `{name}` is not {n} {} values",
                    spec.precision.name()
                ))),
            }
        };
        let voltages = per_neuron("neurons/voltage_mv")?;
        let currents = (0..network.layout.sources().len())
            .map(|s| per_neuron(&format!("neurons/current/{s}")))
            .collect::<Result<Vec<_>, _>>()?;
        let mut weights = vec![None; network.projections.len()];
        for (pi, proj) in network.projections.iter().enumerate() {
            if proj.plastic {
                let total = network.chunks.iter().map(|c| c.parts[pi].bwd_pos.len()).sum();
                weights[pi] = Some(cp.f64s(&format!("weights/{pi}"), Some(total))?);
            }
        }
        let mut traces = vec![];
        for k in 0..trace_taus.len() {
            traces.push((
                cp.f64s(&format!("traces/{k}/scaled"), Some(n))?,
                cp.f64s(&format!("traces/{k}/scale"), Some(1))?[0],
            ));
        }
        let mut ready = vec![];
        for x in 0..state.inputs.generators.len() {
            ready.push(cp.u32s(&format!("inputs/{x}/ready"), None)?.to_vec());
        }
        let stimulus = cp.f64s("inputs/stimulus", Some(state.inputs.stimulus.len()))?;
        let ready_for = cp.u64s("inputs/ready_for", None)?.first().copied();
        let spike_counts = cp.u64s("spike_counts", Some(state.serial.spike_counts.len()))?;
        let r = &state.serial.recorder;
        let rate_counts = cp.u64s("recorder/rate_counts", Some(r.rate_counts.len()))?;
        let guard_counts = cp.u64s("recorder/guard_counts", Some(r.guard_counts.len()))?;
        let guard_elapsed = cp.u64s("recorder/guard_elapsed", Some(1))?[0];
        let n_sampled = self.network.schedule.neuron_refs.len();
        let v_sum = cp.f64s("recorder/v_sum", Some(n_sampled))?;
        let current_sum = cp.f64s(
            "recorder/current_sum",
            Some(n_sampled * self.network.current_decay.len()),
        )?;
        let weight_max = cp.f64s("recorder/weight_max", Some(r.weight_max.len()))?;
        let weight_max_known = cp.u32s("recorder/weight_max_known", Some(r.weight_max.len()))?;
        let mut generators = state.inputs.generators.clone();
        for (x, input) in generators.iter_mut().enumerate() {
            input.restore(cp, x)?;
        }

        let (network, state) = (&self.network, &mut self.state);
        network.schedule.set_sample_sums(&mut state.chunks, v_sum, current_sum);
        for (w, c) in network.chunks.iter().zip(&mut state.chunks) {
            for l in 0..w.len() {
                c.set_voltage(l, voltages[w.lo + l]);
                for (s, current) in currents.iter().enumerate() {
                    c.set_current(s, l, current[w.lo + l]);
                }
            }
            c.spikes.clear();
            c.nan_neuron = None;
        }
        for (pi, w) in weights.iter().enumerate() {
            let Some(w) = w else { continue };
            let mut at = 0;
            for (wiring, c) in network.chunks.iter().zip(&mut state.chunks) {
                let (part, weights) = (&wiring.parts[pi], &mut c.weights[pi]);
                for (slot, &pos) in part.bwd_pos.iter().enumerate() {
                    weights[pos as usize] = w[at + slot];
                }
                at += part.bwd_pos.len();
            }
        }
        let serial = &mut state.serial;
        serial.traces = trace_taus
            .iter()
            .zip(traces)
            .map(|(tau, (scaled, scale))| {
                let mut t = TraceSet::new(n, 1.0 - network.dt_ms / tau);
                t.set_state(scaled, scale);
                t
            })
            .collect();
        serial.trace_taus = trace_taus;
        serial.spike_counts.copy_from_slice(spike_counts);
        serial.spikes.clear();
        let inputs = &mut state.inputs;
        inputs.generators = generators;
        inputs.spikes = ready;
        inputs.stimulus.copy_from_slice(stimulus);
        inputs.ready_for = ready_for;
        let r = &mut state.serial.recorder;
        r.rate_counts.copy_from_slice(rate_counts);
        r.guard_counts.copy_from_slice(guard_counts);
        r.guard_elapsed = guard_elapsed;
        r.weight_max = weight_max
            .iter()
            .zip(weight_max_known)
            .map(|(&m, &known)| (known != 0).then_some(m))
            .collect();
        r.started = false;
        state.serial.step = cp.step();
        // After the generators: it sets their rates and correlations.
        self.set_current(current);
        Ok(())
    }
}
