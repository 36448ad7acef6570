"""Engine ``tree`` RTL (naive, booth and opt2 trees) under the Amaranth simulator.

The DUT is built through the engine registry and driven with :func:`fold_stimulus` beats
through the shared stream bench (``_engine_stream_bench``: payload packing, throttling,
simulator reuse). References: each fold's partial sums against ``A @ B`` computed in numpy and
wrapped to ``acc_width_bits`` by the bench's ``check_folds``; the beats' layout against the
module docstring's table, re-derived here; fold cycles (no throttling) against the model's
``fold_cycles`` and against the closed form ``D + T + C + L - 1 + X`` written out here.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from _engine_stream_bench import Run, check_folds, levels, random_int8, simulate
from _require import require

require("amaranth")

from amaranth.back import verilog  # noqa: E402

from hwsim.accelerators.engines import EngineConfig  # noqa: E402
from hwsim.accelerators.engines.model import fold_cycles  # noqa: E402
from hwsim.config import ConfigError  # noqa: E402
from hwsim.rtl.engine_common import build_engine, engine_fold_stimulus  # noqa: E402
from hwsim.rtl.tree import check_rtl_config  # noqa: E402

MACS = ("naive", "booth", "opt2")
EXTRA = {"naive": 0, "booth": 0, "opt2": 3}


def config_of(mac: str, rows: int, cols: int, depth: int, acc: int = 32,
              **fields) -> EngineConfig:
    return EngineConfig(engine="tree", rows=rows, cols=cols, depth=depth, mac=mac,
                        acc_width_bits=acc, **fields)


def results(config: EngineConfig, beats: np.ndarray, m: int) -> np.ndarray:
    """A fold's C tile (``m`` rows) from its o_c beats (T x R*C): element ``r*C + j`` of beat
    ``t`` is ``C[t*R + r, j]`` (module docstring)."""
    return beats.reshape(-1, config.cols)[:m]


def check(config: EngineConfig, tiles, run: Run, seed: int) -> None:  # noqa: ANN001
    """The tile decoded by :func:`results` against the reference zero-padded to m x cols."""
    check_folds(config, tiles, run, seed,
                decode=lambda beats, a, b: results(config, beats, a.shape[0]),
                pad_to=lambda a, b: (a.shape[0], config.cols))


def random_tiles(config: EngineConfig, rng: np.random.Generator, max_m: int):
    m = int(rng.integers(1, max_m + 1))
    k = int(rng.integers(1, config.depth + 1))
    n = int(rng.integers(1, config.cols + 1))
    return random_int8(rng, (m, k)), random_int8(rng, (k, n))


# (rows, cols, depth, acc): odd shapes, depth 1 / 2 / 3, an accumulator as narrow as a
# fold's partial sum (17 = 2*8 + ceil(log2 2)).
SHAPES = [(2, 3, 3, 32), (3, 2, 2, 17), (1, 2, 1, 16)]


@pytest.mark.parametrize("mac", MACS)
@pytest.mark.parametrize("rows,cols,depth,acc", SHAPES, ids=lambda v: str(v))
def test_folds_bit_exact_and_on_contract(mac, rows, cols, depth, acc, seed):
    """Two back-to-back folds (different T, partial k and n), no throttling: the partial sums
    are exact and each fold takes fold_cycles = D + T + C + L - 1 + X cycles."""
    config = config_of(mac, rows, cols, depth, acc)
    rng = np.random.default_rng(seed)
    tiles = [random_tiles(config, rng, 3 * rows) for _ in range(2)]
    folds = [engine_fold_stimulus(config, a, b) for a, b in tiles]
    run = simulate(config, folds)
    check(config, tiles, run, seed)
    for n, (a, _) in enumerate(tiles):
        t = -(-a.shape[0] // rows)
        closed_form = depth + t + cols + levels(depth) - 1 + EXTRA[mac]
        assert folds[n].contract_cycles == int(fold_cycles(config, t)) == closed_form
        assert run.cycles[n] == closed_form, (
            f"fold {n} (T={t}) took {run.cycles[n]} cycles, contract {closed_form} "
            f"({rows}x{cols}x{depth} {mac}, seed {seed})"
        )


@pytest.mark.parametrize("mac", MACS)
def test_random_throttling_on_every_port(mac, seed):
    """Random valid on both inputs and random o_c.ready (the pipeline stalls); three folds
    back to back; outputs still exact and ``last`` in place."""
    config = config_of(mac, 2, 3, 3)  # a SHAPES config: its simulator is reused
    rng = np.random.default_rng(seed)
    tiles = [random_tiles(config, rng, 7) for _ in range(3)]
    folds = [engine_fold_stimulus(config, a, b) for a, b in tiles]
    run = simulate(config, folds, random.Random(seed), p_valid=0.5, p_ready=0.4)
    check(config, tiles, run, seed)
    assert all(c >= f.contract_cycles for c, f in zip(run.cycles, folds, strict=True))


@pytest.mark.parametrize("mac", MACS)
def test_extreme_operands_fill_the_partial_sum_width(mac):
    """A = -128 everywhere, B = -128 (columns 0) and 127 (column 1), depth 2: the partial
    sums are 2 * 2**14 = 32768 and 2 * -16256 = -32512 (hand figures), which need all 17
    bits of psum_width = 2*8 + 1 (the accumulator is that narrow too)."""
    config = config_of(mac, 3, 2, 2, acc=17)
    a = np.full((5, 2), -128)
    b = np.array([[-128, 127], [-128, 127]])
    run = simulate(config, [engine_fold_stimulus(config, a, b)] * 2)
    for n in range(2):
        got = results(config, run.beats(n), 5)
        assert (got[:, 0] == 32768).all() and (got[:, 1] == -32512).all(), got


def test_beat_layout_matches_the_docstring():
    """Weight beat d is B[d, :]; A beat t holds A[t*R + r, d] at r*D + d; o_c beat t holds
    C[t*R + r, j] at r*C + j; m, k and n are zero-padded."""
    config = config_of("naive", 2, 3, 2)
    a = np.array([[1], [2], [3]])  # m = 3 -> T = 2; k = 1 < depth
    b = np.array([[5, 6]])  # n = 2 < cols
    fold = engine_fold_stimulus(config, a, b)
    assert fold.b_beats == [[5, 6, 0], [0, 0, 0]]
    assert fold.a_beats == [[1, 0, 2, 0], [3, 0, 0, 0]]
    assert fold.c_beats == [[5, 6, 0, 10, 12, 0], [15, 18, 0, 0, 0, 0]]
    assert fold.contract_cycles == 2 + 2 + 3 + 1 - 1


def test_naive_takes_narrow_operands():
    config = config_of("naive", 2, 2, 3, acc=13, in_width_bits=5)
    rng = np.random.default_rng(5)
    tiles = [(rng.integers(-16, 16, (3, 3)), rng.integers(-16, 16, (3, 2))) for _ in range(2)]
    run = simulate(config, [engine_fold_stimulus(config, a, b) for a, b in tiles])
    check(config, tiles, run, seed=5)


@pytest.mark.parametrize("mac", MACS)
def test_converts_to_verilog(mac):
    config = config_of(mac, 1, 1, 2)
    text = verilog.convert(build_engine(config), name=f"tree_{mac}", emit_src=False)
    assert f"module tree_{mac}" in text
    assert "i_a__payload" in text and "o_c__payload" in text


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"mac": "booth", "in_width_bits": 6}, "in_width_bits must be 8 for mac booth"),
        ({"rows": 16, "cols": 16, "depth": 8}, "rows*cols*depth must be <= 512"),
    ],
)
def test_unbuildable_configs_raise_one_line_errors(fields, message):
    config = config_of(**{"mac": "naive", "rows": 2, "cols": 2, "depth": 2, **fields})
    with pytest.raises(ConfigError, match=message.replace("*", r"\*")) as info:
        build_engine(config)
    assert "\n" not in str(info.value)


def test_other_engines_and_oversized_tiles_are_refused():
    with pytest.raises(ConfigError, match="engine must be tree"):
        check_rtl_config(EngineConfig(engine="matrix2d"))
    config = config_of("naive", 2, 2, 2)
    with pytest.raises(ConfigError, match="k <= depth=2"):
        engine_fold_stimulus(config, np.zeros((3, 3), dtype=np.int64),
                             np.zeros((3, 2), dtype=np.int64))


def test_opt2_with_booth_digits(seed):
    """opt2 with the radix-4 Booth encoder instead of EN-T: still exact and on contract."""
    config = config_of("opt2", 3, 2, 2, acc=17, digit_encoding="booth")
    rng = np.random.default_rng(seed)
    tiles = [random_tiles(config, rng, 7) for _ in range(2)]
    folds = [engine_fold_stimulus(config, a, b) for a, b in tiles]
    run = simulate(config, folds)
    check(config, tiles, run, seed)
    assert run.cycles == [f.contract_cycles for f in folds], f"seed {seed}"

