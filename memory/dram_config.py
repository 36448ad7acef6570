"""DRAM/HBM organisation and timing: one frozen config per device, presets and address mapping.

Conventions
-----------
* Timings are integers in **memory-clock cycles** (``*_cycles``, JEDEC's nCK) at ``tck_ns``.
  ``transfers_per_clock`` data beats move per clock on each data pin (2 for DDR4/DDR5/HBM2e;
  4 for HBM3 as Ramulator counts its 0.625 ns command clock at 6.4 Gb/s/pin).
* A **channel** has its own command and data bus (for DDR5 a 32-bit sub-channel, for HBM a
  pseudo-channel); ``ranks`` share the channel's bus; ``bus_width_bits`` is the channel's data
  width and ``device_width_bits`` the width of one chip (x4/x8/x16), so a rank has
  ``bus_width_bits / device_width_bits`` chips working in lock-step.
* One request is one burst: ``burst_bytes = bus_width_bits / 8 * burst_length`` bytes, whose
  data occupies the bus for ``burst_cycles = burst_length / transfers_per_clock`` cycles.
* ``columns`` counts column addresses of one chip's row, so a row (page) of the rank holds
  ``columns * bus_width_bits / 8`` bytes and ``columns / burst_length`` bursts.

Address mapping
---------------
Mappings are named in the DRAM-simulator convention (Ramulator, DRAMsim3): fields from the
most significant to the least significant bit, above the burst offset. Fields: ``Ro`` row,
``Ra`` rank, ``Bg`` bank group, ``Ba`` bank (within its group), ``Co`` burst column within
the row, ``Ch`` channel. A name without ``Bg`` uses ``Ba`` for all banks of a rank, with the
bank group in its **low** bits (bank ``Ba`` is in group ``Ba % bank_groups``), so stepping
``Ba`` walks the bank groups first. The default, ``RoRaBaCoBgCh``, interleaves consecutive
bursts of a channel over bank groups, so a sequential stream pays ``tCCD_S`` rather than
``tCCD_L``; ``RoBaRaCoCh`` keeps a row's bursts in one bank (every burst pays ``tCCD_L``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from hwsim.config import ConfigBase, ConfigError, param

__all__ = [
    "DramConfig",
    "DRAM_PRESETS",
    "DDR4_3200",
    "DDR5_4800",
    "HBM2E",
    "HBM3",
    "MAPPINGS",
    "DEFAULT_MAPPING",
    "parse_mapping",
    "decode_addresses",
    "dram_preset",
]

#: Named mappings the CLI offers (any valid permutation of the fields also works).
MAPPINGS = ("RoRaBaCoBgCh", "RoBaRaCoCh", "RoRaBaChCo", "RoCoBaRaCh", "ChRaBaRoCo")
DEFAULT_MAPPING = "RoRaBaCoBgCh"

_FIELD_RE = re.compile(r"Ro|Ra|Bg|Ba|Co|Ch")


def _is_pow2(value: int) -> bool:
    return value >= 1 and (value & (value - 1)) == 0


@dataclass(frozen=True, kw_only=True)
class DramConfig(ConfigBase):
    """Organisation, timing and access energy of one DRAM/HBM memory system.

    Timings are memory-clock cycles at ``tck_ns``; see the module docstring for how channels,
    ranks, bursts and rows are counted.

    Energy: the timing models multiply command counts by ``act_energy_pj``,
    ``read_energy_pj_per_bit``, ``write_energy_pj_per_bit`` and ``refresh_energy_pj`` (per
    rank). When ``vdd_v`` is given, those fields and ``background_power_mw`` are *derived*
    from the datasheet currents ``idd*_ma`` and the timings (closed forms in
    :mod:`hwsim.memory.dram_energy`) each time the config is built or replaced, and any value
    given for them is replaced; set ``vdd_v`` to None to give energies directly.
    """

    unit_name = "dram"

    name: str = param("custom", "label of this device")
    # ---- organisation -----------------------------------------------------------------
    channels: int = param(1, "independent channels (own command and data bus)", low=1, high=4096)
    ranks: int = param(1, "ranks per channel (share the channel bus)", low=1, high=64)
    bank_groups: int = param(4, "bank groups per rank", low=1, high=64)
    banks_per_group: int = param(4, "banks per bank group", low=1, high=64)
    rows: int = param(65536, "rows per bank", low=1, high=1 << 24)
    columns: int = param(1024, "column addresses per chip row", low=1, high=1 << 16)
    bus_width_bits: int = param(64, "data width of one channel", low=4, high=1024, unit="bits")
    device_width_bits: int = param(8, "data width of one chip (x4/x8/x16)", low=1, high=1024,
                                   unit="bits")
    burst_length: int = param(8, "beats per burst (BL)", low=1, high=64, unit="beats")
    transfers_per_clock: int = param(2, "data beats per clock per pin", choices=(1, 2, 4))
    # ---- timing -----------------------------------------------------------------------
    tck_ns: float = param(0.625, "memory clock period", low=0.05, high=100.0, unit="ns")
    cl_cycles: int = param(22, "read latency CL", low=1, high=1000, unit="cycles")
    cwl_cycles: int = param(16, "write latency CWL", low=1, high=1000, unit="cycles")
    trcd_cycles: int = param(22, "ACT to column command", low=1, high=1000, unit="cycles")
    trp_cycles: int = param(22, "PRE to ACT", low=1, high=1000, unit="cycles")
    tras_cycles: int = param(52, "ACT to PRE", low=1, high=1000, unit="cycles")
    trc_cycles: int = param(74, "ACT to ACT, same bank", low=1, high=2000, unit="cycles")
    tccd_s_cycles: int = param(4, "column to column, other bank group", low=1, high=100,
                               unit="cycles")
    tccd_l_cycles: int = param(8, "column to column, same bank group", low=1, high=100,
                               unit="cycles")
    trrd_s_cycles: int = param(4, "ACT to ACT, other bank group", low=1, high=100, unit="cycles")
    trrd_l_cycles: int = param(8, "ACT to ACT, same bank group", low=1, high=100, unit="cycles")
    tfaw_cycles: int = param(34, "window holding at most four ACTs per rank", low=1, high=1000,
                             unit="cycles")
    twr_cycles: int = param(24, "end of write data to PRE", low=1, high=1000, unit="cycles")
    twtr_s_cycles: int = param(4, "end of write data to RD, other bank group", low=1, high=100,
                               unit="cycles")
    twtr_l_cycles: int = param(12, "end of write data to RD, same bank group", low=1, high=100,
                               unit="cycles")
    trtp_cycles: int = param(12, "RD to PRE", low=1, high=100, unit="cycles")
    trtrs_cycles: int = param(2, "bus turnaround between ranks or directions", low=0, high=100,
                              unit="cycles")
    trfc_cycles: int = param(560, "refresh cycle time (REF to ACT)", low=1, high=100000,
                             unit="cycles")
    trefi_cycles: int = param(12480, "average refresh interval", low=1, high=10_000_000,
                              unit="cycles")
    # ---- energy (per rank; derived from the datasheet currents below when vdd_v is given) ---
    act_energy_pj: float = param(2000.0, "one ACT + PRE pair of a rank", low=0, unit="pJ")
    read_energy_pj_per_bit: float = param(14.0, "array + I/O energy of read data", low=0,
                                          unit="pJ/bit")
    write_energy_pj_per_bit: float = param(15.0, "array + I/O energy of write data", low=0,
                                           unit="pJ/bit")
    refresh_energy_pj: float = param(100000.0, "one all-bank REF of a rank", low=0, unit="pJ")
    background_power_mw: float = param(0.0, "power of a busy rank besides its commands (banks "
                                       "open; 0: not counted)", low=0, unit="mW")
    io_energy_pj_per_bit: float = param(0.0, "I/O and termination share of the read/write "
                                        "energy per bit (VDDQ; not in the IDD currents)", low=0,
                                        unit="pJ/bit")
    # ---- datasheet currents of one chip (see hwsim.memory.dram_energy) -------------------
    vdd_v: float | None = param(None, "core supply VDD; when given, the energies above are "
                                "derived from the IDD currents", low=0.5, high=5.0, unit="V")
    idd0_ma: float | None = param(None, "IDD0: one-bank ACTIVATE-PRECHARGE current", low=0,
                                  high=100000, unit="mA")
    idd2n_ma: float | None = param(None, "IDD2N: precharge standby current", low=0,
                                   high=100000, unit="mA")
    idd3n_ma: float | None = param(None, "IDD3N: active standby current", low=0, high=100000,
                                   unit="mA")
    idd4r_ma: float | None = param(None, "IDD4R: burst read current", low=0, high=100000,
                                   unit="mA")
    idd4w_ma: float | None = param(None, "IDD4W: burst write current", low=0, high=100000,
                                   unit="mA")
    idd5b_ma: float | None = param(None, "IDD5B: burst (all-bank) refresh current", low=0,
                                   high=100000, unit="mA")
    idd3n_shared_fraction: float = param(1.0, "share of IDD3N - IDD2N drawn once any bank is "
                                         "open (rest scales with open banks; DRAMPower rho)",
                                         low=0.0, high=1.0)

    def _validate(self) -> None:
        for name in ("channels", "ranks", "bank_groups", "banks_per_group", "rows", "columns"):
            value = getattr(self, name)
            if not _is_pow2(value):
                raise ConfigError(f"{name} must be a power of two (address bits), got {value}")
        if self.bus_width_bits % self.device_width_bits:
            raise ConfigError(
                f"bus_width_bits ({self.bus_width_bits}) must be a multiple of "
                f"device_width_bits ({self.device_width_bits})"
            )
        if self.burst_length % self.transfers_per_clock:
            raise ConfigError(
                f"burst_length ({self.burst_length}) must be a multiple of "
                f"transfers_per_clock ({self.transfers_per_clock})"
            )
        if self.columns % self.burst_length or not _is_pow2(self.columns // self.burst_length):
            raise ConfigError(
                f"columns ({self.columns}) / burst_length ({self.burst_length}) must be a "
                "power of two (bursts per row)"
            )
        if self.trc_cycles < self.tras_cycles:
            raise ConfigError(
                f"trc_cycles ({self.trc_cycles}) must be >= tras_cycles ({self.tras_cycles})"
            )
        if self.tccd_l_cycles < self.tccd_s_cycles:
            raise ConfigError(
                f"tccd_l_cycles ({self.tccd_l_cycles}) must be >= tccd_s_cycles "
                f"({self.tccd_s_cycles})"
            )
        if self.trefi_cycles <= self.trfc_cycles + self.trp_cycles:
            raise ConfigError(
                f"trefi_cycles ({self.trefi_cycles}) must exceed trfc_cycles + trp_cycles "
                f"({self.trfc_cycles + self.trp_cycles})"
            )
        self._derive_energies()

    def _derive_energies(self) -> None:
        """With ``vdd_v`` given, replace the energy fields by the IDD-derived values."""
        currents = ("idd0_ma", "idd2n_ma", "idd3n_ma", "idd4r_ma", "idd4w_ma", "idd5b_ma")
        if self.vdd_v is None:
            smallest = min(self.read_energy_pj_per_bit, self.write_energy_pj_per_bit)
            if self.io_energy_pj_per_bit > smallest:
                raise ConfigError(
                    f"io_energy_pj_per_bit must be <= read and write energy per bit "
                    f"({smallest:g}): it is their I/O share, got {self.io_energy_pj_per_bit:g}"
                )
            return
        for name in currents:
            if getattr(self, name) is None:
                raise ConfigError(
                    f"{name} must be a number (mA) when vdd_v is given (energies from "
                    f"datasheet currents need {', '.join(currents)}), got None"
                )
        # imported here: dram_energy needs this module's type only for hints
        from .dram_energy import energies_from_currents

        derived = energies_from_currents(**self.current_arguments())
        burst_bits = self.burst_bytes * 8
        values = {
            "act_energy_pj": derived["activate_pj"],
            "read_energy_pj_per_bit": derived["read_pj"] / burst_bits + self.io_energy_pj_per_bit,
            "write_energy_pj_per_bit": derived["write_pj"] / burst_bits
            + self.io_energy_pj_per_bit,
            "refresh_energy_pj": derived["refresh_pj"],
            "background_power_mw": derived["background_mw"],
        }
        for name, value in values.items():
            object.__setattr__(self, name, float(value))

    def current_arguments(self) -> dict[str, float | int]:
        """Keyword arguments of :func:`~hwsim.memory.dram_energy.energies_from_currents`.

        Times are converted from cycles to ns at ``tck_ns``; only meaningful when ``vdd_v``
        and the IDD currents are given.
        """
        return {
            "vdd_v": self.vdd_v,
            "idd0_ma": self.idd0_ma,
            "idd2n_ma": self.idd2n_ma,
            "idd3n_ma": self.idd3n_ma,
            "idd4r_ma": self.idd4r_ma,
            "idd4w_ma": self.idd4w_ma,
            "idd5b_ma": self.idd5b_ma,
            "trc_ns": self.trc_cycles * self.tck_ns,
            "tras_ns": self.tras_cycles * self.tck_ns,
            "tbl_ns": self.burst_cycles * self.tck_ns,
            "trfc_ns": self.trfc_cycles * self.tck_ns,
            "chips_per_rank": self.chips_per_rank,
            "banks_per_chip": self.banks,
            "idd3n_shared_fraction": self.idd3n_shared_fraction,
        }

    @property
    def energy_fields_derived(self) -> bool:
        """True when the energy fields come from the datasheet currents (``vdd_v`` given)."""
        return self.vdd_v is not None

    # ---- derived sizes ----------------------------------------------------------------
    @property
    def banks(self) -> int:
        """Banks per rank."""
        return self.bank_groups * self.banks_per_group

    @property
    def chips_per_rank(self) -> int:
        """Chips that work in lock-step to fill the channel's bus."""
        return self.bus_width_bits // self.device_width_bits

    @property
    def burst_bytes(self) -> int:
        """Bytes moved by one request (one burst on the channel)."""
        return self.bus_width_bits * self.burst_length // 8

    @property
    def burst_cycles(self) -> int:
        """Data-bus cycles one burst occupies (tBL)."""
        return self.burst_length // self.transfers_per_clock

    @property
    def bursts_per_row(self) -> int:
        """Bursts in one open row of a rank."""
        return self.columns // self.burst_length

    @property
    def row_bytes(self) -> int:
        """Bytes in one open row of a rank (all its chips)."""
        return self.columns * self.bus_width_bits // 8

    @property
    def capacity_bytes(self) -> int:
        """Total capacity of all channels."""
        return self.channels * self.ranks * self.banks * self.rows * self.row_bytes

    @property
    def data_rate_mtps(self) -> float:
        """Transfers per second per pin, in MT/s."""
        return self.transfers_per_clock * 1e3 / self.tck_ns

    @property
    def channel_peak_gbps(self) -> float:
        """Peak bandwidth of one channel's bus in GB/s (bytes per ns)."""
        return self.bus_width_bits / 8 * self.transfers_per_clock / self.tck_ns

    @property
    def peak_bandwidth_gbps(self) -> float:
        """Peak bandwidth of all channels in GB/s."""
        return self.channels * self.channel_peak_gbps

    @property
    def refresh_fraction(self) -> float:
        """Share of time a rank is blocked by refresh (tRFC / tREFI)."""
        return self.trfc_cycles / self.trefi_cycles

    def cycles_to_ns(self, cycles: float) -> float:
        """Memory-clock cycles to ns."""
        return cycles * self.tck_ns


# Presets. Every timing is in nCK at the preset's tCK; the comment names the source.
#: DDR4-3200AA (22-22-22), 8 Gb x8 chips: Ramulator 2 ``DDR4_3200AA`` timing preset and
#: ``DDR4_8Gb_x8`` organisation, the values the L3/CHIME evaluation uses (notes_dimm_pim.md,
#: Table I). One channel, one rank; L3's host is ``replace(channels=16, ranks=4)``.
DDR4_3200 = DramConfig(
    name="DDR4-3200",
    channels=1,
    ranks=1,
    bank_groups=4,  # DDR4 x8: 4 BG x 4 banks (JESD79-4; Ramulator DDR4_8Gb_x8)
    banks_per_group=4,
    rows=65536,  # 8 Gb x8: 64K rows (Ramulator DDR4_8Gb_x8)
    columns=1024,  # 1 KB page per x8 chip
    bus_width_bits=64,  # 64-bit DIMM channel (ECC not counted)
    device_width_bits=8,
    burst_length=8,  # BL8 (Ramulator nBL 4 = 4 clocks of data)
    transfers_per_clock=2,
    tck_ns=0.625,  # 1600 MHz clock, 3200 MT/s (Ramulator tCK_ps 625)
    cl_cycles=22,  # Ramulator DDR4_3200AA nCL
    cwl_cycles=16,  # Ramulator DDR4_3200AA nCWL
    trcd_cycles=22,  # nRCD
    trp_cycles=22,  # nRP
    tras_cycles=52,  # nRAS
    trc_cycles=74,  # nRC
    tccd_s_cycles=4,  # nCCDS
    tccd_l_cycles=8,  # nCCDL
    trrd_s_cycles=4,  # nRRDS (JESD79-4 x8 @3200, Ramulator table)
    trrd_l_cycles=8,  # nRRDL (same table)
    tfaw_cycles=34,  # nFAW x8 @3200 (Ramulator table; DRAMsim3 DDR4_8Gb_x8_3200 tFAW 34)
    twr_cycles=24,  # nWR
    twtr_s_cycles=4,  # nWTRS
    twtr_l_cycles=12,  # nWTRL
    trtp_cycles=12,  # nRTP
    trtrs_cycles=2,  # DRAMsim3 DDR4 tRTRS 2; Ramulator's "+2" in RD->WR
    trfc_cycles=560,  # tRFC1 350 ns for 8 Gb (JESD79-4; DRAMsim3 560 nCK)
    trefi_cycles=12480,  # tREFI 7.8 us (JESD79-4; DRAMsim3 12480 nCK)
    # Energy from datasheet currents of one 8 Gb x8 DDR4-3200 chip (energies derived in
    # dram_energy): the values DRAMsim3 ships in configs/DDR4_8Gb_x8_3200.ini [power], the
    # config behind the L3/CHIME simulator, for the Micron 8 Gb x8 (MT40A1G8) class. The
    # Micron -062E IDD table itself was not at hand; replace these with it before quoting.
    # Derived per rank (8 chips): ACT+PRE 4200 pJ, RD 2784 pJ per 64 B burst (5.44 pJ/bit),
    # WR 2352 pJ, REF 665 nJ, background 499 mW.
    vdd_v=1.2,  # VDD 1.2 V (JESD79-4)
    idd0_ma=57.0,  # DRAMsim3 DDR4_8Gb_x8_3200 IDD0
    idd2n_ma=37.0,  # IDD2N
    idd3n_ma=52.0,  # IDD3N
    idd4r_ma=168.0,  # IDD4R
    idd4w_ma=150.0,  # IDD4W
    idd5b_ma=250.0,  # IDD5AB (1x all-bank refresh)
    io_energy_pj_per_bit=0.0,  # VDDQ I/O + termination not counted (board-dependent)
)

#: DDR5-4800 (40-39-39 class is retail; JEDEC 4800A/B 34..40): Ramulator 2 ``DDR5_4800AN``
#: values from notes_dimm_pim.md section 9; 16 Gb x8, 8 BG x 4 banks. A channel is one 32-bit
#: sub-channel; one DIMM = two channels (38.4 GB/s).
DDR5_4800 = DramConfig(
    name="DDR5-4800",
    channels=2,  # two 32-bit sub-channels per DIMM (JESD79-5)
    ranks=1,
    bank_groups=8,  # 16 Gb x8: 8 BG x 4 banks (JESD79-5)
    banks_per_group=4,
    rows=65536,  # 64K rows
    columns=1024,  # 1 KB page per x8 chip
    bus_width_bits=32,  # sub-channel width
    device_width_bits=8,
    burst_length=16,  # BL16 -> 64 B per sub-channel burst
    transfers_per_clock=2,
    tck_ns=1 / 2.4,  # 2400 MHz clock, 4800 MT/s (Ramulator tCK 0.416 ns)
    cl_cycles=34,  # DDR5_4800AN CL 34 (14.2 ns)
    cwl_cycles=32,  # CWL = CL - 2 (JESD79-5)
    trcd_cycles=34,  # 14.2 ns
    trp_cycles=34,  # 14.2 ns
    tras_cycles=77,  # 32 ns
    trc_cycles=111,  # 46.2 ns
    tccd_s_cycles=8,  # BL16 on x8: 8 nCK
    tccd_l_cycles=12,  # max(8 nCK, 5 ns) (gem5 DDR5)
    trrd_s_cycles=8,  # 8 nCK
    trrd_l_cycles=12,  # max(8 nCK, 5 ns)
    tfaw_cycles=32,  # 13.3 ns (x8, 1 KB page; some sources use 48: a parameter)
    twr_cycles=72,  # 30 ns
    twtr_s_cycles=6,  # 2.5 ns
    twtr_l_cycles=24,  # 10 ns
    trtp_cycles=18,  # 7.5 ns
    trtrs_cycles=2,  # assumed as DDR4
    trfc_cycles=708,  # tRFC1 295 ns for 16 Gb (JESD79-5), ceil(295 / 0.41667)
    trefi_cycles=9360,  # tREFI 3.9 us (JESD79-5)
    # Energy from datasheet currents of one 16 Gb x8 DDR5 chip: Micron MT60B2G8, -48B speed
    # grade (DDR5-4800B, 40-39-39), as quoted in Ramulator 2's DDR5 current presets
    # ("DDR5_4800x8"). The currents were measured at that bin's timings; the energies here use
    # this preset's 4800AN timings. IDD3N (all 32 banks open) exceeds IDD0 (one bank cycling),
    # so the classic form (rho = 1) gives a negative ACT energy: rho must be <= 0.31 for this
    # part. rho = 0 (the active-standby increment scales with open banks) is an assumption.
    # Derived per sub-channel rank (4 chips): ACT+PRE 2018 pJ, RD 3447 pJ per 64 B burst
    # (6.73 pJ/bit), WR 3183 pJ, REF 175 nJ, background 625 mW.
    vdd_v=1.1,  # VDD 1.1 V (JESD79-5)
    idd0_ma=103.0,  # Micron 16 Gb DDR5 x8 -48B IDD0
    idd2n_ma=92.0,  # IDD2N
    idd3n_ma=142.0,  # IDD3N
    idd4r_ma=377.0,  # IDD4R (x8)
    idd4w_ma=359.0,  # IDD4W (x8)
    idd5b_ma=277.0,  # IDD5B
    idd3n_shared_fraction=0.0,  # assumption, see above (DRAMPower 5 bank-wise model)
    io_energy_pj_per_bit=0.0,  # VDDQ I/O + termination not counted (board-dependent)
)

#: HBM2e stack in pseudo-channel mode: 16 x 64-bit pseudo-channels at 3.2 Gb/s/pin =
#: 409.6 GB/s (the A100-80GB's ~408 GB/s per stack). Timings: DRAMsim3 HBM2 values in ns
#: (CL = tRCD = tRP 14 ns, tRAS 34, tRC 48, tFAW 30, tRRD 4/6 ns) rounded up at 0.625 ns.
HBM2E = DramConfig(
    name="HBM2e",
    channels=16,  # pseudo-channels per stack (JESD235C pseudo-channel mode)
    ranks=1,
    bank_groups=4,  # 4 BG x 4 banks per pseudo-channel (JESD235C, 8 Gb dies)
    banks_per_group=4,
    rows=65536,  # 16 GB stack (8-high, 16 Gb dies)
    columns=128,  # 1 KB page per pseudo-channel (128 x 64 bit)
    bus_width_bits=64,
    device_width_bits=64,  # one pseudo-channel is one "chip"
    burst_length=4,  # BL4 -> 32 B
    transfers_per_clock=2,
    tck_ns=0.625,  # 1.6 GHz, 3.2 Gb/s/pin
    cl_cycles=23,  # 14 ns (DRAMsim3 HBM2 14 nCK at 1 ns)
    cwl_cycles=7,  # 4 ns (DRAMsim3 HBM2 WL 4)
    trcd_cycles=23,  # 14 ns
    trp_cycles=23,  # 14 ns
    tras_cycles=55,  # 34 ns
    trc_cycles=77,  # 48 ns
    tccd_s_cycles=2,  # = burst (BL4 / 2)
    tccd_l_cycles=4,  # 2 x tCCD_S (DRAMsim3 HBM2 1/2 at half the clock)
    trrd_s_cycles=7,  # 4 ns
    trrd_l_cycles=10,  # 6 ns
    tfaw_cycles=48,  # 30 ns
    twr_cycles=26,  # 16 ns (DRAMsim3 HBM2 tWR)
    twtr_s_cycles=4,  # 2.5 ns
    twtr_l_cycles=12,  # 7.5 ns
    trtp_cycles=7,  # 4 ns
    trtrs_cycles=1,  # HBM: single rank, one-cycle turnaround (assumed)
    trfc_cycles=560,  # 350 ns (8 Gb dies)
    trefi_cycles=6240,  # 3.9 us
    # Energy: no public HBM IDD tables, so published per-bit figures. O'Connor et al.,
    # "Fine-Grained DRAM", MICRO 2017, HBM2 breakdown (as the AttAcc simulator's
    # src/config.py reproduces it): row ACT/PRE 0.11 pJ per row bit, cell read/write 0.44,
    # column path 1.01 + 1.23, TSV 0.5, interposer I/O 0.3 pJ/bit (the paper's HBM2 total is
    # ~3.9 pJ/bit). Used for HBM2e unchanged (3.2 vs 2.0 Gb/s/pin: an approximation).
    act_energy_pj=0.11 * 8192,  # 0.11 pJ/bit x 1 KB row = 901 pJ
    read_energy_pj_per_bit=0.44 + 1.01 + 1.23 + 0.5 + 0.3,  # 3.48 pJ/bit
    write_energy_pj_per_bit=0.44 + 1.01 + 1.23 + 0.5 + 0.3,  # same path as read
    io_energy_pj_per_bit=0.5 + 0.3,  # TSV + interposer: the off-die part of the above
    # [derived] a REF restores rows / 8192 = 8 rows in each of 16 banks: 128 ACT+PRE pairs
    refresh_energy_pj=128 * 0.11 * 8192,
    background_power_mw=0.0,  # no public HBM standby current: not counted
)

#: HBM3 stack, 6.4 Gb/s/pin: 16 channels x 2 pseudo-channels x 32 bit = 819.2 GB/s. Timings
#: in nCK of a 0.625 ns clock with four beats per clock, as Ramulator's HBM3 6.4 Gb/s
#: preset (notes_dimm_pim.md section 9): CL 20, tRCD 31 (read), tRP 26, tRAS 45, tRC 72,
#: tCCD 2/4, tRRD 4/5, tFAW 24.
HBM3 = DramConfig(
    name="HBM3",
    channels=32,  # 16 channels x 2 pseudo-channels (JESD238)
    ranks=1,
    bank_groups=4,  # 4 BG x 4 banks per pseudo-channel (Ramulator HBM3 org)
    banks_per_group=4,
    rows=32768,
    columns=256,  # 1 KB page per pseudo-channel (256 x 32 bit)
    bus_width_bits=32,
    device_width_bits=32,
    burst_length=8,  # BL8 -> 32 B
    transfers_per_clock=4,  # 6.4 Gb/s on a 1.6 GHz command clock
    tck_ns=0.625,
    cl_cycles=20,  # Ramulator HBM3 6.4 Gb/s
    cwl_cycles=8,  # assumed (write latency well below CL)
    trcd_cycles=31,  # read tRCD (write tRCD is 15)
    trp_cycles=26,
    tras_cycles=45,
    trc_cycles=72,
    tccd_s_cycles=2,
    tccd_l_cycles=4,
    trrd_s_cycles=4,
    trrd_l_cycles=5,
    tfaw_cycles=24,
    twr_cycles=26,  # assumed ~16 ns as HBM2e
    twtr_s_cycles=4,  # assumed
    twtr_l_cycles=12,  # assumed
    trtp_cycles=6,  # assumed ~4 ns
    trtrs_cycles=1,
    trfc_cycles=560,  # 350 ns (Ramulator HBM3 8 Gb table)
    trefi_cycles=6240,  # 3.9 us
    # Energy: no public HBM3 breakdown either; assumed equal to the HBM2 figures of
    # O'Connor et al., MICRO 2017 (see HBM2E), with the same 1 KB row.
    act_energy_pj=0.11 * 8192,  # assumed: HBM2 0.11 pJ/bit x 1 KB row
    read_energy_pj_per_bit=0.44 + 1.01 + 1.23 + 0.5 + 0.3,  # assumed: HBM2 3.48 pJ/bit
    write_energy_pj_per_bit=0.44 + 1.01 + 1.23 + 0.5 + 0.3,
    io_energy_pj_per_bit=0.5 + 0.3,  # TSV + interposer share
    # [derived] rows / 8192 = 4 rows in each of 16 banks per REF: 64 ACT+PRE pairs
    refresh_energy_pj=64 * 0.11 * 8192,
    background_power_mw=0.0,  # not counted (no public figure)
)

#: Presets by CLI name.
DRAM_PRESETS: dict[str, DramConfig] = {
    "DDR4-3200": DDR4_3200,
    "DDR5-4800": DDR5_4800,
    "HBM2e": HBM2E,
    "HBM3": HBM3,
}


def dram_preset(name: str) -> DramConfig:
    """The preset called ``name`` (case-insensitive); ConfigError names the allowed ones."""
    for key, value in DRAM_PRESETS.items():
        if key.lower() == name.lower():
            return value
    raise ConfigError(f"preset must be one of {', '.join(DRAM_PRESETS)}, got {name!r}")


def parse_mapping(mapping: str) -> list[str]:
    """Split a mapping name into fields, MSB first; ConfigError if it is not a permutation."""
    fields = _FIELD_RE.findall(mapping)
    needed = {"Ro", "Ra", "Ba", "Co", "Ch"}
    ok = "".join(fields) == mapping and len(set(fields)) == len(fields)
    ok = ok and needed <= set(fields) and set(fields) <= needed | {"Bg"}
    if not ok:
        raise ConfigError(
            f"mapping must order the fields Ro, Ra, Bg (optional), Ba, Co, Ch (e.g. "
            f"{', '.join(MAPPINGS)}), got {mapping!r}"
        )
    return fields


def decode_addresses(
    config: DramConfig, addresses: np.ndarray, mapping: str = DEFAULT_MAPPING
) -> dict[str, np.ndarray]:
    """Split byte addresses into channel, rank, bank group, bank, row and burst column.

    Parameters
    ----------
    config
        The memory system.
    addresses
        Byte addresses (int64); the burst offset bits are dropped and addresses beyond the
        capacity wrap.
    mapping
        Field order, most significant first (see the module docstring).

    Returns
    -------
    dict
        ``channel, rank, bank_group, bank, row, column`` arrays, plus ``bank_id`` (unique
        bank within a channel: ``(rank * bank_groups + bank_group) * banks_per_group + bank``).
    """
    fields = parse_mapping(mapping)
    sizes = {
        "Ch": config.channels,
        "Ra": config.ranks,
        "Bg": config.bank_groups,
        "Ba": config.banks_per_group if "Bg" in fields else config.banks,
        "Ro": config.rows,
        "Co": config.bursts_per_row,
    }
    value = (np.asarray(addresses, dtype=np.int64) // config.burst_bytes) % (
        config.capacity_bytes // config.burst_bytes
    )
    out: dict[str, np.ndarray] = {}
    for name in reversed(fields):  # least significant first
        out[name] = value % sizes[name]
        value = value // sizes[name]
    if "Bg" in fields:
        group, bank = out["Bg"], out["Ba"]
    else:
        group, bank = out["Ba"] % config.bank_groups, out["Ba"] // config.bank_groups
    result = {
        "channel": out["Ch"],
        "rank": out["Ra"],
        "bank_group": group,
        "bank": bank,
        "row": out["Ro"],
        "column": out["Co"],
    }
    result["bank_id"] = (
        result["rank"] * config.bank_groups + group
    ) * config.banks_per_group + bank
    return result
