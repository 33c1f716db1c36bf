"""Who an emergency calls, and when (emergency.plan, emergency.room): pure decisions."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from hotline.emergency import plan
from hotline.emergency.plan import Contact, Facts, OtherParty, Target
from hotline.emergency.room import Leg, Room

SHANGHAI = ZoneInfo("Asia/Shanghai")
SON = Contact(1, "son", 1, "13900000011")
DAUGHTER = Contact(2, "daughter", 2, "13900000012")
NEIGHBOUR = Contact(3, "neighbour", 3, "13900000013")
CENTRE = OtherParty("care_centre", "centre", "96110", "call")
OFFICE = OtherParty("district_office", "office", "12345", "notify")


@pytest.mark.parametrize(
    ("route", "dialled"),
    [
        ("120", "PJSIP/120@pstn"),
        ("PJSIP/ambulance", "PJSIP/ambulance"),
        ("13900000011", "PJSIP/13900000011@pstn"),
    ],
)
def test_a_route_is_a_number_through_the_trunk_or_an_endpoint(route: str, dialled: str) -> None:
    assert plan.endpoint_for(route, "pstn") == dialled
    assert plan.valid_route(route)


@pytest.mark.parametrize("route", ["", "12", "PJSIP/", "PJSIP/a b", "SIP/x", "120;x", "1" * 16])
def test_nothing_else_is_a_route(route: str) -> None:
    assert not plan.valid_route(route)


def test_routes_per_area_then_anywhere_then_the_default() -> None:
    table = {"east": ("120", "999"), "*": ("121", None)}
    assert plan.routes_for("east", table, "122") == ("120", "999")
    assert plan.routes_for("west", table, "122") == ("121",)
    assert plan.routes_for(None, {}, "122") == ("122",)


def test_120_is_tried_on_the_routes_in_turn() -> None:
    assert [plan.ambulance_route(("a", "b"), n) for n in (1, 2, 3)] == ["a", "b", "a"]
    assert [plan.ambulance_route(("a",), n) for n in (1, 2, 3)] == ["a", "a", "a"]


def test_tiers_lowest_first_and_a_number_only_once() -> None:
    twice = Contact(4, "son again", 2, SON.number)
    assert plan.tiers([NEIGHBOUR, DAUGHTER, SON, twice]) == [
        (1, [SON]),
        (2, [DAUGHTER]),
        (3, [NEIGHBOUR]),
    ]
    contacts = (SON, DAUGHTER, NEIGHBOUR)
    assert plan.next_tier(contacts, None) == 1
    assert plan.next_tier(contacts, 1) == 2
    assert plan.next_tier(contacts, 3) is None
    assert plan.next_tier((), None) is None
    assert plan.family_tier(contacts, 2) == [Target("family", "daughter", DAUGHTER.number, 2)]
    # a number already called in tier 1 is not called again in tier 2; an emptied tier is skipped
    assert plan.family_tier((SON, twice, DAUGHTER), 2) == [
        Target("family", "daughter", DAUGHTER.number, 2)
    ]
    assert plan.next_tier((SON, Contact(5, "son", 3, SON.number)), 1) is None


def test_confirmed_calls_120_the_first_tier_and_the_parties() -> None:
    facts = Facts(7, contacts=(DAUGHTER, SON), parties=(CENTRE, OFFICE))
    opening = plan.opening(facts, "confirmed")
    assert opening.ambulance and not opening.supervisor
    assert opening.first_tier == 1
    assert opening.parties == (Target("party", "care_centre", "96110"),)
    assert opening.notify == (OFFICE,)


@pytest.mark.parametrize(("high_risk", "ambulance"), [(False, False), (True, True)])
def test_escalated_calls_the_family_and_the_supervisor_and_120_only_for_high_risk(
    high_risk: bool, ambulance: bool
) -> None:
    facts = Facts(7, high_risk=high_risk, contacts=(SON,), parties=(CENTRE,))
    opening = plan.opening(facts, "escalated")
    assert opening.supervisor and opening.first_tier == 1
    assert opening.ambulance is ambulance
    assert opening.parties == ()  # nobody has confirmed anything yet


@pytest.mark.parametrize(
    ("local", "due"),
    [
        (dt.datetime(2026, 11, 29, 9, 0), dt.datetime(2026, 11, 30, 17, 0)),
        (dt.datetime(2026, 11, 29, 23, 59), dt.datetime(2026, 11, 30, 17, 0)),
        (dt.datetime(2026, 12, 31, 17, 30), dt.datetime(2027, 1, 1, 17, 0)),
    ],
)
def test_family_follow_up_is_due_at_17_the_next_day(local: dt.datetime, due: dt.datetime) -> None:
    at = local.replace(tzinfo=SHANGHAI).astimezone(dt.UTC)
    assert plan.follow_up_due(at, SHANGHAI) == due.replace(tzinfo=SHANGHAI)


def test_the_room_knows_who_is_there_and_who_is_coming() -> None:
    room = Room(Facts(7, contacts=(SON,)))
    now = dt.datetime(2026, 11, 29, tzinfo=dt.UTC)
    elder = room.add(Leg("c1", Target("elder", "elder", ""), answered_at=now, joined=True))
    assert not room.outsiders_present() and not room.anyone_coming()
    ambulance = room.add(Leg("l1", Target("ambulance", "120", "120")))
    son = room.add(Leg("l2", Target("family", "son", SON.number, 1)))
    assert room.anyone_coming() and room.ambulance_coming() and not room.ambulance_reached()
    ambulance.answered_at = now
    assert ambulance.briefing and not ambulance.present and room.ambulance_reached()
    ambulance.joined = True
    assert room.outsiders_present()
    son.left_at = now
    assert not room.family_answered(1)
    ambulance.left_at = now
    assert not room.outsiders_present() and not room.anyone_coming()
    assert room.live_channels() == [elder.channel_id]
