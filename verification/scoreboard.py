"""In-order scoreboard: compares observed stream beats with expected ones, bit-exact.

Plain Python (no cocotb import), so it can be unit-tested and reused by any bench: a monitor
hands each observed beat to :meth:`Scoreboard.observe`; the bench queues the expected beats,
each with a tag saying where it came from (phase, tile, beat index), which a mismatch reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Expected", "Scoreboard"]


@dataclass
class Expected:
    """One expected beat and where it comes from (``tag``: phase, tile, beat ...)."""

    data: list[int]
    last: bool
    tag: dict[str, Any] = field(default_factory=dict)


class Scoreboard:
    """Checks that observed beats equal the expected ones, in order.

    Parameters
    ----------
    name
        Stream name, used in the mismatch records.
    max_details
        How many mismatches to keep in full (all are counted).
    """

    def __init__(self, name: str, max_details: int = 8) -> None:
        self.name = name
        self.max_details = max_details
        self.expected: list[Expected] = []
        self.checked = 0
        self.mismatch_count = 0
        self.mismatches: list[dict[str, Any]] = []
        self.extra: list[dict[str, Any]] = []

    def expect(self, beats: list[Expected]) -> None:
        """Queue expected beats behind those already queued."""
        self.expected.extend(beats)

    @property
    def pending(self) -> int:
        """Expected beats not observed yet."""
        return len(self.expected) - self.checked

    def observe(self, data: list[int], last: bool, cycle: int) -> bool:
        """Compare one observed beat with the next expected one; return whether it matched."""
        if self.checked >= len(self.expected):
            self.mismatch_count += 1
            record = {"stream": self.name, "kind": "extra beat", "got": data, "cycle": cycle}
            self.extra.append(record)
            self._keep(record)
            return False
        want = self.expected[self.checked]
        self.checked += 1
        problems = []
        if list(data) != list(want.data):
            problems.append("data")
        if bool(last) != bool(want.last):
            problems.append("last")
        if not problems:
            return True
        self.mismatch_count += 1
        diff = [i for i, (g, w) in enumerate(zip(data, want.data, strict=False)) if g != w]
        self._keep(
            {
                "stream": self.name,
                "kind": "+".join(problems),
                **want.tag,
                "cycle": cycle,
                "expected": list(want.data),
                "got": list(data),
                "expected_last": want.last,
                "got_last": bool(last),
                "differing_elements": diff,
            }
        )
        return False

    def _keep(self, record: dict[str, Any]) -> None:
        if len(self.mismatches) < self.max_details:
            self.mismatches.append(record)

    def missing(self) -> list[dict[str, Any]]:
        """Tags of expected beats never observed."""
        return [dict(e.tag) for e in self.expected[self.checked :]]

    @property
    def ok(self) -> bool:
        """Every expected beat seen, all equal, nothing extra."""
        return self.mismatch_count == 0 and self.pending == 0
