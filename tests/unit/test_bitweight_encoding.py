"""EN-T and radix-4 Booth encoders of int8 operands: exhaustive reconstruction, the worked
examples and digit sets of the reference notes, an independent scalar re-implementation, the
sparse-PE cycle rule, and the Gaussian digit statistics against the notes' recount table."""

from __future__ import annotations

import numpy as np
import pytest

from hwsim.accelerators.bitweight import (
    booth_digits,
    digit_statistics,
    ent_digits,
    gaussian_int8,
    nonzero_digits,
    reconstruct,
    sparse_cycles,
)
from hwsim.config import ConfigError

ALL_INT8 = np.arange(-128, 128, dtype=np.int64)

#: Seed of the statistics draws (printed in every assertion message).
STATS_SEED = 2026
STATS_SAMPLES = 200_000

#: sigma -> (EN-T nnz/operand recount, Booth nnz/operand, EN-T cycles/operand at group 4), from
#: the reference notes (section 3), N(0, sigma) int8.
NOTES_TABLE = {
    10: (1.76, 1.93, 2.08),
    20: (2.12, 2.30, 2.34),
    30: (2.33, 2.53, 2.47),
    40: (2.49, 2.68, 2.56),
    50: (2.60, 2.77, 2.64),
}


# Independent scalar re-implementations, written from the rules in the notes (no numpy).
def ent_scalar(x: int) -> list[int]:
    sign = -1 if x < 0 else 1
    mag = -x if x < 0 else x
    digits, carry = [], 0
    for i in range(4):
        group = (mag // 4**i) % 4
        value = group + carry
        if value >= 3 and i < 3:
            digits.append(value - 4)
            carry = 1
        else:
            digits.append(value)
            carry = 0
    return [sign * d for d in digits]


def booth_scalar(x: int) -> list[int]:
    def bit(k: int) -> int:
        return 0 if k < 0 else (x >> k) & 1  # Python ints shift as infinite two's complement

    return [-2 * bit(2 * i + 1) + bit(2 * i) + bit(2 * i - 1) for i in range(4)]


# ----------------------------------------------------------------------------- encoders
@pytest.mark.parametrize("encode", [ent_digits, booth_digits], ids=["ent", "booth"])
def test_every_int8_reconstructs_exactly(encode):
    digits = encode(ALL_INT8)
    assert digits.shape == (256, 4)
    assert digits.min() >= -2 and digits.max() <= 2
    np.testing.assert_array_equal(reconstruct(digits), ALL_INT8)


@pytest.mark.parametrize(
    "x,msb_to_lsb", [(91, [1, 2, -1, -1]), (124, [2, 0, -1, 0]), (-91, [-1, -2, 1, 1])]
)
def test_ent_worked_examples(x, msb_to_lsb):
    assert ent_digits(np.array([x]))[0].tolist() == msb_to_lsb[::-1]


def test_ent_digit_sets_follow_the_notes():
    """Before the sign, every digit is in {-1, 0, 1, 2} and the top one is in {0, 1, 2}; the
    operand's sign multiplies every digit (so negatives use {-2, -1, 0, 1})."""
    digits = ent_digits(ALL_INT8)
    sign = np.where(ALL_INT8 < 0, -1, 1)[:, None]
    unsigned = digits * sign
    assert set(np.unique(unsigned)) <= {-1, 0, 1, 2}
    assert set(np.unique(unsigned[:, 3])) <= {0, 1, 2}
    # -128 keeps its magnitude 128 = 2 * 4**3
    assert ent_digits(np.array([-128]))[0].tolist() == [0, 0, 0, -2]
    # the digits of -x are the negated digits of x, for every x with |x| <= 127
    np.testing.assert_array_equal(ent_digits(-ALL_INT8[1:]), -ent_digits(ALL_INT8[1:]))


def test_scalar_reimplementation_agrees_on_all_int8():
    ent, booth = ent_digits(ALL_INT8), booth_digits(ALL_INT8)
    for n, x in enumerate(range(-128, 128)):
        assert ent[n].tolist() == ent_scalar(x), f"EN-T disagrees at {x}"
        assert booth[n].tolist() == booth_scalar(x), f"Booth disagrees at {x}"


def test_shapes_are_kept_and_scalars_work():
    x = ALL_INT8.reshape(4, 8, 8)
    assert ent_digits(x).shape == (4, 8, 8, 4)
    np.testing.assert_array_equal(reconstruct(booth_digits(x)), x)
    assert ent_digits(np.int8(-5)).tolist() == ent_scalar(-5)
    assert ent_digits([3, -3]).tolist() == [ent_scalar(3), ent_scalar(-3)]
    assert ent_digits(np.array([], dtype=np.int8)).shape == (0, 4)
    # int8 input must not overflow on |-128|
    assert reconstruct(ent_digits(ALL_INT8.astype(np.int8))).tolist() == ALL_INT8.tolist()


def test_ent_has_no_more_nonzeros_than_booth_on_average():
    ent = nonzero_digits(ent_digits(ALL_INT8)).mean()
    assert ent < nonzero_digits(booth_digits(ALL_INT8)).mean()


# ----------------------------------------------------------------------- sparse cycle rule
def test_sparse_cycles_by_hand():
    # one group of 4 operands; per bit-weight: nnz 2, 0, 3, 1 -> max(1, .) = 2 + 1 + 3 + 1
    d = np.array([[1, 0, 2, 0], [-1, 0, 1, 0], [0, 0, -2, 1], [0, 0, 0, 0]])
    assert sparse_cycles(d) == 7
    # all-zero operands: one cycle per (group, bit-weight)
    assert sparse_cycles(np.zeros((8, 4), np.int64)) == 2 * 4
    # a partial last group counts as a group of its own
    assert sparse_cycles(np.zeros((5, 4), np.int64)) == 2 * 4
    # group 1 = one operand per group: cycles = sum of max(1, nnz) per digit = 4 per operand
    assert sparse_cycles(ent_digits(ALL_INT8), group=1) == 256 * 4
    # leading axes are independent vectors
    batch = np.stack([d, np.zeros_like(d)])
    assert sparse_cycles(batch).tolist() == [7, 4]


def test_sparse_cycles_bounds_on_all_int8():
    """Between one cycle per (group, bit-weight) and the non-zero count plus the empty slots."""
    for encode in (ent_digits, booth_digits):
        digits = encode(ALL_INT8)
        cycles = sparse_cycles(digits, group=4)
        assert 64 * 4 <= cycles <= nonzero_digits(digits).sum() + 64 * 4


# ------------------------------------------------------------------------------- statistics
def test_gaussian_int8_rounds_then_clips():
    x = gaussian_int8(200.0, 10_000, STATS_SEED)
    assert x.dtype == np.int64 and x.min() == -128 and x.max() == 127
    raw = np.random.default_rng(STATS_SEED).normal(0.0, 200.0, 10_000)
    np.testing.assert_array_equal(x, np.clip(np.rint(raw), -128, 127))


@pytest.mark.parametrize("sigma", sorted(NOTES_TABLE))
def test_digit_statistics_match_the_notes_recount(sigma):
    want_ent, want_booth, want_cycles = NOTES_TABLE[sigma]
    got = digit_statistics(sigma, STATS_SAMPLES, STATS_SEED, group=4)
    where = f"sigma {sigma}, {STATS_SAMPLES} samples, seed {STATS_SEED}: {got}"
    assert abs(got.ent_nnz_per_operand - want_ent) <= 0.02, where
    assert abs(got.booth_nnz_per_operand - want_booth) <= 0.03, where
    assert abs(got.ent_cycles_per_operand - want_cycles) <= 0.03, where
    # EN-T beats Booth, and the sparse PE beats four dense digit-cycles per operand
    assert got.ent_nnz_per_operand < got.booth_nnz_per_operand, where
    assert got.ent_cycles_per_operand < got.booth_cycles_per_operand < 4, where


def test_digit_statistics_are_reproducible():
    assert digit_statistics(20, 1000, 5) == digit_statistics(20, 1000, 5)


# ------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    "bad",
    [
        np.array([128]),
        np.array([-129]),
        [0, 300],
        np.array([1.0, 2.0]),
        np.array([0.5]),
        np.array([True, False]),
        np.array([1, None], dtype=object),
        "12",
    ],
    ids=["128", "-129", "list300", "float-integral", "float", "bool", "object", "str"],
)
@pytest.mark.parametrize("encode", [ent_digits, booth_digits], ids=["ent", "booth"])
def test_bad_operands_raise_config_error(encode, bad):
    with pytest.raises(ConfigError) as info:
        encode(bad)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "call",
    [
        lambda: reconstruct(np.array([[3, 0, 0, 0]])),
        lambda: reconstruct(np.array([[0.0, 1.0, 0.0, 0.0]])),
        lambda: nonzero_digits(np.array([[0, -3, 0, 0]])),
        lambda: sparse_cycles(np.array([0, 1, 0, 0])),
        lambda: sparse_cycles(np.zeros((4, 4), np.int64), group=0),
        lambda: sparse_cycles(np.zeros((4, 4), np.int64), group=2.0),
        lambda: digit_statistics(0, 100, 1),
        lambda: digit_statistics(float("nan"), 100, 1),
        lambda: digit_statistics(20, 0, 1),
        lambda: digit_statistics(20, 100, -1),
        lambda: digit_statistics(20, 100, 1, group=0),
    ],
)
def test_bad_digits_and_arguments_raise_config_error(call):
    with pytest.raises(ConfigError) as info:
        call()
    assert "\n" not in str(info.value)
