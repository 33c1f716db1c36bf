"""The official calendar the tests' databases hold, whatever the date the suite runs on.

Deadlines are refused for a year nobody published (issue 20). The `holidays` package the
suite installs carries China's notices up to some year; from 25 December of that year (and
all through the next) every callback or complaint the tests promise would be refused. So the
suite does what an admin does: it publishes a notice for this year and the next when the
package lacks them (made up, marked as such), through the service's own store. Tests that
compute a deadline themselves read the same calendar back (`service_calendar`).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import create_async_engine

from hotline.calendars import store
from hotline.workdays import Notice, Run, WorkCalendar, published_years
from hotline.workdays.notice import build

TZ = ZoneInfo("Asia/Shanghai")
MADE_UP = "made-up notice for the test suite"


def made_up_notice(year: int) -> Notice:
    """New Year (1-3 January) and National Day (1-7 October) off; nothing swapped."""
    return build(
        year,
        [
            Run(dt.date(year, 1, 1), dt.date(year, 1, 3), "元旦"),
            Run(dt.date(year, 10, 1), dt.date(year, 10, 7), "国庆节"),
        ],
        [],
    )


def missing_years(today: dt.date) -> list[int]:
    library = published_years("CN")
    return [year for year in (today.year, today.year + 1) if year not in library]


async def publish_missing(url: str) -> list[int]:
    """This year's and next year's notices, made up, where the package has none."""
    engine = create_async_engine(url)
    published = []
    try:
        async with engine.begin() as conn:
            have = await store.notices(conn, "CN")
            for year in missing_years(dt.datetime.now(TZ).date()):
                if year not in have:
                    await store.publish(
                        conn,
                        "test-suite",
                        "CN",
                        made_up_notice(year),
                        reference=MADE_UP,
                        now=dt.datetime.now(dt.UTC),
                    )
                    published.append(year)
    finally:
        await engine.dispose()
    return published


async def service_calendar(url: str) -> WorkCalendar:
    """The working days the service counts with: the package, the published years, the
    local exceptions, as the database holds them now."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            calendar = WorkCalendar("CN", notices=await store.notices(conn, "CN"))
            calendar.set_local(*await store.local_days(conn))
    finally:
        await engine.dispose()
    return calendar
