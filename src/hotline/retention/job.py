"""The daily purge (R27): recordings past their legal period (their files in Asterisk
removed, the rows marked), the access log's old rows (through the retention role's own
connection: the service's role cannot delete them), ended console sessions. Cases on a
legal hold keep theirs. Each purge is audited; a run's report is kept for the API."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hotline.ari import AriClient, AriError
from hotline.ari import NotFound as AriNotFound
from hotline.core.fence import Fence
from hotline.retention import store
from hotline.retention.policy import Periods, cutoffs, next_run

log = logging.getLogger(__name__)

BATCH = 200  # recordings removed a transaction
ACTOR = "retention"


@dataclass
class Report:
    at: dt.datetime
    by: str
    recordings: int = 0
    access_rows: int = 0
    sessions: int = 0
    problems: list[str] = field(default_factory=list)

    def shown(self) -> dict[str, Any]:
        return {**asdict(self), "at": self.at.isoformat()}


class RetentionJob:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        periods: Periods,
        tz: ZoneInfo,
        ari: AriClient | None,
        retention_engine: AsyncEngine | None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        fence: Fence | None = None,
    ) -> None:
        self._fence = fence  # purges are the leader's: checked in their transactions
        self.periods = periods
        self._engine = engine
        self._tz = tz
        self._ari = ari
        self._retention = retention_engine
        self._clock = clock
        self._lock = asyncio.Lock()
        self.last: Report | None = None

    def next_run(self) -> dt.datetime:
        return next_run(self._clock(), self._tz)

    async def run(self) -> None:
        """Daily, at the policy's hour; the service's own task, cancelled at shutdown."""
        while True:
            wait = (self.next_run() - self._clock()).total_seconds()
            await asyncio.sleep(max(wait, 1.0))
            try:
                await self.purge(ACTOR)
            except (SQLAlchemyError, OSError) as err:
                log.error("retention: the purge failed (%s); tried again tomorrow", err)

    async def purge(self, by: str) -> Report:
        """One purge now (one at a time); `by` is the audit rows' actor."""
        async with self._lock:
            report = Report(at=self._clock(), by=by)
            cut = cutoffs(self.periods, report.at)
            report.recordings = await self._recordings(cut.recordings, by, report)
            async with self._engine.begin() as conn:
                await self._fenced(conn)
                report.sessions = await store.purge_sessions(conn, cut.sessions, by)
            if self._retention is None:
                report.problems.append(
                    "access log not purged: HOTLINE_RETENTION_DATABASE_URL is not set"
                )
            else:
                try:
                    async with self._retention.begin() as conn:
                        report.access_rows = await store.purge_access(conn, cut.access, by)
                except SQLAlchemyError as err:
                    report.problems.append(f"access log not purged: {type(err).__name__}")
                    log.error("retention: access log not purged (%s)", type(err).__name__)
            self.last = report
        log.info(
            "retention: %d recording(s), %d access row(s), %d session(s) purged",
            report.recordings,
            report.access_rows,
            report.sessions,
        )
        return report

    async def _fenced(self, conn: AsyncConnection) -> None:
        if self._fence is not None:
            await self._fence.check(conn)  # Deposed: nothing purged

    async def _recordings(self, before: dt.datetime, by: str, report: Report) -> int:
        if self._ari is None:
            return 0
        done = 0
        while True:
            async with self._engine.connect() as conn:
                names = await store.recordings_due(conn, before, BATCH)
            gone: list[str] = []
            for name in names:
                try:
                    await self._ari.delete_recording(name)
                except AriNotFound:
                    pass  # already gone: marked all the same
                except AriError as err:
                    report.problems.append(f"recording {name} kept: Asterisk said {err.status}")
                    continue
                gone.append(name)
            if gone:
                async with self._engine.begin() as conn:
                    await self._fenced(conn)
                    await store.recordings_purged(conn, gone, before, by)
                done += len(gone)
            if len(names) < BATCH or not gone:
                return done
