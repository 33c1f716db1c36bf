"""The screen pop: what an operator sees of a caller while the softphone rings.

`CallFacts` are folded from the event stream (line, number, who the directory says called,
when it arrived and queued); `PopData` is read from PostgreSQL once the caller is identified,
before any operator is chosen, so that the offer only has to render and send it. Which open
case comes first is decided here, purely: the case the offered operator owns (R14), then the
newest.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from hotline.db.models import Alarm
from hotline.elders import store as elders
from hotline.elders.schemas import ElderRecord, ElderSummary, OpenCase


@dataclass(frozen=True)
class CallFacts:
    call_id: uuid.UUID
    case_id: uuid.UUID
    entry: str
    number: str | None
    arrived_at: dt.datetime
    caller_kind: str | None = None
    elder_id: int | None = None
    contact_id: int | None = None
    candidates: tuple[int, ...] = ()
    queue: str | None = None
    queued_at: dt.datetime | None = None
    operator_id: int | None = None  # the operator who answered

    def identified(
        self,
        caller_kind: str,
        elder_id: int | None,
        contact_id: int | None,
        candidates: tuple[int, ...],
    ) -> CallFacts:
        return replace(
            self,
            caller_kind=caller_kind,
            elder_id=elder_id,
            contact_id=contact_id,
            candidates=candidates,
        )


@dataclass(frozen=True)
class PopData:
    record: ElderRecord | None = None
    candidates: tuple[ElderSummary, ...] = ()  # no health data: the operator chooses
    alarm: dict[str, Any] | None = None
    loaded_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


async def load(conn: AsyncConnection, facts: CallFacts, today: dt.date) -> PopData:
    """Everything the pop shows, in a few indexed reads (the elder by key, their contacts,
    open cases and last calls by elder, the alarm by case)."""
    record = None
    if facts.elder_id is not None:
        record = await elders.full_record(conn, facts.elder_id, today=today)
    candidates: tuple[ElderSummary, ...] = ()
    if facts.candidates:
        candidates = tuple(await elders.summaries(conn, facts.candidates, today=today))
    alarm = None
    if facts.entry == "terminal":
        alarm = await alarm_of(conn, facts.case_id)
    return PopData(record, candidates, alarm)


async def alarm_of(conn: AsyncConnection, case_id: uuid.UUID) -> dict[str, Any] | None:
    row = (
        await conn.execute(
            select(
                Alarm.alarm_type,
                Alarm.status_code,
                Alarm.device_type,
                Alarm.location_text,
                Alarm.location_code,
                Alarm.latitude,
                Alarm.longitude,
                Alarm.received_at,
            )
            .where(Alarm.case_id == case_id)
            .order_by(Alarm.received_at.desc())
            .limit(1)
        )
    ).first()
    return None if row is None else dict(row._mapping)


def cases_first(cases: list[OpenCase], operator_id: int) -> list[OpenCase]:
    """The offered operator's own open cases first (R14), then the newest."""
    newest = sorted(cases, key=lambda c: c.opened_at, reverse=True)
    return sorted(newest, key=lambda c: c.owner_operator_id != operator_id)


def waited_s(facts: CallFacts, now: dt.datetime) -> int:
    return max(0, round((now - facts.arrived_at).total_seconds()))
