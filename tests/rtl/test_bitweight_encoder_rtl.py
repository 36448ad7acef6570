"""The Amaranth EN-T and Booth encoders under the Amaranth simulator, exhaustively over the 256
int8 inputs: every digit equals the Python encoder's, the (en, neg, two) selects are canonical
and consistent with the digit, and the RTL digits reconstruct the input."""

from __future__ import annotations

import numpy as np
import pytest
from _require import require

require("amaranth")

from amaranth.back import rtlil  # noqa: E402
from amaranth.sim import Simulator  # noqa: E402

from hwsim.accelerators.bitweight import booth_digits, ent_digits, reconstruct  # noqa: E402
from hwsim.rtl.bitweight_encoder import N_DIGITS, BoothEncoder, EntEncoder  # noqa: E402

ALL_INT8 = list(range(-128, 128))
ENCODERS = [(EntEncoder, ent_digits), (BoothEncoder, booth_digits)]


def run_all_inputs(dut) -> dict[str, np.ndarray]:
    """Drive every int8 value into the combinational ``dut``; return its outputs, (256, 4)."""
    got = {name: np.zeros((256, N_DIGITS), np.int64) for name in ("digit", "en", "neg", "two")}

    async def bench(ctx):
        for n, x in enumerate(ALL_INT8):
            ctx.set(dut.x, x)
            for i in range(N_DIGITS):
                got["digit"][n, i] = ctx.get(dut.digit[i])
                for name in ("en", "neg", "two"):
                    got[name][n, i] = ctx.get(getattr(dut, name)[i])

    sim = Simulator(dut)
    sim.add_testbench(bench)
    sim.run()
    return got


@pytest.mark.parametrize("component,golden", ENCODERS, ids=["ent", "booth"])
def test_rtl_digits_equal_python_on_all_int8(component, golden):
    got = run_all_inputs(component())
    want = golden(np.array(ALL_INT8))
    bad = np.flatnonzero((got["digit"] != want).any(axis=1))
    assert bad.size == 0, (
        f"{component.__name__}: first mismatch at x={ALL_INT8[bad[0]] if bad.size else None}: "
        f"rtl {got['digit'][bad[0]].tolist() if bad.size else None} "
        f"python {want[bad[0]].tolist() if bad.size else None}"
    )
    np.testing.assert_array_equal(reconstruct(got["digit"]), np.array(ALL_INT8))


@pytest.mark.parametrize("component,golden", ENCODERS, ids=["ent", "booth"])
def test_rtl_selects_are_canonical(component, golden):
    got = run_all_inputs(component())
    d = got["digit"]
    np.testing.assert_array_equal(got["en"], (d != 0).astype(np.int64))
    np.testing.assert_array_equal(got["neg"], (d < 0).astype(np.int64))
    np.testing.assert_array_equal(got["two"], (np.abs(d) == 2).astype(np.int64))


@pytest.mark.parametrize("component", [EntEncoder, BoothEncoder], ids=["ent", "booth"])
def test_rtl_is_combinational_and_converts(component):
    """No clock domain (purely combinational) and the design lowers to RTLIL."""
    text = rtlil.convert(component())
    assert "clk" not in text and "$dff" not in text and "$adff" not in text
