"""The supervisors' floor: the desk's live snapshot merged with today's figures (db.stats).

"Today" starts at the local midnight of the hotline's time zone. The merge is pure; `view`
does the one read it needs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, TypedDict
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.db import stats

Snapshot = Callable[[], dict[str, object]]  # Desk.snapshot: {"queues": ..., "operators": ...}

FLOOR: web.AppKey[Snapshot] = web.AppKey("floor")
TZ = web.AppKey("tz", ZoneInfo)

DEFAULT_TZ = ZoneInfo("Asia/Shanghai")


def empty_snapshot() -> dict[str, object]:
    """The default floor: nothing waiting, nobody logged in (no desk in this process)."""
    return {"queues": {}, "operators": {}}


class LiveOperator(TypedDict):
    state: str
    reason: str | None
    reachable: bool
    calls: int


class FloorQueue(TypedDict):
    waiting: int
    longest_wait_s: float
    offered_today: int
    answered_today: int
    abandoned_today: int
    overflowed_today: int
    service_level_today: float | None  # 0..1; None until a call has stopped waiting
    avg_answer_s: float | None  # None until a call is answered
    service_level_s: int | None  # the threshold; None in the totals


class FloorTotals(FloorQueue):
    callbacks_due: int


class FloorView(TypedDict):
    at: str
    since: str
    queues: dict[str, FloorQueue]
    operators: dict[str, LiveOperator]
    totals: FloorTotals


def start_of_day(now: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """The local midnight that began `now`'s day in `tz`."""
    return dt.datetime.combine(now.astimezone(tz).date(), dt.time(0), tzinfo=tz)


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _live_queues(snapshot: Mapping[str, object]) -> dict[str, tuple[int, float]]:
    """Queue name -> (callers waiting, longest wait in seconds)."""
    out: dict[str, tuple[int, float]] = {}
    for name, raw in _mapping(snapshot.get("queues")).items():
        queue = _mapping(raw)
        out[str(name)] = (int(_number(queue.get("waiting"))), _number(queue.get("longest_wait_s")))
    return out


def _live_operators(snapshot: Mapping[str, object]) -> dict[str, LiveOperator]:
    out: dict[str, LiveOperator] = {}
    for op_id, raw in _mapping(snapshot.get("operators")).items():
        op = _mapping(raw)
        reason = op.get("reason")
        out[str(op_id)] = LiveOperator(
            state=str(op.get("state", "logged_out")),
            reason=reason if isinstance(reason, str) else None,
            reachable=op.get("reachable") is True,
            calls=int(_number(op.get("calls"))),
        )
    return out


def _queue(live: tuple[int, float], day: stats.QueueDay, threshold: int | None) -> FloorQueue:
    return FloorQueue(
        waiting=live[0],
        longest_wait_s=live[1],
        offered_today=day["offered"],
        answered_today=day["answered"],
        abandoned_today=day["abandoned"],
        overflowed_today=day["overflowed"],
        service_level_today=day["service_level"],
        avg_answer_s=day["avg_answer_s"],
        service_level_s=threshold,
    )


_NO_CALLS = stats.QueueDay(
    offered=0,
    answered=0,
    answered_within=0,
    abandoned=0,
    overflowed=0,
    waiting=0,
    avg_answer_s=None,
    service_level=None,
)


def merge(snapshot: Mapping[str, object], today: stats.Today, at: dt.datetime) -> FloorView:
    """One view: every queue the desk or the database knows, every operator the desk knows."""
    live = _live_queues(snapshot)
    queues: dict[str, FloorQueue] = {}
    for name in sorted(live.keys() | today["queues"].keys()):
        day = today["queues"].get(name)
        queues[name] = _queue(
            live.get(name, (0, 0.0)),
            day or _NO_CALLS,
            day["service_level_s"] if day else None,
        )
    waiting = sum(w for w, _ in live.values())
    longest = max((longest for _, longest in live.values()), default=0.0)
    totals = _queue((waiting, longest), today["totals"], None)
    return FloorView(
        at=at.isoformat(),
        since=today["since"].isoformat(),
        queues=queues,
        operators=_live_operators(snapshot),
        totals=FloorTotals(**totals, callbacks_due=today["callbacks_due"]),
    )


async def view(
    engine: AsyncEngine, snapshot: Snapshot, tz: ZoneInfo, now: dt.datetime | None = None
) -> FloorView:
    at = (now or dt.datetime.now(dt.UTC)).astimezone(tz)
    async with engine.connect() as conn:
        today = await stats.today(conn, since=start_of_day(at, tz))
    return merge(snapshot(), today, at)
