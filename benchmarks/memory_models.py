"""Speed of the memory models and GPU predictions for LLaMA-2 7B/13B shapes.

Run from the repository root: ``python benchmarks/memory_models.py``. Prints analytical DRAM
calls per second (FR-FCFS and FCFS), the FCFS in-order recurrence's time on a 2^17-request
trace, cycle-fidelity requests per second and a table of GPU predictions.
"""

from __future__ import annotations

import time

from hwsim.memory.dram_analytical import DramAnalyticalModel
from hwsim.memory.dram_config import DDR4_3200, HBM3
from hwsim.memory.dram_cycle import DramCycleModel
from hwsim.memory.dram_trace import make_trace
from hwsim.memory.gpu import GPU_PRESETS, GpuModel

MODELS = {"LLaMA-2-7B": (4096, 32, 128, 11008), "LLaMA-2-13B": (5120, 40, 128, 13824)}


def bench_dram() -> None:
    for cfg in (DDR4_3200, HBM3):
        for scheduler in ("fr-fcfs", "fcfs"):
            model = DramAnalyticalModel(cfg, scheduler=scheduler)
            calls, start = 0, time.perf_counter()
            while time.perf_counter() - start < 2.0:
                model.evaluate_pattern("random", 1 << 16, seed=calls)
                calls += 1
            rate = calls / (time.perf_counter() - start)
            print(f"analytical {cfg.name:10s} {scheduler:7s} random 64 KiB: {rate:8.1f} calls/s")
        # the FCFS in-order recurrence on a long trace (2^17 requests, reads and writes)
        addresses, is_write = make_trace(cfg, "random", (1 << 17) * cfg.burst_bytes,
                                         read_fraction=0.7, seed=1)
        start = time.perf_counter()
        DramAnalyticalModel(cfg, scheduler="fcfs").evaluate_trace(addresses, is_write)
        ms = (time.perf_counter() - start) * 1e3
        print(f"analytical {cfg.name:10s} fcfs    random 2^17 requests: {ms:8.0f} ms")
        addresses, is_write = make_trace(cfg, "random", 1 << 19, seed=1)
        start = time.perf_counter()
        DramCycleModel(cfg).run(addresses, is_write)
        rate = len(addresses) / (time.perf_counter() - start)
        print(f"cycle      {cfg.name:10s} random 512 KiB: {rate:8.0f} requests/s")


def bench_gpu() -> None:
    print()
    print(f"{'gpu':10s} {'model':12s} {'kernel':34s} {'us':>9s} {'bound':>8s} {'TFLOP/s':>8s}"
          f" {'GB/s':>7s}")
    for gpu_name, gpu in GPU_PRESETS.items():
        g = GpuModel(gpu)
        for model_name, (hidden, heads, head_dim, ffn) in MODELS.items():
            rows = []
            for tokens in (1, 64, 2048):
                rows.append((f"QKV gemm {tokens},{3 * hidden},{hidden}",
                             g.gemm(tokens, 3 * hidden, hidden)))
                rows.append((f"FFN up gemm {tokens},{ffn},{hidden}",
                             g.gemm(tokens, ffn, hidden)))
            for batch, kv_len in ((1, 4096), (32, 4096), (32, 32768)):
                rows.append((f"decode attn B{batch} H{heads} L{kv_len} D{head_dim}",
                             g.decode_attention(batch, heads, kv_len, head_dim)))
            for label, r in rows:
                print(f"{gpu_name:10s} {model_name:12s} {label:34s} {r['seconds'] * 1e6:9.1f} "
                      f"{r['bound']:>8s} {r['achieved_tflops']:8.1f} "
                      f"{r['achieved_bandwidth_gbps']:7.0f}")


if __name__ == "__main__":
    bench_dram()
    bench_gpu()
