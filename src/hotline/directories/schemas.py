"""What the organisation routes take and give back."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from hotline.api.bodies import Body, DisplayName, Storable

Kind = Literal["provider", "institution", "department", "community", "street", "government_office"]
Line = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), Storable
]
Phone = Annotated[str, StringConstraints(pattern=r"^\+?[0-9][0-9 -]{2,24}$")]
Service = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60), Storable
]


class OrganisationBody(Body):
    """An organisation's record (the whole set: a PATCH is laid over the stored one)."""

    kind: Kind
    name: DisplayName
    person_in_charge: DisplayName | None = None
    phone: Phone | None = None
    address: Line | None = None
    district: DisplayName | None = None
    services: Annotated[list[Service], Field(max_length=30)] = Field(default_factory=list)
    grade: Annotated[str, StringConstraints(min_length=1, max_length=20), Storable] | None = None
    floor_area_m2: Annotated[int, Field(ge=1, le=10_000_000)] | None = None
    member: bool = False  # a member provider: service orders go to it first (R16)
    active: bool = True


class OrganisationReply(BaseModel):
    id: int
    kind: Kind
    name: str
    person_in_charge: str | None
    phone: str | None
    address: str | None
    district: str | None
    services: list[str]
    grade: str | None
    floor_area_m2: int | None
    member: bool
    active: bool
    checked_on: dt.date | None
    check_due: dt.date  # R23: monthly (institutions, providers), else every three months
    updated_at: dt.datetime
