"""Engine ``cube`` RTL (naive, booth and opt1 y-chains) under the Amaranth simulator.

The DUT is built through the engine registry (:func:`hwsim.rtl.engine_common.build_engine`)
and driven with :func:`fold_stimulus` beats. References: outputs against ``A @ B`` computed
here in numpy and wrapped to ``acc_width_bits`` here; the beats' layout against the module
docstring's table, re-derived here from the tiles; fold cycles (no throttling) against the
model's ``fold_cycles`` and against the closed form ``T + 2R + C + D - 2 + X`` written out
here. Payload bits are packed and unpacked by hand (element ``e`` at ``[e*W +: W]``,
``last`` at bit ``N*W``), so the Verilog port layout is checked too.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

import numpy as np
import pytest
from _require import require

require("amaranth")

from amaranth.back import verilog  # noqa: E402
from amaranth.hdl import Fragment  # noqa: E402
from amaranth.sim import Simulator  # noqa: E402

from hwsim.accelerators.engines import EngineConfig  # noqa: E402
from hwsim.accelerators.engines.model import fold_cycles  # noqa: E402
from hwsim.config import ConfigError  # noqa: E402
from hwsim.rtl.cube import CubeEngine, check_rtl_config  # noqa: E402
from hwsim.rtl.engine_common import FoldStimulus, build_engine, engine_fold_stimulus  # noqa: E402

MACS = ("naive", "booth", "opt1")
EXTRA = {"naive": 0, "booth": 0, "opt1": 1}  # opt1: the registered CPA row on the drain


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


def wrap(x: np.ndarray, bits: int) -> np.ndarray:
    x = np.asarray(x, dtype=np.int64) & ((1 << bits) - 1)
    return np.where(x >> (bits - 1), x - (1 << bits), x)


@dataclass
class Run:
    outputs: list[list[list[int]]] = field(default_factory=list)  # o_c beats per fold
    lasts_ok: bool = True
    fold_cycles: list[int] = field(default_factory=list)


def simulate(config: EngineConfig, folds: list[FoldStimulus], rng: random.Random | None = None,
             p_valid: float = 0.6, p_ready: float = 0.5) -> Run:
    """Drive ``folds`` back to back; ``rng`` throttles both valids and ``o_c.ready`` at random
    (junk payload while a valid is low). A fold's cycles: from its first accepted input beat
    (either port) to its last ``o_c`` beat, inclusive."""
    dut = build_engine(config)
    w, accw, rows, cols = config.in_width_bits, config.acc_width_bits, config.rows, config.cols
    a_q = [(n, beat, last) for n, f in enumerate(folds)
           for beat, last in zip(f.a_beats, f.a_last, strict=True)]
    b_q = [(n, beat, last) for n, f in enumerate(folds)
           for beat, last in zip(f.b_beats, f.b_last, strict=True)]
    run = Run(outputs=[[] for _ in folds])
    first_in: list[int | None] = [None] * len(folds)
    last_out: list[int | None] = [None] * len(folds)
    limit = 40 * (len(a_q) + len(folds) * (rows + config.cols + config.depth)) + 200

    async def bench(ctx):
        queues = {"a": [dut.i_a, a_q, 0, False], "b": [dut.i_b, b_q, 0, False]}
        cycle = fold_out = 0
        while fold_out < len(folds):
            assert cycle < limit, "simulation did not finish"
            for state in queues.values():
                port, queue, idx, hold = state
                if idx < len(queue) and not hold:
                    hold = rng is None or rng.random() < p_valid
                if idx < len(queue) and hold:
                    _, values, last = queue[idx]
                    ctx.set(port.payload.as_value(), pack(values, w, last))
                else:
                    hold = False
                    junk = rng.getrandbits(len(port.payload.as_value())) if rng else 0
                    ctx.set(port.payload.as_value(), junk)
                ctx.set(port.valid, hold)
                state[3] = hold
            ready = rng is None or rng.random() < p_ready
            ctx.set(dut.o_c.ready, ready)
            fired = {k: s[3] and ctx.get(s[0].ready) for k, s in queues.items()}
            if ctx.get(dut.o_c.valid) and ready:
                values, last = unpack(ctx.get(dut.o_c.payload.as_value()), accw, cols)
                got = run.outputs[fold_out]
                got.append(values)
                if last != (len(got) == rows):
                    run.lasts_ok = False
                if len(got) == rows:
                    last_out[fold_out] = cycle
                    fold_out += 1
            for key, state in queues.items():
                if fired[key]:
                    n = state[1][state[2]][0]
                    if first_in[n] is None:
                        first_in[n] = cycle
                    state[2] += 1
                    state[3] = False
            await ctx.tick()
            cycle += 1

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    run.fold_cycles = [last_out[n] - first_in[n] + 1 for n in range(len(folds))]
    return run


def random_int8(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Uniform int8 with about a fifth of the entries at the extremes -128 / 127."""
    x = rng.integers(-128, 128, shape)
    extreme = rng.random(shape) < 0.2
    return np.where(extreme, rng.choice([-128, 127], shape), x)


def config_of(mac: str, rows: int, cols: int, depth: int, acc: int = 32) -> EngineConfig:
    return EngineConfig(engine="cube", mac=mac, rows=rows, cols=cols, depth=depth,
                        acc_width_bits=acc)


def check(config: EngineConfig, tiles, run: Run, seed: int) -> None:
    assert run.lasts_ok, f"o_c.last misplaced (seed {seed}, {config.mac})"
    for n, (a, b) in enumerate(tiles):
        want = wrap(a @ b, config.acc_width_bits)
        got = np.array(run.outputs[n], dtype=np.int64)[: a.shape[0], : b.shape[1]]
        assert np.array_equal(got, want), (
            f"fold {n} of cube {config.rows}x{config.cols}x{config.depth} {config.mac} "
            f"acc{config.acc_width_bits}, seed {seed}:\ngot\n{got}\nwant\n{want}"
        )


SHAPES = [(2, 3, 3), (3, 2, 1)]


@pytest.mark.parametrize("mac", MACS)
@pytest.mark.parametrize("rows,cols,depth", SHAPES, ids=lambda v: str(v))
def test_folds_bit_exact_and_on_contract(mac, rows, cols, depth, seed):
    """Three back-to-back folds (K not a multiple of depth, full and partial tiles), no
    throttling: C equals numpy's wrapped product and every fold takes exactly the contract."""
    config = config_of(mac, rows, cols, depth)
    rng = np.random.default_rng(seed)
    tiles = []
    for k in (int(rng.integers(1, 3 * depth + 2)), 1, int(rng.integers(depth, 3 * depth + 1))):
        m, n = int(rng.integers(1, rows + 1)), int(rng.integers(1, cols + 1))
        tiles.append((random_int8(rng, (m, k)), random_int8(rng, (k, n))))
    tiles[1] = (random_int8(rng, (rows, 1)), random_int8(rng, (1, cols)))  # a full tile, K = 1
    folds = [engine_fold_stimulus(config, a, b) for a, b in tiles]
    run = simulate(config, folds)
    check(config, tiles, run, seed)
    for n, (a, _) in enumerate(tiles):
        t = math.ceil(a.shape[1] / depth)
        closed_form = t + 2 * rows + cols + depth - 2 + EXTRA[mac]
        assert folds[n].contract_cycles == int(fold_cycles(config, t)) == closed_form
        assert run.fold_cycles[n] == closed_form, (
            f"fold {n} (T={t}) took {run.fold_cycles[n]} cycles, contract {closed_form} "
            f"(cube {rows}x{cols}x{depth} {mac}, seed {seed})"
        )


@pytest.mark.parametrize("mac", MACS)
def test_random_throttling_on_every_port(mac, seed):
    """Random valid on both inputs and random o_c.ready, three folds back to back: outputs
    still bit-exact, ``last`` in place, and no fold faster than the contract."""
    config = config_of(mac, 2, 1, 3)
    rng = np.random.default_rng(seed)
    tiles = []
    for _ in range(3):
        k = int(rng.integers(1, 8))
        tiles.append((random_int8(rng, (2, k)), random_int8(rng, (k, 1))))
    folds = [engine_fold_stimulus(config, a, b) for a, b in tiles]
    run = simulate(config, folds, random.Random(seed), p_valid=0.5, p_ready=0.35)
    check(config, tiles, run, seed)
    for n, fold in enumerate(folds):
        assert run.fold_cycles[n] >= fold.contract_cycles, f"seed {seed}, fold {n}"


@pytest.mark.parametrize("mac", MACS)
def test_all_minus_128_wraps_at_the_accumulator(mac):
    """-128 * -128 = 16384 summed K = 5 times is 81920, which a 17-bit accumulator (the
    narrowest allowed for depth 2: 2*8 + 1) cannot hold: C must wrap to 81920 - 2**17."""
    config = config_of(mac, 2, 3, 2, acc=17)
    assert config.psum_width_bits == 17
    tiles = [(np.full((2, 5), -128), np.full((5, 3), -128)),
             (np.full((2, 3), 127), np.full((3, 3), -128))]
    run = simulate(config, [engine_fold_stimulus(config, a, b) for a, b in tiles])
    check(config, tiles, run, seed=0)
    assert (np.array(run.outputs[0]) == 81920 - (1 << 17)).all()  # worked by hand
    assert (np.array(run.outputs[1]) == 3 * 127 * -128).all()


def test_beat_layout_matches_the_docstring():
    """i_a beat t = A[0..R-1, tD..tD+D-1] row-major, i_b beat t = B[tD..tD+D-1, :] row-major,
    o_c beat r = C[r, :]; a partial tile and a short last k-chunk are zero-padded."""
    config = config_of("naive", 3, 2, 2)
    a = np.arange(1, 11).reshape(2, 5)  # m = 2 < rows, K = 5 -> T = 3, last chunk padded
    b = -np.arange(1, 6).reshape(5, 1)  # n = 1 < cols
    fold = check_and_stimulus(config, a, b)
    assert fold.a_beats == [[1, 2, 6, 7, 0, 0], [3, 4, 8, 9, 0, 0], [5, 0, 10, 0, 0, 0]]
    assert fold.b_beats == [[-1, 0, -2, 0], [-3, 0, -4, 0], [-5, 0, 0, 0]]
    assert fold.a_last == [False, False, True] and fold.b_last == [False, False, True]
    assert fold.c_beats == [[-55, 0], [-130, 0], [0, 0]]  # 1+4+9+16+25, 6+14+24+36+50
    dut = CubeEngine(config)
    Fragment.get(dut, None)  # elaborates
    assert len(dut.i_a.payload.as_value()) == 3 * 2 * 8 + 1
    assert len(dut.i_b.payload.as_value()) == 2 * 2 * 8 + 1
    assert len(dut.o_c.payload.as_value()) == 2 * 32 + 1


def check_and_stimulus(config: EngineConfig, a, b) -> FoldStimulus:
    check_rtl_config(config)
    return engine_fold_stimulus(config, a, b)


def test_naive_takes_narrow_operands(seed):
    config = EngineConfig(engine="cube", mac="naive", rows=2, cols=2, depth=3, in_width_bits=3,
                          acc_width_bits=8)
    rng = np.random.default_rng(seed)
    tiles = [(rng.integers(-4, 4, (2, 7)), rng.integers(-4, 4, (7, 2))),
             (np.full((2, 9), -4), np.full((9, 2), -4))]  # 9 * 16 = 144 wraps in 8 bits
    run = simulate(config, [engine_fold_stimulus(config, a, b) for a, b in tiles])
    check(config, tiles, run, seed)


@pytest.mark.parametrize("mac", MACS)
def test_converts_to_verilog(mac):
    config = config_of(mac, 1, 2, 2)
    text = verilog.convert(build_engine(config), name=f"cube_{mac}", emit_src=False)
    assert f"module cube_{mac}" in text
    for port in ("i_a__payload", "i_b__ready", "o_c__valid"):
        assert port in text
    # Only the naive PEs use a multiplier (Amaranth `*`); booth and opt1 build Booth rows.
    multiplies = [line for line in text.splitlines()
                  if line.lstrip().startswith("assign") and " * " in line]
    assert bool(multiplies) == (mac == "naive")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"mac": "booth", "in_width_bits": 6},
         "in_width_bits must be 8 for the cube RTL generator with mac booth, got 6"),
        ({"mac": "naive", "in_width_bits": 17, "acc_width_bits": 40}, None),
        ({"rows": 16, "cols": 16, "depth": 8},
         "rows*cols*depth must be <= 512 PEs (e.g. 8x8x8) for the cube RTL generator, got "
         "rows=16 x cols=16 x depth=8 = 2048"),
    ],
)
def test_unbuildable_configs_raise_one_line_errors(fields, message):
    try:
        config = EngineConfig(engine="cube", **fields)
    except ConfigError as exc:  # the config itself refuses in_width 17
        assert "\n" not in str(exc) and message is None
        return
    with pytest.raises(ConfigError) as info:
        build_engine(config)
    assert "\n" not in str(info.value)
    if message is not None:
        assert str(info.value) == message


def test_other_engines_and_oversized_tiles_are_refused():
    with pytest.raises(ConfigError, match="engine must be cube"):
        check_rtl_config(EngineConfig(engine="matrix2d"))
    config = config_of("naive", 2, 2, 2)
    with pytest.raises(ConfigError, match="tile must fit one fold"):
        engine_fold_stimulus(config, np.zeros((3, 2), np.int64), np.zeros((2, 2), np.int64))
