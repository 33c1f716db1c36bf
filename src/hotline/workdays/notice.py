"""A year's official schedule as the government publishes it (China's State Council notice on
the year's holidays, 国务院办公厅关于某年部分节假日安排的通知; Russia's decree on transferred
days off), entered by an admin when the `holidays` package does not carry the year yet. Pure.

A notice lists the days off (holidays and the bridging days given in exchange, weekends inside
a holiday included) and the swapped working days (a Saturday or Sunday worked instead). Every
other day of the year follows the week: Monday to Friday worked, the weekend off.

Which days a notice may name: its own year, and the last week of the year before, because a
New Year's bridge reaches back into December (a working Sunday 28 December, say, is in the
next year's notice).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

TAIL_FROM = 25  # a notice for year Y may name days from 25 December of Y-1
MAX_SPAN_DAYS = 15  # no holiday run is longer: a longer range is a typing slip
_LINE = re.compile(
    r"^\s*(?P<start>\d{4}-\d{1,2}-\d{1,2})"
    r"(?:\s*(?:\.\.|~|\uff5e|至|到|\u2013|\u2014|\s-\s|\bto\b)\s*(?P<end>\d{4}-\d{1,2}-\d{1,2}))?"
    r"(?:\s+(?P<name>.*?))?\s*$"
)


class NoticeError(ValueError):
    """A notice that cannot be right: `field` names the part, `detail` says why."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(f"{field}: {detail}")
        self.field = field
        self.detail = detail


@dataclass(frozen=True)
class Notice:
    """One year's official schedule: its days off and its swapped working days."""

    year: int
    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]
    names: Mapping[dt.date, str] = field(default_factory=dict, compare=False)

    def covers(self, d: dt.date) -> bool:
        return window(self.year)[0] <= d <= window(self.year)[1]

    def is_working_day(self, d: dt.date) -> bool:
        """By this notice alone: listed days as listed, any other by the week."""
        if d in self.workdays:
            return True
        if d in self.holidays:
            return False
        return d.weekday() < 5


def window(year: int) -> tuple[dt.date, dt.date]:
    """The days a notice for `year` may name."""
    return dt.date(year - 1, 12, TAIL_FROM), dt.date(year, 12, 31)


def span(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


@dataclass(frozen=True)
class Run:
    """A run of days (one day when start == end) with the name the notice gives it."""

    start: dt.date
    end: dt.date
    name: str | None = None


def build(
    year: int, holidays: Iterable[Run], workdays: Iterable[Run], *, field_prefix: str = ""
) -> Notice:
    """A checked notice: every day inside the notice's window, a run no longer than
    MAX_SPAN_DAYS, the swapped working days on a weekend, no day both off and worked, at
    least one day off. Raises NoticeError naming the part (`holidays[2]`, `workdays[0]`)."""
    first, last = window(year)
    off: dict[dt.date, str | None] = {}
    on: dict[dt.date, str | None] = {}
    for kind, runs, into in (("holidays", holidays, off), ("workdays", workdays, on)):
        for i, run in enumerate(runs):
            where = f"{field_prefix}{kind}[{i}]"
            if run.end < run.start:
                raise NoticeError(where, f"ends ({run.end}) before it starts ({run.start})")
            if (run.end - run.start).days + 1 > MAX_SPAN_DAYS:
                raise NoticeError(where, f"longer than {MAX_SPAN_DAYS} days: a typing slip?")
            if run.start < first or run.end > last:
                raise NoticeError(where, f"outside the notice for {year} (from {first} to {last})")
            for d in span(run.start, run.end):
                if kind == "workdays" and d.weekday() < 5:
                    raise NoticeError(
                        where, f"{d} is a weekday: a swapped working day is a Saturday or Sunday"
                    )
                into[d] = run.name or into.get(d)
    both = sorted(set(off) & set(on))
    if both:
        raise NoticeError(f"{field_prefix}workdays", f"{both[0]} is also listed as a day off")
    if not any(d.year == year for d in off):
        raise NoticeError(f"{field_prefix}holidays", f"no day off in {year}: nothing to publish")
    names = {d: n for d, n in {**off, **on}.items() if n}
    return Notice(year, frozenset(off), frozenset(on), names)


def parse_lines(text: str, field: str) -> list[Run]:
    """The console's list: one day or run per line, `2027-02-05..2027-02-11 春节` (also `~`,
    `至`, ` - `), a name optional; blank lines and lines starting with # are skipped."""
    runs: list[Run] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            raise NoticeError(field, f"line {number}: not a date or a run of dates ({line!r})")
        try:
            start = dt.date.fromisoformat(_padded(match["start"]))
            end = dt.date.fromisoformat(_padded(match["end"])) if match["end"] else start
        except ValueError as err:
            raise NoticeError(field, f"line {number}: {err}") from None
        name = (match["name"] or "").strip()[:60] or None
        runs.append(Run(start, end, name))
    return runs


def _padded(text: str) -> str:
    y, m, d = text.split("-")
    return f"{y}-{int(m):02d}-{int(d):02d}"


def as_runs(days: Iterable[dt.date], names: Mapping[dt.date, str]) -> list[Run]:
    """Days folded back into runs of consecutive days with the same name (for display)."""
    runs: list[Run] = []
    for d in sorted(days):
        name = names.get(d)
        if runs and runs[-1].end + dt.timedelta(days=1) == d and runs[-1].name == name:
            runs[-1] = Run(runs[-1].start, d, name)
        else:
            runs.append(Run(d, d, name))
    return runs


def as_lines(runs: Iterable[Run]) -> str:
    """The console's list again, from runs: what `parse_lines` reads."""
    lines = []
    for run in runs:
        text = run.start.isoformat()
        if run.end != run.start:
            text += f"..{run.end.isoformat()}"
        if run.name:
            text += f" {run.name}"
        lines.append(text)
    return "\n".join(lines)
