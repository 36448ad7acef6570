"""Sustained bank-level PIM bandwidth: every bank of every chip streams its own rows.

:func:`~hwsim.memory.dram_analytical.internal_bandwidth_gbps` counts the *peak* of a
bank-level PIM design (each bank of each chip delivers one burst of the chip's width per
``tCCD_L``: 13.1 TB/s for the L3/CHIME host). A bank cannot keep that up: it has to open each
row (``tRCD``), close it (``tRTP + tRP``) and respect ``tRC``; the rank's command bus admits at
most four ACTs per ``tFAW`` (and one per ``tRRD``); and the chips may have a power budget.
:func:`pim_bank_bandwidth_gbps` reports the sustained figure and which of the three binds.

Closed forms (cycles at ``tck_ns``; ``B`` bytes of one chip's row read per visit)
----------------------------------------------------------------------------------
::

    b      = device_width_bits * burst_length / 8           bytes of one chip burst
    k      = B / b                                          column reads per row visit
    T_row  = max(tRC, tRCD + (k - 1) * tCCD_L + tRTP + tRP, k * tCCD_L)
    T_act  = max(tFAW / 4, tRRD_S, tRRD_L / bank_groups)    ACT interval of a rank
    N      = channels * ranks                               ranks in the system
    bank limit     = N * chips * banks * B / (T_row * tCK)            [GB/s = bytes/ns]
    activate limit = N * chips * B / (T_act * tCK)   (one ACT opens the row in all chips)
    energy per byte e = E_ACT / (chips * B) + 8 * (read_energy_pj_per_bit - io_energy_pj_per_bit)
    power limit    = power_cap_w * 1e3 / e                             (W / (pJ/B) = 1e3 GB/s)
    sustained      = min(bank, activate, power)

``E_ACT`` and the read energy are the rank's figures from
:func:`~hwsim.memory.dram_energy.dram_event_energies`; the read energy leaves out the off-chip
I/O share (the data stays in the chip) but keeps the on-die column path, so for a PU beside
each bank it is an upper bound. Background power is not counted against the cap. The third
term of ``T_row`` only matters when ``tRCD + tRTP + tRP < tCCD_L``: a bank never reads faster
than one burst per ``tCCD_L``.

Worked example (tests/unit/test_memory_pim.py): DDR4-3200 as 16 channels x 4 ranks (CHIME),
full 1 KB chip rows: ``k = 128``, ``T_row = 22 + 127 * 8 + 12 + 22 = 1072`` nCK, bank limit
``8192 banks * 1024 B / 670 ns = 12.52 TB/s`` (95.5 % of the 13.1 TB/s peak), activate limit
``64 * 8 * 1024 B / (8.5 * 0.625 ns) = 98.7 TB/s``: the banks bind. With 64-byte visits
``T_row = 112`` nCK and the activate limit (6.17 TB/s) binds.
"""

from __future__ import annotations

import math
from typing import Any

from hwsim.config import ConfigError

from .dram_config import DramConfig
from .dram_energy import dram_event_energies

__all__ = ["pim_bank_bandwidth_gbps", "PIM_LIMITS"]

#: Names of the limits, in the order ties are reported.
PIM_LIMITS = ("bank", "activate", "power")


def pim_bank_bandwidth_gbps(
    config: DramConfig,
    bytes_per_row_visit: int | None = None,
    power_cap_w: float | None = None,
) -> dict[str, Any]:
    """Sustained all-bank PIM bandwidth (GB/s) under row cycling, tFAW/tRRD and a power cap.

    Parameters
    ----------
    config
        The memory system (all channels and ranks stream at once).
    bytes_per_row_visit
        Bytes of one chip's row read per visit (a multiple of the chip burst, at most the
        chip's row); default the whole row (``columns * device_width_bits / 8``).
    power_cap_w
        Budget for ACT + read power of the whole memory system (W); None for no cap.

    Returns
    -------
    dict
        ``row_visit_bytes`` (per chip), ``visit_column_reads``, ``row_visit_cycles``,
        ``activate_interval_cycles``, ``peak_bank_gbps`` (the tCCD_L count),
        ``bank_limit_gbps``, ``activate_limit_gbps``, ``power_limit_gbps`` (None without a
        cap), ``sustained_gbps``, ``utilization`` (sustained / peak), ``binding`` (``bank``,
        ``activate`` or ``power``), ``energy_pj_per_byte``, ``power_w`` (ACT + read power at
        the sustained rate) and ``power_cap_w``.
    """
    chip_burst = config.device_width_bits * config.burst_length // 8
    chip_row = config.columns * config.device_width_bits // 8
    if bytes_per_row_visit is None:
        visit = chip_row
    else:
        if (
            isinstance(bytes_per_row_visit, bool)
            or not isinstance(bytes_per_row_visit, int)
            or not chip_burst <= bytes_per_row_visit <= chip_row
            or bytes_per_row_visit % chip_burst
        ):
            raise ConfigError(
                f"bytes_per_row_visit must be a multiple of the chip burst ({chip_burst} bytes) "
                f"in [{chip_burst}, {chip_row}] (one chip's row), got {bytes_per_row_visit!r}"
            )
        visit = bytes_per_row_visit
    if power_cap_w is not None and (
        isinstance(power_cap_w, bool)
        or not isinstance(power_cap_w, int | float)
        or not math.isfinite(power_cap_w)
        or power_cap_w <= 0
    ):
        raise ConfigError(f"power_cap_w must be a finite number > 0 (W), got {power_cap_w!r}")

    reads = visit // chip_burst
    row_cycles = max(
        config.trc_cycles,
        config.trcd_cycles + (reads - 1) * config.tccd_l_cycles
        + config.trtp_cycles + config.trp_cycles,
        reads * config.tccd_l_cycles,
    )
    act_cycles = max(
        config.tfaw_cycles / 4, config.trrd_s_cycles, config.trrd_l_cycles / config.bank_groups
    )
    ranks = config.channels * config.ranks
    chips = config.chips_per_rank
    tck = config.tck_ns
    peak = ranks * chips * config.banks * chip_burst / (config.tccd_l_cycles * tck)
    limits: dict[str, float | None] = {
        "bank": ranks * chips * config.banks * visit / (row_cycles * tck),
        "activate": ranks * chips * visit / (act_cycles * tck),
        "power": None,
    }
    events = dram_event_energies(config)
    core_read_pj_per_bit = config.read_energy_pj_per_bit - config.io_energy_pj_per_bit
    energy_per_byte = float(events["activate_pj"]) / (chips * visit) + 8 * core_read_pj_per_bit
    if power_cap_w is not None:
        limits["power"] = (
            math.inf if energy_per_byte <= 0 else power_cap_w * 1e3 / energy_per_byte
        )
    binding = min(
        (name for name in PIM_LIMITS if limits[name] is not None),
        key=lambda name: limits[name],
    )
    sustained = float(limits[binding])
    return {
        "row_visit_bytes": visit,
        "visit_column_reads": reads,
        "row_visit_cycles": float(row_cycles),
        "activate_interval_cycles": float(act_cycles),
        "peak_bank_gbps": peak,
        "bank_limit_gbps": limits["bank"],
        "activate_limit_gbps": limits["activate"],
        "power_limit_gbps": limits["power"],
        "sustained_gbps": sustained,
        "utilization": sustained / peak,
        "binding": binding,
        "energy_pj_per_byte": energy_per_byte,
        # GB/s x pJ/B = 1e9 B/s x 1e-12 J/B = 1e-3 W
        "power_w": sustained * energy_per_byte * 1e-3,
        "power_cap_w": None if power_cap_w is None else float(power_cap_w),
    }
