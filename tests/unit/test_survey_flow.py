"""The satisfaction survey in the call flow (hotline.survey.stasis): the operator hands the
caller over, is free at once; the caller answers on the keypad; scripted ARI events through
the fake ARI server, the real switchboard, phase handlers and desk (tests/unit/callflow.py)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from hotline.calls.messages import Refused
from hotline.calls.phases import Surveying, Talking
from hotline.core import events as ev
from hotline.core.records import CallEnded, OperatorStateRecord, SurveyAnswered
from hotline.survey.requests import Survey

from .callflow import Caller, Flow, routing
from .fake_ari import FakeAri

Start = Callable[..., Awaitable[Flow]]
HEX = "[0-9a-f]{32}"
BRIDGE = f"/bridges/hotline-call-{HEX}"
QUESTION = ["sound:vm-press", "digits:12345"]  # the stock prompts: no speech here
INVALID = ["sound:pm-invalid-option"]


@pytest.fixture
async def fake() -> AsyncIterator[FakeAri]:
    server = FakeAri()
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def flows(fake: FakeAri) -> AsyncIterator[Start]:
    made: list[Flow] = []

    async def start(**options: Any) -> Flow:
        flow = Flow(fake, routing(operators=(1,)), **options)
        made.append(flow)
        await flow.start()
        return flow

    yield start
    for flow in made:
        await flow.stop()
    for flow in made:
        assert flow.errors == [], "the switchboard raised on an event"


async def surveyed(flow: Flow) -> tuple[Caller, str, str]:
    """A caller answered by operator 1, then handed to the survey: (caller, leg, bridge)."""
    caller = await flow.arrive()
    leg = await flow.originated("PJSIP/op1")
    await flow.answer_leg(leg)
    await flow.wait_state(caller.call_id, Talking)
    bridge_id = (await flow.wait_sent("POST", BRIDGE)).path.rpartition("/")[2]
    assert await flow.board.request(caller.call_id, Survey(by="op1")) == "surveying"
    return caller, leg, bridge_id


def plays(flow: Flow, prefix: str) -> list[Any]:
    """The media of each playback `<prefix>-<hex>` on the caller's channel, in order."""
    return [r.body["media"] for r in flow.sent("POST", f"/channels/c1/play/{prefix}-{HEX}")]


async def test_a_score_after_the_operator_left_is_recorded_and_the_caller_thanked(
    flows: Start,
) -> None:
    flow = await flows()
    caller, leg, bridge_id = await surveyed(flow)

    # The operator is free at once: their leg and the bridge are gone, wrap-up applies.
    trail = flow.trail()
    handover = trail[trail.index(f"POST /bridges/{bridge_id}/removeChannel") :]
    assert handover[:4] == [
        f"POST /bridges/{bridge_id}/removeChannel",
        "DELETE /channels/c1/moh",
        f"DELETE /channels/{leg}",
        f"DELETE /bridges/{bridge_id}",
    ]
    assert not flow.desk.on_call(1, caller.call_id)
    assert flow.recorded(OperatorStateRecord, operator_id=1, state="wrap_up")
    started = await flow.wait_event(ev.SurveyStarted, call_id=caller.call_id)
    assert (started.case_id, started.operator_id) == (caller.case_id, 1)
    call = await flow.wait_state(caller.call_id, Surveying)
    assert isinstance(call.state, Surveying) and call.state.operator_id == 1
    await flow.wait_step(caller.case_id, "survey_asked", operator_id=1)
    assert not flow.hung_up("c1")

    await flow.finish_playback("c1", "survey")
    await flow.dtmf(caller.channel, "5")

    answer = await flow.wait_record(SurveyAnswered, call_id=caller.call_id)
    assert (answer.case_id, answer.operator_id, answer.outcome, answer.score) == (
        caller.case_id,
        1,
        "answered",
        5,
    )
    assert answer.reopen_due_at is None and answer.asked_at <= answer.at
    step = await flow.wait_step(caller.case_id, "survey_answered")
    assert step.detail == {"outcome": "answered", "score": 5, "verdict": "satisfied", "asked": 1}
    said = await flow.wait_event(ev.SurveyAnswered, call_id=caller.call_id)
    assert (said.score, said.verdict, said.reopened) == (5, "satisfied", False)
    await flow.finish_playback("c1", "survey-thanks")
    ended = await flow.wait_record(CallEnded, call_id=caller.call_id)
    assert ended.ended_by == "service" and flow.hung_up("c1")
    assert plays(flow, "survey") == [QUESTION]
    assert "reopened" not in flow.steps(caller.case_id)
    await flow.wait_gone(caller.call_id)


async def test_no_key_repeats_the_question_once_then_ends_as_timeout(flows: Start) -> None:
    flow = await flows(survey_wait_s=0.2)
    caller, _, _ = await surveyed(flow)

    await flow.finish_playback("c1", "survey")
    await flow.finish_playback("c1", "survey", nth=2)  # asked again after the first wait

    answer = await flow.wait_record(SurveyAnswered, call_id=caller.call_id)
    assert (answer.outcome, answer.score) == ("timeout", None)
    step = await flow.wait_step(caller.case_id, "survey_answered")
    assert (step.detail["outcome"], step.detail["asked"]) == ("timeout", 2)
    assert plays(flow, "survey") == [QUESTION, QUESTION]  # once, and one repeat
    await flow.finish_playback("c1", "survey-thanks")
    await flow.wait_record(CallEnded, call_id=caller.call_id)


async def test_wrong_keys_twice_end_as_invalid_and_a_key_stops_the_prompt(flows: Start) -> None:
    flow = await flows()
    caller, _, _ = await surveyed(flow)

    first = await flow.wait_sent("POST", f"/channels/c1/play/survey-{HEX}")
    await flow.dtmf(caller.channel, "9")  # while the question plays: it stops
    playback = first.path.rpartition("/")[2]
    await flow.wait_sent("DELETE", f"/playbacks/{playback}")
    await flow.wait_sent("POST", f"/channels/c1/play/survey-{HEX}", nth=2)
    await flow.dtmf(caller.channel, "*")

    answer = await flow.wait_record(SurveyAnswered, call_id=caller.call_id)
    assert (answer.outcome, answer.score) == ("invalid", None)
    assert plays(flow, "survey") == [QUESTION, INVALID + QUESTION]


async def test_a_wrong_key_then_a_score_on_the_repeat(flows: Start) -> None:
    flow = await flows()
    caller, _, _ = await surveyed(flow)

    await flow.finish_playback("c1", "survey")
    await flow.dtmf(caller.channel, "0")
    await flow.finish_playback("c1", "survey", nth=2)
    await flow.dtmf(caller.channel, "3")

    answer = await flow.wait_record(SurveyAnswered, call_id=caller.call_id)
    assert (answer.outcome, answer.score) == ("answered", 3)
    step = await flow.wait_step(caller.case_id, "survey_answered")
    assert (step.detail["verdict"], step.detail["asked"]) == ("neutral", 2)


async def test_dissatisfied_reopens_the_case_to_its_owner(flows: Start) -> None:
    flow = await flows()
    caller, _, _ = await surveyed(flow)

    await flow.finish_playback("c1", "survey")
    await flow.dtmf(caller.channel, "1")

    answer = await flow.wait_record(SurveyAnswered, call_id=caller.call_id)
    assert (answer.outcome, answer.score) == ("answered", 1)
    assert answer.reopen_due_at == answer.at + dt.timedelta(days=1)
    await flow.wait_step(caller.case_id, "reopened", reason="dissatisfied", score=1)
    said = await flow.wait_event(ev.SurveyAnswered, call_id=caller.call_id)
    assert (said.verdict, said.reopened) == ("dissatisfied", True)
    kinds = flow.steps(caller.case_id)
    assert kinds.index("survey_answered") < kinds.index("reopened")


async def test_caller_hanging_up_during_the_survey_is_recorded_once(flows: Start) -> None:
    flow = await flows()
    caller, _, _ = await surveyed(flow)
    await flow.wait_sent("POST", f"/channels/c1/play/survey-{HEX}")

    await flow.hang_up(caller.channel)

    answer = await flow.wait_record(SurveyAnswered, call_id=caller.call_id)
    assert (answer.outcome, answer.score) == ("hung_up", None)
    ended = await flow.wait_record(CallEnded, call_id=caller.call_id)
    assert ended.ended_by == "caller"
    await flow.wait_gone(caller.call_id)
    assert len(flow.recorded(SurveyAnswered)) == 1
    assert flow.steps(caller.case_id)[-2:] == ["survey_answered", "caller_hung_up"]


async def test_caller_hanging_up_while_thanked_keeps_the_answer(flows: Start) -> None:
    flow = await flows()
    caller, _, _ = await surveyed(flow)
    await flow.finish_playback("c1", "survey")
    await flow.dtmf(caller.channel, "4")
    await flow.wait_sent("POST", f"/channels/c1/play/survey-thanks-{HEX}")

    await flow.hang_up(caller.channel)

    await flow.wait_gone(caller.call_id)
    assert [(a.outcome, a.score) for a in flow.recorded(SurveyAnswered)] == [("answered", 4)]


async def test_the_survey_is_refused_unless_the_caller_is_talking(flows: Start) -> None:
    flow = await flows(online=())  # nobody's softphone online: the caller only waits
    caller = await flow.arrive()
    await flow.queued(caller)

    with pytest.raises(Refused, match="cannot do that now"):
        await flow.board.request(caller.call_id, Survey(by="op1"), limit=2.0)
    assert not flow.recorded(SurveyAnswered)
    assert not any(re.search("/play/survey", t) for t in flow.trail())
