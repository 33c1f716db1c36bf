"""When a callback is tried again, and what an unanswered number's cause means."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from hotline.callbacks.policy import CaseParties, Next, after, claims_case, may_ask, outcome_of
from hotline.core.errors import Conflict, Forbidden, Invalid
from hotline.core.words import Role

AT = dt.datetime(2026, 11, 29, 9, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("cause", "outcome"),
    [
        (17, "busy"),
        (18, "no_answer"),
        (19, "no_answer"),
        (None, "no_answer"),
        (21, "failed"),
        (34, "failed"),
        (1, "failed"),
    ],
)
def test_outcome_of_a_cause(cause: int | None, outcome: str) -> None:
    assert outcome_of(cause) == outcome


def test_someone_talked_closes_it() -> None:
    assert after(1, "answered", max_attempts=3, spacing_s=60, at=AT) == Next(1, None, "talked")


def test_no_answer_is_tried_again_after_the_spacing() -> None:
    assert after(1, "no_answer", max_attempts=3, spacing_s=60, at=AT) == Next(
        2, AT + dt.timedelta(seconds=60), None
    )
    assert after(2, "busy", max_attempts=3, spacing_s=60, at=AT).attempt == 3


def test_given_up_after_the_last_attempt() -> None:
    assert after(3, "busy", max_attempts=3, spacing_s=60, at=AT) == Next(3, None, "given_up")
    assert after(1, "failed", max_attempts=1, spacing_s=60, at=AT).closed == "given_up"


def test_an_operator_who_left_before_the_number_was_dialled_does_not_use_an_attempt() -> None:
    assert after(3, "operator_left", max_attempts=3, spacing_s=60, at=AT) == Next(3, AT, None)


# --- who may ask for a callback (issue 15, R14) ------------------------------------------

CASE = CaseParties(owner=7, status="in_progress", numbers=frozenset({"13800000001", "1088886666"}))


@pytest.mark.parametrize(
    ("role", "operator_id", "case", "number", "any_number", "error"),
    [
        ("operator", 7, CASE, "13800000001", False, None),  # the owner, a party's number
        ("operator", 8, CASE, "13800000001", False, Forbidden),  # not the owner
        ("operator", None, CASE, "13800000001", False, Forbidden),
        ("operator", 7, CASE, "13999999999", False, Invalid),  # a stranger's number
        ("operator", 7, CASE, "13999999999", True, Forbidden),  # any_number: not theirs to say
        ("supervisor", None, CASE, "13999999999", False, Invalid),
        ("supervisor", None, CASE, "13999999999", True, None),  # a supervisor says otherwise
        ("admin", None, CASE, "1088886666", False, None),
        ("supervisor", None, replace(CASE, status="closed"), "13800000001", False, Conflict),
        ("operator", 7, replace(CASE, status="closed"), "13800000001", False, Conflict),
        ("operator", 7, replace(CASE, owner=None), "13800000001", False, Forbidden),
    ],
)
def test_who_may_ask_for_a_callback(
    role: Role,
    operator_id: int | None,
    case: CaseParties,
    number: str,
    any_number: bool,
    error: type[Exception] | None,
) -> None:
    if error is None:
        may_ask(role, operator_id, case, number, any_number)
    else:
        with pytest.raises(error):
            may_ask(role, operator_id, case, number, any_number)


@pytest.mark.parametrize(
    ("reason", "owner", "claims"),
    [
        ("abandoned", None, True),  # nobody took the request: whoever calls back does (R14)
        ("after_hours", None, True),
        ("abandoned", 7, False),  # somebody owns it already
        ("requested", None, False),  # asked for through the API: never moves ownership
        ("follow_up", None, False),
        ("requested", 7, False),
    ],
)
def test_answering_a_callback_takes_only_an_unowned_service_callback(
    reason: str, owner: int | None, claims: bool
) -> None:
    assert claims_case(reason, owner) is claims
