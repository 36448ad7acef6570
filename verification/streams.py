"""Generic cocotb driver, monitor and ready-throttler for ``amaranth.lib.stream`` ports.

Every data path of an hwsim unit is a stream interface named ``i_<what>`` / ``o_<what>``
whose payload is ``StructLayout({"data": ArrayLayout(signed(W), N), "last": 1})``. In the
Verilog that Amaranth emits this becomes three ports::

    <name>__payload   [N*W:0]   element e at bits [e*W +: W] (two's complement), last at bit N*W
    <name>__valid
    <name>__ready

so one driver and one monitor serve every unit (DESIGN.md rule 3).

Timing convention
-----------------
All three classes act right after a rising clock edge and sample in the ``ReadOnly`` phase
of the same time step, when the design has settled for the coming clock cycle. A beat
*transfers* in the cycle whose ``ReadOnly`` phase sees ``valid & ready``; that cycle's number
(the index of the rising edge that opened it, counted from time 0) is what the driver and the
monitor record. Latency ``last - first + 1`` therefore counts cycles inclusively.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import cocotb
from cocotb.triggers import Event, ReadOnly, RisingEdge
from cocotb.utils import get_sim_time

__all__ = [
    "PayloadLayout",
    "Beat",
    "StreamDriver",
    "StreamMonitor",
    "ReadyThrottler",
    "CycleClock",
]


@dataclass(frozen=True)
class PayloadLayout:
    """Bit layout of a ``{"data": ArrayLayout(signed(width_bits), count), "last": 1}`` payload.

    Parameters
    ----------
    width_bits
        Width of one signed element.
    count
        Number of elements.
    """

    width_bits: int
    count: int

    @property
    def data_bits(self) -> int:
        """Bits of the element array (``last`` sits just above them)."""
        return self.width_bits * self.count

    @property
    def total_bits(self) -> int:
        """Width of the whole payload port."""
        return self.data_bits + 1

    def pack(self, elements: Any, last: bool) -> int:
        """Pack signed ``elements`` and the ``last`` flag into the payload's integer value.

        Raises
        ------
        ValueError
            When the number of elements is wrong or an element does not fit.
        """
        values = [int(v) for v in elements]
        if len(values) != self.count:
            raise ValueError(f"payload needs {self.count} elements, got {len(values)}")
        lo, hi = -(1 << (self.width_bits - 1)), (1 << (self.width_bits - 1)) - 1
        mask = (1 << self.width_bits) - 1
        word = 0
        for e, v in enumerate(values):
            if not lo <= v <= hi:
                raise ValueError(f"element {e} = {v} outside [{lo}, {hi}]")
            word |= (v & mask) << (e * self.width_bits)
        return word | (int(bool(last)) << self.data_bits)

    def unpack(self, word: int) -> tuple[list[int], bool]:
        """Split a payload value into its signed elements and the ``last`` flag."""
        mask = (1 << self.width_bits) - 1
        half = 1 << (self.width_bits - 1)
        elements = []
        for e in range(self.count):
            raw = (word >> (e * self.width_bits)) & mask
            elements.append(raw - (1 << self.width_bits) if raw & half else raw)
        return elements, bool((word >> self.data_bits) & 1)


@dataclass
class Beat:
    """One transferred beat: its elements, ``last`` flag and transfer cycle."""

    data: list[int]
    last: bool
    cycle: int


class CycleClock:
    """Cycle numbers from simulation time for a clock of ``period_ns`` started at time 0."""

    def __init__(self, period_ns: float) -> None:
        self.period_ns = period_ns

    def now(self) -> int:
        """Index of the most recent rising edge (the current cycle)."""
        return int(get_sim_time("ns") // self.period_ns)


def _resolve(value: Any) -> int | None:
    """Integer value of a signal, or ``None`` while it holds X/Z bits."""
    try:
        return int(value)
    except ValueError:
        return None


def _bind_stream(port: Any, dut: Any, name: str, layout: PayloadLayout, clock: CycleClock) -> None:
    """Attach the ``<name>__payload/__valid/__ready`` handles and the clock to a driver/monitor."""
    port.clk = dut.clk
    port.payload = getattr(dut, f"{name}__payload")
    port.valid = getattr(dut, f"{name}__valid")
    port.ready = getattr(dut, f"{name}__ready")
    port.name = name
    port.layout = layout
    port.clock = clock


class StreamDriver:
    """Drives ``<name>__payload`` / ``__valid`` of a DUT input stream.

    Beats are queued with :meth:`send`; the driver presents them one after another. With
    ``valid_probability < 1`` it raises ``valid`` on a random subset of cycles (drawn from its
    own seeded ``rng``); once raised, ``valid`` and the payload are held until the DUT
    accepts the beat (``valid & ready``), as the stream protocol requires.

    Parameters
    ----------
    dut
        The cocotb handle of the top level.
    name
        Stream name, e.g. ``"i_a"``.
    layout
        The payload layout.
    clock
        Cycle numbering of the clock ``clk``.
    valid_probability
        Chance per idle cycle of presenting the next beat (1.0: no throttling).
    rng
        Seeded random source for the throttling.
    """

    def __init__(
        self,
        dut: Any,
        name: str,
        layout: PayloadLayout,
        clock: CycleClock,
        valid_probability: float = 1.0,
        rng: random.Random | None = None,
    ) -> None:
        _bind_stream(self, dut, name, layout, clock)
        self.valid_probability = valid_probability
        self.rng = rng or random.Random(0)
        self.queue: list[tuple[int, list[int], bool]] = []
        self.accepted: list[Beat] = []
        self.idle = Event()
        self.idle.set()
        self.valid.value = 0
        self.payload.value = 0
        self._task = cocotb.start_soon(self._run())

    def send(self, beats: list[tuple[list[int], bool]]) -> None:
        """Queue ``(elements, last)`` beats behind any still pending."""
        for elements, last in beats:
            self.queue.append((self.layout.pack(elements, last), list(elements), bool(last)))
        if self.queue:
            self.idle.clear()

    async def wait_idle(self) -> None:
        """Return once every queued beat has been accepted."""
        await self.idle.wait()

    async def _run(self) -> None:
        presenting = False
        while True:
            await RisingEdge(self.clk)
            if not presenting:
                p = self.valid_probability
                if self.queue and (p >= 1.0 or self.rng.random() < p):
                    self.payload.value = self.queue[0][0]
                    self.valid.value = 1
                    presenting = True
                else:
                    self.valid.value = 0
            await ReadOnly()
            if presenting and _resolve(self.ready.value) == 1:
                _, elements, last = self.queue.pop(0)
                self.accepted.append(Beat(elements, last, self.clock.now()))
                presenting = False
                if not self.queue:
                    self.idle.set()


class StreamMonitor:
    """Records every beat that transfers on a stream (``valid & ready`` in ``ReadOnly``).

    Works on inputs and outputs alike. ``callback(beat)`` is called for each beat, and
    :attr:`beats` keeps them all with their transfer cycle.

    Parameters
    ----------
    dut
        The cocotb handle of the top level.
    name
        Stream name, e.g. ``"o_c"``.
    layout
        The payload layout.
    clock
        Cycle numbering of the clock ``clk``.
    callback
        Optional function called with each :class:`Beat`.
    """

    def __init__(
        self,
        dut: Any,
        name: str,
        layout: PayloadLayout,
        clock: CycleClock,
        callback: Any = None,
    ) -> None:
        _bind_stream(self, dut, name, layout, clock)
        self.callback = callback
        self.beats: list[Beat] = []
        self.unknown_cycles: list[int] = []
        self._task = cocotb.start_soon(self._run())

    async def _run(self) -> None:
        while True:
            await RisingEdge(self.clk)
            await ReadOnly()
            if _resolve(self.valid.value) == 1 and _resolve(self.ready.value) == 1:
                word = _resolve(self.payload.value)
                if word is None:
                    self.unknown_cycles.append(self.clock.now())
                    word = 0
                elements, last = self.layout.unpack(word)
                beat = Beat(elements, last, self.clock.now())
                self.beats.append(beat)
                if self.callback is not None:
                    self.callback(beat)


class ReadyThrottler:
    """Drives a sink's ``<name>__ready``: high with ``probability`` each cycle (seeded).

    Parameters
    ----------
    dut
        The cocotb handle of the top level.
    name
        Stream name, e.g. ``"o_c"``.
    probability
        Chance per cycle that ``ready`` is high (1.0: always ready).
    rng
        Seeded random source.
    """

    def __init__(
        self, dut: Any, name: str, probability: float = 1.0, rng: random.Random | None = None
    ) -> None:
        self.clk = dut.clk
        self.ready = getattr(dut, f"{name}__ready")
        self.probability = probability
        self.rng = rng or random.Random(0)
        self.ready.value = 1 if probability >= 1.0 else 0
        self._task = cocotb.start_soon(self._run())

    def set_probability(self, probability: float) -> None:
        """Change the chance of ``ready`` from the next cycle on."""
        self.probability = probability

    async def _run(self) -> None:
        while True:
            await RisingEdge(self.clk)
            p = self.probability
            self.ready.value = 1 if p >= 1.0 or self.rng.random() < p else 0
