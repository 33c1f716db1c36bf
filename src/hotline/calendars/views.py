"""What the calendar's API and the admin's console pages show: the bodies they take and the
replies they give. Pure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from hotline.api import bodies
from hotline.calendars import rules
from hotline.core.errors import Invalid
from hotline.workdays import Notice, NoticeError, Run, Source, WorkCalendar
from hotline.workdays.notice import as_runs, build, span

NoticeRef = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=3, max_length=200), bodies.Storable
]
DayName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60), bodies.Storable
]


class RunBody(bodies.Body):
    """One day, or a run of days (`end` inclusive), with the name the notice gives it."""

    start: Annotated[dt.date, Field(strict=False)]
    end: Annotated[dt.date, Field(strict=False)] | None = None
    name: DayName | None = None


class NoticeBody(bodies.Body):
    """A year's schedule as the notice gives it: every day off (holidays and the days given
    in exchange, weekend days inside a holiday included) and every weekend day worked."""

    notice: NoticeRef  # which notice: its title or document number
    holidays: Annotated[list[RunBody], Field(min_length=1, max_length=60)]
    workdays: Annotated[list[RunBody], Field(max_length=30, default_factory=list)]


class RunReply(BaseModel):
    start: dt.date
    end: dt.date
    name: str | None


class YearReply(BaseModel):
    country: str
    year: int
    source: Literal["notice", "library"]
    saved: bool  # False for a preview
    notice: str | None
    published_by: str | None
    published_at: dt.datetime | None
    holidays: list[RunReply]
    workdays: list[RunReply]
    days_off_on_weekdays: int
    weekend_days_worked: int
    library_version: str | None
    library_differences: list[dt.date] | None  # days the library disagrees on (it has the year)
    statutory_working: list[RunReply]  # statutory holidays this schedule leaves as working days


class WarningReply(BaseModel):
    kind: Literal["unpublished", "conflict"]
    year: int
    days_left: int | None
    differences: list[dt.date]


class YearsReply(BaseModel):
    country: str
    library_version: str
    library_years: list[int]  # first and last year the holidays package carries
    years: list[YearReply]  # the years admins published
    warnings: list[WarningReply]


class WorkingDayReply(BaseModel):
    after: dt.date
    days: int
    day: dt.date


def notice_of(year: int, holidays: list[Run], workdays: list[Run], prefix: str = "") -> Notice:
    """The runs checked as a notice for `year`; 422 naming the wrong part."""
    try:
        return build(year, holidays, workdays, field_prefix=prefix)
    except NoticeError as err:
        raise Invalid(err.field, err.detail) from None


def runs_of(body: NoticeBody) -> tuple[list[Run], list[Run]]:
    return (
        [Run(r.start, r.end or r.start, r.name) for r in body.holidays],
        [Run(r.start, r.end or r.start, r.name) for r in body.workdays],
    )


def year_reply(
    calendar: WorkCalendar,
    notice: Notice,
    *,
    source: Source,
    saved: bool,
    library_version: str,
    published: Mapping[str, object] | None = None,
) -> YearReply:
    """A year as shown: from a notice (saved, or a preview: then compared with the library
    here) or from the library."""
    in_library = notice.year in calendar.library_years
    differences: list[dt.date] | None = None
    if source == "notice" and in_library:
        differences = [
            d
            for d in span(dt.date(notice.year, 1, 1), dt.date(notice.year, 12, 31))
            if notice.is_working_day(d) != calendar.library_day(d)
        ]
    pub = published or {}
    statutory = calendar.statutory(notice.year)
    return YearReply(
        country=calendar.country,
        year=notice.year,
        source=source,
        saved=saved,
        notice=_text(pub.get("notice")),
        published_by=_text(pub.get("published_by")),
        published_at=_when(pub.get("published_at")),
        holidays=[RunReply(**vars(r)) for r in as_runs(notice.holidays, notice.names)],
        workdays=[RunReply(**vars(r)) for r in as_runs(notice.workdays, notice.names)],
        days_off_on_weekdays=sum(d.weekday() < 5 for d in notice.holidays),
        weekend_days_worked=len(notice.workdays),
        library_version=library_version if in_library else None,
        library_differences=differences,
        statutory_working=[
            RunReply(**vars(r))
            for r in as_runs(
                [d for d in statutory if notice.is_working_day(d) and d.year == notice.year],
                statutory,
            )
        ],
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _when(value: object) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else None


def stored_differences(
    published: Mapping[int, Mapping[str, object]],
) -> dict[int, list[dt.date]]:
    """The library's differences as last compared, per published year."""
    found: dict[int, list[dt.date]] = {}
    for year, record in published.items():
        days = record.get("library_differences")
        if isinstance(days, list) and days:
            found[year] = [dt.date.fromisoformat(str(d)) for d in days]
    return found


def warning_reply(warning: rules.Warning) -> WarningReply:
    return WarningReply(
        kind=warning.kind,
        year=warning.year,
        days_left=warning.days_left,
        differences=list(warning.differences),
    )


# --- the year as a calendar of months (the console's preview) ----------------------------

DayKind = Literal["work", "weekend", "holiday", "swapped", "outside"]


class DayCell(BaseModel):
    day: dt.date | None  # None: a blank before the 1st or after the last
    kind: DayKind
    name: str | None = None


class Month(BaseModel):
    month: int
    weeks: list[list[DayCell]]  # Monday first


def months(notice: Notice) -> list[Month]:
    """The year's 12 months, week by week, each day marked as the notice makes it."""
    shown = []
    for month in range(1, 13):
        first = dt.date(notice.year, month, 1)
        following = dt.date(notice.year + month // 12, month % 12 + 1, 1)
        cells = [DayCell(day=None, kind="outside")] * first.weekday()
        for d in span(first, following - dt.timedelta(days=1)):
            cells.append(DayCell(day=d, kind=_kind(notice, d), name=notice.names.get(d)))
        cells += [DayCell(day=None, kind="outside")] * (-len(cells) % 7)
        shown.append(Month(month=month, weeks=[cells[i : i + 7] for i in range(0, len(cells), 7)]))
    return shown


def _kind(notice: Notice, d: dt.date) -> DayKind:
    if d in notice.workdays:
        return "swapped"
    if d in notice.holidays:
        return "holiday"
    return "work" if d.weekday() < 5 else "weekend"
