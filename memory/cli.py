"""``hwsim model dram|flash|gpu``: the memory and platform models from the command line."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from hwsim.config import ConfigError
from hwsim.workloads import parse_gemm

__all__ = ["register"]


#: Largest --bytes: the analytical model scales a sampled prefix and carries the request and
#: byte counts through float64, which is exact up to 2**53.
MAX_BYTES = 1 << 53
#: Largest B, H, L or D of --decode-attention (the bound parse_gemm puts on M, N, K).
MAX_DIM = (1 << 31) - 1


def _parse_int(text: str, name: str, high: int | None = None) -> int:
    """``text`` as an integer in [1, high]; ConfigError naming ``name`` and the range."""
    allowed = "an integer >= 1" if high is None else f"an integer in [1, {high}]"
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"{name} must be {allowed}, got {text!r}") from None
    if value < 1 or (high is not None and value > high):
        raise ConfigError(f"{name} must be {allowed}, got {text!r}")
    return value


def register(units: argparse._SubParsersAction) -> None:
    """Add ``dram``, ``flash`` and ``gpu`` to ``hwsim model``."""
    from .dram_config import DRAM_PRESETS, MAPPINGS
    from .dram_trace import PAGE_POLICIES, PATTERNS, SCHEDULERS
    from .flash import FLASH_PRESETS
    from .gpu import DTYPES, GPU_PRESETS

    dram = units.add_parser("dram", help="DRAM/HBM timing: bandwidth, latency, row hits",
                            description="Bandwidth, latency, row-buffer hit rate and energy "
                            "of an access pattern on a DRAM/HBM preset.")
    dram.add_argument("--preset", default="DDR4-3200", help=f"one of {', '.join(DRAM_PRESETS)}")
    dram.add_argument("--pattern", default="sequential", help=f"one of {', '.join(PATTERNS)}")
    dram.add_argument("--bytes", dest="n_bytes", default="1048576", help="bytes to move")
    dram.add_argument("--stride-bytes", default=None, help="stride of the strided pattern")
    dram.add_argument("--mapping", default=None,
                      help=f"address mapping, MSB first (e.g. {', '.join(MAPPINGS)})")
    dram.add_argument("--read-fraction", type=float, default=1.0, help="share of reads")
    dram.add_argument("--page-policy", default="open", help=" or ".join(PAGE_POLICIES))
    dram.add_argument("--scheduler", default="fr-fcfs", help=" or ".join(SCHEDULERS))
    dram.add_argument("--queue-depth", type=int, default=32, help="controller queue depth")
    dram.add_argument("--channels", type=int, default=None, help="override the channel count")
    dram.add_argument("--ranks", type=int, default=None, help="override ranks per channel")
    dram.add_argument("--fidelity", choices=("analytical", "cycle"), default="analytical")
    dram.add_argument("--seed", type=int, default=0, help="seed of random addresses")
    dram.add_argument("--json", action="store_true", help="print the result as JSON")
    dram.set_defaults(handler=_run_dram)

    flash = units.add_parser("flash", help="NAND flash SSD: internal vs host bandwidth")
    flash.add_argument("--preset", default="InstInfer-CSD",
                       help=f"one of {', '.join(FLASH_PRESETS)}")
    flash.add_argument("--json", action="store_true", help="print the result as JSON")
    flash.set_defaults(handler=_run_flash)

    gpu = units.add_parser("gpu", help="GPU roofline: GEMM and decode-attention time")
    gpu.add_argument("--preset", default="H100-SXM", help=f"one of {', '.join(GPU_PRESETS)}")
    work = gpu.add_mutually_exclusive_group(required=True)
    work.add_argument("--gemm", metavar="M,N,K", help="an M x N output reduced over K")
    work.add_argument("--decode-attention", metavar="B,H,L,D",
                      help="batch, query heads, KV length, head dim")
    gpu.add_argument("--kv-heads", type=int, default=None, help="KV heads (GQA); default H")
    gpu.add_argument("--dtype", default="fp16", help=f"one of {', '.join(DTYPES)}")
    gpu.add_argument("--json", action="store_true", help="print the result as JSON")
    gpu.set_defaults(handler=_run_gpu)


def _emit(result: dict[str, Any], title: str, as_json: bool) -> None:
    if as_json:
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    from rich.table import Table

    from hwsim.report import console

    table = Table(title=title, title_justify="left")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in result.items():
        if isinstance(value, dict):
            continue
        if isinstance(value, float):
            text = f"{value:,.4g}"
        else:
            text = str(value)
        table.add_row(key, text)
    console().print(table)


def _run_dram(args: argparse.Namespace) -> int:
    from .dram_analytical import DramAnalyticalModel, internal_bandwidth_gbps
    from .dram_config import DEFAULT_MAPPING, dram_preset, parse_mapping
    from .dram_cycle import DramCycleModel
    from .dram_trace import MAX_STRIDE_BYTES, make_trace

    config = dram_preset(args.preset)
    # "is not None", not truthiness: --channels 0 must reach the config's range check
    changes = {
        k: v for k, v in (("channels", args.channels), ("ranks", args.ranks)) if v is not None
    }
    if changes:
        config = config.replace(**changes)
    mapping = DEFAULT_MAPPING if args.mapping is None else args.mapping
    parse_mapping(mapping)
    n_bytes = _parse_int(args.n_bytes, "bytes", MAX_BYTES)
    stride = (
        None
        if args.stride_bytes is None
        else _parse_int(args.stride_bytes, "stride_bytes", MAX_STRIDE_BYTES)
    )
    # make_trace checks these too, but only once the model runs: fail before any work
    if not 0.0 <= args.read_fraction <= 1.0:  # also rejects nan
        raise ConfigError(f"read_fraction must be a number in [0, 1], got {args.read_fraction!r}")
    if args.seed < 0:
        raise ConfigError(f"seed must be an integer >= 0, got {args.seed}")
    if args.pattern == "strided" and stride is None:
        raise ConfigError("stride_bytes is required for --pattern strided (--stride-bytes S)")
    options = dict(mapping=mapping, page_policy=args.page_policy, scheduler=args.scheduler,
                   queue_depth=args.queue_depth)
    if args.fidelity == "analytical":
        figures = DramAnalyticalModel(config, **options).evaluate_pattern(
            args.pattern, n_bytes, stride_bytes=stride, read_fraction=args.read_fraction,
            seed=args.seed)
    else:
        limit = 1 << 22
        if n_bytes > limit:
            raise ConfigError(f"bytes must be <= {limit} for --fidelity cycle, got {n_bytes}")
        addresses, is_write = make_trace(config, args.pattern, n_bytes, stride_bytes=stride,
                                         read_fraction=args.read_fraction, seed=args.seed)
        figures = DramCycleModel(config, **options).run(addresses, is_write).figures
    result: dict[str, Any] = {
        "unit": "dram",
        "preset": config.name,
        "fingerprint": config.fingerprint(),
        "pattern": args.pattern,
        **options,
        **figures.to_dict(),
        "internal_bandwidth": internal_bandwidth_gbps(config),
    }
    _emit(result, f"{config.name} {args.pattern} ({args.fidelity}, {mapping})", args.json)
    return 0


def _run_flash(args: argparse.Namespace) -> int:
    from .flash import FlashModel, flash_preset

    config = flash_preset(args.preset)
    result = {"unit": "flash", "preset": config.name, "fingerprint": config.fingerprint(),
              **FlashModel(config).figures()}
    _emit(result, f"{config.name} (link {config.link})", args.json)
    return 0


def _run_gpu(args: argparse.Namespace) -> int:
    from .gpu import GpuModel, gpu_preset

    config = gpu_preset(args.preset)
    model = GpuModel(config)
    if args.gemm is not None:
        gemm = parse_gemm(args.gemm)
        figures = model.gemm(gemm.m, gemm.n, gemm.k, args.dtype)
        workload = {"kernel": "gemm", "m": gemm.m, "n": gemm.n, "k": gemm.k}
    else:
        parts = [p.strip() for p in args.decode_attention.split(",")]
        if len(parts) != 4:
            raise ConfigError(
                f"decode_attention must be B,H,L,D with four integers >= 1, got "
                f"'{args.decode_attention}'"
            )
        b, h, length, d = (
            _parse_int(p, n, MAX_DIM) for p, n in zip(parts, "BHLD", strict=True)
        )
        figures = model.decode_attention(b, h, length, d, args.kv_heads, args.dtype)
        workload = {"kernel": "decode_attention", "batch": b, "heads": h, "kv_len": length,
                    "head_dim": d, "kv_heads": h if args.kv_heads is None else args.kv_heads}
    result = {"unit": "gpu", "preset": config.name, "dtype": args.dtype, **workload, **figures}
    _emit(result, f"{config.name} {workload['kernel']} ({args.dtype})", args.json)
    return 0
