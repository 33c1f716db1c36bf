"""Who may supervise whom, decided from what is known. Pure: the callers look things up."""

from __future__ import annotations

from dataclasses import dataclass

SUPERVISOR_ROLE = "supervisor"  # operators.role (migration 0007)


@dataclass(frozen=True)
class SupervisorRow:
    """The operator named as the supervisor, as stored."""

    id: int
    active: bool
    role: str
    endpoint: str | None


@dataclass(frozen=True)
class Busy:
    """A supervision in progress: who supervises whom."""

    operator_id: int
    supervisor_id: int


def supervisor_refusal(row: SupervisorRow | None) -> str | None:
    """Why this operator cannot supervise (None: they can): an active operator with the
    supervisor role and a softphone to ring."""
    if row is None or not row.active:
        return "no such active operator"
    if row.role != SUPERVISOR_ROLE:
        return "that operator does not have the supervisor role"
    if not row.endpoint:
        return "that supervisor has no softphone"
    return None


def start_refusal(
    operator_id: int, supervisor_id: int, supervisor_on_calls: int, running: list[Busy]
) -> str | None:
    """Why a supervision cannot start now (None: it can). A supervisor's softphone takes one
    supervision at a time, and not while they are on a call of their own."""
    if operator_id == supervisor_id:
        return "a supervisor cannot supervise themselves"
    if any(b.operator_id == operator_id and b.supervisor_id == supervisor_id for b in running):
        return "the supervisor is already supervising this operator"
    if any(b.supervisor_id == supervisor_id for b in running):
        return "the supervisor is already supervising another operator"
    if supervisor_on_calls:
        return "the supervisor is on a call"
    return None
