"""Address traces shared by both DRAM fidelities, and the figures both report.

A trace is a list of one-burst requests in arrival order: byte addresses and a write flag.
Both fidelities read the same trace, so tests compare them request for request.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from hwsim.config import ConfigError

from .dram_config import DEFAULT_MAPPING, DramConfig

__all__ = [
    "PATTERNS",
    "PAGE_POLICIES",
    "SCHEDULERS",
    "DramFigures",
    "make_trace",
    "check_run_options",
    "MAX_STRIDE_BYTES",
]

PATTERNS = ("sequential", "strided", "random")
PAGE_POLICIES = ("open", "closed")
SCHEDULERS = ("fr-fcfs", "fcfs")
#: Largest stride of the strided pattern (1 TiB): ``requests * stride`` stays in int64.
MAX_STRIDE_BYTES = 1 << 40


@dataclass(frozen=True)
class DramFigures:
    """What a DRAM model run reports (units in the names).

    ``latency_ns`` is the mean unloaded service latency of the run's row-buffer outcome mix
    (hit ``CL + tBL``, miss ``tRCD + CL + tBL``, conflict ``tRP + tRCD + CL + tBL``);
    ``row_hit_rate``, ``row_miss_rate`` and ``row_conflict_rate`` are fractions of requests.
    Energies come from :func:`hwsim.memory.dram_energy.dram_energy_pj`.
    """

    fidelity: str
    requests_count: int
    bytes_moved_bytes: int
    total_cycles: float
    seconds: float
    bandwidth_gbps: float
    peak_bandwidth_gbps: float
    latency_ns: float
    row_hit_rate: float
    row_miss_rate: float
    row_conflict_rate: float
    activates_count: int
    refreshes_count: int
    energy_pj: float
    #: Write bursts (scaled like the other counts for sampled patterns).
    writes_count: float = 0.0
    #: Background (IDD3N standby while busy) energy over ``seconds``; ``energy_pj`` counts
    #: only the commands (ACT/PRE, bursts, refresh), their sum is the run's total.
    background_energy_pj: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return asdict(self)


def check_run_options(
    *, page_policy: str = "open", scheduler: str = "fr-fcfs", queue_depth: int = 32
) -> None:
    """Raise ConfigError naming the option and its allowed values."""
    if page_policy not in PAGE_POLICIES:
        raise ConfigError(
            f"page_policy must be one of {', '.join(PAGE_POLICIES)}, got {page_policy!r}"
        )
    if scheduler not in SCHEDULERS:
        raise ConfigError(f"scheduler must be one of {', '.join(SCHEDULERS)}, got {scheduler!r}")
    if (
        isinstance(queue_depth, bool)
        or not isinstance(queue_depth, int)
        or not (1 <= queue_depth <= 1024)
    ):
        raise ConfigError(f"queue_depth must be an integer in [1, 1024], got {queue_depth!r}")


class DramRunner:
    """What both DRAM fidelities share: the memory system and how the controller runs it.

    ``mapping`` names the physical address mapping, ``page_policy`` is open or closed,
    ``scheduler`` FCFS or FR-FCFS, ``queue_depth`` the requests a channel controller holds,
    ``refresh`` whether refresh is modelled.
    """

    def __init__(
        self,
        config: DramConfig,
        *,
        mapping: str = DEFAULT_MAPPING,
        page_policy: str = "open",
        scheduler: str = "fr-fcfs",
        queue_depth: int = 32,
        refresh: bool = True,
    ) -> None:
        check_run_options(page_policy=page_policy, scheduler=scheduler, queue_depth=queue_depth)
        self.config = config
        self.mapping = mapping
        self.page_policy = page_policy
        self.scheduler = scheduler
        self.queue_depth = queue_depth
        self.refresh = refresh


def make_trace(
    config: DramConfig,
    pattern: str,
    n_bytes: int,
    *,
    stride_bytes: int | None = None,
    read_fraction: float = 1.0,
    seed: int = 0,
    footprint_bytes: int | None = None,
    start_bytes: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """One-burst requests covering ``n_bytes`` of a pattern.

    Parameters
    ----------
    config
        Memory system (burst size and capacity).
    pattern
        ``sequential`` (consecutive bursts), ``strided`` (one burst every ``stride_bytes``)
        or ``random`` (uniform burst-aligned addresses in ``footprint_bytes``, default the
        capacity).
    n_bytes
        Bytes to move; ``ceil(n_bytes / burst_bytes)`` requests.
    stride_bytes
        Distance between request addresses for ``strided`` (bytes, 1 to ``MAX_STRIDE_BYTES``).
    read_fraction
        Share of reads; each request is a write with probability ``1 - read_fraction``
        (seeded), so 1.0 is all reads and 0.0 all writes.
    seed
        Seed of the random addresses and read/write draw (an integer >= 0).
    footprint_bytes
        Address range of ``random`` (bytes).
    start_bytes
        First address.

    Returns
    -------
    addresses, is_write
        int64 byte addresses and a bool array, in arrival order.
    """
    if pattern not in PATTERNS:
        raise ConfigError(f"pattern must be one of {', '.join(PATTERNS)}, got {pattern!r}")
    if isinstance(n_bytes, bool) or not isinstance(n_bytes, int | np.integer) or n_bytes < 1:
        raise ConfigError(f"bytes must be an integer >= 1, got {n_bytes!r}")
    if not 0.0 <= read_fraction <= 1.0:
        raise ConfigError(f"read_fraction must be a number in [0, 1], got {read_fraction!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ConfigError(f"seed must be an integer >= 0, got {seed!r}")
    burst = config.burst_bytes
    n = -(-int(n_bytes) // burst)
    rng = np.random.default_rng(seed)
    index = np.arange(n, dtype=np.int64)
    if pattern == "sequential":
        addresses = start_bytes + index * burst
    elif pattern == "strided":
        if (
            isinstance(stride_bytes, bool)
            or not isinstance(stride_bytes, int | np.integer)
            or not 1 <= stride_bytes <= MAX_STRIDE_BYTES
        ):
            raise ConfigError(
                f"stride_bytes must be an integer in [1, {MAX_STRIDE_BYTES}], got {stride_bytes!r}"
            )
        addresses = start_bytes + index * int(stride_bytes)
    else:
        footprint = footprint_bytes or config.capacity_bytes
        if footprint < burst:
            raise ConfigError(f"footprint_bytes must be >= {burst}, got {footprint}")
        addresses = start_bytes + rng.integers(0, footprint // burst, size=n) * burst
    if read_fraction >= 1.0:
        is_write = np.zeros(n, dtype=bool)
    elif read_fraction <= 0.0:
        is_write = np.ones(n, dtype=bool)
    else:
        is_write = rng.random(n) >= read_fraction
    return addresses.astype(np.int64), is_write
