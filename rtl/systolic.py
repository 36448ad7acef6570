"""Amaranth generator of the systolic array: one :class:`SystolicArray` per ``SystolicConfig``
and MAC variant (``mac``: ``naive``, ``booth`` or ``opt1``; see "MAC variants" below).

Port contract
-------------
Three :mod:`amaranth.lib.stream` interfaces plus the implicit ``clk``/``rst`` of the ``sync``
domain. Every payload is ``StructLayout({"data": ArrayLayout(signed(W), N), "last": 1})``, so in
Verilog ``X__payload[e*W +: W]`` is element ``e`` and bit ``N*W`` is ``last``:

=======  ==================  ================  ==========================================
port     element width W     elements N        meaning
=======  ==================  ================  ==========================================
``i_a``  ``in_width_bits``   ``rows``          A operand (os: a column of A; ws: a row)
``i_b``  ``in_width_bits``   ``cols``          B operand (a row of B)
``o_c``  ``acc_width_bits``  ``cols``          a row of C
=======  ==================  ================  ==========================================

One tile:

* ``os`` -- ``K >= 1`` beat pairs: beat ``k`` of ``i_a`` is ``A[0..rows-1, k]``, beat ``k`` of
  ``i_b`` is ``B[k, 0..cols-1]``; ``last`` on beat ``K-1`` (the tile ends at the first pair in
  which ``i_a.last`` or ``i_b.last`` is set). The two streams are consumed pairwise: a beat is
  taken only when both are valid. Then ``rows`` beats on ``o_c``, beat ``r`` = ``C[r, :]``,
  ``last`` on beat ``rows-1``.
* ``ws`` -- ``rows`` beats on ``i_b`` preload the weights (beat ``r`` = ``B[r, :]``; the
  DUT counts them, ``i_b.last`` is expected on beat ``rows-1`` and otherwise ignored), then
  ``M >= 1`` beats on ``i_a`` (beat ``m`` = ``A[m, 0..rows-1]``, ``last`` on beat ``M-1``).
  ``M`` beats on ``o_c``, beat ``m`` = ``C[m, :]``, ``last`` on the final one. The first
  ``i_a`` beat may be accepted in the same cycle as the last weight beat (row ``r`` of the
  weights is needed only ``r`` cycles after an ``i_a`` beat enters), so a driver should
  present ``i_a`` without waiting for ``i_b`` to finish.

After a tile's last ``o_c`` beat the DUT accepts the next tile. Arithmetic is signed
two's complement; every accumulator / partial sum is ``acc_width_bits`` wide and wraps.
The DUT is correct under any valid/ready throttling on every port (standard stream rules:
a transfer happens when valid and ready are high in the same cycle).

Latency contract
----------------
Counting from the cycle the first input beat of a tile is accepted to the cycle of its last
``o_c`` beat, inclusive, with every valid and ``o_c.ready`` held high::

    latency_cycles = 2*rows + cols + T - 2       (T = K for os, M for ws)

which is :func:`hwsim.accelerators.systolic.model.cycles_per_fold` under the ``hwsim``
convention. How it is met:

* ``os``: beat ``k`` accepted in cycle ``k`` reaches PE ``(i, j)`` in cycle ``k + i + j`` (the
  edge of row 0 / column 0 is the port itself, later rows and columns go through ``i`` / ``j``
  skew registers); the far corner's last MAC is in cycle ``K + rows + cols - 3``, and the
  accumulators then drain one row per cycle from row 0 (the output payload is the row-0
  accumulator register; rows shift up on each ``o_c`` transfer and zeros enter at the
  bottom, which also clears the array for the next tile).
* ``ws``: weight beats in cycles ``0 .. rows-1``, ``i_a`` beat ``m`` in cycle ``rows-1+m``;
  partial sums flow down the columns, column ``j`` is de-skewed by ``cols-1-j`` registers,
  and the output row is registered: beat ``m`` leaves in cycle ``2*rows + cols + m - 3``.

MAC variants
------------
``SystolicArray(config, mac=...)``; the protocol above is the same for all three.

* ``naive`` (default) -- each PE's ``acc + a*b`` (os) / ``psum_in + a*w`` (ws) written with
  Amaranth ``*`` and ``+``; Yosys picks the multiplier and adder.
* ``booth`` -- the fused MAC of :mod:`hwsim.rtl.mac_pe`: the four radix-4 Booth partial
  products (:func:`~hwsim.rtl.mac_pe.add_product_rows`; os encodes the A operand, ws the
  stationary weight) and the accumulator / incoming partial sum as a fifth row go through ONE
  Dadda tree (:mod:`hwsim.rtl.compressor`) and ONE carry-propagate adder into the register.
  Same registers and timing as ``naive``, so the same contract.
* ``opt1`` -- carry-save (Wu et al., HPCA 2025, OPT1): no CPA in the PEs. ``os``: each PE
  keeps an ``(acc_sum, acc_carry)`` pair; its tree takes the four Booth rows plus the pair
  and its two output rows are the new pair. The pairs drain up the columns as pairs, and row
  0's pair passes ONE registered CPA row (a :class:`~hwsim.rtl.mac_pe.CarrySaveResolve` per
  column, shared by every row as it drains) that drives ``o_c``: a one-beat pipeline
  register, so rows leave back to back one cycle later and the next tile is accepted after
  the last beat has left. ``ws``: partial sums travel down the columns as two buses (sum,
  carry); each PE's tree takes its Booth rows plus the pair from above, and a registered CPA
  row under the last PE row resolves each column before the de-skew. Either way the fold is
  ``latency_cycles + 1`` (:func:`latency_cycles` with ``mac="opt1"``; the engine model's
  ``fold_cycles_systolic`` with ``X = 1``).

``booth`` and ``opt1`` need ``in_width_bits == 8`` (the Booth encoder takes int8) and at most
:data:`RTL_MAX_TREE_PES` PEs.

The only input-to-register paths that do not start at a flip-flop of this design are the port
operands of PE ``(0, 0)`` (``i_a`` element 0, ``i_b`` element 0) into its multiplier, and in
``ws`` the ``o_c.ready`` stall (a full-array clock enable) and the ``i_a``/``i_b`` join logic
into the ready outputs (and, in ``os`` ``opt1``, ``o_c.ready`` into the drain enable).
``o_c.payload`` and ``o_c.valid`` come straight from registers.

Only ``os`` and ``ws`` are generated; ``in_width_bits`` is limited to 2..16 and the array to
``rows * cols <= 4096`` PEs (:data:`RTL_MAX_PES`) for the RTL.
"""

from __future__ import annotations

from amaranth import Module, Mux, Signal, signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from hwsim.accelerators.systolic import SystolicConfig
from hwsim.config import ConfigError

from .compressor import BitMatrix, cpa
from .mac_pe import CarrySaveResolve, add_product_rows

__all__ = [
    "SystolicArray",
    "RTL_DATAFLOWS",
    "RTL_IN_WIDTH_BITS",
    "RTL_MAX_PES",
    "RTL_MACS",
    "RTL_MAX_TREE_PES",
    "check_rtl_config",
    "beat_layout",
    "latency_cycles",
]

#: Dataflows the generator builds.
RTL_DATAFLOWS = ("os", "ws")
#: Inclusive range of operand widths the generator builds, bits.
RTL_IN_WIDTH_BITS = (2, 16)
#: Largest array (``rows * cols`` PEs) the generator builds, for emit, synth and verify. The
#: Verilog, Amaranth's conversion time and memory, and every later tool's run time grow with
#: the PE count (16x16 WS takes ~4 s to convert, 64x64 25-30 s; 4096x4096 ran for minutes and
#: left nothing behind), so a typo such as ``--rows 4096`` fails at once instead. 64x64 = 4096
#: PEs is well beyond what the flows are used for (the benchmarks stop at 16x16).
RTL_MAX_PES = 64 * 64
#: MAC variants of the PEs (see the module docstring).
RTL_MACS = ("naive", "booth", "opt1")
#: Largest array built with ``booth`` / ``opt1`` PEs. Each of their PEs is a gate-level Dadda
#: tree (a few hundred named adder signals at acc 32), so conversion costs far more per PE
#: than the naive ``*``/``+``: 8x8 converts in ~7 s (booth) / ~20 s (opt1), 16x16 in ~2 min,
#: and 32x32 would take many minutes; 16x16 is the largest array the flows compare.
RTL_MAX_TREE_PES = 16 * 16


def check_rtl_config(config: SystolicConfig, mac: str = "naive") -> None:
    """Raise :class:`ConfigError` (one line) if the generator cannot build ``config`` with
    ``mac`` PEs."""
    if not isinstance(config, SystolicConfig):
        raise ConfigError(f"expected a SystolicConfig, got {type(config).__name__}")
    if mac not in RTL_MACS:
        raise ConfigError(
            f"mac must be one of {', '.join(RTL_MACS)} for the systolic RTL generator, "
            f"got {mac!r}"
        )
    if config.dataflow not in RTL_DATAFLOWS:
        raise ConfigError(
            f"dataflow '{config.dataflow}' is not supported by the RTL generator; "
            f"allowed: {', '.join(RTL_DATAFLOWS)}"
        )
    low, high = RTL_IN_WIDTH_BITS
    if not low <= config.in_width_bits <= high:
        raise ConfigError(
            f"in_width_bits must be an integer in [{low}, {high}] for the RTL generator, "
            f"got {config.in_width_bits}"
        )
    pes = config.rows * config.cols
    if pes > RTL_MAX_PES:
        raise ConfigError(
            f"rows*cols must be <= {RTL_MAX_PES} PEs (e.g. 64x64) for the RTL generator, "
            f"got rows={config.rows} x cols={config.cols} = {pes}"
        )
    if mac != "naive":
        if config.in_width_bits != 8:
            raise ConfigError(
                f"in_width_bits must be 8 for mac {mac} (its radix-4 Booth encoder takes int8 "
                f"operands), got {config.in_width_bits}"
            )
        if pes > RTL_MAX_TREE_PES:
            raise ConfigError(
                f"rows*cols must be <= {RTL_MAX_TREE_PES} PEs (e.g. 16x16) for mac {mac} in the "
                f"RTL generator, got rows={config.rows} x cols={config.cols} = {pes}"
            )


def beat_layout(width_bits: int, elements: int) -> data.StructLayout:
    """Payload of every stream: ``elements`` signed ``width_bits`` lanes, then ``last``."""
    return data.StructLayout({"data": data.ArrayLayout(signed(width_bits), elements), "last": 1})


def latency_cycles(config: SystolicConfig, t: int, mac: str = "naive") -> int:
    """The contract (see the module docstring): cycles of one tile with ``T = t`` beats
    (``opt1`` adds its registered CPA row, +1)."""
    return 2 * config.rows + config.cols + t - 2 + (1 if mac == "opt1" else 0)


class SystolicArray(wiring.Component):
    """A ``rows x cols`` systolic array of signed MAC PEs (``os`` or ``ws`` dataflow).

    Parameters
    ----------
    config : SystolicConfig
        Array shape, dataflow and widths (bits). SRAM and energy fields are ignored.
    mac : {"naive", "booth", "opt1"}
        The PEs' MAC datapath (see the module docstring); ``booth`` and ``opt1`` need
        ``in_width_bits == 8``.

    Ports: ``i_a``, ``i_b`` (stream sinks) and ``o_c`` (stream source); see the module
    docstring for the beat layout, tile protocol and latency contract (cycles).
    """

    def __init__(self, config: SystolicConfig, mac: str = "naive") -> None:
        try:
            check_rtl_config(config, mac)
        except ConfigError:
            self._MustUse__silence = True  # never built: no "created but never used" warning
            raise
        self.config = config
        self.mac = mac
        w, acc = config.in_width_bits, config.acc_width_bits
        super().__init__(
            {
                "i_a": In(stream.Signature(beat_layout(w, config.rows))),
                "i_b": In(stream.Signature(beat_layout(w, config.cols))),
                "o_c": Out(stream.Signature(beat_layout(acc, config.cols))),
            }
        )

    def elaborate(self, platform: object) -> Module:
        m = Module()
        if self.config.dataflow == "os":
            self._elaborate_os(m)
        else:
            self._elaborate_ws(m)
        return m

    # ---- helpers --------------------------------------------------------------------------
    @staticmethod
    def _delay(m: Module, value, cycles: int, name: str, en=None):
        """``value`` delayed by ``cycles`` registers (each enabled by ``en`` if given)."""
        for n in range(cycles):
            reg = Signal.like(value, name=f"{name}_d{n}")
            m.d.sync += reg.eq(value) if en is None else reg.eq(Mux(en, value, reg))
            value = reg
        return value

    def _product_tree(self, m: Module, encoded, other, name: str) -> BitMatrix:
        """A PE's compressor tree holding the four radix-4 Booth partial products of
        ``encoded * other`` (``encoded`` goes through the Booth encoder); the caller adds the
        accumulator / partial-sum rows and reduces it."""
        tree = BitMatrix(self.config.acc_width_bits, name=f"{name}_tree")
        add_product_rows(m, tree, encoded, other, name=f"{name}_pp")
        return tree

    # ---- output stationary ----------------------------------------------------------------
    def _elaborate_os(self, m: Module) -> None:
        cfg = self.config
        rows, cols, w, accw = cfg.rows, cfg.cols, cfg.in_width_bits, cfg.acc_width_bits
        flush_cycles = rows + cols - 2  # cycles between the last beat and the corner's last MAC

        fire = Signal()  # a pair of input beats is taken this cycle
        drain_shift = Signal()  # an o_c beat is taken this cycle: accumulator rows shift up

        # Operands enter the array registers as the port values when a pair is taken and as
        # zero otherwise, so a bubble adds 0 to every accumulator it passes. PE (0, 0) alone
        # multiplies the raw port values and gates its accumulator with `fire` instead (a
        # clock enable beside the multiplier, not a mux in front of it).
        edge_a = [Mux(fire, self.i_a.payload.data[i], 0) for i in range(rows)]
        edge_b = [Mux(fire, self.i_b.payload.data[j], 0) for j in range(cols)]
        a_in = [[None] * cols for _ in range(rows)]
        b_in = [[None] * cols for _ in range(rows)]
        for i in range(rows):
            a_in[i][0] = self._delay(m, edge_a[i], i, f"skew_a{i}")
        for j in range(cols):
            b_in[0][j] = self._delay(m, edge_b[j], j, f"skew_b{j}")
        for i in range(rows):
            for j in range(cols):
                if j + 1 < cols:
                    a_reg = Signal(signed(w), name=f"pe{i}_{j}_a")
                    m.d.sync += a_reg.eq(a_in[i][j])
                    a_in[i][j + 1] = a_reg
                if i + 1 < rows:
                    b_reg = Signal(signed(w), name=f"pe{i}_{j}_b")
                    m.d.sync += b_reg.eq(b_in[i][j])
                    b_in[i + 1][j] = b_reg
        a_in[0][0] = self.i_a.payload.data[0]
        b_in[0][0] = self.i_b.payload.data[0]

        if self.mac == "opt1":
            # Carry-save accumulators: (sum, carry) pairs, drained up the columns as pairs.
            acc_rows = [
                [[Signal(accw, name=f"pe{i}_{j}_acc_{part}") for j in range(cols)]
                 for i in range(rows)]
                for part in ("sum", "carry")
            ]
            for i in range(rows):
                for j in range(cols):
                    tree = self._product_tree(m, a_in[i][j], b_in[i][j], f"pe{i}_{j}")
                    for part in acc_rows:
                        tree.add(part[i][j])
                    new_pair = tree.reduce(m)
                    for part, new in zip(acc_rows, new_pair, strict=True):
                        below = part[i + 1][j] if i + 1 < rows else 0
                        if i == 0 and j == 0:
                            new = Mux(fire, new, part[0][0])
                        m.d.sync += part[i][j].eq(Mux(drain_shift, below, new))
            accs = None
        else:
            accs = [[Signal(signed(accw), name=f"pe{i}_{j}_acc") for j in range(cols)]
                    for i in range(rows)]
            for i in range(rows):
                for j in range(cols):
                    below = accs[i + 1][j] if i + 1 < rows else 0
                    if self.mac == "naive":
                        mac = accs[i][j] + a_in[i][j] * b_in[i][j]
                    else:  # booth: the accumulator is the fifth row of the PE's one tree
                        tree = self._product_tree(m, a_in[i][j], b_in[i][j], f"pe{i}_{j}")
                        tree.add(accs[i][j])
                        mac = cpa(m, *tree.reduce(m), width=accw, name=f"pe{i}_{j}_cpa")
                    if i == 0 and j == 0:
                        mac = Mux(fire, mac, accs[0][0])
                    m.d.sync += accs[i][j].eq(Mux(drain_shift, below, mac))

        out_row = Signal(range(max(rows, 2)))
        flush = Signal(range(max(flush_cycles, 2)))
        if accs is not None:
            m.d.comb += [self.o_c.payload.data[j].eq(accs[0][j]) for j in range(cols)]
            m.d.comb += self.o_c.payload.last.eq(out_row == rows - 1)
        else:
            # opt1: row 0's (sum, carry) pairs pass ONE registered CPA row on their way out.
            # The register is a one-beat pipeline stage: a row leaves the array when the stage
            # is empty or its beat is being taken, so rows still drain back to back.
            out_valid = Signal(name="cpa_row_valid")
            out_last = Signal(name="cpa_row_last")
            out_data = [Signal(signed(accw), name=f"cpa_row{j}") for j in range(cols)]
            for j in range(cols):
                resolve = CarrySaveResolve(accw)
                m.submodules[f"resolve{j}"] = resolve
                m.d.comb += [resolve.acc_sum.eq(acc_rows[0][0][j]),
                             resolve.acc_carry.eq(acc_rows[1][0][j])]
                with m.If(drain_shift):
                    m.d.sync += out_data[j].eq(resolve.result)
            with m.If(drain_shift):
                m.d.sync += [out_valid.eq(1), out_last.eq(out_row == rows - 1)]
            with m.Elif(self.o_c.ready):
                m.d.sync += out_valid.eq(0)
            m.d.comb += [self.o_c.payload.data[j].eq(out_data[j]) for j in range(cols)]
            m.d.comb += [self.o_c.valid.eq(out_valid), self.o_c.payload.last.eq(out_last)]
        with m.FSM(name="os_fsm"):
            with m.State("LOAD"):
                m.d.comb += [
                    self.i_a.ready.eq(self.i_b.valid),
                    self.i_b.ready.eq(self.i_a.valid),
                    fire.eq(self.i_a.valid & self.i_b.valid),
                ]
                with m.If(fire & (self.i_a.payload.last | self.i_b.payload.last)):
                    if flush_cycles == 0:
                        m.next = "DRAIN"
                    else:
                        m.d.sync += flush.eq(flush_cycles - 1)
                        m.next = "FLUSH"
            with m.State("FLUSH"):
                with m.If(flush == 0):
                    m.next = "DRAIN"
                with m.Else():
                    m.d.sync += flush.eq(flush - 1)
            with m.State("DRAIN"):
                if accs is not None:
                    m.d.comb += [
                        self.o_c.valid.eq(1),
                        drain_shift.eq(self.o_c.ready),
                    ]
                    drained = self.o_c.ready
                else:
                    m.d.comb += drain_shift.eq(~self.o_c.valid | self.o_c.ready)
                    drained = drain_shift
                with m.If(drained):
                    with m.If(out_row == rows - 1):
                        m.d.sync += out_row.eq(0)
                        m.next = "LOAD" if accs is not None else "LAST_OUT"
                    with m.Else():
                        m.d.sync += out_row.eq(out_row + 1)
            if accs is None:
                # The last row sits in the CPA row register: the next tile waits for it.
                with m.State("LAST_OUT"):
                    with m.If(self.o_c.ready):
                        m.next = "LOAD"

    # ---- weight stationary ----------------------------------------------------------------
    def _elaborate_ws(self, m: Module) -> None:
        cfg = self.config
        rows, cols, w, accw = cfg.rows, cfg.cols, cfg.in_width_bits, cfg.acc_width_bits
        # Registers from an accepted i_a beat to the o_c register (+1: opt1's CPA row).
        depth = rows + cols - 1 + (1 if self.mac == "opt1" else 0)

        advance = Signal()  # the whole pipeline moves this cycle (o_c slot free or taken)
        a_fire = Signal()
        b_fire = Signal()
        w_row = Signal(range(max(rows, 2)))  # next weight row to load
        m.d.comb += [
            advance.eq(~self.o_c.valid | self.o_c.ready),
            a_fire.eq(self.i_a.valid & self.i_a.ready),
            b_fire.eq(self.i_b.valid & self.i_b.ready),
        ]

        # Stationary weights, written one row per i_b beat (row r <- B[r, :]).
        weights = [[Signal(signed(w), name=f"pe{i}_{j}_w") for j in range(cols)]
                   for i in range(rows)]
        for i in range(rows):
            with m.If(b_fire & (w_row == i)):
                m.d.sync += [weights[i][j].eq(self.i_b.payload.data[j]) for j in range(cols)]
        w_eff = [row[:] for row in weights]
        if rows == 1:
            # Row 0 is also the last weight row: the first i_a beat may meet it in the cycle
            # it is written, so PE (0, 0) reads the port while the weight is being loaded.
            w_eff[0][0] = Mux(b_fire, self.i_b.payload.data[0], weights[0][0])

        # Streamed operand: row i skewed by i cycles, then one PE right per cycle.
        a_in = [[None] * cols for _ in range(rows)]
        for i in range(rows):
            a_in[i][0] = self._delay(m, self.i_a.payload.data[i], i, f"skew_a{i}", advance)
        for i in range(rows):
            for j in range(cols - 1):
                a_reg = Signal(signed(w), name=f"pe{i}_{j}_a")
                m.d.sync += a_reg.eq(Mux(advance, a_in[i][j], a_reg))
                a_in[i][j + 1] = a_reg

        # Partial sums flow down the columns.
        if self.mac == "opt1":
            bottom = self._ws_carry_save_columns(m, a_in, w_eff, advance)
        else:
            psums = [[Signal(signed(accw), name=f"pe{i}_{j}_psum") for j in range(cols)]
                     for i in range(rows)]
            for i in range(rows):
                for j in range(cols):
                    above = psums[i - 1][j] if i > 0 else 0
                    if self.mac == "naive":
                        total = above + a_in[i][j] * w_eff[i][j]
                    else:  # booth: the stationary weight is encoded, the psum is a fifth row
                        tree = self._product_tree(m, w_eff[i][j], a_in[i][j], f"pe{i}_{j}")
                        if i > 0:
                            tree.add(above)
                        total = cpa(m, *tree.reduce(m), width=accw, name=f"pe{i}_{j}_cpa")
                    m.d.sync += psums[i][j].eq(Mux(advance, total, psums[i][j]))
            bottom = psums[rows - 1]

        # De-skew: column j waits cols-1-j more cycles so one output row leaves at once.
        for j in range(cols):
            out = self._delay(m, bottom[j], cols - 1 - j, f"deskew{j}", advance)
            m.d.comb += self.o_c.payload.data[j].eq(out)

        # Beat tokens (valid, last) travel beside the data.
        tok_valid = [Signal(name=f"tok{n}_valid") for n in range(depth)]
        tok_last = [Signal(name=f"tok{n}_last") for n in range(depth)]
        with m.If(advance):
            m.d.sync += [tok_valid[0].eq(a_fire), tok_last[0].eq(a_fire & self.i_a.payload.last)]
            for n in range(1, depth):
                m.d.sync += [tok_valid[n].eq(tok_valid[n - 1]), tok_last[n].eq(tok_last[n - 1])]
        m.d.comb += [self.o_c.valid.eq(tok_valid[-1]), self.o_c.payload.last.eq(tok_last[-1])]

        with m.FSM(name="ws_fsm"):
            with m.State("LOAD_W"):
                m.d.comb += self.i_b.ready.eq(1)
                # The last weight row may arrive together with the first i_a beat.
                m.d.comb += self.i_a.ready.eq(
                    advance & (w_row == rows - 1) & self.i_b.valid
                )
                with m.If(b_fire):
                    with m.If(w_row == rows - 1):
                        m.d.sync += w_row.eq(0)
                        with m.If(a_fire & self.i_a.payload.last):
                            m.next = "DRAIN"
                        with m.Else():
                            m.next = "STREAM"
                    with m.Else():
                        m.d.sync += w_row.eq(w_row + 1)
            with m.State("STREAM"):
                m.d.comb += self.i_a.ready.eq(advance)
                with m.If(a_fire & self.i_a.payload.last):
                    m.next = "DRAIN"
            with m.State("DRAIN"):
                with m.If(self.o_c.valid & self.o_c.ready & self.o_c.payload.last):
                    m.next = "LOAD_W"

    def _ws_carry_save_columns(self, m: Module, a_in, w_eff, advance) -> list[Signal]:  # noqa: ANN001
        """opt1 ``ws`` columns: partial sums travel down as (sum, carry) pairs (each PE's tree
        takes its four Booth rows plus the pair from above) and one registered CPA row at the
        bottom resolves them. Returns the CPA row registers, one per column."""
        cfg = self.config
        rows, cols, accw = cfg.rows, cfg.cols, cfg.acc_width_bits
        pairs = [
            [[Signal(accw, name=f"pe{i}_{j}_psum_{part}") for j in range(cols)]
             for i in range(rows)]
            for part in ("sum", "carry")
        ]
        for i in range(rows):
            for j in range(cols):
                tree = self._product_tree(m, w_eff[i][j], a_in[i][j], f"pe{i}_{j}")
                if i > 0:
                    for part in pairs:
                        tree.add(part[i - 1][j])
                for part, new in zip(pairs, tree.reduce(m), strict=True):
                    m.d.sync += part[i][j].eq(Mux(advance, new, part[i][j]))
        cpa_row = [Signal(signed(accw), name=f"cpa_row{j}") for j in range(cols)]
        for j in range(cols):
            resolve = CarrySaveResolve(accw)
            m.submodules[f"resolve{j}"] = resolve
            m.d.comb += [resolve.acc_sum.eq(pairs[0][rows - 1][j]),
                         resolve.acc_carry.eq(pairs[1][rows - 1][j])]
            m.d.sync += cpa_row[j].eq(Mux(advance, resolve.result, cpa_row[j]))
        return cpa_row
