"""Command-level DRAM reference (``cycle`` fidelity): replays a trace through a controller.

Controller
----------
One controller per channel; channels run independently (own command and data bus). Each
holds at most ``queue_depth`` requests; all trace requests arrive at cycle 0 and enter the
queue in order as slots free up (a slot frees when the request's column command issues).
The controller issues at most one command per cycle. Each step it works out, for every
queued request, its next command (``RD``/``WR`` on an open matching row, ``PRE`` on a
conflicting open row, ``ACT`` on a closed bank) and the earliest cycle that command meets
every timing constraint, then issues the earliest one (ties: column commands first under
``fr-fcfs``, then the oldest request). Between two commands nothing changes, so jumping from
command to command is the same as stepping every cycle.

* Row commands (``PRE``/``ACT``) are issued only for the oldest queued request of a bank
  (bank look-ahead: a younger request may open its bank while older ones transfer).
* ``fcfs``: only the oldest queued request may issue its column command (in-order data).
  ``fr-fcfs``: any request hitting an open row may (row hits first, then oldest first), and a
  row is not precharged while a queued request still hits it. Reads and writes share the
  queue (no write buffer with drain watermarks): the controller batches directions by
  itself, as a same-direction column command is ready before a turnaround is over.
* ``open`` page policy keeps rows open until a conflict; ``closed`` auto-precharges after a
  column command unless another queued request hits the same row.
* Refresh: every ``tREFI`` all ranks of the channel stop, precharge all banks (``PREA``, one
  per rank with an open bank) and refresh (``REF``, one per rank), one command per cycle; a
  rank's banks may be activated ``tRFC`` after its REF.

Constraints enforced: tRCD, tRAS, tRP, tRC, tRRD_S/L, tFAW, tCCD_S/L, tBL on the data bus,
rank-to-rank and read/write turnaround (tRTRS), write-to-read (tWTR_S/L), tRTP, tWR, tRFC.
The log records every command as ``(cycle, command, rank, bank_group, bank, row)`` with
``cycle`` counted per channel and ``command`` one of ``ACT PRE RD WR PREA REF``.

Latency contract: ``total_cycles`` is the cycle after the last data beat of the last request.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from .dram_config import decode_addresses
from .dram_energy import dram_energy_pj
from .dram_trace import DramFigures, DramRunner

__all__ = ["DramCycleModel", "CycleRun", "Command"]

_NEG = -(10**12)

#: One logged command: (cycle, command, rank, bank_group, bank, row).
Command = tuple[int, str, int, int, int, int]


@dataclass
class CycleRun:
    """A cycle-model run: the figures, each channel's command log and per-request data."""

    figures: DramFigures
    commands: list[list[Command]] = field(default_factory=list)
    outcome: np.ndarray | None = None  # per request: 0 hit, 1 miss, 2 conflict
    done_cycle: np.ndarray | None = None  # per request: cycle after its last data beat
    loaded_latency_ns: float = 0.0


class _Bank:
    __slots__ = ("open_row", "act_ready", "pre_ready", "col_ready")

    def __init__(self) -> None:
        self.open_row = -1
        self.act_ready = 0
        self.pre_ready = 0
        self.col_ready = 0


class DramCycleModel(DramRunner):
    """Command-level reference of a DRAM memory system.

    Parameters
    ----------
    config
        The memory system.
    mapping
        Address mapping name (see :mod:`hwsim.memory.dram_config`).
    page_policy
        ``open`` or ``closed``.
    scheduler
        ``fr-fcfs`` or ``fcfs``.
    queue_depth
        Requests a channel controller holds at once.
    refresh
        Model refresh (``PREA`` + ``REF`` every ``tREFI``).
    """

    # ------------------------------------------------------------------------------------
    def run(self, addresses: np.ndarray, is_write: np.ndarray) -> CycleRun:
        """Replay a trace (byte addresses, write flags) and return figures and command logs."""
        cfg = self.config
        addresses = np.asarray(addresses, dtype=np.int64)
        is_write = np.asarray(is_write, dtype=bool)
        fields = decode_addresses(cfg, addresses, self.mapping)
        n = len(addresses)
        outcome = np.zeros(n, dtype=np.int64)
        done = np.zeros(n, dtype=np.int64)
        first_cmd = np.zeros(n, dtype=np.int64)
        logs: list[list[Command]] = []
        refreshes = 0
        for ch in range(cfg.channels):
            idx = np.flatnonzero(fields["channel"] == ch)
            log: list[Command] = []
            if len(idx):
                refreshes += self._run_channel(idx, fields, is_write, outcome, done, first_cmd, log)
            logs.append(log)
        total_cycles = int(done.max()) if n else 0
        acts = sum(1 for log in logs for c in log if c[1] == "ACT")
        return CycleRun(
            figures=self._figures(n, is_write, outcome, total_cycles, acts, refreshes),
            commands=logs,
            outcome=outcome,
            done_cycle=done,
            loaded_latency_ns=float(done.mean() * cfg.tck_ns) if n else 0.0,
        )

    def _figures(
        self,
        n: int,
        is_write: np.ndarray,
        outcome: np.ndarray,
        total_cycles: int,
        acts: int,
        refreshes: int,
    ) -> DramFigures:
        cfg = self.config
        counts = np.bincount(outcome, minlength=3) if n else np.zeros(3, dtype=np.int64)
        tbl = cfg.burst_cycles
        lat = np.array(
            [
                cfg.cl_cycles + tbl,
                cfg.trcd_cycles + cfg.cl_cycles + tbl,
                cfg.trp_cycles + cfg.trcd_cycles + cfg.cl_cycles + tbl,
            ]
        )
        moved = n * cfg.burst_bytes
        seconds = total_cycles * cfg.tck_ns * 1e-9
        writes = int(is_write.sum())
        parts = dram_energy_pj(cfg, reads=n - writes, writes=writes, activates=acts,
                               refreshes=refreshes, busy_ns=seconds * 1e9)
        energy = parts["total_pj"] - parts["background_pj"]
        return DramFigures(
            fidelity="cycle",
            requests_count=n,
            bytes_moved_bytes=moved,
            total_cycles=float(total_cycles),
            seconds=seconds,
            bandwidth_gbps=moved / (total_cycles * cfg.tck_ns) if total_cycles else 0.0,
            peak_bandwidth_gbps=cfg.peak_bandwidth_gbps,
            latency_ns=float((counts * lat).sum() / max(n, 1) * cfg.tck_ns),
            row_hit_rate=float(counts[0] / max(n, 1)),
            row_miss_rate=float(counts[1] / max(n, 1)),
            row_conflict_rate=float(counts[2] / max(n, 1)),
            activates_count=acts,
            refreshes_count=refreshes,
            energy_pj=float(energy),
            writes_count=float(writes),
            background_energy_pj=float(parts["background_pj"]),
        )

    # ------------------------------------------------------------------------------------
    def _run_channel(
        self,
        idx: np.ndarray,
        fields: dict[str, np.ndarray],
        is_write_all: np.ndarray,
        outcome: np.ndarray,
        done: np.ndarray,
        first_cmd: np.ndarray,
        log: list[Command],
    ) -> int:
        cfg = self.config
        tbl = cfg.burst_cycles
        cl, cwl = cfg.cl_cycles, cfg.cwl_cycles
        trcd, trp, tras, trc = cfg.trcd_cycles, cfg.trp_cycles, cfg.tras_cycles, cfg.trc_cycles
        ccd_s, ccd_l = max(cfg.tccd_s_cycles, tbl), max(cfg.tccd_l_cycles, tbl)
        rrd_s, rrd_l, faw = cfg.trrd_s_cycles, cfg.trrd_l_cycles, cfg.tfaw_cycles
        twr, twtr_s, twtr_l, trtp = (
            cfg.twr_cycles,
            cfg.twtr_s_cycles,
            cfg.twtr_l_cycles,
            (cfg.trtp_cycles),
        )
        rtrs = cfg.trtrs_cycles
        ranks, groups, per_group = cfg.ranks, cfg.bank_groups, cfg.banks_per_group
        fr = self.scheduler == "fr-fcfs"
        closed = self.page_policy == "closed"

        rank_l = fields["rank"][idx].tolist()
        group_l = fields["bank_group"][idx].tolist()
        bank_l = fields["bank_id"][idx].tolist()
        row_l = fields["row"][idx].tolist()
        write_l = is_write_all[idx].tolist()
        gidx = idx.tolist()
        n = len(gidx)

        banks = [_Bank() for _ in range(ranks * groups * per_group)]
        last_rd_rank = [_NEG] * ranks
        last_wr_rank = [_NEG] * ranks
        last_rd_bg = [[_NEG] * groups for _ in range(ranks)]
        last_wr_bg = [[_NEG] * groups for _ in range(ranks)]
        last_act_rank = [_NEG] * ranks
        last_act_bg = [[_NEG] * groups for _ in range(ranks)]
        faw_window = [deque([_NEG] * 4, maxlen=4) for _ in range(ranks)]
        last_cmd = -1
        next_ref = cfg.trefi_cycles if self.refresh else None
        refreshes = 0
        started = [False] * n

        queue: list[int] = []
        nxt = 0

        def col_time(k: int) -> int:
            r, g, w = rank_l[k], group_l[k], write_l[k]
            t = banks[bank_l[k]].col_ready
            if not w:
                t = max(
                    t,
                    last_rd_bg[r][g] + ccd_l,
                    last_rd_rank[r] + ccd_s,
                    last_wr_bg[r][g] + cwl + tbl + twtr_l,
                    last_wr_rank[r] + cwl + tbl + twtr_s,
                )
                for o in range(ranks):
                    if o != r:
                        t = max(
                            t, last_rd_rank[o] + tbl + rtrs, last_wr_rank[o] + cwl + tbl + rtrs - cl
                        )
            else:
                t = max(t, last_wr_bg[r][g] + ccd_l, last_wr_rank[r] + ccd_s)
                for o in range(ranks):
                    t = max(t, last_rd_rank[o] + cl + tbl + rtrs - cwl)
                    if o != r:
                        t = max(t, last_wr_rank[o] + tbl + rtrs)
            return t

        def act_time(k: int) -> int:
            r, g = rank_l[k], group_l[k]
            return max(
                banks[bank_l[k]].act_ready,
                last_act_bg[r][g] + rrd_l,
                last_act_rank[r] + rrd_s,
                faw_window[r][0] + faw,
            )

        banks_per_rank = groups * per_group

        def do_refresh(at: int) -> int:
            # one command per cycle: each rank with an open bank gets its PREA, then every
            # rank its REF, in consecutive cycles
            nonlocal last_cmd
            # wait for every bank's tRAS / tRTP / tWR, including closed-page banks whose
            # auto-precharge is still to come (the PREA must not cut it short)
            t_pre = max([at, last_cmd + 1] + [b.pre_ready for b in banks])
            opened = [i for i, b in enumerate(banks) if b.open_row >= 0]
            open_ranks = sorted({i // banks_per_rank for i in opened})
            for slot, r in enumerate(open_ranks):
                log.append((t_pre + slot, "PREA", r, -1, -1, -1))
                for b in banks[r * banks_per_rank : (r + 1) * banks_per_rank]:
                    if b.open_row >= 0:
                        b.open_row = -1
                        b.act_ready = max(b.act_ready, t_pre + slot + trp)
            if open_ranks:
                last_cmd = t_pre + len(open_ranks) - 1
            t_ref = max([last_cmd + 1 if open_ranks else t_pre] + [b.act_ready for b in banks])
            for r in range(ranks):
                log.append((t_ref + r, "REF", r, -1, -1, -1))
                for b in banks[r * banks_per_rank : (r + 1) * banks_per_rank]:
                    b.act_ready = t_ref + r + cfg.trfc_cycles
            last_cmd = max(last_cmd, t_ref + ranks - 1)
            return ranks

        while nxt < n or queue:
            while len(queue) < self.queue_depth and nxt < n:
                queue.append(nxt)
                nxt += 1
            # oldest queued request per bank, and banks whose open row a queued request hits
            oldest: dict[int, int] = {}
            hit_banks: set[int] = set()
            for k in queue:
                b = bank_l[k]
                if b not in oldest:
                    oldest[b] = k
                if banks[b].open_row == row_l[k]:
                    hit_banks.add(b)
            best_t = None
            best_key = None
            best = None
            for pos, k in enumerate(queue):
                b = bank_l[k]
                bank = banks[b]
                if bank.open_row == row_l[k]:
                    if not fr and pos != 0:
                        continue
                    cmd, t = 0, col_time(k)
                elif oldest[b] != k:
                    continue
                elif bank.open_row >= 0:
                    if fr and b in hit_banks:
                        continue
                    cmd, t = 1, bank.pre_ready
                else:
                    cmd, t = 2, act_time(k)
                t = max(t, last_cmd + 1)
                key = (t, 0 if (fr and cmd == 0) else 1, pos)
                if best_key is None or key < best_key:
                    best_key, best_t, best = key, t, (k, cmd)
            assert best is not None and best_t is not None
            if next_ref is not None and best_t >= next_ref:
                refreshes += do_refresh(next_ref)
                next_ref += cfg.trefi_cycles
                continue
            k, cmd = best
            t = best_t
            r, g, b = rank_l[k], group_l[k], bank_l[k]
            bank = banks[b]
            bank_in_group = b % per_group
            if not started[k]:
                started[k] = True
                outcome[gidx[k]] = {0: 0, 1: 2, 2: 1}[cmd]
                first_cmd[gidx[k]] = t
            last_cmd = t
            if cmd == 2:  # ACT
                log.append((t, "ACT", r, g, bank_in_group, row_l[k]))
                bank.open_row = row_l[k]
                bank.col_ready = t + trcd
                bank.pre_ready = t + tras
                bank.act_ready = t + trc
                last_act_bg[r][g] = t
                last_act_rank[r] = t
                faw_window[r].append(t)
            elif cmd == 1:  # PRE
                log.append((t, "PRE", r, g, bank_in_group, bank.open_row))
                bank.open_row = -1
                bank.act_ready = max(bank.act_ready, t + trp)
            else:  # RD / WR
                w = write_l[k]
                log.append((t, "WR" if w else "RD", r, g, bank_in_group, row_l[k]))
                if w:
                    last_wr_bg[r][g] = t
                    last_wr_rank[r] = t
                    bank.pre_ready = max(bank.pre_ready, t + cwl + tbl + twr)
                    done[gidx[k]] = t + cwl + tbl
                else:
                    last_rd_bg[r][g] = t
                    last_rd_rank[r] = t
                    bank.pre_ready = max(bank.pre_ready, t + trtp)
                    done[gidx[k]] = t + cl + tbl
                queue.remove(k)
                if (
                    closed
                    and not any(bank_l[j] == b and row_l[j] == row_l[k] for j in queue)
                    and not (
                        nxt < n
                        and bank_l[nxt] == b
                        and row_l[nxt] == row_l[k]
                        and len(queue) < self.queue_depth
                    )
                ):
                    t_pre = bank.pre_ready
                    log.append((t_pre, "PRE", r, g, bank_in_group, bank.open_row))
                    bank.open_row = -1
                    bank.act_ready = max(bank.act_ready, t_pre + trp)
        log.sort(key=lambda c: c[0])
        return refreshes
