"""DRAM energy per command from datasheet currents (the Micron power-calculator method).

A DRAM datasheet gives supply currents measured under fixed command loops (JESD79-4/-5 IDD
patterns); the energy of one command is the charge it draws *above* the background the chip
would draw anyway, times the supply voltage. This module turns those currents and the timing
of a :class:`~hwsim.memory.dram_config.DramConfig` into per-event energies of one **rank**
(all ``chips_per_rank`` chips in lock-step), as Micron's DDR power calculator (TN-40-07 for
DDR4), DRAMPower and DRAMsim3 do.

Closed forms (per chip; mA x V x ns = pJ; every time in ns at the config's ``tck_ns``)
------------------------------------------------------------------------------------
With ``I1 = IDD2N + (IDD3N - IDD2N) * (rho + (1 - rho) / B)`` the background current while one
of the chip's ``B`` banks is open (``rho = idd3n_shared_fraction``; ``rho = 1`` gives
``I1 = IDD3N``, the classic Micron/DRAMPower 4 form; ``rho < 1`` is DRAMPower 5's bank-wise
model, Jung et al., RAPIDO 2017, where part of the active-standby current scales with the
number of open banks)::

    E_ACT (ACT + PRE pair) = VDD * (IDD0 * tRC - (I1 * tRAS + IDD2N * (tRC - tRAS)))
    E_RD  (one read burst) = VDD * (IDD4R - IDD3N) * tBL
    E_WR  (one write burst) = VDD * (IDD4W - IDD3N) * tBL
    E_REF (one all-bank REF) = VDD * (IDD5B - IDD3N) * tRFC
    P_background (banks open, busy) = VDD * IDD3N            [mW]
    P_idle (all banks precharged)   = VDD * IDD2N            [mW]

The rank's values are these times ``chips_per_rank``; read and write bursts also pay
``io_energy_pj_per_bit`` for each bit on the channel (VDDQ drivers and termination, which the
IDD currents exclude). The word-line boost supply (VPP, IPP currents) is not counted, as in
DRAMsim3; it adds roughly ``VPP * (IPP0 - IPP3N) * tRC`` per ACT.

HBM has no public IDD tables: its presets give the event energies directly from published
per-bit figures (see ``dram_config``), and :func:`dram_event_energies` reports those.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from hwsim.config import ConfigError

if TYPE_CHECKING:  # dram_config imports this module; the type is only needed for hints
    from .dram_config import DramConfig

__all__ = ["energies_from_currents", "dram_event_energies", "dram_energy_pj"]


def energies_from_currents(
    *,
    vdd_v: float,
    idd0_ma: float,
    idd2n_ma: float,
    idd3n_ma: float,
    idd4r_ma: float,
    idd4w_ma: float,
    idd5b_ma: float,
    trc_ns: float,
    tras_ns: float,
    tbl_ns: float,
    trfc_ns: float,
    chips_per_rank: int,
    banks_per_chip: int,
    idd3n_shared_fraction: float = 1.0,
) -> dict[str, float]:
    """Per-rank event energies (pJ) and background powers (mW) from datasheet currents.

    Parameters
    ----------
    vdd_v
        Core supply VDD (V).
    idd0_ma, idd2n_ma, idd3n_ma, idd4r_ma, idd4w_ma, idd5b_ma
        Datasheet currents of one chip (mA): one-bank ACT-PRE loop, precharge standby, active
        standby, burst read, burst write, burst (all-bank) refresh.
    trc_ns, tras_ns, tbl_ns, trfc_ns
        ACT-to-ACT, ACT-to-PRE, data-burst and refresh-cycle times (ns).
    chips_per_rank
        Chips working in lock-step in one rank.
    banks_per_chip
        Banks of one chip (``B`` in the bank-wise background term).
    idd3n_shared_fraction
        Share ``rho`` of ``IDD3N - IDD2N`` drawn as soon as any bank is open (1: all of it).

    Returns
    -------
    dict
        ``activate_pj`` (one ACT + PRE pair), ``read_pj`` / ``write_pj`` (one burst, without
        I/O), ``refresh_pj`` (one all-bank REF), ``background_mw`` (banks open) and
        ``idle_mw`` (all banks precharged), all for the whole rank.

    Raises
    ------
    ConfigError
        When the currents describe no positive energy (e.g. ``IDD4R <= IDD3N``), naming the
        fields and the bound they break.
    """
    if idd3n_ma < idd2n_ma:
        raise ConfigError(
            f"idd3n_ma must be >= idd2n_ma ({idd2n_ma:g}): active standby draws at least the "
            f"precharge standby current, got {idd3n_ma:g}"
        )
    for name, value in (("idd4r_ma", idd4r_ma), ("idd4w_ma", idd4w_ma), ("idd5b_ma", idd5b_ma)):
        if value <= idd3n_ma:
            raise ConfigError(
                f"{name} must be > idd3n_ma ({idd3n_ma:g}): the command's current above active "
                f"standby is its energy, got {value:g}"
            )
    one_bank_open_ma = idd2n_ma + (idd3n_ma - idd2n_ma) * (
        idd3n_shared_fraction + (1.0 - idd3n_shared_fraction) / banks_per_chip
    )
    background_charge = one_bank_open_ma * tras_ns + idd2n_ma * (trc_ns - tras_ns)
    act_chip = vdd_v * (idd0_ma * trc_ns - background_charge)
    if act_chip <= 0:
        # the smallest IDD0 that leaves a positive ACT + PRE energy at these timings
        bound = background_charge / trc_ns
        raise ConfigError(
            f"idd0_ma must be > {bound:.4g} (the background current over tRC = {trc_ns:.4g} ns "
            f"with idd3n_shared_fraction = {idd3n_shared_fraction:g}) for a positive ACT energy, "
            f"got {idd0_ma:g}; lower idd3n_shared_fraction if IDD3N holds every bank open"
        )
    chips = chips_per_rank
    return {
        "activate_pj": chips * act_chip,
        "read_pj": chips * vdd_v * (idd4r_ma - idd3n_ma) * tbl_ns,
        "write_pj": chips * vdd_v * (idd4w_ma - idd3n_ma) * tbl_ns,
        "refresh_pj": chips * vdd_v * (idd5b_ma - idd3n_ma) * trfc_ns,
        "background_mw": chips * vdd_v * idd3n_ma,
        "idle_mw": chips * vdd_v * idd2n_ma,
    }


def dram_event_energies(config: DramConfig) -> dict[str, float | str]:
    """Energy of each command of one rank (pJ) and its background power (mW).

    Returns
    -------
    dict
        ``activate_pj`` (ACT + PRE pair), ``read_pj`` and ``write_pj`` (one burst of
        ``burst_bytes``, I/O included), ``refresh_pj`` (one all-bank REF), ``background_mw``
        (rank with banks open: what a busy rank draws besides its commands), ``idle_mw``
        (all banks precharged; 0 when the preset has no currents), ``io_pj`` (the I/O share
        of one burst) and ``source``: ``"idd"`` when derived from the config's datasheet
        currents, ``"published"`` when the config gives the energies directly (HBM).
    """
    burst_bits = config.burst_bytes * 8
    result: dict[str, float | str] = {
        "activate_pj": config.act_energy_pj,
        "read_pj": config.read_energy_pj_per_bit * burst_bits,
        "write_pj": config.write_energy_pj_per_bit * burst_bits,
        "refresh_pj": config.refresh_energy_pj,
        "background_mw": config.background_power_mw,
        "idle_mw": 0.0,
        "io_pj": config.io_energy_pj_per_bit * burst_bits,
        "source": "published",
    }
    if config.energy_fields_derived:
        # the config's energy fields were derived from these currents in its validation;
        # recomputing here gives the idle power and keeps one formula
        derived = energies_from_currents(**config.current_arguments())
        result["idle_mw"] = derived["idle_mw"]
        result["source"] = "idd"
    return result


def _count(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number >= 0, got {value!r}")
    if value < 0:
        raise ConfigError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def dram_energy_pj(
    config: DramConfig,
    reads: float,
    writes: float,
    activates: float,
    refreshes: float,
    busy_ns: float,
) -> dict[str, float]:
    """Energy of a run from its command counts and busy time, with a breakdown (pJ).

    Parameters
    ----------
    config
        The memory system.
    reads, writes
        Read and write bursts (requests of ``burst_bytes``) over all channels.
    activates
        ACT + PRE pairs over all channels and ranks.
    refreshes
        All-bank REF commands, counted per rank (a REF of a 4-rank channel counts 4).
    busy_ns
        Wall time of the run (ns); every rank of every channel draws its background power
        for all of it.

    Returns
    -------
    dict
        ``activate_pj``, ``read_pj``, ``write_pj``, ``refresh_pj``, ``background_pj`` and
        ``total_pj`` (their sum)::

            activate_pj   = activates * E_ACT
            read_pj       = reads * E_RD              (E_RD includes I/O)
            write_pj      = writes * E_WR
            refresh_pj    = refreshes * E_REF
            background_pj = P_background[mW] * channels * ranks * busy_ns
    """
    reads = _count("reads", reads)
    writes = _count("writes", writes)
    activates = _count("activates", activates)
    refreshes = _count("refreshes", refreshes)
    busy_ns = _count("busy_ns", busy_ns)
    events = dram_event_energies(config)
    parts = {
        "activate_pj": activates * float(events["activate_pj"]),
        "read_pj": reads * float(events["read_pj"]),
        "write_pj": writes * float(events["write_pj"]),
        "refresh_pj": refreshes * float(events["refresh_pj"]),
        # mW x ns = pJ
        "background_pj": float(events["background_mw"])
        * config.channels
        * config.ranks
        * busy_ns,
    }
    parts["total_pj"] = sum(parts.values())
    return parts
