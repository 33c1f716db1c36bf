"""What the case routes take (bodies) and give back (replies)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from hotline.api import bodies
from hotline.api.routes import UUID, Query
from hotline.core.words import Role

TAG = "cases"
LIMIT = Query("limit", "at most this many (1-1000, default 50)", {"type": "integer"})
SERVICE = Query("service", "only institutions offering this service", {"type": "string"})


class CaseReply(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: uuid.UUID
    number: int
    opened_at: dt.datetime
    case_class: str | None = Field(alias="class")
    status: str
    channel: str
    elder_id: int | None
    identified: bool
    steps: int


class TimelineEntry(BaseModel):
    at: dt.datetime
    actor: str
    kind: str
    detail: dict[str, Any]


CaseClass = Literal[
    "emergency",
    "consultation_service",
    "consultation_affairs",
    "consultation_legal",
    "consultation_other",
    "life_help",
    "referral",
    "complaint",
]
Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), bodies.Storable
]


class CaseBody(bodies.Body):
    """What the operator says of a case: its class (R6), whether it is reasonable (R7)."""

    case_class: CaseClass | None = Field(default=None, alias="class")
    reasonable: bool | None = None
    unreasonable_reason: bodies.Reason | None = None

    @model_validator(mode="after")
    def _why_not(self) -> CaseBody:
        if self.reasonable is False and self.unreasonable_reason is None:
            raise ValueError("unreasonable_reason: say why the request is not reasonable (R7)")
        if self.reasonable is not False and self.unreasonable_reason is not None:
            raise ValueError("unreasonable_reason: only for a request that is not reasonable")
        return self


class NoteBody(bodies.Body):
    text: Text


class CloseBody(bodies.Body):
    reason: bodies.Reason


class CaseDetailReply(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: uuid.UUID
    number: int
    status: str
    case_class: str | None = Field(alias="class")
    reasonable: bool | None
    unreasonable_reason: str | None
    owner_operator_id: int | None
    elder_id: int | None
    opened_at: dt.datetime
    closed_at: dt.datetime | None
    close_reason: str | None


HANDLERS: tuple[Role, ...] = ("admin", "supervisor", "operator")
ONE = {"case_id": UUID}


OrgId = Annotated[int, Field(ge=1, le=2**63 - 1)]
Service = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60), bodies.Storable
]


class ServiceOrderBody(bodies.Body):
    org_id: OrgId  # the provider (R16)
    service: Service


class ComplaintBody(bodies.Body):
    org_id: OrgId  # the responsible department or provider (R18)


class CallbackPromiseBody(bodies.Body):
    number: Annotated[str, Field(pattern=r"^\+?[0-9][0-9 ()-]{2,20}$")] | None = None


class CallbackExtendBody(bodies.Body):
    days: Annotated[int, Field(ge=2, le=10)]
    reason: bodies.Reason
    caller_told: bool


class TaskReply(BaseModel):
    id: uuid.UUID
    kind: str
    due_at: dt.datetime
    status: str
    org_id: int | None
    owner_operator_id: int | None
    extensions: int
    detail: dict[str, Any]


class TaskMade(BaseModel):
    """A deadline put on a case by an action."""

    id: uuid.UUID
    kind: str
    due_at: dt.datetime
    org_id: int | None


class ComplaintMade(BaseModel):
    handling: TaskMade  # the department's 3 working days (R18)
    reply: TaskMade  # telling the caller, 3 working days


class CallbackPromised(TaskMade):
    call_at: dt.datetime | None = None  # when the call is queued (None: no number to call)


class CallbackExtended(BaseModel):
    task_id: uuid.UUID
    due_at: dt.datetime
    was_due_at: dt.datetime
    days: int
    reason: str
    caller_told: bool
