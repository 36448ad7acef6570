"""Engine ``matrix2d`` RTL (naive, booth, opt1 and opt2 PEs) under the Amaranth simulator.

The DUT is built through the engine registry (:func:`hwsim.rtl.engine_common.build_engine`)
and driven with :func:`fold_stimulus` beats through the shared stream bench
(``_engine_stream_bench``: payload bits packed and unpacked by hand, element ``e`` at
``[e*W +: W]``, ``last`` at ``N*W``). References: outputs against ``A @ B`` computed in numpy
and wrapped to ``acc_width_bits`` by the bench's ``check_folds``; the beats' layout against the
module docstring's table, re-derived here; fold cycles (no throttling) against the model's
``fold_cycles`` and against the closed form ``T + L + R + 1 + X`` written out here.
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
from hwsim.rtl.matrix2d import check_rtl_config  # noqa: E402

MACS = ("naive", "booth", "opt1", "opt2")
EXTRA = {"naive": 0, "booth": 0, "opt1": 1, "opt2": 3}


def config_of(mac: str, rows: int, cols: int, depth: int, acc: int = 32,
              **fields) -> EngineConfig:
    return EngineConfig(engine="matrix2d", rows=rows, cols=cols, depth=depth, mac=mac,
                        acc_width_bits=acc, **fields)


def check(config: EngineConfig, tiles, run: Run, seed: int) -> None:  # noqa: ANN001
    """Beat r is row r of the C tile (module docstring), padding included: the reference is
    zero-padded to rows x cols."""
    check_folds(config, tiles, run, seed, pad_to=lambda a, b: (config.rows, config.cols))


# (rows, cols, depth, acc): odd shapes, depth 1 / 2 / 3, an accumulator as narrow as the
# dot product (17 = 2*8 + ceil(log2 2)), which wraps.
SHAPES = [(2, 3, 3, 32), (3, 2, 2, 17), (1, 2, 1, 16)]


@pytest.mark.parametrize("mac", MACS)
@pytest.mark.parametrize("rows,cols,depth,acc", SHAPES, ids=lambda v: str(v))
def test_folds_bit_exact_and_on_contract(mac, rows, cols, depth, acc, seed):
    """Two back-to-back folds (different T, K not a multiple of depth), no throttling: C is
    exact and each fold takes the model's fold_cycles = T + L + R + 1 + X cycles."""
    config = config_of(mac, rows, cols, depth, acc)
    rng = np.random.default_rng(seed)
    ks = [int(rng.integers(1, 3 * depth + 1)), int(rng.integers(1, 3 * depth + 1))]
    tiles = [(random_int8(rng, (rows, k)), random_int8(rng, (k, cols))) for k in ks]
    folds = [engine_fold_stimulus(config, a, b) for a, b in tiles]
    run = simulate(config, folds)
    check(config, tiles, run, seed)
    for n, k in enumerate(ks):
        t = -(-k // depth)
        closed_form = t + levels(depth) + rows + 1 + EXTRA[mac]
        assert folds[n].contract_cycles == int(fold_cycles(config, t)) == closed_form
        assert run.cycles[n] == closed_form, (
            f"fold {n} (T={t}) took {run.cycles[n]} cycles, contract {closed_form} "
            f"({rows}x{cols}x{depth} {mac}, seed {seed})"
        )


@pytest.mark.parametrize("mac", MACS)
def test_random_throttling_on_every_port(mac, seed):
    """Random valid on both inputs and random o_c.ready; three folds back to back, partial
    tiles included; outputs still exact and ``last`` in place."""
    config = config_of(mac, 3, 2, 2, acc=17)  # a SHAPES config: its simulator is reused
    rng = np.random.default_rng(seed)
    tiles = []
    for _ in range(3):
        m, n, k = int(rng.integers(1, 4)), int(rng.integers(1, 3)), int(rng.integers(1, 8))
        tiles.append((random_int8(rng, (m, k)), random_int8(rng, (k, n))))
    folds = [engine_fold_stimulus(config, a, b) for a, b in tiles]
    run = simulate(config, folds, random.Random(seed), p_valid=0.5, p_ready=0.4)
    check(config, tiles, run, seed)
    assert all(c >= f.contract_cycles for c, f in zip(run.cycles, folds, strict=True))


@pytest.mark.parametrize("mac", MACS)
def test_all_minus_128_wraps_at_the_accumulator(mac):
    """All operands -128: every product is 2**14. With K = 8 and acc = psum width
    2*8 + ceil(log2 2) = 17 bits, the sum 2**17 wraps to 0 (independent hand figure), and a
    K = 6 fold gives 6 * 2**14 - 2**17 = -32768."""
    config = config_of(mac, 3, 2, 2, acc=17)
    tiles = [(np.full((3, k), -128), np.full((k, 2), -128)) for k in (8, 6)]
    run = simulate(config, [engine_fold_stimulus(config, a, b) for a, b in tiles])
    check(config, tiles, run, seed=0)
    assert (run.beats(0) == 0).all()
    assert (run.beats(1) == -32768).all()


def test_beat_layout_matches_the_docstring():
    """fold_stimulus places A[i, t*D + d] at element i*D + d of beat t and B[t*D + d, j] at
    d*C + j; a short K is zero-padded; C beats are the rows of the padded tile."""
    config = config_of("naive", 2, 3, 2)
    a = np.arange(1, 7).reshape(2, 3)  # K = 3 -> T = 2, one zero column of padding
    b = np.arange(10, 16).reshape(3, 2)  # n = 2 < cols
    fold = engine_fold_stimulus(config, a, b)
    assert fold.a_beats == [[1, 2, 4, 5], [3, 0, 6, 0]]
    assert fold.b_beats == [[10, 11, 0, 12, 13, 0], [14, 15, 0, 0, 0, 0]]
    want = np.zeros((2, 3), dtype=np.int64)
    want[:, :2] = a @ b
    assert fold.c_beats == want.tolist()
    assert fold.contract_cycles == 2 + 1 + 2 + 1


def test_naive_takes_narrow_operands():
    config = config_of("naive", 2, 2, 3, acc=16, in_width_bits=5)
    rng = np.random.default_rng(3)
    tiles = [(rng.integers(-16, 16, (2, 5)), rng.integers(-16, 16, (5, 2))) for _ in range(2)]
    run = simulate(config, [engine_fold_stimulus(config, a, b) for a, b in tiles])
    check(config, tiles, run, seed=3)


@pytest.mark.parametrize("mac", MACS)
def test_converts_to_verilog(mac):
    config = config_of(mac, 1, 1, 2)
    text = verilog.convert(build_engine(config), name=f"matrix2d_{mac}", emit_src=False)
    assert f"module matrix2d_{mac}" in text
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
    with pytest.raises(ConfigError, match="engine must be matrix2d"):
        check_rtl_config(EngineConfig(engine="cube"))
    config = config_of("naive", 2, 2, 2)
    with pytest.raises(ConfigError, match="m <= rows=2"):
        engine_fold_stimulus(config, np.zeros((3, 2), dtype=np.int64),
                             np.zeros((2, 2), dtype=np.int64))


def test_opt2_with_booth_digits(seed):
    """opt2 with the radix-4 Booth encoder instead of EN-T: still exact and on contract."""
    config = config_of("opt2", 3, 2, 2, acc=17, digit_encoding="booth")
    rng = np.random.default_rng(seed)
    tiles = [(random_int8(rng, (3, k)), random_int8(rng, (k, 2))) for k in (3, 6)]
    folds = [engine_fold_stimulus(config, a, b) for a, b in tiles]
    run = simulate(config, folds)
    check(config, tiles, run, seed)
    assert run.cycles == [f.contract_cycles for f in folds], f"seed {seed}"

