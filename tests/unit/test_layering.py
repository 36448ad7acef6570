"""The core must not pull in the HDL stack, nor the units."""

from __future__ import annotations

import subprocess
import sys


def _loaded_after(code: str) -> set[str]:
    probe = f"import sys\n{code}\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    return set(out.stdout.split())


def test_import_hwsim_loads_neither_amaranth_nor_cocotb():
    modules = _loaded_after("import hwsim, hwsim.accelerators.systolic")
    assert not {m for m in modules if m.split(".")[0] in ("amaranth", "cocotb", "cocotb_tools")}


def test_core_modules_do_not_import_units():
    modules = _loaded_after(
        "import hwsim, hwsim.config, hwsim.units, hwsim.stats, hwsim.workloads, hwsim.energy"
    )
    assert not {
        m
        for m in modules
        if m.startswith(("hwsim.accelerators", "hwsim.rtl", "hwsim.verification", "hwsim.memory"))
    }


def test_folders_install_under_hwsim():
    import hwsim.accelerators
    import hwsim.memory
    import hwsim.rtl
    import hwsim.verification

    for module, folder in [
        (hwsim.memory, "memory"),
        (hwsim.accelerators, "accelerators"),
        (hwsim.rtl, "rtl"),
        (hwsim.verification, "verification"),
    ]:
        assert module.__file__ is not None and f"/{folder}/__init__.py" in module.__file__
