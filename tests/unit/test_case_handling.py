"""Who may handle a case and what a change may be (cases.handling): pure rules."""

from __future__ import annotations

import pytest

from hotline.cases import handling
from hotline.core.errors import Conflict, Forbidden, Invalid
from hotline.core.words import Role

BEFORE: dict[str, object] = {"class": None, "reasonable": None, "unreasonable_reason": None}


@pytest.mark.parametrize(
    ("role", "operator_id", "owner", "allowed"),
    [
        ("admin", None, 7, True),
        ("supervisor", None, None, True),
        ("operator", 7, 7, True),
        ("operator", 8, 7, False),
        ("operator", 7, None, False),  # nobody owns it yet: a supervisor decides
        ("operator", None, 7, False),
    ],
)
def test_the_owner_and_supervisors_act(
    role: Role, operator_id: int | None, owner: int | None, allowed: bool
) -> None:
    if allowed:
        handling.may_act(role, operator_id, owner)
    else:
        with pytest.raises(Forbidden):
            handling.may_act(role, operator_id, owner)


def test_a_closed_case_stays_closed_and_closing_needs_a_class() -> None:
    handling.may_change("in_progress")
    with pytest.raises(Conflict):
        handling.may_change("closed")
    with pytest.raises(Invalid) as refused:
        handling.may_close("open", None)
    assert refused.value.field == "class"
    handling.may_close("open", "consultation_other")


def test_only_what_changes_is_written() -> None:
    assert handling.changes(BEFORE, None, None, None) == {}
    assert handling.changes(BEFORE, "referral", None, None) == {"class": "referral"}
    before = {"class": "referral", "reasonable": False, "unreasonable_reason": "x"}
    assert handling.changes(before, "referral", False, "x") == {}
    assert handling.changes(before, None, True, None) == {
        "reasonable": True,
        "unreasonable_reason": None,
    }
