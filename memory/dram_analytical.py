"""Closed-form DRAM timing (``analytical`` fidelity): bounds over numpy columns of a trace.

For each channel the requests (in arrival order) are classified with numpy, without a
per-request loop, and the channel's busy time is the largest of six bounds (cycles):

* **column bound** -- under ``fcfs`` the sum of the gaps between consecutive column commands
  in arrival order: ``tCCD_L`` within a bank group, ``tCCD_S`` across groups, ``tBL + tRTRS``
  across ranks, ``CL + tBL + tRTRS - CWL`` read to write, ``CWL + tBL + tWTR_L/S`` write to
  read. Under ``fr-fcfs`` the data-bus time after reordering (``_reordered_column``): mixed
  streams are put in the order of the controller's direction phases (it turns round once
  the queue holds only the other direction; when rows open slower than the bus drains
  them, after about ``turnaround / (cycles per row opening)`` requests), then the smaller of
  the in-order gaps less run overlaps (the tail of one same-bank-group run with the head of
  the next, limited by the queue room left and by ``tRCD`` of the next run's ACT) and a
  windowed estimate (each ``queue_depth`` window reordered freely, ranks served one after
  the other or interleaved at ``tBL + tRTRS``, plus every turnaround); never below perfect
  reordering (``n tCCD_S`` or the busiest bank group's ``n_g tCCD_L``).
* **activate bound** -- per rank, ``max(ACTs * tFAW / 4, sum of tRRD_L/S gaps)`` (under
  ``fr-fcfs`` the gaps are reordered: ``max(ACTs * tRRD_S, busiest group's ACTs * tRRD_L)``).
* **bank bound** -- per bank, each row visit of ``k`` accesses holds the bank for
  ``max(tRC, tRCD + (k - 1) tCCD_L + tRTP (or CWL + tBL + tWR) + tRP)``.
* **queue bound** -- Little's law: a queue slot is held from admission to the column
  command (``tRP + tRCD`` for a conflict, ``tRCD`` for a miss, ``tCCD_S`` for a hit), and
  ``queue_depth`` slots exist.
* **command bound** -- one command per cycle: every column command, ACT and (open page)
  conflict PRE takes a slot.

Then the first request's latency (``tRCD + CL + tBL``) is added. Under ``fcfs`` the result
is also held against the **in-order recurrence** (``_in_order_totals``): column commands
issue in arrival order, so a request whose bank still serves an older request to another
row waits for its PRE/ACT and holds up everything behind it (head-of-line blocking). Each
request's column time is the longest path ``C_i = max(C_(i-1) + gap, A_i + tRCD,
C_(i-Q) + 1, ...)``, ``A_i = max(its ACT slot, C_j + tRTP/tWR + tRP, A_j + tRC)`` with ``j``
the previous request to its bank and ``Q`` the queue depth; it is solved exactly by
``_longest_path``, all segments of the trace side by side (numpy steps over positions, not
over requests). Refresh stretches the result: every ``tREFI`` the rank loses
``O = tRFC + tRP + tRCD`` (precharge all, refresh, reopen), so
``T = T0 + floor(T0 / (tREFI - O)) * O``.

Row outcomes use the open-page rule in arrival order: a request is a hit when the previous
request to its bank used the same row (under ``fr-fcfs`` also when an earlier request to the
same row is within ``queue_depth - 1`` places), a miss on a bank's first access, a conflict
otherwise. Under the closed-page policy a hit needs the previous same-row request within
``queue_depth`` places, and every non-hit is a miss.

Internal bandwidth (for PIM)
----------------------------
``channel`` = channels x bus bytes x transfers per clock / tCK; ``rank`` = the same with every
rank reading its own chips in parallel; ``bank`` = every bank of every chip delivering
``device_width_bits x burst_length / 8`` bytes per ``tCCD_L`` (the CHIME/L3 count).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .dram_config import DramConfig, decode_addresses
from .dram_energy import dram_energy_pj
from .dram_trace import DramFigures, DramRunner, make_trace

__all__ = ["DramAnalyticalModel", "internal_bandwidth_gbps"]

#: Requests the pattern entry point evaluates before scaling (streams are periodic).
SAMPLE_REQUESTS = 1 << 17


def internal_bandwidth_gbps(config: DramConfig) -> dict[str, float]:
    """Peak bandwidth at channel, rank and bank level (GB/s), as PIM designs count it.

    Returns
    -------
    dict
        ``channel_gbps`` (the channel buses), ``rank_gbps`` (each rank at full bus rate
        behind its channel), ``bank_gbps`` (each bank of each chip reading one burst of the
        chip's width per ``tCCD_L``) and ``per_bank_gbps`` (one bank of one chip).
    """
    per_bank = (
        config.device_width_bits * config.burst_length / 8 / (config.tccd_l_cycles * config.tck_ns)
    )
    banks_total = config.channels * config.ranks * config.chips_per_rank * config.banks
    return {
        "channel_gbps": config.peak_bandwidth_gbps,
        "rank_gbps": config.peak_bandwidth_gbps * config.ranks,
        "bank_gbps": per_bank * banks_total,
        "per_bank_gbps": per_bank,
    }


def _prev_in_group(keys: np.ndarray, lag: int = 1) -> np.ndarray:
    """For each position, the ``lag``-th previous position with the same key (-1 if none)."""
    order = np.argsort(keys, kind="stable")
    prev = np.full(len(keys), -1, dtype=np.int64)
    if len(keys) > lag:
        same = keys[order[lag:]] == keys[order[:-lag]]
        prev[order[lag:][same]] = order[:-lag][same]
    return prev


def _last_flagged_before(keys: np.ndarray, flag: np.ndarray) -> np.ndarray:
    """For each position, the last earlier position with the same key and ``flag`` set."""
    n = len(keys)
    order = np.argsort(keys, kind="stable")
    head = np.r_[True, keys[order[1:]] != keys[order[:-1]]]
    group = np.cumsum(head) - 1
    # a running maximum that restarts with each key: lift every key above the one before
    lifted = np.where(flag[order], order, -1) + group * (n + 1)
    running = np.maximum.accumulate(lifted) - group * (n + 1)
    before = np.r_[-1, running[:-1]]
    before[head] = -1
    out = np.empty(n, dtype=np.int64)
    out[order] = before
    return out


#: Source index meaning "time zero" (the trace's start) in a :func:`_longest_path` edge.
_START = -2


@dataclass
class _Edges:
    """Edges of a longest-path problem over per-request nodes (see :func:`_longest_path`).

    Each edge is ``(target kind, source kind, source index per request, weight per request)``:
    node ``target[i] >= source[src[i]] + weight[i]``. ``src[i] == -1`` drops the edge for
    request ``i``; ``src[i] == _START`` makes it ``target[i] >= weight[i]``.
    """

    kinds: tuple[str, ...]
    items: list[tuple[str, str, np.ndarray, np.ndarray]] = field(default_factory=list)

    def add(self, target: str, source: str, src: np.ndarray, weight: np.ndarray | float) -> None:
        n = len(src)
        self.items.append(
            (target, source, np.asarray(src, dtype=np.int64), np.broadcast_to(
                np.asarray(weight, dtype=float), (n,)))
        )


def _longest_path(
    edges: _Edges,
    starts: np.ndarray,
    n: int,
    *,
    segment: int,
    guess: dict[str, np.ndarray] | None = None,
    max_passes: int = 32,
) -> dict[str, np.ndarray]:
    """Earliest times (cycles) of every node of a max-plus recurrence, without a request loop.

    Every request ``i`` has one node of each kind in ``edges.kinds``, evaluated in that order;
    a node is the largest of its incoming edges (source time + weight), and sources are
    earlier requests of the same chain (or an earlier kind of the same request), so the graph
    is a DAG in arrival order and the answer is its longest path from time zero. Requests
    ``starts[c]`` up to ``starts[c + 1]`` form chain ``c`` (a channel); chains are independent.

    Each chain is cut into segments of ``segment`` requests, and all segments of all chains
    are solved side by side: per position inside a segment, one numpy gather and maximum per
    kind. Times inside a segment are kept relative to the column time (``C``) of the
    previous segment's last request (a chain's first segment: relative to time zero), so an
    edge from that request is known exactly; other edges that cross a boundary read the
    previous pass's values, moved into the target's frame. Passes repeat until those values
    stop changing, which makes the result exact; it usually takes 2 to 5 passes, as a
    segment's shape depends only on the last few hundred cycles before it. ``guess`` (the
    times of a similar problem) seeds the first pass; ``max_passes`` caps the passes (the
    result is then approximate). The frames are added back up at the end.
    """
    kinds = edges.kinds
    items = [it for it in edges.items if (it[2] != -1).any()]
    for k in kinds:  # a kind no request uses still needs a row in the step
        if not any(it[0] == k for it in items):
            items.append((k, k, np.full(n, -1, dtype=np.int64), np.zeros(n)))
    items.sort(key=lambda it: kinds.index(it[0]))  # stable: edges grouped by target kind
    bounds = np.r_[starts, n]
    lengths = np.diff(bounds)
    seg_len = int(max(1, min(segment, lengths.max())))
    segs_per_chain = -(-lengths // seg_len)
    first_seg = np.r_[0, np.cumsum(segs_per_chain)[:-1]]
    n_seg = int(segs_per_chain.sum())
    size = n_seg * seg_len
    # request i -> padded slot: chains start on a segment boundary
    chain_of = np.repeat(np.arange(len(lengths)), lengths)
    padded = np.arange(n) - bounds[chain_of] + first_seg[chain_of] * seg_len
    seg_of = np.arange(size) // seg_len
    chain_head = np.zeros(n_seg, dtype=bool)
    chain_head[first_seg] = True
    n_kinds = len(kinds)
    kind_at = {k: t for t, k in enumerate(kinds)}
    neg_slot = n_kinds * size
    start_slot = neg_slot + 1
    ext_base = neg_slot + 2
    n_edges = len(items)
    # (position in segment, edge, segment): where each edge reads and what it adds
    index = np.full((seg_len, n_edges, n_seg), neg_slot, dtype=np.int64)
    weight = np.zeros((seg_len, n_edges, n_seg))
    crossing: list[np.ndarray] = []
    sources: list[np.ndarray] = []
    ext_at: list[int] = []  # where each edge's crossing values start in the buffer
    ext_size = 0
    for e, (_, kind, src_n, w_n) in enumerate(items):
        src = np.full(size, -1, dtype=np.int64)
        src[padded] = np.where(src_n >= 0, padded[np.maximum(src_n, 0)], src_n)
        w = np.zeros(size)
        w[padded] = w_n
        at_start = src == _START
        if (at_start & ~chain_head[seg_of]).any():
            raise ValueError("a start edge must lie in its chain's first segment")
        valid = src >= 0
        same = valid & (src // seg_len == seg_of)
        cross = np.flatnonzero(valid & ~same)
        slot = np.full(size, neg_slot, dtype=np.int64)
        slot[same] = kind_at[kind] * size + src[same]
        slot[cross] = ext_base + ext_size + np.arange(len(cross))
        ext_at.append(ext_base + ext_size)
        ext_size += len(cross)
        slot[at_start] = start_slot
        index[:, e, :] = slot.reshape(n_seg, seg_len).T
        weight[:, e, :] = np.where(valid | at_start, w, 0.0).reshape(n_seg, seg_len).T
        crossing.append(cross)
        sources.append(src)
    # per kind: (position in segment, its edges, segment) gathers and the slots it fills
    bounds_by_kind = np.searchsorted([kind_at[it[0]] for it in items], np.arange(n_kinds + 1))
    steps = [
        (index[:, lo:hi].copy(), weight[:, lo:hi].copy(), t * size + np.arange(n_seg) * seg_len)
        for t, (lo, hi) in enumerate(zip(bounds_by_kind[:-1], bounds_by_kind[1:], strict=True))
    ]
    c_at = kind_at["C"]

    def origins(local: np.ndarray) -> np.ndarray:
        last_c = np.where(chain_head, 0.0, np.r_[0.0, local[c_at, seg_len - 1::seg_len][:-1]])
        total = np.cumsum(last_c)
        return total - np.maximum.accumulate(np.where(chain_head, total, -np.inf))

    buf = np.full(ext_base + ext_size, -np.inf)
    local: np.ndarray | None = None
    if guess is not None:
        glob_guess = np.full((n_kinds, size), -np.inf)
        for k in kinds:
            glob_guess[kind_at[k], padded] = guess[k]
        last_c = glob_guess[c_at, seg_len - 1 :: seg_len]
        origin = np.where(chain_head, 0.0, np.r_[0.0, last_c[:-1]])
        local = glob_guess - origin[seg_of]
    previous: list[np.ndarray] | None = None
    for _ in range(max_passes):
        if local is None:
            # first pass: only edges from the previous segment's last column are known (0)
            values = [
                np.where(
                    (sources[e][crossing[e]] == crossing[e] - 1) & (items[e][1] == "C"),
                    0.0, -np.inf)
                for e in range(n_edges)
            ]
        else:
            origin = origins(local)
            glob = local + origin[seg_of]
            values = [
                glob[kind_at[items[e][1]], sources[e][crossing[e]]] - origin[seg_of[crossing[e]]]
                for e in range(n_edges)
            ]
        if previous is not None and all(
            np.allclose(a, b, rtol=0.0, atol=1e-6) for a, b in zip(values, previous, strict=True)
        ):
            break
        for e in range(n_edges):
            buf[ext_at[e] : ext_at[e] + len(crossing[e])] = values[e]
        buf[: neg_slot + 1] = -np.inf
        buf[start_slot] = 0.0
        for pos in range(seg_len):
            for step_index, step_weight, slots in steps:  # kinds in order
                buf[slots + pos] = (buf[step_index[pos]] + step_weight[pos]).max(axis=0)
        local = buf[:neg_slot].reshape(n_kinds, size).copy()
        previous = values
    assert local is not None
    glob = local + origins(local)[seg_of]
    return {k: glob[kind_at[k], padded] for k in kinds}


class DramAnalyticalModel(DramRunner):
    """Closed-form DRAM timing; same options and figures as :class:`DramCycleModel`.

    Parameters
    ----------
    config
        The memory system.
    mapping, page_policy, scheduler, queue_depth, refresh
        As for the cycle model.
    """

    # ------------------------------------------------------------------------------------
    def evaluate_pattern(
        self,
        pattern: str,
        n_bytes: int,
        *,
        stride_bytes: int | None = None,
        read_fraction: float = 1.0,
        seed: int = 0,
        footprint_bytes: int | None = None,
    ) -> DramFigures:
        """Figures for moving ``n_bytes`` in a pattern (see :func:`make_trace`).

        Long streams are evaluated on their first ``SAMPLE_REQUESTS`` requests and the busy
        time is scaled to the full length.
        """
        burst = self.config.burst_bytes
        n_total = -(-int(n_bytes) // burst)
        n_sample = min(n_total, SAMPLE_REQUESTS)
        addresses, is_write = make_trace(
            self.config,
            pattern,
            n_sample * burst,
            stride_bytes=stride_bytes,
            read_fraction=read_fraction,
            seed=seed,
            footprint_bytes=footprint_bytes,
        )
        return self.evaluate_trace(addresses, is_write, scale=n_total / n_sample)

    def evaluate_trace(
        self, addresses: np.ndarray, is_write: np.ndarray, *, scale: float = 1.0
    ) -> DramFigures:
        """Figures for a trace (byte addresses, write flags, in arrival order).

        ``scale`` stretches counts and busy time to a longer stream of the same shape.
        """
        cfg = self.config
        addresses = np.asarray(addresses, dtype=np.int64)
        is_write = np.asarray(is_write, dtype=bool)
        f = decode_addresses(cfg, addresses, self.mapping)
        n = len(addresses)
        outcome = np.zeros(n, dtype=np.int64)
        worst = 0.0
        refreshes = 0.0
        if not n:
            return self._figures(n, is_write, outcome, worst, refreshes, scale)
        order = np.argsort(f["channel"], kind="stable")  # channel by channel, arrival order
        channel = f["channel"][order]
        starts = np.flatnonzero(np.r_[True, channel[1:] != channel[:-1]])
        ends = np.r_[starts[1:], n]
        rank, group = f["rank"][order], f["bank_group"][order]
        bank, row, write = f["bank_id"][order], f["row"][order], is_write[order]
        out = np.zeros(n, dtype=np.int64)
        busy = np.zeros(len(starts))
        for c, (lo, hi) in enumerate(zip(starts, ends, strict=True)):
            out[lo:hi], busy[c] = self._channel(
                rank[lo:hi], group[lo:hi], bank[lo:hi], row[lo:hi], write[lo:hi])
        outcome[order] = out
        first = cfg.trcd_cycles + cfg.burst_cycles + np.where(
            write[starts], cfg.cwl_cycles, cfg.cl_cycles)
        total = busy * scale + first
        if self.scheduler == "fcfs":
            in_order = self._in_order_totals(rank, group, bank, write, out, starts)
            total = np.maximum(total, in_order * scale)
        if self.refresh:
            overhead = cfg.trfc_cycles + cfg.trp_cycles + cfg.trcd_cycles
            n_ref = np.floor(total / (cfg.trefi_cycles - overhead))
            total = total + n_ref * overhead
            refreshes = float(n_ref.sum()) * cfg.ranks
        worst = float(total.max())
        return self._figures(n, is_write, outcome, worst, refreshes, scale)

    # ------------------------------------------------------------------------------------
    def _channel(
        self,
        rank: np.ndarray,
        group: np.ndarray,
        bank: np.ndarray,
        row: np.ndarray,
        write: np.ndarray,
    ) -> tuple[np.ndarray, float]:
        """Row outcomes (0 hit, 1 miss, 2 conflict) and the largest bound (cycles)."""
        cfg = self.config
        q = self.queue_depth
        fr = self.scheduler == "fr-fcfs"
        tbl = cfg.burst_cycles
        ccd_s, ccd_l = max(cfg.tccd_s_cycles, tbl), max(cfg.tccd_l_cycles, tbl)
        n = len(rank)
        pos = np.arange(n)

        # ---- row outcomes: 0 hit, 1 miss, 2 conflict ---------------------------------
        closed = self.page_policy == "closed"
        prev_bank = _prev_in_group(bank)
        has_prev = prev_bank >= 0
        same_row = has_prev & (row[np.maximum(prev_bank, 0)] == row)
        prev_rowkey = _prev_in_group(bank * cfg.rows + row)
        near_same = (prev_rowkey >= 0) & (pos - prev_rowkey < q)
        if self.page_policy == "open":
            hit = same_row | (near_same if fr else False)
            outcome = np.where(hit, 0, np.where(has_prev, 2, 1))
        else:
            hit = same_row & (pos - prev_bank <= q)
            outcome = np.where(hit, 0, 1)

        # ---- activate bound ----------------------------------------------------------
        acts = outcome != 0
        act_bound = 0.0
        for r in np.unique(rank[acts]):
            sel = acts & (rank == r)
            g = group[sel]
            if fr:  # ACTs may be reordered too: only the busiest group pays tRRD_L
                rrd = max(len(g) * cfg.trrd_s_cycles, np.bincount(g).max() * cfg.trrd_l_cycles)
            else:
                rrd = np.where(g[1:] == g[:-1], cfg.trrd_l_cycles, cfg.trrd_s_cycles).sum()
            act_bound = max(act_bound, sel.sum() * cfg.tfaw_cycles / 4, float(rrd))

        # ---- bank bound --------------------------------------------------------------
        order = np.argsort(bank, kind="stable")
        b_sorted = bank[order]
        start = acts[order]
        visit = np.cumsum(start) - 1
        visit = np.maximum(visit, 0)
        k = np.bincount(visit)
        last_of_visit = np.r_[visit[1:] != visit[:-1], True]
        end_cost = np.where(
            write[order][last_of_visit],
            cfg.cwl_cycles + tbl + cfg.twr_cycles,
            cfg.trtp_cycles,
        )
        visit_bank = b_sorted[last_of_visit]
        k = k[: len(visit_bank)]
        cost = np.maximum(
            cfg.trc_cycles,
            cfg.trcd_cycles + (k - 1) * ccd_l + end_cost + cfg.trp_cycles,
        )
        bank_bound = float(np.bincount(visit_bank, weights=cost).max()) if len(cost) else 0.0

        # ---- column bound ------------------------------------------------------------
        if fr and n > 1:
            window = self._turn_window(outcome, act_bound, bank_bound)
            column = self._reordered_column(rank, group, write, outcome, window)
        else:
            column = float(self._arrival_gaps(rank, group, write).sum()) + tbl

        # ---- queue (Little) bound ----------------------------------------------------
        hold = np.array([ccd_s, cfg.trcd_cycles, cfg.trp_cycles + cfg.trcd_cycles])
        queue_bound = float(hold[outcome].sum()) / q

        # ---- command bus: one command per cycle (column, ACT, PRE of a conflict) --------
        command_bound = float(n + acts.sum() + (0 if closed else (outcome == 2).sum()))

        busy = max(column, act_bound, bank_bound, queue_bound, command_bound)
        return outcome, busy

    def _reordered_column(
        self,
        rank: np.ndarray,
        group: np.ndarray,
        write: np.ndarray,
        outcome: np.ndarray,
        window: float,
    ) -> float:
        """FR-FCFS column bound (cycles): the data-bus time after the controller reorders.

        **Direction phases.** A read waits ``CL + tBL + tRTRS - CWL`` behind a write's slot
        and a write ``CWL + tBL + tWTR`` behind a read's, so the controller keeps issuing
        the direction it is in while the queue holds such requests; it turns round when the
        queue holds only the other direction, i.e. once ``queue_depth`` of them have arrived
        since it last turned. The requests are put in that service order (each in the first
        phase of its direction that ends after its arrival).

        **Two estimates on the service order**, the smaller is kept: (1) the gaps between
        consecutive column commands, less what overlapping the tail of one same-bank-group
        run with the head of the next saves (``m (2 tCCD_L - max(tCCD_L, 2 g))`` with
        ``g = tCCD_S``, or ``tBL + tRTRS`` when the runs are in different ranks); (2) each
        direction run cut into windows of ``queue_depth`` requests, reordered freely inside:
        a window takes, per rank, ``B_r = max(n_r tCCD_S, busiest group's n tCCD_L)``, and
        over the ranks the better of serving them one after the other
        (``sum B_r + tRTRS`` per rank change) or interleaved
        (``max(max B_r, n (tBL + tRTRS))``); plus the turnaround at each direction change.
        Never below perfect reordering (``n tCCD_S``, or each bank group at ``tCCD_L``).
        """
        cfg = self.config
        q = self.queue_depth
        n = len(rank)
        tbl = cfg.burst_cycles
        ccd_s, ccd_l = max(cfg.tccd_s_cycles, tbl), max(cfg.tccd_l_cycles, tbl)
        rank_switch = tbl + cfg.trtrs_cycles
        bg_key = rank * cfg.bank_groups + group
        room = np.full(n, q)
        if write.any() and not write.all():
            order, room = self._service_order(write, window)
            rank, group, write, bg_key = rank[order], group[order], write[order], bg_key[order]
            outcome = outcome[order]
        gap = self._arrival_gaps(rank, group, write)
        in_order = float(gap.sum()) + tbl
        key = bg_key * 2 + write
        run_start = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        lengths = np.diff(np.r_[run_start, n])
        if len(lengths) > 1:
            head, tail = run_start[1:], run_start[:-1]
            # the next run's first request enters the queue when `room - 1` of this run are
            # left; if it opens a row, those go alone for tRCD (+ tRP) first
            opening = np.where(outcome[head] == 2, cfg.trp_cycles, 0) + cfg.trcd_cycles
            alone = np.where(outcome[head] != 0, -(-opening // ccd_l), 0)
            # a run can lend its head to the run before and its tail to the run after: at
            # most half of it each way
            m = np.minimum(np.minimum(lengths[:-1] // 2, lengths[1:] // 2), room[head] - 1 - alone)
            m = np.maximum(m, 0)
            other_rank = rank[head] != rank[tail]
            step = np.where(other_rank, rank_switch, ccd_s)
            saving = np.maximum(2 * ccd_l - np.maximum(ccd_l, 2 * step), 0)
            saving = np.where(write[head] == write[tail], saving, 0)  # a turn is not a run
            in_order -= float((m * saving).sum())
        # windows: direction runs cut into chunks of queue_depth
        turn = np.r_[False, write[1:] != write[:-1]]
        dir_run = np.cumsum(turn)
        run_first = np.flatnonzero(np.r_[True, turn[1:]]) if n > 1 else np.zeros(1, dtype=int)
        offset = np.arange(n) - run_first[dir_run]
        chunk_break = np.r_[True, (offset[1:] % q == 0) | turn[1:]]
        chunk = np.cumsum(chunk_break) - 1
        n_chunks = int(chunk[-1]) + 1
        groups_total = cfg.ranks * cfg.bank_groups
        per_group = np.bincount(
            chunk * groups_total + bg_key, minlength=n_chunks * groups_total
        ).reshape(n_chunks, cfg.ranks, cfg.bank_groups)
        per_rank = per_group.sum(axis=2)
        rank_time = np.maximum(per_rank * ccd_s, per_group.max(axis=2) * ccd_l)
        present = (per_rank > 0).sum(axis=1)
        one_by_one = rank_time.sum(axis=1) + (present - 1) * (rank_switch - ccd_s)
        interleaved = np.maximum(rank_time.max(axis=1), per_rank.sum(axis=1) * rank_switch)
        windowed = float(np.minimum(one_by_one, interleaved).sum())
        rd_wr = cfg.cl_cycles + tbl + cfg.trtrs_cycles - cfg.cwl_cycles
        wr_rd = cfg.cwl_cycles + tbl + cfg.twtr_s_cycles
        turns = np.flatnonzero(turn)
        windowed += float(np.where(write[turns], rd_wr, wr_rd).sum()) - len(turns) * ccd_s
        column = min(in_order, windowed)
        busiest_group = np.bincount(bg_key).max()
        return max(column, n * ccd_s, float(busiest_group) * ccd_l)

    def _turn_window(self, outcome: np.ndarray, act_bound: float, bank_bound: float) -> float:
        """Requests of the other direction that queue up before FR-FCFS turns round.

        Row hits wait in the queue ready to go, so the controller turns only when the queue
        holds nothing else (``queue_depth``). When rows open slower than the bus moves data
        (ACT or bank bound, ``tau`` cycles per request), few requests are ready at a time
        and the controller turns as soon as the other direction's request could go before
        the next one of its own becomes ready: after about ``T / tau`` of them, with ``T``
        the mean of the two turnarounds. Hits and row openings are weighted by their share.
        """
        cfg = self.config
        q = self.queue_depth
        n = len(outcome)
        tbl = cfg.burst_cycles
        tau = max(act_bound, bank_bound) / max(n, 1)
        if tau < max(cfg.tccd_s_cycles, tbl):
            return float(q)
        rd_wr = cfg.cl_cycles + tbl + cfg.trtrs_cycles - cfg.cwl_cycles
        wr_rd = cfg.cwl_cycles + tbl + cfg.twtr_s_cycles
        paced = min(max((rd_wr + wr_rd) / 2 / tau, 1.0), q)
        hits = float((outcome == 0).mean())
        return hits * q + (1 - hits) * paced

    def _service_order(self, write: np.ndarray, window: float) -> tuple[np.ndarray, np.ndarray]:
        """FR-FCFS on a mixed stream: request order by direction phases (see above).

        A phase ends once ``window`` requests of the other direction have arrived. Returns
        the order and, per request in that order, the queue slots its direction has when it
        is served (``queue_depth`` less the other direction's requests waiting).
        """
        q = max(1, int(round(window)))
        n = len(write)
        count = {True: np.cumsum(write), False: np.cumsum(~write)}
        # state 2a + d: a phase of direction d (1 = writes) starts at arrival a; it ends just
        # after the q-th arrival of the other direction, where the other phase starts
        succ = np.empty(2 * n + 2, dtype=np.int64)
        for d in (0, 1):
            opposite = count[not d]
            before = np.r_[0, opposite[:-1]]
            end = np.minimum(np.searchsorted(opposite, before + q) + 1, n)
            succ[d : 2 * n : 2] = 2 * end + (1 - d)
        succ[2 * n :] = [2 * n, 2 * n + 1]  # past the last arrival: stay
        # the phases are the orbit of the first state; pointer doubling collects it in
        # log2(n) vectorised steps (after k steps: the first 2^k phases)
        orbit = np.array([int(write[0])])
        step = succ
        while True:
            grown = np.union1d(orbit, step[orbit])
            if len(grown) == len(orbit):
                break
            orbit, step = grown, step[step]
        orbit = orbit[orbit < 2 * n]
        bounds_arr = orbit // 2
        phase_dir = orbit % 2 == 1
        phase_of = np.searchsorted(bounds_arr, np.arange(n), side="right") - 1
        # served in its own phase if the directions match, else in the next one
        served = phase_of + (phase_dir[phase_of] != write)
        order = np.lexsort((np.arange(n), served))
        # the other direction's arrivals since the serving phase began wait in the queue
        arrived_before = np.r_[0, count[True][:-1]], np.r_[0, count[False][:-1]]
        opp_now = np.where(write, arrived_before[1], arrived_before[0])
        phase_start = bounds_arr[np.minimum(served, len(bounds_arr) - 1)]
        opp_at_start = np.where(
            write, arrived_before[1][phase_start], arrived_before[0][phase_start])
        waiting = np.where(served == phase_of, opp_now - opp_at_start, 0)
        room = np.clip(self.queue_depth - waiting, 1, self.queue_depth)
        return order, room[order]

    def _arrival_gaps(self, rank: np.ndarray, group: np.ndarray, write: np.ndarray) -> np.ndarray:
        """Cycles between consecutive column commands in arrival order (length ``n - 1``)."""
        cfg = self.config
        tbl = cfg.burst_cycles
        ccd_s, ccd_l = max(cfg.tccd_s_cycles, tbl), max(cfg.tccd_l_cycles, tbl)
        pr, pg, pw = rank[:-1], group[:-1], write[:-1]
        cr, cg, cw = rank[1:], group[1:], write[1:]
        same_rank = pr == cr
        same_bg = same_rank & (pg == cg)
        rd_wr = cfg.cl_cycles + tbl + cfg.trtrs_cycles - cfg.cwl_cycles
        wr_rd_same = cfg.cwl_cycles + tbl + np.where(same_bg, cfg.twtr_l_cycles, cfg.twtr_s_cycles)
        wr_rd_other = cfg.cwl_cycles + tbl + cfg.trtrs_cycles - cfg.cl_cycles
        same_dir_gap = np.where(same_bg, ccd_l, np.where(same_rank, ccd_s, tbl + cfg.trtrs_cycles))
        gap = np.where(
            pw == cw,
            same_dir_gap,
            np.where(~pw & cw, rd_wr, np.where(same_rank, wr_rd_same, wr_rd_other)),
        )
        return np.maximum(gap, 1)

    # ------------------------------------------------------------------------------------
    def _in_order_totals(
        self,
        rank: np.ndarray,
        group: np.ndarray,
        bank: np.ndarray,
        write: np.ndarray,
        outcome: np.ndarray,
        starts: np.ndarray,
    ) -> np.ndarray:
        """FCFS: per channel, cycles from the start to the last data beat (in-order recurrence).

        Requests are channel by channel (``starts``: each channel's first request), each in
        arrival order. Three nodes per request ``i``: ``R`` its slot in the rank's ACT stream,
        ``A`` its ACT (a row hit keeps the ACT that opened its row), ``C`` its column
        command. With ``j`` the previous request to the bank and ``e = i - queue_depth`` the
        request whose column command frees the queue slot ``i`` enters:

        * ``C_i >= C_(i-1) + gap`` (column commands in order), ``A_i + tRCD``, ``C_e + 1``,
          and the bank group's / rank's earlier column commands plus ``tCCD_L`` or the
          write-to-read and read-to-write turnarounds;
        * ``A_i >= R_i`` and, when ``i`` opens a row in a bank ``j`` used,
          ``C_j + tRTP`` (``CWL + tBL + tWR`` after a write) ``+ tRP`` and ``A_j + tRC``;
        * ``R_i >= C_e + 1`` (``+ tRP`` for a conflict) and the rank's earlier ACT slots:
          previous ``+ tRRD_S``, previous in the group ``+ tRRD_L``, 4th previous ``+ tFAW``.

        The ACT stream runs in arrival order, but a request held up by its own bank does not
        hold the stream up (the controller gives the free ACT slots to younger requests); it
        then waits for the next free slot: on average the mean residual of the slot pattern
        (``tRRD_S`` three times, then the rest of ``tFAW``) times the share of slots in use,
        which a first solve without that wait gives.
        """
        cfg = self.config
        q = self.queue_depth
        n = len(rank)
        tbl = cfg.burst_cycles
        ccd_l = max(cfg.tccd_l_cycles, tbl)
        cl, cwl = cfg.cl_cycles, cfg.cwl_cycles
        rd_wr = cl + tbl + cfg.trtrs_cycles - cwl
        lengths = np.diff(np.r_[starts, n])
        chain = np.repeat(np.arange(len(starts)), lengths)
        pos = np.arange(n)
        local = pos - starts[chain]  # position inside the channel
        act = outcome != 0
        rank_key = chain * cfg.ranks + rank
        group_key = rank_key * cfg.bank_groups + group
        prev = _prev_in_group(chain * cfg.ranks * cfg.banks + bank)
        reopen = act & (prev >= 0)  # opens a row in a bank an earlier request used
        j = np.maximum(prev, 0)
        conflict = reopen if self.page_policy == "open" else np.zeros(n, dtype=bool)
        entry = np.where(local >= q, pos - q, _START)
        entry_w = np.where(local >= q, 1.0, 0.0)  # the command slot after that column
        row_end = np.where(write[j], cwl + tbl + cfg.twr_cycles, cfg.trtp_cycles)
        acting = np.flatnonzero(act)
        slot_prev = []
        for keys, lag in ((rank_key, 1), (group_key, 1), (rank_key, 4)):
            p = _prev_in_group(keys[acting], lag)
            full = np.full(n, -1, dtype=np.int64)
            full[acting] = np.where(p >= 0, acting[np.maximum(p, 0)], -1)
            slot_prev.append(full)
        prev_bg = _prev_in_group(group_key)
        bg_w = write[np.maximum(prev_bg, 0)]
        bg_gap = np.where(
            bg_w == write, ccd_l, np.where(bg_w, cwl + tbl + cfg.twtr_l_cycles, rd_wr))
        last_write_rank = _last_flagged_before(rank_key, write)
        last_read = _last_flagged_before(chain, ~write)
        chain_gap = np.r_[0.0, self._arrival_gaps(rank, group, write)]
        chain_prev = np.where(local > 0, pos - 1, -1)
        rrd, faw = cfg.trrd_s_cycles, cfg.tfaw_cycles
        slot_gaps = np.array([rrd, rrd, rrd, max(faw - 3 * rrd, rrd)], dtype=float)
        mean_residual = float((slot_gaps**2).sum() / (2 * slot_gaps.sum()))
        slot_time = float(slot_gaps.sum()) / 4
        lat = np.where(write, cwl, cl) + tbl
        segment = max(q, 64, int(np.sqrt(4 * lengths.max())))

        def solve(
            wait: np.ndarray, guess: dict[str, np.ndarray] | None = None, max_passes: int = 32
        ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
            e = _Edges(("R", "A", "C"))
            precharge_first = np.where(conflict, cfg.trp_cycles, 0)
            e.add("R", "C", np.where(act, entry, -1), entry_w + precharge_first)
            e.add("R", "R", slot_prev[0], cfg.trrd_s_cycles)
            e.add("R", "R", slot_prev[1], cfg.trrd_l_cycles)
            e.add("R", "R", slot_prev[2], cfg.tfaw_cycles)
            e.add("A", "R", np.where(act, pos, -1), 0.0)
            e.add("A", "A", np.where(act, -1, prev), 0.0)
            e.add("A", "C", np.where(reopen, prev, -1), row_end + cfg.trp_cycles + wait)
            e.add("A", "A", np.where(reopen, prev, -1),
                  max(cfg.trc_cycles, cfg.tras_cycles + cfg.trp_cycles) + wait)
            e.add("C", "A", pos, cfg.trcd_cycles)
            e.add("C", "C", chain_prev, chain_gap)
            e.add("C", "C", entry, entry_w)
            e.add("C", "C", prev_bg, bg_gap)
            e.add("C", "C", np.where(write, -1, last_write_rank), cwl + tbl + cfg.twtr_s_cycles)
            e.add("C", "C", np.where(write, last_read, -1), rd_wr)
            times = _longest_path(
                e, starts, n, segment=segment, guess=guess, max_passes=max_passes)
            return np.maximum.reduceat(times["C"] + lat, starts), times

        # the first solve only has to tell how busy the ACT stream is: two passes will do
        total, times = solve(np.zeros(n), max_passes=2)
        acts_per_rank = np.bincount(rank_key[act], minlength=len(starts) * cfg.ranks)
        busiest = acts_per_rank.reshape(len(starts), cfg.ranks).max(axis=1)
        wait = np.minimum(1.0, busiest * slot_time / np.maximum(total, 1.0)) * mean_residual
        wait = np.round(wait * 2) / 2  # halves stay exact in the sums of the passes
        return solve(wait[chain], times)[0]

    def _figures(
        self,
        n: int,
        is_write: np.ndarray,
        outcome: np.ndarray,
        total_cycles: float,
        refreshes: float,
        scale: float,
    ) -> DramFigures:
        cfg = self.config
        counts = np.bincount(outcome, minlength=3).astype(float) if n else np.zeros(3)
        tbl = cfg.burst_cycles
        lat = np.array(
            [
                cfg.cl_cycles + tbl,
                cfg.trcd_cycles + cfg.cl_cycles + tbl,
                cfg.trp_cycles + cfg.trcd_cycles + cfg.cl_cycles + tbl,
            ]
        )
        n_total = int(round(n * scale))
        moved = n_total * cfg.burst_bytes
        writes = float(is_write.sum()) * scale
        acts = float(counts[1] + counts[2]) * scale
        parts = dram_energy_pj(cfg, reads=n_total - writes, writes=writes, activates=acts,
                               refreshes=refreshes, busy_ns=total_cycles * cfg.tck_ns)
        energy = parts["total_pj"] - parts["background_pj"]
        frac = counts / max(n, 1)
        return DramFigures(
            fidelity="analytical",
            requests_count=n_total,
            bytes_moved_bytes=moved,
            total_cycles=float(total_cycles),
            seconds=total_cycles * cfg.tck_ns * 1e-9,
            bandwidth_gbps=moved / (total_cycles * cfg.tck_ns) if total_cycles else 0.0,
            peak_bandwidth_gbps=cfg.peak_bandwidth_gbps,
            latency_ns=float((frac * lat).sum() * cfg.tck_ns),
            row_hit_rate=float(frac[0]),
            row_miss_rate=float(frac[1]),
            row_conflict_rate=float(frac[2]),
            activates_count=int(round(acts)),
            refreshes_count=int(refreshes),
            energy_pj=float(energy),
            writes_count=float(writes),
            background_energy_pj=float(parts["background_pj"]),
        )
