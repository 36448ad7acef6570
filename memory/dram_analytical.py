"""Closed-form DRAM timing (``analytical`` fidelity): bounds over numpy columns of a trace.

For each channel the requests (in arrival order) are classified with numpy, without a
per-request loop, and the channel's busy time is the largest of five bounds (cycles):

* **column bound** -- sum of the gaps between consecutive column commands in arrival order:
  ``tCCD_L`` within a bank group, ``tCCD_S`` across groups, ``tBL + tRTRS`` across ranks,
  ``CL + tBL + tRTRS - CWL`` read to write, ``CWL + tBL + tWTR_L/S`` write to read. Under
  ``fr-fcfs`` the controller overlaps the tail of one same-bank-group run with the head of
  the next: each such boundary saves ``m * (2 tCCD_L - max(tCCD_L, 2 tCCD_S))`` with
  ``m = min(queue_depth - 1, L_prev - 1, L_next - 1)`` (run lengths ``L``), but never
  below perfect reordering (``n tCCD_S`` or the busiest bank group's ``n_g tCCD_L``). For
  single-direction streams a second estimate reorders inside each block of ``queue_depth``
  requests (``max(block * tCCD_S, busiest group's count * tCCD_L)`` per block); the smaller
  of the two is used.
* **activate bound** -- per rank, ``max(ACTs * tFAW / 4, sum of tRRD_L/S gaps)`` (under
  ``fr-fcfs`` the gaps are reordered: ``max(ACTs * tRRD_S, busiest group's ACTs * tRRD_L)``).
* **bank bound** -- per bank, each row visit of ``k`` accesses holds the bank for
  ``max(tRC, tRCD + (k - 1) tCCD_L + tRTP (or CWL + tBL + tWR) + tRP)``.
* **queue bound** -- Little's law: a queue slot is held from admission to the column
  command (``tRP + tRCD`` for a conflict, ``tRCD`` for a miss, ``tCCD_S`` for a hit), and
  ``queue_depth`` slots exist.

Then the first request's latency (``tRCD + CL + tBL``) is added and refresh stretches the
result: every ``tREFI`` the rank loses ``O = tRFC + tRP + tRCD`` (precharge all, refresh,
reopen), so ``T = T0 + floor(T0 / (tREFI - O)) * O``.

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

import numpy as np

from .dram_config import DramConfig, decode_addresses
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


def _prev_in_group(keys: np.ndarray) -> np.ndarray:
    """For each position, the previous position with the same key (-1 if none)."""
    order = np.argsort(keys, kind="stable")
    prev = np.full(len(keys), -1, dtype=np.int64)
    same = keys[order[1:]] == keys[order[:-1]]
    prev[order[1:][same]] = order[:-1][same]
    return prev


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
        for ch in range(cfg.channels):
            idx = np.flatnonzero(f["channel"] == ch)
            if not len(idx):
                continue
            out, busy = self._channel(
                f["rank"][idx],
                f["bank_group"][idx],
                f["bank_id"][idx],
                f["row"][idx],
                is_write[idx],
            )
            outcome[idx] = out
            busy *= scale
            first = (
                cfg.trcd_cycles
                + cfg.burst_cycles
                + (cfg.cwl_cycles if is_write[idx[0]] else cfg.cl_cycles)
            )
            busy += first
            if self.refresh:
                overhead = cfg.trfc_cycles + cfg.trp_cycles + cfg.trcd_cycles
                n_ref = np.floor(busy / (cfg.trefi_cycles - overhead))
                busy += n_ref * overhead
                refreshes += n_ref * cfg.ranks
            worst = max(worst, busy)
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
        cfg = self.config
        q = self.queue_depth
        fr = self.scheduler == "fr-fcfs"
        tbl = cfg.burst_cycles
        ccd_s, ccd_l = max(cfg.tccd_s_cycles, tbl), max(cfg.tccd_l_cycles, tbl)
        n = len(rank)
        pos = np.arange(n)

        # ---- row outcomes: 0 hit, 1 miss, 2 conflict ---------------------------------
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

        # ---- column bound ------------------------------------------------------------
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
        gap = np.maximum(gap, 1)
        column = float(gap.sum()) + tbl
        if fr and n > 1:
            key = (rank * cfg.bank_groups + group) * 2 + write
            starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
            lengths = np.diff(np.r_[starts, n])
            if len(lengths) > 1:
                m = np.minimum(np.minimum(lengths[:-1] - 1, lengths[1:] - 1), q - 1)
                m = np.maximum(m, 0)
                pair_saving = 2 * ccd_l - max(ccd_l, 2 * ccd_s)
                column -= float(m.sum()) * pair_saving
            # reordering inside each window of queue_depth requests (chunks): a chunk takes
            # max(len * tCCD_S, busiest bank group's count * tCCD_L); keep the better estimate
            groups_total = cfg.ranks * cfg.bank_groups
            bg_key = rank * cfg.bank_groups + group
            chunk = pos // q
            per_chunk = np.bincount(
                chunk * groups_total + bg_key, minlength=(chunk[-1] + 1) * groups_total
            )
            per_chunk = per_chunk.reshape(-1, groups_total).max(axis=1)
            chunk_len = np.bincount(chunk)
            windowed = float(np.maximum(chunk_len * ccd_s, per_chunk * ccd_l).sum())
            if not write.any() or write.all():
                column = min(column, windowed)
            # never faster than perfect reordering: the data bus, or each bank group's
            # column commands back to back at tCCD_L
            per_group = np.bincount(bg_key).max()
            column = max(column, n * ccd_s, float(per_group) * ccd_l)

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

        # ---- queue (Little) bound ----------------------------------------------------
        hold = np.array([ccd_s, cfg.trcd_cycles, cfg.trp_cycles + cfg.trcd_cycles])
        queue_bound = float(hold[outcome].sum()) / q

        busy = max(column, act_bound, bank_bound, queue_bound)
        return outcome, busy

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
        energy = (
            acts * cfg.act_energy_pj
            + (n_total - writes) * cfg.burst_bytes * 8 * cfg.read_energy_pj_per_bit
            + writes * cfg.burst_bytes * 8 * cfg.write_energy_pj_per_bit
            + refreshes * cfg.refresh_energy_pj
        )
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
        )
