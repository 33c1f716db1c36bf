"""What the calendar must warn about, and when. Pure.

- A year nobody published (neither the `holidays` package nor an admin's notice): from
  `LEAD` (30 days) before it starts, so that the admins enter the notice before deadlines
  reach into it (from 25 December already, for the New Year's bridge), and for as long as
  it lasts once it has begun.
- A year an admin published that the library now carries differently: the admin's days
  stand until an admin accepts the library's version.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

LEAD = dt.timedelta(days=30)  # a year's missing notice is announced this long before it starts
REFUSING_FROM = (12, 25)  # deadlines into the next year are refused from this day (month, day)

WarningKind = Literal["unpublished", "conflict"]


@dataclass(frozen=True)
class Warning:
    kind: WarningKind
    country: str
    year: int
    days_left: int | None = None  # unpublished: days until the year starts (0 once it has)
    differences: tuple[dt.date, ...] = ()  # conflict: the days the two sources disagree on

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.country}:{self.year}"


def unpublished(today: dt.date, known: Collection[int], country: str) -> list[Warning]:
    """This year if nobody published it; next year once it is at most LEAD away."""
    found = []
    if today.year not in known:
        found.append(Warning("unpublished", country, today.year, days_left=0))
    starts = dt.date(today.year + 1, 1, 1)
    if today.year + 1 not in known and starts - today <= LEAD:
        found.append(Warning("unpublished", country, today.year + 1, (starts - today).days))
    return found


def conflicts(country: str, differences: Mapping[int, Sequence[dt.date]]) -> list[Warning]:
    """A warning per published year the library disagrees with."""
    return [
        Warning("conflict", country, year, differences=tuple(days))
        for year, days in sorted(differences.items())
        if days
    ]


def refusing(today: dt.date) -> bool:
    """Whether deadlines from `today` already reach into the next year's notice (the last
    week of December needs it: see hotline.workdays.calendar)."""
    return (today.month, today.day) >= REFUSING_FROM


def changes(
    before: Mapping[str, Warning], now: Sequence[Warning]
) -> tuple[list[Warning], list[Warning]]:
    """(raised, settled): warnings new or changed since `before`, and those gone."""
    current = {w.key: w for w in now}
    raised = [w for key, w in current.items() if before.get(key) != w]
    settled = [w for key, w in before.items() if key not in current]
    return raised, settled
