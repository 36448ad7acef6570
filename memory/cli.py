"""``hwsim model dram|flash|gpu``: the memory and platform models from the command line."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from hwsim.config import ConfigBase, ConfigError, load_mapping
from hwsim.workloads import parse_gemm

if TYPE_CHECKING:  # the models are imported when a command runs, not when the CLI is built
    from .dram_config import DramConfig

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


#: DramConfig fields that are derived from the datasheet currents when ``vdd_v`` is given.
DERIVED_ENERGY_FIELDS = (
    "act_energy_pj",
    "read_energy_pj_per_bit",
    "write_energy_pj_per_bit",
    "refresh_energy_pj",
    "background_power_mw",
)


def _layer_config_file(preset: ConfigBase, path: str | None) -> tuple[ConfigBase, dict[str, Any]]:
    """``preset`` with the fields of a YAML/JSON mapping laid over it, and those fields.

    Keys may use ``-`` or ``_``; an unknown or repeated key, or a bad value, is a
    ConfigError that names the file and the field.
    """
    if path is None:
        return preset, {}
    data = load_mapping(path)
    names = type(preset).field_names()
    changes: dict[str, Any] = {}
    for raw_key, value in data.items():
        key = str(raw_key).replace("-", "_")
        if key not in names:
            raise ConfigError(
                f"{path}: unknown field '{raw_key}' for {type(preset).unit_name}; "
                f"allowed: {', '.join(names)}"
            )
        if key in changes:
            raise ConfigError(f"{path}: duplicate key '{raw_key}'")
        changes[key] = value
    try:
        return preset.replace(**changes), changes
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def _parse_positive_float(text: str, name: str) -> float:
    """``text`` as a finite number > 0; ConfigError naming ``name``."""
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{name} must be a finite number > 0, got {text!r}") from None
    if not (value > 0 and value != float("inf")):  # also rejects nan
        raise ConfigError(f"{name} must be a finite number > 0, got {text!r}")
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
    dram.add_argument("--config", metavar="FILE.yaml",
                      help="DramConfig fields (YAML or JSON mapping) laid over the preset")
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
    dram.add_argument("--pim", action="store_true",
                      help="report internal (PIM) bandwidth, peak and sustained bank level, "
                      "instead of running an access pattern")
    dram.add_argument("--pim-row-bytes", default=None,
                      help="with --pim: bytes of one chip's row read per visit (default the row)")
    dram.add_argument("--power-cap-w", default=None,
                      help="with --pim: ACT + read power budget of the whole memory (W)")
    dram.add_argument("--json", action="store_true", help="print the result as JSON")
    dram.set_defaults(handler=_run_dram)

    flash = units.add_parser("flash", help="NAND flash SSD: internal vs host bandwidth")
    flash.add_argument("--preset", default="InstInfer-CSD",
                       help=f"one of {', '.join(FLASH_PRESETS)}")
    flash.add_argument("--config", metavar="FILE.yaml",
                       help="FlashConfig fields (YAML or JSON mapping) laid over the preset")
    flash.add_argument("--json", action="store_true", help="print the result as JSON")
    flash.set_defaults(handler=_run_flash)

    gpu = units.add_parser("gpu", help="GPU roofline: GEMM and decode-attention time")
    gpu.add_argument("--preset", default="H100-SXM", help=f"one of {', '.join(GPU_PRESETS)}")
    gpu.add_argument("--config", metavar="FILE.yaml",
                     help="GpuConfig fields (YAML or JSON mapping) laid over the preset")
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


def _dram_config(args: argparse.Namespace) -> DramConfig:
    """Preset < --config file < --channels/--ranks flags."""
    from .dram_config import dram_preset

    preset = dram_preset(args.preset)
    config, from_file = _layer_config_file(preset, args.config)
    if config.energy_fields_derived:
        given = [name for name in DERIVED_ENERGY_FIELDS if name in from_file]
        if given:
            raise ConfigError(
                f"{args.config}: {given[0]} is derived from the datasheet currents (vdd_v, "
                f"idd*_ma) of {config.name}; set vdd_v: null to give energies directly"
            )
    # "is not None", not truthiness: --channels 0 must reach the config's range check
    changes = {
        k: v for k, v in (("channels", args.channels), ("ranks", args.ranks)) if v is not None
    }
    return config.replace(**changes) if changes else config


def _run_dram(args: argparse.Namespace) -> int:
    from .dram_analytical import SAMPLE_REQUESTS, DramAnalyticalModel, internal_bandwidth_gbps
    from .dram_config import DEFAULT_MAPPING, parse_mapping
    from .dram_cycle import DramCycleModel
    from .dram_energy import dram_energy_pj
    from .dram_trace import MAX_STRIDE_BYTES, PATTERNS, make_trace

    config = _dram_config(args)
    if args.pim:
        return _run_dram_pim(args, config)
    for flag, value in (("pim_row_bytes", args.pim_row_bytes), ("power_cap_w", args.power_cap_w)):
        if value is not None:
            raise ConfigError(f"{flag} applies only with --pim, got --{flag.replace('_', '-')} "
                              f"{value} without it")
    if args.pattern not in PATTERNS:
        raise ConfigError(f"pattern must be one of {', '.join(PATTERNS)}, got {args.pattern!r}")
    mapping = DEFAULT_MAPPING if args.mapping is None else args.mapping
    parse_mapping(mapping)
    n_bytes = _parse_int(args.n_bytes, "bytes", MAX_BYTES)
    stride = (
        None
        if args.stride_bytes is None
        else _parse_int(args.stride_bytes, "stride_bytes", MAX_STRIDE_BYTES)
    )
    if stride is not None and args.pattern != "strided":
        raise ConfigError(
            f"stride_bytes applies only to --pattern strided, got --pattern {args.pattern}"
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
    trace_options = dict(stride_bytes=stride, read_fraction=args.read_fraction, seed=args.seed)
    if args.fidelity == "analytical":
        figures = DramAnalyticalModel(config, **options).evaluate_pattern(
            args.pattern, n_bytes, **trace_options)
        writes = getattr(figures, "writes_count", None)
        if writes is None:
            # the figures do not carry the write count: redraw the trace the analytical model
            # evaluated (its first SAMPLE_REQUESTS requests) and scale as it does
            n_sample = min(figures.requests_count, SAMPLE_REQUESTS)
            _, sample_writes = make_trace(config, args.pattern, n_sample * config.burst_bytes,
                                          **trace_options)
            writes = float(sample_writes.sum()) * figures.requests_count / n_sample
    else:
        limit = 1 << 22
        if n_bytes > limit:
            raise ConfigError(f"bytes must be <= {limit} for --fidelity cycle, got {n_bytes}")
        addresses, is_write = make_trace(config, args.pattern, n_bytes, **trace_options)
        figures = DramCycleModel(config, **options).run(addresses, is_write).figures
        writes = float(is_write.sum())
    breakdown = dram_energy_pj(
        config,
        reads=figures.requests_count - writes,
        writes=writes,
        activates=figures.activates_count,
        refreshes=figures.refreshes_count,
        busy_ns=figures.seconds * 1e9,
    )
    result: dict[str, Any] = {
        "unit": "dram",
        "preset": config.name,
        "fingerprint": config.fingerprint(),
        "pattern": args.pattern,
        **options,
        **figures.to_dict(),
        "total_energy_pj": breakdown["total_pj"],
        "energy_breakdown": breakdown,
        "internal_bandwidth": internal_bandwidth_gbps(config),
    }
    _emit(result, f"{config.name} {args.pattern} ({args.fidelity}, {mapping})", args.json)
    return 0


def _run_dram_pim(args: argparse.Namespace, config: DramConfig) -> int:
    """``--pim``: peak channel/rank/bank bandwidth and the sustained bank-level figure."""
    from .dram_analytical import internal_bandwidth_gbps
    from .dram_pim import pim_bank_bandwidth_gbps

    if args.stride_bytes is not None:
        raise ConfigError("stride_bytes applies only to --pattern strided, not with --pim")
    row_bytes = (
        None if args.pim_row_bytes is None else _parse_int(args.pim_row_bytes, "pim_row_bytes")
    )
    cap = None if args.power_cap_w is None else _parse_positive_float(args.power_cap_w,
                                                                      "power_cap_w")
    try:
        sustained = pim_bank_bandwidth_gbps(config, row_bytes, cap)
    except ConfigError as exc:  # the library names its argument; the CLI names the flag
        raise ConfigError(str(exc).replace("bytes_per_row_visit", "pim_row_bytes")) from None
    result: dict[str, Any] = {
        "unit": "dram",
        "preset": config.name,
        "fingerprint": config.fingerprint(),
        "channels": config.channels,
        "ranks": config.ranks,
        **internal_bandwidth_gbps(config),
        **sustained,
    }
    _emit(result, f"{config.name} internal (PIM) bandwidth, {config.channels} ch x "
          f"{config.ranks} ranks", args.json)
    return 0


def _run_flash(args: argparse.Namespace) -> int:
    from .flash import FlashModel, flash_preset

    config, _ = _layer_config_file(flash_preset(args.preset), args.config)
    result = {"unit": "flash", "preset": config.name, "fingerprint": config.fingerprint(),
              **FlashModel(config).figures()}
    _emit(result, f"{config.name} (link {config.link})", args.json)
    return 0


def _run_gpu(args: argparse.Namespace) -> int:
    from .gpu import GpuModel, gpu_preset

    config, _ = _layer_config_file(gpu_preset(args.preset), args.config)
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
    result = {"unit": "gpu", "preset": config.name, "fingerprint": config.fingerprint(),
              "dtype": args.dtype, **workload, **figures}
    _emit(result, f"{config.name} {workload['kernel']} ({args.dtype})", args.json)
    return 0
