"""Tensor-engine family: golden vs numpy, cycle contracts vs per-fold event loops written here,
digit-serial cycles vs a digit count written here, expected cycles vs sampled data and the
reference notes, engine=systolic vs the systolic model, traffic/area/energy by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hwsim import store
from hwsim.accelerators.bitweight import INT8_MAX, INT8_MIN, gaussian_int8, sparse_cycles
from hwsim.accelerators.engines import COMPATIBILITY, ENGINES, MACS, EngineConfig, EngineModel
from hwsim.accelerators.engines.golden import engine_gemm, issue_cycles_per_fold
from hwsim.accelerators.engines.model import (
    digit_nonzero_probabilities,
    expected_issue_cycles,
)
from hwsim.accelerators.systolic import SystolicConfig, SystolicModel
from hwsim.config import ConfigError
from hwsim.sweep import parse_spec, run_sweep
from hwsim.workloads import Gemm, Workload, load_network

PAIRS = [(engine, mac) for engine, macs in COMPATIBILITY.items() for mac in macs]
DENSE_PAIRS = [(e, m) for e, m in PAIRS if e != "bitslice"]
SPARSE_MACS = ("opt3", "opt4c", "laconic")


def _random_config(rng: np.random.Generator, engine: str, mac: str, **extra) -> EngineConfig:
    dataflow = str(rng.choice(["os", "ws"])) if engine == "systolic" else "os"
    return EngineConfig(engine=engine, mac=mac, dataflow=dataflow, rows=int(rng.integers(1, 5)),
                        cols=int(rng.integers(1, 5)), depth=int(rng.integers(1, 6)), **extra)


def _wrap(values: np.ndarray, width: int) -> np.ndarray:
    """Two's-complement wrap by modular arithmetic (independent of the bit tricks in golden)."""
    half = 1 << (width - 1)
    return np.mod(values + half, 1 << width) - half


def _one_layer(config: EngineConfig, m: int, n: int, k: int, groups: int = 1) -> dict:
    workload = Workload.of("w", [Gemm("g", m, n, k, groups)])
    return EngineModel(config).evaluate(workload).layers[0]


# ---- golden values ------------------------------------------------------------------------
@pytest.mark.parametrize(("engine", "mac"), PAIRS)
def test_golden_equals_numpy_matmul(engine, mac, seed):
    rng = np.random.default_rng(seed)
    for trial in range(3):
        config = _random_config(rng, engine, mac)
        acc = int(rng.choice([config.psum_width_bits, 24, 32]))
        config = config.replace(acc_width_bits=max(acc, config.psum_width_bits))
        m, n, k = (int(x) for x in rng.integers(1, 23, size=3))
        a = rng.integers(INT8_MIN, INT8_MAX + 1, (m, k))
        b = rng.integers(INT8_MIN, INT8_MAX + 1, (k, n))
        c, cycles = engine_gemm(config, a, b)
        expected = _wrap(a @ b, config.acc_width_bits)
        where = f"seed {seed} trial {trial} {config} shape {m}x{n}x{k}"
        assert c.dtype == np.int64 and c.shape == (m, n), where
        assert np.array_equal(c, expected), where
        assert cycles > 0, where


@pytest.mark.parametrize(("engine", "mac"), PAIRS)
def test_minus128_squared_accumulated_wraps_at_the_accumulator(engine, mac):
    # -128 * -128 = 16384 summed K times overflows the narrowest allowed accumulator: for
    # depth 8 that is 2*8 + 3 = 19 bits (max 262143) and K = 40 gives 655360 -> wraps.
    config = EngineConfig(engine=engine, mac=mac, rows=3, cols=2, depth=8)
    config = config.replace(acc_width_bits=config.psum_width_bits)
    k = 40
    a = np.full((5, k), -128)
    b = np.full((k, 3), -128)
    c, _ = engine_gemm(config, a, b)
    total = 16384 * k
    width = config.acc_width_bits
    wrapped = ((total + 2 ** (width - 1)) % 2**width) - 2 ** (width - 1)  # worked by hand
    assert total > 2 ** (width - 1) - 1  # the case really overflows
    assert np.all(c == wrapped), f"{config}: {c[0, 0]} != {wrapped}"


def test_golden_refuses_bad_operands():
    config = EngineConfig(engine="bitslice", mac="opt4c")
    with pytest.raises(ConfigError, match="int8"):
        engine_gemm(config, np.full((2, 2), 128), np.zeros((2, 2), dtype=np.int64))
    with pytest.raises(ConfigError, match="agree on K"):
        engine_gemm(config, np.zeros((2, 3), dtype=np.int64), np.zeros((2, 2), dtype=np.int64))


# ---- dense cycle contracts vs per-fold event loops -----------------------------------------
def _levels(width: int) -> int:
    """Levels of a binary adder tree, by halving (rounding up) until one sum is left."""
    levels = 0
    while width > 1:
        width = (width + 1) // 2
        levels += 1
    return levels


def _blocks(total: int, size: int) -> list[range]:
    return [range(start, min(start + size, total)) for start in range(0, total, size)]


def _event_cycles(config: EngineConfig, m: int, n: int, k: int) -> int:
    """Cycles of the whole GEMM from the event times each engine's description gives,
    enumerating every fold and every PE explicitly (partial folds still clock the whole
    physical array, so only the fold count sees the shape)."""
    r, c, d = config.rows, config.cols, config.depth
    cpa = 1 if config.mac == "opt1" else 0  # registered CPA row on the output path
    encoder, combine = (1, 2) if config.mac == "opt2" else (0, 0)
    levels = _levels(d)
    total = 0
    if config.engine == "cube":
        for _rows in _blocks(m, r):
            for _cols in _blocks(n, c):
                beats = len(_blocks(k, d))
                last_accumulate = max(t + i + j + d for t in range(beats) for i in range(r)
                                      for j in range(c))
                last_beat = last_accumulate + r + cpa  # r result rows drain, then the CPA
                total += last_beat + 1
    elif config.engine == "matrix2d":
        for _rows in _blocks(m, r):
            for _cols in _blocks(n, c):
                beats = len(_blocks(k, d))
                last_accumulate = max(t + encoder + levels + combine + 1 for t in range(beats))
                total += last_accumulate + r + cpa + 1
    elif config.engine == "tree":
        for _ks in _blocks(k, d):
            for _cols in _blocks(n, c):
                beats = max(len(range(rep, m, r)) for rep in range(r))  # rows per replica
                last_out = max(d + encoder + t + j + levels + combine for t in range(beats)
                               for j in range(c))
                total += last_out + 1
    else:
        raise AssertionError(config.engine)
    return total


@pytest.mark.parametrize(("engine", "mac"), [p for p in DENSE_PAIRS if p[0] != "systolic"])
def test_dense_cycles_equal_event_loops(engine, mac, seed):
    rng = np.random.default_rng(seed)
    for trial in range(4):
        config = _random_config(rng, engine, mac)
        m, n, k = (int(x) for x in rng.integers(1, 19, size=3))
        expected = _event_cycles(config, m, n, k)
        where = f"seed {seed} trial {trial} {config} {m}x{n}x{k}"
        assert _one_layer(config, m, n, k)["compute_cycles"] == expected, where
        a = rng.integers(-128, 128, (m, k))
        b = rng.integers(-128, 128, (k, n))
        assert engine_gemm(config, a, b)[1] == expected, where
        assert _one_layer(config, m, n, k, groups=3)["compute_cycles"] == 3 * expected, where


@pytest.mark.parametrize("mac", COMPATIBILITY["systolic"])
def test_systolic_cycles_equal_the_stepped_reference(mac, seed):
    # The systolic array's cycle fidelity moves operands through PE registers; opt1 adds its
    # registered CPA row: one cycle per fold.
    rng = np.random.default_rng(seed)
    for dataflow in ("os", "ws"):
        r, c = (int(x) for x in rng.integers(1, 5, size=2))
        m, n, k = (int(x) for x in rng.integers(1, 13, size=3))
        scfg = SystolicConfig(rows=r, cols=c, dataflow=dataflow)
        stepped = SystolicModel(scfg, fidelity="cycle").evaluate(
            Workload.of("w", [Gemm("g", m, n, k)])).layers[0]["compute_cycles"]
        folds = math.ceil((m if dataflow == "os" else k) / r) * math.ceil(n / c)
        config = EngineConfig(engine="systolic", mac=mac, rows=r, cols=c, dataflow=dataflow)
        expected = stepped + (folds if mac == "opt1" else 0)
        where = f"seed {seed} {config} {m}x{n}x{k}"
        assert _one_layer(config, m, n, k)["compute_cycles"] == expected, where
        a = rng.integers(-128, 128, (m, k))
        assert engine_gemm(config, a, rng.integers(-128, 128, (k, n)))[1] == expected, where


# ---- digit-serial cycles vs a digit count written here --------------------------------------
def _ent(value: int) -> list[int]:
    """EN-T digits, LSB first (sign and magnitude; carry when a 2-bit group plus carry >= 3)."""
    sign, mag = (-1 if value < 0 else 1), abs(value)
    digits, carry = [], 0
    for i in range(4):
        g = ((mag >> (2 * i)) & 3) + carry
        if i < 3 and g >= 3:
            digits.append(g - 4)
            carry = 1
        else:
            digits.append(g)
            carry = 0
    return [sign * x for x in digits]


def _booth(value: int) -> list[int]:
    """Radix-4 Booth digits, LSB first, of the 8-bit two's-complement pattern."""
    bits = [(value >> i) & 1 for i in range(8)]  # Python's >> on negatives sign-extends
    return [-2 * bits[2 * i + 1] + bits[2 * i] + (bits[2 * i - 1] if i else 0) for i in range(4)]


def _loop_issue_cycles(config: EngineConfig, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    r, c, d = config.rows, config.cols, config.depth
    m, k = a.shape
    n = b.shape[1]
    encode = _booth if config.mac == "laconic" or config.digit_encoding == "booth" else _ent
    out = np.zeros((len(_blocks(m, r)), len(_blocks(n, c))), dtype=np.int64)
    for p, rows in enumerate(_blocks(m, r)):
        for q, cols in enumerate(_blocks(n, c)):
            cycles = 0
            for ks in _blocks(k, d):
                if config.mac == "laconic":
                    most_a = max(sum(x != 0 for x in encode(int(a[i, kk]))) for i in rows
                                 for kk in ks)
                    most_w = max(sum(x != 0 for x in encode(int(b[kk, j]))) for j in cols
                                 for kk in ks)
                    cycles += max(1, most_a * most_w)
                    continue
                for weight in range(4):
                    busiest = max(sum(encode(int(a[i, kk]))[weight] != 0 for kk in ks)
                                  for i in rows)
                    cycles += max(1, busiest)
            out[p, q] = cycles
    return out


@pytest.mark.parametrize("mac", SPARSE_MACS)
@pytest.mark.parametrize("encoding", ["ent", "booth"])
def test_sparse_cycles_equal_a_digit_count(mac, encoding, seed):
    rng = np.random.default_rng(seed)
    for trial in range(3):
        config = _random_config(rng, "bitslice", mac, digit_encoding=encoding)
        m, n, k = (int(x) for x in rng.integers(1, 15, size=3))
        sigma = float(rng.choice([3.0, 20.0, 60.0]))
        a = gaussian_int8(sigma, m * k, seed + trial).reshape(m, k)
        a[0, 0] = -128  # EN-T keeps magnitude 128
        b = gaussian_int8(sigma, k * n, seed + 100 + trial).reshape(k, n)
        expected = _loop_issue_cycles(config, a, b)
        where = f"seed {seed} trial {trial} {config} {m}x{n}x{k} sigma {sigma}"
        assert np.array_equal(issue_cycles_per_fold(config, a, b), expected), where
        tail = config.rows + 3  # encode, CPA, shift-add, then one drain beat per group
        assert engine_gemm(config, a, b)[1] == int((expected + tail).sum()), where


def test_bitslice_fold_hand_worked():
    # EN-T digits LSB first (notes' examples): 91 -> -1,-1,2,1; 124 -> 0,-1,0,2; 0 -> none;
    # -128 -> 0,0,0,-2. Non-zeros per bit-weight: 1, 2, 1, 3 -> t = 7 issue cycles; the fold
    # adds encode + CPA + shift-add + 1 drain beat = 7 + 1 + 3 = 11 cycles.
    config = EngineConfig(engine="bitslice", mac="opt4c", rows=1, cols=2, depth=4)
    a = np.array([[91, 124, 0, -128]])
    b = np.ones((4, 2), dtype=np.int64)
    c, cycles = engine_gemm(config, a, b)
    assert issue_cycles_per_fold(config, a, b).tolist() == [[7]]
    assert cycles == 11 and c.tolist() == [[87, 87]]


def test_one_column_group_is_the_bitweight_sparse_cycle_rule(seed):
    rng = np.random.default_rng(seed)
    from hwsim.accelerators.bitweight import ent_digits

    config = EngineConfig(engine="bitslice", mac="opt4c", rows=1, cols=3, depth=4)
    a = gaussian_int8(15.0, 7 * 23, seed).reshape(7, 23)
    b = rng.integers(-128, 128, (23, 5))
    per_fold = issue_cycles_per_fold(config, a, b)
    assert np.array_equal(per_fold[:, 0], sparse_cycles(ent_digits(a), 4)), f"seed {seed}"
    assert np.all(per_fold == per_fold[:, :1]), f"seed {seed}: columns share A (lockstep)"


# ---- expected cycles: closed form vs sampled data and the notes ------------------------------
def _independent_fold_samples(config: EngineConfig, a: np.ndarray, b: np.ndarray,
                              chunk: int = 100) -> np.ndarray:
    """Issue cycles of the diagonal folds (p, p): they share no A rows or B columns, so they
    are independent samples. Taken ``chunk`` folds at a time to keep the fold matrix small."""
    r, c = config.rows, config.cols
    out = []
    for start in range(0, a.shape[0] // r, chunk):
        block_a = a[start * r:(start + chunk) * r]
        block_b = b[:, start * c:(start + chunk) * c]
        out.append(np.diagonal(issue_cycles_per_fold(config, block_a, block_b)))
    return np.concatenate(out).astype(float)


@pytest.mark.parametrize(("mac", "encoding"), [("opt4c", "ent"), ("opt3", "booth"),
                                               ("laconic", "booth")])
def test_expected_issue_cycles_match_sampled_mean(mac, encoding, seed):
    rng = np.random.default_rng(seed)
    r, c, d = (int(x) for x in rng.integers(1, 5, size=3))
    k = int(rng.integers(d, 4 * d + 3))
    sigma = float(rng.choice([10.0, 20.0, 50.0]))
    config = EngineConfig(engine="bitslice", mac=mac, rows=r, cols=c, depth=d,
                          digit_encoding=encoding, operand_sigma=sigma)
    folds = 1500  # independent folds: the diagonal (p, p) folds share no A rows or B columns
    a = gaussian_int8(sigma, folds * r * k, seed).reshape(folds * r, k)
    b = gaussian_int8(sigma, k * folds * c, seed + 1).reshape(k, folds * c)
    samples = _independent_fold_samples(config, a, b)
    mean, se = samples.mean(), samples.std(ddof=1) / math.sqrt(folds)
    expected = float(expected_issue_cycles(config, r, c, k))
    where = f"seed {seed} {config} K={k}: sampled {mean:.3f} +- {se:.3f}, closed form {expected}"
    assert abs(mean - expected) <= 4 * se + 1e-9, where


@pytest.mark.parametrize("mac", SPARSE_MACS)
def test_expected_issue_cycles_match_sampled_mean_when_zeros_are_common(mac, seed):
    # sigma 1.5: a third of the operands are 0, so empty steps (the max(1, .) floor) and
    # all-zero laconic groups are frequent and the zero terms of the closed form matter.
    rng = np.random.default_rng(seed)
    d = int(rng.integers(1, 3))
    config = EngineConfig(engine="bitslice", mac=mac, rows=1, cols=1, depth=d,
                          operand_sigma=1.5)
    k, folds = 2 * d + 1, 4000
    a = gaussian_int8(1.5, folds * k, seed).reshape(folds, k)
    b = gaussian_int8(1.5, k * folds, seed + 1).reshape(k, folds)
    samples = _independent_fold_samples(config, a, b)
    mean, se = samples.mean(), samples.std(ddof=1) / math.sqrt(folds)
    expected = float(expected_issue_cycles(config, 1, 1, k))
    where = f"seed {seed} {config} K={k}: sampled {mean:.4f} +- {se:.4f}, closed form {expected}"
    assert abs(mean - expected) <= 4 * se + 1e-9, where


NOTES_SIGMAS = (10, 20, 30, 40, 50)
#: Reference notes (notes_tpe_bitweight.md, section 3): "recount of 200k samples" EN-T non-zero
#: digits per operand, radix-4 Booth non-zero digits, and cycles per operand with max(1, nnz)
#: per group of 4 (one column group, K 32).
NOTES_ENT_NNZ = (1.76, 2.12, 2.33, 2.49, 2.60)
NOTES_BOOTH_NNZ = (1.93, 2.30, 2.53, 2.68, 2.77)
NOTES_ENT_CYCLES = (2.08, 2.34, 2.47, 2.56, 2.64)


@pytest.mark.parametrize("index", range(len(NOTES_SIGMAS)))
def test_closed_form_reproduces_the_notes_digit_statistics(index):
    sigma = NOTES_SIGMAS[index]
    ent = float(digit_nonzero_probabilities(sigma, "ent").sum())
    booth = float(digit_nonzero_probabilities(sigma, "booth").sum())
    config = EngineConfig(engine="bitslice", mac="opt4c", rows=1, cols=1, depth=4,
                          operand_sigma=sigma)
    cycles = float(expected_issue_cycles(config, 1, 1, 32)) / 32
    where = f"sigma {sigma}: ent {ent:.4f} booth {booth:.4f} cycles/op {cycles:.4f}"
    assert ent == pytest.approx(NOTES_ENT_NNZ[index], abs=0.01), where
    assert booth == pytest.approx(NOTES_BOOTH_NNZ[index], abs=0.02), where
    assert cycles == pytest.approx(NOTES_ENT_CYCLES[index], abs=0.012), where


def test_model_sparse_cycles_are_expected_fold_cycles_rounded():
    config = EngineConfig(engine="bitslice", mac="opt4c", rows=2, cols=4, depth=4)
    # M=5: row folds of 2, 2, 1 rows; N=6: column folds of 4, 2 columns (opt4c ignores B)
    full, part = (float(expected_issue_cycles(config, rows, 1, 10)) for rows in (2, 1))
    tail = 2 + 3
    expected = 2 * (2 * (full + tail) + (part + tail))
    assert _one_layer(config, 5, 6, 10)["compute_cycles"] == round(expected)


# ---- engine=systolic is the systolic model --------------------------------------------------
@pytest.mark.parametrize("dataflow", ["os", "ws"])
@pytest.mark.parametrize("mac", ["naive", "booth"])
def test_systolic_engine_equals_systolic_model(dataflow, mac):
    fields = {"rows": 16, "cols": 8, "dataflow": dataflow, "ofmap_sram_kib": 32.0}
    workload = load_network("resnet50")
    ours = EngineModel(EngineConfig(engine="systolic", mac=mac, **fields)).run(workload)
    theirs = SystolicModel(SystolicConfig(**fields)).run(workload)
    assert set(theirs.columns) <= set(ours.columns)
    for key, values in theirs.columns.items():
        assert np.allclose(ours[key], values, rtol=1e-12, atol=0), key
    totals = EngineModel(EngineConfig(engine="systolic", mac=mac, **fields)).evaluate(workload)
    reference = SystolicModel(SystolicConfig(**fields)).evaluate(workload)
    assert totals.totals["area_mm2"] == pytest.approx(reference.totals["area_mm2"], rel=1e-12)


# ---- bounds, mapping, traffic, area and energy -----------------------------------------------
@pytest.mark.parametrize(("engine", "mac"), PAIRS)
def test_cycles_never_beat_the_peak_rate(engine, mac, seed):
    rng = np.random.default_rng(seed)
    config = _random_config(rng, engine, mac)
    gemms = [Gemm(f"g{i}", *(int(x) for x in rng.integers(1, 300, size=3)),
                  groups=int(rng.integers(1, 3))) for i in range(6)]
    table = EngineModel(config).run(Workload.of("w", gemms))
    bound = table["macs"] / config.peak_macs_per_cycle
    assert np.all(table["compute_cycles"] >= bound), f"seed {seed} {config}"
    assert np.all(table["utilization"] <= 1) and np.all(table["mapping_efficiency"] <= 1)


# Hand-worked, 4x4x4 engines on M=10 N=6 K=9 (dimensions rows x cols x depth):
#   cube: 3 row folds x 2 col folds, T = ceil(9/4) = 3, fold 3 + 8 + 4 + 4 - 2 = 17 -> 102;
#     ifmap reads M*K*2 = 180, filter K*N*3 = 162, ofmap writes 60, ofmap reads 60 (drain)
#   matrix2d: same folds, fold 3 + L(=2) + 4 + 1 = 10 -> 60; traffic as cube
#   tree: K folds 3 x col folds 2, T = ceil(10/4) = 3, fold 4 + 3 + 4 + 2 - 1 = 12 -> 72;
#     ifmap 180, filter K*N = 54, ofmap writes M*N*3 = 180, reads M*N*2 + 60 = 180
HAND = {
    "cube": (102, 180, 162, 60, 60),
    "matrix2d": (60, 180, 162, 60, 60),
    "tree": (72, 180, 54, 180, 180),
}


@pytest.mark.parametrize("engine", sorted(HAND))
def test_cycles_and_sram_traffic_hand_worked(engine):
    cycles, ifmap, filt, ofmap_w, ofmap_r = HAND[engine]
    layer = _one_layer(EngineConfig(engine=engine, rows=4, cols=4, depth=4), 10, 6, 9)
    assert layer["compute_cycles"] == cycles
    assert layer["sram_reads"] == {"ifmap": ifmap, "filter": filt, "ofmap": ofmap_r}
    assert layer["sram_writes"]["ofmap"] == ofmap_w
    assert layer["sram_writes"]["ifmap"] == 90 and layer["sram_writes"]["filter"] == 54
    assert layer["mapping_efficiency"] == pytest.approx(540 / (6 * 3 * 64))


def test_cube_area_and_energy_hand_worked():
    # default-45nm table: multiply 282 um^2 at 8 b; add 36 um^2 at 8 b, exponent 0.96; FF 4.52;
    # SRAM 4724 um^2/KiB. Energy: multiply 0.2 pJ at 8 b; add 0.1 pJ at 32 b, exponent 0.87;
    # SRAM 1.25 pJ/byte at 8 KiB, exponent 0.5; DRAM 162.5 pJ/byte.
    config = EngineConfig(engine="cube", rows=2, cols=2, depth=2, ifmap_sram_kib=8,
                          filter_sram_kib=8, ofmap_sram_kib=8)
    psum = 17  # 2*8 + ceil(log2 2)
    add_area = lambda w: 36.0 * (w / 8) ** 0.96  # noqa: E731
    lane = 282.0 + add_area(psum) + 4.52 * (16 + psum)
    accumulator = add_area(32) + 4.52 * 32
    area_um2 = 8 * lane + 4 * accumulator + 4724.0 * 24
    assert EngineModel(config).area_mm2() == pytest.approx(area_um2 / 1e6, rel=1e-12)
    # GEMM 2x2x4: one fold, T = 2 beats; 16 MACs; 4 outputs x 2 beats = 8 accumulates.
    # SRAM words: ifmap 8 read + 8 written, filter 8 + 8, ofmap 4 written + 4 drained;
    # DRAM bytes: 8 + 8 + 4.
    add_pj = lambda w: 0.1 * (w / 32) ** 0.87  # noqa: E731
    sram_pj = 1.25  # 8 KiB
    energy = 16 * (0.2 + add_pj(psum)) + 8 * add_pj(32)
    energy += (16 + 16) * sram_pj + 8 * 4 * sram_pj + 20 * 162.5
    assert _one_layer(config, 2, 2, 4)["energy_pj"] == pytest.approx(energy, rel=1e-12)


def test_sparse_datapath_energy_hand_worked():
    # One opt4c PE, k-group 4, GEMM 1x1x4 at sigma 20: 4 MACs issue 4 x nnz digits into the
    # 32-b accumulator, the output pays a CPA and a shift-add per bit-weight pass (8 adds),
    # and each of the 4 A words read is encoded once (an 8-b add).
    from hwsim.accelerators.bitweight import digit_statistics
    from hwsim.accelerators.engines.model import analytical_timing

    config = EngineConfig(engine="bitslice", mac="opt4c", rows=1, cols=1, depth=4)
    nnz = digit_statistics(20.0, 200_000, seed=5).ent_nnz_per_operand  # sampled, not closed
    add32, add8 = 0.1, 0.1 * (8 / 32) ** 0.87
    expected = 8 * add32 + 4 * nnz * add32 + 4 * add8
    timing = analytical_timing(config, [1], [1], [4], [1])
    assert EngineModel(config).pe_energy_pj(timing)[0] == pytest.approx(expected, rel=2e-3)


def test_bitweight_variants_add_their_registers_and_cycles():
    base = EngineConfig(engine="cube", rows=4, cols=4, depth=4)
    opt1 = base.replace(mac="opt1")
    # opt1: carry registers of every psum (19... 2*8+2 = 18 b per lane, 32 b per accumulator)
    # and one CPA per column
    extra = (64 * 18 + 16 * 32) * 4.52 + 4 * 36.0 * 4**0.96
    assert (EngineModel(opt1).area_mm2() - EngineModel(base).area_mm2()) * 1e6 == \
        pytest.approx(extra, rel=1e-9)
    fold_difference = (_one_layer(opt1, 8, 8, 16)["compute_cycles"]
                       - _one_layer(base, 8, 8, 16)["compute_cycles"])
    assert fold_difference == 4  # 4 folds, one CPA stage each


# ---- config -------------------------------------------------------------------------------
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("mac", MACS)
def test_invalid_engine_mac_pairs_are_one_line_errors(engine, mac):
    if mac in COMPATIBILITY[engine]:
        assert EngineConfig(engine=engine, mac=mac).mac == mac
        return
    with pytest.raises(ConfigError) as err:
        EngineConfig(engine=engine, mac=mac)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("mac must be one of ") and f"engine {engine}" in message
    assert ", ".join(COMPATIBILITY[engine]) in message and repr(mac) in message


@pytest.mark.parametrize(("fields", "needle"), [
    ({"engine": "cube", "dataflow": "ws"}, "dataflow must be os for engine cube"),
    ({"engine": "cube", "depth": 8, "acc_width_bits": 18}, "acc_width_bits must be >= 19"),
    ({"engine": "systolic", "acc_width_bits": 15}, "acc_width_bits must be >= 16"),
    ({"engine": "tree", "mac": "opt2", "in_width_bits": 4}, "in_width_bits must be 8"),
    ({"engine": "bitslice", "mac": "opt4c", "operand_sigma": 0}, "operand_sigma must be"),
    ({"engine": "torus"}, "engine must be one of systolic, cube, tree, matrix2d, bitslice"),
    ({"depth": 0}, "depth must be an integer in [1, 256]"),
])
def test_bad_fields_name_themselves(fields, needle):
    with pytest.raises(ConfigError) as err:
        EngineConfig(**fields)
    assert needle in str(err.value) and "\n" not in str(err.value)


# ---- sweep ----------------------------------------------------------------------------------
def test_sweep_over_engines_rows_equal_evaluate_and_bad_pairs_are_infeasible(tmp_path):
    spec = parse_spec({
        "unit": "engine",
        "base": {"rows": 4, "cols": 4, "depth": 4},
        "axes": {"engine": ["systolic", "cube", "tree", "bitslice"], "mac": ["naive", "opt4c"]},
        "workloads": [{"gemm": [50, 20, 70]}, {"network": "bert-base"}],
    })
    run_sweep(spec, tmp_path / "e.db")
    df = store.load(tmp_path / "e.db")
    assert len(df) == 4 * 2 * 2
    workloads = {"gemm_50x20x70": Workload.of("g", [Gemm("gemm_50x20x70", 50, 20, 70)]),
                 "bert-base": load_network("bert-base")}
    for row in df.to_dict("records"):
        feasible = row["mac"] in COMPATIBILITY[row["engine"]]
        assert (row["status"] == "ok") == feasible, row
        if not feasible:
            assert "mac must be one of" in row["reason"] and row["engine"] in row["reason"]
            continue
        config = EngineConfig(engine=row["engine"], mac=row["mac"], rows=4, cols=4, depth=4)
        totals = EngineModel(config).evaluate(workloads[row["workload"]]).totals
        assert row["fingerprint"] == config.fingerprint()
        for key in ("total_cycles", "compute_cycles", "stall_cycles", "macs", "utilization",
                    "mapping_efficiency", "area_mm2", "pes", "peak_macs_per_cycle"):
            assert row[key] == pytest.approx(totals[key], rel=1e-12), key
        assert row["energy_pj"] == pytest.approx(totals["energy_pj"], rel=1e-12)
        assert row["dram_bytes"] == pytest.approx(sum(totals["dram_bytes"].values()), rel=1e-12)
