"""The calendar's data in PostgreSQL: the years admins published from the government's notice
(their days, who published them, how they compare with the library's data), and the centre's
local exceptions. Each change is one audited transaction (the caller's)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from hotline.core.errors import Conflict, NotFound
from hotline.db.audit import Outcome, Record, as_record, audit
from hotline.db.models import CalendarException, OfficialDay, OfficialYear
from hotline.workdays import Notice

YEAR_ENTITY = "calendar_year"  # audit entity of a published year; key "CN-2027"

# --- the years published from the notice -------------------------------------------------


def year_key(country: str, year: int) -> str:
    return f"{country}-{year}"


async def notices(conn: AsyncConnection, country: str) -> dict[int, Notice]:
    """Every year published for `country`, as the calendar reads them."""
    rows = await conn.execute(
        select(OfficialDay.year, OfficialDay.day, OfficialDay.kind, OfficialDay.name)
        .where(OfficialDay.country == country)
        .order_by(OfficialDay.year, OfficialDay.day)
    )
    days: dict[int, tuple[set[dt.date], set[dt.date], dict[dt.date, str]]] = {}
    for year, day, kind, name in rows:
        off, on, names = days.setdefault(year, (set(), set(), {}))
        (off if kind == "holiday" else on).add(day)
        if name:
            names[day] = name
    years = await conn.scalars(select(OfficialYear.year).where(OfficialYear.country == country))
    return {
        year: Notice(year, frozenset(days[year][0]), frozenset(days[year][1]), days[year][2])
        for year in years
        if year in days
    }


_YEAR = (
    OfficialYear.country,
    OfficialYear.year,
    OfficialYear.notice,
    OfficialYear.published_by,
    OfficialYear.published_at,
    OfficialYear.library_version,
    OfficialYear.library_checked_at,
    OfficialYear.library_differences,
)


async def published(conn: AsyncConnection, country: str) -> dict[int, Record]:
    """Who published each year and from which notice; the library's differences, if any."""
    rows = await conn.execute(
        select(*_YEAR).where(OfficialYear.country == country).order_by(OfficialYear.year)
    )
    return {row.year: as_record(row) for row in rows}


def _days_record(notice: Notice) -> dict[str, Any]:
    return {
        "holidays": [d.isoformat() for d in sorted(notice.holidays)],
        "workdays": [d.isoformat() for d in sorted(notice.workdays)],
        "names": {d.isoformat(): n for d, n in sorted(notice.names.items())},
    }


async def _locked(conn: AsyncConnection, country: str, year: int) -> Record | None:
    row = (
        await conn.execute(
            select(*_YEAR)
            .where(OfficialYear.country == country, OfficialYear.year == year)
            .with_for_update()
        )
    ).first()
    if row is None:
        return None
    found = await notice_of(conn, country, year)
    return {**as_record(row), **(_days_record(found) if found else {})}


async def notice_of(conn: AsyncConnection, country: str, year: int) -> Notice | None:
    rows = await conn.execute(
        select(OfficialDay.day, OfficialDay.kind, OfficialDay.name).where(
            OfficialDay.country == country, OfficialDay.year == year
        )
    )
    off: set[dt.date] = set()
    on: set[dt.date] = set()
    names: dict[dt.date, str] = {}
    for day, kind, name in rows:
        (off if kind == "holiday" else on).add(day)
        if name:
            names[day] = name
    return Notice(year, frozenset(off), frozenset(on), names) if off or on else None


async def publish(
    conn: AsyncConnection,
    actor: str,
    country: str,
    notice: Notice,
    *,
    reference: str,
    now: dt.datetime,
) -> Outcome:
    """The year's schedule as the notice `reference` gives it, published by `actor`; a year
    published before is replaced (both versions in the audit log)."""
    before = await _locked(conn, country, notice.year)
    values = {"notice": reference, "published_by": actor, "published_at": now}
    cleared = {"library_version": None, "library_checked_at": None, "library_differences": None}
    await conn.execute(
        pg_insert(OfficialYear)
        .values(country=country, year=notice.year, **values, **cleared)
        .on_conflict_do_update(
            index_elements=[OfficialYear.country, OfficialYear.year], set_={**values, **cleared}
        )
    )
    await conn.execute(
        delete(OfficialDay).where(OfficialDay.country == country, OfficialDay.year == notice.year)
    )
    rows = [
        {
            "country": country,
            "year": notice.year,
            "day": d,
            "kind": kind,
            "name": notice.names.get(d),
        }
        for kind, days in (("holiday", notice.holidays), ("workday", notice.workdays))
        for d in sorted(days)
    ]
    await conn.execute(pg_insert(OfficialDay), rows)
    after = await _locked(conn, country, notice.year)
    assert after is not None
    key = year_key(country, notice.year)
    if before is not None and _same(before, after):
        return Outcome(after, None)
    change = await audit(
        conn, actor, "update" if before else "create", YEAR_ENTITY, key, before=before, after=after
    )
    return Outcome(after, change, created=before is None)


def _same(a: Record, b: Record) -> bool:
    keys = ("notice", "holidays", "workdays", "names")
    return all(a.get(k) == b.get(k) for k in keys)


async def withdraw(
    conn: AsyncConnection, actor: str, country: str, year: int, action: str
) -> Outcome | None:
    """The admin's year removed (`action`: "delete", or "accept_library" when the library's
    data takes over); None when the year was not published."""
    before = await _locked(conn, country, year)
    if before is None:
        return None
    await conn.execute(
        delete(OfficialYear).where(OfficialYear.country == country, OfficialYear.year == year)
    )
    change = await audit(
        conn, actor, action, YEAR_ENTITY, year_key(country, year), before=before, after=None
    )
    return Outcome(None, change)


async def record_differences(
    conn: AsyncConnection,
    country: str,
    year: int,
    *,
    version: str,
    differences: list[dt.date],
    now: dt.datetime,
) -> bool:
    """The library (at `version`) compared with the published year; True when this is news
    (another version, or other days than last time)."""
    found = [d.isoformat() for d in differences]
    row = (
        await conn.execute(
            select(OfficialYear.library_version, OfficialYear.library_differences)
            .where(OfficialYear.country == country, OfficialYear.year == year)
            .with_for_update()
        )
    ).first()
    if row is None:
        return False
    news = row.library_version != version or (row.library_differences or []) != found
    await conn.execute(
        update(OfficialYear)
        .where(OfficialYear.country == country, OfficialYear.year == year)
        .values(library_version=version, library_checked_at=now, library_differences=found)
    )
    return news


# --- the calendar's local exceptions ------------------------------------------------------

_EXCEPTION = (CalendarException.day, CalendarException.kind, CalendarException.note)


async def exceptions(conn: AsyncConnection) -> list[dict[str, Any]]:
    rows = await conn.execute(
        select(CalendarException.day, CalendarException.kind, CalendarException.note).order_by(
            CalendarException.day
        )
    )
    return [as_record(row) for row in rows]


async def create_exception(
    conn: AsyncConnection, actor: str, day: dt.date, kind: str, note: str | None
) -> Outcome:
    query = (
        pg_insert(CalendarException)
        .values(day=day, kind=kind, note=note)
        .on_conflict_do_nothing()
        .returning(*_EXCEPTION)
    )
    row = (await conn.execute(query)).first()
    if row is None:
        raise Conflict("day", "this day has a local exception: change it (PUT) instead")
    record = as_record(row)
    change = await audit(
        conn, actor, "create", "calendar", day.isoformat(), before=None, after=record
    )
    return Outcome(record, change, created=True)


async def update_exception(
    conn: AsyncConnection, actor: str, day: dt.date, kind: str, note: str | None
) -> Outcome:
    before = (
        await conn.execute(
            select(*_EXCEPTION).where(CalendarException.day == day).with_for_update()
        )
    ).first()
    if before is None:
        raise NotFound("day", "no local exception on this day")
    query = (
        update(CalendarException)
        .where(CalendarException.day == day)
        .values(kind=kind, note=note, updated_at=func.now())
        .returning(*_EXCEPTION)
    )
    record = as_record((await conn.execute(query)).one())
    old = as_record(before)
    if old == record:
        return Outcome(record, None)
    change = await audit(
        conn, actor, "update", "calendar", day.isoformat(), before=old, after=record
    )
    return Outcome(record, change)


async def delete_exception(conn: AsyncConnection, actor: str, day: dt.date) -> Outcome | None:
    row = (
        await conn.execute(
            delete(CalendarException)
            .where(CalendarException.day == day)
            .returning(CalendarException.day, CalendarException.kind, CalendarException.note)
        )
    ).first()
    if row is None:
        return None
    change = await audit(
        conn, actor, "delete", "calendar", day.isoformat(), before=as_record(row), after=None
    )
    return Outcome(None, change)


async def local_days(conn: AsyncConnection) -> tuple[frozenset[dt.date], frozenset[dt.date]]:
    rows = await conn.execute(select(CalendarException.day, CalendarException.kind))
    off: set[dt.date] = set()
    on: set[dt.date] = set()
    for day, kind in rows:
        (off if kind == "holiday" else on).add(day)
    return frozenset(off), frozenset(on)
