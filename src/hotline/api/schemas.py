"""Request bodies of the admin API, their validation, and the API's error replies.

Bodies are strict (no "15" for 15, no true for 1) and refuse unknown fields. A PATCH is the
stored configuration with the request's fields laid over it, validated whole by the same
model as a create, so cross-field rules hold after every change.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
)

Role = Literal["admin", "supervisor", "operator"]
Strategy = Literal["longest_idle", "ring_all", "round_robin"]
SettableState = Literal["ready", "paused", "logged_out"]

FALLBACK = "fallback"  # the dialplan's duty ring group, a valid overflow target

Username = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{2,31}$")]
QueueName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,31}$")]
DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
# Printable ASCII without spaces: what a softphone's settings page can take.
SipPassword = Annotated[str, StringConstraints(min_length=8, max_length=64, pattern=r"^[!-~]+$")]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
HourMinute = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
TokenName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.@-]{0,63}$")]


# --- errors: raised anywhere below the HTTP edge, rendered as JSON there ---------------


class Problem(Exception):
    """An error reply: {"error", "field"?, "detail"?} with an HTTP status."""

    status = 500
    error = "internal"

    def __init__(self, field: str | None = None, detail: str | None = None) -> None:
        super().__init__(detail or self.error)
        self.field = field
        self.detail = detail

    def body(self) -> dict[str, str]:
        out = {"error": self.error}
        if self.field is not None:
            out["field"] = self.field
        if self.detail is not None:
            out["detail"] = self.detail
        return out


class BadJson(Problem):
    status = 400
    error = "bad_json"


class Unauthorized(Problem):
    status = 401
    error = "unauthorized"


class Forbidden(Problem):
    status = 403
    error = "forbidden"


class NotFound(Problem):
    status = 404
    error = "not_found"


class Conflict(Problem):
    status = 409
    error = "conflict"


class Invalid(Problem):
    status = 422
    error = "invalid"


# --- request bodies ----------------------------------------------------------------------


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class OperatorCreate(Body):
    username: Username  # also the PJSIP endpoint name
    display_name: DisplayName
    sip_password: SipPassword = Field(repr=False)  # write-only: only its md5_cred is kept
    line_cap: Annotated[int, Field(ge=1, le=2)] = 1
    active: bool = True


class OperatorUpdate(Body):
    """The stored settings with a PATCH laid over them; the password only when sent."""

    display_name: DisplayName
    line_cap: Annotated[int, Field(ge=1, le=2)]
    active: bool
    sip_password: SipPassword | None = Field(default=None, repr=False)


class StateChange(Body):
    state: SettableState
    reason: Reason | None = Field(default=None, validate_default=True)

    @field_validator("reason")
    @classmethod
    def _reason_when_paused(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None and info.data.get("state") == "paused":
            raise ValueError("a reason is required when pausing")
        return value


class QueueConfig(Body):
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


class MemberConfig(Body):
    penalty: Annotated[int, Field(ge=0, le=100)] = 0


class LineConfig(Body):
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


class TokenCreate(Body):
    name: TokenName
    role: Role
    operator_id: Annotated[int, Field(ge=1)] | None = Field(default=None, validate_default=True)

    @field_validator("operator_id")
    @classmethod
    def _operator_iff_role(cls, value: int | None, info: ValidationInfo) -> int | None:
        role = info.data.get("role")
        if role == "operator" and value is None:
            raise ValueError("required for an operator token")
        if role in ("admin", "supervisor") and value is not None:
            raise ValueError("only an operator token carries an operator_id")
        return value


# --- parsing -----------------------------------------------------------------------------

M = TypeVar("M", bound=BaseModel)


def load_object(raw: bytes) -> dict[str, Any]:
    """The request body as a JSON object; an empty body is {}."""
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as err:  # UnicodeDecodeError is a ValueError
        raise BadJson(detail="the body is not valid JSON") from err
    if not isinstance(data, dict):
        raise Invalid("body", "Input should be a JSON object")
    return data


def validate(model: type[M], data: Mapping[str, Any]) -> M:
    """Validate, turning the first error into Invalid(dotted field path, pydantic's message)."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        first = err.errors(include_url=False, include_input=False, include_context=False)[0]
        field = ".".join(str(part) for part in first["loc"]) or "body"
        raise Invalid(field[:100], first["msg"]) from None


def parse(model: type[M], raw: bytes) -> M:
    return validate(model, load_object(raw))


def merge(
    model: type[M],
    current: Mapping[str, Any],
    patch: Mapping[str, Any],
    fixed: Collection[str] = (),
) -> M:
    """Lay a PATCH over the current record's settings (the model's fields found in it) and
    validate the result whole."""
    for key in patch:
        if key in fixed:
            raise Invalid(key, "cannot be changed")
    settings = {key: current[key] for key in model.model_fields if key in current}
    return validate(model, {**settings, **patch})


def limit(raw: str | None, default: int = 50) -> int:
    """A `?limit=` query value: 1..1000."""
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= 1000):
        raise Invalid("limit", "Input should be a whole number from 1 to 1000")
    return int(raw)
