"""Config base: frozen, keyword-only dataclasses that validate themselves.

Every unit has one config class derived from :class:`ConfigBase`. Fields are declared with
:func:`param`, which records the help text, the unit and the allowed values; the base class
checks types and ranges in ``__post_init__`` and subclasses add cross-field rules in
``_validate``. Configs read from YAML or JSON reject unknown and duplicate keys, and every
error is a :class:`ConfigError` whose message names the field and what is allowed, so the CLI
can print it as one line.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Self

import yaml

__all__ = ["ConfigBase", "ConfigError", "param", "load_mapping"]


class ConfigError(ValueError):
    """Bad user input: the message names the field (or file and line) and what is allowed."""


def param(
    default: Any,
    help: str,
    *,
    low: float | None = None,
    high: float | None = None,
    choices: tuple[Any, ...] | None = None,
    unit: str | None = None,
) -> Any:
    """Declare a config field with its default, help text, unit and allowed values.

    ``low``/``high`` are inclusive bounds for numbers; ``choices`` lists allowed values.
    """
    metadata = {"help": help, "low": low, "high": high, "choices": choices, "unit": unit}
    return dataclasses.field(default=default, metadata=metadata)


def _allowed(f: dataclasses.Field, kind: str) -> str:
    meta = f.metadata
    if meta.get("choices"):
        return "one of " + ", ".join(str(c) for c in meta["choices"])
    low, high = meta.get("low"), meta.get("high")
    if low is not None and high is not None:
        return f"{kind} in [{low:g}, {high:g}]"
    if low is not None:
        return f"{kind} >= {low:g}"
    if high is not None:
        return f"{kind} <= {high:g}"
    return kind


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses a mapping with the same key twice."""


def _construct_unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False):
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            line = key_node.start_mark.line + 1
            raise ConfigError(f"duplicate key '{key}' (line {line})")
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping
)


def _json_unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ConfigError(f"duplicate key '{key}'")
        result[key] = value
    return result


def load_mapping(path: str | Path) -> dict[str, Any]:
    """Read a YAML or JSON file holding one mapping; duplicate keys are an error.

    Raises :class:`ConfigError` naming the file for a missing file, bad syntax or a
    top level that is not a mapping.
    """
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file ({exc.strerror})") from None
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(text, object_pairs_hook=_json_unique_pairs)
        else:
            data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - SafeLoader subclass
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"{path}: not valid YAML/JSON: {first_line}") from None
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path}: expected a mapping of field: value, got {type(data).__name__}")
    return dict(data)


@functools.cache
def _field_hints(cls: type) -> dict[str, Any]:
    # Resolving string annotations is costly and sweeps build configs by the thousand.
    return typing.get_type_hints(cls)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConfigBase:
    """Base class of every unit config.

    Subclasses are ``@dataclass(frozen=True, kw_only=True)`` with fields made by :func:`param`.
    Variants are made with :meth:`replace`; presets are module-level instances.
    """

    unit_name: ClassVar[str] = "unit"

    def __post_init__(self) -> None:
        hints = _field_hints(type(self))
        for f in dataclasses.fields(self):
            self._check_field(f, hints[f.name], getattr(self, f.name))
        self._validate()

    def _validate(self) -> None:
        """Cross-field rules; raise :class:`ConfigError` naming the fields."""

    def _check_field(self, f: dataclasses.Field, hint: Any, value: Any) -> None:
        name = f.name
        optional = False
        if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
            args = [a for a in typing.get_args(hint) if a is not type(None)]
            optional = len(args) < len(typing.get_args(hint))
            hint = args[0]
        if value is None and optional:
            return
        if hint is bool:
            if not isinstance(value, bool):
                raise ConfigError(f"{name} must be true or false, got {value!r}")
            return
        if hint is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise ConfigError(f"{name} must be an {_allowed(f, 'integer')}, got {value!r}")
        elif hint is float:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError(f"{name} must be a {_allowed(f, 'number')}, got {value!r}")
            if not math.isfinite(value):
                raise ConfigError(f"{name} must be a finite {_allowed(f, 'number')}, got {value}")
            object.__setattr__(self, name, float(value))
        elif hint is str:
            if not isinstance(value, str):
                raise ConfigError(f"{name} must be {_allowed(f, 'a string')}, got {value!r}")
        meta = f.metadata
        choices = meta.get("choices")
        if choices and value not in choices:
            raise ConfigError(f"{name} must be {_allowed(f, '')}, got {value!r}")
        kind = "an integer" if hint is int else "a number"
        low, high = meta.get("low"), meta.get("high")
        if (low is not None and value < low) or (high is not None and value > high):
            raise ConfigError(f"{name} must be {_allowed(f, kind)}, got {value!r}")

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def field_names(cls) -> list[str]:
        """Names of the config's fields, in declaration order."""
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str | None = None) -> Self:
        """Build a config from a mapping; unknown keys are an error naming the allowed ones.

        Keys may be spelled with ``-`` or ``_``. ``source`` (e.g. a file name) prefixes errors.
        """
        prefix = f"{source}: " if source else ""
        names = cls.field_names()
        values: dict[str, Any] = {}
        for raw_key, value in data.items():
            key = str(raw_key).replace("-", "_")
            if key not in names:
                raise ConfigError(
                    f"{prefix}unknown field '{raw_key}' for {cls.unit_name}; "
                    f"allowed: {', '.join(names)}"
                )
            if key in values:
                raise ConfigError(f"{prefix}duplicate key '{raw_key}'")
            values[key] = value
        try:
            return cls(**values)
        except ConfigError as exc:
            raise ConfigError(f"{prefix}{exc}") from None

    @classmethod
    def from_file(cls, path: str | Path) -> Self:
        """Read a YAML (``.yaml``/``.yml``) or JSON (``.json``) config file."""
        return cls.from_dict(load_mapping(path), source=str(path))

    def replace(self, **changes: Any) -> Self:
        """A copy with some fields changed, validated like any new config."""
        return dataclasses.replace(self, **changes)

    # ---- output -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Field values as plain Python data, in declaration order."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def to_json(self) -> str:
        """The config as a JSON object."""
        return json.dumps(self.to_dict(), indent=2)

    def to_yaml(self) -> str:
        """The config as YAML that :meth:`from_file` reads back."""
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    def fingerprint(self) -> str:
        """A short, stable hash of the unit name and every field (12 hex digits).

        Used for build directories, caches and result rows: equal configs give equal
        fingerprints on any machine and Python version.
        """
        canonical = json.dumps(
            {"unit": self.unit_name, **self.to_dict()}, sort_keys=True, separators=(",", ":")
        )
        return hashlib.sha256(canonical.encode()).hexdigest()[:12]

    @classmethod
    def describe_fields(cls) -> list[dict[str, Any]]:
        """One record per field (name, default, help, unit, allowed values) for docs and CLIs."""
        out = []
        for f in dataclasses.fields(cls):
            out.append({"name": f.name, "default": f.default, **f.metadata})
        return out
