"""cocotb bench of the systolic array: random tiles, checked against the golden and the model.

Run through :func:`hwsim.verification.runner.verify_systolic` (or ``hwsim verify systolic``),
which hands over the config as JSON (``HWSIM_COSIM_CONFIG``), the bench parameters
(``HWSIM_COSIM_PARAMS``: seed, tiles, throttle, extremes, max_t, clock_period_ns) and the
path of the results file (``HWSIM_COSIM_RESULTS``).

Two phases, one simulation:

1. **latency**: ``tiles`` random tiles (plus the extreme tiles when asked), each on its own,
   every ``valid`` and ``ready`` high. The latency of each, from the cycle its first input
   beat is accepted to the cycle of its last ``o_c`` beat inclusive, is compared with
   :func:`hwsim.accelerators.systolic.model.cycles_per_fold` ``(config, T, "hwsim")``.
2. **throttled**: as many fresh random tiles (plus extremes) back to back, with random
   ``valid`` on both inputs and random ``ready`` on the output (probability ``1 - throttle``).

Every output beat of both phases is compared bit-exactly with
:func:`hwsim.accelerators.systolic.golden.gemm`. Mismatches do not fail the cocotb test: the
results file carries the verdict, and the caller decides.
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

from hwsim.accelerators.systolic.config import SystolicConfig
from hwsim.accelerators.systolic.golden import gemm
from hwsim.accelerators.systolic.model import cycles_per_fold

from .runner import ENV_CONFIG, ENV_PARAMS, ENV_RESULTS
from .scoreboard import Expected, Scoreboard
from .streams import CycleClock, PayloadLayout, ReadyThrottler, StreamDriver, StreamMonitor

__all__ = ["Tile", "make_tile", "extreme_tiles", "systolic_bench"]


@dataclass
class Tile:
    """One tile: operands, its input beats per stream, expected output rows, and ``T``."""

    kind: str
    t: int
    a_beats: list[tuple[list[int], bool]]
    b_beats: list[tuple[list[int], bool]]
    c_rows: list[list[int]]

    def expected(self, phase: str, index: int) -> list[Expected]:
        """The output beats this tile must produce, tagged for mismatch reports."""
        n = len(self.c_rows)
        return [
            Expected(row, r == n - 1, {"phase": phase, "tile": index, "beat": r, "T": self.t})
            for r, row in enumerate(self.c_rows)
        ]


def _beats(matrix: np.ndarray) -> list[tuple[list[int], bool]]:
    n = matrix.shape[0]
    return [([int(v) for v in matrix[i]], i == n - 1) for i in range(n)]


def _from_operands(config: SystolicConfig, a: np.ndarray, b: np.ndarray, kind: str) -> Tile:
    """Tile of operands ``A`` and ``B`` already shaped for the dataflow (padding included)."""
    c = gemm(a, b, in_width_bits=config.in_width_bits, acc_width_bits=config.acc_width_bits)
    if config.dataflow == "os":
        # A: rows x K, B: K x cols; beat k carries A[:, k] and B[k, :]; C rows come out.
        return Tile(kind, a.shape[1], _beats(a.T), _beats(b), [list(map(int, r)) for r in c])
    # ws: B (rows x cols) preloaded one row per beat, then A (M x rows) one row per beat.
    return Tile(kind, a.shape[0], _beats(a), _beats(b), [list(map(int, r)) for r in c])


def make_tile(config: SystolicConfig, rng: random.Random, max_t: int) -> Tile:
    """A random tile: ``T`` in ``[1, max_t]``; a quarter of them zero-padded (K/N short)."""
    w = config.in_width_bits
    lo, hi = -(1 << (w - 1)), (1 << (w - 1)) - 1
    rows, cols = config.rows, config.cols
    t = rng.randint(1, max_t)
    nprng = np.random.default_rng(rng.getrandbits(64))
    if config.dataflow == "os":
        a = nprng.integers(lo, hi + 1, size=(rows, t), dtype=np.int64)
        b = nprng.integers(lo, hi + 1, size=(t, cols), dtype=np.int64)
        if rng.random() < 0.25:  # M < rows or N < cols: the caller pads with zeros
            a[rng.randint(1, rows) :, :] = 0
            b[:, rng.randint(1, cols) :] = 0
    elif config.dataflow == "ws":
        a = nprng.integers(lo, hi + 1, size=(t, rows), dtype=np.int64)
        b = nprng.integers(lo, hi + 1, size=(rows, cols), dtype=np.int64)
        if rng.random() < 0.25:  # K < rows or N < cols: the caller pads with zeros
            k = rng.randint(1, rows)
            a[:, k:] = 0
            b[k:, :] = 0
            b[:, rng.randint(1, cols) :] = 0
    else:
        raise ValueError(f"the systolic bench drives os and ws tiles, not '{config.dataflow}'")
    return _from_operands(config, a, b, "random")


def extreme_tiles(config: SystolicConfig) -> list[Tile]:
    """Tiles of all ``-2**(w-1)`` operands (and ``-2**(w-1)`` times ``2**(w-1)-1``).

    For ``os`` the reduction is long enough to wrap the accumulator when the config's
    ``acc_width_bits`` allows it within 64 beats.
    """
    w, acc = config.in_width_bits, config.acc_width_bits
    lo, hi = -(1 << (w - 1)), (1 << (w - 1)) - 1
    rows, cols = config.rows, config.cols
    if config.dataflow == "os":
        t = int(min(64, max(rows, 1 << max(0, acc - 2 * w + 2))))
        shapes = ((rows, t), (t, cols))
    else:
        t = max(2, rows)
        shapes = ((t, rows), (rows, cols))
    tiles = []
    for b_value in (lo, hi):
        a = np.full(shapes[0], lo, dtype=np.int64)
        b = np.full(shapes[1], b_value, dtype=np.int64)
        tiles.append(_from_operands(config, a, b, f"extreme({lo}*{b_value})"))
    return tiles


class _Bench:
    """Drivers, monitor and scoreboard around one DUT."""

    def __init__(self, dut: Any, config: SystolicConfig, params: dict[str, Any]) -> None:
        self.dut = dut
        self.config = config
        seed = int(params["seed"])
        self.clock = CycleClock(float(params.get("clock_period_ns", 10)))
        w, acc = config.in_width_bits, config.acc_width_bits
        self.layout_a = PayloadLayout(w, config.rows)
        self.layout_b = PayloadLayout(w, config.cols)
        self.layout_c = PayloadLayout(acc, config.cols)
        self.drv_a = StreamDriver(
            dut, "i_a", self.layout_a, self.clock, 1.0, random.Random(f"{seed}/i_a")
        )
        self.drv_b = StreamDriver(
            dut, "i_b", self.layout_b, self.clock, 1.0, random.Random(f"{seed}/i_b")
        )
        self.sink = ReadyThrottler(dut, "o_c", 1.0, random.Random(f"{seed}/o_c"))
        self.scoreboard = Scoreboard("o_c")
        self.target = 0
        self.reached = Event()
        self.monitor = StreamMonitor(dut, "o_c", self.layout_c, self.clock, self._on_beat)

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

    async def run_tiles(self, tiles: list[Tile], phase: str, first_index: int, limit: int) -> None:
        """Send ``tiles`` back to back and wait (at most ``limit`` cycles) for their outputs."""
        for i, tile in enumerate(tiles):
            self.scoreboard.expect(tile.expected(phase, first_index + i))
            self.drv_a.send(tile.a_beats)
            self.drv_b.send(tile.b_beats)
        self.target += sum(len(tile.c_rows) for tile in tiles)
        if len(self.monitor.beats) >= self.target:
            return
        self.reached.clear()
        try:
            await with_timeout(self.reached.wait(), limit * self.clock.period_ns, "ns")
        except TimeoutError as exc:
            raise TimeoutError(
                f"{phase} phase, tiles {first_index}..{first_index + len(tiles) - 1}: "
                f"{len(self.monitor.beats)} of {self.target} o_c beats after {limit} cycles "
                f"(i_a accepted {len(self.drv_a.accepted)}, i_b {len(self.drv_b.accepted)})"
            ) from exc


def _params() -> tuple[SystolicConfig, dict[str, Any]]:
    config = SystolicConfig.from_dict(json.loads(os.environ[ENV_CONFIG]))
    params = json.loads(os.environ[ENV_PARAMS])
    return config, params


@cocotb.test()
async def systolic_bench(dut: Any) -> None:
    """Both phases; writes the results JSON (the verdict is the caller's)."""
    wall = time.perf_counter()
    results: dict[str, Any] = {"outputs_match": False, "cycles_match": False, "error": None}
    bench: _Bench | None = None
    try:
        config, params = _params()
        seed = int(params["seed"])
        results["seed"] = seed
        rng = random.Random(seed)
        n_tiles = int(params.get("tiles", 4))
        throttle = float(params.get("throttle", 0.0))
        max_t = int(params.get("max_t") or (config.rows + config.cols + 2))
        extremes = bool(params.get("extremes", True))

        cocotb.start_soon(Clock(dut.clk, params.get("clock_period_ns", 10), unit="ns").start())
        bench = _Bench(dut, config, params)
        dut.rst.value = 1
        await ClockCycles(dut.clk, 3)
        dut.rst.value = 0
        await ClockCycles(dut.clk, 2)

        def phase_tiles() -> list[Tile]:
            tiles = [make_tile(config, rng, max_t) for _ in range(n_tiles)]
            return tiles + (extreme_tiles(config) if extremes else [])

        # Phase 1: each tile alone, no backpressure; measure its latency.
        latency_tiles = phase_tiles()
        cycles_rtl, cycles_model, shapes = [], [], []
        for i, tile in enumerate(latency_tiles):
            a0, b0 = len(bench.drv_a.accepted), len(bench.drv_b.accepted)
            out0 = len(bench.monitor.beats)
            model = int(cycles_per_fold(config, tile.t, "hwsim"))
            await bench.run_tiles([tile], "latency", i, limit=4 * model + 100)
            firsts = [bench.drv_a.accepted[a0].cycle, bench.drv_b.accepted[b0].cycle]
            last_out = bench.monitor.beats[out0 + len(tile.c_rows) - 1].cycle
            cycles_rtl.append(last_out - min(firsts) + 1)
            cycles_model.append(model)
            shapes.append({"phase": "latency", "kind": tile.kind, "T": tile.t})

        # Phase 2: fresh tiles back to back, random valid/ready on every port.
        stream_tiles = phase_tiles()
        bench.set_throttle(throttle)
        start = bench.clock.now()
        total_model = sum(int(cycles_per_fold(config, t.t, "hwsim")) for t in stream_tiles)
        slack = 1.0 / max(1e-3, (1.0 - throttle)) ** 3
        await bench.run_tiles(
            stream_tiles, "throttled", len(latency_tiles), limit=int(4 * total_model * slack) + 200
        )
        results["throttled_cycles"] = bench.clock.now() - start
        shapes += [{"phase": "throttled", "kind": t.kind, "T": t.t} for t in stream_tiles]
        bench.set_throttle(0.0)
        # Anything the DUT sends after the last expected beat is a mismatch too.
        await ClockCycles(dut.clk, 2 * (config.rows + config.cols) + 8)

        results["cycles_rtl"] = cycles_rtl
        results["cycles_model"] = cycles_model
        results["cycles_match"] = cycles_rtl == cycles_model
        results["cycle_mismatches"] = [
            {"tile": i, **shapes[i], "rtl": r, "model": m}
            for i, (r, m) in enumerate(zip(cycles_rtl, cycles_model, strict=True))
            if r != m
        ]
        results["tile_shapes"] = shapes
        results["tiles"] = len(latency_tiles) + len(stream_tiles)
    except Exception as exc:  # recorded for the caller; the verdict says what failed
        results["error"] = f"{type(exc).__name__}: {exc}"
        results["traceback"] = traceback.format_exc(limit=6)
    finally:
        if bench is not None:
            sb = bench.scoreboard
            unknown = bench.monitor.unknown_cycles
            results["outputs_match"] = sb.ok and not unknown and results["error"] is None
            results["mismatch_count"] = sb.mismatch_count + sb.pending
            results["mismatches"] = sb.mismatches + [
                {"stream": "o_c", "kind": "missing beat", **tag} for tag in sb.missing()[:4]
            ]
            if unknown:
                results["mismatches"].append(
                    {"stream": "o_c", "kind": "X/Z payload", "cycles": unknown[:8]}
                )
            results["beats_checked"] = sb.checked
            results["sim_cycles"] = bench.clock.now()
        results["bench_seconds"] = round(time.perf_counter() - wall, 3)
        with open(os.environ[ENV_RESULTS], "w") as handle:
            json.dump(results, handle, indent=1)
