"""The bit-slice engine RTL (opt3, opt4c, laconic re-implementation) under the Amaranth
simulator: C bit-exact against numpy (``A @ B`` wrapped to ``acc_width_bits``), o_c.last in
place, and the measured fold cycles equal to the model's contract ``t + rows + 3``, with ``t``
counted here from the digits by an independent scalar digit count (not the golden function).

The shared stream bench (``_engine_stream_bench``) packs and unpacks the payload bits by hand
(element ``e`` at ``[e*W +: W]``, ``last`` at bit ``N*W``), so the beat layout the cocotb side
relies on is checked too; its run bound is raised here for the data-dependent digit-serial
latency.
"""

from __future__ import annotations

import random
import time

import numpy as np
import pytest
from _engine_stream_bench import Run, check_folds, wrap
from _engine_stream_bench import simulate as simulate_folds
from _require import require

require("amaranth")

from amaranth.back import verilog  # noqa: E402

from hwsim.accelerators.engines import EngineConfig  # noqa: E402
from hwsim.accelerators.engines.model import fold_cycles  # noqa: E402
from hwsim.config import ConfigError  # noqa: E402
from hwsim.rtl.bitslice import (  # noqa: E402
    RTL_MAX_LANES,
    BitsliceEngine,
    check_rtl_config,
    fold_stimulus,
)
from hwsim.rtl.engine_common import build_engine, engine_fold_stimulus  # noqa: E402


# ---- independent references --------------------------------------------------------------
def ent_digits(x: int) -> list[int]:
    """EN-T digits LSB first (notes section 3: sign-magnitude, carry-chained 2-bit groups)."""
    sign, mag, carry, out = x < 0, abs(x), 0, []
    for i in range(4):
        g = ((mag >> (2 * i)) & 3) + carry
        if g >= 3 and i < 3:
            out.append(g - 4)
            carry = 1
        else:
            out.append(g)
            carry = 0
    return [-v for v in out] if sign else out


def booth_digits(x: int) -> list[int]:
    """Radix-4 Booth digits LSB first: ``-2*b[2i+1] + b[2i] + b[2i-1]`` of the int8 bits."""
    bits = [(x >> i) & 1 for i in range(8)]
    return [-2 * bits[2 * i + 1] + bits[2 * i] + (bits[2 * i - 1] if i else 0)
            for i in range(4)]


def contract_cycles(config: EngineConfig, a: np.ndarray, b: np.ndarray) -> int:
    """``t + rows + 3`` with ``t`` counted by scalar loops over the (padded) fold."""
    d = config.depth
    k = a.shape[1]
    t = 0
    for g in range(0, k, d):
        ks = range(g, min(g + d, k))
        if config.mac == "laconic":
            ma = max(sum(v != 0 for v in booth_digits(int(a[r, kk])))
                     for r in range(a.shape[0]) for kk in ks)
            mw = max(sum(v != 0 for v in booth_digits(int(b[kk, c])))
                     for kk in ks for c in range(b.shape[1]))
            t += max(1, ma * mw)
            continue
        enc = ent_digits if config.digit_encoding == "ent" else booth_digits
        for j in range(4):
            t += max(1, max(sum(enc(int(a[r, kk]))[j] != 0 for kk in ks)
                            for r in range(a.shape[0])))
    assert fold_cycles(config, t) == t + config.rows + 3
    return t + config.rows + 3


# ---- the bench -----------------------------------------------------------------------------
#: Run bound per beat: one input beat holds up to 16 digit-issue cycles (laconic: 4 x 4 digit
#: pairs), two to three times that when throttled.
DIGIT_SERIAL_CYCLES_PER_BEAT = 200


def simulate(config: EngineConfig, tiles: list[tuple[np.ndarray, np.ndarray]],
             rng: random.Random | None = None, p_valid: float = 0.6,
             p_ready: float = 0.5) -> Run:
    """Drive the tiles' beats (from ``fold_stimulus``) through a ``BitsliceEngine`` back to
    back; ``rng`` throttles every valid and o_c.ready. A fold's cycles run from its first
    accepted input beat to its last o_c beat, inclusive."""
    folds = [fold_stimulus(config, a, b) for a, b in tiles]
    return simulate_folds(config, folds, rng, p_valid, p_ready, build=BitsliceEngine,
                          cycles_per_beat=DIGIT_SERIAL_CYCLES_PER_BEAT)


def random_fold(config: EngineConfig, k: int, rng: np.random.Generator,
                sigma: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A full-size fold with K = ``k``: uniform int8 (``sigma`` None) or N(0, sigma) clipped,
    with a few -128 and 127 extremes planted."""
    shape_a, shape_b = (config.rows, k), (k, config.cols)
    if sigma is None:
        a, b = rng.integers(-128, 128, shape_a), rng.integers(-128, 128, shape_b)
    else:
        a = np.clip(np.rint(rng.normal(0, sigma, shape_a)), -128, 127).astype(np.int64)
        b = np.clip(np.rint(rng.normal(0, sigma, shape_b)), -128, 127).astype(np.int64)
    a.flat[rng.integers(0, a.size)] = -128
    b.flat[rng.integers(0, b.size)] = -128
    a.flat[rng.integers(0, a.size)] = 127
    return a, b


def check(config: EngineConfig, tiles, run: Run, seed: int) -> None:  # noqa: ANN001
    """Beat r is row r of C, padding included: the reference is zero-padded to rows x cols."""
    check_folds(config, tiles, run, seed, pad_to=lambda a, b: (config.rows, config.cols))


# (mac, digit_encoding, rows, cols, depth, acc_width_bits): odd shapes, narrow accumulators.
CASES = [
    ("opt4c", "ent", 2, 3, 3, 32),
    ("opt3", "booth", 3, 2, 2, 16),
    ("laconic", "ent", 2, 3, 3, 18),
]
#: The other digit encoding of each digit-serial variant (one fixed seed each).
OTHER_ENCODINGS = [
    ("opt4c", "booth", 3, 2, 2, 20),
    ("opt3", "ent", 2, 3, 3, 24),
]
#: Throttled runs: one per variant, seed 100 + index.
THROTTLED = [
    ("opt4c", "ent", 3, 2, 3, 24),
    ("opt3", "ent", 2, 3, 2, 32),
    ("laconic", "ent", 3, 2, 2, 20),
]


def case_id(case: tuple) -> str:
    return f"{case[0]}-{case[1]}-{case[2]}x{case[3]}x{case[4]}-acc{case[5]}"


def make_config(mac: str, encoding: str, rows: int, cols: int, depth: int,
                acc: int) -> EngineConfig:
    return EngineConfig(engine="bitslice", mac=mac, digit_encoding=encoding, rows=rows,
                        cols=cols, depth=depth, acc_width_bits=acc)


def run_and_check_contract(case: tuple, seed: int) -> None:
    """Five folds back to back, no throttling: N(0, 20) and uniform int8 data with extremes
    planted (K not a multiple of depth), a sparse N(0, 3) fold, an all-zero A fold and an
    all -128 fold. C equals numpy; each fold's cycles equal ``t + rows + 3`` for its digits;
    the all-zero fold floors every step at one cycle; the -128 fold wraps as the hand figure."""
    config = make_config(*case)
    r, d, w = config.rows, config.depth, config.acc_width_bits
    rng = np.random.default_rng(seed)
    folds = [random_fold(config, int(rng.integers(1, 3 * d + 2)), rng, sigma)
             for sigma in (20.0, None, 3.0)]
    zero_k, minus_k = 2 * d + 1, 3 * d + 1
    folds.append((np.zeros((r, zero_k), np.int64),
                  rng.integers(-128, 128, (zero_k, config.cols))))
    folds.append((np.full((r, minus_k), -128, np.int64),
                  np.full((minus_k, config.cols), -128, np.int64)))
    run = simulate(config, folds)
    check(config, folds, run, seed)
    for n, (a, b) in enumerate(folds):
        want = contract_cycles(config, a, b)
        assert run.cycles[n] == want, (
            f"fold {n} (K={a.shape[1]}) took {run.cycles[n]} cycles, contract {want} "
            f"({case_id(case)}, seed {seed})"
        )
        assert fold_stimulus(config, a, b).contract_cycles == want, f"seed {seed}"
    # All-zero A: 3 k-groups, every step one cycle (4 steps per group; laconic 1).
    steps = 1 if config.mac == "laconic" else 4
    assert run.cycles[3] == 3 * steps + r + 3, f"{case_id(case)}, seed {seed}"
    # -128 * -128 = 2**14, summed minus_k times, wrapped to the accumulator.
    assert (run.beats(4) == wrap(minus_k << 14, w)).all(), f"{case_id(case)}"


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_back_to_back_folds_bit_exact_and_on_contract(case, seed):
    run_and_check_contract(case, seed)


@pytest.mark.parametrize("case", OTHER_ENCODINGS, ids=[case_id(c) for c in OTHER_ENCODINGS])
def test_other_digit_encoding_bit_exact_and_on_contract(case):
    run_and_check_contract(case, seed=11)


@pytest.mark.parametrize("index", range(len(THROTTLED)),
                         ids=[case_id(c) for c in THROTTLED])
def test_random_throttling_on_every_port(index):
    """Random valid on both inputs and random o_c.ready; three folds, the last one partial
    (fewer rows and columns than the array); outputs still bit-exact, ``last`` in place,
    and a throttled fold never beats the contract."""
    seed = 100 + index
    config = make_config(*THROTTLED[index])
    rng = np.random.default_rng(seed)
    folds = [random_fold(config, int(rng.integers(1, 2 * config.depth + 2)), rng, sigma)
             for sigma in (20.0, None)]
    a, b = random_fold(config, config.depth + 1, rng, 10.0)
    folds.append((a[: max(1, config.rows - 1)], b[:, : max(1, config.cols - 1)]))
    run = simulate(config, folds, random.Random(seed), 0.5, 0.4)
    check(config, folds, run, seed)
    for n, (a, b) in enumerate(folds):
        assert run.cycles[n] >= contract_cycles(config, a, b), f"fold {n}, seed {seed}"


def test_worked_example_from_the_docs():
    """docs/engines.md: opt4c, R = 1, D = 4, A row [91, 124, 0, -128] (EN-T) takes 7 + 1 + 3 =
    11 cycles."""
    config = make_config("opt4c", "ent", 1, 2, 4, 32)
    a = np.array([[91, 124, 0, -128]])
    b = np.array([[1, -2], [3, 4], [5, 6], [-7, 8]])
    run = simulate(config, [(a, b)])
    check(config, [(a, b)], run, seed=0)
    assert run.cycles == [11]


def test_registry_and_verilog_conversion():
    """The engine registry builds this generator; the design converts to Verilog."""
    config = make_config("opt4c", "ent", 2, 2, 2, 20)
    stim = engine_fold_stimulus(config, np.ones((2, 3), np.int64), np.ones((3, 2), np.int64))
    assert stim.c_beats == [[3, 3], [3, 3]] and len(stim.a_beats) == 2
    for mac in ("opt3", "opt4c", "laconic"):
        config = make_config(mac, "booth", 1, 2, 2, 16)
        t0 = time.perf_counter()
        text = verilog.convert(build_engine(config), name=f"bitslice_{mac}", emit_src=False)
        assert f"module bitslice_{mac}" in text and "i_a__payload" in text
        assert time.perf_counter() - t0 < 20


@pytest.mark.parametrize(
    "fields, needle",
    [
        ({"engine": "cube", "mac": "opt1"}, "engine must be bitslice"),
        ({"engine": "bitslice", "mac": "opt3", "rows": 64, "cols": 16, "depth": 8},
         f"<= {RTL_MAX_LANES} MAC lanes"),
    ],
)
def test_unsupported_configs_raise_one_line_config_errors(fields, needle):
    config = EngineConfig(**fields)
    with pytest.raises(ConfigError) as info:
        check_rtl_config(config)
    assert needle in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(ConfigError):
        BitsliceEngine(config)
