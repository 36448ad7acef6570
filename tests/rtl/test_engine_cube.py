"""Engine ``cube`` RTL (naive, booth and opt1 y-chains) under the Amaranth simulator.

The DUT is built through the engine registry (:func:`hwsim.rtl.engine_common.build_engine`)
and driven with :func:`fold_stimulus` beats through the shared stream bench
(``_engine_stream_bench``). References: outputs against ``A @ B`` computed in numpy and wrapped
to ``acc_width_bits`` by the bench's ``check_folds``; the beats' layout against the module
docstring's table, re-derived here from the tiles; fold cycles (no throttling) against the
model's ``fold_cycles`` and against the closed form ``T + 2R + C + D - 2 + X`` written out
here. The bench packs and unpacks the payload bits by hand (element ``e`` at ``[e*W +: W]``,
``last`` at bit ``N*W``), so the Verilog port layout is checked too.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from _engine_stream_bench import Run, check_folds, simulate
from _require import require

require("amaranth")

from amaranth.back import verilog  # noqa: E402
from amaranth.hdl import Fragment  # noqa: E402

from hwsim.accelerators.engines import EngineConfig  # noqa: E402
from hwsim.accelerators.engines.model import fold_cycles  # noqa: E402
from hwsim.config import ConfigError  # noqa: E402
from hwsim.rtl.cube import CubeEngine, check_rtl_config  # noqa: E402
from hwsim.rtl.engine_common import FoldStimulus, build_engine, engine_fold_stimulus  # noqa: E402

MACS = ("naive", "booth", "opt1")
EXTRA = {"naive": 0, "booth": 0, "opt1": 1}  # opt1: the registered CPA row on the drain


def random_int8(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Uniform int8 with about a fifth of the entries at the extremes -128 / 127."""
    x = rng.integers(-128, 128, shape)
    extreme = rng.random(shape) < 0.2
    return np.where(extreme, rng.choice([-128, 127], shape), x)


def config_of(mac: str, rows: int, cols: int, depth: int, acc: int = 32) -> EngineConfig:
    return EngineConfig(engine="cube", mac=mac, rows=rows, cols=cols, depth=depth,
                        acc_width_bits=acc)


def check(config: EngineConfig, tiles, run: Run, seed: int) -> None:  # noqa: ANN001
    """Beat r is row r of C; only the tile's M x N corner is compared (the padding is not)."""
    check_folds(config, tiles, run, seed,
                decode=lambda beats, a, b: beats[: a.shape[0], : b.shape[1]])


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
        assert run.cycles[n] == closed_form, (
            f"fold {n} (T={t}) took {run.cycles[n]} cycles, contract {closed_form} "
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
        assert run.cycles[n] >= fold.contract_cycles, f"seed {seed}, fold {n}"


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
