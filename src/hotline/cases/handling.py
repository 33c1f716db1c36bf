"""Handling a case (R6, R7, R13, R14): who may act on it, and what a change may be. Pure.

Every action is a step on the case's timeline naming who did it; the first operator stays
the owner whoever acts later (R14).
"""

from __future__ import annotations

from hotline.core.errors import Conflict, Forbidden, Invalid
from hotline.core.words import Role


def may_act(role: Role, operator_id: int | None, owner: int | None) -> None:
    """Admins and supervisors act on any case; an operator on the cases they own (R14)."""
    if role == "operator" and (operator_id is None or operator_id != owner):
        raise Forbidden("case_id", "only the case's owner (or a supervisor) may change it")


def may_change(status: str) -> None:
    if status == "closed":
        raise Conflict("case_id", "the case is closed: a request that comes back is a new case")


def may_close(status: str, case_class: str | None) -> None:
    may_change(status)
    if case_class is None:
        raise Invalid("class", "classify the case before closing it (R6)")


def changes(
    before: dict[str, object],
    case_class: str | None,
    reasonable: bool | None,
    unreasonable_reason: str | None,
) -> dict[str, object]:
    """The fields an operator's answer changes (None leaves a field as it is)."""
    wanted: dict[str, object] = {}
    if case_class is not None and case_class != before["class"]:
        wanted["class"] = case_class
    if reasonable is not None and (
        reasonable != before["reasonable"] or unreasonable_reason != before["unreasonable_reason"]
    ):
        wanted["reasonable"] = reasonable
        wanted["unreasonable_reason"] = unreasonable_reason
    return wanted
