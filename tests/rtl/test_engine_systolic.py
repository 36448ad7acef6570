"""Engine ``systolic`` RTL (naive, booth and opt1 PEs; os and ws) under the Amaranth simulator.

The DUT is built through the engine registry (:func:`hwsim.rtl.engine_common.build_engine`)
from an :class:`EngineConfig` and driven with :func:`fold_stimulus` beats. References:
outputs against ``A @ B`` computed in numpy and wrapped to ``acc_width_bits`` by the shared
bench (``_engine_stream_bench``, which also packs and unpacks the payload bits by hand); fold
cycles (no throttling) against the model's ``fold_cycles`` and against the closed form
``2R + C + T - 2 + X`` written out here (X = 1 for opt1).
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from _engine_stream_bench import check_folds, simulate
from _require import require

require("amaranth")

from amaranth.back import verilog  # noqa: E402

from hwsim.accelerators.engines import EngineConfig  # noqa: E402
from hwsim.accelerators.engines.model import fold_cycles  # noqa: E402
from hwsim.config import ConfigError  # noqa: E402
from hwsim.rtl.engine_common import engine_fold_stimulus  # noqa: E402
from hwsim.rtl.engine_systolic import SystolicEngine, check_rtl_config  # noqa: E402

MACS = ("naive", "booth", "opt1")


def config_of(mac: str, dataflow: str, rows: int, cols: int, acc: int = 32) -> EngineConfig:
    return EngineConfig(engine="systolic", dataflow=dataflow, rows=rows, cols=cols, mac=mac,
                        in_width_bits=8, acc_width_bits=acc)


def random_tiles(config: EngineConfig, t: int, rng: np.random.Generator,
                 extremes: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """A fold's tiles (os: rows x T and T x cols; ws: T x rows and rows x cols), int8, with
    some entries forced to -128 and 127 so the extremes are always exercised."""
    r, c = config.rows, config.cols
    shape_a, shape_b = ((r, t), (t, c)) if config.dataflow == "os" else ((t, r), (r, c))
    a = rng.integers(-128, 128, shape_a)
    b = rng.integers(-128, 128, shape_b)
    if extremes:
        for x in (a, b):
            flat = x.reshape(-1)
            picks = rng.choice(flat.size, size=max(1, flat.size // 3), replace=False)
            flat[picks] = rng.choice([-128, 127], size=picks.size)
    return a, b


# (rows, cols, acc): odd shapes, 1-row / 1-column edges, a narrow accumulator that wraps.
SHAPES = [(2, 3, 32), (3, 2, 16), (1, 3, 18)]


@pytest.mark.parametrize("mac", MACS)
@pytest.mark.parametrize("dataflow", ["os", "ws"])
@pytest.mark.parametrize("rows,cols,acc", SHAPES, ids=lambda v: str(v))
def test_folds_bit_exact_and_on_contract(mac, dataflow, rows, cols, acc, seed):
    """Three back-to-back folds (different T), no throttling: C equals numpy's wrapped A @ B
    and every fold takes exactly the model's fold_cycles = 2R + C + T - 2 + X cycles."""
    config = config_of(mac, dataflow, rows, cols, acc)
    rng = np.random.default_rng(seed)
    ts = [int(rng.integers(1, 6)), 3, int(rng.integers(1, 6))]
    tiles = [random_tiles(config, t, rng) for t in ts]
    folds = [engine_fold_stimulus(config, a, b) for a, b in tiles]
    run = simulate(config, folds)
    check_folds(config, tiles, run, seed)
    extra = 1 if mac == "opt1" else 0
    for n, t in enumerate(ts):
        hand = 2 * rows + cols + t - 2 + extra
        assert folds[n].contract_cycles == int(fold_cycles(config, t)) == hand
        assert run.cycles[n] == hand, (
            f"fold {n} (T={t}) took {run.cycles[n]} cycles, contract {hand} "
            f"({rows}x{cols} {dataflow} {mac}, seed {seed})"
        )


@pytest.mark.parametrize("mac", MACS)
@pytest.mark.parametrize("dataflow", ["os", "ws"])
def test_random_throttling_on_every_port(mac, dataflow, seed):
    """Random valid on both inputs and random o_c.ready; three folds back to back; outputs
    still bit-exact and ``last`` in place; no fold is faster than its contract."""
    config = config_of(mac, dataflow, 3, 2, 20)
    rng = np.random.default_rng(seed)
    tiles = [random_tiles(config, int(rng.integers(1, 5)), rng) for _ in range(3)]
    folds = [engine_fold_stimulus(config, a, b) for a, b in tiles]
    run = simulate(config, folds, random.Random(seed), p_valid=0.5, p_ready=0.35)
    check_folds(config, tiles, run, seed)
    for n, fold in enumerate(folds):
        assert run.cycles[n] >= fold.contract_cycles, f"fold {n} beat its contract, seed {seed}"


@pytest.mark.parametrize("mac", ["booth", "opt1"])
@pytest.mark.parametrize("dataflow", ["os", "ws"])
def test_all_minus_128_wraps_at_the_accumulator(mac, dataflow):
    """Every operand -128: each product is 2**14 = 16384. With acc = 16 bits, os sums K = 6
    of them: 98304 mod 65536 = 32768, signed -32768; ws sums rows = 3: 49152, signed
    -16384."""
    config = config_of(mac, dataflow, 3, 2, 16)
    t = 6 if dataflow == "os" else 2
    shape_a, shape_b = ((3, t), (t, 2)) if dataflow == "os" else ((t, 3), (3, 2))
    a, b = np.full(shape_a, -128), np.full(shape_b, -128)
    run = simulate(config, [engine_fold_stimulus(config, a, b)])
    want = -32768 if dataflow == "os" else -16384
    assert (np.array(run.outputs[0]) == want).all(), run.outputs[0]


def test_partial_tiles_are_zero_padded():
    """A 1 x 2 A tile on a 3 x 2 os array: rows 1, 2 of C are zero; row 0 is A @ B."""
    config = config_of("opt1", "os", 3, 2)
    a, b = np.array([[5, -7]]), np.array([[3, 1], [2, -128]])
    fold = engine_fold_stimulus(config, a, b)
    assert fold.a_beats == [[5, 0, 0], [-7, 0, 0]]
    assert fold.c_beats == [[5 * 3 - 7 * 2, 5 + 7 * 128], [0, 0], [0, 0]]
    run = simulate(config, [fold])
    assert run.outputs[0] == fold.c_beats


@pytest.mark.parametrize("mac", ["booth", "opt1"])
def test_converts_to_verilog(mac):
    config = config_of(mac, "ws", 2, 2)
    text = verilog.convert(SystolicEngine(config), name=f"engine_systolic_{mac}",
                           emit_src=False)
    assert f"module engine_systolic_{mac}" in text
    # the carry-save pairs and the CPA row exist only in opt1
    assert ("psum_carry" in text) == (mac == "opt1")
    assert ("cpa_row" in text) == (mac == "opt1")


@pytest.mark.parametrize(
    "fields,message",
    [
        ({"in_width_bits": 6, "acc_width_bits": 16, "mac": "booth"},
         "in_width_bits must be 8 for mac booth (its radix-4 Booth encoder takes int8 "
         "operands), got 6"),
        ({"rows": 16, "cols": 17, "mac": "opt1"},
         "rows*cols must be <= 256 PEs (e.g. 16x16) for mac opt1 in the RTL generator, "
         "got rows=16 x cols=17 = 272"),
        ({"rows": 65, "cols": 64},
         "rows*cols must be <= 4096 PEs (e.g. 64x64) for the RTL generator, "
         "got rows=65 x cols=64 = 4160"),
    ],
)
def test_unbuildable_configs_raise_one_line_errors(fields, message):
    config = EngineConfig(engine="systolic", **fields)
    with pytest.raises(ConfigError) as info:
        check_rtl_config(config)
    assert str(info.value) == message
    with pytest.raises(ConfigError):
        SystolicEngine(config)


def test_other_engines_are_refused():
    with pytest.raises(ConfigError, match="engine must be systolic"):
        check_rtl_config(EngineConfig(engine="cube", mac="opt1"))


def test_tiles_larger_than_the_array_are_refused():
    config = config_of("naive", "ws", 2, 2)
    with pytest.raises(ConfigError, match=r"A_tile \(ws: M x rows\) must be .* at most 4 x 2"):
        engine_fold_stimulus(config, np.zeros((4, 3), int), np.zeros((3, 2), int))
