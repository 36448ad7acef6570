"""Workload loader: shipped topologies against published figures, CSV tolerance and errors.

Reference numbers here come from the papers or from closed forms written out in the test,
never from the code under test.
"""

from __future__ import annotations

import numpy as np
import pytest

from hwsim.accelerators.systolic.golden import im2col
from hwsim.config import ConfigError
from hwsim.workloads import (
    NETWORKS,
    ConvLayer,
    Gemm,
    Workload,
    load_network,
    load_topology,
    parse_gemm,
)

CONV_HEADER = (
    "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
    "Strides,"
)

# --------------------------------------------------------------------------- shipped networks


def test_resnet50_macs_match_published_figure():
    # ResNet-50 (v1.5, 224x224) is commonly quoted at ~4.1 GFLOPs where a "FLOP" is one
    # multiply-add (torchvision's model table: 4.09 GFLOPS; v1 in He et al. 2016 Table 1 is
    # 3.8e9 with the stride on the first 1x1 conv instead).
    published = 4.09e9
    w = load_network("resnet50")
    assert abs(w.macs - published) / published < 0.02


def test_resnet50_layer_count_and_names():
    w = load_network("resnet50")
    # 1 stem conv + 16 bottlenecks x 3 convs + 4 projection shortcuts = 53 convs, plus the FC.
    assert len(w.layers) == 54
    assert all(isinstance(layer, ConvLayer) for layer in w.layers)
    names = w.layer_names
    assert len(set(names)) == len(names)
    assert names[0] == "conv1" and names[-1] == "fc1000"
    assert {"res2a_branch2a", "res2a_branch1", "res5c_branch2c"} <= set(names)
    assert sum(n.endswith("_branch1") for n in names) == 4
    assert not any(layer.depthwise for layer in w.layers)


def test_resnet50_fc_is_1x1_conv():
    fc = load_network("resnet50").layers[-1]
    g = fc.as_gemm()
    assert (g.m, g.n, g.k, g.groups) == (1, 1000, 2048, 1)


def test_resnet50_conv1_output_size_rounding():
    conv1 = load_network("resnet50").layers[0]
    # 224 + 2 * 3 padding = 230; floor((230 - 7) / 2) + 1 = 112.
    assert (conv1.ifmap_h, conv1.filter_h, conv1.stride) == (230, 7, 2)
    assert conv1.ofmap_dims() == (112, 112)
    # SCALE-Sim's rule: ceil((230 - 7 + 2) / 2) = ceil(112.5) = 113.
    assert conv1.ofmap_dims(rounding="scalesim") == (113, 113)
    assert conv1.as_gemm("scalesim").m == 113 * 113
    assert conv1.as_gemm().m == 112 * 112


def test_resnet50_v15_stride_on_3x3():
    layers = {layer.name: layer for layer in load_network("resnet50").layers}
    for stage in (3, 4, 5):
        assert layers[f"res{stage}a_branch2a"].stride == 1
        assert layers[f"res{stage}a_branch2b"].stride == 2
        assert layers[f"res{stage}a_branch1"].stride == 2
    assert layers["res2a_branch2b"].stride == 1
    # Final spatial size 7x7 before pooling.
    assert layers["res5c_branch2c"].ofmap_dims() == (7, 7)


def test_mobilenetv2_macs_match_published_figure():
    # Sandler et al. 2018 (MobileNetV2), Table 4 / Table 6: 300M multiply-adds for 1.0 at 224.
    published = 300e6
    w = load_network("mobilenetv2")
    assert abs(w.macs - published) / published < 0.03


def test_mobilenetv2_depthwise_layers():
    w = load_network("mobilenetv2")
    dw = [layer for layer in w.layers if layer.depthwise]
    assert len(dw) == 17  # one depthwise conv per bottleneck
    assert all("DP" in layer.name for layer in dw)
    assert not any("DP" in layer.name for layer in w.layers if not layer.depthwise)
    for layer in dw:
        g = layer.as_gemm()
        assert g.groups == layer.channels
        assert g.k == 9  # 3x3 window over one channel
        assert g.n == 1
    first = dw[0]
    assert first.channels == 32 and first.as_gemm().m == 112 * 112
    # Channels of the last depthwise: 160 * 6 = 960 at 7x7.
    assert dw[-1].channels == 960 and dw[-1].ofmap_dims() == (7, 7)
    # 1 stem + 17 bottlenecks x 3 - 1 (no expansion when t=1) + last 1x1 + classifier.
    assert len(w.layers) == 53


def test_bert_base_macs_closed_form():
    seq, hidden, heads, head_dim, ffn = 512, 768, 12, 64, 3072
    expected = (
        4 * seq * hidden * hidden  # Q, K, V and output projections
        + 2 * heads * seq * seq * head_dim  # scores and context, per head
        + 2 * seq * hidden * ffn  # FFN up and down
    )
    assert expected == 4 * 512 * 768 * 768 + 2 * 12 * 512 * 512 * 64 + 2 * 512 * 768 * 3072
    w = load_network("bert_base")
    assert w.macs == expected
    assert all(isinstance(layer, Gemm) for layer in w.layers)
    assert len(w.layers) == 3 + 2 * heads + 3
    by_name = {g.name: g for g in w.layers}
    assert (by_name["attn_scores_h0"].m, by_name["attn_scores_h0"].n,
            by_name["attn_scores_h0"].k) == (512, 512, 64)
    assert (by_name["attn_context_h11"].m, by_name["attn_context_h11"].n,
            by_name["attn_context_h11"].k) == (512, 64, 512)
    assert (by_name["ffn_up"].n, by_name["ffn_up"].k) == (3072, 768)


@pytest.mark.parametrize("alias", ["bert-base", "bert_base", "BERT", "bert"])
def test_bert_aliases(alias):
    assert load_network(alias).name == "bert-base"


def test_all_shipped_networks_load():
    for name in NETWORKS:
        w = load_network(name)
        assert isinstance(w, Workload) and w.layers
        cols = w.columns()
        assert set(cols) == {"m", "n", "k", "groups"}
        assert all(c.dtype == np.int64 and len(c) == len(w.layers) for c in cols.values())


def test_unknown_network_lists_allowed_names():
    with pytest.raises(ConfigError) as exc:
        load_network("vgg16")
    msg = str(exc.value)
    assert "vgg16" in msg
    for name in NETWORKS:
        assert name in msg


# --------------------------------------------------------------------------- CSV tolerance


def _write(tmp_path, text, name="topo.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("trail", [",", ""])
def test_conv_csv_with_and_without_trailing_commas(tmp_path, trail):
    text = (
        f"{CONV_HEADER.rstrip(',')}{trail}\n"
        f"c1, 10, 12, 3, 3, 4, 8, 1{trail}\n"
        "\n"
        f"c2_DP, 10, 10, 3, 3, 6, 1, 2{trail}\n"
        "   \n"
    )
    w = load_topology(_write(tmp_path, text))
    assert w.name == "topo"
    assert w.layer_names == ["c1", "c2_DP"]
    c1, c2 = w.layers
    assert isinstance(c1, ConvLayer) and not c1.depthwise
    assert (c1.ifmap_h, c1.ifmap_w, c1.filter_h, c1.filter_w, c1.channels, c1.num_filters,
            c1.stride) == (10, 12, 3, 3, 4, 8, 1)
    assert c1.macs == 8 * 10 * 8 * 3 * 3 * 4  # (10-3+1) x (12-3+1) pixels, 8 filters, 36 taps
    assert c2.depthwise
    g2 = c2.as_gemm()
    assert (g2.m, g2.n, g2.k, g2.groups) == (4 * 4, 1, 9, 6)


@pytest.mark.parametrize("trail", [",", ""])
def test_gemm_csv_header_detection(tmp_path, trail):
    text = f"Layer, M, N, K{trail}\n\ng1, 4, 5, 6{trail}\ng2, 7, 8, 9{trail}\n"
    w = load_topology(_write(tmp_path, text))
    assert all(isinstance(layer, Gemm) for layer in w.layers)
    assert [(g.m, g.n, g.k) for g in w.layers] == [(4, 5, 6), (7, 8, 9)]
    assert w.macs == 4 * 5 * 6 + 7 * 8 * 9


def test_explicit_format(tmp_path):
    # A header that names neither format: the explicit fmt decides.
    text = "name,a,b,c,\nx, 2, 3, 4,\n"
    w = load_topology(_write(tmp_path, text), fmt="gemm", name="custom")
    assert w.name == "custom"
    assert (w.layers[0].m, w.layers[0].n, w.layers[0].k) == (2, 3, 4)
    conv_text = "name,a,b,c,d,e,f,g,\nx, 5, 5, 3, 3, 2, 4, 1,\n"
    w = load_topology(_write(tmp_path, conv_text, "c.csv"), fmt="conv")
    assert isinstance(w.layers[0], ConvLayer)
    # Forcing conv onto a GEMM file fails on the row width.
    with pytest.raises(ConfigError, match="line 2"):
        load_topology(_write(tmp_path, text, "g.csv"), fmt="conv")


def test_bad_format_argument(tmp_path):
    with pytest.raises(ConfigError, match="auto, conv, gemm"):
        load_topology(_write(tmp_path, "Layer, M, N, K,\ng, 1, 1, 1,\n"), fmt="csv")


def test_text_argument_skips_file(tmp_path):
    w = load_topology(tmp_path / "absent.csv", text="Layer, M, N, K,\ng, 2, 2, 2,\n")
    assert w.macs == 8 and w.name == "absent"


def test_sparsity_1_to_1_accepted(tmp_path):
    text = "Layer, M, N, K, Sparsity,\ng, 2, 3, 4, 1:1,\n"
    assert load_topology(_write(tmp_path, text)).macs == 24
    conv = f"{CONV_HEADER} Sparsity,\nc, 5, 5, 3, 3, 2, 4, 1, 1:1,\n"
    assert load_topology(_write(tmp_path, conv, "c.csv")).layers[0].num_filters == 4


# --------------------------------------------------------------------------- errors


def _error(tmp_path, text, fmt="auto"):
    path = _write(tmp_path, text, "bad_topo.csv")
    with pytest.raises(ConfigError) as exc:
        load_topology(path, fmt)
    return str(exc.value)


def test_error_non_integer_field(tmp_path):
    msg = _error(tmp_path, "Layer, M, N, K,\ng1, 4, 5, 6,\ng2, 4, five, 6,\n")
    assert "bad_topo.csv" in msg and "line 3" in msg and "N" in msg and "five" in msg


def test_error_zero_field(tmp_path):
    msg = _error(tmp_path, f"{CONV_HEADER}\n\nc, 10, 10, 3, 3, 0, 8, 1,\n")
    assert "bad_topo.csv" in msg and "line 3" in msg and "Channels" in msg


def test_error_negative_field(tmp_path):
    msg = _error(tmp_path, f"{CONV_HEADER}\nc, 10, 10, 3, 3, 2, 8, -1,\n")
    assert "line 2" in msg and "Strides" in msg


def test_error_too_few_fields(tmp_path):
    msg = _error(tmp_path, "Layer, M, N, K,\ng, 4, 5,\n")
    assert "bad_topo.csv" in msg and "line 2" in msg and "K" in msg
    msg = _error(tmp_path, f"{CONV_HEADER}\nc, 10, 10, 3, 3, 2, 8,\n")
    assert "line 2" in msg and "Strides" in msg


def test_error_filter_larger_than_ifmap(tmp_path):
    msg = _error(tmp_path, f"{CONV_HEADER}\nok, 8, 8, 3, 3, 2, 4, 1,\nbig, 4, 4, 5, 5, 2, 4, 1,\n")
    assert "bad_topo.csv" in msg and "line 3" in msg and "filter" in msg and "big" in msg


def test_error_unsupported_sparsity(tmp_path):
    msg = _error(tmp_path, "Layer, M, N, K, Sparsity,\ng, 4, 5, 6, 2:4,\n")
    assert "bad_topo.csv" in msg and "line 2" in msg and "sparsity" in msg and "2:4" in msg
    msg = _error(tmp_path, f"{CONV_HEADER} Sparsity,\nc, 5, 5, 3, 3, 2, 4, 1, 2:4,\n")
    assert "line 2" in msg and "2:4" in msg


def test_error_missing_file(tmp_path):
    path = tmp_path / "nope.csv"
    with pytest.raises(ConfigError, match="nope.csv"):
        load_topology(path)


@pytest.mark.parametrize("text", ["", "\n\n", f"{CONV_HEADER}\n", "Layer, M, N, K,\n\n  \n"])
def test_error_header_only(tmp_path, text):
    msg = _error(tmp_path, text)
    assert "bad_topo.csv" in msg and "header" in msg


# --------------------------------------------------------------------------- parse_gemm


@pytest.mark.parametrize(
    "text, dims",
    [("64,32,16", (64, 32, 16)), (" 64 , 32 , 16 ", (64, 32, 16)), ("8x4x2", (8, 4, 2))],
)
def test_parse_gemm_good(text, dims):
    g = parse_gemm(text)
    assert (g.m, g.n, g.k, g.groups) == (*dims, 1)
    assert g.macs == dims[0] * dims[1] * dims[2]
    assert parse_gemm(text, name="mine").name == "mine"


@pytest.mark.parametrize("text", ["", "1,2", "1,2,3,4", "0,2,3", "-1,2,3", "a,b,c", "1.5,2,3"])
def test_parse_gemm_bad(text):
    with pytest.raises(ConfigError, match="M,N,K"):
        parse_gemm(text)


def test_direct_construction_errors():
    with pytest.raises(ConfigError, match="M"):
        Gemm("g", 0, 1, 1)
    with pytest.raises(ConfigError, match="stride"):
        ConvLayer("c", 5, 5, 3, 3, 1, 1, stride=0)
    with pytest.raises(ConfigError, match="fit"):
        ConvLayer("c", 2, 5, 3, 3, 1, 1)
    with pytest.raises(ConfigError, match="no layers"):
        Workload.of("empty", [])


# --------------------------------------------------------------------------- im2col


@pytest.mark.parametrize(
    "h, w, ch, fh, fw, nf, stride",
    [(7, 9, 3, 3, 3, 5, 1), (11, 8, 2, 3, 2, 4, 2), (10, 10, 4, 5, 5, 3, 3), (6, 6, 1, 1, 1, 2, 1)],
)
def test_conv_as_gemm_matches_golden_im2col(h, w, ch, fh, fw, nf, stride):
    rng = np.random.default_rng(1234 + h * 31 + stride)
    ifmap = rng.integers(-128, 128, size=(h, w, ch))
    cols = im2col(ifmap, fh, fw, stride)
    g = ConvLayer("c", h, w, fh, fw, ch, nf, stride).as_gemm()
    assert (g.m, g.k) == cols.shape
    assert g.n == nf and g.groups == 1
    # Depthwise: each channel is its own GEMM with a one-channel window.
    dw = ConvLayer("c_DP", h, w, fh, fw, ch, 1, stride, depthwise=True).as_gemm()
    per_channel = im2col(ifmap[:, :, :1], fh, fw, stride)
    assert (dw.m, dw.k) == per_channel.shape
    assert dw.groups == ch and dw.n == 1


def test_parse_gemm_non_ascii_digits():
    # '²'.isdigit() is True but int('²') fails: must still be a ConfigError.
    with pytest.raises(ConfigError, match="M,N,K"):
        parse_gemm("²,2,3")


def test_error_binary_file(tmp_path):
    path = tmp_path / "binary.csv"
    path.write_bytes(b"\xff\xfe\x00\x81 not text")
    with pytest.raises(ConfigError, match="binary.csv"):
        load_topology(path)
