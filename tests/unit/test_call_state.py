import datetime as dt

from hotline.calls.state import Arriving, Ended, Greeting, Holding, resumed

T0 = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)
T1 = T0 + dt.timedelta(seconds=1)
T2 = T0 + dt.timedelta(seconds=5)


def test_intake_path() -> None:
    greeting = Arriving(T0).answered(T1)
    assert greeting == Greeting(T0, T1)
    holding = greeting.greeted(T2)
    assert holding == Holding(T0, T1, T2)
    assert holding.handed_to_fallback(T2) == Ended(T2, "fallback")


def test_hang_up_from_any_live_state_keeps_cause() -> None:
    for state in (Arriving(T0), Greeting(T0, T1), Holding(T0, T1, T2)):
        assert state.hung_up(T2, 16, "Normal Clearing") == Ended(
            T2, "caller", 16, "Normal Clearing"
        )
        assert state.lost(T2).by == "lost"


def test_ended_is_terminal() -> None:
    ended = Ended(T2, "caller")
    assert not hasattr(ended, "hung_up")
    assert not hasattr(ended, "answered")


def test_resumed_call_not_yet_answered_starts_over() -> None:
    assert resumed(T0, answered=False, now=T2) == Arriving(T0)
    assert resumed(T0, answered=True, now=T2) == Holding(T0, T0, T2)
