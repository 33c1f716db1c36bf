"""Working days for deadlines (R15, R18) and the family's next-day call (R12). Pure.

A working day is a weekday that is not a statutory holiday, or a weekend day that the
government made a working day in exchange for a bridging day off (China's 调休; Russia's
transfers, перенос выходных). Both come from the `holidays` package's data for the country's
public holidays (China's half-day holidays, for some groups only, are not days off here).
`HolidayBase.is_working_day` answers with both: a weekend day is a working day exactly when it
is one of the swapped working days, any other day when it is not a holiday.

Which years are known. A country's holidays the library computes for any year, but the swaps
exist only once the yearly notice is out (China's State Council notice, usually in November;
Russia's government decree). The library keeps them in the country's table of substituted
days (`special_public_holidays`: a day off taken from a named working day), one entry per
year. A year is known from the first to the last year with such an entry: the last is the
newest notice the installed data carries (with holidays 0.109: China 2026, Russia 2027).
Any other year raises `NoSchedule` rather than being guessed from the weekly rhythm.

Next year's notice reaches back into the last week of December: New Year's Day is bridged
with 31 December and a working Saturday or Sunday before it (China 2002, 2006, 2007, 2012;
the library files these under either year). So a day from 25 to 31 December also needs the
next year's notice.

When the library does not carry a year yet, an admin publishes the year's notice
(`notice.Notice`, stored by `hotline.calendars`): from then on the year is known, and the
admin's notice stands for that year even once a later library release carries it too, until
an admin accepts the library's version (the two are compared at start-up, see `differences`).

Local exceptions (a day the centre closes or opens) win over either source and need no notice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal
from zoneinfo import ZoneInfo

import holidays

from hotline.workdays.notice import Notice, span

Country = Literal["CN", "RU"]

_DECEMBER_TAIL_FROM = 25  # 25..31 December also needs the next year's notice
_SUBSTITUTED_LEN = 4  # (to_month, to_day, from_month, from_day[, from_year])


class NoSchedule(Exception):
    """The official working-day schedule of `country` for `year` is not known."""

    def __init__(self, year: int, country: Country) -> None:
        super().__init__(f"no official {country} working-day schedule for {year}")
        self.year = year
        self.country = country


def _entries(value: tuple[Any, ...]) -> tuple[tuple[Any, ...], ...]:
    # A year's value is one entry, or a tuple of entries.
    return (value,) if value and not isinstance(value[0], tuple) else value


def published_years(country: Country) -> range:
    """The years whose holidays and swapped days the installed `holidays` data carries."""
    table: Mapping[int, tuple[Any, ...]] = getattr(
        holidays.country_holidays(country, years=()), "special_public_holidays", {}
    )
    years = [
        year
        for year, value in table.items()
        if any(len(entry) >= _SUBSTITUTED_LEN for entry in _entries(value))
    ]
    return range(min(years), max(years) + 1) if years else range(0)


Source = Literal["library", "notice"]
"""Where a year's official schedule comes from: the `holidays` package, or an admin's notice."""


class WorkCalendar:
    """One country's working days, with the centre's own days off and days on.

    `notices`: the years admins published (they stand over the library's for the same year).
    `on_refused`: told the year when an action is refused because its deadline falls in a
    year nobody published (`refused`; the service puts it on the event stream and the floor).
    """

    def __init__(
        self,
        country: Country,
        *,
        extra_holidays: frozenset[dt.date] = frozenset(),
        extra_workdays: frozenset[dt.date] = frozenset(),
        known_years: Iterable[int] | None = None,
        notices: Mapping[int, Notice] | None = None,
    ) -> None:
        both = extra_holidays & extra_workdays
        if both:
            raise ValueError(f"days both off and on: {sorted(both)}")
        self.country: Country = country
        self.extra_holidays = extra_holidays
        self.extra_workdays = extra_workdays
        self.library_years = frozenset(
            published_years(country) if known_years is None else known_years
        )
        self._official = holidays.country_holidays(
            country, years=sorted(self.library_years), expand=False
        )
        self.notices: Mapping[int, Notice] = {}
        self._noticed: dict[dt.date, bool] = {}
        self.set_notices(notices or {})
        self.on_refused: Callable[[int], None] | None = None

    @property
    def known_years(self) -> frozenset[int]:
        return self.library_years | frozenset(self.notices)

    def source(self, year: int) -> Source | None:
        if year in self.notices:
            return "notice"
        return "library" if year in self.library_years else None

    def set_local(
        self, extra_holidays: frozenset[dt.date], extra_workdays: frozenset[dt.date]
    ) -> None:
        """The centre's own days off and days on, as the admins set them now (in place: every
        part holding this calendar sees them at once)."""
        both = extra_holidays & extra_workdays
        if both:
            raise ValueError(f"days both off and on: {sorted(both)}")
        self.extra_holidays = extra_holidays
        self.extra_workdays = extra_workdays

    def set_notices(self, notices: Mapping[int, Notice]) -> None:
        """The years admins published, as they stand now (in place, like `set_local`). A day
        named by two notices (the last week of December) takes the newer notice's word."""
        noticed: dict[dt.date, bool] = {}
        for year in sorted(notices):
            for d in notices[year].holidays:
                noticed[d] = False
            for d in notices[year].workdays:
                noticed[d] = True
        self.notices = dict(notices)
        self._noticed = noticed

    def _require(self, year: int) -> None:
        if year not in self.known_years:
            raise NoSchedule(year, self.country)

    def refused(self, err: NoSchedule) -> None:
        """An action was refused for want of `err.year`'s schedule: tell whoever listens."""
        if self.on_refused is not None:
            self.on_refused(err.year)

    def is_working_day(self, d: dt.date) -> bool:
        """Whether `d` is a working day; `NoSchedule` if its year's notice is not known."""
        if isinstance(d, dt.datetime):
            raise TypeError("a date, not a datetime")
        if d in self.extra_workdays:
            return True
        if d in self.extra_holidays:
            return False
        return self.official(d)

    def official(self, d: dt.date) -> bool:
        """Whether `d` is a working day by the official schedule alone (no local exception)."""
        self._require(d.year)
        if d.month == 12 and d.day >= _DECEMBER_TAIL_FROM:
            self._require(d.year + 1)
        noticed = self._noticed.get(d)
        if noticed is not None:
            return noticed
        if d.year in self.notices:
            return d.weekday() < 5
        return self._official.is_working_day(d)

    def library_day(self, d: dt.date) -> bool:
        """Whether the `holidays` package makes `d` a working day (its years only)."""
        return self._official.is_working_day(d)

    def schedule(self, year: int) -> Notice | None:
        """The year as a notice, from whichever source holds it: the admin's notice, or the
        library's days off (weekdays off, and named holidays on a weekend) and its weekend
        days worked; None for a year nobody published."""
        notice = self.notices.get(year)
        if notice is not None or year not in self.library_years:
            return notice
        days = span(dt.date(year, 1, 1), dt.date(year, 12, 31))
        names = {d: str(self._official.get(d)) for d in days if d in self._official}
        off = frozenset(
            d for d in days if not self.library_day(d) and (d.weekday() < 5 or d in names)
        )
        on = frozenset(d for d in days if d.weekday() >= 5 and self.library_day(d))
        return Notice(year, off, on, {d: n for d, n in names.items() if d in off})

    def statutory(self, year: int) -> dict[dt.date, str]:
        """The statutory holidays the law fixes for `year` (any year: the library computes
        them, without the yearly notice's swaps and bridges), by name. A check on a notice
        typed in by hand: a statutory holiday left as a working day is most likely a slip."""
        law = holidays.country_holidays(self.country, years=year)
        return {d: str(n) for d, n in law.items() if "observed" not in str(n)}

    def differences(self, year: int) -> list[dt.date]:
        """The days of `year` the admin's notice and the library's data disagree on (working
        or not); empty when they agree or either lacks the year."""
        notice = self.notices.get(year)
        if notice is None or year not in self.library_years:
            return []
        return [
            d
            for d in span(dt.date(year, 1, 1), dt.date(year, 12, 31))
            if notice.is_working_day(d) != self.library_day(d)
        ]

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        """The `n`-th working day strictly after `start` (n >= 1)."""
        if n < 1:
            raise ValueError(f"n must be at least 1, not {n}")
        d = start
        while n:
            d += dt.timedelta(days=1)
            if self.is_working_day(d):
                n -= 1
        return d

    def working_days_between(self, a: dt.date, b: dt.date) -> int:
        """Working days d with a < d <= b; negative when b is before a.

        So `working_days_between(a, add_working_days(a, n)) == n`.
        """
        if b < a:
            return -self.working_days_between(b, a)
        days = (b - a).days
        return sum(self.is_working_day(a + dt.timedelta(days=i)) for i in range(1, days + 1))

    def deadline(
        self, at: dt.datetime, n: int, *, tz: ZoneInfo, end: dt.time = dt.time(18, 0)
    ) -> dt.datetime:
        """The end (`end`, local) of the `n`-th working day after `at`'s local date in `tz`.

        The time of day of `at` does not matter: asked at 17:30 or at 09:00 on a working day,
        one working day is the next working day's end.
        """
        day = self.add_working_days(_local_date(at, tz), n)
        return dt.datetime.combine(day, end.replace(tzinfo=None), tzinfo=tz)

    def next_day_at(
        self, at: dt.datetime, *, tz: ZoneInfo, end: dt.time = dt.time(17, 0)
    ) -> dt.datetime:
        """`end` (local) on the calendar day after `at`'s local date (R12): any day counts."""
        day = _local_date(at, tz) + dt.timedelta(days=1)
        return dt.datetime.combine(day, end.replace(tzinfo=None), tzinfo=tz)


def _local_date(at: dt.datetime, tz: ZoneInfo) -> dt.date:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("a timezone-aware datetime is needed")
    return at.astimezone(tz).date()
