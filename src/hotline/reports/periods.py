"""Report periods: a local day, ISO week, month or quarter, or a range of days, as the
half-open span of instants [starts_at, ends_at) in the hotline's time zone. Pure."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

from hotline.core.errors import Invalid

Kind = Literal["day", "week", "month", "quarter", "range"]
ANALYSIS_KINDS: tuple[Kind, ...] = ("week", "month", "quarter")
LONGEST_RANGE = dt.timedelta(days=366)  # a year, leap or not


@dataclass(frozen=True)
class Period:
    kind: Kind
    label: str  # 2026-11-28, 2026-W48, 2026-11, 2026-Q4, 2026-11-01..2026-11-30
    first: dt.date  # the first local day in it
    end: dt.date  # the first local day after it
    starts_at: dt.datetime  # local midnight of `first`, with its zone
    ends_at: dt.datetime  # local midnight of `end`

    @property
    def days(self) -> int:
        return (self.end - self.first).days


def _midnight(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=tz)


def span(kind: Kind, first: dt.date, end: dt.date, label: str, tz: ZoneInfo) -> Period:
    return Period(kind, label, first, end, _midnight(first, tz), _midnight(end, tz))


def day(on: dt.date, tz: ZoneInfo) -> Period:
    return span("day", on, on + dt.timedelta(days=1), on.isoformat(), tz)


def week(on: dt.date, tz: ZoneInfo) -> Period:
    """The ISO week (Monday to Sunday) holding `on`, labelled by its ISO year and number."""
    year, number, weekday = on.isocalendar()
    monday = on - dt.timedelta(days=weekday - 1)
    return span("week", monday, monday + dt.timedelta(days=7), f"{year}-W{number:02d}", tz)


def _month_start(year: int, month: int) -> dt.date:
    """The first of `month`, which may run past 12 into the next year."""
    return dt.date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def month(on: dt.date, tz: ZoneInfo) -> Period:
    first = on.replace(day=1)
    return span("month", first, _month_start(on.year, on.month + 1), f"{on:%Y-%m}", tz)


def quarter(on: dt.date, tz: ZoneInfo) -> Period:
    number = (on.month - 1) // 3 + 1
    first = dt.date(on.year, 3 * number - 2, 1)
    return span("quarter", first, _month_start(on.year, 3 * number + 1), f"{on.year}-Q{number}", tz)


def analysis(kind: str, on: dt.date, tz: ZoneInfo) -> Period:
    """The week, month or quarter holding `on`."""
    if kind == "week":
        return week(on, tz)
    if kind == "month":
        return month(on, tz)
    if kind == "quarter":
        return quarter(on, tz)
    raise Invalid("period", "one of week, month, quarter")


def days(first: dt.date, end: dt.date, tz: ZoneInfo) -> Period:
    """The local days [first, end): `end` is the first day not in it."""
    if end <= first:
        raise Invalid("to", "must be after from (the range is [from, to): to is not in it)")
    if end - first > LONGEST_RANGE:
        raise Invalid("to", "a range is at most 366 days")
    label = f"{first.isoformat()}..{(end - dt.timedelta(days=1)).isoformat()}"
    return span("range", first, end, label, tz)


def parse_date(value: str | None, field: str) -> dt.date:
    """A YYYY-MM-DD query value; a 422 naming the field otherwise."""
    if value is None or value == "":
        raise Invalid(field, "required: a date as YYYY-MM-DD")
    if len(value) != 10:
        raise Invalid(field, "a date as YYYY-MM-DD")
    try:
        parsed = dt.date.fromisoformat(value)
    except ValueError:
        raise Invalid(field, "a date as YYYY-MM-DD") from None
    if not 2000 <= parsed.year <= 2100:
        raise Invalid(field, "a date between the years 2000 and 2100")
    return parsed
