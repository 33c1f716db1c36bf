"""What the operators' routes take (bodies) and give back (replies)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints, ValidationInfo, field_validator

from hotline.api.bodies import Body, DisplayName, Reason
from hotline.core.words import Availability, OperatorState

Username = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{2,31}$")]
# Printable ASCII without spaces: what a softphone's settings page can take.
SipPassword = Annotated[str, StringConstraints(min_length=8, max_length=64, pattern=r"^[!-~]+$")]
LineCap = Annotated[int, Field(ge=1, le=2)]
ConsoleRole = Literal["operator", "supervisor", "admin"]
# The console password: long enough to resist guessing, any characters.
ConsolePassword = Annotated[str, StringConstraints(min_length=10, max_length=128)]


class OperatorCreateBody(Body):
    username: Username  # also the PJSIP endpoint name
    display_name: DisplayName
    sip_password: SipPassword = Field(repr=False)  # write-only: only its md5_cred is kept
    line_cap: LineCap = 1
    active: bool = True
    role: ConsoleRole = "operator"  # a supervisor also sees the floor and the access audit
    console_password: ConsolePassword | None = Field(default=None, repr=False)  # write-only


class OperatorUpdateBody(Body):
    """The stored settings with a PATCH laid over them; the password only when sent."""

    display_name: DisplayName
    line_cap: LineCap
    active: bool
    role: ConsoleRole
    sip_password: SipPassword | None = Field(default=None, repr=False)
    console_password: ConsolePassword | None = Field(default=None, repr=False)


class StateChangeBody(Body):
    state: Availability
    reason: Reason | None = Field(default=None, validate_default=True)

    @field_validator("reason")
    @classmethod
    def _reason_when_paused(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None and info.data.get("state") == "paused":
            raise ValueError("a reason is required when pausing")
        return value


class OperatorReply(BaseModel):
    id: int
    username: str
    display_name: str
    sip_endpoint: str | None
    line_cap: int
    active: bool
    role: ConsoleRole
    console_login: bool  # a console password is set
    state: OperatorState  # what the floor shows now
    availability: Availability  # what the operator (or a supervisor) set
    state_reason: str | None
    state_since: dt.datetime
    created_at: dt.datetime
