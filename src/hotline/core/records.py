"""The records of the hotline: what happened to a call, a case, a callback or an operator,
as idempotent operations. The call flow produces them; the recorder (db.recorder) applies
them to PostgreSQL (db.records), in order, and spools them while the database is down.

Each operation can be applied twice with the same effect as once, so a replay after an
outage never duplicates anything.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


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


class CallQueued(_Op):
    """The call waits in ``queue`` (again, after an overflow or transfer)."""

    op: Literal["call_queued"] = "call_queued"
    call_id: uuid.UUID
    queue: str
    priority: int
    at: dt.datetime
    overflow: bool = False


class CallConnected(_Op):
    """An operator answered: the first one owns the case (R14)."""

    op: Literal["call_connected"] = "call_connected"
    call_id: uuid.UUID
    case_id: uuid.UUID
    operator_id: int
    at: dt.datetime


class CaseOwned(_Op):
    """An operator took the case (a callback answered): the first one stays the owner (R14)."""

    op: Literal["case_owned"] = "case_owned"
    case_id: uuid.UUID
    operator_id: int
    at: dt.datetime


class CallBreached(_Op):
    """The caller waited past the queue's service level without a human (R1)."""

    op: Literal["call_breached"] = "call_breached"
    call_id: uuid.UUID
    at: dt.datetime


class CallbackDue(_Op):
    """A callback to make: from an abandoned or after-hours call, or asked for by a person."""

    op: Literal["callback_due"] = "callback_due"
    callback_id: uuid.UUID
    case_id: uuid.UUID
    call_id: uuid.UUID | None
    number: str | None
    reason: str
    waited_s: float | None
    at: dt.datetime
    queue: str | None = None
    due_at: dt.datetime | None = None
    max_attempts: int | None = None
    spacing_s: int | None = None
    requested_by: str | None = None


class CallbackAttempted(_Op):
    """One try at a callback and how it went; the callback is then due again at
    `next_due_at`, or closed (`next_due_at` None, see CallbackClosed)."""

    op: Literal["callback_attempted"] = "callback_attempted"
    attempt_id: uuid.UUID
    callback_id: uuid.UUID
    attempt: int
    operator_id: int | None
    outcome: str  # answered | no_answer | busy | failed | operator_left
    cause: int | None
    started_at: dt.datetime
    answered_at: dt.datetime | None
    ended_at: dt.datetime
    next_due_at: dt.datetime | None


class CallbackRenewed(_Op):
    """The number of a pending callback asked again (hung up waiting once more): the one
    callback is due at `due_at` now, sooner than it was."""

    op: Literal["callback_renewed"] = "callback_renewed"
    callback_id: uuid.UUID
    due_at: dt.datetime


class CallbackClosed(_Op):
    op: Literal["callback_closed"] = "callback_closed"
    callback_id: uuid.UUID
    outcome: str  # talked | given_up | cancelled
    operator_id: int | None
    at: dt.datetime


class OperatorStateRecord(_Op):
    """What the floor shows of an operator now; with `availability`, also what they are set
    to (the floor pauses an operator who let a call ring out)."""

    op: Literal["operator_state"] = "operator_state"
    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    operator_id: int
    state: str
    reason: str | None
    call_id: uuid.UUID | None
    at: dt.datetime
    availability: str | None = None


class CaseClassified(_Op):
    """The case is of `case_class` from now on (an emergency confirmed on a hotline call)."""

    op: Literal["case_classified"] = "case_classified"
    case_id: uuid.UUID
    case_class: str


class LegSeen(_Op):
    """What is known now of one party of an emergency conference. Fields left None keep
    what was recorded before: dialled, answered, acknowledged, left, each once."""

    op: Literal["leg_seen"] = "leg_seen"
    leg_id: uuid.UUID
    case_id: uuid.UUID
    call_id: uuid.UUID
    channel_id: str
    role: str  # elder | operator | ambulance | family | supervisor | party
    label: str
    number: str | None = None
    tier: int | None = None
    attempt: int = 1
    dialled_at: dt.datetime | None = None
    answered_at: dt.datetime | None = None
    acknowledged_at: dt.datetime | None = None
    left_at: dt.datetime | None = None
    end_cause: int | None = None
    end_reason: str | None = None


class RecordingKept(_Op):
    """A recording of the case's conference (started; `stopped_at` once it stops)."""

    op: Literal["recording_kept"] = "recording_kept"
    name: str
    case_id: uuid.UUID
    call_id: uuid.UUID
    started_at: dt.datetime
    stopped_at: dt.datetime | None = None


class TaskDue(_Op):
    """A follow-up owed on a case (R11, R12)."""

    op: Literal["task_due"] = "task_due"
    task_id: uuid.UUID
    case_id: uuid.UUID
    kind: str
    due_at: dt.datetime
    owner_operator_id: int | None
    at: dt.datetime


class AlarmReceived(_Op):
    """Alarm data from a one-key terminal; `case_id` once it is tied to a voice call."""

    op: Literal["alarm_received"] = "alarm_received"
    alarm_id: uuid.UUID
    at: dt.datetime
    case_id: uuid.UUID | None = None
    ref: str | None = None
    caller_number: str | None = None
    device_type: str | None = None
    device_id: str | None = None
    status_code: int | None = None
    alarm_type: str | None = None
    priority: int | None = None
    location_code: str | None = None
    location_text: str | None = None
    latitude: float | None = None
    longitude: float | None = None


class AlarmTied(_Op):
    op: Literal["alarm_tied"] = "alarm_tied"
    alarm_id: uuid.UUID
    case_id: uuid.UUID


class SurveyAnswered(_Op):
    """A satisfaction survey's result (R21), kept with the provider of the case's latest
    service order; with `reopen_due_at`, a dissatisfied caller: the case goes back to its
    owner with a task due then (R20)."""

    op: Literal["survey_answered"] = "survey_answered"
    survey_id: uuid.UUID
    case_id: uuid.UUID
    call_id: uuid.UUID | None
    operator_id: int | None  # who handed the caller to the survey
    asked_at: dt.datetime
    outcome: str  # answered | timeout | invalid | hung_up
    score: int | None
    at: dt.datetime
    reopen_due_at: dt.datetime | None = None


Op = Annotated[
    CallStarted
    | CallAnswered
    | CallIdentified
    | CaseOpened
    | CaseStep
    | CallEnded
    | CallQueued
    | CallConnected
    | CaseOwned
    | CallBreached
    | CallbackDue
    | CallbackAttempted
    | CallbackClosed
    | CallbackRenewed
    | OperatorStateRecord
    | CaseClassified
    | LegSeen
    | RecordingKept
    | TaskDue
    | AlarmReceived
    | AlarmTied
    | SurveyAnswered,
    Field(discriminator="op"),
]
OP_ADAPTER: TypeAdapter[Op] = TypeAdapter(Op)
