"""The one deadline scheduler: it sleeps until the next thing due on any case (a warning, a
due time), claims what is due in PostgreSQL and acts on it, and sleeps again. Nothing is
polled per case; its state is the tasks' own columns, so a restart picks up where it was
(what fell due while it was down fires at once, and nothing fires twice).

A task added elsewhere (an action through the API or the console, another process) is seen
when the scheduler is woken (`wake`, on an emergency or a dissatisfied survey on the event
bus) or at the latest after `check` (HOTLINE_DEADLINE_CHECK_S, a minute): one indexed read,
and no deadline it keeps is due that soon after it is made. Wakes are taken together, at most
one look a `WAKE_GAP` (and the task's own record has been written by then).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.calls.ports import Publish
from hotline.core import events as ev
from hotline.core.fence import Fence
from hotline.deadlines import rules, store
from hotline.deadlines.store import Claimed

log = logging.getLogger(__name__)

WAKE_GAP = 1.0  # seconds between two looks when woken
FollowUp = Callable[[Claimed], Awaitable[None]]
"""Offer the follow-up call of a task (R12, R19) to the case's owner."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class DeadlineWatch:
    def __init__(
        self,
        engine: AsyncEngine,
        publish: Publish,
        *,
        follow_up: FollowUp | None = None,
        clock: Callable[[], dt.datetime] = _now,
        check: dt.timedelta = dt.timedelta(minutes=1),
        fence: Fence | None = None,
    ) -> None:
        self._engine = engine
        self._fence = fence  # claims are the leader's: checked in their transaction
        self._publish = publish
        self._follow_up = follow_up
        self._clock = clock
        self._check = check
        self._wake = asyncio.Event()
        self.fired = 0  # warnings, escalations and closings done by this process

    def wake(self) -> None:
        self._wake.set()

    def fold(self, seq: int, event: ev.DomainEvent) -> None:
        """On the bus: what adds a task in this process (an emergency's follow-ups, R11 and
        R12; a dissatisfied survey's, R20). Not every case change: each call changes its
        case twice, and looking for nothing is a query a call."""
        match event:
            case ev.EmergencyStarted() | ev.SurveyAnswered(reopened=True):
                self._wake.set()
            case _:
                pass

    async def run(self) -> None:
        """Owned task."""
        while True:
            self._wake.clear()
            try:
                await self.fire(self._clock())
                async with self._engine.connect() as conn:
                    nxt = await store.next_due(conn, self._clock())
            except Exception as err:  # the database is away: try again soon
                log.warning("deadlines: cannot read the case store (%s)", type(err).__name__)
                nxt = self._clock() + dt.timedelta(seconds=5)
            limit = self._clock() + self._check
            until = limit if nxt is None else min(nxt, limit)
            timeout = max(0.0, (until - self._clock()).total_seconds())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
                await asyncio.sleep(WAKE_GAP)  # the task's record written; later wakes with it

    async def fire(self, now: dt.datetime) -> int:
        """Everything due at `now`: warnings, escalations, closings. Returns how many."""
        async with self._engine.begin() as conn:
            if self._fence is not None:
                await self._fence.check(conn)  # Deposed: nothing claimed
            warned = await store.claim_warnings(conn, now)
            due = await store.claim_due(conn, now)
            overdue: list[Claimed] = []
            for task in due:
                if rules.at_due(task.kind) == "auto_close":
                    if await store.auto_close(conn, task, now):
                        self._publish(ev.CaseChanged(case_id=task.case_id, status="closed"))
                else:
                    await store.missed(conn, task)
                    overdue.append(task)
        for task in warned:  # published once committed: never for a claim rolled back
            self._publish(ev.DeadlineDueSoon(**_fields(task)))
            if task.kind in rules.FOLLOW_UP_CALLS and self._follow_up is not None:
                try:
                    await self._follow_up(task)
                except Exception as err:  # the deadline stands; the owner can still call
                    log.warning("follow-up call not offered (%s)", type(err).__name__)
        for task in overdue:
            log.info("deadline missed: %s task of case %s", task.kind, task.case_id)
            self._publish(ev.DeadlineOverdue(**_fields(task)))
        count = len(warned) + len(due)
        self.fired += count
        return count


def _fields(task: Claimed) -> dict[str, object]:
    return {
        "task_id": task.task_id,
        "case_id": task.case_id,
        "kind": task.kind,
        "due_at": task.due_at,
        "owner_operator_id": task.owner_operator_id,
    }
