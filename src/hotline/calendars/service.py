"""The calendar's operations, shared by its API routes and the admin's console pages: the
years as shown, a notice checked and previewed, published, withdrawn or replaced by the
library's data (each audited, applied before the answer through `on_change`), and a working
day counted as the deadlines count it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hotline.api.replies import OnChange, change, read
from hotline.calendars import rules, store
from hotline.calendars.views import (
    WarningReply,
    YearReply,
    YearsReply,
    stored_differences,
    warning_reply,
    year_reply,
)
from hotline.core.errors import Conflict, NotFound
from hotline.db.audit import Outcome
from hotline.workdays import NoSchedule, Notice, Source, WorkCalendar

PUBLISHABLE = range(2000, 2100)  # the years a notice can be published for


@dataclass(frozen=True)
class Calendars:
    engine: AsyncEngine
    on_change: OnChange
    calendar: WorkCalendar
    tz: dt.tzinfo
    library_version: str

    @property
    def country(self) -> str:
        return self.calendar.country

    async def _published(self) -> dict[int, dict[str, object]]:
        return dict(await read(self.engine, lambda c: store.published(c, self.country)))

    def warnings(self, differences: dict[int, list[dt.date]]) -> list[rules.Warning]:
        today = dt.datetime.now(self.tz).date()
        return [
            *rules.unpublished(today, self.calendar.known_years, self.country),
            *rules.conflicts(self.country, differences),
        ]

    async def years(self) -> YearsReply:
        published = await self._published()
        library = sorted(self.calendar.library_years)
        return YearsReply(
            country=self.country,
            library_version=self.library_version,
            library_years=[library[0], library[-1]] if library else [],
            years=[
                self._shown(notice, published.get(year))
                for year, notice in sorted(self.calendar.notices.items())
            ],
            warnings=[warning_reply(w) for w in self.warnings(stored_differences(published))],
        )

    def _shown(
        self, notice: Notice, published: dict[str, object] | None, source: Source | None = None
    ) -> YearReply:
        return year_reply(
            self.calendar,
            notice,
            source=source or self.calendar.source(notice.year) or "notice",
            saved=True,
            library_version=self.library_version,
            published=published,
        )

    async def year(self, year: int) -> YearReply:
        notice = self.calendar.schedule(year)
        if notice is None:
            raise NotFound("year", f"{NoSchedule(year, self.calendar.country)}: not published")
        return self._shown(notice, (await self._published()).get(year))

    @staticmethod
    def publishable(year: int) -> int:
        """A year a notice can be published for; 404 naming `year` otherwise."""
        if year not in PUBLISHABLE:
            first, last = PUBLISHABLE[0], PUBLISHABLE[-1]
            raise NotFound("year", f"no such year: notices are published for {first}-{last}")
        return year

    def preview(self, notice: Notice) -> YearReply:
        return year_reply(
            self.calendar,
            notice,
            source="notice",
            saved=False,
            library_version=self.library_version,
        )

    async def _refresh(self) -> None:
        """The calendar as stored now (the watch, told through `on_change`, compares it with
        the library and settles the warnings)."""
        async with self.engine.connect() as conn:
            self.calendar.set_notices(await store.notices(conn, self.country))

    async def publish(self, actor: str, notice: Notice, reference: str) -> tuple[YearReply, bool]:
        """(the year as published, whether it is new)."""
        outcome = await change(
            self.engine,
            self.on_change,
            lambda c: store.publish(
                c, actor, self.country, notice, reference=reference, now=dt.datetime.now(dt.UTC)
            ),
        )
        await self._refresh()
        shown = self._shown(notice, (await self._published()).get(notice.year), "notice")
        return shown, outcome.created

    async def withdraw(self, actor: str, year: int, *, accept_library: bool) -> YearReply | None:
        """The admin's publication removed; with `accept_library` the library's data takes
        over (the year as it is now), else None."""
        action = "accept_library" if accept_library else "delete"

        async def gone(conn: AsyncConnection) -> Outcome:
            outcome = await store.withdraw(conn, actor, self.country, year, action)
            if outcome is None:
                raise NotFound("year", f"{year} was not published by an admin")
            if accept_library and year not in self.calendar.library_years:
                raise Conflict(  # rolls the withdrawal back
                    "year", f"the holidays package {self.library_version} does not carry {year}"
                )
            return outcome

        await change(self.engine, self.on_change, gone)
        await self._refresh()
        notice = self.calendar.schedule(year)
        if notice is None or not accept_library:
            return None
        return self._shown(notice, None, "library")

    def working_day(self, after: dt.date, days: int) -> dt.date:
        try:
            return self.calendar.add_working_days(after, days)
        except NoSchedule as err:
            raise Conflict("deadline", f"{err}: an admin must publish the year's notice") from None

    async def stored_warnings(self) -> list[WarningReply]:
        return [
            warning_reply(w) for w in self.warnings(stored_differences(await self._published()))
        ]
