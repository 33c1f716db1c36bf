"""What the call flow records, as idempotent operations.

Each operation can be applied twice with the same effect as once, so the recorder may
replay its spool after a database outage without duplicating anything.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from hotline.db.models import Call, Case, CaseEvent

_NAMESPACE = uuid.UUID("5d1c2f46-7b0e-4c53-9a8e-2f6f0f1d9b21")


def call_id_for(linkedid: str) -> uuid.UUID:
    """The call's id, derived from Asterisk's linkedid so a restarted service finds it again."""
    return uuid.uuid5(_NAMESPACE, linkedid)


def intake_case_id_for(call_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(call_id, "intake-case")


class _Op(BaseModel):
    model_config = ConfigDict(frozen=True)


class CallStarted(_Op):
    op: Literal["call_started"] = "call_started"
    call_id: uuid.UUID
    linkedid: str
    channel_id: str
    entry: str
    caller_number: str | None
    at: dt.datetime


class CallAnswered(_Op):
    op: Literal["call_answered"] = "call_answered"
    call_id: uuid.UUID
    at: dt.datetime


class CallIdentified(_Op):
    op: Literal["call_identified"] = "call_identified"
    call_id: uuid.UUID
    caller_kind: str
    elder_id: int | None
    contact_id: int | None


class CaseOpened(_Op):
    op: Literal["case_opened"] = "case_opened"
    case_id: uuid.UUID
    call_id: uuid.UUID
    at: dt.datetime
    channel: str
    case_class: str | None
    elder_id: int | None
    identified: bool


class CaseStep(_Op):
    op: Literal["case_step"] = "case_step"
    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    case_id: uuid.UUID
    at: dt.datetime
    actor: str = "system"
    kind: str
    detail: dict[str, Any] = Field(default_factory=dict)


class CallEnded(_Op):
    op: Literal["call_ended"] = "call_ended"
    call_id: uuid.UUID
    at: dt.datetime
    cause: int | None
    cause_txt: str | None
    ended_by: str


Op = Annotated[
    CallStarted | CallAnswered | CallIdentified | CaseOpened | CaseStep | CallEnded,
    Field(discriminator="op"),
]
OP_ADAPTER: TypeAdapter[Op] = TypeAdapter(Op)


async def apply(conn: AsyncConnection, op: Op) -> None:
    """Apply one operation inside the caller's transaction."""
    match op:
        case CallStarted():
            await conn.execute(
                insert(Call)
                .values(
                    id=op.call_id,
                    linkedid=op.linkedid,
                    channel_id=op.channel_id,
                    entry=op.entry,
                    caller_number=op.caller_number,
                    started_at=op.at,
                )
                .on_conflict_do_nothing(index_elements=["id"])
            )
        case CallAnswered():
            await conn.execute(
                update(Call)
                .where(Call.id == op.call_id)
                .values(answered_at=func.coalesce(Call.answered_at, op.at))
            )
        case CallIdentified():
            await conn.execute(
                update(Call)
                .where(Call.id == op.call_id)
                .values(caller_kind=op.caller_kind, elder_id=op.elder_id, contact_id=op.contact_id)
            )
        case CaseOpened():
            await conn.execute(
                insert(Case)
                .values(
                    id=op.case_id,
                    opened_at=op.at,
                    case_class=op.case_class,
                    status="open",
                    channel=op.channel,
                    elder_id=op.elder_id,
                    identified=op.identified,
                )
                .on_conflict_do_nothing(index_elements=["id"])
            )
            await conn.execute(update(Call).where(Call.id == op.call_id).values(case_id=op.case_id))
        case CaseStep():
            await conn.execute(
                insert(CaseEvent)
                .values(
                    id=op.event_id,
                    case_id=op.case_id,
                    at=op.at,
                    actor=op.actor,
                    kind=op.kind,
                    detail=op.detail,
                )
                .on_conflict_do_nothing(index_elements=["id"])
            )
        case CallEnded():
            await conn.execute(
                update(Call)
                .where(Call.id == op.call_id, Call.ended_at.is_(None))
                .values(
                    ended_at=op.at,
                    end_cause=op.cause,
                    end_cause_txt=op.cause_txt,
                    ended_by=op.ended_by,
                )
            )
