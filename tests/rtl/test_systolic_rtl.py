"""The systolic RTL under the Amaranth simulator: C bit-exact against the golden GEMM, and the
measured tile latency against the model's ``hwsim`` latency contract.

The stimulus packs and unpacks payload bits by hand (element ``e`` at bits ``[e*W +: W]``,
``last`` at bit ``N*W``), so the port layout the cocotb side relies on is checked here too.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np
import pytest
from _require import require

require("amaranth")

from amaranth.hdl import Fragment  # noqa: E402
from amaranth.sim import Simulator  # noqa: E402

from hwsim.accelerators.systolic import SystolicConfig  # noqa: E402
from hwsim.accelerators.systolic.golden import gemm  # noqa: E402
from hwsim.accelerators.systolic.model import cycles_per_fold  # noqa: E402
from hwsim.config import ConfigError  # noqa: E402
from hwsim.rtl.systolic import SystolicArray  # noqa: E402


def pack(values, width: int, last: bool) -> int:
    word = 0
    for e, v in enumerate(values):
        word |= (int(v) & ((1 << width) - 1)) << (e * width)
    return word | (int(last) << (len(values) * width))


def unpack(word: int, width: int, n: int) -> tuple[list[int], bool]:
    out = []
    for e in range(n):
        v = (word >> (e * width)) & ((1 << width) - 1)
        out.append(v - (1 << width) if v >> (width - 1) else v)
    return out, bool((word >> (n * width)) & 1)


@dataclass
class Tile:
    a: np.ndarray  # os: rows x K; ws: M x rows
    b: np.ndarray  # os: K x cols; ws: rows x cols

    def streams(self, dataflow: str) -> tuple[list, list]:
        if dataflow == "os":
            k = self.a.shape[1]
            a_beats = [(self.a[:, t], t == k - 1) for t in range(k)]
            b_beats = [(self.b[t, :], t == k - 1) for t in range(k)]
        else:
            rows, mm = self.b.shape[0], self.a.shape[0]
            a_beats = [(self.a[t, :], t == mm - 1) for t in range(mm)]
            b_beats = [(self.b[t, :], t == rows - 1) for t in range(rows)]
        return a_beats, b_beats

    def t(self, dataflow: str) -> int:
        return self.a.shape[1] if dataflow == "os" else self.a.shape[0]


@dataclass
class Run:
    outputs: list[np.ndarray] = field(default_factory=list)  # C per tile
    lasts_ok: bool = True
    latency_cycles: list[int] = field(default_factory=list)


def simulate(config: SystolicConfig, tiles: list[Tile], rng: random.Random | None = None,
             p_valid: float = 0.6, p_ready: float = 0.5, mac: str = "naive") -> Run:
    """Drive ``tiles`` through the DUT (``mac`` PEs); ``rng`` throttles every valid and ready
    at random.

    Latency of a tile: from the cycle its first input beat (either port) is accepted to the
    cycle of its last o_c beat, inclusive.
    """
    dut = SystolicArray(config, mac=mac)
    w, accw, rows, cols = (config.in_width_bits, config.acc_width_bits, config.rows,
                           config.cols)
    df = config.dataflow
    a_q, b_q, n_out, first_in = [], [], [], []
    for n, tile in enumerate(tiles):
        a_beats, b_beats = tile.streams(df)
        a_q += [(n, *beat) for beat in a_beats]
        b_q += [(n, *beat) for beat in b_beats]
        n_out.append(rows if df == "os" else tile.a.shape[0])
        first_in.append(None)
    run = Run()
    got: list[list] = [[] for _ in tiles]
    last_out = [None] * len(tiles)
    limit = 40 * (sum(len(x) for x in (a_q, b_q)) + sum(n_out) + rows + cols) + 100

    async def bench(ctx):
        ai = bi = cycle = 0
        a_hold = b_hold = False
        tile_out = 0
        while tile_out < len(tiles):
            assert cycle < limit, "simulation did not finish"
            for port, queue, idx, hold_name, width in (
                (dut.i_a, a_q, ai, "a", w), (dut.i_b, b_q, bi, "b", w)
            ):
                hold = a_hold if hold_name == "a" else b_hold
                if idx < len(queue) and not hold:
                    hold = rng is None or rng.random() < p_valid
                if idx < len(queue) and hold:
                    _, values, last = queue[idx]
                    ctx.set(port.payload.as_value(), pack(values, width, last))
                else:
                    hold = False
                    junk = rng.getrandbits(len(port.payload.as_value())) if rng else 0
                    ctx.set(port.payload.as_value(), junk)
                ctx.set(port.valid, hold)
                if hold_name == "a":
                    a_hold = hold
                else:
                    b_hold = hold
            ready = rng is None or rng.random() < p_ready
            ctx.set(dut.o_c.ready, ready)
            a_fire = a_hold and ctx.get(dut.i_a.ready)
            b_fire = b_hold and ctx.get(dut.i_b.ready)
            if ctx.get(dut.o_c.valid) and ready:
                values, last = unpack(ctx.get(dut.o_c.payload.as_value()), accw, cols)
                got[tile_out].append(values)
                if last != (len(got[tile_out]) == n_out[tile_out]):
                    run.lasts_ok = False
                if len(got[tile_out]) == n_out[tile_out]:
                    last_out[tile_out] = cycle
                    tile_out += 1
            for fired, queue, idx in ((a_fire, a_q, ai), (b_fire, b_q, bi)):
                if fired:
                    n = queue[idx][0]
                    if first_in[n] is None:
                        first_in[n] = cycle
            if a_fire:
                ai += 1
                a_hold = False
            if b_fire:
                bi += 1
                b_hold = False
            await ctx.tick()
            cycle += 1

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    run.outputs = [np.array(rows_, dtype=np.int64) for rows_ in got]
    run.latency_cycles = [last_out[n] - first_in[n] + 1 for n in range(len(tiles))]
    return run


def random_tile(config: SystolicConfig, t: int, rng: np.random.Generator,
                fill: int | None = None) -> Tile:
    lo, hi = -(1 << (config.in_width_bits - 1)), (1 << (config.in_width_bits - 1))
    if config.dataflow == "os":
        shape_a, shape_b = (config.rows, t), (t, config.cols)
    else:
        shape_a, shape_b = (t, config.rows), (config.rows, config.cols)
    if fill is not None:
        return Tile(np.full(shape_a, fill, np.int64), np.full(shape_b, fill, np.int64))
    return Tile(rng.integers(lo, hi, shape_a), rng.integers(lo, hi, shape_b))


def expected(config: SystolicConfig, tile: Tile) -> np.ndarray:
    return gemm(tile.a, tile.b, in_width_bits=config.in_width_bits,
                acc_width_bits=config.acc_width_bits)


def check(config: SystolicConfig, tiles: list[Tile], run: Run, seed: int) -> None:
    assert run.lasts_ok, f"o_c.last misplaced (seed {seed}, {config})"
    for n, tile in enumerate(tiles):
        want = expected(config, tile)
        assert np.array_equal(run.outputs[n], want), (
            f"tile {n} of {config.rows}x{config.cols} {config.dataflow} "
            f"int{config.in_width_bits}/acc{config.acc_width_bits}, seed {seed}:\n"
            f"got\n{run.outputs[n]}\nwant\n{want}"
        )


SHAPES = [
    (1, 1, 4, 8),
    (2, 2, 4, 8),
    (3, 5, 3, 8),
    (5, 3, 5, 12),
    (4, 4, 8, 20),
]


@pytest.mark.parametrize("dataflow", ["os", "ws"])
@pytest.mark.parametrize("rows,cols,w,acc", SHAPES, ids=lambda v: str(v))
def test_random_tiles_bit_exact_and_on_contract(dataflow, rows, cols, w, acc, seed):
    """Two back-to-back random tiles (different T), no throttling: C equals the golden GEMM
    and every tile's latency equals the model's ``cycles_per_fold`` (hwsim convention)."""
    config = SystolicConfig(rows=rows, cols=cols, dataflow=dataflow, in_width_bits=w,
                            acc_width_bits=acc)
    rng = np.random.default_rng(seed)
    ts = [int(rng.integers(1, 7)), int(rng.integers(1, 7))]
    tiles = [random_tile(config, t, rng) for t in ts]
    run = simulate(config, tiles)
    check(config, tiles, run, seed)
    for n, tile in enumerate(tiles):
        want = int(cycles_per_fold(config, tile.t(dataflow), "hwsim"))
        assert run.latency_cycles[n] == want, (
            f"tile {n} (T={tile.t(dataflow)}) took {run.latency_cycles[n]} cycles, model says "
            f"{want} ({config.rows}x{config.cols} {dataflow}, seed {seed})"
        )


@pytest.mark.parametrize("dataflow", ["os", "ws"])
@pytest.mark.parametrize("rows,cols,w,acc", SHAPES[1:4], ids=lambda v: str(v))
def test_random_throttling_on_every_port(dataflow, rows, cols, w, acc, seed):
    """Random valid on both inputs and random o_c.ready (long low stretches included); three
    tiles back to back; outputs still bit-exact and ``last`` in place."""
    config = SystolicConfig(rows=rows, cols=cols, dataflow=dataflow, in_width_bits=w,
                            acc_width_bits=acc)
    rng = np.random.default_rng(seed)
    tiles = [random_tile(config, int(rng.integers(1, 6)), rng) for _ in range(3)]
    run = simulate(config, tiles, random.Random(seed), p_valid=0.5, p_ready=0.3)
    check(config, tiles, run, seed)


@pytest.mark.parametrize("dataflow", ["os", "ws"])
@pytest.mark.parametrize("w", [3, 5, 8])
def test_extremes_wrap_at_the_accumulator(dataflow, w):
    """All operands at -2**(w-1): every product is +2**(2w-2); with acc = 2w bits a sum of
    more than one product overflows, and C must wrap exactly as the golden function does."""
    config = SystolicConfig(rows=3, cols=2, dataflow=dataflow, in_width_bits=w,
                            acc_width_bits=2 * w)
    lo = -(1 << (w - 1))
    tiles = [random_tile(config, 6, None, fill=lo), random_tile(config, 1, None, fill=lo)]
    run = simulate(config, tiles)
    check(config, tiles, run, seed=0)
    # Independent hand figure: terms * 2**(2w-2) mod 2**(2w), as signed, where the reduction
    # runs over K = T = 6 (os) or over K = rows = 3 (ws).
    terms = 6 if dataflow == "os" else config.rows
    value = (terms * (1 << (2 * w - 2))) % (1 << (2 * w))
    value = value - (1 << (2 * w)) if value >> (2 * w - 1) else value
    assert (run.outputs[0] == value).all()


@pytest.mark.parametrize("mac", ["booth", "opt1"])
@pytest.mark.parametrize("dataflow", ["os", "ws"])
def test_mac_variants_bit_exact_and_on_contract(mac, dataflow, seed):
    """Booth and carry-save (opt1) PEs on a 3x2 int8 array: two random tiles plus an all
    -128 tile equal the golden GEMM; booth keeps the model's cycles_per_fold, opt1 takes one
    more (its registered CPA row)."""
    config = SystolicConfig(rows=3, cols=2, dataflow=dataflow, in_width_bits=8,
                            acc_width_bits=18)
    rng = np.random.default_rng(seed)
    tiles = [random_tile(config, int(rng.integers(1, 6)), rng), random_tile(config, 4, rng),
             random_tile(config, 2, None, fill=-128)]
    run = simulate(config, tiles, mac=mac)
    check(config, tiles, run, seed)
    for n, tile in enumerate(tiles):
        want = int(cycles_per_fold(config, tile.t(dataflow), "hwsim")) + (mac == "opt1")
        assert run.latency_cycles[n] == want, (
            f"{mac} tile {n} (T={tile.t(dataflow)}) took {run.latency_cycles[n]} cycles, "
            f"want {want} ({dataflow}, seed {seed})"
        )


def test_unknown_mac_variant_is_one_line_error():
    with pytest.raises(ConfigError) as info:
        SystolicArray(SystolicConfig(rows=2, cols=2), mac="opt2")
    assert str(info.value) == (
        "mac must be one of naive, booth, opt1 for the systolic RTL generator, got 'opt2'"
    )


def test_throttled_latency_is_never_shorter_than_the_contract(seed):
    config = SystolicConfig(rows=3, cols=4, dataflow="ws", in_width_bits=4, acc_width_bits=12)
    rng = np.random.default_rng(seed)
    tiles = [random_tile(config, 4, rng)]
    run = simulate(config, tiles, random.Random(seed))
    check(config, tiles, run, seed)
    assert run.latency_cycles[0] >= cycles_per_fold(config, 4, "hwsim")


@pytest.mark.parametrize(
    "fields",
    [
        {"dataflow": "is"},
        {"in_width_bits": 17, "acc_width_bits": 40},
    ],
)
def test_unsupported_configs_raise_one_line_config_errors(fields):
    config = SystolicConfig(rows=2, cols=2, **fields)
    with pytest.raises(ConfigError) as info:
        SystolicArray(config)
    assert "\n" not in str(info.value)
    if fields.get("dataflow") == "is":
        assert str(info.value) == (
            "dataflow 'is' is not supported by the RTL generator; allowed: os, ws"
        )


def test_port_widths_follow_the_contract():
    config = SystolicConfig(rows=3, cols=5, dataflow="os", in_width_bits=6, acc_width_bits=20)
    dut = SystolicArray(config)
    Fragment.get(dut, None)  # elaborates
    assert len(dut.i_a.payload.as_value()) == 3 * 6 + 1
    assert len(dut.i_b.payload.as_value()) == 5 * 6 + 1
    assert len(dut.o_c.payload.as_value()) == 5 * 20 + 1
