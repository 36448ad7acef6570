"""Shared test fixtures. Random stimulus always takes a seed, printed on failure."""

from __future__ import annotations

import os

import pytest

#: Seeds for random tests; override with HWSIM_TEST_SEED to replay a failure.
SEEDS = [int(os.environ["HWSIM_TEST_SEED"])] if "HWSIM_TEST_SEED" in os.environ else [1, 7, 2026]


@pytest.fixture(params=SEEDS, ids=lambda s: f"seed{s}")
def seed(request: pytest.FixtureRequest) -> int:
    return request.param
