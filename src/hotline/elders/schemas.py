"""What the elder routes take and give back; the store returns the same models, so the
console's views and the API show one shape."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from hotline.api.bodies import Body, DisplayName, Storable
from hotline.elders.access import Why

Line = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), Storable
]
Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), Storable
]
Matched = Literal["id", "name", "elder", "terminal", "contact"]
"""How a search found an elder: its id, its name, or a number (its own phone, its one-key
terminal's, a contact's)."""


class Phone(BaseModel):
    number: str
    label: str | None


class ElderContact(BaseModel):
    id: int
    full_name: str
    relation: str
    tier: int
    number: str
    is_guardian: bool


class ElderTerminal(BaseModel):
    id: int
    number: str
    serial: str | None
    active: bool


class OpenCase(BaseModel):
    model_config = ConfigDict(populate_by_name=True)  # "class" in JSON (dump by_alias)

    id: uuid.UUID
    number: int
    case_class: str | None = Field(alias="class")
    status: str
    owner_operator_id: int | None
    opened_at: dt.datetime


class RecentCall(BaseModel):
    id: uuid.UUID
    started_at: dt.datetime
    entry: str
    caller_kind: str | None
    operator_id: int | None
    answered_at: dt.datetime | None
    connected_at: dt.datetime | None  # an operator answered
    ended_at: dt.datetime | None


class ElderRecord(BaseModel):
    """An elder's full record (R22): shown only as elders.access allows, each look logged."""

    id: int
    full_name: str
    birth_date: dt.date | None
    age: int | None  # on the hotline's calendar day
    address: str | None
    district: str | None
    health_conditions: str | None
    medical_history: str | None
    medication: str | None
    living_situation: str | None
    children: str | None
    life_events: str | None
    high_risk: bool
    updated_at: dt.datetime
    phones: list[Phone]
    contacts: list[ElderContact]  # by tier (R9), guardians first within one
    terminals: list[ElderTerminal]
    open_cases: list[OpenCase]  # newest first
    last_calls: list[RecentCall]  # the last five, newest first


class ElderSummary(BaseModel):
    """A search hit: enough to tell elders apart, nothing of their health or address."""

    id: int
    full_name: str
    district: str | None
    age: int | None
    matched: Matched


class AccessEntry(BaseModel):
    """One read (R27): an elder's record, a timeline, an emergency view, a recording, a
    search, the logs themselves, a supervision; who (and as what), when, why."""

    id: int
    at: dt.datetime
    actor: str
    role: str | None  # None: written before migration 0012
    operator_id: int | None
    kind: str
    elder_id: int | None
    case_id: uuid.UUID | None
    why: Why
    reason: str | None
    call_id: uuid.UUID | None
    target: str | None  # what was searched for; which recording; whom a supervision heard


EDITABLE = (
    "full_name",
    "birth_date",
    "address",
    "district",
    "health_conditions",
    "medical_history",
    "medication",
    "living_situation",
    "children",
    "life_events",
    "high_risk",
)


class ElderBody(Body):
    """Changes to an elder's record: only the fields sent change; null clears a text."""

    full_name: DisplayName | None = None
    birth_date: Annotated[dt.date, Field(strict=False)] | None = None  # "1941-03-08"
    address: Line | None = None
    district: DisplayName | None = None
    health_conditions: Text | None = None
    medical_history: Text | None = None
    medication: Text | None = None
    living_situation: Line | None = None
    children: Line | None = None
    life_events: Text | None = None
    high_risk: bool | None = None

    @field_validator("full_name", "high_risk")
    @classmethod
    def _required(cls, value: object) -> object:
        if value is None:
            raise ValueError("may not be null")
        return value

    @field_validator("birth_date")
    @classmethod
    def _born(cls, value: dt.date | None) -> dt.date | None:
        if value is not None and not dt.date(1890, 1, 1) <= value <= dt.date.today():
            raise ValueError("a birth date from 1890 to today")
        return value

    def changes(self) -> dict[str, object]:
        """The fields sent, as the store takes them."""
        return {key: getattr(self, key) for key in EDITABLE if key in self.model_fields_set}


class OpenBody(Body):
    """Why an operator opens a record they have no tie to (kept in the access log, R27)."""

    reason: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=3, max_length=200), Storable
    ]


class SearchBody(Body):
    """What to look for: a name (its start, or a part of 3 characters or more), a phone
    number (the elder's, their terminal's, a contact's) or a record number."""

    q: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    limit: Annotated[int, Field(ge=1, le=50)] = 20
