"""What the queue and line routes take (bodies) and give back (replies)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, ValidationInfo, field_validator

from hotline.api.bodies import Body, DisplayName, QueueName
from hotline.core.words import FALLBACK, OperatorState, Strategy

HourMinute = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]


class QueueBody(Body):
    name: QueueName
    display_name: DisplayName
    strategy: Strategy = "longest_idle"
    ring_timeout_s: Annotated[int, Field(ge=1, le=300)] = 15
    wrapup_s: Annotated[int, Field(ge=0, le=600)] = 10
    service_level_s: Annotated[int, Field(ge=1, le=600)] = 10
    overflow_after_s: Annotated[int, Field(ge=1, le=3600)] | None = None
    # Another queue's name or "fallback"; that the queue exists is checked in the database.
    overflow_target: QueueName | None = Field(default=None, validate_default=True)
    announce_every_s: Annotated[int, Field(ge=5, le=600)] | None = 30
    # Callbacks of this queue: how many times to dial, and how long between tries.
    callback_attempts: Annotated[int, Field(ge=1, le=10)] = 3
    callback_spacing_s: Annotated[int, Field(ge=1, le=86400)] = 900
    callback_on_abandon: bool = True  # call back callers who hung up while waiting here

    @field_validator("name")
    @classmethod
    def _not_fallback(cls, value: str) -> str:
        if value == FALLBACK:
            raise ValueError(f"{FALLBACK!r} is reserved for the duty ring group")
        return value

    @field_validator("overflow_target")
    @classmethod
    def _overflow_pair(cls, value: str | None, info: ValidationInfo) -> str | None:
        if "overflow_after_s" in info.data and (value is None) != (
            info.data["overflow_after_s"] is None
        ):
            raise ValueError("set overflow_after_s and overflow_target together, or neither")
        if value is not None and value == info.data.get("name"):
            raise ValueError("a queue cannot overflow into itself")
        return value


class MemberBody(Body):
    penalty: Annotated[int, Field(ge=0, le=100)] = 0


class LineBody(Body):
    """A line's settings (the whole set: a PATCH is laid over the stored one)."""

    queue: QueueName
    opens: HourMinute | None
    closes: HourMinute | None
    after_hours_queue: QueueName | None
    offer_callback: bool

    @field_validator("closes")
    @classmethod
    def _hours_pair(cls, value: str | None, info: ValidationInfo) -> str | None:
        if "opens" not in info.data:
            return value
        opens = info.data["opens"]
        if (value is None) != (opens is None):
            raise ValueError("set opens and closes together, or both null for 24 hours")
        if value is not None and value == opens:
            raise ValueError("opens and closes must differ (both null for 24 hours)")
        return value


class QueueReply(BaseModel):
    name: str
    display_name: str
    strategy: Strategy
    ring_timeout_s: int
    wrapup_s: int
    service_level_s: int
    overflow_after_s: int | None
    overflow_target: str | None
    announce_every_s: int | None
    callback_attempts: int
    callback_spacing_s: int
    callback_on_abandon: bool
    updated_at: dt.datetime


class MemberReply(BaseModel):
    queue: str
    operator_id: int
    username: str
    display_name: str
    active: bool
    state: OperatorState
    penalty: int


class LineReply(BaseModel):
    entry: str
    queue: str
    opens: str | None
    closes: str | None
    after_hours_queue: str | None
    offer_callback: bool
