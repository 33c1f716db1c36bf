"""The working-day calendar kept current and watched (one owned task).

`reload` reads the published years and the local exceptions into the service's one
`WorkCalendar` (at start-up and after every admin change, before the change's reply), compares
each published year with the `holidays` package's data for the same year (a difference is an
ALERT in the log, stored on the year, and a warning on the event stream and the floor: the
admin's days stand until an admin accepts the library's), and raises or settles the warnings
of `rules`. `run` does it again at every local midnight (the 30-day lead moves on) and every
hour (a change made by another process). A refused deadline (a year nobody published) is an
event too.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from importlib import metadata
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.calendars import rules, store
from hotline.core import events as ev
from hotline.workdays import WorkCalendar

log = logging.getLogger(__name__)

Publish = Callable[[ev.DomainEvent], None]
RELOAD_EVERY = dt.timedelta(hours=1)
LIBRARY_VERSION = metadata.version("holidays")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class CalendarWatch:
    def __init__(
        self,
        engine: AsyncEngine,
        calendar: WorkCalendar,
        publish: Publish,
        tz: ZoneInfo,
        *,
        clock: Callable[[], dt.datetime] = _now,
        library_version: str = LIBRARY_VERSION,
    ) -> None:
        self.engine = engine
        self.calendar = calendar
        self.publish = publish
        self.tz = tz
        self.clock = clock
        self.library_version = library_version
        self.warnings: dict[str, rules.Warning] = {}
        self._conflicts: dict[int, list[dt.date]] = {}
        self._failing = False
        self._started = False  # the first reload logs every conflict (start-up), later news
        calendar.on_refused = self.refused

    @property
    def country(self) -> str:
        return self.calendar.country

    async def reload(self) -> None:
        """The calendar as PostgreSQL has it now; the library compared; warnings updated."""
        now = self.clock()
        async with self.engine.begin() as conn:
            notices = await store.notices(conn, self.country)
            local = await store.local_days(conn)
            self.calendar.set_notices(notices)
            self.calendar.set_local(*local)
            conflicts: dict[int, list[dt.date]] = {}
            for year in sorted(notices):
                if year not in self.calendar.library_years:
                    continue
                differences = self.calendar.differences(year)
                news = await store.record_differences(
                    conn,
                    self.country,
                    year,
                    version=self.library_version,
                    differences=differences,
                    now=now,
                )
                conflicts[year] = differences
                if differences and (news or not self._started):
                    log.error(
                        "ALERT calendar: holidays %s carries %s %d and disagrees with the "
                        "published notice on %d days (first %s); the published notice stands "
                        "until an admin accepts the library's",
                        self.library_version,
                        self.country,
                        year,
                        len(differences),
                        differences[0],
                    )
        self._conflicts = conflicts
        self._started = True
        self.check()

    def check(self) -> None:
        """Raise the warnings that hold today and settle those that no longer do."""
        today = self.clock().astimezone(self.tz).date()
        now = [
            *rules.unpublished(today, self.calendar.known_years, self.country),
            *rules.conflicts(self.country, self._conflicts),
        ]
        raised, settled = rules.changes(self.warnings, now)
        for warning in raised:
            if warning.kind == "unpublished":
                log.error(
                    "ALERT calendar: no official %s working-day schedule for %d (%d days to "
                    "go%s): an admin must publish the year's notice",
                    self.country,
                    warning.year,
                    warning.days_left or 0,
                    "; deadlines into it are refused now" if rules.refusing(today) else "",
                )
            self.publish(
                ev.CalendarWarning(
                    key=warning.key,
                    kind=warning.kind,
                    country=warning.country,
                    year=warning.year,
                    days_left=warning.days_left,
                    differences=warning.differences,
                )
            )
        for warning in settled:
            log.info("calendar: %s settled", warning.key)
            self.publish(
                ev.CalendarSettled(
                    key=warning.key, kind=warning.kind, country=warning.country, year=warning.year
                )
            )
        self.warnings = {w.key: w for w in now}

    def refused(self, year: int) -> None:
        """The calendar was asked about a year nobody published: the action is refused."""
        self.publish(ev.DeadlineRefused(country=self.country, year=year))

    def _until_next(self) -> float:
        now = self.clock().astimezone(self.tz)
        midnight = dt.datetime.combine(
            now.date() + dt.timedelta(days=1), dt.time(0, 0, 1), tzinfo=self.tz
        )
        return max(1.0, min((midnight - now).total_seconds(), RELOAD_EVERY.total_seconds()))

    async def run(self) -> None:
        """Owned task: again at every local midnight and every hour."""
        while True:
            await asyncio.sleep(self._until_next())
            try:
                await self.reload()
            except Exception as err:  # PostgreSQL away: keep what we have, say so once
                if not self._failing:
                    log.warning("calendar not reloaded (%s); retrying", type(err).__name__)
                self._failing = True
                self.check()
            else:
                if self._failing:
                    log.info("calendar reloaded again")
                self._failing = False
