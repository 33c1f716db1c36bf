"""An emergency conference found by a restarted service: the pure decision (who is still on,
who went away meanwhile) and, through the call-flow harness (tests/unit/callflow.py), what
the switchboard and the conference then do: nobody still on the line is hung up, the elder's
line gone meanwhile is called back, an operator who had stepped out steps back in."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import unquote

import pytest

from hotline.calls.legs import BridgeTag
from hotline.calls.phases import Conference
from hotline.calls.switchboard import CALL_VARIABLE
from hotline.core.ids import call_id_for, intake_case_id_for
from hotline.core.records import CallStarted, LegSeen
from hotline.emergency.adoption import MARK, Adopted, Mark, Seen, found
from hotline.emergency.requests import OperatorStep
from hotline.emergency.room import leg_id_for

from .callflow import CALLER_NUMBER, Flow, leg_channel, query, routing
from .fake_ari import FakeAri, Recorded

ELDER = "1712000000.7"  # the elder's own call (an inbound channel: Asterisk's id)
CALL_ID = call_id_for(ELDER)
CASE_ID = intake_case_id_for(CALL_ID)
OPERATOR = f"hlop-1-{uuid.uuid4().hex}"
AMBULANCE = f"hlout-{uuid.uuid4().hex}"
FAMILY = f"hlout-{uuid.uuid4().hex}"
BACK = f"hlout-{uuid.uuid4().hex}"  # a line that called the elder back


# --- the mark --------------------------------------------------------------------------


def test_a_mark_reads_back_as_it_was_written() -> None:
    mark = Mark("family", attempt=2, tier=1, elder=ELDER, elder_id=42)
    assert Mark.parse(mark.value()) == mark
    assert Mark.parse(Mark("operator").value()) == Mark("operator")
    assert "13800000000" not in mark.value()  # ids and words only


@pytest.mark.parametrize(
    "value",
    [None, "", "role=nurse", "role=family;tier=one", "garbage", "role=family;attempt=-1"],
)
def test_a_foreign_or_broken_mark_is_no_mark(value: str | None) -> None:
    assert Mark.parse(value) is None


# --- the decision ----------------------------------------------------------------------


def marked(role: Any, *, elder: str = ELDER, attempt: int = 1, tier: int | None = None) -> Mark:
    return Mark(role, attempt=attempt, tier=tier, elder=elder, elder_id=42)


def test_the_elder_gone_while_the_service_was_down_is_named_and_the_rest_adopted() -> None:
    seen = [
        Seen(OPERATOR, marked("operator"), in_bridge=True),
        Seen(AMBULANCE, marked("ambulance"), in_bridge=True),
        Seen(FAMILY, marked("family", tier=1), in_bridge=True),
    ]
    result = found(seen, customer=None, operator=OPERATOR)
    assert result.legs == (
        Adopted(OPERATOR, "operator", "in"),
        Adopted(AMBULANCE, "ambulance", "in"),
        Adopted(FAMILY, "family", "in", tier=1),
    )
    assert (result.elder, result.elder_back, result.elder_gone) == (None, None, (ELDER,))
    assert result.elder_dropped and result.operator_in
    assert (result.elder_id, result.elder_calls) == (42, 0)


def test_an_elder_called_back_before_the_crash_is_the_elder_again() -> None:
    seen = [
        Seen(BACK, marked("elder", elder=BACK, attempt=2), in_bridge=True),
        Seen(AMBULANCE, marked("ambulance", elder=BACK), in_bridge=True),
    ]
    result = found(seen, customer=None, operator=None)
    assert (result.elder, result.elder_back, result.elder_gone) == (BACK, None, ())
    assert not result.elder_dropped and not result.operator_in
    assert result.elder_calls == 1


def test_the_elders_own_call_still_in_the_bridge_is_the_elder() -> None:
    seen = [
        Seen(ELDER, marked("elder"), in_bridge=True),
        Seen(AMBULANCE, marked("ambulance"), in_bridge=True),
    ]
    result = found(seen, customer=ELDER, operator=None)
    assert (result.elder, result.elder_gone, result.elder_calls) == (ELDER, (), 0)


def test_an_elder_called_back_and_not_yet_in_the_bridge_is_not_called_again() -> None:
    seen = [
        Seen(AMBULANCE, marked("ambulance"), in_bridge=True),
        Seen(BACK, marked("elder", attempt=2), in_bridge=False),
    ]
    result = found(seen, customer=None, operator=None)
    assert (result.elder, result.elder_back, result.elder_gone) == (None, BACK, (ELDER,))
    assert not result.elder_dropped  # answered the call back: joins, not called again
    assert result.legs[1] == Adopted(BACK, "elder", "waiting", attempt=2)


def test_an_operator_outside_the_bridge_has_stepped_out_and_a_party_outside_it_waits() -> None:
    seen = [
        Seen(ELDER, None, in_bridge=True),
        Seen(OPERATOR, marked("operator"), in_bridge=False),
        Seen(AMBULANCE, marked("ambulance"), in_bridge=False),
    ]
    result = found(seen, customer=ELDER, operator=OPERATOR)
    assert [(leg.role, leg.status) for leg in result.legs] == [
        ("elder", "in"),
        ("operator", "out"),
        ("ambulance", "waiting"),  # was hearing its briefing: joins
    ]
    assert not result.operator_in


def test_legs_without_marks_are_parties_and_the_elder_is_missing() -> None:
    """A conference from before the marks: nobody is hung up; the elder is called back."""
    seen = [
        Seen(OPERATOR, None, in_bridge=True),
        Seen(AMBULANCE, None, in_bridge=True),
    ]
    result = found(seen, customer=None, operator=OPERATOR)
    assert [(leg.role, leg.status) for leg in result.legs] == [
        ("operator", "in"),
        ("party", "in"),
    ]
    assert result.elder_dropped and result.elder_gone == () and result.elder_id is None


# --- on the call-flow harness ----------------------------------------------------------

Start = Callable[..., Awaitable[Flow]]


@pytest.fixture
async def fake() -> AsyncIterator[FakeAri]:
    server = FakeAri()
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def restart(fake: FakeAri) -> AsyncIterator[Start]:
    """A service started against an Asterisk that holds `channels` (with their `variables`)
    and `bridges`, as a crashed service left them."""
    made: list[Flow] = []

    async def start(
        *,
        channels: list[dict[str, Any]],
        bridges: list[dict[str, Any]],
        variables: dict[tuple[str, str], str],
        app_channels: list[str],
    ) -> Flow:
        flow = Flow(
            fake,
            routing(operators=(1,)),
            channels=channels,
            bridges=bridges,
            app_channels=app_channels,
        )
        by_bridge = {b["id"]: b for b in bridges}

        def variable(r: Recorded) -> tuple[int, Any] | None:
            m = re.fullmatch(r"/channels/([^/]+)/variable", r.path)
            if m is None:
                return None
            value = variables.get((unquote(m[1]), query(r)["variable"]))
            if value is None:
                return 404, {"message": "Provided variable was not found"}
            return 200, {"value": value}

        def bridge(r: Recorded) -> tuple[int, Any] | None:
            m = re.fullmatch(r"/bridges/([^/]+)", r.path)
            return None if m is None else (200, by_bridge[unquote(m[1])])

        fake.on("GET", "/channels/", variable)
        fake.on("GET", "/bridges/", bridge)
        made.append(flow)
        await flow.start()
        return flow

    yield start
    for flow in made:
        await flow.stop()
    for flow in made:
        assert flow.errors == [], "the switchboard raised on an event"


def placed(leg_id: str, state: str = "Up") -> dict[str, Any]:
    """A leg the crashed service placed for the call: it shows the elder's number."""
    return {
        **leg_channel(leg_id, "PJSIP/x"),
        "state": state,
        "caller": {"name": "terminal", "number": CALLER_NUMBER},
    }


def conference(*channels: str) -> dict[str, Any]:
    return {
        "id": f"hotline-call-{uuid.uuid4().hex}",
        "technology": "softmix",
        "bridge_type": "mixing",
        "bridge_class": "stasis",
        "creator": "Stasis",
        "name": BridgeTag(CALL_ID, CASE_ID, "emergency", "emergency").name(),
        "channels": list(channels),
    }


def marks(**roles: tuple[str, Mark]) -> dict[tuple[str, str], str]:
    variables: dict[tuple[str, str], str] = {}
    for channel_id, mark in roles.values():
        variables[(channel_id, CALL_VARIABLE)] = CALL_ID.hex
        variables[(channel_id, MARK)] = mark.value()
    return variables


def deletes(flow: Flow) -> list[str]:
    """Channels hung up and bridges destroyed."""
    return [t for t in flow.trail("/(channels|bridges)/[^/]+") if t.startswith("DELETE ")]


async def test_the_elder_gone_while_the_service_was_down_is_called_back_and_nobody_cut(
    restart: Start,
) -> None:
    bridge = conference(OPERATOR, AMBULANCE, FAMILY)
    flow = await restart(
        channels=[placed(OPERATOR), placed(AMBULANCE), placed(FAMILY)],
        bridges=[bridge],
        variables=marks(
            op=(OPERATOR, marked("operator")),
            amb=(AMBULANCE, marked("ambulance")),
            fam=(FAMILY, marked("family", tier=1)),
        ),
        app_channels=[OPERATOR, AMBULANCE, FAMILY],
    )

    call = await flow.wait_state(CALL_ID, Conference)
    back = await flow.originated(f"PJSIP/{CALLER_NUMBER}@pstn")  # the elder called back
    assert (call.info.case_id, call.info.entry, call.info.number) == (
        CASE_ID,
        "terminal",
        CALLER_NUMBER,
    )
    assert call.elder_id == 42  # from the marks: the elder's facts are loaded again
    assert flow.desk.on_call(1, CALL_ID)  # the operator's seat stays taken
    assert deletes(flow) == []  # no leg hung up, no bridge destroyed
    left = await flow.wait_record(LegSeen, leg_id=leg_id_for(ELDER))
    assert (left.channel_id, left.role, left.end_reason) == (ELDER, "elder", "hung_up")
    assert left.left_at is not None
    await flow.wait_step(CASE_ID, "elder_dropped")
    assert flow.steps(CASE_ID)[:2] == ["resumed", "emergency_adopted"]
    assert not flow.recorded(CallStarted)  # no channel to start it from: the row stays
    dialled = await flow.wait_record(LegSeen, channel_id=back)
    assert (dialled.role, dialled.attempt) == ("elder", 2)

    await flow.answer_leg(back, "emergency")
    await flow.wait_step(CASE_ID, "elder_back")
    added = flow.sent("POST", f"/bridges/{bridge['id']}/addChannel")
    assert [query(r)["channel"] for r in added] == [back]
    assert call.channel == back
    mark = await flow.wait_sent("POST", f"/channels/{re.escape(AMBULANCE)}/variable")
    assert query(mark)["variable"] == MARK
    assert Mark.parse(query(mark)["value"]) == marked("ambulance", elder=back)


async def test_an_elder_called_back_before_the_crash_stays_and_is_called_again_if_gone(
    restart: Start,
) -> None:
    bridge = conference(BACK, AMBULANCE)
    elder_leg = placed(BACK)
    flow = await restart(
        channels=[elder_leg, placed(AMBULANCE)],
        bridges=[bridge],
        variables=marks(
            elder=(BACK, marked("elder", elder=BACK, attempt=2)),
            amb=(AMBULANCE, marked("ambulance", elder=BACK)),
        ),
        app_channels=[BACK, AMBULANCE],
    )

    call = await flow.wait_state(CALL_ID, Conference)
    await flow.wait_step(CASE_ID, "emergency_adopted", elder="in")
    assert call.channel == BACK
    assert flow.originates() == [] and deletes(flow) == []

    await flow.hang_up(elder_leg)  # the elder's line drops now: as any drop
    again = await flow.originated(f"PJSIP/{CALLER_NUMBER}@pstn")
    dialled = await flow.wait_record(LegSeen, channel_id=again)
    assert dialled.attempt == 3  # the second call back
    assert flow.hung_up(AMBULANCE) is False


async def test_an_operator_who_had_stepped_out_is_kept_and_steps_back_in(
    restart: Start,
) -> None:
    elder = {
        **placed(ELDER),
        "caller": {"name": "", "number": CALLER_NUMBER},
        "dialplan": {
            "context": "hotline-entry",
            "exten": "terminal",
            "priority": 1,
            "app_name": "Stasis",
            "app_data": "hotline,terminal",
        },
    }
    bridge = conference(ELDER, AMBULANCE)
    orphan = f"hlop-2-{uuid.uuid4().hex}"  # another call's operator leg, its call gone
    flow = await restart(
        channels=[elder, placed(OPERATOR), placed(AMBULANCE), placed(orphan)],
        bridges=[bridge],
        variables=marks(op=(OPERATOR, marked("operator")), amb=(AMBULANCE, marked("ambulance"))),
        app_channels=[ELDER, OPERATOR, AMBULANCE, orphan],
    )

    call = await flow.wait_state(CALL_ID, Conference)
    await flow.wait_step(CASE_ID, "emergency_adopted", operator="out")
    state = call.state
    assert isinstance(state, Conference) and state.operator_leg == OPERATOR
    assert call.channel == ELDER and call.info.entry == "terminal"
    assert not flow.hung_up(OPERATOR) and flow.desk.on_call(1, CALL_ID)
    assert deletes(flow) == [f"DELETE /channels/{orphan}"]  # unmarked: an orphan, as before

    step = OperatorStep(by="operator 1", action="in")
    assert await flow.board.request(CALL_ID, step) == "in"
    assert flow.trail(f"/(channels/{re.escape(OPERATOR)}/moh|bridges/.*/addChannel)") == [
        f"DELETE /channels/{OPERATOR}/moh",
        f"POST /bridges/{bridge['id']}/addChannel",
    ]
    assert flow.originates() == [] and len(deletes(flow)) == 1
