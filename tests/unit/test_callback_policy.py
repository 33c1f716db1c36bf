"""When a callback is tried again, and what an unanswered number's cause means."""

from __future__ import annotations

import datetime as dt

import pytest

from hotline.callbacks.policy import Next, after, outcome_of

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
