"""When to try a callback again, what a dialled number's end means, and who may ask for
one. Pure."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from hotline.cases import handling
from hotline.core.errors import Forbidden, Invalid
from hotline.core.words import BUSY_CAUSES, NO_ANSWER_CAUSES, Role

Outcome = Literal["answered", "no_answer", "busy", "failed", "operator_left"]


def outcome_of(cause: int | None) -> Outcome:
    """A callee leg that ended unanswered, by its Q.850 cause."""
    if cause in BUSY_CAUSES:
        return "busy"
    if cause in NO_ANSWER_CAUSES or cause is None:
        return "no_answer"
    return "failed"


@dataclass(frozen=True)
class Next:
    """After an attempt: due again at `due_at` as attempt `attempt`, or closed as `closed`."""

    attempt: int
    due_at: dt.datetime | None
    closed: Literal["talked", "given_up"] | None


def after(
    attempt: int, outcome: Outcome, *, max_attempts: int, spacing_s: int, at: dt.datetime
) -> Next:
    """What follows attempt number `attempt` (1-based) ending with `outcome`.

    Someone talked: done. The operator left before the callee answered: the same attempt
    again at once (the callee was never really tried). Otherwise the next attempt after the
    queue's spacing, until the last one has been made: given up.
    """
    if outcome == "answered":
        return Next(attempt, None, "talked")
    if outcome == "operator_left":
        return Next(attempt, at, None)
    if attempt >= max_attempts:
        return Next(attempt, None, "given_up")
    return Next(attempt + 1, at + dt.timedelta(seconds=spacing_s), None)


# --- who may ask for a callback (R14, R27) ----------------------------------------------

SERVICE_REASONS = frozenset({"abandoned", "after_hours"})
"""Callbacks the service asks for itself: the caller reached nobody, so whoever calls back is
the first operator to take the request (R14) and owns the case if nobody does yet."""


@dataclass(frozen=True)
class CaseParties:
    """What deciding on a callback needs to know of its case."""

    owner: int | None
    status: str
    numbers: frozenset[str]  # its calls' numbers, its elder's phones and contacts


def may_ask(
    role: Role, operator_id: int | None, case: CaseParties, number: str, any_number: bool
) -> None:
    """A callback on a case: by its owner or a supervisor (R14); never on a closed case; to
    one of the case's own parties unless a supervisor (or admin) says any number may do."""
    handling.may_act(role, operator_id, case.owner)
    handling.may_change(case.status)
    if any_number and role == "operator":
        raise Forbidden("any_number", "only a supervisor may have another number called")
    if not any_number and number not in case.numbers:
        raise Invalid("number", "not a number of this case's caller, elder or contacts")


def claims_case(reason: str, owner: int | None) -> bool:
    """Whether the operator who reaches the callee takes the case: only for the service's own
    callbacks on a case nobody owns; a callback someone asked for never moves ownership."""
    return reason in SERVICE_REASONS and owner is None
