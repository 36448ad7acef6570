"""The Amaranth stream bench shared by the engine RTL tests (``tests/rtl/test_engine_*.py``).

Every engine generator has the same three streams: ``i_a`` and ``i_b`` (operand beats in) and
``o_c`` (result beats out), each a valid/ready stream whose payload packs N signed elements,
element ``e`` at bits ``[e*W +: W]`` and ``last`` at bit ``N*W`` (W = ``in_width_bits`` on the
inputs, ``acc_width_bits`` on ``o_c``). The bench packs and unpacks those bits by hand, so the
port layout the cocotb side relies on is checked too.

:func:`simulate` drives the beats of :class:`FoldStimulus` folds back to back, optionally with
random valid / ready throttling, and records each fold's ``o_c`` beats, whether every ``last``
sits on the fold's final beat, and each fold's cycles (from the cycle its first input beat on
either port is accepted to the cycle of its last ``o_c`` beat, inclusive).

:func:`check_folds` holds the recorded beats against an independent reference: ``A @ B``
computed here in numpy int64 and wrapped here to ``acc_width_bits``, never against what the
DUT or the golden ``fold_stimulus`` produced.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from _require import require

require("amaranth")

from amaranth.sim import Simulator  # noqa: E402

from hwsim.accelerators.engines import EngineConfig  # noqa: E402
from hwsim.rtl.engine_common import FoldStimulus, build_engine  # noqa: E402

#: Bound on the simulated cycles per beat (in + out) before a run is declared hung. Pipelined
#: engines take about one cycle per beat, four with the throttling the tests use; digit-serial
#: engines (bitslice) spend up to 16 cycles on one input beat, so they pass a larger bound.
CYCLES_PER_BEAT = 40


def pack(values, width: int, last: bool) -> int:  # noqa: ANN001 - any iterable of ints
    """One payload word: element ``e`` of ``values`` at ``[e*width +: width]``, ``last`` above."""
    word = 0
    for e, v in enumerate(values):
        word |= (int(v) & ((1 << width) - 1)) << (e * width)
    return word | (int(last) << (len(values) * width))


def unpack(word: int, width: int, n: int) -> tuple[list[int], bool]:
    """The ``n`` signed ``width``-bit elements of a payload word, and its ``last`` bit."""
    out = []
    for e in range(n):
        v = (word >> (e * width)) & ((1 << width) - 1)
        out.append(v - (1 << width) if v >> (width - 1) else v)
    return out, bool((word >> (n * width)) & 1)


def wrap(x, bits: int) -> np.ndarray:  # noqa: ANN001 - an int or an int array
    """``x`` wrapped to a signed ``bits``-bit two's-complement value (elementwise, int64)."""
    x = np.asarray(x, dtype=np.int64) & ((1 << bits) - 1)
    return np.where(x >> (bits - 1), x - (1 << bits), x)


def levels(depth: int) -> int:
    """ceil(log2 depth) adder-tree levels, by halving (closed-form latency term)."""
    n = 0
    while depth > 1:
        depth, n = (depth + 1) // 2, n + 1
    return n


def random_int8(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Uniform int8 with about a third of the entries forced to -128 or 127."""
    x = rng.integers(-128, 128, shape)
    flat = x.reshape(-1)
    picks = rng.choice(flat.size, size=max(1, flat.size // 3), replace=False)
    flat[picks] = rng.choice([-128, 127], size=picks.size)
    return x


def describe(config: EngineConfig) -> str:
    """The config fields a failure message needs to replay the case (some engines ignore
    ``depth``, ``dataflow`` or ``digit_encoding``; they are named anyway)."""
    return (f"{config.engine} rows={config.rows} cols={config.cols} depth={config.depth} "
            f"mac={config.mac} dataflow={config.dataflow} "
            f"digit_encoding={config.digit_encoding} acc_width_bits={config.acc_width_bits}")


@dataclass
class Run:
    """What one :func:`simulate` call saw."""

    outputs: list[list[list[int]]] = field(default_factory=list)  # o_c beats per fold
    lasts_ok: bool = True  # o_c.last set on, and only on, each fold's final beat
    cycles: list[int] = field(default_factory=list)  # per fold (cycles)

    def beats(self, n: int) -> np.ndarray:
        """Fold ``n``'s o_c beats, one row per beat (int64)."""
        return np.array(self.outputs[n], dtype=np.int64)


class Bench:
    """One DUT and one compiled simulator per (builder, config), reused by every run of that
    config: compiling an engine for the simulator takes up to seconds, running a job
    milliseconds. :meth:`run` resets the simulator (signals and memories to their initial
    values, the testbench restarted) and drives a new job through it."""

    _cache: dict[tuple[Callable, EngineConfig], Bench] = {}

    def __init__(self, config: EngineConfig, build: Callable) -> None:
        self.key = (build, config)
        self.config = config
        self.dut = build(config)
        self.job: tuple | None = None
        self.sim = Simulator(self.dut)
        self.sim.add_clock(1e-8)
        self.sim.add_testbench(self._bench)
        self.started = False

    @classmethod
    def of(cls, config: EngineConfig, build: Callable = build_engine) -> Bench:
        key = (build, config)
        if key not in cls._cache:
            cls._cache[key] = cls(config, build)
        return cls._cache[key]

    def run(self, folds: list[FoldStimulus], rng: random.Random | None, p_valid: float,
            p_ready: float, cycles_per_beat: int) -> Run:
        self.job = (folds, rng, p_valid, p_ready, cycles_per_beat, Run())
        if self.started:
            self.sim.reset()
        self.started = True
        try:
            self.sim.run()
        except BaseException:
            # A run that failed mid-way leaves the simulator in an unknown state: rebuild it.
            self._cache.pop(self.key, None)
            raise
        return self.job[-1]

    async def _bench(self, ctx) -> None:  # noqa: ANN001 - an Amaranth SimulatorContext
        folds, rng, p_valid, p_ready, cycles_per_beat, run = self.job
        dut, config = self.dut, self.config
        w, accw = config.in_width_bits, config.acc_width_bits
        n_elems = len(folds[0].c_beats[0])  # from the stimulus, not from the DUT's port width
        queues = {"a": [], "b": []}
        for n, fold in enumerate(folds):
            queues["a"] += [(n, beat, last) for beat, last in zip(fold.a_beats, fold.a_last,
                                                                  strict=True)]
            queues["b"] += [(n, beat, last) for beat, last in zip(fold.b_beats, fold.b_last,
                                                                  strict=True)]
        n_out = [len(fold.c_beats) for fold in folds]
        got: list[list] = [[] for _ in folds]
        first_in: list[int | None] = [None] * len(folds)
        last_out: list[int | None] = [None] * len(folds)
        limit = cycles_per_beat * (
            len(queues["a"]) + len(queues["b"]) + sum(n_out)
            + len(folds) * (config.rows + config.cols + config.depth)
        ) + 200
        index = {"a": 0, "b": 0}
        hold = {"a": False, "b": False}
        ports = {"a": dut.i_a, "b": dut.i_b}
        cycle = fold_out = 0
        while fold_out < len(folds):
            assert cycle < limit, f"simulation did not finish in {limit} cycles"
            for key, port in ports.items():
                queue, idx = queues[key], index[key]
                if idx < len(queue) and not hold[key]:
                    hold[key] = rng is None or rng.random() < p_valid
                if idx < len(queue) and hold[key]:
                    _, values, last = queue[idx]
                    ctx.set(port.payload.as_value(), pack(values, w, last))
                else:
                    hold[key] = False
                    junk = rng.getrandbits(len(port.payload.as_value())) if rng else 0
                    ctx.set(port.payload.as_value(), junk)
                ctx.set(port.valid, hold[key])
            ready = rng is None or rng.random() < p_ready
            ctx.set(dut.o_c.ready, ready)
            fired = {key: hold[key] and ctx.get(port.ready) for key, port in ports.items()}
            if ctx.get(dut.o_c.valid) and ready:
                values, last = unpack(ctx.get(dut.o_c.payload.as_value()), accw, n_elems)
                got[fold_out].append(values)
                done = len(got[fold_out]) == n_out[fold_out]
                run.lasts_ok &= last == done
                if done:
                    last_out[fold_out] = cycle
                    fold_out += 1
            for key in ports:
                if fired[key]:
                    n = queues[key][index[key]][0]
                    if first_in[n] is None:
                        first_in[n] = cycle
                    index[key] += 1
                    hold[key] = False
            await ctx.tick()
            cycle += 1
        run.outputs = got
        run.cycles = [last_out[n] - first_in[n] + 1 for n in range(len(folds))]


def simulate(config: EngineConfig, folds: list[FoldStimulus], rng: random.Random | None = None,
             p_valid: float = 0.6, p_ready: float = 0.5, *, build: Callable = build_engine,
             cycles_per_beat: int = CYCLES_PER_BEAT) -> Run:
    """Drive ``folds`` back to back from reset through ``build(config)``; ``rng`` throttles
    both input valids and ``o_c.ready`` at random (junk payload while a valid is low).

    A fold ends at its ``len(c_beats)``-th o_c beat; ``cycles_per_beat`` bounds the run (raise
    it for engines whose latency per beat varies with the data, e.g. digit-serial ones).
    """
    return Bench.of(config, build).run(folds, rng, p_valid, p_ready, cycles_per_beat)


def check_folds(config: EngineConfig, tiles, run: Run, seed: int, *,  # noqa: ANN001
                decode: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray] | None = None,
                pad_to: Callable[[np.ndarray, np.ndarray], tuple[int, int]] | None = None
                ) -> None:
    """Every ``last`` in place and each fold's C equal to numpy's ``A @ B`` wrapped to
    ``acc_width_bits``; ``tiles`` are the folds' ``(A, B)`` int arrays.

    ``decode(beats, a, b)`` turns a fold's o_c beats (one row per beat) into the C tile to
    compare (default: beat r is row r, as is). ``pad_to(a, b)`` is the shape the reference is
    zero-padded to before comparing (default: no padding, ``M x N``).
    """
    assert run.lasts_ok, f"o_c.last misplaced ({describe(config)}, seed {seed})"
    for n, (a, b) in enumerate(tiles):
        want = wrap(np.asarray(a, dtype=np.int64) @ np.asarray(b, dtype=np.int64),
                    config.acc_width_bits)
        if pad_to is not None:
            padded = np.zeros(pad_to(a, b), dtype=np.int64)
            padded[: want.shape[0], : want.shape[1]] = want
            want = padded
        got = run.beats(n) if decode is None else decode(run.beats(n), a, b)
        assert np.array_equal(got, want), (
            f"fold {n} of {describe(config)}, seed {seed}:\ngot\n{got}\nwant\n{want}"
        )
