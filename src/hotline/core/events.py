"""Domain events: what happened on the floor, as typed JSON for the event stream
(`GET /api/events`), the live floor and the metrics.

Each event is a frozen pydantic model with a literal `type`; the bus stamps a sequence
number on it when it is published. They carry ids and states, never names, addresses or
health data; a caller's number appears where an operator needs it (the number to call back).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from hotline.core.words import OperatorState, SurveyOutcome, SurveyVerdict


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    at: dt.datetime = Field(default_factory=_now)


CallKind = Literal["inbound", "callback"]


class CallArrived(_Event):
    type: Literal["call.arrived"] = "call.arrived"
    call_id: uuid.UUID
    case_id: uuid.UUID
    entry: str
    number: str | None
    kind: CallKind = "inbound"


class CallIdentified(_Event):
    type: Literal["call.identified"] = "call.identified"
    call_id: uuid.UUID
    caller_kind: str
    elder_id: int | None
    contact_id: int | None
    candidates: tuple[int, ...] = ()


class CallQueued(_Event):
    """The call waits in `queue` (again after an overflow or a transfer)."""

    type: Literal["call.queued"] = "call.queued"
    call_id: uuid.UUID
    queue: str
    priority: int
    kind: CallKind = "inbound"
    overflow: bool = False


class CallOffered(_Event):
    """Operators' softphones ring for the call."""

    type: Literal["call.offered"] = "call.offered"
    call_id: uuid.UUID
    queue: str
    operator_ids: tuple[int, ...]


class CallAnswered(_Event):
    """A human took the call: an operator, or the party a transfer reached."""

    type: Literal["call.answered"] = "call.answered"
    call_id: uuid.UUID
    operator_id: int | None
    queue: str | None
    waited_s: float | None


class CallTransferred(_Event):
    type: Literal["call.transferred"] = "call.transferred"
    call_id: uuid.UUID
    mode: Literal["blind", "attended"]
    target: str
    by: str


class CallEnded(_Event):
    type: Literal["call.ended"] = "call.ended"
    call_id: uuid.UUID
    by: str
    cause: int | None


class AnswerClockBreached(_Event):
    """A caller has waited past the queue's service level without a human (R1), once a call.
    `operators_free`: members who were ready and reachable at that moment."""

    type: Literal["call.answer_clock_breached"] = "call.answer_clock_breached"
    call_id: uuid.UUID
    queue: str | None
    waited_s: float
    service_level_s: int
    operators_free: tuple[int, ...]
    operators_busy: tuple[int, ...]


class OperatorStateChanged(_Event):
    type: Literal["operator.state"] = "operator.state"
    operator_id: int
    state: OperatorState
    reason: str | None = None
    reachable: bool = True
    calls: int = 0


class CallbackScheduled(_Event):
    type: Literal["callback.scheduled"] = "callback.scheduled"
    callback_id: uuid.UUID
    case_id: uuid.UUID
    number: str
    queue: str
    due_at: dt.datetime
    attempt: int  # the attempt this schedules (1 = the first)
    reason: str


class CallbackAttempted(_Event):
    type: Literal["callback.attempted"] = "callback.attempted"
    callback_id: uuid.UUID
    attempt: int
    operator_id: int | None
    outcome: str  # answered | no_answer | busy | failed | operator_left


class CallbackDone(_Event):
    type: Literal["callback.done"] = "callback.done"
    callback_id: uuid.UUID
    outcome: Literal["talked", "given_up", "cancelled"]
    attempts: int


class CaseChanged(_Event):
    type: Literal["case.changed"] = "case.changed"
    case_id: uuid.UUID
    status: str
    owner_operator_id: int | None = None
    case_class: str | None = None


LegRole = Literal["elder", "operator", "ambulance", "family", "supervisor", "party"]
LegStatus = Literal["dialled", "answered", "acknowledged", "joined", "left", "failed"]


class EmergencyStarted(_Event):
    """An emergency conference began: confirmed by an operator, or escalated by the
    service because nobody answered a terminal in time."""

    type: Literal["emergency.started"] = "emergency.started"
    call_id: uuid.UUID
    case_id: uuid.UUID
    how: Literal["confirmed", "escalated", "adopted"]  # adopted: carried on after a restart
    by: str


class EmergencyLeg(_Event):
    """One party of the conference changed: dialled, answered, heard the summary
    (acknowledged), joined the bridge, left, or could not be reached."""

    type: Literal["emergency.leg"] = "emergency.leg"
    call_id: uuid.UUID
    case_id: uuid.UUID
    leg_id: uuid.UUID
    role: LegRole
    tier: int | None = None
    status: LegStatus
    cause: int | None = None


class EmergencyAlert(_Event):
    """Something the duty supervisor must see now (120 unreachable, the elder's line lost)."""

    type: Literal["emergency.alert"] = "emergency.alert"
    call_id: uuid.UUID
    case_id: uuid.UUID
    reason: str


class EmergencyEnded(_Event):
    type: Literal["emergency.ended"] = "emergency.ended"
    call_id: uuid.UUID
    case_id: uuid.UUID
    reason: str


SupervisionMode = Literal["listen", "whisper", "barge"]


class _Supervision(_Event):
    supervision_id: uuid.UUID
    call_id: uuid.UUID
    operator_id: int  # the operator listened to
    supervisor_id: int  # the supervisor (an operator with the supervisor role)
    mode: SupervisionMode


class SupervisionStarted(_Supervision):
    """The supervisor answered their softphone and hears the operator's call."""

    type: Literal["supervision.started"] = "supervision.started"


class SupervisionModeChanged(_Supervision):
    """Listen, whisper to the operator, or barge in (the caller hears the supervisor too)."""

    type: Literal["supervision.mode"] = "supervision.mode"


class SupervisionEnded(_Supervision):
    type: Literal["supervision.ended"] = "supervision.ended"
    # stopped | supervisor_hung_up | not_answered | call_ended | lost | failed | shutdown
    reason: str


class _Deadline(_Event):
    task_id: uuid.UUID
    case_id: uuid.UUID
    kind: str  # callback | complaint_handling | complaint_reply | family_follow_up | ...
    due_at: dt.datetime
    owner_operator_id: int | None


class DeadlineDueSoon(_Deadline):
    """A deadline on a case falls due soon: its owner is told (once)."""

    type: Literal["deadline.due_soon"] = "deadline.due_soon"


class DeadlineOverdue(_Deadline):
    """A deadline passed with its task not done: escalated to the supervisors (once)."""

    type: Literal["deadline.overdue"] = "deadline.overdue"


class SurveyStarted(_Event):
    """The operator handed the caller to the satisfaction survey (R21) and is free."""

    type: Literal["survey.started"] = "survey.started"
    call_id: uuid.UUID
    case_id: uuid.UUID
    operator_id: int | None


class SurveyAnswered(_Event):
    """The survey's result: a score 1-5 (`verdict` as the reports count it), or why none.
    `reopened`: a dissatisfied caller, the case goes back to its owner (R20)."""

    type: Literal["survey.answered"] = "survey.answered"
    call_id: uuid.UUID
    case_id: uuid.UUID
    operator_id: int | None
    outcome: SurveyOutcome
    score: int | None
    verdict: SurveyVerdict | None
    reopened: bool = False


class CalendarWarning(_Event):
    """The working-day calendar needs an admin: a year nobody published (announced from 30
    days before it starts; deadlines into it are refused), or a published year that the
    `holidays` package now carries differently (the admin's stands until accepted)."""

    type: Literal["calendar.warning"] = "calendar.warning"
    key: str  # "unpublished:CN:2027"
    kind: Literal["unpublished", "conflict"]
    country: str
    year: int
    days_left: int | None = None  # unpublished: days until the year starts
    differences: tuple[dt.date, ...] = ()  # conflict: the days the two disagree on


class CalendarSettled(_Event):
    """A calendar warning no longer holds (the year published, the library's accepted)."""

    type: Literal["calendar.settled"] = "calendar.settled"
    key: str
    kind: Literal["unpublished", "conflict"]
    country: str
    year: int


class DeadlineRefused(_Event):
    """An action was refused: its deadline reaches into a year nobody published."""

    type: Literal["deadline.refused"] = "deadline.refused"
    country: str
    year: int


class SecurityAlert(_Event):
    """Something a supervisor must know about the console's security (R27): an account
    locked after repeated failed logins (`login_locked`, until `until`); an operator opening
    records of elders they have no tie to, with a reason (`record_opened`, `count` in the
    last hour; refused once over the limit: `record_limit`)."""

    type: Literal["security.alert"] = "security.alert"
    kind: Literal["login_locked", "record_opened", "record_limit"]
    operator_id: int | None
    until: dt.datetime | None = None
    count: int = 0
    elder_id: int | None = None


DomainEvent = Annotated[
    CallArrived
    | CallIdentified
    | CallQueued
    | CallOffered
    | CallAnswered
    | CallTransferred
    | CallEnded
    | AnswerClockBreached
    | OperatorStateChanged
    | CallbackScheduled
    | CallbackAttempted
    | CallbackDone
    | CaseChanged
    | EmergencyStarted
    | EmergencyLeg
    | EmergencyAlert
    | EmergencyEnded
    | SupervisionStarted
    | SupervisionModeChanged
    | SupervisionEnded
    | DeadlineDueSoon
    | DeadlineOverdue
    | SurveyStarted
    | SurveyAnswered
    | CalendarWarning
    | CalendarSettled
    | DeadlineRefused
    | SecurityAlert,
    Field(discriminator="type"),
]
EVENT_ADAPTER: TypeAdapter[DomainEvent] = TypeAdapter(DomainEvent)
