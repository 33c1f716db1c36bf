"""The supervisors' floor: the live snapshot (folded from the event stream) merged with
today's figures from PostgreSQL (floor.stats).

"Today" starts at the local midnight of the hotline's time zone. The merge is pure; `view`
does the one read it needs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.core.words import OperatorState
from hotline.events.live import FloorSnapshot, LiveQueue
from hotline.floor import stats

Snapshot = Callable[[], FloorSnapshot]


def empty_snapshot() -> FloorSnapshot:
    """The floor with nothing live (no service in this process)."""
    return FloorSnapshot(0, dt.datetime.now(dt.UTC), (), (), (), ())


class OperatorNow(BaseModel):
    state: OperatorState
    reason: str | None
    reachable: bool
    calls: int


class QueueFloor(BaseModel):
    waiting: int
    longest_wait_s: float
    callbacks_waiting: int
    offered_today: int
    answered_today: int
    abandoned_today: int
    overflowed_today: int
    breached_today: int  # waited past the service level without a human (R1)
    service_level_today: float | None  # 0..1; None until a call has stopped waiting
    avg_answer_s: float | None  # None until a call is answered
    service_level_s: int | None  # the threshold; None in the totals


class FloorTotals(QueueFloor):
    callbacks_due: int


class AlertNow(BaseModel):
    """What supervisors must see until it is put right or passes: the working-day calendar
    (unpublished, conflict), the console's security (login_locked, record_opened,
    record_limit)."""

    key: str
    kind: str
    since: dt.datetime
    country: str
    year: int | None
    days_left: int | None
    differences: int
    refusals: int
    operator_id: int | None
    until: dt.datetime | None
    count: int


class FloorReply(BaseModel):
    at: dt.datetime
    since: dt.datetime
    queues: dict[str, QueueFloor]
    operators: dict[str, OperatorNow]
    totals: FloorTotals
    alerts: list[AlertNow] = []


def start_of_day(now: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """The local midnight that began `now`'s day in `tz`."""
    return dt.datetime.combine(now.astimezone(tz).date(), dt.time(0), tzinfo=tz)


_NO_CALLS = stats.QueueDay(
    offered=0,
    answered=0,
    answered_within=0,
    abandoned=0,
    overflowed=0,
    breached=0,
    waiting=0,
    avg_answer_s=None,
    service_level=None,
)
_IDLE = LiveQueue("", 0, 0.0, 0)


def _queue(live: LiveQueue, day: stats.QueueDay, threshold: int | None) -> QueueFloor:
    return QueueFloor(
        waiting=live.waiting,
        longest_wait_s=live.longest_wait_s,
        callbacks_waiting=live.callbacks_waiting,
        offered_today=day["offered"],
        answered_today=day["answered"],
        abandoned_today=day["abandoned"],
        overflowed_today=day["overflowed"],
        breached_today=day["breached"],
        service_level_today=day["service_level"],
        avg_answer_s=day["avg_answer_s"],
        service_level_s=threshold,
    )


def merge(snapshot: FloorSnapshot, today: stats.Today, at: dt.datetime) -> FloorReply:
    """One view: every queue live or in the database, every operator the floor knows."""
    live = {q.name: q for q in snapshot.queues}
    queues: dict[str, QueueFloor] = {}
    for name in sorted(live.keys() | today["queues"].keys()):
        day = today["queues"].get(name)
        queues[name] = _queue(
            live.get(name, _IDLE), day or _NO_CALLS, day["service_level_s"] if day else None
        )
    total = LiveQueue(
        "",
        sum(q.waiting for q in live.values()),
        max((q.longest_wait_s for q in live.values()), default=0.0),
        sum(q.callbacks_waiting for q in live.values()),
    )
    totals = _queue(total, today["totals"], None)
    return FloorReply(
        at=at,
        since=today["since"],
        queues=queues,
        operators={
            str(op.operator_id): OperatorNow(
                state=op.state, reason=op.reason, reachable=op.reachable, calls=op.calls
            )
            for op in snapshot.operators
        },
        totals=FloorTotals(**totals.model_dump(), callbacks_due=today["callbacks_due"]),
        alerts=[AlertNow(**dataclasses.asdict(alert)) for alert in snapshot.alerts],
    )


async def view(
    engine: AsyncEngine, snapshot: Snapshot, tz: ZoneInfo, now: dt.datetime | None = None
) -> FloorReply:
    at = (now or dt.datetime.now(dt.UTC)).astimezone(tz)
    async with engine.connect() as conn:
        today = await stats.today(conn, since=start_of_day(at, tz))
    return merge(snapshot(), today, at)
