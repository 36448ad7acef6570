"""Write the shipped SCALE-Sim topology CSVs into ``hwsim/data/topologies/``.

The layer tables are derived here from the published architectures, not copied:

* ``resnet50.csv``: ResNet-50 v1.5 (He et al., "Deep Residual Learning for Image Recognition",
  2016, Table 1; v1.5 puts the stride-2 on the 3x3 conv of each down-sampling bottleneck, as
  torchvision and the MLPerf reference do) at 224x224. The final FC layer is a 1x1 conv on a
  1x1x2048 input. Pooling layers carry no MACs and are left out.
* ``mobilenetv2.csv``: MobileNetV2 1.0 (Sandler et al., "MobileNetV2: Inverted Residuals and
  Linear Bottlenecks", 2018, Table 2) at 224x224. Depthwise layers have ``DP`` in their name
  (SCALE-Sim's rule) and Num Filter = 1 (depth multiplier 1).
* ``bert_base.csv``: the GEMMs of one BERT-base encoder layer (Devlin et al., 2019: hidden 768,
  12 heads of 64, FFN 3072) at sequence length 512, written ``M, N, K`` (an M x N output reduced
  over K); per-head attention GEMMs are one row per head.

Conv rows list the PADDED ifmap size (H + 2 * pad), as SCALE-Sim topologies do, so that
``(ifmap - filter) // stride + 1`` is the true output size. Every data row ends in a comma, as
SCALE-Sim requires.

Run from the repository root: ``python tools/gen_topologies.py [--out DIR]``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

CONV_HEADER = (
    "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
    "Strides,"
)
GEMM_HEADER = "Layer, M, N, K,"

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "hwsim" / "data" / "topologies"

# A conv row: (name, ifmap_h, ifmap_w, filter_h, filter_w, channels, num_filters, stride).
ConvRow = tuple[str, int, int, int, int, int, int, int]
GemmRow = tuple[str, int, int, int]


class _ConvBuilder:
    """Appends square conv layers and tracks the spatial size between them."""

    def __init__(self) -> None:
        self.rows: list[ConvRow] = []

    def conv(self, name: str, size: int, k: int, ch: int, nf: int, stride: int = 1) -> int:
        """Add a k x k conv with 'same'-style padding (k // 2); return the output size."""
        pad = k // 2
        padded = size + 2 * pad
        self.rows.append((name, padded, padded, k, k, ch, nf, stride))
        out = (padded - k) // stride + 1
        assert out == -(-size // stride), (name, size, k, stride, out)  # ceil(size / stride)
        return out


def resnet50_rows() -> list[ConvRow]:
    b = _ConvBuilder()
    size = b.conv("conv1", 224, 7, 3, 64, stride=2)  # 112
    size = (size + 2 * 1 - 3) // 2 + 1  # 3x3/2 max pool, pad 1: 56 (no MACs, not listed)
    in_ch = 64
    # (stage number, blocks, bottleneck width, first-block stride)
    stages = ((2, 3, 64, 1), (3, 4, 128, 2), (4, 6, 256, 2), (5, 3, 512, 2))
    for stage, blocks, width, first_stride in stages:
        out_ch = 4 * width
        for i in range(blocks):
            block = f"res{stage}{chr(ord('a') + i)}"
            stride = first_stride if i == 0 else 1
            block_in = size
            b.conv(f"{block}_branch2a", block_in, 1, in_ch, width)
            mid = b.conv(f"{block}_branch2b", block_in, 3, width, width, stride=stride)
            b.conv(f"{block}_branch2c", mid, 1, width, out_ch)
            if i == 0:  # projection shortcut: 1x1 conv, same stride as the block
                b.conv(f"{block}_branch1", block_in, 1, in_ch, out_ch, stride=stride)
            size = mid
            in_ch = out_ch
    assert size == 7 and in_ch == 2048
    # Global average pool to 1x1x2048, then the 1000-way FC as a 1x1 conv.
    b.conv("fc1000", 1, 1, 2048, 1000)
    return b.rows


def mobilenetv2_rows() -> list[ConvRow]:
    b = _ConvBuilder()
    size = b.conv("conv1", 224, 3, 3, 32, stride=2)  # 112
    in_ch = 32
    # MobileNetV2 paper, Table 2: expansion t, output channels c, repeats n, first stride s.
    table = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
             (6, 160, 3, 2), (6, 320, 1, 1))
    block = 0
    for t, c, n, s in table:
        for i in range(n):
            block += 1
            stride = s if i == 0 else 1
            hidden = in_ch * t
            if t != 1:
                b.conv(f"bneck{block}_expand", size, 1, in_ch, hidden)
            size = b.conv(f"bneck{block}_DP", size, 3, hidden, 1, stride=stride)
            b.conv(f"bneck{block}_project", size, 1, hidden, c)
            in_ch = c
    assert block == 17 and size == 7 and in_ch == 320
    b.conv("conv_last", size, 1, in_ch, 1280)
    b.conv("fc1000", 1, 1, 1280, 1000)  # after global average pooling
    return b.rows


def bert_base_rows(seq: int = 512, hidden: int = 768, heads: int = 12, ffn: int = 3072) -> list[
    GemmRow
]:
    head_dim = hidden // heads
    rows: list[GemmRow] = [
        ("q_proj", seq, hidden, hidden),
        ("k_proj", seq, hidden, hidden),
        ("v_proj", seq, hidden, hidden),
    ]
    rows += [(f"attn_scores_h{h}", seq, seq, head_dim) for h in range(heads)]  # Q_h K_h^T
    rows += [(f"attn_context_h{h}", seq, head_dim, seq) for h in range(heads)]  # softmax V_h
    rows += [
        ("attn_out_proj", seq, hidden, hidden),
        ("ffn_up", seq, ffn, hidden),
        ("ffn_down", seq, hidden, ffn),
    ]
    return rows


def _csv(header: str, rows: list[tuple]) -> str:
    lines = [header] + [", ".join(str(v) for v in row) + "," for row in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    files = {
        "resnet50.csv": _csv(CONV_HEADER, resnet50_rows()),
        "mobilenetv2.csv": _csv(CONV_HEADER, mobilenetv2_rows()),
        "bert_base.csv": _csv(GEMM_HEADER, bert_base_rows()),
    }
    for file_name, text in files.items():
        path = args.out / file_name
        path.write_text(text)
        print(f"wrote {path} ({text.count(chr(10)) - 1} layers)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
