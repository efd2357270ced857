"""pbn: plastic balanced spiking networks from Python.

The simulator, the mean-field theory and the run directories of the pbn Rust library
(docs/python.md). Units are in the names: ``_ms`` milliseconds, ``_hz`` hertz, weights ``j``
unscaled (the simulated weight is j/√N), currents mV/ms.

    >>> import pbn
    >>> cfg = pbn.Config("examples/istdp_i_to_e.toml").set("n", 1000)
    >>> sim = pbn.Simulation(cfg, threads=2)
    >>> sim.set_plasticity("I_to_E", None)         # prime without plasticity
    >>> sim.run(1000)                              # ms
    >>> sim.set_plasticity("I_to_E", enabled=True)  # switch iSTDP back on
    >>> sim.run(5000)
    >>> t, ids = sim.spikes()
    >>> pbn.theory(cfg, integrate_ms=60000).fixed_points
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
import tomllib
from typing import Any, Callable

import numpy as np

from . import _pbn
from ._pbn import SimulationError

__version__ = _pbn.__version__
__all__ = [
    "Config",
    "Simulation",
    "Run",
    "Theory",
    "SimulationError",
    "theory",
    "load_run",
    "analyze",
    "__version__",
]


# --------------------------------------------------------------------------------------------
# Config


def _toml_value(value: Any) -> str:
    """A Python value as a TOML literal (the VALUE of a ``--set KEY=VALUE``)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {value!r} ({type(value).__name__}) as a config value")


class Config:
    """A network config: the TOML of ``pbn run``, validated with the CLI's messages.

    ``Config()`` is the built-in default network; ``Config(path)`` reads a TOML file;
    ``Config(text)`` parses TOML text (anything with a newline or ``=``); ``Config(dict)`` takes
    the same structure as a dict. ``cfg.set("inputs.0.correlation", 0.1)`` changes any key as
    ``--set`` does (numeric parts index arrays) and returns the config. Invalid configs raise
    ValueError with the message ``pbn`` prints.
    """

    def __init__(self, source: "Config | str | os.PathLike | dict | None" = None):
        if isinstance(source, Config):
            self._text, self._name, self._sets = source._text, source._name, list(source._sets)
        elif source is None:
            self._text, self._name, self._sets = _pbn.default_config(), "the default config", []
        elif isinstance(source, dict):
            self._text, self._name, self._sets = _pbn.toml_from_json(json.dumps(source)), "the config", []
        elif isinstance(source, os.PathLike) or (
            isinstance(source, str) and "\n" not in source and "=" not in source
        ):
            path = os.fspath(source)
            try:
                with open(path, encoding="utf-8") as f:
                    self._text = f.read()
            except OSError as e:
                raise ValueError(f"cannot read config {path}: {e.strerror} (os error {e.errno})") from None
            self._name, self._sets = path, []
        elif isinstance(source, str):
            self._text, self._name, self._sets = source, "the config", []
        else:
            raise TypeError(f"a config is a path, TOML text, a dict or a Config, not {type(source).__name__}")
        self._resolved = _pbn.resolve_config(self._text, self._sets, self._name)

    def set(self, key: str, value: Any) -> "Config":
        """Sets ``key`` (dotted, e.g. ``projections.1.plasticity.eta``) to ``value``; returns self."""
        assignment = f"{key}={_toml_value(value)}"
        self._resolved = _pbn.resolve_config(self._text, [*self._sets, assignment], self._name)
        self._sets.append(assignment)
        return self

    def copy(self) -> "Config":
        return Config(self)

    def to_toml(self) -> str:
        """The config with every default written out (``config.resolved.toml`` of a run)."""
        return self._resolved

    def to_dict(self) -> dict:
        return tomllib.loads(self._resolved)

    def __getitem__(self, key: str) -> Any:
        node: Any = self.to_dict()
        for part in key.split("."):
            node = node[int(part)] if isinstance(node, list) else node[part]
        return node

    def __repr__(self) -> str:
        sets = "".join(f" --set {s}" for s in self._sets)
        return f"<pbn.Config {self._name}{sets}>"


def _config(config: Any) -> Config:
    if isinstance(config, Simulation):
        return config.config
    return config if isinstance(config, Config) else Config(config)


# --------------------------------------------------------------------------------------------
# Results shared by simulations and run directories


class _Results:
    """Spikes, rates and weights as NumPy arrays, pandas tables and neo objects."""

    # Subclasses provide: spikes(), rates(), weights(p), final_weights(p), populations,
    # plastic_projections, and _t_stop_ms.

    @property
    def spike_times_ms(self) -> np.ndarray:
        return self.spikes()[0]

    @property
    def spike_ids(self) -> np.ndarray:
        return self.spikes()[1]

    def population_of(self, ids: np.ndarray) -> np.ndarray:
        """Index of the population of each neuron id."""
        starts = np.array([p[1] for p in self.populations])
        return np.searchsorted(starts, np.asarray(ids), side="right") - 1

    def mean_rates_hz(self, t_from_ms: float = 0.0, t_to_ms: float | None = None) -> dict[str, float]:
        """Mean rate (Hz) of each population from its recorded spikes over (t_from, t_to]."""
        t, ids = self.spikes()
        t_to = self._t_stop_ms if t_to_ms is None else t_to_ms
        keep = (t > t_from_ms) & (t <= t_to)
        counts = np.bincount(self.population_of(ids[keep]), minlength=len(self.populations))
        span_s = (t_to - t_from_ms) * 1e-3
        return {name: counts[k] / size / span_s for k, (name, _, size) in enumerate(self.populations)}

    def spikes_df(self):
        """pandas DataFrame: t_ms, id, population."""
        import pandas as pd

        t, ids = self.spikes()
        names = np.array([p[0] for p in self.populations])
        return pd.DataFrame({"t_ms": t, "id": ids, "population": names[self.population_of(ids)]})

    def rates_df(self):
        """pandas DataFrame of population rates (Hz), indexed by bin end (ms)."""
        import pandas as pd

        t, r = self.rates()
        return pd.DataFrame(r, index=pd.Index(t, name="t_ms"), columns=[p[0] for p in self.populations])

    def weights_df(self, projection: int | str):
        """pandas DataFrame of a plastic projection's mean and SD (unscaled j), indexed by t_ms."""
        import pandas as pd

        w = self.weights(projection)
        return pd.DataFrame({"mean": w["mean"], "std": w["std"]}, index=pd.Index(w["t_ms"], name="t_ms"))

    def final_weights_df(self, projection: int | str):
        """pandas DataFrame of every synapse of a projection: pre, post, j."""
        import pandas as pd

        pre, post, j = self.final_weights(projection)
        return pd.DataFrame({"pre": pre, "post": post, "j": j})

    def to_neo(self, populations: list[str] | None = None, t_stop_ms: float | None = None):
        """A neo Block with one Segment holding one SpikeTrain (ms) per neuron.

        Each train is annotated with ``neuron_id`` and ``population``; ``populations`` limits
        them to the named ones. t_start is 0, t_stop the simulated time.
        """
        import neo
        import quantities as pq

        t, ids = self.spikes()
        t_stop = self._t_stop_ms if t_stop_ms is None else t_stop_ms
        order = np.argsort(ids, kind="stable")
        t_sorted, ids_sorted = t[order], ids[order]
        block = neo.Block(name="pbn")
        seg = neo.Segment(name="run")
        block.segments.append(seg)
        for name, start, size in self.populations:
            if populations is not None and name not in populations:
                continue
            lo = np.searchsorted(ids_sorted, start)
            hi = np.searchsorted(ids_sorted, start + size)
            bounds = np.searchsorted(ids_sorted[lo:hi], np.arange(start, start + size + 1)) + lo
            for k in range(size):
                times = t_sorted[bounds[k] : bounds[k + 1]]
                train = neo.SpikeTrain(
                    times * pq.ms,
                    t_start=0.0 * pq.ms,
                    t_stop=t_stop * pq.ms,
                    name=f"{name}{k}",
                    neuron_id=start + k,
                    population=name,
                )
                seg.spiketrains.append(train)
        return block


# --------------------------------------------------------------------------------------------
# Simulation


class _Progress:
    """A one-line text progress bar on stderr (tqdm-like)."""

    def __init__(self, names: list[str]):
        self.names, self.started = names, time.monotonic()

    def __call__(self, t_ms: float, end_ms: float, rates: list[float]) -> None:
        elapsed = time.monotonic() - self.started
        frac = t_ms / end_ms if end_ms > 0 else 1.0
        left = elapsed / frac - elapsed if frac > 0 else float("nan")
        bar = "#" * int(20 * frac)
        rate_text = ", ".join(f"{n} {r:.1f} Hz" for n, r in zip(self.names, rates))
        sys.stderr.write(f"\r[{bar:<20}] {t_ms:.0f}/{end_ms:.0f} ms | {rate_text} | {left:.0f} s left  ")
        if t_ms >= end_ms:
            sys.stderr.write("\n")
        sys.stderr.flush()


_UNSET: Any = object()


class Simulation(_Results):
    """A running network.

    ``Simulation(config, threads=1, seed=None)`` builds it (config: a Config, a path, TOML text
    or a dict). ``run(ms)`` simulates ``ms`` more milliseconds (default: to the configured
    ``duration_ms``; a simulation may run on past it), with the GIL released; Ctrl-C raises
    KeyboardInterrupt and leaves the simulation at the end of the last slice, ready to continue.
    Results are identical for any ``threads`` and to ``pbn run`` of the same config.
    """

    def __init__(self, config: Any = None, *, threads: int = 1, seed: int | None = None):
        cfg = _config(config).copy()
        if seed is not None:
            cfg.set("seed", seed)
        self._init(_pbn.RawSimulation(cfg.to_toml(), threads), cfg)

    def _init(self, raw: Any, cfg: Config) -> None:
        self._raw, self._config = raw, cfg
        self._names = list(raw.projection_names)
        # The last rule of each projection, to switch it back on.
        self._rules = {n: self.plasticity(n) for n in self._names}

    @classmethod
    def restore(cls, path: str | os.PathLike, config: Any = None, *, threads: int = 1) -> "Simulation":
        """Continues from a checkpoint file written by ``checkpoint(path)`` (or by ``pbn run``,
        given its ``config``). Changed plasticity and input parameters come back with it; the
        recorded results start at the checkpoint's time."""
        text = None if config is None else _config(config).to_toml()
        raw = _pbn.RawSimulation.restore(os.fspath(path), text, threads)
        sim = cls.__new__(cls)
        sim._init(raw, Config(raw.config))
        return sim

    # -- running --------------------------------------------------------------------------------

    def run(
        self,
        ms: float | None = None,
        *,
        progress: bool | Callable[[float, float, list[float]], None] | None = None,
    ) -> "Simulation":
        """Simulates ``ms`` more milliseconds (None: up to the configured ``duration_ms``).

        ``progress``: True for a text bar on stderr, a callable ``f(t_ms, end_ms, rates_hz)``,
        or None for a bar when stderr is a terminal. Raises SimulationError on runaway activity
        or divergence, KeyboardInterrupt on Ctrl-C (state: the end of the last slice).
        """
        if progress is None:
            progress = sys.stderr.isatty()
        callback = _Progress([p[0] for p in self.populations]) if progress is True else (progress or None)
        self._raw.run(ms, 0.2, callback)
        return self

    @property
    def time_ms(self) -> float:
        """Simulated time so far (ms)."""
        return self._raw.time_ms

    @property
    def _t_stop_ms(self) -> float:
        return self.time_ms

    @property
    def config(self) -> Config:
        """The config in force now (the built one with the changes made since)."""
        return Config(self._raw.current_config)

    @property
    def populations(self) -> list[tuple[str, int, int]]:
        """[(name, first id, size)], in id order."""
        return self._raw.populations

    @property
    def projections(self) -> list[str]:
        """Projection names (``FROM_to_TO``), in config order."""
        return list(self._names)

    @property
    def plastic_projections(self) -> list[str]:
        """Projections with plastic weights (built with a rule; switched on or off)."""
        return self._raw.plastic_names

    # -- changes between runs ---------------------------------------------------------------

    def plasticity(self, projection: int | str) -> dict | None:
        """The rule in force on a projection (as in the config's [projections.plasticity]), or None."""
        rule = self._raw.plasticity(projection)
        return None if rule is None else json.loads(rule)

    def set_plasticity(
        self,
        projection: int | str,
        rule: dict | str | None = _UNSET,
        *,
        enabled: bool | None = None,
        **params: Any,
    ) -> None:
        """Changes a projection's plasticity from the next step on.

        ``set_plasticity(p, None)`` or ``enabled=False`` switches it off (weights keep their
        values); ``enabled=True`` switches the last rule back on; keyword parameters change
        parameters of the rule in force (``eta=1e-2``, ``target_rate_hz=5``, ``j_min=...``);
        ``rule`` replaces it (a dict as in the config, or a rule name plus keywords). Only
        projections built with a rule can learn (give it one in the config and switch it off).
        """
        name = self._names[projection] if isinstance(projection, int) and 0 <= projection < len(self._names) else projection
        if rule is None or enabled is False:
            if params:
                raise ValueError("parameters given while switching plasticity off")
            self._raw.set_plasticity(projection, None)
            return
        if isinstance(rule, dict):
            new = {**rule, **params}
        elif isinstance(rule, str):
            new = {"rule": rule, **params}
        else:
            base = self.plasticity(projection) or self._rules.get(name)
            if base is None:
                raise ValueError(
                    f"projection {name} has no rule to switch on: pass one, e.g. set_plasticity({name!r}, 'istdp', eta=...)"
                )
            new = {**base, **params}
        self._raw.set_plasticity(projection, json.dumps(new))
        self._rules[name] = self.plasticity(projection)

    def set_input(self, input: int | str, rate_hz: float | None = None, correlation: float | None = None) -> None:
        """Changes an input layer's rate (Hz) and/or correlation for every spike after now."""
        if rate_hz is None:
            cfg = self.config.to_dict()
            names = [x["name"] for x in cfg["inputs"]]
            index = input if isinstance(input, int) else names.index(input) if input in names else None
            if index is None or not 0 <= index < len(names):
                raise ValueError(f"there is no input {input!r}: the config has {', '.join(names)}")
            rate_hz = cfg["inputs"][index]["rate_hz"]
        self._raw.set_input(input, float(rate_hz), None if correlation is None else float(correlation))

    def checkpoint(self, path: str | os.PathLike) -> None:
        """Writes the complete state (with changed parameters and the config) to ``path``."""
        self._raw.checkpoint(os.fspath(path))

    # -- results ------------------------------------------------------------------------------

    def spikes(self) -> tuple[np.ndarray, np.ndarray]:
        """Recorded spikes: (times ms float64, neuron ids uint32), in time order."""
        return self._raw.spikes()

    def rates(self) -> tuple[np.ndarray, np.ndarray]:
        """Population rates: (bin ends ms (B,), rates Hz (B, P))."""
        return self._raw.rates()

    def weights(self, projection: int | str) -> dict[str, np.ndarray]:
        """Weight records of a plastic projection (name or index among plastic_projections):
        t_ms (R,), samples (R, K) unscaled j, pre/post ids (K,), mean and std (R,)."""
        return self._raw.weights(projection)

    def final_weights(self, projection: int | str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every synapse of a projection now: (pre uint32, post uint32, unscaled j float64), post-major."""
        return self._raw.synapses(projection)

    def neurons(self) -> dict[str, Any]:
        """Sampled neurons (``record.neuron_samples`` per population): ids (M,), t_ms (Q,) block
        ends, v_mv (Q, M) block-averaged voltage (mV), currents {source: (Q, M) mV/ms}."""
        return self._raw.neurons()

    def spike_counts(self) -> list[int]:
        """Spikes per population since the start (also those before a restore)."""
        return self._raw.spike_counts()

    def __repr__(self) -> str:
        return f"<pbn.Simulation t = {self.time_ms} ms, {sum(p[2] for p in self.populations)} neurons>"


# --------------------------------------------------------------------------------------------
# Run directories


class Run(_Results):
    """A run directory of ``pbn run`` (see ``load_run``)."""

    def __init__(self, data: dict):
        self._d = data
        self.path: str = data["path"]
        self.meta: dict = json.loads(data["meta"])
        self.config = Config(data["config"])
        self.status: str = data["status"]
        self.simulated_ms: float = data["simulated_ms"]

    @property
    def _t_stop_ms(self) -> float:
        return self.simulated_ms

    @property
    def populations(self) -> list[tuple[str, int, int]]:
        return self._d["populations"]

    @property
    def plastic_projections(self) -> list[str]:
        return self._d["plastic_names"]

    def _plastic(self, projection: int | str) -> str:
        names = self.plastic_projections
        if isinstance(projection, int):
            return names[projection]
        if projection not in names:
            raise ValueError(f"no plastic projection `{projection}` in {self.path}: it has {', '.join(names) or 'none'}")
        return projection

    def spikes(self) -> tuple[np.ndarray, np.ndarray]:
        return self._d["spike_times_ms"], self._d["spike_ids"]

    def rates(self) -> tuple[np.ndarray, np.ndarray]:
        return self._d["rates_t_ms"], self._d["rates_hz"]

    def weights(self, projection: int | str) -> dict[str, np.ndarray]:
        return self._d["weights"][self._plastic(projection)]

    def final_weights(self, projection: int | str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        name = self._plastic(projection)
        if name not in self._d["final_weights"]:
            raise ValueError(f"{self.path} has no final weights of {name}")
        return self._d["final_weights"][name]

    def neurons(self) -> dict[str, Any] | None:
        """Sampled neurons as ``Simulation.neurons()``, or None if none were recorded."""
        return self._d.get("neurons")

    def __repr__(self) -> str:
        return f"<pbn.Run {self.path} ({self.status}, {self.simulated_ms} ms)>"


def load_run(path: str | os.PathLike) -> Run:
    """Opens a run directory written by ``pbn run`` (OSError if it is not one)."""
    return Run(_pbn.load_run(os.fspath(path)))


def analyze(
    run: "Run | str | os.PathLike",
    *,
    t_from_ms: float | None = None,
    t_to_ms: float | None = None,
    window_ms: float = 250.0,
    rate_bin_ms: float = 100.0,
) -> dict:
    """Statistics of a run directory (a path or a ``Run``), as ``pbn analyze`` computes them: rates
    (Hz), spike-count covariances and correlations per population pair in windows of ``window_ms``,
    weight statistics, the balance of currents, ISI CVs, over the window (``t_from_ms``,
    ``t_to_ms``] (default: the second half of the run). Returns the dict ``pbn analyze`` writes to
    ``analysis.json`` (nothing is written). For a ``Simulation`` in memory, use its spikes and
    weights directly, or run it with ``pbn run`` to get a directory."""
    path = run.path if isinstance(run, Run) else os.fspath(run)
    return json.loads(_pbn.analyze_json(path, t_from_ms, t_to_ms, window_ms, rate_bin_ms))


# --------------------------------------------------------------------------------------------
# Theory


def _arrays(value: Any) -> Any:
    """JSON lists of numbers as NumPy arrays; {re, im} lists as complex arrays."""
    if isinstance(value, dict):
        return {k: _arrays(v) for k, v in value.items()}
    if isinstance(value, list):
        if value and all(isinstance(v, dict) and set(v) == {"re", "im"} for v in value):
            return np.array([complex(v["re"], v["im"]) for v in value])
        try:
            arr = np.array(value, dtype=float)
            if arr.dtype == float and (value == [] or arr.ndim >= 1):
                return arr
        except (TypeError, ValueError):
            pass
        return [_arrays(v) for v in value]
    return value


class Theory:
    """Mean-field predictions (``pbn theory``): ``raw`` is exactly the CLI's ``--json``.

    rates_hz (P,) balanced rates or None; covariance: dict count (P, P) spike-count covariance
    over ``window_ms``, correlation (P, P); fixed_points: list of dicts weights, rates_hz,
    det_w, jacobian_per_s, eigenvalues_per_s (complex, s⁻¹), stability; trajectory: dict
    t_s (T,), weights (T, blocks), rates_hz (T, P) of the weight ODE, or None.
    """

    def __init__(self, raw: dict):
        self.raw = raw
        self.rates_hz = None if raw.get("rates_hz") is None else np.array(raw["rates_hz"], dtype=float)
        cov = raw.get("covariance")
        self.covariance = None if cov is None else _arrays(cov)
        self.w = np.array(raw["w"], dtype=float)
        plast = raw.get("plasticity") or {}
        fps = plast.get("fixed_points") or {}
        self.fixed_points = [_arrays(p) for p in fps.get("points", [])]
        self.fixed_point_notes = fps.get("notes", [])
        traj = plast.get("trajectory")
        self.trajectory = None if traj is None else _arrays(traj)
        self.blocks = plast.get("blocks", [])

    def __getitem__(self, key: str) -> Any:
        return self.raw[key]

    def __repr__(self) -> str:
        return f"<pbn.Theory rates_hz={self.rates_hz}, {len(self.fixed_points)} fixed points>"


def theory(
    config: Any = None,
    *,
    integrate_ms: float | None = None,
    at_ms: float = 0.0,
    window_ms: float = 250.0,
    fano: float = 1.0,
    kappa: float = 1.0,
    finite_n: bool = False,
    correction: list[float] | None = None,
    samples: int | None = None,
) -> Theory:
    """``pbn theory`` for a config (or a Simulation's config in force): balanced rates,
    covariances, weight fixed points with stability and, with ``integrate_ms``, the weight ODE.
    Options as the CLI's flags (``--integrate-ms`` …)."""
    text = _config(config).to_toml()
    raw = _pbn.theory_json(
        text,
        float(at_ms),
        float(window_ms),
        float(fano),
        float(kappa),
        bool(finite_n),
        None if correction is None else [float(d) for d in correction],
        None if integrate_ms is None else float(integrate_ms),
        samples,
    )
    return Theory(json.loads(raw))
