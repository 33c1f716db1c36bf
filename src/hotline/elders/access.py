"""Who may see an elder's full record without saying why (R27). Pure.

Supervisors and admins see any record. An operator sees, without a reason, the record of an
elder whose call was offered to them in the last 12 hours (the screen pop writes a
`record_access` row why='offered' when it shows the caller), or of an elder one of whose
cases they own, open or closed in the last 7 days (R14). Any other record an operator opens
by searching, with a reason, and that is recorded as why='search'. Every look is a row in
`record_access` naming the `why` this decides.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Literal, get_args

from hotline.core.words import Role

Why = Literal["offered", "owner", "search", "supervisor", "admin"]
WHYS: tuple[Why, ...] = get_args(Why)

OFFER_WINDOW = dt.timedelta(hours=12)
"""How long after a call was offered its operator still sees the elder's record."""
OWNED_RECENTLY = dt.timedelta(days=7)
"""How long after a case they owned was closed its owner still sees the elder's record."""


@dataclass(frozen=True)
class Ties:
    """What links one operator to one elder, as the store reads it."""

    offered_at: dt.datetime | None = None
    """When the elder's latest call offered to the operator was first offered."""
    offered_call_id: uuid.UUID | None = None
    owns_open_case: bool = False
    owned_closed_at: dt.datetime | None = None
    """When the latest closed case of the elder that the operator owned was closed."""


NO_TIES = Ties()


@dataclass(frozen=True)
class Granted:
    """The full record may be shown; the look is recorded with this `why`."""

    why: Why
    call_id: uuid.UUID | None = None
    """The offered call the look belongs to (why='offered')."""


@dataclass(frozen=True)
class ReasonNeeded:
    """An operator with no tie to the elder: only with a reason (an explicit search)."""


Decision = Granted | ReasonNeeded


def may_view(role: Role, ties: Ties, now: dt.datetime) -> Decision:
    """Whether `role` (with `ties` to the elder, for an operator) sees the full record now.

    A current offer is named before a case owned: the look then belongs to that call."""
    match role:
        case "admin" | "supervisor":
            return Granted(role)
    if ties.offered_at is not None and now - ties.offered_at <= OFFER_WINDOW:
        return Granted("offered", ties.offered_call_id)
    if ties.owns_open_case:
        return Granted("owner")
    if ties.owned_closed_at is not None and now - ties.owned_closed_at <= OWNED_RECENTLY:
        return Granted("owner")
    return ReasonNeeded()


def with_reason(role: Role) -> Why:
    """The `why` of a record opened with a reason: an operator's search; a supervisor or an
    admin looks as what they are (the reason is kept beside it either way)."""
    match role:
        case "admin" | "supervisor":
            return role
    return "search"
