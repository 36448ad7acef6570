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


# ---- --config files ----------------------------------------------------------------------


def test_dram_config_file_is_laid_over_the_preset_and_flags_win(capsys, tmp_path):
    cfg = tmp_path / "dram.yaml"
    cfg.write_text("channels: 4\nranks: 2\n")
    code, out, err = _run(capsys, "model", "dram", "--config", str(cfg), "--bytes", "4096",
                          "--json")
    assert code == 0, err
    data = json.loads(out)
    # 4 channels x 64 bit x 3200 MT/s = 102.4 GB/s; 2 ranks each at full rate: 204.8 GB/s
    assert data["peak_bandwidth_gbps"] == pytest.approx(4 * 25.6)
    assert data["internal_bandwidth"]["rank_gbps"] == pytest.approx(8 * 25.6)
    code, out, err = _run(capsys, "model", "dram", "--config", str(cfg), "--channels", "1",
                          "--bytes", "4096", "--json")
    assert code == 0, err
    assert json.loads(out)["peak_bandwidth_gbps"] == pytest.approx(25.6)


def test_flash_and_gpu_config_files(capsys, tmp_path):
    flash = tmp_path / "flash.json"
    flash.write_text('{"channels": 4}')
    code, out, err = _run(capsys, "model", "flash", "--config", str(flash), "--json")
    assert code == 0, err
    # per channel min(1.4 GB/s bus, 4 dies * 32 KiB / (45 us + 32768 B / 1400 MB/s)) =
    # min(1.4, 1.916) GB/s: 4 channels -> 5.6 GB/s
    assert json.loads(out)["internal_read_gbps"] == pytest.approx(5.6)
    gpu = tmp_path / "gpu.yaml"
    gpu.write_text("memory-gbps: 1000\n")  # dashes are accepted as in the other configs
    code, out, err = _run(capsys, "model", "gpu", "--config", str(gpu), "--gemm",
                          "4096,4096,4096", "--json")
    assert code == 0, err
    # fp16 bytes (MK + KN + MN) * 2 = 100663296 B over 1000 GB/s * 0.85 (AttAcc cap)
    assert json.loads(out)["memory_seconds"] == pytest.approx(100663296 / (1000e9 * 0.85))


def test_dram_energies_can_replace_the_datasheet_currents(capsys, tmp_path):
    cfg = tmp_path / "energy.yaml"
    cfg.write_text("vdd_v: null\nact_energy_pj: 1000\n")
    code, out, err = _run(capsys, "model", "dram", "--config", str(cfg), "--pattern", "random",
                          "--bytes", "65536", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["energy_breakdown"]["activate_pj"] == pytest.approx(1000 * data["activates_count"])


# ---- energy breakdown -------------------------------------------------------------------


def test_dram_energy_breakdown_all_writes(capsys):
    code, out, err = _run(capsys, "model", "dram", "--read-fraction", "0", "--bytes", "65536",
                          "--json")
    assert code == 0, err
    data = json.loads(out)
    parts = data["energy_breakdown"]
    # DDR4-3200 IDD values (test_memory_energy.py): a write burst costs
    # 8 chips * 1.2 V * (150 - 52) mA * 2.5 ns = 2352 pJ; background 8 * 1.2 * 52 = 499.2 mW
    assert data["requests_count"] == 1024
    assert parts["read_pj"] == 0
    assert parts["write_pj"] == pytest.approx(1024 * 2352)
    assert parts["background_pj"] == pytest.approx(499.2 * data["seconds"] * 1e9)
    # the timing model's energy_pj counts the commands only
    commands = parts["activate_pj"] + parts["read_pj"] + parts["write_pj"] + parts["refresh_pj"]
    assert commands == pytest.approx(data["energy_pj"])
    assert data["total_energy_pj"] == pytest.approx(commands + parts["background_pj"])


@pytest.mark.parametrize("fidelity", ["analytical", "cycle"])
def test_dram_energy_breakdown_counts_every_request(capsys, fidelity, seed):
    code, out, err = _run(capsys, "model", "dram", "--read-fraction", "0.5", "--pattern",
                          "random", "--seed", str(seed), "--bytes", "32768", "--fidelity",
                          fidelity, "--json")
    assert code == 0, err
    data = json.loads(out)
    parts = data["energy_breakdown"]
    reads, writes = parts["read_pj"] / 2784, parts["write_pj"] / 2352  # pJ per burst, by hand
    assert reads + writes == pytest.approx(data["requests_count"]), f"seed={seed}"
    assert 0 < writes < data["requests_count"], f"seed={seed}"
    assert parts["activate_pj"] == pytest.approx(4200 * data["activates_count"]), f"seed={seed}"


# ---- --pim ------------------------------------------------------------------------------


def test_dram_pim_reports_peak_and_sustained_bandwidth(capsys):
    code, out, err = _run(capsys, "model", "dram", "--pim", "--channels", "16", "--ranks", "4",
                          "--pim-row-bytes", "64", "--json")
    assert code == 0, err
    data = json.loads(out)
    # CHIME host: peak 409.6 / 1638.4 / 13107.2 GB/s; 64-byte visits are tFAW-bound:
    # 64 ranks * 8 chips * 64 B per 8.5 nCK * 0.625 ns = 6168.1 GB/s (test_memory_pim.py)
    assert data["channel_gbps"] == pytest.approx(409.6)
    assert data["bank_gbps"] == pytest.approx(13107.2)
    assert data["sustained_gbps"] == pytest.approx(64 * 8 * 64 / (8.5 * 0.625))
    assert data["binding"] == "activate"
    for key in data:  # every number's name states its unit or is a count/ratio
        if isinstance(data[key], float):
            assert key.endswith(("_gbps", "_cycles", "_w", "_pj_per_byte")) or key in (
                "utilization",), key
    code, out, err = _run(capsys, "model", "dram", "--pim", "--channels", "16", "--ranks", "4",
                          "--power-cap-w", "100", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["binding"] == "power"
    assert data["sustained_gbps"] == pytest.approx(100e3 / (4200 / 8192 + 8 * 2784 / 512))


def test_dram_pim_table_output(capsys):
    code, out, _ = _run(capsys, "model", "dram", "--pim")
    assert code == 0 and "sustained_gbps" in out


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["--stride-bytes", "64"],
         "stride_bytes applies only to --pattern strided, got --pattern sequential"),
        (["--pattern", "random", "--stride-bytes", "128"],
         "stride_bytes applies only to --pattern strided, got --pattern random"),
        (["--pim", "--stride-bytes", "64"], "stride_bytes applies only to --pattern strided"),
        (["--pim-row-bytes", "64"], "pim_row_bytes applies only with --pim"),
        (["--power-cap-w", "10"], "power_cap_w applies only with --pim"),
        (["--pim", "--pim-row-bytes", "12"], "pim_row_bytes must be a multiple of the chip burst"),
        (["--pim", "--pim-row-bytes", "4096"], "pim_row_bytes must be a multiple"),
        (["--pim", "--pim-row-bytes", "x"], "pim_row_bytes must be an integer >= 1"),
        (["--pim", "--power-cap-w", "0"], "power_cap_w must be a finite number > 0, got '0'"),
        (["--pim", "--power-cap-w", "nan"], "power_cap_w must be a finite number > 0"),
        (["--pim", "--power-cap-w", "inf"], "power_cap_w must be a finite number > 0"),
    ],
)
def test_dram_flag_misuse_is_one_line_and_exit_2(capsys, argv, needle):
    code, out, err = _run(capsys, "model", "dram", *argv)
    assert code == 2, err
    assert needle in err, err
    assert len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize(
    "unit,text,needle",
    [
        ("dram", "chanels: 2\n", "unknown field 'chanels' for dram; allowed: name, channels"),
        ("dram", "channels: 3\n", "channels must be a power of two"),
        ("dram", "channels: two\n", "channels must be an integer in [1, 4096], got 'two'"),
        ("dram", "act_energy_pj: 100\n",
         "act_energy_pj is derived from the datasheet currents (vdd_v, idd*_ma) of DDR4-3200; "
         "set vdd_v: null"),
        ("dram", "idd4r_ma: 10\n", "idd4r_ma must be > idd3n_ma (52)"),
        ("dram", "- 1\n- 2\n", "expected a mapping of field: value, got list"),
        ("dram", "channels: 1\nchannels: 2\n", "duplicate key 'channels'"),
        ("dram", "channels: [1\n", "not valid YAML/JSON"),
        ("flash", "dies: 4\n", "unknown field 'dies' for flash"),
        ("flash", "link: pcie9\n", "link must be one of"),
        ("gpu", "memory_gbps: 0\n", "memory_gbps must be a number >= 1"),
    ],
)
def test_bad_config_files_are_one_line_and_exit_2(capsys, tmp_path, unit, text, needle):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(text)
    extra = ["--gemm", "1,1,1"] if unit == "gpu" else []
    code, out, err = _run(capsys, "model", unit, "--config", str(cfg), *extra)
    assert code == 2, err
    assert needle in err, err
    assert str(cfg) in err, err  # the message names the file
    assert len(err.strip().splitlines()) == 1, err


def test_missing_config_file_is_one_line_and_exit_2(capsys, tmp_path):
    code, out, err = _run(capsys, "model", "dram", "--config", str(tmp_path / "nope.yaml"))
    assert code == 2, err
    assert "cannot read config file" in err and len(err.strip().splitlines()) == 1, err
