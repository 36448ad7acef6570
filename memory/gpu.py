"""GPU roofline with per-kernel overhead and size-dependent efficiency.

Model
-----
A kernel moving ``bytes`` and doing ``flops`` takes::

    seconds = overhead + max(flops / (peak * max_compute_eff * shape_eff),
                             bytes / (bandwidth * max_memory_eff))

never less than the roofline bound ``max(flops / peak, bytes / bandwidth)``. ``shape_eff``
is the GEMM's tile and wave quantisation: the output is cut into ``tile_m x tile_n`` tiles
(``tile_n`` = 128, ``tile_m`` = the power of two >= M, between 16 and 128, as GEMV-like
kernels use thin tiles), tiles run in waves of one tile per SM, and
``shape_eff = M*N / (tiles * tile_m * tile_n) * tiles / (waves * SMs)``. The efficiency caps
0.8 (compute) and 0.85 (memory) are the AttAcc simulator's public GPU-model values
(``MAX_COMPUTE_UTIL``, ``MAX_OFF_MEM_BW_UTIL``; notes_dimm_pim.md section 8).

GEMM (``M, N, K``: an M x N output reduced over K): ``flops = 2 M N K``, bytes = each operand
read once and the output written once, ``(M K + K N + M N) * dtype_bytes``.

Decode attention (batch ``B``, query heads ``H``, KV length ``L``, head dim ``D``, KV heads
``G``): ``flops = 4 B H L D`` (scores and context), bytes = K and V caches
``2 B G L D * dtype_bytes`` plus q in and output out ``2 B H D * dtype_bytes``; each KV head
serves ``H / G`` query rows, which sets its ``tile_m``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from hwsim.config import ConfigBase, ConfigError, param

__all__ = ["GpuConfig", "GpuModel", "GPU_PRESETS", "A100_80GB", "H100_SXM", "RTX_A6000",
           "DTYPES", "DTYPE_BYTES", "gpu_preset"]

DTYPES = ("fp32", "fp16", "bf16", "fp8", "int8")
DTYPE_BYTES = {"fp32": 4, "fp16": 2, "bf16": 2, "fp8": 1, "int8": 1}


@dataclass(frozen=True, kw_only=True)
class GpuConfig(ConfigBase):
    """Public peak figures of a GPU (dense, no sparsity) and the roofline's efficiency knobs.

    A peak of 0 means the data type has no tensor-core path on this GPU.
    """

    unit_name = "gpu"

    name: str = param("custom", "label of this GPU")
    fp32_tflops: float = param(19.5, "peak dense FP32", low=0, unit="TFLOP/s")
    fp16_tflops: float = param(312.0, "peak dense FP16 tensor", low=0, unit="TFLOP/s")
    bf16_tflops: float = param(312.0, "peak dense BF16 tensor", low=0, unit="TFLOP/s")
    fp8_tflops: float = param(0.0, "peak dense FP8 tensor", low=0, unit="TFLOP/s")
    int8_tflops: float = param(624.0, "peak dense INT8 tensor", low=0, unit="TOP/s")
    memory_gbps: float = param(2039.0, "DRAM (HBM/GDDR) bandwidth", low=1.0, unit="GB/s")
    memory_gb: float = param(80.0, "DRAM capacity", low=1.0, unit="GB")
    sms: int = param(108, "streaming multiprocessors", low=1, high=1024)
    kernel_overhead_us: float = param(4.0, "fixed launch + tail time per kernel", low=0,
                                      unit="us")
    max_compute_efficiency: float = param(0.8, "best fraction of peak FLOP/s", low=0.01,
                                          high=1.0)
    max_memory_efficiency: float = param(0.85, "best fraction of peak bandwidth", low=0.01,
                                         high=1.0)

    def peak_tflops(self, dtype: str) -> float:
        """Peak dense TFLOP/s for ``dtype``; ConfigError if the GPU has no path for it."""
        if dtype not in DTYPES:
            raise ConfigError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
        peak = getattr(self, f"{dtype}_tflops")
        if peak <= 0:
            usable = [d for d in DTYPES if getattr(self, f"{d}_tflops") > 0]
            raise ConfigError(
                f"dtype must be one of {', '.join(usable)} on {self.name}, got {dtype!r}"
            )
        return peak


#: NVIDIA A100 80GB SXM: datasheet (2021) dense figures: FP32 19.5, FP16/BF16 tensor 312,
#: INT8 624 TOPS (the 624/1248 quoted with sparsity are 2x); HBM2e 2,039 GB/s, 80 GB; 108 SMs
#: (A100 whitepaper). No FP8.
A100_80GB = GpuConfig(name="A100-80GB", fp32_tflops=19.5, fp16_tflops=312.0, bf16_tflops=312.0,
                      fp8_tflops=0.0, int8_tflops=624.0, memory_gbps=2039.0, memory_gb=80.0,
                      sms=108)
#: NVIDIA H100 SXM5: datasheet dense figures (half the "with sparsity" ones): FP32 67,
#: FP16/BF16 989.4, FP8 1,978.9, INT8 1,978.9 TOPS; HBM3 3.35 TB/s, 80 GB; 132 SMs.
H100_SXM = GpuConfig(name="H100-SXM", fp32_tflops=67.0, fp16_tflops=989.4, bf16_tflops=989.4,
                     fp8_tflops=1978.9, int8_tflops=1978.9, memory_gbps=3350.0, memory_gb=80.0,
                     sms=132)
#: NVIDIA RTX A6000: datasheet: FP32 38.7, tensor 309.7 TFLOPS with sparsity -> 154.8 dense
#: FP16/BF16, INT8 309.7 TOPS dense; GDDR6 768 GB/s, 48 GB; 84 SMs. No FP8.
RTX_A6000 = GpuConfig(name="RTX-A6000", fp32_tflops=38.7, fp16_tflops=154.8, bf16_tflops=154.8,
                      fp8_tflops=0.0, int8_tflops=309.7, memory_gbps=768.0, memory_gb=48.0,
                      sms=84)

GPU_PRESETS: dict[str, GpuConfig] = {
    "A100-80GB": A100_80GB,
    "H100-SXM": H100_SXM,
    "RTX-A6000": RTX_A6000,
}


def gpu_preset(name: str) -> GpuConfig:
    """The preset called ``name`` (case-insensitive); ConfigError names the allowed ones."""
    for key, value in GPU_PRESETS.items():
        if key.lower() == name.lower():
            return value
    raise ConfigError(f"preset must be one of {', '.join(GPU_PRESETS)}, got {name!r}")


def _tile_m(rows: int) -> int:
    return int(min(128, max(16, 1 << max(0, math.ceil(math.log2(max(rows, 1)))))))


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{name} must be an integer >= 1, got {value!r}")


class GpuModel:
    """Kernel times on a GPU (see the module docstring for the equations)."""

    TILE_N = 128

    def __init__(self, config: GpuConfig) -> None:
        self.config = config

    def _shape_efficiency(self, m: int, n: int, batch: int = 1) -> float:
        tm, tn = _tile_m(m), self.TILE_N
        tiles = math.ceil(m / tm) * math.ceil(n / tn) * batch
        waves = math.ceil(tiles / self.config.sms)
        fill = m * n * batch / (tiles * tm * tn)
        return fill * tiles / (waves * self.config.sms)

    def _kernel(self, flops: float, n_bytes: float, dtype: str, shape_eff: float) -> dict[str,
                                                                                          Any]:
        c = self.config
        peak = c.peak_tflops(dtype) * 1e12
        bw = c.memory_gbps * 1e9
        compute_s = flops / (peak * c.max_compute_efficiency * shape_eff)
        memory_s = n_bytes / (bw * c.max_memory_efficiency)
        seconds = c.kernel_overhead_us * 1e-6 + max(compute_s, memory_s)
        return {
            "seconds": seconds,
            "roofline_seconds": max(flops / peak, n_bytes / bw),
            "compute_seconds": compute_s,
            "memory_seconds": memory_s,
            "bound": "memory" if memory_s >= compute_s else "compute",
            "flops": flops,
            "bytes_moved_bytes": n_bytes,
            "arithmetic_intensity_flop_per_byte": flops / n_bytes,
            "achieved_tflops": flops / seconds / 1e12,
            "achieved_bandwidth_gbps": n_bytes / seconds / 1e9,
        }

    def gemm(self, m: int, n: int, k: int, dtype: str = "fp16") -> dict[str, Any]:
        """Time of an ``M x N`` output GEMM reduced over ``K`` (operands read once)."""
        _check_positive(M=m, N=n, K=k)
        size = DTYPE_BYTES[dtype] if dtype in DTYPE_BYTES else 0
        self.config.peak_tflops(dtype)
        flops = 2.0 * m * n * k
        n_bytes = float(m * k + k * n + m * n) * size
        return self._kernel(flops, n_bytes, dtype, self._shape_efficiency(m, n))

    def decode_attention(
        self, batch: int, heads: int, kv_len: int, head_dim: int, kv_heads: int | None = None,
        dtype: str = "fp16",
    ) -> dict[str, Any]:
        """Time of one decode step's attention (one new token per sequence) over a KV cache."""
        kv_heads = heads if kv_heads is None else kv_heads
        _check_positive(batch=batch, heads=heads, kv_len=kv_len, head_dim=head_dim,
                        kv_heads=kv_heads)
        if heads % kv_heads:
            raise ConfigError(f"kv_heads must divide heads ({heads}), got {kv_heads}")
        self.config.peak_tflops(dtype)
        size = DTYPE_BYTES[dtype]
        flops = 4.0 * batch * heads * kv_len * head_dim
        n_bytes = (2.0 * batch * kv_heads * kv_len * head_dim
                   + 2.0 * batch * heads * head_dim) * size
        group = heads // kv_heads
        shape_eff = self._shape_efficiency(group, kv_len, batch * kv_heads)
        return self._kernel(flops, n_bytes, dtype, shape_eff)
