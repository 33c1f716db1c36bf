"""Today's figures per queue, from the calls table: two queries, aggregated in PostgreSQL.

A call counts for the queue it is in now: a call moved by overflow to another queue counts
there (its queued_at stays the first queue's, so its answer time is the caller's whole wait).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TypedDict

from sqlalchemy import ColumnElement, Float, and_, case, cast, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hotline.db.models import Call, Callback, Queue

# A call is queued within minutes of its start; this bound lets PostgreSQL use the index on
# calls.started_at instead of reading the whole table on every scrape.
_LONGEST_CALL = dt.timedelta(days=1)


class QueueDay(TypedDict):
    offered: int  # queued today
    answered: int  # connected to an operator
    answered_within: int  # ... within the queue's service-level threshold
    abandoned: int  # the caller hung up while waiting
    overflowed: int
    breached: int  # waited past the service level without a human (R1)
    waiting: int  # queued today, neither connected nor ended
    avg_answer_s: float | None  # None: nothing answered
    service_level: float | None  # None: nothing offered that has stopped waiting


class QueueToday(QueueDay):
    service_level_s: int  # the threshold used


class Today(TypedDict):
    since: dt.datetime
    queues: dict[str, QueueToday]
    totals: QueueDay
    callbacks_due: int  # not done yet, whenever asked for


def _day(counts: Sequence[int], answer_s: float) -> QueueDay:
    """`counts`: offered, answered, within, abandoned, overflowed, breached, waiting."""
    offered, answered, within, abandoned, overflowed, breached, waiting = counts
    done = offered - waiting
    return QueueDay(
        offered=offered,
        answered=answered,
        answered_within=within,
        abandoned=abandoned,
        overflowed=overflowed,
        breached=breached,
        waiting=waiting,
        avg_answer_s=round(answer_s / answered, 1) if answered else None,
        service_level=round(within / done, 3) if done > 0 else None,
    )


async def today(
    conn: AsyncConnection,
    *,
    since: dt.datetime,
    service_level_s: Mapping[str, int] | None = None,
) -> Today:
    """Every queue's figures for calls queued at or after `since` (the local midnight), and
    the totals. `service_level_s` overrides queues.service_level_s by queue name."""
    if since.tzinfo is None:
        raise ValueError("since must carry its time zone")
    threshold: ColumnElement[int] = (
        case(dict(service_level_s), value=Queue.name, else_=Queue.service_level_s)
        if service_level_s
        else Queue.service_level_s.expression
    )
    answer_s = cast(func.extract("epoch", Call.connected_at - Call.queued_at), Float)
    counted = func.count(Call.id)
    query = (
        select(
            Queue.name,
            threshold.label("threshold"),
            counted.label("offered"),
            counted.filter(Call.connected_at.is_not(None)).label("answered"),
            counted.filter(answer_s <= threshold).label("within"),
            counted.filter(Call.connected_at.is_(None), Call.ended_by == "caller").label(
                "abandoned"
            ),
            counted.filter(Call.overflowed_at.is_not(None)).label("overflowed"),
            counted.filter(Call.sla_breached_at.is_not(None)).label("breached"),
            counted.filter(Call.connected_at.is_(None), Call.ended_at.is_(None)).label("waiting"),
            func.coalesce(func.sum(answer_s), 0.0).label("answer_s"),
        )
        .select_from(Queue)
        .outerjoin(
            Call,
            and_(
                Call.queue_id == Queue.id,
                Call.queued_at >= since,
                Call.started_at >= since - _LONGEST_CALL,
            ),
        )
        .group_by(Queue.id, Queue.name, Queue.service_level_s)
        .order_by(Queue.name)
    )
    queues: dict[str, QueueToday] = {}
    sums = [0] * 7
    total_answer_s = 0.0
    for row in await conn.execute(query):
        counts = (
            row.offered,
            row.answered,
            row.within,
            row.abandoned,
            row.overflowed,
            row.breached,
            row.waiting,
        )
        queues[row.name] = QueueToday(
            **_day(counts, row.answer_s), service_level_s=int(row.threshold)
        )
        sums = [a + b for a, b in zip(sums, counts, strict=True)]
        total_answer_s += row.answer_s
    due = await conn.scalar(
        select(func.count()).select_from(Callback).where(Callback.status == "pending")
    )
    return Today(
        since=since,
        queues=queues,
        totals=_day(sums, total_answer_s),
        callbacks_due=int(due or 0),
    )
