"""Terminal output helpers shared by the CLI commands."""

from __future__ import annotations

import sys

from rich.console import Console

__all__ = ["console"]


def console() -> Console:
    """A rich console; wide enough when piped (a file or CI log has no terminal width)."""
    return Console(width=None if sys.stdout.isatty() else 160, highlight=False)
