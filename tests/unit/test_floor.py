import datetime as dt
import uuid

import pytest

from hotline.core.words import EMERGENCY, NORMAL
from hotline.queues.config import LineConfig, OperatorConfig, QueueConfig, RoutingConfig
from hotline.queues.floor import Floor, Offer


def config(strategy: str = "longest_idle", caps: dict[int, int] | None = None) -> RoutingConfig:
    caps = caps or {}
    return RoutingConfig(
        queues={
            "general": QueueConfig("general", strategy=strategy, members={1: 0, 2: 0, 3: 5}),  # type: ignore[arg-type]
            "emergency": QueueConfig("emergency", members={2: 0}),
        },
        lines={"hotline": LineConfig("hotline", "general")},
        operators={i: OperatorConfig(i, f"op{i}", caps.get(i, 1)) for i in (1, 2, 3)},
    )


def ready_floor(cfg: RoutingConfig | None = None, idle: dict[int, float] | None = None) -> Floor:
    floor = Floor(cfg or config())
    for op_id, since in (idle or {1: 10.0, 2: 5.0, 3: 0.0}).items():
        floor.set_availability(op_id, "ready", None, since)
        floor.set_reachable(op_id, True)
    return floor


CALL_A, CALL_B = uuid.UUID(int=1), uuid.UUID(int=2)


def test_longest_idle_within_the_best_penalty_tier() -> None:
    floor = ready_floor()
    floor.enqueue(CALL_A, "general", NORMAL, 100.0)
    # op3 idled longest but has penalty 5; of op1/op2, op2 has been idle since 5.0.
    assert floor.offers(100.0) == [Offer(CALL_A, (2,), 15)]


def test_emergency_goes_first_even_if_it_arrived_later() -> None:
    floor = ready_floor(idle={2: 0.0})
    floor.enqueue(CALL_A, "general", NORMAL, 100.0)
    floor.enqueue(CALL_B, "emergency", EMERGENCY, 101.0)
    assert [o.call_id for o in floor.offers(102.0)] == [CALL_B]


def test_unreachable_paused_offered_and_wrapping_up_are_skipped() -> None:
    floor = ready_floor()
    floor.set_reachable(2, False)  # softphone not registered
    floor.set_availability(1, "paused", "break", 0.0)
    floor.enqueue(CALL_A, "general", NORMAL, 100.0)
    assert floor.offers(100.0) == [Offer(CALL_A, (3,), 15)]
    floor.set_availability(3, "logged_out", None, 0.0)
    assert floor.offers(100.0) == []


def test_line_cap_limits_simultaneous_calls() -> None:
    floor = ready_floor(config(caps={2: 2}), idle={2: 0.0})
    floor.enqueue(CALL_A, "general", NORMAL, 1.0)
    offer = floor.offers(1.0)[0]
    floor.offered(offer, "general")
    floor.connected(CALL_A, 2)
    floor.enqueue(CALL_B, "general", NORMAL, 2.0)
    assert floor.offers(2.0) == [Offer(CALL_B, (2,), 15)]  # cap 2: a second line
    floor.offered(floor.offers(2.0)[0], "general")
    floor.connected(CALL_B, 2)
    floor.enqueue(uuid.UUID(int=3), "general", NORMAL, 3.0)
    assert floor.offers(3.0) == []  # both lines busy


def test_ring_out_pauses_the_operator_and_the_next_one_is_offered() -> None:
    floor = ready_floor(idle={1: 1.0, 2: 2.0})
    floor.enqueue(CALL_A, "general", NORMAL, 10.0)
    first = floor.offers(10.0)[0]
    assert first.operator_ids == (1,)
    floor.offered(first, "general")
    assert floor.offers(11.0) == []  # already ringing
    floor.offer_failed(CALL_A, 1, rang_out=True)
    assert floor.operators[1].state(12.0) == "paused"
    assert floor.operators[1].pause_reason == "rang_out"
    assert floor.offers(12.0) == [Offer(CALL_A, (2,), 15)]


def test_busy_is_not_a_ring_out() -> None:
    floor = ready_floor(idle={1: 1.0, 2: 2.0})
    floor.enqueue(CALL_A, "general", NORMAL, 10.0)
    floor.offered(floor.offers(10.0)[0], "general")
    floor.offer_failed(CALL_A, 1, rang_out=False)
    assert floor.operators[1].availability == "ready"
    assert floor.offers(11.0)[0].operator_ids == (2,)  # not offered to op1 again


def test_ring_all_rings_the_whole_best_tier_and_stops_the_others() -> None:
    floor = ready_floor(config("ring_all"))
    floor.enqueue(CALL_A, "general", NORMAL, 10.0)
    offer = floor.offers(10.0)[0]
    assert offer.operator_ids == (1, 2)
    floor.offered(offer, "general")
    assert list(floor.connected(CALL_A, 2)) == [1]
    assert floor.operators[1].offered is None
    assert floor.operators[2].state(11.0) == "on_call"


def test_round_robin_takes_turns() -> None:
    floor = ready_floor(config("round_robin"))
    picks = []
    for n in range(3):
        call = uuid.UUID(int=10 + n)
        floor.enqueue(call, "general", NORMAL, float(n))
        offer = floor.offers(float(n))[0]
        floor.offered(offer, "general")
        floor.connected(call, offer.operator_ids[0])
        floor.finished(call, offer.operator_ids[0], float(n), 0)
        picks.append(offer.operator_ids[0])
    assert picks == [1, 2, 1]


def test_wrap_up_then_ready_again() -> None:
    floor = ready_floor(idle={1: 0.0})
    floor.enqueue(CALL_A, "general", NORMAL, 1.0)
    floor.offered(floor.offers(1.0)[0], "general")
    floor.connected(CALL_A, 1)
    floor.finished(CALL_A, 1, 50.0, 10)
    assert floor.operators[1].state(55.0) == "wrap_up"
    floor.enqueue(CALL_B, "general", NORMAL, 55.0)
    assert floor.offers(55.0) == []  # op1 is the only one ready, and wrapping up
    assert floor.operators[1].state(60.0) == "ready"
    assert floor.offers(60.0) == [Offer(CALL_B, (1,), 15)]


def test_position_and_overflow_keep_the_first_arrival() -> None:
    floor = ready_floor(idle={})
    floor.enqueue(CALL_A, "general", NORMAL, 1.0)
    floor.enqueue(CALL_B, "general", NORMAL, 2.0)
    assert (floor.position(CALL_A), floor.position(CALL_B)) == (1, 2)
    floor.move(CALL_A, "emergency", 70.0)
    assert floor.waiting[CALL_A].arrived == 1.0
    assert floor.position(CALL_B) == 1


def test_reconfigure_applies_to_next_offers_and_keeps_live_calls() -> None:
    floor = ready_floor(idle={1: 0.0, 2: 0.0})
    floor.enqueue(CALL_A, "general", NORMAL, 1.0)
    floor.offered(floor.offers(1.0)[0], "general")
    floor.connected(CALL_A, 1)
    cfg = config()
    new = RoutingConfig(
        queues={"general": QueueConfig("general", members={2: 0})},
        lines=cfg.lines,
        operators={2: cfg.operators[2]},
    )
    floor.reconfigure(new)
    assert 1 in floor.operators  # still on a call
    floor.enqueue(CALL_B, "general", NORMAL, 2.0)
    assert floor.offers(2.0) == [Offer(CALL_B, (2,), 15)]


@pytest.mark.parametrize(
    ("opens", "closes", "at", "open_"),
    [
        (None, None, "03:00", True),
        ("08:00", "20:00", "07:59", False),
        ("08:00", "20:00", "08:00", True),
        ("08:00", "20:00", "20:00", False),
        ("22:00", "06:00", "23:30", True),
        ("22:00", "06:00", "12:00", False),
    ],
)
def test_line_hours(opens: str | None, closes: str | None, at: str, open_: bool) -> None:
    def t(v: str | None) -> dt.time | None:
        return dt.time.fromisoformat(v) if v else None

    line = LineConfig("lifehelp", "life_help", t(opens), t(closes), "general")
    assert line.is_open(dt.time.fromisoformat(at)) is open_
    cfg = RoutingConfig({}, {"lifehelp": line}, {})
    assert cfg.queue_for("lifehelp", dt.time.fromisoformat(at)) == (
        ("life_help", True) if open_ else ("general", False)
    )


def test_a_repeat_caller_is_offered_to_the_owner_of_their_open_case_first() -> None:
    floor = ready_floor()
    # op2 would be chosen (longest idle in the best tier); op3 owns the caller's open case.
    floor.enqueue(CALL_A, "general", NORMAL, 100.0, preferred=3)
    assert floor.offers(100.0) == [Offer(CALL_A, (3,), 15)]


def test_the_owner_need_not_serve_the_queue() -> None:
    floor = ready_floor()
    floor.enqueue(CALL_A, "emergency", EMERGENCY, 100.0, preferred=1)  # op1 is not a member
    assert floor.offers(100.0) == [Offer(CALL_A, (1,), 15)]


def test_an_owner_who_is_not_free_leaves_the_call_to_the_queue() -> None:
    floor = ready_floor()
    floor.set_availability(3, "paused", "break", 0.0)
    floor.enqueue(CALL_A, "general", NORMAL, 100.0, preferred=3)
    assert floor.offers(100.0) == [Offer(CALL_A, (2,), 15)]


def test_an_owner_who_lets_it_ring_out_passes_it_to_the_queue() -> None:
    floor = ready_floor()
    floor.enqueue(CALL_A, "general", NORMAL, 100.0, preferred=3)
    offer = floor.offers(100.0)[0]
    floor.offered(offer, "general")
    floor.offer_failed(CALL_A, 3, rang_out=False)
    assert floor.offers(101.0) == [Offer(CALL_A, (2,), 15)]


def test_the_owner_is_kept_when_the_call_overflows() -> None:
    floor = ready_floor()
    floor.set_availability(1, "paused", "break", 0.0)
    floor.enqueue(CALL_A, "general", NORMAL, 100.0, preferred=1)
    floor.move(CALL_A, "emergency", 120.0)
    floor.set_availability(1, "ready", None, 121.0)
    assert floor.offers(121.0) == [Offer(CALL_A, (1,), 15)]


# --- live callers first, always (R1): callbacks wait for every live caller ------------------

CALLBACK_A, CALLBACK_B = uuid.UUID(int=11), uuid.UUID(int=12)


def two_queues() -> RoutingConfig:
    """op1 serves general, op2 general and emergency, op3 only social."""
    return RoutingConfig(
        queues={
            "general": QueueConfig("general", members={1: 0, 2: 0}),
            "emergency": QueueConfig("emergency", members={2: 0}),
            "social": QueueConfig("social", members={3: 0}),
        },
        lines={"hotline": LineConfig("hotline", "general")},
        operators={i: OperatorConfig(i, f"op{i}", 1) for i in (1, 2, 3)},
    )


def test_a_callback_is_offered_only_when_no_live_caller_waits_for_the_operator() -> None:
    floor = ready_floor(two_queues(), idle={1: 0.0, 2: 1.0, 3: 2.0})
    floor.enqueue(CALLBACK_A, "general", -10, 10.0, live=False)
    floor.enqueue(CALL_A, "emergency", EMERGENCY, 11.0)
    floor.set_availability(2, "paused", "break", 0.0)  # the one serving emergency is away
    # A live caller waits in emergency (nobody free for it): op2 serves it but is paused;
    # op1 does not serve emergency, so the callback may go to op1.
    assert floor.offers(12.0) == [Offer(CALLBACK_A, (1,), 15)]


def test_a_live_caller_waiting_holds_every_operator_of_its_queue() -> None:
    floor = ready_floor(two_queues(), idle={1: 0.0, 2: 1.0, 3: 2.0})
    floor.enqueue(CALLBACK_A, "general", -10, 10.0, live=False)
    floor.enqueue(CALL_A, "general", NORMAL, 11.0)
    offers = floor.offers(12.0)
    assert offers == [Offer(CALL_A, (1,), 15)]  # op2 is free, yet the callback waits
    floor.offered(offers[0], "general")
    assert floor.offers(12.5) == []  # the caller rings op1: op2 stays held for it
    floor.connected(CALL_A, 1)
    assert floor.offers(13.0) == [Offer(CALLBACK_A, (2,), 15)]  # answered: now the callback


def test_a_caller_being_answered_holds_the_operators_before_it_is_queued() -> None:
    floor = ready_floor(two_queues())
    floor.enqueue(CALLBACK_A, "general", -10, 10.0, live=False)
    floor.enqueue(CALLBACK_B, "social", -10, 10.0, live=False)
    floor.arrive(CALL_A, "general", 11.0)  # answered, identified, greeted: not queued yet
    assert floor.offers(11.5) == [Offer(CALLBACK_B, (3,), 15)]  # op3 serves another queue
    # A caller that never reached the queue (a lost event) does not hold them forever.
    assert floor.offers(11.0 + 31.0) != []
    floor.leave(CALL_A)  # hung up during the greeting
    assert CALL_A not in floor.arriving


def test_a_ringing_callback_gives_way_to_a_live_caller() -> None:
    floor = ready_floor(two_queues(), idle={1: 0.0, 2: 1.0, 3: 2.0})
    floor.enqueue(CALLBACK_A, "general", -10, 10.0, live=False)
    (offer,) = floor.offers(10.0)
    floor.offered(offer, "general")
    assert offer.operator_ids == (1,)
    assert floor.callback_offers_to_withdraw(11.0) == []
    floor.arrive(CALL_A, "general", 11.0)
    assert floor.callback_offers_to_withdraw(11.0) == [(CALLBACK_A, 1)]
    floor.withdrawn(CALLBACK_A, 1)
    assert floor.operators[1].offered is None and floor.operators[1].availability == "ready"
    assert 1 not in floor.waiting[CALLBACK_A].tried  # not a refusal: offered again later
    floor.enqueue(CALL_A, "general", NORMAL, 11.1)
    assert floor.offers(11.2) == [Offer(CALL_A, (1,), 15)]


def test_offers_with_nobody_free_cost_nothing_whatever_waits() -> None:
    floor = ready_floor()
    for op_id in (1, 2, 3):
        floor.set_availability(op_id, "paused", "break", 0.0)
    for i in range(5000):
        floor.enqueue(uuid.UUID(int=1000 + i), "general", -10, float(i), live=False)
    assert floor.offers(6000.0) == []
    assert floor._ordered is None  # nothing was even sorted
    floor.set_availability(1, "ready", None, 6000.0)
    (offer,) = floor.offers(6001.0)
    assert offer == Offer(uuid.UUID(int=1000), (1,), 15)  # the oldest callback first


def test_the_live_callers_of_a_queue_are_counted_through_every_move() -> None:
    floor = ready_floor(two_queues())
    floor.enqueue(CALL_A, "general", NORMAL, 1.0)
    floor.enqueue(CALL_B, "general", NORMAL, 2.0)
    floor.enqueue(CALLBACK_A, "social", -10, 3.0, live=False)  # a callback holds nobody
    general = set(two_queues().queues["general"].members)
    social = set(two_queues().queues["social"].members)
    assert floor.blocked(4.0) == general
    floor.move(CALL_A, "social", 5.0)  # overflow: now both queues hold their operators
    assert floor.blocked(5.0) == general | social
    floor.leave(CALL_B)
    assert floor.blocked(6.0) == social
    floor.connected(CALL_A, 3)
    assert floor.blocked(7.0) == set()
    floor.enqueue(CALL_A, "general", NORMAL, 8.0)  # queued twice (adopted): counted once
    floor.enqueue(CALL_A, "general", NORMAL, 8.0)
    floor.leave(CALL_A)
    assert floor.blocked(9.0) == set()
