"""Terminal output helpers shared by the CLI commands."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

__all__ = ["console", "layer_progress"]


def console() -> Console:
    """A rich console; wide enough when piped (a file or CI log has no terminal width)."""
    return Console(width=None if sys.stdout.isatty() else 160, highlight=False)


@contextmanager
def layer_progress(total: int, description: str) -> Iterator[Callable[[], None]]:
    """A progress bar on stderr (done/total, elapsed, ETA); yields a function to call per item.

    Shown only on a terminal, so logs and JSON on stdout stay clean.
    """
    err = Console(stderr=True)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task(description, total=total)
        yield lambda: bar.advance(task)
