"""Design-space sweeps: a validated spec, design points, batched evaluation, resumable results.

A sweep spec (YAML, see ``docs/sweeps.md``) names a unit and its base config, the axes to vary
(any config field), the workloads, the metrics to keep, constraints and the search method
(``grid``, ``random`` or ``optuna``). :func:`load_spec` validates all of it before anything
runs; :func:`run_sweep` evaluates the design points in batches on a local process pool (or a
Dask cluster) and writes each finished batch to the study's SQLite database
(:mod:`hwsim.store`), skipping (fingerprint, workload) pairs that are already there.

Units plug in by dotted path (:data:`UNIT_ADAPTERS`), resolved only when a spec names them, so
the core never imports a unit at import time. An adapter is a :class:`UnitAdapter`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import itertools
import json
import math
import random
import re
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hwsim.config import ConfigBase, ConfigError, load_mapping
from hwsim.workloads import Workload, load_network, load_topology, parse_gemm

__all__ = [
    "UNIT_ADAPTERS",
    "METHODS",
    "Metric",
    "UnitAdapter",
    "WorkloadSpec",
    "Constraint",
    "SynthesisSpec",
    "SweepSpec",
    "SweepSummary",
    "get_adapter",
    "parse_spec",
    "load_spec",
    "design_points",
    "point_config_values",
    "raw_fingerprint",
    "evaluate_batch",
    "run_sweep",
    "aggregate_point",
]

#: Unit name -> ``"module:attribute"`` of its :class:`UnitAdapter`, imported on first use.
UNIT_ADAPTERS: dict[str, str] = {
    "systolic": "hwsim.accelerators.systolic.sweep:ADAPTER",
    "engine": "hwsim.accelerators.engines.sweep:ADAPTER",
}
METHODS = ("grid", "random", "optuna")
SAMPLERS = ("nsga2", "tpe")
AGGREGATIONS = ("sum", "mean", "max", "same")
_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}
_SPEC_FIELDS = (
    "name",
    "description",
    "unit",
    "base",
    "axes",
    "workloads",
    "metrics",
    "constraints",
    "objectives",
    "method",
    "samples",
    "trials",
    "seed",
    "sampler",
    "population",
    "convention",
    "batch",
    "synthesis",
)
_SYNTH_FIELDS = ("target", "seeds", "nodsp")
#: ``area_source`` of a row whose area figures come from the energy/area table.
AREA_FROM_TABLE = "table"
#: Result-table columns an axis may not shadow.
RESERVED_COLUMNS = ("fingerprint", "workload", "status", "reason", "point")


# ---- unit adapters ------------------------------------------------------------------------
@dataclass(frozen=True)
class Metric:
    """A figure a unit reports per (design point, workload).

    ``name`` states its unit (``total_cycles``, ``area_mm2``); ``label`` is the axis label with
    the unit spelled out (``"area (mm²)"``); ``agg`` says how to combine a point's workloads:
    ``sum`` (cycles, energy, bytes), ``mean`` (ratios), ``max`` or ``same`` (a property of the
    design, e.g. area: identical on every workload).
    """

    name: str
    label: str
    agg: str = "sum"


@dataclass(frozen=True)
class UnitAdapter:
    """What the sweep engine needs to know about a unit.

    Attributes
    ----------
    unit : str
        The unit name used in specs.
    config_class : type[ConfigBase]
        Its config class.
    metrics : tuple[Metric, ...]
        Every metric :attr:`evaluate` returns.
    conventions : tuple[str, ...]
        Allowed ``convention`` values; the first is the default.
    prepare : Callable[[Workload, str], Any]
        Turns a workload into whatever :attr:`evaluate` wants (called once per worker).
    evaluate : Callable[[ConfigBase, Any, str], dict[str, float]]
        ``(config, prepared workload, convention) -> {metric: value}``.
    layers : Callable[[ConfigBase, Workload, str], tuple[list[str], Any]]
        ``(config, workload, convention) -> (layer names, per-layer utilization array)``
        for heat maps.
    default_objectives : tuple[str, ...]
        Metrics minimised by default (Pareto plots, optuna).
    synthesis : str, optional
        ``"module:function"`` of the unit's synthesis provider, imported only when a spec asks
        for ``synthesis`` (the core never imports RTL code otherwise). It is called as
        ``provider(config, target, seeds, nodsp)`` and returns ``{metric: value}`` for the
        target's :attr:`synthesis_metrics` plus ``area_source``, and may return ``area_mm2``
        to replace the table's area. It raises on failure.
    synthesis_metrics : Mapping[str, tuple[Metric, ...]]
        Synthesis target -> the metrics its provider returns (units in the names).
    synthesis_check : Callable[[ConfigBase, str], None], optional
        ``(config, target)``: raises :class:`ConfigError` when a config can never be
        synthesised into the sweep's figures (e.g. its energy table lacks the per-transistor
        area); called on the spec's configs before any point runs.
    """

    unit: str
    config_class: type[ConfigBase]
    metrics: tuple[Metric, ...]
    conventions: tuple[str, ...]
    prepare: Callable[[Workload, str], Any]
    evaluate: Callable[[ConfigBase, Any, str], dict[str, float]]
    layers: Callable[[ConfigBase, Workload, str], tuple[list[str], Any]]
    default_objectives: tuple[str, ...] = ("total_cycles", "area_mm2")
    synthesis: str | None = None
    synthesis_metrics: Mapping[str, tuple[Metric, ...]] = field(default_factory=dict)
    synthesis_check: Callable[[ConfigBase, str], None] | None = None

    def metric(self, name: str) -> Metric:
        for m in self.metrics:
            if m.name == name:
                return m
        for metrics in self.synthesis_metrics.values():
            for m in metrics:
                if m.name == name:
                    return m
        if name == "area_source":
            return AREA_SOURCE
        raise KeyError(name)

    @property
    def metric_names(self) -> list[str]:
        return [m.name for m in self.metrics]


#: Where a row's area figures come from: ``table``, ``synth-generic`` or ``synth-ecp5``.
AREA_SOURCE = Metric("area_source", "area source (table or synth-<target>)", "same")

_ADAPTER_CACHE: dict[str, UnitAdapter] = {}
_PROVIDER_CACHE: dict[str, Callable[..., dict[str, Any]]] = {}


def get_synthesis_provider(path: str) -> Callable[..., dict[str, Any]]:
    """The synthesis provider named ``"module:function"``, imported on first use.

    A missing module (e.g. the RTL extras are not installed) is a one-line
    :class:`ConfigError`.
    """
    if path not in _PROVIDER_CACHE:
        module_name, _, attr = path.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise ConfigError(f"synthesis needs {module_name}, which does not import: {exc}") \
                from None
        _PROVIDER_CACHE[path] = getattr(module, attr)
    return _PROVIDER_CACHE[path]


def get_adapter(unit: str) -> UnitAdapter:
    """The :class:`UnitAdapter` of ``unit``, imported lazily from :data:`UNIT_ADAPTERS`."""
    if unit not in UNIT_ADAPTERS:
        raise ConfigError(f"unit must be one of {', '.join(UNIT_ADAPTERS)}, got {unit!r}")
    if unit not in _ADAPTER_CACHE:
        module_name, _, attr = UNIT_ADAPTERS[unit].partition(":")
        _ADAPTER_CACHE[unit] = getattr(importlib.import_module(module_name), attr)
    return _ADAPTER_CACHE[unit]


# ---- spec -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class WorkloadSpec:
    """One workload entry of a spec: ``kind`` is gemm, topology or network."""

    name: str
    kind: str
    value: Any
    fmt: str = "auto"

    def load(self) -> Workload:
        """The :class:`~hwsim.workloads.Workload` this entry names."""
        if self.kind == "gemm":
            m, n, k = self.value
            return Workload.of(self.name, [parse_gemm(f"{m},{n},{k}", name=self.name)])
        if self.kind == "topology":
            return load_topology(self.value, self.fmt, name=self.name)
        return Workload.of(self.name, load_network(self.value).layers)


@dataclass(frozen=True)
class Constraint:
    """``metric op value``, e.g. ``area_mm2 <= 4``; a row that fails it is infeasible."""

    metric: str
    op: str
    value: float

    def holds(self, metrics: Mapping[str, float]) -> bool:
        return bool(_OPS[self.op](metrics[self.metric], self.value))

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {self.value:g}"


@dataclass(frozen=True)
class SynthesisSpec:
    """The spec's ``synthesis`` entry: synthesise each design point once with these settings."""

    target: str
    seeds: int = 1
    nodsp: bool = False

    @property
    def area_source(self) -> str:
        return f"synth-{self.target}"


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep spec (see ``docs/sweeps.md``).

    ``axes`` maps an axis key (a config field, or several joined by commas for zipped axes)
    to its expanded list of values (tuples for zipped axes). ``raw`` is the mapping as read,
    with topology paths made absolute; ``spec_hash`` hashes it.
    """

    name: str
    unit: str
    base: dict[str, Any]
    axes: dict[str, list[Any]]
    workloads: tuple[WorkloadSpec, ...]
    metrics: tuple[str, ...]
    constraints: tuple[Constraint, ...]
    objectives: tuple[tuple[str, str], ...]
    method: str
    samples: int | None
    trials: int | None
    seed: int
    sampler: str
    population: int
    convention: str
    batch: int | None
    raw: dict[str, Any] = field(repr=False)
    spec_hash: str = ""
    synthesis: SynthesisSpec | None = None
    #: sha256 of every input file the spec names (topologies, energy-table paths), by path.
    input_hashes: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def axis_fields(self) -> list[str]:
        """Config fields varied by the axes, in order (zipped axes contribute several)."""
        return [name for key in self.axes for name in key.split(",")]

    @property
    def grid_size(self) -> int:
        """Number of points of the full grid (product of the axis lengths)."""
        return math.prod(len(v) for v in self.axes.values())

    @property
    def adapter(self) -> UnitAdapter:
        return get_adapter(self.unit)

    def metric_info(self) -> dict[str, dict[str, str]]:
        """``{metric: {label, agg}}`` of the kept metrics (stored in the results' meta)."""
        adapter = self.adapter
        return {
            name: {"label": adapter.metric(name).label, "agg": adapter.metric(name).agg}
            for name in self.metrics
        }


def _err(source: str, where: str, message: str) -> ConfigError:
    return ConfigError(f"{source}: {where}: {message}")


def _field_types(config_class: type[ConfigBase]) -> dict[str, Any]:
    hints = typing.get_type_hints(config_class)
    out = {}
    for f in dataclasses.fields(config_class):
        hint = hints[f.name]
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        out[f.name] = args[0] if args else hint
    return out


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_axis_value(f: dataclasses.Field, kind: Any, value: Any, where: str,
                      source: str) -> None:
    """One axis value against its config field's type, choices and range (one-line error).

    Integers are fine for float fields; floats (``4.0``) are not integers. Cross-field rules
    (the config's ``_validate``) are left to the points: they make infeasible rows.
    """
    meta = f.metadata
    choices = meta.get("choices")
    low, high = meta.get("low"), meta.get("high")
    if choices:
        allowed = "one of " + ", ".join(str(c) for c in choices)
    elif kind is bool:
        allowed = "true or false"
    else:
        noun = {int: "integers", float: "numbers", str: "strings"}.get(kind, "values")
        bounds = (f" in [{low:g}, {high:g}]" if low is not None and high is not None
                  else f" >= {low:g}" if low is not None
                  else f" <= {high:g}" if high is not None else "")
        allowed = noun + bounds
    bad = False
    if kind is bool:
        bad = not isinstance(value, bool)
    elif kind is int:
        bad = isinstance(value, bool) or not isinstance(value, int)
    elif kind is float:
        bad = not _is_number(value) or not math.isfinite(value)
    elif kind is str:
        bad = not isinstance(value, str)
    if not bad and choices and value not in choices:
        bad = True
    if not bad and _is_number(value) and (
            (low is not None and value < low) or (high is not None and value > high)):
        bad = True
    if bad:
        raise _err(source, where, f"values must be {allowed}, got {value!r}")


def _check_axis_values(cls: type[ConfigBase], types_: Mapping[str, Any], key: str,
                       values: Sequence[Any], source: str) -> None:
    fields_ = {f.name: f for f in dataclasses.fields(cls)}
    names = key.split(",")
    for value in values:
        parts = [value] if len(names) == 1 else list(value)
        for name, part in zip(names, parts, strict=True):
            _check_axis_value(fields_[name], types_[name], part, f"axes.{key}" if len(names) == 1
                              else f"axes.{key}.{name}", source)


def _expand_axis(key: str, spec: Any, kind: Any, source: str) -> list[Any]:
    where = f"axes.{key}"
    if isinstance(spec, list):
        values = list(spec)
    elif isinstance(spec, Mapping):
        allowed = {"start", "stop", "step", "num", "log"}
        unknown = sorted(set(map(str, spec)) - allowed)
        if unknown:
            raise _err(
                source, where, f"unknown range key '{unknown[0]}'; allowed: start, stop, step, "
                "num, log"
            )
        for needed in ("start", "stop"):
            if needed not in spec:
                raise _err(source, where, f"a range needs '{needed}'")
        start, stop = spec["start"], spec["stop"]
        if not (_is_number(start) and _is_number(stop)):
            raise _err(source, where, f"start and stop must be numbers, got {start!r}, {stop!r}")
        log = spec.get("log", False)
        if not isinstance(log, bool):
            raise _err(source, where, f"log must be true or false, got {log!r}")
        if ("step" in spec) == ("num" in spec):
            raise _err(source, where, "a range needs exactly one of 'step' or 'num'")
        if "step" in spec:
            step = spec["step"]
            if log:
                raise _err(source, where, "a log range takes 'num', not 'step'")
            if not _is_number(step) or step <= 0:
                raise _err(source, where, f"step must be a number > 0, got {step!r}")
            count = int(math.floor((stop - start) / step + 1e-9)) + 1
            if count > 1_000_000:
                raise _err(source, where, f"range has {count} values (at most 1,000,000)")
            values = [start + i * step for i in range(max(count, 0))]
        else:
            num = spec["num"]
            if isinstance(num, bool) or not isinstance(num, int) or num < 1:
                raise _err(source, where, f"num must be an integer >= 1, got {num!r}")
            if log:
                if start <= 0 or stop <= 0:
                    raise _err(source, where, "a log range needs start > 0 and stop > 0")
                ratio = stop / start
                values = [
                    start * ratio ** (i / (num - 1)) if num > 1 else start for i in range(num)
                ]
            else:
                values = [
                    start + (stop - start) * i / (num - 1) if num > 1 else start
                    for i in range(num)
                ]
        if kind is int:
            values = [int(round(v)) for v in values]
        elif kind is float:
            values = [float(v) for v in values]
    else:
        raise _err(
            source, where, "must be a list of values or a range {start, stop, step} / "
            "{start, stop, num, log}"
        )
    if not values:
        raise _err(source, where, "is empty; give at least one value")
    unique: list[Any] = []
    for v in values:
        if v not in unique:
            unique.append(v)
    return unique


def _parse_workloads(data: Any, source: str, base_dir: Path) -> tuple[WorkloadSpec, ...]:
    if not isinstance(data, list) or not data:
        raise _err(source, "workloads", "must be a non-empty list of {gemm|topology|network: ...}")
    out: list[WorkloadSpec] = []
    for i, entry in enumerate(data):
        where = f"workloads[{i}]"
        if not isinstance(entry, Mapping):
            raise _err(
                source, where, f"must be a mapping like {{network: resnet50}}, got {entry!r}"
            )
        unknown = sorted(set(map(str, entry)) - {"gemm", "topology", "network", "name", "format"})
        if unknown:
            raise _err(
                source, where, f"unknown key '{unknown[0]}'; allowed: gemm, topology, network, "
                "name, format"
            )
        kinds = [k for k in ("gemm", "topology", "network") if k in entry]
        if len(kinds) != 1:
            raise _err(source, where, "needs exactly one of gemm, topology, network")
        kind = kinds[0]
        value = entry[kind]
        name = entry.get("name")
        if name is not None and not isinstance(name, str):
            raise _err(source, where, f"name must be a string, got {name!r}")
        fmt = entry.get("format", "auto")
        try:
            if kind == "gemm":
                if (
                    not isinstance(value, list)
                    or len(value) != 3
                    or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1
                               for v in value)
                ):
                    raise ConfigError(f"gemm must be [M, N, K] with integers >= 1, got {value!r}")
                value = [int(v) for v in value]
                name = name or f"gemm_{value[0]}x{value[1]}x{value[2]}"
                spec = WorkloadSpec(name, kind, value)
            elif kind == "topology":
                if not isinstance(value, str):
                    raise ConfigError(f"topology must be a file path, got {value!r}")
                path = Path(value)
                if not path.is_absolute():
                    path = (base_dir / path).resolve()
                spec = WorkloadSpec(name or path.stem, kind, str(path), fmt)
            else:
                if not isinstance(value, str):
                    raise ConfigError(f"network must be a name, got {value!r}")
                spec = WorkloadSpec(name or load_network(value).name, kind, value)
            spec.load()  # every workload must load before any point runs
        except ConfigError as exc:
            raise _err(source, where, str(exc)) from None
        if any(w.name == spec.name for w in out):
            raise _err(source, where, f"duplicate workload name '{spec.name}'; add name: ...")
        out.append(spec)
    return tuple(out)


_CONSTRAINT_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=|==|!=|<|>)\s*(\S+)\s*$")


def _parse_constraints(data: Any, metrics: list[str], source: str) -> tuple[Constraint, ...]:
    if data is None:
        return ()
    if isinstance(data, str):
        data = [data]
    if not isinstance(data, list):
        raise _err(source, "constraints", "must be a list like ['area_mm2 <= 4']")
    out = []
    for i, text in enumerate(data):
        where = f"constraints[{i}]"
        match = _CONSTRAINT_RE.match(text) if isinstance(text, str) else None
        if not match:
            raise _err(source, where, f"must read 'METRIC OP NUMBER' (op: <=, <, >=, >, ==, !=), "
                       f"got {text!r}")
        metric, op, number = match.groups()
        if metric not in metrics:
            raise _err(source, where, f"unknown metric '{metric}'; allowed: {', '.join(metrics)}")
        try:
            value = float(number)
        except ValueError:
            raise _err(source, where, f"bound must be a number, got '{number}'") from None
        out.append(Constraint(metric, op, value))
    return tuple(out)


def _parse_objectives(
    data: Any, adapter: UnitAdapter, source: str, allowed: Sequence[str] | None = None
) -> tuple[tuple[str, str], ...]:
    if data is None:
        return tuple((m, "minimize") for m in adapter.default_objectives)
    pairs: list[tuple[str, Any]]
    if isinstance(data, Mapping):
        pairs = [(str(k), v) for k, v in data.items()]
    elif isinstance(data, list):
        pairs = [(str(k), "minimize") for k in data]
    else:
        raise _err(source, "objectives", "must be a mapping {metric: min|max} or a list of metrics")
    if not pairs:
        raise _err(source, "objectives", "needs at least one metric")
    out = []
    allowed = list(allowed) if allowed is not None else adapter.metric_names
    for metric, direction in pairs:
        if metric not in allowed:
            raise _err(source, f"objectives.{metric}",
                       f"unknown metric; allowed: {', '.join(allowed)}")
        norm = {"min": "minimize", "minimize": "minimize", "minimise": "minimize",
                "max": "maximize", "maximize": "maximize", "maximise": "maximize"}.get(
                    str(direction).lower())
        if norm is None:
            raise _err(source, f"objectives.{metric}", f"must be min or max, got {direction!r}")
        out.append((metric, norm))
    return tuple(out)


def _int_field(data: Mapping[str, Any], key: str, source: str, low: int,
               default: int | None) -> int | None:
    value = data.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise _err(source, key, f"must be an integer >= {low}, got {value!r}")
    return value


def _parse_synthesis(data: Any, adapter: UnitAdapter, source: str) -> SynthesisSpec | None:
    """The ``synthesis: {target, seeds, nodsp}`` entry, validated (``None`` when absent)."""
    if data is None:
        return None
    if adapter.synthesis is None or not adapter.synthesis_metrics:
        raise _err(source, "synthesis", f"unit {adapter.unit} has no synthesis provider")
    if not isinstance(data, Mapping):
        raise _err(source, "synthesis", "must be a mapping like {target: generic, seeds: 1, "
                   "nodsp: false}")
    unknown = [str(k) for k in data if str(k) not in _SYNTH_FIELDS]
    if unknown:
        raise _err(source, "synthesis", f"unknown key '{unknown[0]}'; allowed: "
                   f"{', '.join(_SYNTH_FIELDS)}")
    targets = list(adapter.synthesis_metrics)
    if "target" not in data:
        raise _err(source, "synthesis.target", f"is required; one of {', '.join(targets)}")
    target = data["target"]
    if target not in targets:
        raise _err(source, "synthesis.target",
                   f"must be one of {', '.join(targets)}, got {target!r}")
    seeds = data.get("seeds", 1)
    if isinstance(seeds, bool) or not isinstance(seeds, int) or not 1 <= seeds <= 64:
        raise _err(source, "synthesis.seeds", f"must be an integer in [1, 64], got {seeds!r}")
    nodsp = data.get("nodsp", False)
    if not isinstance(nodsp, bool):
        raise _err(source, "synthesis.nodsp", f"must be true or false, got {nodsp!r}")
    if target != "ecp5":
        if seeds != 1:
            raise _err(source, "synthesis.seeds", f"only applies to target ecp5, not {target}")
        if nodsp:
            raise _err(source, "synthesis.nodsp", f"only applies to target ecp5, not {target}")
    return SynthesisSpec(target=target, seeds=seeds, nodsp=nodsp)


def _check_synthesis(
    adapter: UnitAdapter, synthesis: SynthesisSpec, base: Mapping[str, Any],
    axes: Mapping[str, list[Any]], source: str,
) -> None:
    """Run the adapter's synthesis check on the base config and on each axis value over it.

    Configs the unit rejects are skipped (they become infeasible rows, as without synthesis).
    """
    if adapter.synthesis_check is None:
        return
    cls = adapter.config_class
    variants: list[dict[str, Any]] = [dict(base)]
    for key, values in axes.items():
        names = key.split(",")
        for value in values:
            point = {names[0]: value} if len(names) == 1 else dict(zip(names, value, strict=True))
            variants.append({**base, **point})
    seen: set[str] = set()
    for values in variants:
        try:
            config = cls.from_dict(values)
        except ConfigError:
            continue
        fp = config.fingerprint()
        if fp in seen:
            continue
        seen.add(fp)
        try:
            adapter.synthesis_check(config, synthesis.target)
        except ConfigError as exc:
            raise _err(source, "synthesis", str(exc)) from None


def spec_hash(raw: Mapping[str, Any], inputs: Mapping[str, str] | None = None) -> str:
    """A stable hash (16 hex digits) of a spec's canonical JSON and its input files' hashes.

    ``inputs`` maps each file the spec names (topology, energy-table path) to the sha256 of
    its bytes, so editing a file in place makes a different spec (a resume is refused).
    """
    data: Any = raw if not inputs else {"spec": raw, "inputs": dict(inputs)}
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _input_hashes(workloads: Sequence[WorkloadSpec], base: Mapping[str, Any],
                  axes: Mapping[str, list[Any]], source: str) -> dict[str, str]:
    """sha256 of the bytes of every topology file and energy-table file the spec names."""
    out: dict[str, str] = {}
    for w in workloads:
        if w.kind == "topology":
            path = Path(w.value)
            try:
                out[f"topology:{path}"] = _file_sha256(path)
            except OSError as exc:
                raise _err(source, f"workloads.{w.name}", f"cannot read topology {path} "
                           f"({exc.strerror})") from None
    tables: list[Any] = [base.get("energy_table")]
    for key, values in axes.items():
        names = key.split(",")
        if "energy_table" in names:
            i = names.index("energy_table")
            tables += [v if len(names) == 1 else v[i] for v in values]
    for table in tables:
        if isinstance(table, str) and Path(table).is_file():
            out[f"energy_table:{Path(table).resolve()}"] = _file_sha256(Path(table))
    return out


def parse_spec(
    data: Mapping[str, Any], *, source: str = "spec", base_dir: str | Path = ".",
    name: str | None = None,
) -> SweepSpec:
    """Validate a sweep spec mapping; every problem is a one-line :class:`ConfigError`.

    ``base_dir`` resolves relative topology paths; ``name`` is the default study name.
    """
    base_dir = Path(base_dir)
    unknown = [k for k in data if str(k) not in _SPEC_FIELDS]
    if unknown:
        raise ConfigError(
            f"{source}: unknown field '{unknown[0]}'; allowed: {', '.join(_SPEC_FIELDS)}"
        )
    if "unit" not in data:
        raise _err(source, "unit", f"is required; one of {', '.join(UNIT_ADAPTERS)}")
    unit = data["unit"]
    if unit not in UNIT_ADAPTERS:
        raise _err(source, "unit", f"must be one of {', '.join(UNIT_ADAPTERS)}, got {unit!r}")
    adapter = get_adapter(unit)
    cls = adapter.config_class
    types_ = _field_types(cls)
    fields = list(types_)

    base = data.get("base") or {}
    if not isinstance(base, Mapping):
        raise _err(source, "base", "must be a mapping of config field: value")
    base = {str(k).replace("-", "_"): v for k, v in base.items()}
    for key in base:
        if key not in fields:
            raise _err(source, f"base.{key}", f"unknown field for {unit}; allowed: "
                       f"{', '.join(fields)}")
    try:
        cls.from_dict(base)
    except ConfigError as exc:
        raise _err(source, "base", str(exc)) from None

    axes_data = data.get("axes")
    if not isinstance(axes_data, Mapping) or not axes_data:
        raise _err(source, "axes", "must be a non-empty mapping of config field: values")
    axes: dict[str, list[Any]] = {}
    seen: set[str] = set()
    for raw_key, axis in axes_data.items():
        key = str(raw_key).replace("-", "_").replace(" ", "")
        names = key.split(",")
        for n in names:
            if n not in fields:
                raise _err(source, f"axes.{raw_key}",
                           f"unknown field '{n}' for {unit}; allowed: {', '.join(fields)}")
            if n in seen:
                raise _err(source, f"axes.{raw_key}", f"field '{n}' appears on two axes")
            seen.add(n)
        if len(names) == 1:
            axes[key] = _expand_axis(key, axis, types_[key], source)
        else:
            if not isinstance(axis, list) or not axis:
                raise _err(source, f"axes.{raw_key}", "a zipped axis needs a non-empty list of "
                           f"[{', '.join(names)}] tuples")
            tuples = []
            for entry in axis:
                if not isinstance(entry, list) or len(entry) != len(names):
                    raise _err(source, f"axes.{raw_key}", f"each entry must list {len(names)} "
                               f"values ({', '.join(names)}), got {entry!r}")
                tuples.append(tuple(entry))
            axes[key] = list(dict.fromkeys(tuples))
        _check_axis_values(cls, types_, key, axes[key], source)

    workloads = _parse_workloads(data.get("workloads"), source, base_dir)
    synthesis = _parse_synthesis(data.get("synthesis"), adapter, source)

    all_metrics = adapter.metric_names
    synth_metrics: list[str] = []
    if synthesis is not None:
        synth_metrics = [m.name for m in adapter.synthesis_metrics[synthesis.target]]
        all_metrics = all_metrics + [m for m in synth_metrics if m not in all_metrics]
    metrics_data = data.get("metrics")
    if metrics_data is None:
        metrics = list(all_metrics)
    else:
        if not isinstance(metrics_data, list) or not metrics_data:
            raise _err(source, "metrics", "must be a non-empty list of metric names")
        metrics = []
        allowed = all_metrics + (["area_source"] if synthesis is not None else [])
        for m in metrics_data:
            if m not in allowed:
                raise _err(source, "metrics", f"unknown metric {m!r}; allowed: "
                           f"{', '.join(allowed)}")
            if m not in metrics:
                metrics.append(m)
    constraints = _parse_constraints(data.get("constraints"), all_metrics, source)
    objectives = _parse_objectives(data.get("objectives"), adapter, source, all_metrics)
    # synthesis figures (and the area they may replace, and its source) are always kept
    kept = synth_metrics + ["area_mm2", "area_source"] if synthesis is not None else []
    for needed in [c.metric for c in constraints] + [o for o, _ in objectives] + kept:
        if needed not in metrics:
            metrics.append(needed)

    method = data.get("method", "grid")
    if method not in METHODS:
        raise _err(source, "method", f"must be one of {', '.join(METHODS)}, got {method!r}")
    seed = _int_field(data, "seed", source, 0, 0)
    samples = _int_field(data, "samples", source, 1, None)
    trials = _int_field(data, "trials", source, 1, None)
    population = _int_field(data, "population", source, 2, 16)
    batch = _int_field(data, "batch", source, 1, None)
    if method == "random" and samples is None:
        raise _err(source, "samples", "method random needs samples: N")
    if method == "optuna" and trials is None:
        raise _err(source, "trials", "method optuna needs trials: N")
    if method != "random" and "samples" in data:
        raise _err(source, "samples", f"only applies to method random, not {method}")
    if method != "optuna":
        for key in ("trials", "sampler", "population"):
            if key in data:
                raise _err(source, key, f"only applies to method optuna, not {method}")
    sampler = data.get("sampler", "nsga2")
    if sampler not in SAMPLERS:
        raise _err(source, "sampler", f"must be one of {', '.join(SAMPLERS)}, got {sampler!r}")
    convention = data.get("convention", adapter.conventions[0])
    if convention not in adapter.conventions:
        raise _err(source, "convention",
                   f"must be one of {', '.join(adapter.conventions)}, got {convention!r}")
    study_name = data.get("name", name or "sweep")
    if not isinstance(study_name, str) or not study_name:
        raise _err(source, "name", f"must be a non-empty string, got {study_name!r}")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise _err(source, "description", "must be a string")

    raw = json.loads(json.dumps(dict(data), default=str))
    raw["workloads"] = [
        {"name": w.name, w.kind: w.value, **({"format": w.fmt} if w.kind == "topology" else {})}
        for w in workloads
    ]
    raw.pop("description", None)
    spec = SweepSpec(
        name=study_name,
        unit=unit,
        base=base,
        axes=axes,
        workloads=workloads,
        metrics=tuple(metrics),
        constraints=constraints,
        objectives=objectives,
        method=method,
        samples=samples,
        trials=trials,
        seed=seed or 0,
        sampler=sampler,
        population=population or 16,
        convention=convention,
        batch=batch,
        raw=raw,
        synthesis=synthesis,
    )
    inputs = _input_hashes(workloads, base, axes, source)
    spec = dataclasses.replace(spec, spec_hash=spec_hash(raw, inputs), input_hashes=inputs)
    if synthesis is not None:
        get_synthesis_provider(adapter.synthesis or "")  # importable before any point runs
        _check_synthesis(adapter, synthesis, base, axes, source)
    if spec.method == "grid" and spec.grid_size > 10_000_000:
        raise _err(source, "axes", f"the grid has {spec.grid_size:,} points; use method random "
                   "or optuna")
    return spec


def load_spec(path: str | Path) -> SweepSpec:
    """Read and validate a sweep spec file (YAML or JSON); the study name defaults to its stem."""
    path = Path(path)
    data = load_mapping(path)
    return parse_spec(data, source=str(path), base_dir=path.parent, name=path.stem)


# ---- design points --------------------------------------------------------------------------
def _point_from_index(spec: SweepSpec, index: int) -> dict[str, Any]:
    point: dict[str, Any] = {}
    for key, values in reversed(list(spec.axes.items())):
        index, i = divmod(index, len(values))
        value = values[i]
        names = key.split(",")
        if len(names) == 1:
            point[key] = value
        else:
            point.update(zip(names, value, strict=True))
    return {n: point[n] for n in spec.axis_fields}


def design_points(spec: SweepSpec) -> Iterator[dict[str, Any]]:
    """Design points of a ``grid`` or ``random`` spec as ``{axis field: value}`` dicts.

    ``grid`` is the full product in axis order (last axis fastest). ``random`` draws
    ``samples`` distinct grid points (all of them if the grid is smaller) with
    :class:`random.Random` seeded by ``seed``, so a seed always gives the same points.
    """
    if spec.method == "grid":
        for index in range(spec.grid_size):
            yield _point_from_index(spec, index)
    elif spec.method == "random":
        total = spec.grid_size
        count = min(spec.samples or 0, total)
        for index in random.Random(spec.seed).sample(range(total), count):
            yield _point_from_index(spec, index)
    else:
        raise ValueError("optuna points come from the study, not from design_points()")


def point_config_values(spec: SweepSpec, point: Mapping[str, Any]) -> dict[str, Any]:
    """Config field values of a design point: base config overridden by the axis values."""
    return {**spec.base, **point}


def raw_fingerprint(config_class: type[ConfigBase], values: Mapping[str, Any]) -> str:
    """The fingerprint the config built from ``values`` has (:meth:`ConfigBase.fingerprint`).

    Computed without validating, so infeasible points get a stable key too: defaults overlaid
    with ``values``, integers in float fields made floats (as the config does).
    """
    types_ = _field_types(config_class)
    full = {f.name: f.default for f in dataclasses.fields(config_class)}
    full.update(values)
    for key, kind in types_.items():
        if kind is float and _is_number(full.get(key)):
            full[key] = float(full[key])
    canonical = json.dumps(
        {"unit": config_class.unit_name, **full}, sort_keys=True, separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


# ---- evaluation (runs in workers) ----------------------------------------------------------
@dataclass(frozen=True)
class Job:
    """Everything a worker needs, sent once per worker: unit, base, workloads, metrics."""

    unit: str
    base: dict[str, Any]
    convention: str
    workloads: tuple[Workload, ...]
    metrics: tuple[str, ...]
    constraints: tuple[Constraint, ...]
    key: str
    synthesis: SynthesisSpec | None = None
    provider: str | None = None
    synthesis_metrics: tuple[str, ...] = ()

    @classmethod
    def of(cls, spec: SweepSpec) -> Job:
        synth = spec.synthesis
        adapter = spec.adapter
        return cls(
            unit=spec.unit,
            base=dict(spec.base),
            convention=spec.convention,
            workloads=tuple(w.load() for w in spec.workloads),
            metrics=spec.metrics,
            constraints=spec.constraints,
            key=spec.spec_hash,
            synthesis=synth,
            provider=adapter.synthesis if synth else None,
            synthesis_metrics=tuple(m.name for m in adapter.synthesis_metrics[synth.target])
            if synth else (),
        )


_PREPARED: dict[str, list[tuple[str, Any]]] = {}
_WORKER_JOB: Job | None = None


def _prepared(job: Job) -> list[tuple[str, Any]]:
    """Workloads prepared once per process (cached by the spec hash)."""
    if job.key not in _PREPARED:
        adapter = get_adapter(job.unit)
        _PREPARED[job.key] = [(w.name, adapter.prepare(w, job.convention)) for w in job.workloads]
    return _PREPARED[job.key]


def _one_line(exc: BaseException) -> str:
    """An exception as one line: its first line, and its last when there are several."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    prefix = "" if isinstance(exc, ConfigError) else f"{type(exc).__name__}: "
    if not lines:
        return type(exc).__name__
    return prefix + (lines[0] if len(lines) == 1 else f"{lines[0]} ... {lines[-1]}")


def synthesise_point(job: Job, config: ConfigBase, fingerprint: str) -> dict[str, Any]:
    """Synthesise one design point with the job's provider; never raises.

    Returns the record stored in the study's ``synthesis`` table: the key (``fingerprint``,
    ``target``, ``seeds``, ``nodsp``), ``status`` (``ok`` or ``failed``), ``reason`` (one
    line), ``metrics`` and ``cache`` (false for tool failures, which may be transient, so a
    rerun tries again; config errors and successes are cached).
    """
    syn = job.synthesis
    assert syn is not None and job.provider is not None
    record: dict[str, Any] = {"fingerprint": fingerprint, "target": syn.target,
                              "seeds": syn.seeds, "nodsp": syn.nodsp}
    try:
        provider = get_synthesis_provider(job.provider)
        metrics = dict(provider(config, syn.target, syn.seeds, syn.nodsp))
    except ConfigError as exc:
        return {**record, "status": "failed", "reason": _one_line(exc), "metrics": None,
                "cache": True}
    except Exception as exc:  # noqa: BLE001  # a tool failure marks the point, not the sweep
        return {**record, "status": "failed", "reason": _one_line(exc), "metrics": None,
                "cache": False}
    missing = [m for m in (*job.synthesis_metrics, "area_source") if m not in metrics]
    if missing:
        return {**record, "status": "failed", "metrics": None, "cache": False,
                "reason": f"synthesis provider returned no {', '.join(missing)}"}
    return {**record, "status": "ok", "reason": None, "metrics": metrics, "cache": True}


def evaluate_batch(
    job: Job, points: Sequence[Mapping[str, Any]], skip: Sequence[Sequence[str]] | None = None,
    synthesized: Sequence[Mapping[str, Any] | None] | None = None,
) -> list[dict[str, Any]]:
    """Evaluate design points on every workload; one row dict per (point, workload).

    A config that does not validate, or a row that fails a constraint, becomes an
    ``infeasible`` row with the reason; nothing raises. ``skip[i]`` lists workloads of point
    ``i`` already stored (resume).

    When the job asks for synthesis, each valid point is synthesised once (unless
    ``synthesized[i]`` holds its cached record) and the figures join every row of the point;
    a failed synthesis makes the point's rows infeasible with the reason. A new record travels
    back on the point's first row under the key ``_synthesis`` (the store keeps it); workers
    write nothing themselves.
    """
    adapter = get_adapter(job.unit)
    prepared = _prepared(job)
    cls = adapter.config_class
    rows: list[dict[str, Any]] = []
    for i, point in enumerate(points):
        done = set(skip[i]) if skip else set()
        values = {**job.base, **point}
        try:
            config = cls.from_dict(values)
        except ConfigError as exc:
            fp = raw_fingerprint(cls, values)
            for name, _ in prepared:
                if name not in done:
                    rows.append({"fingerprint": fp, "workload": name, **point,
                                 "status": "infeasible", "reason": str(exc)})
            continue
        fp = config.fingerprint()
        synth: Mapping[str, Any] | None = None
        new_record: dict[str, Any] | None = None
        if job.synthesis is not None:
            synth = synthesized[i] if synthesized else None
            if synth is None:
                synth = new_record = synthesise_point(job, config, fp)
        for name, work in prepared:
            if name in done:
                continue
            metrics = adapter.evaluate(config, work, job.convention)
            if synth is not None and synth["status"] == "ok":
                metrics = {**metrics, **synth["metrics"]}
                failed = [str(c) for c in job.constraints if not c.holds(metrics)]
                reason = ("constraint failed: " + ", ".join(failed)) if failed else None
            elif synth is not None:
                metrics = {**metrics, **dict.fromkeys(job.synthesis_metrics),
                           "area_source": AREA_FROM_TABLE}
                failed = ["synthesis"]
                reason = f"synthesis failed: {synth['reason']}"
            else:
                failed = [str(c) for c in job.constraints if not c.holds(metrics)]
                reason = ("constraint failed: " + ", ".join(failed)) if failed else None
            row = {"fingerprint": fp, "workload": name, **point,
                   "status": "infeasible" if failed else "ok", "reason": reason}
            row.update({m: metrics[m] for m in job.metrics})
            if new_record is not None:
                row["_synthesis"] = new_record
                new_record = None
            rows.append(row)
    return rows


def _init_worker(job: Job) -> None:
    global _WORKER_JOB
    _WORKER_JOB = job
    _prepared(job)


def _pool_task(
    points: list[dict[str, Any]], skip: list[list[str]] | None,
    synthesized: list[dict[str, Any] | None] | None = None,
) -> list[dict[str, Any]]:
    assert _WORKER_JOB is not None
    return evaluate_batch(_WORKER_JOB, points, skip, synthesized)


# ---- aggregation over workloads ---------------------------------------------------------
def aggregate_point(
    rows: Sequence[Mapping[str, Any]], metric_info: Mapping[str, Mapping[str, str]]
) -> dict[str, float] | None:
    """Combine one point's rows (one per workload) into one figure per metric.

    ``sum`` adds, ``mean`` averages, ``max`` and ``same`` take the largest. Returns ``None``
    when any row is infeasible.
    """
    if not rows or any(r["status"] != "ok" for r in rows):
        return None
    out: dict[str, float] = {}
    for metric, info in metric_info.items():
        values = [r[metric] for r in rows]
        agg = info["agg"]
        out[metric] = (
            sum(values) if agg == "sum" else sum(values) / len(values) if agg == "mean"
            else max(values)
        )
    return out


# ---- running ---------------------------------------------------------------------------------
@dataclass
class SweepSummary:
    """What a sweep did: rows written now, rows already stored, infeasible rows, seconds."""

    db_path: Path
    points: int
    rows_written: int
    rows_skipped: int
    infeasible: int
    elapsed_s: float


#: Seconds to wait for a Dask scheduler before ``--dask`` is reported unreachable.
DASK_CONNECT_TIMEOUT_S = 10.0


def connect_dask(address: str, timeout_s: float | None = None) -> Any:
    """A ``dask.distributed.Client`` for ``address``; one-line :class:`ConfigError` naming
    ``--dask`` when dask is not installed or the scheduler does not answer in ``timeout_s``."""
    timeout_s = DASK_CONNECT_TIMEOUT_S if timeout_s is None else timeout_s
    try:
        from dask.distributed import Client
    except ImportError as exc:
        raise ConfigError(f"--dask needs dask.distributed, which does not import: {exc}") \
            from None
    import logging

    quiet = [logging.getLogger(n) for n in ("distributed", "distributed.client",
                                            "distributed.comm.tcp", "distributed.core")]
    levels = [lg.level for lg in quiet]
    for lg in quiet:
        lg.setLevel(logging.CRITICAL)
    try:
        return Client(address, timeout=f"{timeout_s}s")
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        raise ConfigError(
            f"--dask: cannot connect to a Dask scheduler at {address!r} within {timeout_s:g} s "
            f"({_one_line(exc)}); give a running scheduler's address, e.g. tcp://host:8786"
        ) from None
    finally:
        for lg, level in zip(quiet, levels, strict=True):
            lg.setLevel(level)


class _Executor:
    """Runs batches in-process, on a local process pool or on a Dask cluster."""

    def __init__(self, job: Job, workers: int, dask_address: str | None) -> None:
        self.job = job
        self.client = None
        self.pool = None
        if dask_address:
            self.client = connect_dask(dask_address)
            try:
                self.job_future = self.client.scatter(job, broadcast=True)
            except Exception:
                self.client.close()
                raise
        elif workers > 1:
            from concurrent.futures import ProcessPoolExecutor

            self.pool = ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(job,))
        else:
            _init_worker(job)

    def map_unordered(self, batches: Iterator[Batch], in_flight: int
                      ) -> Iterator[list[dict[str, Any]]]:
        """Yield each batch's rows as it finishes, keeping ``in_flight`` batches queued."""
        if self.client is None and self.pool is None:
            for points, skip, synthesized in batches:
                yield evaluate_batch(self.job, points, skip, synthesized)
            return
        if self.client is not None:
            from dask.distributed import as_completed

            first = [
                self.client.submit(evaluate_batch, self.job_future, p, s, c, pure=False)
                for p, s, c in itertools.islice(batches, in_flight)
            ]
            queue = as_completed(first)
            for future in queue:
                yield future.result()
                future.release()
                for p, s, c in itertools.islice(batches, 1):
                    queue.add(self.client.submit(evaluate_batch, self.job_future, p, s, c,
                                                 pure=False))
            return
        from concurrent.futures import FIRST_COMPLETED, wait

        assert self.pool is not None
        first = itertools.islice(batches, in_flight)
        pending = {self.pool.submit(_pool_task, p, s, c) for p, s, c in first}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()
                for p, s, c in itertools.islice(batches, 1):
                    pending.add(self.pool.submit(_pool_task, p, s, c))

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
        if self.client is not None:
            self.client.close()


#: A task: design points, the workloads already stored per point, cached synthesis records.
Batch = tuple[list[dict[str, Any]], list[list[str]] | None, list[dict[str, Any] | None] | None]


def _batches(
    points: Sequence[dict[str, Any]], skips: Sequence[list[str]], size: int,
    cached: Sequence[dict[str, Any] | None] | None = None,
) -> Iterator[Batch]:
    for start in range(0, len(points), size):
        chunk_skips = list(skips[start:start + size])
        chunk_cached = list(cached[start:start + size]) if cached else None
        yield (list(points[start:start + size]), chunk_skips if any(chunk_skips) else None,
               chunk_cached if chunk_cached and any(chunk_cached) else None)


def _cached_synthesis(
    spec: SweepSpec, db: Any, cls: type[ConfigBase], points: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any] | None] | None:
    """Stored synthesis records of ``points`` (``None`` per point not yet synthesised)."""
    syn = spec.synthesis
    if syn is None or not points:
        return None
    stored = db.synthesis_records(syn.target, syn.seeds, syn.nodsp)
    if not stored:
        return None
    return [stored.get(raw_fingerprint(cls, point_config_values(spec, p))) for p in points]


def run_sweep(
    spec: SweepSpec,
    db_path: str | Path,
    *,
    workers: int = 1,
    dask_address: str | None = None,
    batch: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SweepSummary:
    """Run ``spec`` and store every (point, workload) row in the SQLite file ``db_path``.

    Parameters
    ----------
    spec : SweepSpec
        A validated spec (:func:`load_spec`).
    db_path : str or Path
        The study database; created with the spec in its meta table, or resumed if it holds
        the same spec (a different spec raises :class:`ConfigError`).
    workers : int
        Local worker processes; 1 runs in this process.
    dask_address : str, optional
        A Dask scheduler address (``tcp://host:8786``); overrides ``workers``.
    batch : int, optional
        Design points per task (default: spec ``batch``, else chosen from the point count).
    progress : callable, optional
        Called as ``progress(points_done, points_total)`` after each batch (points already
        stored count as done at the start).

    Returns
    -------
    SweepSummary
    """
    import time

    from hwsim import store

    start = time.perf_counter()
    job = Job.of(spec)
    # connect (or start the pool) first: an unreachable scheduler leaves no database behind
    executor = _Executor(job, workers, dask_address)
    try:
        db = store.open_study(db_path, spec)
    except BaseException:
        executor.close()
        raise
    try:
        done = db.done_keys()
        names = [w.name for w in spec.workloads]
        cls = spec.adapter.config_class
        parallel = max(1, workers) if not dask_address else 8
        counts = {"written": 0, "skipped": 0, "infeasible": 0}
        try:
            if spec.method == "optuna":
                total_points = _run_optuna(spec, db, executor, names, cls, batch, progress, counts)
            else:
                points = list(design_points(spec))
                todo: list[dict[str, Any]] = []
                skips: list[list[str]] = []
                for point in points:
                    fp = raw_fingerprint(cls, point_config_values(spec, point)) if done else ""
                    stored = [n for n in names if (fp, n) in done]
                    counts["skipped"] += len(stored)
                    if len(stored) < len(names):
                        todo.append(point)
                        skips.append(stored)
                total_points = len(points)
                size = batch or spec.batch or max(1, min(256, len(todo) // (4 * parallel) or 1))
                finished = total_points - len(todo)
                if progress:
                    progress(finished, total_points)
                cached = _cached_synthesis(spec, db, cls, todo)
                for rows in executor.map_unordered(_batches(todo, skips, size, cached),
                                                   2 * parallel):
                    db.write_rows(rows)
                    counts["written"] += len(rows)
                    counts["infeasible"] += sum(r["status"] != "ok" for r in rows)
                    finished += len({r["fingerprint"] for r in rows})
                    if progress:
                        progress(min(finished, total_points), total_points)
        finally:
            executor.close()
        db.set_meta("finished", "yes")
    finally:
        db.close()
    return SweepSummary(
        db_path=Path(db_path),
        points=total_points,
        rows_written=counts["written"],
        rows_skipped=counts["skipped"],
        infeasible=counts["infeasible"],
        elapsed_s=time.perf_counter() - start,
    )


def _run_optuna(spec, db, executor, names, cls, batch, progress, counts) -> int:  # noqa: ANN001
    """Ask/tell loop: ``batch`` trials per generation, evaluated in parallel, then told."""
    import optuna
    from optuna.distributions import CategoricalDistribution, IntDistribution
    from optuna.trial import TrialState, create_trial

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if spec.sampler == "tpe":
        sampler = optuna.samplers.TPESampler(seed=spec.seed, multivariate=True)
    else:
        sampler = optuna.samplers.NSGAIISampler(seed=spec.seed, population_size=spec.population)
    study = optuna.create_study(directions=[d for _, d in spec.objectives], sampler=sampler)
    info = spec.metric_info()
    dists: dict[str, Any] = {}
    for key, values in spec.axes.items():
        if all(_is_number(v) for v in values):
            dists[key] = IntDistribution(0, len(values) - 1)  # index into the sorted values
        else:
            dists[key] = CategoricalDistribution([str(v) for v in values])
    sorted_axes = {
        k: (sorted(v) if isinstance(dists[k], IntDistribution) else v) for k, v in spec.axes.items()
    }

    def point_of(params: Mapping[str, Any]) -> dict[str, Any]:
        point: dict[str, Any] = {}
        for key, values in sorted_axes.items():
            if isinstance(dists[key], IntDistribution):
                value = values[params[key]]
            else:
                value = values[[str(v) for v in values].index(params[key])]
            names_ = key.split(",")
            if len(names_) == 1:
                point[names_[0]] = value
            else:
                point.update(zip(names_, value, strict=True))
        return {n: point[n] for n in spec.axis_fields}

    def params_of(point: Mapping[str, Any]) -> dict[str, Any]:
        params = {}
        for key, values in sorted_axes.items():
            names_ = key.split(",")
            value = point[key] if len(names_) == 1 else tuple(point[n] for n in names_)
            params[key] = values.index(value) if isinstance(dists[key], IntDistribution) \
                else str(value)
        return params

    def objectives_of(rows: list[dict[str, Any]]) -> list[float] | None:
        agg = aggregate_point(rows, info)
        return None if agg is None else [float(agg[m]) for m, _ in spec.objectives]

    def evaluate(points: list[dict[str, Any]], skips: list[list[str]]
                 ) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        if not points:
            return out
        size = max(1, -(-len(points) // 8))
        cached = _cached_synthesis(spec, db, cls, points)
        for rows in executor.map_unordered(_batches(points, skips, size, cached), 16):
            db.write_rows(rows)
            counts["written"] += len(rows)
            counts["infeasible"] += sum(r["status"] != "ok" for r in rows)
            for r in rows:
                out.setdefault(r["fingerprint"], []).append(r)
        return out

    # resume: a stored point missing some workloads (a killed run) gets them computed first;
    # then every complete stored point becomes a finished trial
    wanted = set(names)
    stored = db.rows_by_fingerprint()
    partial = {fp: rows for fp, rows in stored.items()
               if not wanted <= {r["workload"] for r in rows}}
    counts["skipped"] += sum(len(rows) for rows in stored.values())
    fresh = evaluate([{n: rows[0][n] for n in spec.axis_fields} for rows in partial.values()],
                     [[r["workload"] for r in rows] for rows in partial.values()])
    for fp, rows in fresh.items():
        stored[fp] = stored.get(fp, []) + rows
    complete = {fp: rows for fp, rows in stored.items()
                if wanted <= {r["workload"] for r in rows}}
    trials = spec.trials or 0
    told = 0
    for rows in complete.values():
        if told >= trials:
            break
        point = {n: rows[0][n] for n in spec.axis_fields}
        values = objectives_of(rows)
        state = TrialState.COMPLETE if values is not None else TrialState.FAIL
        study.add_trial(create_trial(state=state, values=values, params=params_of(point),
                                     distributions=dists))
        told += 1
    # repeated suggestions make trials outnumber points: trust the stored trial count
    told = max(told, min(trials, int(db.meta.get("optuna_trials_told", 0) or 0)))
    memo: dict[str, list[dict[str, Any]]] = dict(complete)
    per_gen = batch or spec.batch or spec.population
    if progress:
        progress(told, trials)
    while told < trials:
        asked = [study.ask(dists) for _ in range(min(per_gen, trials - told))]
        points = [point_of(t.params) for t in asked]
        fps = [raw_fingerprint(cls, point_config_values(spec, p)) for p in points]
        todo = {fp: p for fp, p in zip(fps, points, strict=True) if fp not in memo}
        todo_points = list(todo.values())
        for fp, rows in evaluate(todo_points, [[] for _ in todo_points]).items():
            memo.setdefault(fp, []).extend(rows)
        for trial, fp in zip(asked, fps, strict=True):
            values = objectives_of(memo.get(fp, []))
            if values is None:
                study.tell(trial, state=TrialState.FAIL)
            else:
                study.tell(trial, values)
        told += len(asked)
        db.set_meta("optuna_trials_told", str(told))
        if progress:
            progress(told, trials)
    return trials
