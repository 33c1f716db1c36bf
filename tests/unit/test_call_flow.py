"""The call flow, event by event: scripted ARI event sequences through the fake ARI server's
events socket, the real switchboard, phase handlers, desk and callback scheduler; no
Asterisk and no database (tests/unit/callflow.py)."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from hotline.callbacks.store import Pending
from hotline.calls.legs import BridgeTag
from hotline.calls.messages import Refused
from hotline.calls.phases import Queued, Ringing, Talking
from hotline.calls.session import Policy
from hotline.core import events as ev
from hotline.core.ids import call_id_for, intake_case_id_for
from hotline.core.records import (
    CallAnswered,
    CallbackAttempted,
    CallbackClosed,
    CallbackDue,
    CallBreached,
    CallConnected,
    CallEnded,
    CallIdentified,
    CallQueued,
    CallStarted,
    CaseOpened,
    CaseOwned,
    CaseStep,
    OperatorStateRecord,
)
from hotline.core.words import CALLBACK, EMERGENCY, NORMAL
from hotline.directory.identify import Identity
from hotline.queues.config import LineConfig, QueueConfig, RoutingConfig
from hotline.transfers.requests import Transfer

from .callflow import CALLER_NUMBER, TZ, Caller, Flow, channel, leg_channel, query, routing
from .fake_ari import FakeAri

Start = Callable[..., Awaitable[Flow]]
HEX = "[0-9a-f]{32}"
CALLEE = "13900000011"
BRIDGE = f"/bridges/hotline-call-{HEX}"


@pytest.fixture
async def fake() -> AsyncIterator[FakeAri]:
    server = FakeAri()
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def flows(fake: FakeAri) -> AsyncIterator[Start]:
    made: list[Flow] = []

    async def start(config: RoutingConfig | None = None, **options: Any) -> Flow:
        flow = Flow(fake, config or routing(), **options)
        made.append(flow)
        await flow.start()
        return flow

    yield start
    for flow in made:
        await flow.stop()
    for flow in made:
        assert flow.errors == [], "the switchboard raised on an event"


def two_operators(**queue: Any) -> RoutingConfig:
    return routing(QueueConfig("general", members={1: 0, 2: 0}, **queue), operators=(1, 2))


def due_callback(number: str = CALLEE, *, in_s: float = -1.0, queue: str = "general") -> Pending:
    """A pending callback due `in_s` from now (already due by default)."""
    return Pending(
        callback_id=uuid.uuid4(),
        case_id=uuid.uuid4(),
        number=number,
        queue=queue,
        due_at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=in_s),
        attempt=1,
        max_attempts=3,
        spacing_s=900,
        reason="abandoned",
    )


async def connect(flow: Flow, caller: Caller, endpoint: str = "PJSIP/op1") -> tuple[str, str]:
    """The caller's offer is answered at `endpoint`: (the operator's leg, the bridge id)."""
    leg = await flow.originated(endpoint)
    await flow.answer_leg(leg)
    await flow.wait_state(caller.call_id, Talking)
    bridge = await flow.wait_sent("POST", BRIDGE)
    return leg, bridge.path.rpartition("/")[2]


def operator_in(recorded_endpoint: str) -> int:
    return int(recorded_endpoint.removeprefix("PJSIP/op"))


# --- 1. intake -----------------------------------------------------------------------


async def test_intake_answers_greets_identifies_and_queues_with_music(flows: Start) -> None:
    flow = await flows(
        routing(operators=()),
        policy=Policy(greeting=("sound:hello",)),
        identity=Identity("elder", elder_id=7),
    )
    caller = await flow.arrive("c1")
    # Queued while the greeting still plays (R1: no prompt holds the caller back) ...
    await flow.wait_record(CallQueued, call_id=caller.call_id, queue="general")
    played = await flow.wait_sent("POST", f"/channels/c1/play/greeting-{HEX}")
    assert flow.trail() == ["POST /channels/c1/answer", f"POST {played.path}"]
    # ... and music once it has played.
    await flow.playback_finished(played.path.rpartition("/")[2], "c1")
    await flow.wait_sent("POST", "/channels/c1/moh")

    assert played.body == {"media": ["sound:hello"]}
    # Answered before anything else is done with the channel; music once it waits.
    assert flow.trail() == [
        "POST /channels/c1/answer",
        f"POST {played.path}",
        "POST /channels/c1/moh",
    ]
    assert flow.identified == ["13800000000"]
    ops = [r for r in flow.records if not isinstance(r, CaseStep)]
    assert [type(r) for r in ops] == [
        CallStarted,
        CallAnswered,
        CallIdentified,
        CaseOpened,
        CallQueued,
    ]
    started, _, identified, opened, queued = ops
    assert isinstance(started, CallStarted)
    assert (started.call_id, started.channel_id, started.entry, started.caller_number) == (
        caller.call_id,
        "c1",
        "hotline",
        "13800000000",
    )
    assert isinstance(identified, CallIdentified)
    assert (identified.caller_kind, identified.elder_id) == ("elder", 7)
    assert isinstance(opened, CaseOpened)
    assert (opened.case_id, opened.channel, opened.case_class) == (caller.case_id, "hotline", None)
    assert opened.identified and opened.elder_id == 7
    assert isinstance(queued, CallQueued)
    assert (queued.queue, queued.priority, queued.overflow) == ("general", NORMAL, False)
    greeted = await flow.wait_step(caller.case_id, "greeted")
    assert flow.steps(caller.case_id) == ["call_received", "queued", "greeted"]
    assert greeted.detail == {"media": ["sound:hello"], "stopped": False}
    kinds = [type(e) for e in flow.events]
    assert [k for k in kinds if k in (ev.CallArrived, ev.CallIdentified, ev.CallQueued)] == [
        ev.CallArrived,
        ev.CallIdentified,
        ev.CallQueued,
    ]
    assert flow.published(ev.CallQueued, call_id=caller.call_id, queue="general", kind="inbound")
    call = flow.call(caller.call_id)
    assert call is not None and type(call.state) is Queued and call.state.queue == "general"
    assert flow.desk.position(caller.call_id) == 1


async def test_the_operator_rings_while_the_greeting_plays_and_it_stops_on_answer(
    flows: Start,
) -> None:
    """R1: a caller nobody knows hears the greeting, and the free operator is rung at once;
    their answer cuts the greeting off before the two are bridged."""
    flow = await flows(routing(operators=(1,)), policy=Policy(greeting=("sound:hello",)))
    caller = await flow.arrive("c1")
    played = await flow.wait_sent("POST", f"/channels/c1/play/greeting-{HEX}")
    leg = await flow.originated("PJSIP/op1")  # the greeting has not finished
    assert flow.sent("POST", "/channels/c1/moh") == []  # nor music over the greeting
    await flow.answer_leg(leg)
    await flow.wait_state(caller.call_id, Talking)
    bridge = await flow.wait_sent("POST", BRIDGE)
    playback = played.path.rpartition("/")[2]
    assert flow.trail() == [
        "POST /channels/c1/answer",
        f"POST {played.path}",
        "POST /channels",
        f"DELETE /playbacks/{playback}",
        f"POST {bridge.path}",
        f"POST {bridge.path}/addChannel",
    ]
    greeted = await flow.wait_step(caller.case_id, "greeted")
    assert greeted.detail == {"media": ["sound:hello"], "stopped": True}
    assert flow.steps(caller.case_id) == [
        "call_received",
        "queued",
        "offered",
        "greeted",
        "operator_answered",
    ]


@pytest.mark.parametrize(("entry", "kind"), [("hotline", "elder"), ("terminal", "terminal")])
async def test_a_known_elder_or_a_terminal_skips_the_greeting_when_an_operator_is_free(
    flows: Start, entry: str, kind: str
) -> None:
    flow = await flows(
        routing(operators=(1,)),
        policy=Policy(greeting=("sound:hello",)),
        identity=Identity(kind, elder_id=7),  # type: ignore[arg-type]
    )
    caller = await flow.arrive("c1", entry=entry)
    await flow.originated("PJSIP/op1")
    await flow.queued(caller)
    assert flow.sent("POST", "/channels/c1/play/.*") == []
    if entry == "hotline":
        await flow.wait_step(caller.case_id, "greeting_skipped", reason="operator_free")


async def test_a_known_elder_is_greeted_when_nobody_is_free(flows: Start) -> None:
    flow = await flows(
        routing(operators=(1,)),
        availability={1: ("paused", "break")},
        policy=Policy(greeting=("sound:hello",)),
        identity=Identity("elder", elder_id=7),
    )
    caller = await flow.arrive("c1")
    await flow.wait_sent("POST", f"/channels/c1/play/greeting-{HEX}")
    await flow.wait_record(CallQueued, call_id=caller.call_id)
    assert "greeting_skipped" not in flow.steps(caller.case_id)


async def test_no_callback_is_offered_while_a_live_caller_is_being_answered(
    flows: Start,
) -> None:
    cb = due_callback()
    flow = await flows(routing(operators=(1,)), online=(), pending=[cb], place_callbacks=True)
    placed = await flow.wait_event(ev.CallQueued, kind="callback")
    flow.identify_gate = asyncio.Event()  # the live caller stays in Greeting meanwhile
    caller = await flow.arrive("c1")
    await flow.wait_sent("POST", "/channels/c1/answer")

    await flow.endpoint_state("op1", online=True)  # the only operator is free now
    await asyncio.sleep(0.2)
    assert flow.originates() == [], "the callback must not take the operator"

    flow.identify_gate.set()
    await flow.originated("PJSIP/op1")
    offered = await flow.wait_event(ev.CallOffered)
    assert offered.call_id == caller.call_id
    assert not flow.published(ev.CallOffered, call_id=placed.call_id)


async def test_a_ringing_callback_gives_way_when_a_live_caller_arrives(flows: Start) -> None:
    cb = due_callback()
    flow = await flows(routing(operators=(1,)), pending=[cb], place_callbacks=True)
    cb_leg = await flow.originated("PJSIP/op1")  # the callback rings the operator
    caller = await flow.arrive("c1")

    await flow.wait_sent("DELETE", f"/channels/{cb_leg}")  # its ring stops at once
    await flow.wait_step(cb.case_id, "callback_offer_withdrawn", operator_id=1)
    await flow.hang_up(flow.leg(cb_leg, "Down"), 16)  # Asterisk's end of that leg
    leg = await flow.originated("PJSIP/op1", nth=2)  # and the caller rings them instead
    assert flow.published(ev.CallOffered, call_id=caller.call_id, operator_ids=(1,))
    assert not flow.recorded(OperatorStateRecord, operator_id=1, state="paused")
    await flow.answer_leg(leg)
    await flow.wait_state(caller.call_id, Talking)


async def test_after_hours_the_caller_waits_at_once_and_may_still_press_1(
    flows: Start,
) -> None:
    """An after-hours queue: the caller is queued (and its operator rung) while the prompt
    plays; pressing 1 while waiting asks for a callback instead."""
    local = dt.datetime.now(TZ)
    opens = (local + dt.timedelta(hours=2)).time().replace(second=0, microsecond=0)
    closes = (local + dt.timedelta(hours=3)).time().replace(second=0, microsecond=0)
    line = LineConfig("hotline", "day", opens=opens, closes=closes, after_hours_queue="night")
    config = routing(
        QueueConfig("day", members={}), QueueConfig("night", members={1: 0}), operators=(1,)
    )
    flow = await flows(RoutingConfig(config.queues, {"hotline": line}, config.operators))
    caller = await flow.arrive()
    prompt = await flow.wait_sent("POST", f"/channels/c1/play/closed-{HEX}")
    await flow.wait_record(CallQueued, call_id=caller.call_id, queue="night")
    leg = await flow.originated("PJSIP/op1")  # rung while the prompt plays

    await flow.dtmf(caller.channel, "1")

    due = await flow.wait_record(CallbackDue, call_id=caller.call_id)
    assert (due.reason, due.queue) == ("after_hours", "day")
    await flow.wait_sent("DELETE", f"/channels/{leg}")  # the operator's ring stops
    await flow.wait_sent("DELETE", f"/playbacks/{prompt.path.rpartition('/')[2]}")
    await flow.finish_playback("c1", "bye")
    ended = await flow.wait_record(CallEnded, call_id=caller.call_id)
    assert ended.ended_by == "service"
    assert not flow.recorded(OperatorStateRecord, operator_id=1, state="paused")


async def test_a_callback_waiting_in_its_queue_can_be_cancelled(flows: Start) -> None:
    cb = due_callback()
    flow = await flows(routing(operators=(1,)), online=(), pending=[cb], place_callbacks=True)
    placed = await flow.wait_event(ev.CallQueued, kind="callback")
    flow.scheduler.cancel(cb.callback_id, "boss")  # no operator yet: it waits in the queue
    closed = await flow.wait_record(CallbackClosed, callback_id=cb.callback_id)
    assert closed.outcome == "cancelled"
    await flow.wait_gone(placed.call_id)
    assert flow.desk.position(placed.call_id) is None
    await flow.endpoint_state("op1", online=True)
    await asyncio.sleep(0.2)
    assert flow.originates() == []  # nothing left to offer
    assert flow.scheduler.pending() == []


async def test_a_callback_ringing_an_operator_can_be_cancelled_not_one_being_dialled(
    flows: Start,
) -> None:
    ringing, dialling = due_callback(), due_callback("13900000012")
    flow = await flows(
        two_operators(), pending=[ringing, dialling], place_callbacks=True, callback_ring_s=30
    )
    legs_ = [await flow.originated("PJSIP/op1"), await flow.originated("PJSIP/op2")]
    offers = {o.operator_ids[0]: o.call_id for o in flow.published(ev.CallOffered)}
    calls = {flow.call(c).info.number: c for c in offers.values()}  # type: ignore[union-attr]
    by_number = {c: leg for c, leg in zip(offers.values(), legs_, strict=True)}
    # The second callback's operator answers: its number is dialled now.
    await flow.answer_leg(by_number[calls["13900000012"]])
    await flow.originated("PJSIP/13900000012@pstn")
    with pytest.raises(Refused, match="being dialled"):
        flow.scheduler.cancel(dialling.callback_id, "boss")
    # The first still rings its operator: cancelled, the ring stops, nobody paused.
    flow.scheduler.cancel(ringing.callback_id, "boss")
    await flow.wait_sent("DELETE", f"/channels/{by_number[calls[CALLEE]]}")
    await flow.wait_gone(calls[CALLEE])
    assert not flow.recorded(OperatorStateRecord, state="paused")
    assert [p.callback_id for p in flow.scheduler.pending()] == [dialling.callback_id]


async def test_two_abandoned_calls_from_one_number_make_one_callback(flows: Start) -> None:
    flow = await flows(routing(operators=()), place_callbacks=False)
    first = await flow.arrive("c1")
    await flow.queued(first)
    await flow.hang_up(first.channel)
    due = await flow.wait_record(CallbackDue, call_id=first.call_id)
    second = await flow.arrive("c2")  # the same number, again
    await flow.queued(second)
    await flow.hang_up(second.channel)
    merged = await flow.wait_step(second.case_id, "callback_merged")
    assert merged.detail["callback_id"] == str(due.callback_id)
    assert len(flow.recorded(CallbackDue)) == 1
    assert [p.callback_id for p in flow.scheduler.pending()] == [due.callback_id]


# --- 2. the caller hangs up while waiting ---------------------------------------------


async def test_caller_hanging_up_while_waiting_is_an_abandoned_call(flows: Start) -> None:
    flow = await flows(routing(operators=()), place_callbacks=True)
    caller = await flow.arrive()
    await flow.queued(caller)

    await flow.hang_up(caller.channel)  # a BYE: the hang-up request carries no cause

    ended = await flow.wait_record(CallEnded, call_id=caller.call_id)
    assert (ended.ended_by, ended.cause, ended.cause_txt) == ("caller", 16, "Normal Clearing")
    due = await flow.wait_record(CallbackDue, call_id=caller.call_id)
    assert (due.reason, due.number, due.queue, due.case_id) == (
        "abandoned",
        "13800000000",
        "general",
        caller.case_id,
    )
    assert due.waited_s is not None and due.waited_s < 5
    # The callback waits in the queue at once, below every live caller.
    placed = await flow.wait_event(ev.CallQueued, kind="callback")
    assert (placed.queue, placed.priority) == ("general", CALLBACK)
    await flow.wait_step(caller.case_id, "callback_queued")
    assert flow.steps(caller.case_id) == [
        "call_received",
        "queued",
        "callback_due",
        "caller_hung_up",
        "callback_queued",
    ]
    await flow.wait_gone(caller.call_id)
    assert flow.desk.position(caller.call_id) is None
    assert flow.sent("DELETE", ".*") == []  # the caller left on their own: nothing to hang up
    assert flow.published(ev.CallEnded, call_id=caller.call_id, by="caller", cause=16)


# --- 3. offer, answer, the operator hangs up ------------------------------------------


async def test_operator_answers_is_bridged_and_their_hang_up_ends_the_call(flows: Start) -> None:
    flow = await flows(routing(operators=(1,)))
    caller = await flow.arrive()

    leg = await flow.originated("PJSIP/op1")
    assert leg.startswith("hlop-1-")
    originate = flow.originates()[0].body
    assert originate["app"] == "hotline" and originate["appArgs"] == "operator"
    assert originate["callerId"] == '"hotline" <13800000000>'
    assert originate["timeout"] == 15
    await flow.wait_step(caller.case_id, "offered", operator_id=1)
    ringing = await flow.wait_state(caller.call_id, Ringing)
    assert [r.channel_id for r in ringing.state.rings] == [leg]  # type: ignore[union-attr]

    await flow.answer_leg(leg)

    call = await flow.wait_state(caller.call_id, Talking)
    created = await flow.wait_sent("POST", BRIDGE)
    bridge_id = created.path.rpartition("/")[2]
    added = await flow.wait_sent("POST", f"/bridges/{bridge_id}/addChannel")
    assert query(created)["type"] == "mixing"
    assert BridgeTag.parse(query(created)["name"]) == BridgeTag(
        caller.call_id, caller.case_id, "general", "inbound"
    )
    assert query(added)["channel"] == f"c1,{leg}"
    assert flow.trail() == [
        "POST /channels/c1/answer",
        "POST /channels/c1/moh",
        "POST /channels",
        "DELETE /channels/c1/moh",
        f"POST /bridges/{bridge_id}",
        f"POST /bridges/{bridge_id}/addChannel",
    ]
    state = call.state
    assert isinstance(state, Talking)
    assert (state.bridge_id, state.leg, state.party.operator_id) == (bridge_id, leg, 1)
    connected = await flow.wait_record(CallConnected, call_id=caller.call_id)
    assert (connected.operator_id, connected.case_id) == (1, caller.case_id)
    answered = await flow.wait_event(ev.CallAnswered, call_id=caller.call_id)
    assert (answered.operator_id, answered.queue) == (1, "general")
    assert flow.steps(caller.case_id) == ["call_received", "queued", "offered", "operator_answered"]
    assert flow.desk.on_call(1, caller.call_id)
    assert flow.recorded(OperatorStateRecord, operator_id=1, state="on_call")
    assert flow.published(ev.OperatorStateChanged, operator_id=1, state="on_call", calls=1)

    await flow.hang_up(flow.leg(leg))

    ended = await flow.wait_record(CallEnded, call_id=caller.call_id)
    assert (ended.ended_by, ended.cause) == ("operator", 16)
    assert flow.trail()[-3:] == [
        f"DELETE /channels/{leg}",
        f"DELETE /bridges/{bridge_id}",
        "DELETE /channels/c1",  # the caller is hung up by us
    ]
    assert flow.steps(caller.case_id)[-1] == "party_hung_up"
    assert not flow.desk.on_call(1, caller.call_id)
    assert flow.recorded(OperatorStateRecord, operator_id=1, state="wrap_up")
    await flow.wait_gone(caller.call_id)


# --- 4. ring-out --------------------------------------------------------------------------


@pytest.mark.parametrize("asterisk_ends_it", [False, True], ids=["silent", "cause-19"])
async def test_ring_out_pauses_the_operator_and_offers_the_next(
    flows: Start, asterisk_ends_it: bool
) -> None:
    flow = await flows(two_operators(ring_timeout_s=1))
    caller = await flow.arrive()
    loop = asyncio.get_running_loop()
    first = await flow.wait_sent("POST", "/channels")
    offered_at = loop.time()
    op = operator_in(first.body["endpoint"])
    other = 3 - op
    leg = first.body["channelId"]
    assert first.body["timeout"] == 1

    if asterisk_ends_it:  # Asterisk ends the originate at its timeout
        await flow.destroyed(flow.leg(leg, "Down"), 19, "No answer")
    else:  # nothing ends it: the service drops it past the ring time
        await flow.wait_sent("DELETE", f"/channels/{leg}", limit=5.0)
        assert loop.time() - offered_at >= 1.0

    await flow.wait_step(caller.case_id, "offer_rang_out", operator_id=op, cause=19)
    second = await flow.originated(f"PJSIP/op{other}")
    assert second.startswith(f"hlop-{other}-")
    paused = await flow.wait_record(OperatorStateRecord, operator_id=op, state="paused")
    assert (paused.reason, paused.call_id) == ("rang_out", caller.call_id)
    assert flow.published(
        ev.OperatorStateChanged, operator_id=op, state="paused", reason="rang_out"
    )
    assert flow.desk.floor.operators[op].availability == "paused"
    assert flow.hung_up(leg) is not asterisk_ends_it
    state = (await flow.wait_state(caller.call_id, Ringing)).state
    assert isinstance(state, Ringing) and [r.operator_id for r in state.rings] == [other]


# --- 5. busy ----------------------------------------------------------------------------


async def test_busy_operator_is_skipped_but_not_paused(flows: Start) -> None:
    flow = await flows(two_operators())
    caller = await flow.arrive()
    first = await flow.wait_sent("POST", "/channels")
    op = operator_in(first.body["endpoint"])
    other = 3 - op
    leg = first.body["channelId"]

    await flow.destroyed(flow.leg(leg, "Down"), 17, "User busy")

    await flow.wait_step(caller.case_id, "offer_refused", operator_id=op, cause=17)
    await flow.originated(f"PJSIP/op{other}")
    assert flow.desk.floor.operators[op].availability == "ready"
    assert not flow.recorded(OperatorStateRecord, operator_id=op, state="paused")
    assert not flow.published(ev.OperatorStateChanged, operator_id=op, state="paused")
    assert flow.published(ev.OperatorStateChanged, operator_id=op, state="ready")
    assert not flow.hung_up(leg)  # Asterisk had ended it
    assert len(flow.originates(first.body["endpoint"])) == 1  # not offered this call again


# --- 6. emergency priority --------------------------------------------------------------


async def test_terminal_call_is_offered_before_a_call_that_waited_longer(flows: Start) -> None:
    flow = await flows(routing(operators=(1,)), online=())
    normal = await flow.arrive("c1")
    await flow.queued(normal)
    terminal = await flow.arrive("c2", number="18600000001", entry="terminal")
    await flow.queued(terminal)
    assert flow.recorded(CallQueued, call_id=normal.call_id, priority=NORMAL)
    assert flow.recorded(CallQueued, call_id=terminal.call_id, priority=EMERGENCY)
    assert flow.recorded(CaseOpened, case_id=terminal.case_id, case_class="emergency")
    assert flow.originates() == []  # the softphone is offline: nobody is offered

    await flow.endpoint_state("op1", online=True)

    await flow.originated("PJSIP/op1")
    offered = await flow.wait_event(ev.CallOffered)
    assert (offered.call_id, offered.operator_ids) == (terminal.call_id, (1,))
    assert flow.originates()[0].body["callerId"] == '"terminal" <18600000001>'
    assert len(flow.originates()) == 1
    assert flow.steps(normal.case_id) == ["call_received", "queued"]
    assert flow.steps(terminal.case_id)[-1] == "offered"


# --- 7. the answer clock (R1) ----------------------------------------------------------


async def test_answer_clock_breach_is_reported_once_and_not_for_a_call_answered_in_time(
    flows: Start,
) -> None:
    flow = await flows(two_operators(service_level_s=1))
    answered = await flow.arrive("c1")
    first = await flow.wait_sent("POST", "/channels")
    op = operator_in(first.body["endpoint"])
    other = 3 - op
    await flow.answer_leg(first.body["channelId"])
    await flow.wait_record(CallConnected, call_id=answered.call_id)  # well within 1 s

    waiting = await flow.arrive("c2", number="13800000002")
    refused = await flow.originated(f"PJSIP/op{other}")
    await flow.destroyed(flow.leg(refused, "Down"), 17, "User busy")
    await flow.wait_step(waiting.case_id, "offer_refused")  # tried; nobody else to offer

    breach = await flow.wait_event(ev.AnswerClockBreached, limit=3.0)
    assert (breach.call_id, breach.queue, breach.service_level_s) == (
        waiting.call_id,
        "general",
        1,
    )
    assert 1.0 <= breach.waited_s < 2.5
    # Free: ready, reachable and a line left (the one who was busy is free again);
    # busy: the one talking to the first caller.
    assert (breach.operators_free, breach.operators_busy) == ((other,), (op,))
    await flow.wait_record(CallBreached, call_id=waiting.call_id)

    await asyncio.sleep(1.3)  # past a second service level: still reported once
    assert len(flow.published(ev.AnswerClockBreached)) == 1
    assert len(flow.recorded(CallBreached)) == 1
    assert not flow.recorded(CallBreached, call_id=answered.call_id)


# --- 8. after hours ---------------------------------------------------------------------


async def test_after_hours_caller_pressing_1_gets_a_callback_and_is_hung_up(
    flows: Start,
) -> None:
    local = dt.datetime.now(TZ)
    opens = (local + dt.timedelta(hours=2)).time().replace(second=0, microsecond=0)
    closes = (local + dt.timedelta(hours=3)).time().replace(second=0, microsecond=0)
    line = LineConfig("hotline", "general", opens=opens, closes=closes)
    flow = await flows(routing(operators=(1,), lines=[line]))
    caller = await flow.arrive()

    prompt = await flow.wait_sent("POST", f"/channels/c1/play/closed-{HEX}")
    assert prompt.body == {"media": ["sound:vm-isunavail", "sound:vm-press", "digits:1"]}
    step = await flow.wait_step(caller.case_id, "after_hours")
    assert step.detail == {"queue": None}

    await flow.dtmf(caller.channel, "1")

    due = await flow.wait_record(CallbackDue, call_id=caller.call_id)
    assert (due.reason, due.number, due.queue) == ("after_hours", "13800000000", "general")
    assert due.due_at is not None
    ahead = due.due_at - dt.datetime.now(dt.UTC)
    assert dt.timedelta(hours=1, minutes=58) < ahead <= dt.timedelta(hours=2)  # next opening
    bye = await flow.finish_playback("c1", "bye")
    assert bye.body == {"media": ["sound:auth-thankyou"]}
    ended = await flow.wait_record(CallEnded, call_id=caller.call_id)
    assert ended.ended_by == "service"
    assert flow.trail() == [
        "POST /channels/c1/answer",
        f"POST {prompt.path}",
        f"DELETE /playbacks/{prompt.path.rpartition('/')[2]}",  # the key pressed during it
        f"POST {bye.path}",
        "DELETE /channels/c1",
    ]
    assert flow.originates() == []  # though the operator is free: the line is closed
    assert flow.steps(caller.case_id) == [
        "call_received",
        "after_hours",
        "callback_due",
        "after_hours_told",
    ]
    assert not flow.recorded(CallQueued)


# --- 9. blind transfer to a queue -----------------------------------------------------


async def test_blind_transfer_to_a_queue_and_refused_while_only_waiting(flows: Start) -> None:
    config = routing(
        QueueConfig("general", members={1: 0}),
        QueueConfig("social", members={2: 0}),
        operators=(1, 2),
    )
    flow = await flows(config, online=("op2",))
    caller = await flow.arrive()
    await flow.queued(caller, "general")

    with pytest.raises(Refused, match="cannot do that now"):
        await flow.board.request(
            caller.call_id, Transfer("operator:1", mode="blind", queue="social"), limit=2.0
        )
    assert type(flow.call(caller.call_id).state) is Queued  # type: ignore[union-attr]

    await flow.endpoint_state("op1", online=True)
    leg, bridge_id = await connect(flow, caller)

    status = await flow.board.request(
        caller.call_id, Transfer("operator:1", mode="blind", queue="social")
    )

    assert status == "transferring"
    removed = await flow.wait_sent("POST", f"/bridges/{bridge_id}/removeChannel")
    assert query(removed)["channel"] == "c1"
    announce = await flow.finish_playback("c1", "handover")
    assert announce.body == {"media": ["sound:pbx-transfer"]}
    await flow.queued(caller, "social", nth=2)
    second = await flow.originated("PJSIP/op2")
    trail = flow.trail()
    moved = trail[trail.index(f"POST /bridges/{bridge_id}/removeChannel") :]
    assert moved[:5] == [
        f"POST /bridges/{bridge_id}/removeChannel",
        f"DELETE /channels/{leg}",  # the operator's leg is dropped
        f"DELETE /bridges/{bridge_id}",
        f"POST {announce.path}",
        "POST /channels/c1/moh",
    ]
    assert not flow.hung_up("c1")
    transferred = await flow.wait_event(ev.CallTransferred, call_id=caller.call_id)
    assert (transferred.mode, transferred.target, transferred.by) == (
        "blind",
        "queue social",
        "operator:1",
    )
    requeued = flow.recorded(CallQueued, call_id=caller.call_id)
    assert [q.queue for q in requeued] == ["general", "social"]
    assert flow.steps(caller.case_id)[-5:] == [
        "operator_answered",
        "transferred",
        "handover_announced",  # the caller was told (here the stock prompt: no speech)
        "queued",
        "offered",
    ]
    assert not flow.desk.on_call(1, caller.call_id)
    assert flow.recorded(OperatorStateRecord, operator_id=1, state="wrap_up")
    call = await flow.wait_state(caller.call_id, Ringing)
    state = call.state
    assert isinstance(state, Ringing) and state.queue == "social"
    assert [r.channel_id for r in state.rings] == [second]
    assert not flow.recorded(CallEnded)


# --- 10. adoption after a restart ------------------------------------------------------


async def test_caller_parked_in_stasis_is_adopted_and_queued_without_a_second_intake(
    flows: Start,
) -> None:
    parked = channel("c1", state="Up")
    flow = await flows(routing(operators=()), channels=[parked], app_channels=["c1"])
    caller = Caller(parked)

    await flow.queued(caller, "general")

    assert flow.steps(caller.case_id) == ["resumed", "queued"]
    resumed = await flow.wait_step(caller.case_id, "resumed")
    assert resumed.detail == {"reason": "service_restart", "phase": "Greeting"}
    assert flow.recorded(CallStarted, call_id=caller.call_id, channel_id="c1")
    assert flow.recorded(CaseOpened, case_id=caller.case_id)  # idempotent: same ids
    assert flow.trail() == ["POST /channels/c1/moh"]  # answered already; not greeted again
    assert not flow.published(ev.CallArrived)
    assert type(flow.call(caller.call_id).state) is Queued  # type: ignore[union-attr]


def bridged(caller: dict[str, Any], leg: str, queue: str = "general") -> dict[str, Any]:
    """A bridge of ours as a crashed service left it: caller and operator leg in it."""
    call_id = call_id_for(caller["id"])
    return {
        "id": f"hotline-call-{uuid.uuid4().hex}",
        "technology": "simple_bridge",
        "bridge_type": "mixing",
        "bridge_class": "stasis",
        "creator": "Stasis",
        "name": BridgeTag(call_id, intake_case_id_for(call_id), queue, "inbound").name(),
        "channels": [caller["id"], leg],
    }


async def test_conversation_left_bridged_is_adopted_as_it_is(flows: Start) -> None:
    caller = Caller(channel("c1", state="Up"))
    leg = f"hlop-1-{uuid.uuid4().hex}"
    leg_ch = leg_channel(leg, "PJSIP/op1")
    bridge = bridged(caller.channel, leg)
    flow = await flows(
        routing(operators=(1,)),
        channels=[caller.channel, leg_ch],
        bridges=[bridge],
        app_channels=["c1", leg],
    )

    call = await flow.wait_state(caller.call_id, Talking)
    await flow.wait_step(caller.case_id, "resumed", phase="Talking")

    state = call.state
    assert isinstance(state, Talking)
    assert (state.bridge_id, state.leg, state.party.operator_id, state.queue) == (
        bridge["id"],
        leg,
        1,
        "general",
    )
    assert call.info.case_id == caller.case_id and call.info.entry == "hotline"
    assert flow.desk.on_call(1, caller.call_id)
    assert flow.originates() == []  # nobody rung again
    assert flow.sent("DELETE", ".*") == []  # no bridge destroyed, no leg hung up
    assert flow.steps(caller.case_id) == ["resumed"]
    assert flow.recorded(CallStarted, call_id=caller.call_id)

    await flow.hang_up(leg_ch)  # the adopted conversation ends as any other

    ended = await flow.wait_record(CallEnded, call_id=caller.call_id)
    assert ended.ended_by == "operator"
    assert flow.trail()[-3:] == [
        f"DELETE /channels/{leg}",
        f"DELETE /bridges/{bridge['id']}",
        "DELETE /channels/c1",
    ]
    assert not flow.desk.on_call(1, caller.call_id)


async def test_a_supervision_left_by_a_crashed_service_is_removed_its_call_adopted(
    flows: Start,
) -> None:
    caller = Caller(channel("c1", state="Up"))
    leg = f"hlop-1-{uuid.uuid4().hex}"
    call_bridge = bridged(caller.channel, leg)
    snoop, supervisor = f"hlsup-{uuid.uuid4().hex}", f"hlsup-{uuid.uuid4().hex}"
    supervision = {
        **call_bridge,
        "id": f"hotline-call-{uuid.uuid4().hex}",
        "name": f"supervision:{uuid.uuid4().hex}",
        "channels": [snoop, supervisor],
    }
    flow = await flows(
        routing(operators=(1,)),
        channels=[
            caller.channel,
            leg_channel(leg, "PJSIP/op1"),
            leg_channel(snoop, "Snoop/hlop-1"),
            leg_channel(supervisor, "PJSIP/op9"),
        ],
        bridges=[call_bridge, supervision],
        app_channels=["c1", leg, snoop, supervisor],
    )

    call = await flow.wait_state(caller.call_id, Talking)  # the conversation goes on
    assert isinstance(call.state, Talking) and call.state.bridge_id == call_bridge["id"]
    await flow.wait_sent("DELETE", f"/channels/{supervisor}")
    assert sorted(flow.trail()) == sorted(
        [
            f"DELETE /bridges/{supervision['id']}",
            f"DELETE /channels/{snoop}",
            f"DELETE /channels/{supervisor}",
        ]
    )  # the supervisor's leg is not taken for an operator's, nor the snoop for a caller


async def test_adopted_caller_whose_dialplan_is_not_shown_keeps_the_hotline_entry(
    flows: Start,
) -> None:
    caller = Caller(channel("c1", state="Up", in_stasis=False))
    leg = f"hlop-1-{uuid.uuid4().hex}"
    flow = await flows(
        routing(operators=(1,)),
        channels=[caller.channel, leg_channel(leg, "PJSIP/op1")],
        bridges=[bridged(caller.channel, leg)],
        app_channels=["c1", leg],
    )
    await flow.wait_state(caller.call_id, Talking)
    started = await flow.wait_record(CallStarted, call_id=caller.call_id)
    assert started.entry == "hotline"  # an inbound call; "callback" is what gets recorded


# --- 11. a callback attempt (Dialing) --------------------------------------------------


@pytest.mark.parametrize("callee", ["busy", "answers"])
async def test_callback_waits_below_live_callers_then_dials_the_number(
    flows: Start, callee: str
) -> None:
    cb = due_callback()
    flow = await flows(two_operators(), online=(), pending=[cb], place_callbacks=True)
    placed = await flow.wait_event(ev.CallQueued, kind="callback")
    assert (placed.queue, placed.priority) == ("general", CALLBACK)
    await flow.wait_step(cb.case_id, "callback_queued", priority=CALLBACK)
    caller = await flow.arrive()  # a live caller, after the callback
    await flow.queued(caller)

    await flow.endpoint_state("op1", online=True)  # one operator free

    await flow.originated("PJSIP/op1")
    first = await flow.wait_event(ev.CallOffered)
    assert (first.call_id, first.operator_ids) == (caller.call_id, (1,))
    assert len(flow.published(ev.CallOffered)) == 1  # the callback waits on

    await flow.endpoint_state("op2", online=True)
    await asyncio.sleep(0.2)
    # Live callers first, always: op2 is kept for the caller while op1's phone rings.
    assert len(flow.published(ev.CallOffered)) == 1
    await flow.answer_leg(await flow.originated("PJSIP/op1"))
    await flow.wait_state(caller.call_id, Talking)

    op_leg = await flow.originated("PJSIP/op2")
    offer = await flow.wait_event(ev.CallOffered, call_id=placed.call_id)
    assert offer.operator_ids == (2,)
    assert flow.originates("PJSIP/op2")[0].body["callerId"] == f'"callback" <{CALLEE}>'
    await flow.wait_step(cb.case_id, "callback_offered", operator_id=2)
    await flow.answer_leg(op_leg)

    out_leg = await flow.originated(f"PJSIP/{CALLEE}@pstn")
    assert out_leg.startswith("hlout-")
    dialled = flow.originates(f"PJSIP/{CALLEE}@pstn")[0].body
    assert (dialled["appArgs"], dialled["timeout"]) == ("callback", 30)
    ringback = await flow.wait_sent("POST", f"/channels/{op_leg}/play/ringback-{HEX}")
    assert ringback.body == {"media": ["tone:ring;tonezone=cn"]}
    assert flow.desk.on_call(2, placed.call_id)
    assert flow.published(ev.CallAnswered, call_id=placed.call_id, operator_id=2)

    if callee == "busy":
        await flow.destroyed(flow.leg(out_leg, "Down"), 17, "User busy")
        await flow.finish_playback(op_leg, "nobody")
        attempted = await flow.wait_record(CallbackAttempted, callback_id=cb.callback_id)
        assert (attempted.outcome, attempted.cause, attempted.operator_id) == ("busy", 17, 2)
        assert attempted.attempt == 1 and attempted.next_due_at is not None
        ahead = attempted.next_due_at - dt.datetime.now(dt.UTC)
        assert dt.timedelta(seconds=890) < ahead <= dt.timedelta(seconds=900)
        await flow.wait_sent("DELETE", f"/channels/{op_leg}")  # the operator is let go
        await flow.wait_gone(placed.call_id)
        assert not flow.desk.on_call(2, placed.call_id)
        assert not flow.recorded(CallbackClosed)
        assert not flow.recorded(CaseOwned)
        assert flow.published(ev.CallEnded, call_id=placed.call_id, by="service", cause=17)
        assert [p.attempt for p in flow.scheduler.pending()] == [2]
    else:
        await flow.answer_leg(out_leg, "callback")
        closed = await flow.wait_record(CallbackClosed, callback_id=cb.callback_id)
        assert (closed.outcome, closed.operator_id) == ("talked", 2)
        attempted = await flow.wait_record(CallbackAttempted, callback_id=cb.callback_id)
        assert (attempted.outcome, attempted.next_due_at) == ("answered", None)
        assert flow.recorded(CaseOwned, case_id=cb.case_id, operator_id=2)
        created = await flow.wait_sent("POST", BRIDGE, nth=2)  # the first: the live caller's
        tag = BridgeTag.parse(query(created)["name"])
        assert tag == BridgeTag(placed.call_id, cb.case_id, "general", "callback")
        bridge_id = created.path.rpartition("/")[2]
        added = await flow.wait_sent("POST", f"/bridges/{bridge_id}/addChannel")
        assert query(added)["channel"] == f"{op_leg},{out_leg}"
        call = await flow.wait_state(placed.call_id, Talking)
        assert call.channel == out_leg  # the callee is the customer now
        assert not flow.hung_up(op_leg) and not flow.hung_up(out_leg)
        assert flow.scheduler.pending() == []
    assert flow.sent("DELETE", f"/playbacks/ringback-{HEX}")
    call = flow.call(caller.call_id)  # the live caller still talks with op1
    assert (
        call is not None and isinstance(call.state, Talking) and call.state.party.operator_id == 1
    )


# --- 12. a failing handler: the duty phones -------------------------------------------


async def bridge_fails(flows: Start) -> tuple[Flow, Caller, str]:
    flow = await flows(routing(operators=(1,)))
    flow.fail("POST", r"/bridges/[^/]+")
    caller = await flow.arrive()
    leg = await flow.originated("PJSIP/op1")
    await flow.answer_leg(leg)
    await flow.wait_sent("POST", "/channels/c1/continue")
    await flow.stasis_end(caller.channel)  # Asterisk: the caller left our app for the dialplan
    await flow.wait_gone(caller.call_id)
    return flow, caller, leg


async def test_failing_handler_hands_the_caller_to_the_dialplan_fallback(flows: Start) -> None:
    flow, caller, leg = await bridge_fails(flows)

    handed = flow.sent("POST", "/channels/c1/continue")
    assert len(handed) == 1
    assert query(handed[0]) == {"context": "hotline-fallback", "extension": "s", "priority": "1"}
    ended = await flow.wait_record(CallEnded, call_id=caller.call_id)
    assert ended.ended_by == "fallback"
    step = await flow.wait_step(caller.case_id, "handed_to_fallback")
    assert step.detail == {"reason": "error", "target": "fallback"}
    assert flow.hung_up(leg)  # the operator's ringing leg is let go
    assert not flow.hung_up("c1")  # the caller is not: the duty phones take them
    assert not flow.recorded(CallConnected)
    assert not flow.recorded(CallbackDue)  # not abandoned: a person takes the call


async def test_operator_is_free_again_after_the_bridge_failed(flows: Start) -> None:
    flow, caller, _ = await bridge_fails(flows)
    assert not flow.desk.on_call(1, caller.call_id)
    operator = flow.desk.floor.operators[1]
    assert (operator.calls, operator.offered) == (set(), None)  # not stuck "on_call"


async def test_conversation_of_an_operator_no_longer_set_up_does_not_stop_reconciliation(
    fake: FakeAri,
) -> None:
    talking = Caller(channel("c1", state="Up"))
    leg = f"hlop-9-{uuid.uuid4().hex}"  # operator 9 was removed while on this call
    parked = Caller(channel("c2", state="Up", number="13800000002"))
    flow = Flow(
        fake,
        routing(operators=(1,)),
        channels=[talking.channel, leg_channel(leg, "PJSIP/op9"), parked.channel],
        bridges=[bridged(talking.channel, leg)],
        app_channels=["c1", leg, "c2"],
    )
    try:
        await flow.start(limit=1.0)
        await flow.wait_state(talking.call_id, Talking)  # the conversation goes on
        await flow.queued(parked)  # and the other caller is not left in silence
        assert flow.errors == []
    finally:
        await flow.stop()


async def test_a_caller_who_gets_through_has_their_waiting_callback_closed(
    flows: Start,
) -> None:
    later = Pending(
        callback_id=uuid.uuid4(),
        case_id=uuid.uuid4(),
        number=CALLER_NUMBER,
        queue="general",
        due_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),  # not being placed yet
        attempt=1,
        max_attempts=3,
        spacing_s=900,
        reason="abandoned",
    )
    flow = await flows(pending=[later], place_callbacks=True)
    caller = await flow.arrive()  # the same number calls again, and an operator answers
    await connect(flow, caller)
    closed = await flow.wait_record(CallbackClosed)
    assert (closed.callback_id, closed.outcome, closed.operator_id) == (
        later.callback_id,
        "talked",
        1,
    )
    done = await flow.wait_event(ev.CallbackDone)
    assert (done.callback_id, done.outcome) == (later.callback_id, "talked")
    await flow.wait_step(later.case_id, "callback_done", reason="the caller called again")
    assert flow.scheduler.pending() == []


async def test_asterisk_is_asked_for_only_the_events_the_service_acts_on(flows: Start) -> None:
    flow = await flows()
    (asked,) = flow.sent("PUT", "/applications/hotline/eventFilter")
    allowed = {e["type"] for e in asked.body["allowed"]}
    assert allowed == {
        "StasisStart",
        "StasisEnd",
        "ChannelHangupRequest",
        "ChannelDestroyed",
        "ChannelDtmfReceived",
        "PlaybackFinished",
        "EndpointStateChange",
        "ApplicationReplaced",  # Asterisk filters this one too: never leave it out
    }
