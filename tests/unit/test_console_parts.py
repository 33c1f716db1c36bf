import datetime as dt
import uuid

from hotline.cases.deadlines import extension_allowed
from hotline.console.pop import CallFacts, cases_first, waited_s
from hotline.console.web import render_text
from hotline.console.words import lang_of, word
from hotline.core.passwords import hash_password, verify_password
from hotline.elders.schemas import OpenCase

T0 = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)


def case(owner: int | None, minutes: int) -> OpenCase:
    return OpenCase.model_validate(
        {
            "id": uuid.uuid4(),
            "number": minutes,
            "class": None,
            "status": "open",
            "owner_operator_id": owner,
            "opened_at": T0 + dt.timedelta(minutes=minutes),
        }
    )


def test_the_offered_operators_own_case_comes_first_then_the_newest() -> None:
    cases = [case(None, 1), case(7, 2), case(9, 3), case(7, 0)]
    assert [c.number for c in cases_first(cases, 7)] == [2, 0, 3, 1]
    assert [c.number for c in cases_first(cases, 5)] == [3, 2, 1, 0]


def test_the_wait_shown_counts_from_the_calls_arrival() -> None:
    facts = CallFacts(uuid.uuid4(), uuid.uuid4(), "hotline", "13800000001", T0)
    assert waited_s(facts, T0 + dt.timedelta(seconds=12.4)) == 12
    assert waited_s(facts, T0 - dt.timedelta(seconds=1)) == 0


def test_chinese_unless_asked_for_english() -> None:
    assert lang_of(None, None) == "zh"
    assert lang_of(None, "en-US,en;q=0.9") == "en"
    assert lang_of("zh", "en-US") == "zh"
    assert lang_of("fr", "zh-CN") == "zh"
    assert word("ready", "zh") == "就绪" and word("ready", "en") == "Ready"
    assert word("consultation_legal", "en") == "Consultation: legal"
    assert word("no-such-key", "en") == "no-such-key"  # a missing translation shows itself


def test_values_are_rendered_as_text() -> None:
    hostile = "<script>alert(1)</script>"
    html = render_text(
        "_referral.html",
        "en",
        dt.UTC,  # type: ignore[arg-type]
        homes=[{"id": 1, "name": hostile, "district": None, "phone": None, "address": None}],
        case_id=uuid.uuid4(),
    )
    assert hostile not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_passwords_are_salted_and_checked() -> None:
    one, two = hash_password("a long password"), hash_password("a long password")
    assert one != two and "a long password" not in one
    assert verify_password("a long password", one)
    assert not verify_password("a long passworD", one)
    assert not verify_password("anything", None)
    assert not verify_password("anything", "md5$abc")


def test_a_callback_is_extended_once_to_at_most_ten_working_days() -> None:
    assert extension_allowed(10, 0) is None
    assert extension_allowed(2, 0) is None
    assert extension_allowed(11, 0) is not None
    assert extension_allowed(1, 0) is not None
    assert extension_allowed(5, 1) == "a callback may be extended once"
