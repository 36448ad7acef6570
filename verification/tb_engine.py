"""Generic cocotb bench of every tensor engine: folds from the generator, checked three ways.

Run through :func:`hwsim.verification.engine_runner.run_engine_bench` (or ``hwsim verify
engine``). The bench knows nothing engine-specific: the engine's generator module (see
:data:`hwsim.rtl.engine_common.ENGINE_RTL`) turns each fold ``A_tile @ B_tile`` into its input
beats, expected ``o_c`` beats and cycle contract (:class:`~hwsim.rtl.engine_common.FoldStimulus`),
and the ports follow the one protocol of :mod:`hwsim.rtl.engine_common`.

The stimulus plan (:func:`make_plan`) is built on the host, before the simulator starts, and
reaches the simulation as a JSON file (``HWSIM_COSIM_PARAMS["plan"]``), so the bench drives
exactly what the host computed (a monkeypatched ``fold_stimulus`` plants a fault, a wrapper
module can stand in for a generator). Without a plan file the bench builds the same plan
itself from the config and the seed.

The plan holds two phases of seeded random GEMMs ``C = A @ B``, each split into the engine's
folds (:func:`fold_geometry`: two of M/N/K are bounded by the fold, the third is streamed):

* random GEMMs of random sizes (up to two folds per bounded dimension, so partial folds and
  zero padding occur) with uniformly random operands, until ``folds`` folds are reached;
* extremes: all ``-2**(w-1)`` operands (the reduction long enough to wrap the accumulator when
  that takes at most 64 products), ``-2**(w-1)`` times ``2**(w-1)-1``, all zeros, and for the
  digit-serial variants (opt3/opt4c/laconic) operands with at most one non-zero radix-4 digit
  plus a k-group that is zero in every row (all-zero digit groups, the ``max(1, .)`` floor).

Phases, one simulation:

1. **latency** -- each fold on its own, every ``valid`` and ``o_c.ready`` high. Its cycles,
   from the first accepted input beat to its last ``o_c`` beat inclusive, must equal the
   fold's ``contract_cycles``, and that must equal the model's
   :func:`hwsim.accelerators.engines.model.fold_cycles` (for bitslice with the fold's issue
   cycles from :func:`hwsim.accelerators.engines.golden.issue_cycles_per_fold`).
2. **throttled** -- fresh GEMMs, all folds back to back, random ``valid`` on ``i_a``/``i_b``
   and random ``ready`` on ``o_c`` (probability ``1 - throttle``, seeded). Data only.

Every ``o_c`` beat of both phases is compared bit-exactly, in order, with the expected beats
(the scoreboard). Independently, each GEMM's ``C`` is rebuilt from the beats the DUT sent and
compared with :func:`hwsim.accelerators.engines.golden.engine_product` of the whole GEMM (the
fold results are placed by a layout probed from ``fold_stimulus`` with 0/1 operands and summed
over K folds with the accumulator's wrap). Mismatches do not fail the cocotb test: the results
file carries the verdict, and the caller decides.
"""

from __future__ import annotations

import json
import os
import random
import time
import traceback
from dataclasses import dataclass
from typing import Any

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, Event, with_timeout

from hwsim.accelerators.bitweight import booth_digits, ent_digits
from hwsim.accelerators.engines import EngineConfig
from hwsim.accelerators.engines.golden import engine_product, issue_cycles_per_fold
from hwsim.accelerators.engines.model import engine_mapping, fold_cycles
from hwsim.config import ConfigError

from .runner import ENV_CONFIG, ENV_PARAMS, ENV_RESULTS
from .scoreboard import Expected, Scoreboard
from .streams import CycleClock, PayloadLayout, ReadyThrottler, StreamDriver, StreamMonitor

__all__ = ["FoldGeometry", "fold_geometry", "result_places", "make_plan", "engine_bench"]

#: Default largest number of streamed beats (``T``) of a random fold.
DEFAULT_MAX_T = 4
#: Longest reduction an extreme GEMM uses to wrap the accumulator, products.
EXTREME_MAX_K = 64


@dataclass(frozen=True)
class FoldGeometry:
    """Which GEMM dimensions one fold bounds (``None``: streamed) and the streamed unit.

    ``unit`` is how many elements of the streamed dimension one beat ``T`` carries (``depth``
    for the K-streaming cube/matrix2d/bitslice, ``rows`` for the tree's M, else 1).
    """

    m: int | None
    n: int | None
    k: int | None
    unit: int

    @property
    def streamed(self) -> str:
        """The streamed dimension: ``"m"`` or ``"k"``."""
        return "m" if self.m is None else "k"


def fold_geometry(config: EngineConfig) -> FoldGeometry:
    """The fold shape of ``config``'s engine, as :func:`engine_mapping` folds a GEMM."""
    r, c, d = config.rows, config.cols, config.depth
    if config.engine == "systolic":
        if config.dataflow == "ws":
            return FoldGeometry(m=None, n=c, k=r, unit=1)
        return FoldGeometry(m=r, n=c, k=None, unit=1)
    if config.engine == "tree":
        return FoldGeometry(m=None, n=c, k=d, unit=r)
    return FoldGeometry(m=r, n=c, k=None, unit=d)


def _value_range(config: EngineConfig) -> tuple[int, int]:
    w = config.in_width_bits
    return -(1 << (w - 1)), (1 << (w - 1)) - 1


def _positions(c_beats: list[list[int]]) -> dict[tuple[int, int], int]:
    return {
        (beat, elem): int(v)
        for beat, row in enumerate(c_beats)
        for elem, v in enumerate(row)
        if int(v) != 0
    }


def result_places(
    config: EngineConfig, module: Any, mt: int, kt: int, nt: int
) -> list[tuple[int, int]]:
    """Where ``C_tile[m, n]`` of an ``mt x kt @ kt x nt`` fold sits in its ``o_c`` beats.

    Returns ``(beat, element)`` per ``(m, n)``, row-major. Probed from the generator's
    ``fold_stimulus`` with 0/1 operands (``fold_stimulus`` is linear in the data, the layout is
    not data-dependent): all-ones marks the ``mt*nt`` result positions, then one probe per
    bit of ``m`` and of ``n`` gives each position its index. Raises ``ValueError`` when the
    beats do not hold exactly one position per result element.
    """

    def probe(a_col: np.ndarray, b_row: np.ndarray) -> dict[tuple[int, int], int]:
        a = np.zeros((mt, kt), dtype=np.int64)
        b = np.zeros((kt, nt), dtype=np.int64)
        a[:, 0] = a_col
        b[0, :] = b_row
        return _positions(module.fold_stimulus(config, a, b).c_beats)

    ones = probe(np.ones(mt, np.int64), np.ones(nt, np.int64))
    if len(ones) != mt * nt or set(ones.values()) != {1}:
        raise ValueError(
            f"cannot locate the {mt}x{nt} results of a fold in its o_c beats: an all-ones "
            f"probe gave {len(ones)} non-zero elements {sorted(set(ones.values()))[:4]}"
        )
    index_m = dict.fromkeys(ones, 0)
    index_n = dict.fromkeys(ones, 0)
    for bit in range(max(1, (mt - 1).bit_length())):
        for pos in probe((np.arange(mt) >> bit) & 1, np.ones(nt, np.int64)):
            index_m[pos] |= 1 << bit
    for bit in range(max(1, (nt - 1).bit_length())):
        for pos in probe(np.ones(mt, np.int64), (np.arange(nt) >> bit) & 1):
            index_n[pos] |= 1 << bit
    places: dict[tuple[int, int], tuple[int, int]] = {}
    for pos in ones:
        places[(index_m[pos], index_n[pos])] = pos
    if len(places) != mt * nt or any(m >= mt or n >= nt for m, n in places):
        raise ValueError(f"the o_c beats of a {mt}x{nt} fold do not place each result once")
    return [places[(m, n)] for m in range(mt) for n in range(nt)]


def _sparse_digit_values(config: EngineConfig) -> np.ndarray:
    """int8 values with at most one non-zero radix-4 digit in the encoder of A."""
    values = np.arange(-128, 128, dtype=np.int64)
    encoder = booth_digits if config.mac == "laconic" or config.digit_encoding == "booth" else (
        ent_digits
    )
    return values[np.count_nonzero(encoder(values), axis=-1) <= 1]


def _gemm_dims(config: EngineConfig, rng: random.Random, max_t: int) -> tuple[int, int, int]:
    geo = fold_geometry(config)
    sizes = {}
    for dim in ("m", "n", "k"):
        bound = getattr(geo, dim)
        sizes[dim] = (
            rng.randint(1, geo.unit * max_t) if bound is None else rng.randint(1, 2 * bound)
        )
    return sizes["m"], sizes["n"], sizes["k"]


def _extreme_gemms(config: EngineConfig, rng: random.Random, max_t: int) -> list[tuple]:
    """``(kind, A, B)`` of the extreme cases (one fold each, full fold dimensions)."""
    geo = fold_geometry(config)
    lo, hi = _value_range(config)
    m = geo.m or geo.unit * max_t
    n = geo.n
    # K long enough to wrap the accumulator with lo*lo products, if that takes <= 64 of them.
    wrap_k = (1 << (config.acc_width_bits - 1)) // (lo * lo) + 1
    if geo.k is None:
        k_wrap = min(EXTREME_MAX_K, wrap_k)
        k_small = min(geo.unit * 2, EXTREME_MAX_K)
    else:
        k_wrap = k_small = geo.k
    out = [
        ("min*min", np.full((m, k_wrap), lo), np.full((k_wrap, n), lo)),
        ("min*max", np.full((m, k_small), lo), np.full((k_small, n), hi)),
        ("zeros", np.zeros((m, k_small), np.int64), np.zeros((k_small, n), np.int64)),
    ]
    if config.sparse:
        # Operands with at most one non-zero digit, and the first k-group zero in every row
        # (and column, for laconic's B terms): steps whose digits are all zero.
        d = config.depth
        k = 3 * d
        nprng = np.random.default_rng(rng.getrandbits(64))
        pool = _sparse_digit_values(config)
        a = nprng.choice(pool, size=(m, k))
        b = nprng.integers(lo, hi + 1, size=(k, n))
        if config.mac == "laconic":
            b = nprng.choice(pool, size=(k, n))
            b[:d, :] = 0
        a[:, :d] = 0
        out.append(("zero-digit-groups", a, b))
    return [(kind, np.asarray(a, np.int64), np.asarray(b, np.int64)) for kind, a, b in out]


def _model_cycles(config: EngineConfig, a: np.ndarray, b: np.ndarray) -> tuple[int, int]:
    """``(T, model cycles)`` of one fold: ``T`` is the streamed beats (bitslice: issue cycles)."""
    if config.sparse:
        t = int(issue_cycles_per_fold(config, a, b)[0, 0])
    else:
        t = int(engine_mapping(config, a.shape[0], b.shape[1], a.shape[1])[2])
    return t, int(fold_cycles(config, t))


def _split(config: EngineConfig, module: Any, kind: str, a: np.ndarray, b: np.ndarray,
           places: dict) -> dict[str, Any]:
    """One GEMM of the plan: operands, golden ``C`` and its folds with their stimulus."""
    geo = fold_geometry(config)
    m, k = a.shape
    n = b.shape[1]
    step_m, step_n, step_k = geo.m or m, geo.n or n, geo.k or k
    folds = []
    for m0 in range(0, m, step_m):
        for n0 in range(0, n, step_n):
            for k0 in range(0, k, step_k):
                at = a[m0 : m0 + step_m, k0 : k0 + step_k]
                bt = b[k0 : k0 + step_k, n0 : n0 + step_n]
                mt, kt, nt = at.shape[0], at.shape[1], bt.shape[1]
                stim = module.fold_stimulus(config, at, bt)
                key = (mt, kt, nt)
                if key not in places:
                    places[key] = result_places(config, module, mt, kt, nt)
                t, model = _model_cycles(config, at, bt)
                folds.append({
                    "m0": m0, "n0": n0, "k0": k0, "shape": [mt, kt, nt], "T": t,
                    "model": model, "contract": int(stim.contract_cycles),
                    "a_beats": [[int(v) for v in beat] for beat in stim.a_beats],
                    "b_beats": [[int(v) for v in beat] for beat in stim.b_beats],
                    "a_last": [bool(x) for x in stim.a_last],
                    "b_last": [bool(x) for x in stim.b_last],
                    "c_beats": [[int(v) for v in beat] for beat in stim.c_beats],
                    "places": [list(p) for p in places[key]],
                })  # fmt: skip
    golden = engine_product(config, a, b)
    return {"kind": kind, "a": a.tolist(), "b": b.tolist(), "c": golden.tolist(), "folds": folds}


def make_plan(
    config: EngineConfig,
    module: Any,
    *,
    seed: int,
    folds: int = 4,
    max_t: int = DEFAULT_MAX_T,
    extremes: bool = True,
) -> dict[str, Any]:
    """The seeded stimulus of both phases (module docstring) as a JSON-ready dict.

    ``module`` is the generator module (``ENGINE_CLASS``, ``check_rtl_config``,
    ``fold_stimulus``); ``folds`` is the least number of random folds per phase; ``max_t`` the
    largest streamed length of a random fold, in beats.
    """
    if folds < 1:
        raise ConfigError(f"folds must be >= 1, got {folds}")
    if max_t < 1:
        raise ConfigError(f"max_t must be >= 1, got {max_t}")
    rng = random.Random(seed)
    lo, hi = _value_range(config)
    places: dict = {}
    phases: dict[str, list[dict[str, Any]]] = {}
    for phase in ("latency", "throttled"):
        gemms: list[dict[str, Any]] = []
        count = 0
        while count < folds:
            m, n, k = _gemm_dims(config, rng, max_t)
            nprng = np.random.default_rng(rng.getrandbits(64))
            a = nprng.integers(lo, hi + 1, size=(m, k), dtype=np.int64)
            b = nprng.integers(lo, hi + 1, size=(k, n), dtype=np.int64)
            gemm = _split(config, module, "random", a, b, places)
            gemms.append(gemm)
            count += len(gemm["folds"])
        if extremes:
            gemms += [
                _split(config, module, kind, a, b, places)
                for kind, a, b in _extreme_gemms(config, rng, max_t)
            ]
        phases[phase] = gemms
    return {"config": config.to_dict(), "seed": seed, "phases": phases}


# ---- the simulation --------------------------------------------------------------------------
def _layout(dut: Any, port: str, width_bits: int, beats: list[list[int]]) -> PayloadLayout:
    """The payload layout of ``port``: the element count from the port's width."""
    total = len(getattr(dut, f"{port}__payload"))
    count, rest = divmod(total - 1, width_bits)
    if rest:
        raise ValueError(f"{port}__payload is {total} bits, not N*{width_bits}+1")
    if beats and any(len(beat) != count for beat in beats):
        raise ValueError(
            f"{port} carries {count} elements of {width_bits} bits, but fold_stimulus gave "
            f"beats of {sorted({len(beat) for beat in beats})} elements"
        )
    return PayloadLayout(width_bits, count)


class _Bench:
    """Drivers, monitor and scoreboard around one DUT."""

    def __init__(self, dut: Any, config: EngineConfig, plan: dict, params: dict) -> None:
        self.dut = dut
        seed = int(params["seed"])
        self.clock = CycleClock(float(params.get("clock_period_ns", 10)))
        folds = [f for phase in plan["phases"].values() for g in phase for f in g["folds"]]
        w, acc = config.in_width_bits, config.acc_width_bits
        layout_a = _layout(dut, "i_a", w, [b for f in folds for b in f["a_beats"]])
        layout_b = _layout(dut, "i_b", w, [b for f in folds for b in f["b_beats"]])
        layout_c = _layout(dut, "o_c", acc, [b for f in folds for b in f["c_beats"]])
        self.drv_a = StreamDriver(dut, "i_a", layout_a, self.clock, 1.0,
                                  random.Random(f"{seed}/i_a"))
        self.drv_b = StreamDriver(dut, "i_b", layout_b, self.clock, 1.0,
                                  random.Random(f"{seed}/i_b"))
        self.sink = ReadyThrottler(dut, "o_c", 1.0, random.Random(f"{seed}/o_c"))
        self.scoreboard = Scoreboard("o_c")
        self.target = 0
        self.reached = Event()
        self.monitor = StreamMonitor(dut, "o_c", layout_c, self.clock, self._on_beat)

    def _on_beat(self, beat: Any) -> None:
        self.scoreboard.observe(beat.data, beat.last, beat.cycle)
        if len(self.monitor.beats) >= self.target:
            self.reached.set()

    def set_throttle(self, throttle: float) -> None:
        """Valid and ready probabilities ``1 - throttle`` on every port."""
        p = 1.0 - throttle
        self.drv_a.valid_probability = p
        self.drv_b.valid_probability = p
        self.sink.set_probability(p)

    async def run_folds(self, folds: list[tuple[dict, dict]], limit: int) -> None:
        """Send ``(fold, tag)`` back to back and wait (at most ``limit`` cycles) for outputs."""
        for fold, tag in folds:
            n = len(fold["c_beats"])
            self.scoreboard.expect([
                Expected(beat, i == n - 1, {**tag, "beat": i})
                for i, beat in enumerate(fold["c_beats"])
            ])  # fmt: skip
            self.drv_a.send(list(zip(fold["a_beats"], fold["a_last"], strict=True)))
            self.drv_b.send(list(zip(fold["b_beats"], fold["b_last"], strict=True)))
            self.target += n
        if len(self.monitor.beats) >= self.target:
            return
        self.reached.clear()
        try:
            await with_timeout(self.reached.wait(), limit * self.clock.period_ns, "ns")
        except TimeoutError as exc:
            first, last = folds[0][1], folds[-1][1]
            raise TimeoutError(
                f"{first['phase']} phase, folds {first['fold']}..{last['fold']}: "
                f"{len(self.monitor.beats)} of {self.target} o_c beats after {limit} cycles "
                f"(i_a accepted {len(self.drv_a.accepted)}, i_b {len(self.drv_b.accepted)})"
            ) from exc


def _rebuild(gemm: dict, beats: list[list[int]], acc_width_bits: int) -> np.ndarray:
    """``C`` of one GEMM from the ``o_c`` beats the DUT sent for its folds (in order)."""
    m, n = len(gemm["a"]), len(gemm["b"][0])
    c = np.zeros((m, n), dtype=object)
    at = 0
    for fold in gemm["folds"]:
        own = beats[at : at + len(fold["c_beats"])]
        at += len(fold["c_beats"])
        mt, _, nt = fold["shape"]
        for index, (beat, elem) in enumerate(fold["places"]):
            value = own[beat][elem] if beat < len(own) else 0
            c[fold["m0"] + index // nt, fold["n0"] + index % nt] += value
    mask, half = (1 << acc_width_bits) - 1, 1 << (acc_width_bits - 1)
    return np.vectorize(lambda v: ((int(v) + half) & mask) - half, otypes=[object])(c)


def _check_gemms(gemms: list[dict], beats: list[list[int]], phase: str, acc: int) -> list[dict]:
    """Compare every GEMM rebuilt from ``beats`` with its golden ``C``; return mismatches."""
    problems = []
    at = 0
    for g, gemm in enumerate(gemms):
        count = sum(len(f["c_beats"]) for f in gemm["folds"])
        got = _rebuild(gemm, beats[at : at + count], acc)
        at += count
        want = np.array(gemm["c"], dtype=object)
        wrong = np.argwhere(got != want)
        if len(wrong):
            i, j = (int(x) for x in wrong[0])
            problems.append({
                "stream": "o_c", "kind": "gemm vs engine_product", "phase": phase, "gemm": g,
                "gemm_kind": gemm["kind"], "wrong_elements": len(wrong), "first": [i, j],
                "expected": int(want[i, j]), "got": int(got[i, j]),
            })  # fmt: skip
    return problems


def _load() -> tuple[EngineConfig, dict[str, Any], dict[str, Any]]:
    config = EngineConfig.from_dict(json.loads(os.environ[ENV_CONFIG]))
    params = json.loads(os.environ[ENV_PARAMS])
    if params.get("plan"):
        with open(params["plan"]) as handle:
            plan = json.load(handle)
    else:
        from hwsim.rtl.engine_common import rtl_module

        plan = make_plan(
            config, rtl_module(config), seed=int(params["seed"]),
            folds=int(params.get("folds", 4)), max_t=int(params.get("max_t", DEFAULT_MAX_T)),
            extremes=bool(params.get("extremes", True)),
        )  # fmt: skip
    return config, params, plan


@cocotb.test()
async def engine_bench(dut: Any) -> None:
    """Both phases; writes the results JSON (the verdict is the caller's)."""
    wall = time.perf_counter()
    results: dict[str, Any] = {"outputs_match": False, "cycles_match": False, "error": None}
    bench: _Bench | None = None
    gemm_problems: list[dict] = []
    try:
        config, params, plan = _load()
        seed = int(params["seed"])
        results["seed"] = seed
        throttle = float(params.get("throttle", 0.0))
        period = params.get("clock_period_ns", 10)
        cocotb.start_soon(Clock(dut.clk, period, unit="ns").start())
        bench = _Bench(dut, config, plan, params)
        dut.rst.value = 1
        await ClockCycles(dut.clk, 3)
        dut.rst.value = 0
        await ClockCycles(dut.clk, 2)

        def tagged(phase: str) -> list[tuple[dict, dict]]:
            out, index = [], 0
            for g, gemm in enumerate(plan["phases"][phase]):
                for fold in gemm["folds"]:
                    tag = {"phase": phase, "fold": index, "gemm": g, "gemm_kind": gemm["kind"],
                           "shape": fold["shape"], "T": fold["T"]}
                    out.append((fold, tag))
                    index += 1
            return out

        # Phase 1: each fold alone, no backpressure; measure its cycles.
        fold_records = []
        first_beat = len(bench.monitor.beats)
        for fold, tag in tagged("latency"):
            a0, b0 = len(bench.drv_a.accepted), len(bench.drv_b.accepted)
            out0 = len(bench.monitor.beats)
            await bench.run_folds([(fold, tag)], limit=4 * fold["contract"] + 100)
            firsts = []
            if fold["a_beats"]:
                firsts.append(bench.drv_a.accepted[a0].cycle)
            if fold["b_beats"]:
                firsts.append(bench.drv_b.accepted[b0].cycle)
            last_out = bench.monitor.beats[out0 + len(fold["c_beats"]) - 1].cycle
            fold_records.append({
                **{k: tag[k] for k in ("fold", "gemm", "gemm_kind", "shape", "T")},
                "rtl": last_out - min(firsts) + 1, "contract": fold["contract"],
                "model": fold["model"],
            })  # fmt: skip
        latency_beats = [b.data for b in bench.monitor.beats[first_beat:]]
        gemm_problems += _check_gemms(plan["phases"]["latency"], latency_beats, "latency",
                                      config.acc_width_bits)

        # Phase 2: fresh GEMMs, all folds back to back, random valid/ready on every port.
        stream = tagged("throttled")
        bench.set_throttle(throttle)
        start = bench.clock.now()
        first_beat = len(bench.monitor.beats)
        total = sum(f["contract"] for f, _ in stream)
        slack = 1.0 / max(1e-3, (1.0 - throttle)) ** 3
        await bench.run_folds(stream, limit=int(4 * total * slack) + 200)
        results["throttled_cycles"] = bench.clock.now() - start
        results["throttled_contract_cycles"] = total
        bench.set_throttle(0.0)
        # Anything the DUT sends after the last expected beat is a mismatch too.
        await ClockCycles(dut.clk, 2 * max(f["contract"] for f, _ in stream) + 8)
        throttled_beats = [b.data for b in bench.monitor.beats[first_beat:]]
        gemm_problems += _check_gemms(plan["phases"]["throttled"], throttled_beats, "throttled",
                                      config.acc_width_bits)

        results["folds"] = fold_records
        results["cycles_rtl"] = [r["rtl"] for r in fold_records]
        results["cycles_contract"] = [r["contract"] for r in fold_records]
        results["cycles_model"] = [r["model"] for r in fold_records]
        results["cycle_mismatches"] = [
            r for r in fold_records if not r["rtl"] == r["contract"] == r["model"]
        ]
        results["cycles_match"] = not results["cycle_mismatches"]
        results["fold_count"] = len(fold_records) + len(stream)
        results["gemms"] = sum(len(p) for p in plan["phases"].values())
    except Exception as exc:  # recorded for the caller; the verdict says what failed
        results["error"] = f"{type(exc).__name__}: {exc}"
        results["traceback"] = traceback.format_exc(limit=6)
    finally:
        if bench is not None:
            sb = bench.scoreboard
            unknown = bench.monitor.unknown_cycles
            results["beats_match"] = sb.ok and not unknown
            results["gemm_match"] = not gemm_problems
            results["outputs_match"] = (
                sb.ok and not unknown and not gemm_problems and results["error"] is None
            )
            results["mismatch_count"] = sb.mismatch_count + sb.pending + len(gemm_problems)
            results["mismatches"] = sb.mismatches + [
                {"stream": "o_c", "kind": "missing beat", **tag} for tag in sb.missing()[:4]
            ] + gemm_problems[:4]
            if unknown:
                results["mismatches"].append(
                    {"stream": "o_c", "kind": "X/Z payload", "cycles": unknown[:8]}
                )
            results["beats_checked"] = sb.checked
            results["sim_cycles"] = bench.clock.now()
        results["bench_seconds"] = round(time.perf_counter() - wall, 3)
        with open(os.environ[ENV_RESULTS], "w") as handle:
            json.dump(results, handle, indent=1)
