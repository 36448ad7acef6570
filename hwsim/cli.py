"""The ``hwsim`` command.

Units plug in by module path (see :data:`UNIT_COMMANDS`), imported only when used, so the core
never imports the accelerators or the HDL stack. Every bad input becomes one line on stderr
and exit code 2; a model run that succeeds exits 0.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

from hwsim import __version__
from hwsim.config import ConfigBase, ConfigError

__all__ = [
    "main",
    "OneLineParser",
    "UNIT_COMMANDS",
    "TOP_COMMANDS",
    "EXIT_BAD_INPUT",
    "add_config_flags",
]

EXIT_BAD_INPUT = 2

#: Modules whose ``register(units)`` adds ``hwsim model <unit>`` sub-commands.
UNIT_COMMANDS = (
    "hwsim.accelerators.systolic.cli",
    "hwsim.accelerators.engines.cli",
    "hwsim.memory.cli",
)
#: Modules whose ``register(commands)`` adds top-level commands (``sweep``, ``rtl``, ...).
TOP_COMMANDS = (
    "hwsim.sweep_cli",
    "hwsim.rtl.cli",
    "hwsim.verification.cli",
    "hwsim.verification.reproduce_tpe",
)


def _import_plugin(module_name: str):
    """Import a command module; one still being written (not yet in the tree) is skipped."""
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return None
        raise


class OneLineParser(argparse.ArgumentParser):
    """An argparse parser whose errors are one line and exit code 2 (no usage dump)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see --help)\n")


def add_config_flags(
    parser: argparse.ArgumentParser, config_cls: type[ConfigBase], title: str | None = None
) -> None:
    """One ``--kebab-case`` flag per field of ``config_cls`` (default None: "not given").

    Flags carry the field's help, unit, default and choices; values are validated by the
    config itself, so errors read the same whether they come from a flag or a YAML key.
    """
    group = parser.add_argument_group(
        title
        or f"{config_cls.unit_name} ({config_cls.__name__} fields; YAML keys of the same names)"
    )
    for f in dataclasses.fields(config_cls):
        meta = f.metadata
        unit = f" [{meta['unit']}]" if meta.get("unit") else ""
        choices = meta.get("choices")
        group.add_argument(
            "--" + f.name.replace("_", "-"),
            dest=f.name,
            type=_FIELD_TYPES.get(str(f.type), str),
            default=None,
            metavar="|".join(map(str, choices)) if choices else f.name.upper(),
            help=f"{meta.get('help', '')}{unit} (default: {f.default})",
        )


_FIELD_TYPES = {"int": int, "float": float, "str": str}


def build_parser() -> OneLineParser:
    parser = OneLineParser(
        prog="hwsim",
        description="Hardware architecture simulator and RTL co-design toolkit.",
    )
    parser.add_argument("--version", action="version", version=f"hwsim {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    commands.required = True

    model = commands.add_parser("model", help="evaluate a unit's model on a workload")
    units = model.add_subparsers(dest="unit", metavar="UNIT", parser_class=OneLineParser)
    units.required = True
    for module_name in UNIT_COMMANDS:
        module = _import_plugin(module_name)
        if module is not None:
            module.register(units)

    demo = commands.add_parser(
        "demo", help="the main job on embedded defaults: a small design-space study"
    )
    demo.add_argument("--out", default="results", help="folder for the results (default: results)")
    demo.set_defaults(handler=_run_demo)
    for module_name in TOP_COMMANDS:
        module = _import_plugin(module_name)
        if module is not None:
            module.register(commands)
    return parser


def _run_demo(args: argparse.Namespace) -> int:
    from hwsim import demo

    return demo.run(args.out)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hwsim`` command; returns the exit code."""
    parser = build_parser()
    try:
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help, --version and argparse errors (already printed)
            return exc.code if isinstance(exc.code, int) else EXIT_BAD_INPUT
        return int(args.handler(args) or 0)
    except ConfigError as exc:
        print(f"hwsim: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("hwsim: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
