"""The phases of a call: each transition gives the next phase, Ended gives nothing."""

import datetime as dt

import pytest

from hotline.calls.phases import (
    Arriving,
    Consulting,
    Dialing,
    Ended,
    Greeting,
    Party,
    Queued,
    Ring,
    Ringing,
    Routing,
    Talking,
    resumed,
)

T0 = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)
T1 = T0 + dt.timedelta(seconds=1)
T2 = T0 + dt.timedelta(seconds=5)
T3 = T0 + dt.timedelta(seconds=9)
OP = Party(operator_id=7)


def test_intake_path_to_the_queue() -> None:
    greeting = Arriving(T0).answered(T1)
    assert greeting == Greeting(T0, T1)
    routing = greeting.greeted()
    assert routing == Routing(T0, T1)
    queued = routing.queued("general", 10, T2)
    assert queued == Queued(T0, T1, "general", 10, T2)
    assert queued.handed_over(T3) == Ended(T3, "fallback")


def test_ringing_goes_back_to_waiting_when_the_last_ring_stops() -> None:
    queued = Queued(T0, T1, "general", 0, T2)
    ringing = queued.ringing((Ring("a", 1, 20.0), Ring("b", 2, 20.0)))
    assert ringing.ring("b") == Ring("b", 2, 20.0) and ringing.ring("c") is None
    one_left = ringing.stopped("a")
    assert isinstance(one_left, Ringing) and one_left.rings == (Ring("b", 2, 20.0),)
    none_left = one_left.stopped("b")
    assert type(none_left) is Queued and none_left == queued
    assert ringing.more((Ring("c", 3, 25.0),)).rings[-1].operator_id == 3


def test_answered_ring_is_a_conversation_kept_in_its_queue() -> None:
    talking = Queued(T0, T1, "general", 0, T2).talking("br", "leg", OP, T3)
    assert talking == Talking(T0, T1, "general", "br", "leg", OP, T3)
    assert talking.requeued("other", 0, T3) == Queued(T0, T1, "other", 0, T3)


def test_a_callback_has_nobody_on_the_line_until_the_operator_answers() -> None:
    waiting = Queued(T0, None, "general", -10, T0)
    talking = waiting.talking("br", "leg", OP, T2)
    assert talking.answered_at == T2
    dialing = Dialing(T0, "general", "oleg", 7, "13800000001", T2)
    assert dialing.answered("br", T3) == Talking(T0, T3, "general", "br", "oleg", OP, T3)


def test_consulting_completes_with_the_target_or_cancels_back() -> None:
    talking = Talking(T0, T1, "general", "br", "leg", OP, T2)
    target = Party(number="13900000000")
    consulting = talking.consulting("cleg", target, T3, by="op7", announce=("sound:x",))
    assert isinstance(consulting, Consulting) and consulting.by == "op7"
    assert consulting.cancelled() == talking
    done = consulting.completed(T3)
    assert (done.leg, done.party, done.bridge_id) == ("cleg", target, "br")
    assert target.label == "outside number" and OP.label == "operator 7"


@pytest.mark.parametrize(
    "state",
    [
        Arriving(T0),
        Greeting(T0, T1),
        Routing(T0, T1),
        Queued(T0, T1, "q", 0, T2),
        Talking(T0, T1, "q", "b", "l", OP, T2),
        Dialing(T0, "q", "l", 7, "1", T2),
    ],
)
def test_every_live_phase_can_end_keeping_the_cause(state: object) -> None:
    assert state.hung_up(T3, 16, "Normal Clearing") == Ended(T3, "caller", 16, "Normal Clearing")  # type: ignore[attr-defined]
    assert state.lost(T3).by == "lost"  # type: ignore[attr-defined]


def test_ended_is_terminal() -> None:
    ended = Ended(T2, "caller")
    assert not hasattr(ended, "hung_up")
    assert not hasattr(ended, "answered")


def test_a_parked_caller_found_after_a_restart() -> None:
    assert resumed(T0, answered=False, now=T2) == Arriving(T0)
    assert resumed(T0, answered=True, now=T2) == Routing(T0, T2)
