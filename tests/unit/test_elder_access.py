"""Who sees an elder's full record without a reason (R27), an elder's age, and what an edit
of a record may say."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from hotline.api.bodies import validate
from hotline.core.errors import Invalid
from hotline.elders.access import (
    NO_TIES,
    OFFER_WINDOW,
    OWNED_RECENTLY,
    Granted,
    ReasonNeeded,
    Ties,
    may_view,
    with_reason,
)
from hotline.elders.schemas import ElderBody, OpenBody
from hotline.elders.store import age_on

NOW = dt.datetime(2026, 11, 29, 10, 0, tzinfo=dt.UTC)
CALL = uuid.UUID(int=7)


@pytest.mark.parametrize("role", ["admin", "supervisor"])
def test_supervisors_and_admins_see_any_record_as_what_they_are(role: str) -> None:
    assert may_view(role, NO_TIES, NOW) == Granted(role)  # type: ignore[arg-type]


def test_an_operator_with_no_tie_must_give_a_reason() -> None:
    assert may_view("operator", NO_TIES, NOW) == ReasonNeeded()


@pytest.mark.parametrize(
    ("ago", "expected"),
    [
        (dt.timedelta(minutes=1), Granted("offered", CALL)),
        (OFFER_WINDOW, Granted("offered", CALL)),
        (OFFER_WINDOW + dt.timedelta(seconds=1), ReasonNeeded()),
    ],
)
def test_an_offered_call_opens_the_record_for_twelve_hours(
    ago: dt.timedelta, expected: object
) -> None:
    ties = Ties(offered_at=NOW - ago, offered_call_id=CALL)
    assert may_view("operator", ties, NOW) == expected


def test_the_owner_of_an_open_case_sees_the_record() -> None:
    assert may_view("operator", Ties(owns_open_case=True), NOW) == Granted("owner")


@pytest.mark.parametrize(
    ("ago", "expected"),
    [
        (dt.timedelta(days=1), Granted("owner")),
        (OWNED_RECENTLY, Granted("owner")),
        (OWNED_RECENTLY + dt.timedelta(seconds=1), ReasonNeeded()),
    ],
)
def test_the_owner_of_a_recently_closed_case_sees_the_record_for_a_week(
    ago: dt.timedelta, expected: object
) -> None:
    assert may_view("operator", Ties(owned_closed_at=NOW - ago), NOW) == expected


def test_a_current_offer_is_named_before_a_case_owned() -> None:
    ties = Ties(offered_at=NOW, offered_call_id=CALL, owns_open_case=True)
    assert may_view("operator", ties, NOW) == Granted("offered", CALL)
    stale = Ties(offered_at=NOW - 2 * OFFER_WINDOW, offered_call_id=CALL, owns_open_case=True)
    assert may_view("operator", stale, NOW) == Granted("owner")


def test_a_record_opened_with_a_reason_is_an_operators_search() -> None:
    assert with_reason("operator") == "search"
    assert with_reason("supervisor") == "supervisor"
    assert with_reason("admin") == "admin"


@pytest.mark.parametrize(
    ("birth", "today", "age"),
    [
        (dt.date(1941, 3, 8), dt.date(2026, 3, 7), 84),
        (dt.date(1941, 3, 8), dt.date(2026, 3, 8), 85),
        (dt.date(1940, 2, 29), dt.date(2026, 2, 28), 85),
        (dt.date(1940, 2, 29), dt.date(2026, 3, 1), 86),
        (None, dt.date(2026, 3, 1), None),
    ],
)
def test_age_in_whole_years(birth: dt.date | None, today: dt.date, age: int | None) -> None:
    assert age_on(birth, today) == age


def test_an_edit_gives_only_the_fields_sent() -> None:
    body = validate(ElderBody, {"birth_date": "1941-03-08", "medication": None})
    assert body.changes() == {"birth_date": dt.date(1941, 3, 8), "medication": None}
    assert validate(ElderBody, {"address": "  长青街 8 号 "}).changes() == {
        "address": "长青街 8 号"
    }


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"full_name": None}, "full_name"),
        ({"full_name": ""}, "full_name"),
        ({"high_risk": None}, "high_risk"),
        ({"high_risk": "yes"}, "high_risk"),
        ({"birth_date": "2999-01-01"}, "birth_date"),
        ({"birth_date": "08.03.1941"}, "birth_date"),
        ({"medication": "x" * 2001}, "medication"),
        ({"address": "a\x00b"}, "address"),
        ({"id": 5}, "id"),
        ({"updated_at": "2026-01-01T00:00:00Z"}, "updated_at"),
    ],
)
def test_a_bad_edit_names_its_field(data: dict[str, object], field: str) -> None:
    with pytest.raises(Invalid) as caught:
        validate(ElderBody, data)
    assert caught.value.field == field


@pytest.mark.parametrize("reason", ["", "ab", "  ab  ", "x" * 201, 42])
def test_a_reason_is_three_to_two_hundred_characters(reason: object) -> None:
    with pytest.raises(Invalid) as caught:
        validate(OpenBody, {"reason": reason})
    assert caught.value.field == "reason"
    assert validate(OpenBody, {"reason": " family asked "}).reason == "family asked"
