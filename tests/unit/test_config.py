"""ConfigBase: validation, file formats, unknown/duplicate keys, fingerprints."""

from __future__ import annotations

import dataclasses
import json

import pytest

from hwsim.accelerators.systolic import SystolicConfig
from hwsim.config import ConfigError


def test_defaults_are_valid_and_frozen():
    cfg = SystolicConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.rows = 3  # type: ignore[misc]


def test_yaml_and_json_round_trip(tmp_path):
    cfg = SystolicConfig(rows=3, cols=5, dataflow="ws", in_width_bits=5, acc_width_bits=17)
    yaml_path = tmp_path / "a.yaml"
    yaml_path.write_text(cfg.to_yaml())
    json_path = tmp_path / "a.json"
    json_path.write_text(cfg.to_json())
    assert SystolicConfig.from_file(yaml_path) == cfg
    assert SystolicConfig.from_file(json_path) == cfg


def test_kebab_case_keys_accepted():
    cfg = SystolicConfig.from_dict({"in-width-bits": 4, "acc_width_bits": 12})
    assert (cfg.in_width_bits, cfg.acc_width_bits) == (4, 12)


@pytest.mark.parametrize(
    ("text", "suffix", "needle"),
    [
        ("rows: 4\nrowz: 5\n", ".yaml", "unknown field 'rowz'"),
        ("rows: 4\nrows: 5\n", ".yaml", "duplicate key 'rows'"),
        ('{"rows": 4, "rows": 5}', ".json", "duplicate key 'rows'"),
        ("rows: [4\n", ".yaml", "not valid YAML/JSON"),
        ("- 4\n- 5\n", ".yaml", "expected a mapping"),
        ("rows: four\n", ".yaml", "rows must be an integer"),
        ("rows: true\n", ".yaml", "rows must be an integer"),
        ("rows: 2.5\n", ".yaml", "rows must be an integer"),
        ("dataflow: rs\n", ".yaml", "dataflow must be one of os, ws, is"),
        ("ifmap_sram_kib: -1\n", ".yaml", "ifmap_sram_kib must be a number >= 0"),
    ],
)
def test_bad_files_name_the_problem(tmp_path, text, suffix, needle):
    path = tmp_path / f"cfg{suffix}"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        SystolicConfig.from_file(path)
    message = str(info.value)
    assert needle in message
    assert str(path) in message
    assert "\n" not in message


def test_unknown_field_lists_allowed_fields():
    with pytest.raises(ConfigError, match="allowed: rows, cols, dataflow"):
        SystolicConfig.from_dict({"row": 1})


def test_missing_file():
    with pytest.raises(ConfigError, match="cannot read config file"):
        SystolicConfig.from_file("/nonexistent/cfg.yaml")


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"rows": 0}, "rows must be an integer in [1, 4096], got 0"),
        ({"cols": -3}, "cols must be an integer in [1, 4096]"),
        ({"in_width_bits": 1}, "in_width_bits must be an integer in [2, 32], got 1"),
        (
            {"in_width_bits": 8, "acc_width_bits": 15},
            "acc_width_bits must be >= 2 * in_width_bits = 16",
        ),
        ({"dram_bytes_per_cycle": 0}, "dram_bytes_per_cycle must be a number"),
        ({"dram_bytes_per_cycle": float("nan")}, "dram_bytes_per_cycle must be a finite number"),
        ({"ifmap_sram_kib": float("inf")}, "ifmap_sram_kib must be a finite number"),
    ],
)
def test_bad_values(changes, needle):
    with pytest.raises(ConfigError) as info:
        SystolicConfig(**changes)
    assert needle in str(info.value)


def test_replace_validates():
    with pytest.raises(ConfigError, match="rows"):
        SystolicConfig().replace(rows=0)


def test_fingerprint_stable_and_sensitive():
    a = SystolicConfig(rows=4, cols=4)
    assert a.fingerprint() == SystolicConfig(rows=4, cols=4).fingerprint()
    assert len(a.fingerprint()) == 12
    # Every field takes part: changing any one changes the fingerprint.
    changed = {
        "rows": 5,
        "cols": 5,
        "dataflow": "ws",
        "in_width_bits": 4,
        "acc_width_bits": 31,
        "ifmap_sram_kib": 1.0,
        "filter_sram_kib": 1.0,
        "ofmap_sram_kib": 1.0,
        "dram_bytes_per_cycle": 1.0,
        "energy_table": "x.yaml",
    }
    assert set(changed) == set(SystolicConfig.field_names())
    prints = {a.replace(**{k: v}).fingerprint() for k, v in changed.items()}
    assert len(prints) == len(changed) and a.fingerprint() not in prints
    # ints given for float fields do not change the identity
    assert SystolicConfig(ifmap_sram_kib=256).fingerprint() == SystolicConfig().fingerprint()


def test_to_json_is_plain_data():
    data = json.loads(SystolicConfig(rows=2).to_json())
    assert data["rows"] == 2 and data["dataflow"] == "os"
