"""Workloads: GEMMs and convolution layers, SCALE-Sim topology files and shipped networks.

Every GEMM in hwsim is written ``M, N, K``: an ``M x N`` output with a reduction over ``K``
(BLAS order, and SCALE-Sim's GEMM topology order). A convolution layer lowers to a GEMM with
``M`` = output pixels, ``N`` = filters and ``K`` = filter window (height x width x channels),
the im2col view SCALE-Sim uses. A depthwise layer (``DP`` in its name, SCALE-Sim's rule) is
``groups`` = channels independent GEMMs with one channel each, run one after another.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from hwsim.config import ConfigError

#: Largest GEMM dimension and layer size: every model counter (cycles, words, bytes) of a
#: layer then fits in int64 with room for the fold overheads (< 2**62).
MAX_DIM = 2**31 - 1
MAX_LAYER_MACS = 2**48

__all__ = [
    "MAX_DIM",
    "MAX_LAYER_MACS",
    "Gemm",
    "ConvLayer",
    "Workload",
    "NETWORKS",
    "load_topology",
    "load_network",
    "parse_gemm",
]


@dataclass(frozen=True)
class Gemm:
    """``groups`` independent GEMMs, each an ``m x n`` output reduced over ``k``."""

    name: str
    m: int
    n: int
    k: int
    groups: int = 1

    def __post_init__(self) -> None:
        for field_name in ("m", "n", "k", "groups"):
            value = getattr(self, field_name)
            label = "groups" if field_name == "groups" else field_name.upper()
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ConfigError(
                    f"GEMM '{self.name}': {label} must be an integer >= 1, got {value!r}"
                )
            if value > MAX_DIM:
                raise ConfigError(
                    f"GEMM '{self.name}': {label} must be an integer <= {MAX_DIM}, got {value!r}"
                )
        if self.macs > MAX_LAYER_MACS:
            raise ConfigError(
                f"GEMM '{self.name}': groups*M*N*K = {self.macs:.3g} MACs exceeds the "
                f"{MAX_LAYER_MACS:.3g} a layer may have (models count in int64)"
            )

    @property
    def macs(self) -> int:
        """Multiply-accumulates of the whole layer."""
        return self.groups * self.m * self.n * self.k

    def as_gemm(self, rounding: str = "floor") -> Gemm:
        return self


@dataclass(frozen=True)
class ConvLayer:
    """A 2-D convolution in SCALE-Sim's topology terms.

    ``ifmap_h``/``ifmap_w`` already include any padding (SCALE-Sim topologies list padded
    sizes); one ``stride`` serves both directions. ``depthwise`` splits the layer per channel.
    """

    name: str
    ifmap_h: int
    ifmap_w: int
    filter_h: int
    filter_w: int
    channels: int
    num_filters: int
    stride: int = 1
    depthwise: bool = False

    def __post_init__(self) -> None:
        for field_name in (
            "ifmap_h",
            "ifmap_w",
            "filter_h",
            "filter_w",
            "channels",
            "num_filters",
            "stride",
        ):
            value = getattr(self, field_name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ConfigError(
                    f"conv layer '{self.name}': {field_name} must be an integer >= 1, got {value!r}"
                )
        if self.filter_h > self.ifmap_h or self.filter_w > self.ifmap_w:
            raise ConfigError(
                f"conv layer '{self.name}': filter {self.filter_h}x{self.filter_w} must fit in "
                f"the ifmap {self.ifmap_h}x{self.ifmap_w}"
            )

    def ofmap_dims(self, rounding: str = "floor") -> tuple[int, int]:
        """Output height and width.

        ``floor`` is the usual ``(ifmap - filter) // stride + 1``. ``scalesim`` reproduces
        SCALE-Sim v3, which rounds up: ``ceil((ifmap - filter + stride) / stride)``; the two
        differ when ``ifmap - filter`` is not a multiple of the stride (ResNet-50's first layer:
        113 vs 112 on a 230-pixel padded input).
        """
        if rounding == "floor":
            return (
                (self.ifmap_h - self.filter_h) // self.stride + 1,
                (self.ifmap_w - self.filter_w) // self.stride + 1,
            )
        if rounding == "scalesim":
            return (
                -(-(self.ifmap_h - self.filter_h + self.stride) // self.stride),
                -(-(self.ifmap_w - self.filter_w + self.stride) // self.stride),
            )
        raise ValueError(f"rounding must be floor or scalesim, got {rounding!r}")

    def as_gemm(self, rounding: str = "floor") -> Gemm:
        """The im2col GEMM: M = output pixels, N = filters, K = window (per group)."""
        ofmap_h, ofmap_w = self.ofmap_dims(rounding)
        channels = 1 if self.depthwise else self.channels
        return Gemm(
            name=self.name,
            m=ofmap_h * ofmap_w,
            n=self.num_filters,
            k=self.filter_h * self.filter_w * channels,
            groups=self.channels if self.depthwise else 1,
        )

    @property
    def macs(self) -> int:
        return self.as_gemm().macs


Layer = Gemm | ConvLayer


@dataclass(frozen=True)
class Workload:
    """A named list of layers, with their GEMM dimensions as numpy columns for models."""

    name: str
    layers: tuple[Layer, ...]

    def __post_init__(self) -> None:
        if not self.layers:
            raise ConfigError(f"workload '{self.name}' has no layers")

    @classmethod
    def of(cls, name: str, layers: Iterable[Layer]) -> Workload:
        return cls(name=name, layers=tuple(layers))

    def gemms(self, rounding: str = "floor") -> list[Gemm]:
        """Each layer as a GEMM; ``rounding`` picks the conv output-size rule."""
        return [layer.as_gemm(rounding) for layer in self.layers]

    def columns(self, rounding: str = "floor") -> dict[str, np.ndarray]:
        """``m``, ``n``, ``k``, ``groups`` as read-only int64 arrays, one entry per layer.

        Computed once per rounding rule and kept: sweeps evaluate one workload many times.
        """
        cache = self.__dict__.setdefault("_columns_cache", {})  # frozen: fields stay immutable
        if rounding not in cache:
            gemms = self.gemms(rounding)
            arrays = {
                key: np.array([getattr(g, key) for g in gemms], dtype=np.int64)
                for key in ("m", "n", "k", "groups")
            }
            for array in arrays.values():
                array.setflags(write=False)
            cache[rounding] = arrays
        return cache[rounding]

    @property
    def layer_names(self) -> list[str]:
        return [layer.name for layer in self.layers]

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)


def parse_gemm(text: str, name: str | None = None) -> Gemm:
    """Parse ``"M,N,K"`` (an M x N output, reduction over K)."""
    parts = [p.strip() for p in text.replace("x", ",").split(",")]
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() and int(p) > 0 for p in parts):
        raise ConfigError(f"gemm must be M,N,K with three integers >= 1, got '{text}'")
    m, n, k = (int(p) for p in parts)
    return Gemm(name=name or f"gemm_{m}x{n}x{k}", m=m, n=n, k=k)


_CONV_FIELDS = (
    "IFMAP Height",
    "IFMAP Width",
    "Filter Height",
    "Filter Width",
    "Channels",
    "Num Filter",
    "Strides",
)
_GEMM_FIELDS = ("M", "N", "K")


def _int_field(value: str, field_name: str, where: str) -> int:
    value = value.strip()
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{where}: {field_name} must be an integer >= 1, got '{value}'") from None
    if number < 1:
        raise ConfigError(f"{where}: {field_name} must be an integer >= 1, got '{value}'")
    return number


def _check_sparsity(fields: Sequence[str], where: str) -> None:
    if not fields or not fields[0].strip():
        return
    ratio = fields[0].strip().replace(" ", "")
    n, _, m = ratio.partition(":")
    if not (n.isdigit() and m.isdigit() and n == m):
        raise ConfigError(
            f"{where}: sparsity ratio '{fields[0].strip()}' is not supported (dense only: 1:1)"
        )


def _detect_format(header: list[str], rows: list[list[str]]) -> str:
    names = [h.strip().lower() for h in header]
    if names[1:4] == ["m", "n", "k"]:
        return "gemm"
    if len(names) > 1 and "ifmap" in names[1]:
        return "conv"
    widths = {len(r) for r in rows}
    return "conv" if widths and min(widths) >= 8 else "gemm"


def load_topology(
    path: str | Path, fmt: str = "auto", *, text: str | None = None, name: str | None = None
) -> Workload:
    """Read a SCALE-Sim topology CSV (conv or GEMM) into a :class:`Workload`.

    The first row is a header. Trailing commas (which SCALE-Sim requires) are optional here;
    blank lines are skipped. ``fmt`` is ``conv``, ``gemm`` or ``auto`` (from the header: GEMM
    files are ``Layer, M, N, K``). A sparsity column other than ``1:1`` is refused: hwsim
    models dense layers. Errors name the file, the line and the field.
    """
    path = Path(path)
    if fmt not in ("auto", "conv", "gemm"):
        raise ConfigError(f"topology format must be one of auto, conv, gemm, got '{fmt}'")
    if text is None:
        try:
            text = path.read_text()
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read topology file ({exc.strerror})") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{path}: topology file is not readable text") from None
    lines = list(csv.reader(io.StringIO(text)))
    numbered = [
        (i + 1, [c for c in row]) for i, row in enumerate(lines) if any(c.strip() for c in row)
    ]
    if len(numbered) < 2:
        raise ConfigError(f"{path}: topology needs a header row and at least one layer row")
    header = numbered[0][1]
    body = []
    for line_no, row in numbered[1:]:
        while row and not row[-1].strip():
            row = row[:-1]
        body.append((line_no, row))
    if fmt == "auto":
        fmt = _detect_format(header, [r for _, r in body])
    layers: list[Layer] = []
    for line_no, row in body:
        where = f"{path} line {line_no}"
        layer_name = row[0].strip() or f"layer{len(layers)}"
        if fmt == "gemm":
            if len(row) < 4:
                raise ConfigError(
                    f"{where}: a GEMM row needs Layer, M, N, K; got {len(row)} fields"
                )
            m, n, k = (_int_field(v, f, where) for v, f in zip(row[1:4], _GEMM_FIELDS, strict=True))
            _check_sparsity(row[4:], where)
            layers.append(Gemm(name=layer_name, m=m, n=n, k=k))
        else:
            if len(row) < 8:
                raise ConfigError(
                    f"{where}: a conv row needs Layer, {', '.join(_CONV_FIELDS)}; "
                    f"got {len(row)} fields"
                )
            values = [_int_field(v, f, where) for v, f in zip(row[1:8], _CONV_FIELDS, strict=True)]
            _check_sparsity(row[8:], where)
            try:
                layers.append(ConvLayer(layer_name, *values, depthwise="DP" in layer_name))
            except ConfigError as exc:
                raise ConfigError(f"{where}: {exc}") from None
    return Workload.of(name or path.stem, layers)


#: Shipped topologies: name -> (file, format, description).
NETWORKS = {
    "resnet50": ("resnet50.csv", "conv", "ResNet-50 (ImageNet, 224x224), conv and FC layers"),
    "mobilenetv2": ("mobilenetv2.csv", "conv", "MobileNetV2 1.0 (224x224), incl. depthwise"),
    "bert-base": ("bert_base.csv", "gemm", "BERT-base encoder layer GEMMs, sequence 512"),
}


def load_network(name: str) -> Workload:
    """Load a shipped topology by name (see :data:`NETWORKS`)."""
    key = name.lower().replace("_", "-")
    if key == "bert":
        key = "bert-base"
    if key not in NETWORKS:
        raise ConfigError(f"network must be one of {', '.join(NETWORKS)}, got '{name}'")
    file_name, fmt, _ = NETWORKS[key]
    data = resources.files("hwsim") / "data" / "topologies" / file_name
    return load_topology(file_name, fmt, text=data.read_text(), name=key)
