"""GPU roofline: public peaks, never below the roofline, decode attention memory-bound."""

from __future__ import annotations

import pytest

from hwsim.config import ConfigError
from hwsim.memory.gpu import A100_80GB, GPU_PRESETS, H100_SXM, RTX_A6000, GpuModel, gpu_preset

LLAMA = {  # hidden, heads, head dim, FFN (LLaMA-2 7B / 13B)
    "7b": (4096, 32, 128, 11008),
    "13b": (5120, 40, 128, 13824),
}


def test_public_peaks():
    assert A100_80GB.fp16_tflops == 312 and A100_80GB.memory_gbps == 2039
    assert H100_SXM.fp16_tflops == pytest.approx(1979 / 2, rel=1e-3)  # datasheet sparse / 2
    assert RTX_A6000.memory_gbps == 768 and RTX_A6000.memory_gb == 48


@pytest.mark.parametrize("gpu", list(GPU_PRESETS.values()), ids=lambda g: g.name)
@pytest.mark.parametrize("model", ["7b", "13b"])
@pytest.mark.parametrize("tokens", [1, 16, 512, 4096])
def test_gemm_never_below_roofline(gpu, model, tokens):
    hidden, _, _, ffn = LLAMA[model]
    g = GpuModel(gpu)
    for n, k in [(3 * hidden, hidden), (ffn, hidden), (hidden, ffn)]:
        r = g.gemm(tokens, n, k, "fp16")
        flops = 2 * tokens * n * k
        n_bytes = 2 * (tokens * k + k * n + tokens * n)
        bound = max(flops / (gpu.fp16_tflops * 1e12), n_bytes / (gpu.memory_gbps * 1e9))
        assert r["seconds"] >= bound
        assert r["roofline_seconds"] == pytest.approx(bound)


def test_large_gemm_compute_bound_small_gemm_memory_bound():
    g = GpuModel(H100_SXM)
    big = g.gemm(8192, 8192, 8192)
    assert big["bound"] == "compute"
    assert 0.5 < big["achieved_tflops"] / 989.4 <= 0.8
    assert g.gemm(1, 11008, 4096)["bound"] == "memory"


@pytest.mark.parametrize("gpu", list(GPU_PRESETS.values()), ids=lambda g: g.name)
def test_decode_attention_memory_bound_at_long_kv(gpu):
    b, h, length, d = 16, 32, 32768, 128
    r = GpuModel(gpu).decode_attention(b, h, length, d)
    kv_bytes = 2 * b * h * length * d * 2
    assert r["bound"] == "memory"
    # within 2 % of the KV bytes at the capped bandwidth (85 % of peak)
    assert r["seconds"] == pytest.approx(kv_bytes / (gpu.memory_gbps * 1e9 * 0.85), rel=0.02)


def test_gqa_reads_fewer_kv_bytes():
    g = GpuModel(A100_80GB)
    mha = g.decode_attention(8, 32, 8192, 128)
    gqa = g.decode_attention(8, 32, 8192, 128, kv_heads=8)
    assert gqa["bytes_moved_bytes"] < 0.3 * mha["bytes_moved_bytes"]
    assert gqa["seconds"] < mha["seconds"]


def test_bad_gpu_input():
    with pytest.raises(ConfigError, match="preset must be one of A100-80GB"):
        gpu_preset("V100")
    with pytest.raises(ConfigError, match="dtype must be one of fp32, fp16, bf16, int8"):
        GpuModel(A100_80GB).gemm(8, 8, 8, "fp8")
    with pytest.raises(ConfigError, match="kv_heads must divide heads"):
        GpuModel(H100_SXM).decode_attention(1, 32, 128, 128, kv_heads=5)
