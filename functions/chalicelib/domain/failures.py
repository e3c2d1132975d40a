"""Records a batch job skipped: one bad record never blocks the others.

The segment backfill, the nightly scores, the hourly recheck and the stream redrive each
handle one record at a time; a record that raises is skipped, reported (which one, by
its ids, and why) and the job carries on with the rest. The next run, or the stream when
the record changes, tries it again. Reasons never carry personal data: quoted values,
email addresses and long digit runs (phones) are left out of exception messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_REPORTED = 20  # the first ones, in full; the count covers them all
_HIDDEN = re.compile(r"'[^']*'|\"[^\"]*\"|\S+@\S+|\+?\d[\d ()-]{6,}\d")


def reason(exc: BaseException) -> str:
    """`Type: message`, without the values the message quotes."""
    message = _HIDDEN.sub("'…'", str(exc))
    return f"{type(exc).__name__}: {message}"[:200] if message else type(exc).__name__


@dataclass
class Skipped:
    """What a run skipped: a count, and the first MAX_REPORTED with their reasons."""

    count: int = 0
    records: list[dict[str, str]] = field(default_factory=list)
    _seen: set[tuple[tuple[str, str], ...]] = field(default_factory=set)

    def add(self, exc: BaseException, **ids: str) -> None:
        """Count a record once, however many passes of the run it failed in."""
        key = tuple(sorted(ids.items()))
        if key in self._seen:
            return
        self._seen.add(key)
        self.count += 1
        if len(self.records) < MAX_REPORTED:
            self.records.append({**ids, "reason": reason(exc)})

    def report(self) -> dict[str, object]:
        return {"failed": self.count, "failures": list(self.records)}

    def report_if_any(self) -> dict[str, object]:
        """The report for a job's result: nothing when nothing was skipped."""
        return self.report() if self.count else {}
