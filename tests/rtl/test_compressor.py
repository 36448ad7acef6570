"""The Dadda compressor-tree generator (hwsim.rtl.compressor) under the Amaranth simulator.

References: numpy int64 sums of the rows modulo 2**width; the Dadda height sequence
2, 3, 4, 6, 9, 13, 19, 28 (Dadda 1965) for the stage counts; and the textbook counts of an
n x n Dadda multiplier, n**2 - 4n + 3 full adders and n - 1 half adders (Townsend, Swartzlander
and Abraham, "A comparison of Dadda and Wallace multiplier delays", SPIE 2003).
"""

from __future__ import annotations

import numpy as np
import pytest
from _require import require

require("amaranth")

from amaranth import Module, Signal, signed  # noqa: E402
from amaranth.sim import Simulator  # noqa: E402

from hwsim.config import ConfigError  # noqa: E402
from hwsim.rtl.compressor import BitMatrix, cpa  # noqa: E402

#: Dadda's maximum heights per stage count, from the literature (not from the code under test).
DADDA_SEQUENCE = [2, 3, 4, 6, 9, 13, 19, 28]


def literature_stages(height: int) -> int:
    """Stages for a tallest column of ``height`` dots: the d(j) of the sequence below it."""
    return sum(1 for d in DADDA_SEQUENCE if d < height)


def simulate_rows(width: int, rows: list[tuple[int, bool, int]], constant: int,
                  vectors: np.ndarray) -> tuple[np.ndarray, object]:
    """Build a BitMatrix over input signals ``rows`` = [(bits, signed, shift)], reduce it and
    drive ``vectors`` (shape (n, len(rows))); return ((sum + carry) mod 2**width, stats)."""
    m = Module()
    inputs = [Signal(signed(n) if sgn else n, name=f"row{i}") for i, (n, sgn, _) in
              enumerate(rows)]
    tree = BitMatrix(width)
    for sig, (_, _, shift) in zip(inputs, rows, strict=True):
        tree.add(sig, shift=shift)
    tree.add_constant(constant)
    s, c = tree.reduce(m)
    total = cpa(m, s, c, width=width)
    got = np.zeros(len(vectors), np.int64)

    async def bench(ctx):
        for n, vec in enumerate(vectors):
            for sig, value in zip(inputs, vec, strict=True):
                ctx.set(sig, int(value))
            got[n] = ctx.get(total)

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()
    return got, tree.stats


def numpy_sum(width: int, rows: list[tuple[int, bool, int]], constant: int,
              vectors: np.ndarray) -> np.ndarray:
    shifts = np.array([shift for _, _, shift in rows], np.int64)
    total = (vectors.astype(np.int64) << shifts).sum(axis=1) + constant
    return total % (1 << width)


def random_vectors(rng: np.random.Generator, rows, count: int) -> np.ndarray:
    """``count`` random vectors plus the extremes (all rows at min, all at max, mixed)."""
    low = np.array([-(1 << (n - 1)) if sgn else 0 for n, sgn, _ in rows], np.int64)
    high = np.array([(1 << (n - 1)) - 1 if sgn else (1 << n) - 1 for n, sgn, _ in rows],
                    np.int64)
    rand = rng.integers(low, high + 1, size=(count, len(rows)))
    alternating = np.where(np.arange(len(rows)) % 2 == 0, low, high)
    return np.vstack([low, high, alternating, np.where(alternating == low, high, low), rand])


def and_array_multiplier(n: int) -> tuple[Module, Signal, Signal, Signal, BitMatrix]:
    """An n x n unsigned AND-array multiplier on a BitMatrix: (module, a, b, product, tree)."""
    m = Module()
    a, b = Signal(n, name="a"), Signal(n, name="b")
    tree = BitMatrix(2 * n)
    for j in range(n):
        tree.add(a & b[j].replicate(n), shift=j)
    product = cpa(m, *tree.reduce(m))
    return m, a, b, product, tree


def unused(m: Module) -> Module:
    """Mark a module that is only built for its counts (no UnusedElaboratable warning)."""
    m._MustUse__silence = True
    return m


@pytest.mark.parametrize("n", [3, 4, 8, 12, 16])
def test_unsigned_multiplier_counts_match_textbook_dadda(n):
    m, _, _, _, tree = and_array_multiplier(n)
    unused(m)
    assert (tree.stats.full_adders, tree.stats.half_adders) == (n * n - 4 * n + 3, n - 1)
    assert tree.stats.stages == literature_stages(n)


@pytest.mark.parametrize("n", [4, 8])
def test_unsigned_multiplier_product_is_exact(n, seed):
    m, a, b, total, _ = and_array_multiplier(n)
    rng = np.random.default_rng(seed)
    top = (1 << n) - 1
    pairs = np.vstack([[[0, 0], [top, top], [top, 0], [0, top], [top, 1]],
                       rng.integers(0, top + 1, size=(150, 2))])
    got = np.zeros(len(pairs), np.int64)

    async def bench(ctx):
        for k, (x, y) in enumerate(pairs):
            ctx.set(a, int(x))
            ctx.set(b, int(y))
            got[k] = ctx.get(total)

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()
    want = pairs[:, 0] * pairs[:, 1]
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, f"seed {seed}: a*b wrong for {pairs[bad[:3]].tolist()}"


@pytest.mark.parametrize("height", list(range(1, 30)))
def test_stage_count_follows_dadda_sequence(height):
    tree = BitMatrix(8)
    for _ in range(height):
        tree.add(Signal(5))
    tree.reduce(unused(Module()))
    assert tree.stats.max_height == height
    assert tree.stats.stages == literature_stages(height), f"height {height}"


@pytest.mark.parametrize("height", [3, 6, 7, 10])
def test_tall_unsigned_columns_sum_exactly(height, seed):
    """Equal-height unsigned rows, a full-width carry chain through the top column."""
    rows = [(7, False, 0)] * height
    rng = np.random.default_rng(seed)
    vectors = random_vectors(rng, rows, 80)
    got, stats = simulate_rows(9, rows, 0, vectors)
    assert stats.stages == literature_stages(height)
    want = numpy_sum(9, rows, 0, vectors)
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, f"seed {seed}: first bad vector {vectors[bad[0]].tolist()}"


# (width, rows, constant): signed/unsigned rows with shifts, some reaching past the width
ROW_SETS = {
    "booth_like": (20, [(10, True, 0), (10, True, 2), (10, True, 4), (10, True, 6),
                        (20, False, 0)], 0),
    "mixed_with_constant": (16, [(8, True, 0), (5, False, 3), (9, True, 7), (1, True, 2),
                                 (3, False, 14), (16, True, 0)], -12345),
    "truncated_rows": (12, [(10, True, 5), (8, False, 6), (12, True, 0), (6, True, 9)], 77),
    "one_signed_row_two_accumulators": (26, [(10, True, 0), (26, False, 0),
                                             (26, False, 0)], 0),
}


@pytest.mark.parametrize("name", list(ROW_SETS))
def test_random_and_extreme_rows_sum_modulo_width(name, seed):
    width, rows, constant = ROW_SETS[name]
    rng = np.random.default_rng(seed)
    vectors = random_vectors(rng, rows, 150)
    got, _ = simulate_rows(width, rows, constant, vectors)
    want = numpy_sum(width, rows, constant, vectors)
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, (
        f"{name}, seed {seed}: {bad.size} wrong sums, first for rows {vectors[bad[0]].tolist()}:"
        f" got {got[bad[0]]}, numpy {want[bad[0]]}"
    )


def test_sign_constant_is_absorbed_into_a_single_three_to_two_row():
    """One signed row beside two full-width rows: the sign-extension constant must not add a
    fourth dot (3 dots per column = one 3:2 stage, every column one counter)."""
    tree = BitMatrix(26)
    tree.add(Signal(signed(10)))
    tree.add(Signal(26))
    tree.add(Signal(26))
    tree.reduce(unused(Module()))
    st = tree.stats
    assert (st.max_height, st.stages) == (3, 1)
    assert st.full_adders + st.half_adders == 26


def test_two_rows_need_no_adders():
    tree = BitMatrix(8)
    tree.add(Signal(8))
    tree.add(Signal(signed(8)))
    tree.reduce(unused(Module()))
    assert (tree.stats.stages, tree.stats.full_adders, tree.stats.half_adders) == (0, 0, 0)


def test_bad_input_is_one_line_config_error():
    with pytest.raises(ConfigError, match="width must be an integer >= 1"):
        BitMatrix(0)
    tree = BitMatrix(8)
    with pytest.raises(ConfigError, match="shift must be an integer >= 0"):
        tree.add(Signal(4), shift=-1)
    with pytest.raises(ConfigError, match="constant must be an integer"):
        tree.add_constant(1.5)
    tree.add(Signal(4))
    tree.reduce(unused(Module()))
    with pytest.raises(ConfigError, match="already reduced"):
        tree.reduce(unused(Module()))
