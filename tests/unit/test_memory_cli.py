"""``hwsim model dram|flash|gpu``: JSON keys, exit codes and one-line errors."""

from __future__ import annotations

import json

import pytest

from hwsim.cli import main


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_dram_json_keys(capsys):
    code, out, err = _run(capsys, "model", "dram", "--preset", "DDR5-4800", "--pattern",
                          "random", "--bytes", "65536", "--json")
    assert code == 0, err
    data = json.loads(out)
    for key in ("bandwidth_gbps", "peak_bandwidth_gbps", "latency_ns", "row_hit_rate",
                "seconds", "energy_pj"):
        assert key in data
    assert data["peak_bandwidth_gbps"] == pytest.approx(38.4)


def test_dram_cycle_fidelity_and_mapping(capsys):
    code, out, err = _run(capsys, "model", "dram", "--pattern", "sequential", "--bytes",
                          "32768", "--mapping", "RoBaRaCoCh", "--fidelity", "cycle", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["fidelity"] == "cycle" and data["mapping"] == "RoBaRaCoCh"
    assert data["bandwidth_gbps"] < 25.6


def test_dram_table_output(capsys):
    code, out, _ = _run(capsys, "model", "dram", "--bytes", "4096")
    assert code == 0 and "bandwidth_gbps" in out


def test_flash_and_gpu(capsys):
    code, out, err = _run(capsys, "model", "flash", "--preset", "InstInfer-CSD", "--json")
    assert code == 0, err
    assert json.loads(out)["internal_read_gbps"] == pytest.approx(11.2)
    code, out, err = _run(capsys, "model", "gpu", "--preset", "H100-SXM", "--decode-attention",
                          "8,32,4096,128", "--kv-heads", "8", "--json")
    assert code == 0, err
    assert json.loads(out)["bound"] == "memory"
    code, out, err = _run(capsys, "model", "gpu", "--gemm", "4096,4096,4096", "--dtype", "bf16")
    assert code == 0, err


def test_dram_overrides_and_seed_zero_are_applied(capsys):
    # 2 channels x 64 bit x 3200 MT/s = 51.2 GB/s (JESD79-4 DDR4-3200 data rate)
    code, out, err = _run(capsys, "model", "dram", "--channels", "2", "--ranks", "2",
                          "--pattern", "random", "--seed", "0", "--bytes", "65536", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["peak_bandwidth_gbps"] == pytest.approx(2 * 64 / 8 * 3.2)
    assert data["internal_bandwidth"]["rank_gbps"] == pytest.approx(2 * 2 * 64 / 8 * 3.2)


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["dram", "--preset", "DDR9"], "preset must be one of DDR4-3200"),
        (["dram", "--pattern", "zigzag"], "pattern must be one of sequential"),
        (["dram", "--mapping", "RoCh"], "mapping must order the fields"),
        (["dram", "--bytes", "0"], "bytes must be an integer in [1, 9007199254740992]"),
        (["dram", "--pattern", "strided"], "stride_bytes is required"),
        # a negative seed reached numpy's SeedSequence: a ValueError traceback, exit 1
        (["dram", "--seed", "-1", "--pattern", "random"], "seed must be an integer >= 0, got -1"),
        (["dram", "--seed", "-1", "--read-fraction", "0.5", "--fidelity", "cycle", "--bytes",
          "4096"], "seed must be an integer >= 0, got -1"),
        # zero and empty overrides used to fall back to the preset's values (truthiness)
        (["dram", "--channels", "0"], "channels must be an integer in [1, 4096], got 0"),
        (["dram", "--ranks", "0"], "ranks must be an integer in [1, 64], got 0"),
        (["dram", "--channels", "3"], "channels must be a power of two"),
        (["dram", "--mapping", ""], "mapping must order the fields"),
        (["dram", "--stride-bytes", ""], "stride_bytes must be an integer in [1, 1099511627776]"),
        (["dram", "--pattern", "strided", "--stride-bytes", "-64"],
         "stride_bytes must be an integer in [1, 1099511627776], got '-64'"),
        # int64 overflow in the address arithmetic
        (["dram", "--pattern", "strided", "--stride-bytes", str(1 << 70)],
         "stride_bytes must be an integer in [1, 1099511627776]"),
        (["dram", "--bytes", str(1 << 90)], "bytes must be an integer in [1, 9007199254740992]"),
        (["dram", "--bytes", "inf"], "bytes must be an integer in [1, 9007199254740992]"),
        (["dram", "--bytes", "nan"], "bytes must be an integer in [1, 9007199254740992]"),
        (["dram", "--bytes", "-4096"], "bytes must be an integer in [1, 9007199254740992]"),
        (["dram", "--read-fraction", "1.5"], "read_fraction must be a number in [0, 1], got 1.5"),
        (["dram", "--read-fraction", "-0.1"], "read_fraction must be a number in [0, 1]"),
        (["dram", "--read-fraction", "nan"], "read_fraction must be a number in [0, 1], got nan"),
        (["dram", "--read-fraction", "inf"], "read_fraction must be a number in [0, 1], got inf"),
        (["dram", "--queue-depth", "0"], "queue_depth must be an integer in [1, 1024], got 0"),
        (["dram", "--page-policy", ""], "page_policy must be one of open, closed"),
        (["dram", "--scheduler", "lifo"], "scheduler must be one of fr-fcfs, fcfs"),
        (["flash", "--preset", "x"], "preset must be one of InstInfer-CSD"),
        (["gpu", "--preset", "V100", "--gemm", "1,1,1"], "preset must be one of A100-80GB"),
        (["gpu", "--gemm", "1,2"], "gemm must be M,N,K"),
        # an empty --gemm was falsy and fell through to --decode-attention (AttributeError)
        (["gpu", "--gemm", ""], "gemm must be M,N,K"),
        (["gpu", "--decode-attention", f"{1 << 70},2,3,4"],
         "B must be an integer in [1, 2147483647]"),
        (["gpu", "--decode-attention", "1,32,4,8", "--kv-heads", "0"],
         "kv_heads must be an integer >= 1, got 0"),
        (["gpu", "--decode-attention", "1,2,3"], "decode_attention must be B,H,L,D"),
        (["gpu", "--preset", "A100-80GB", "--gemm", "1,1,1", "--dtype", "fp8"],
         "dtype must be one of fp32, fp16, bf16, int8"),
        (["gpu"], "one of the arguments --gemm --decode-attention is required"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, argv, needle):
    code, out, err = _run(capsys, "model", *argv)
    assert code == 2, err
    assert needle in err, err
    assert len(err.strip().splitlines()) == 1, err
