"""The desk's answer clocks (R1): each fires once at its deadline, a stopped one never, a
re-armed one at its new deadline; kept by deadline, so a thousand waiting callers do not
make each arrival walk them all."""

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

from hotline.core import events as ev
from hotline.core.words import NORMAL
from hotline.queues.config import LineConfig, OperatorConfig, QueueConfig, RoutingConfig
from hotline.queues.desk import Desk

CONFIG = RoutingConfig(
    queues={
        "general": QueueConfig("general", members={1: 0}, service_level_s=10),
        "social": QueueConfig("social", members={1: 0}, service_level_s=30),
    },
    lines={"hotline": LineConfig("hotline", "general")},
    operators={1: OperatorConfig(1, "op1", 1)},
)


class Listener:
    def deliver(self, item: object) -> None:
        pass


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def desk_at(clock: Clock) -> tuple[Desk, list[object]]:
    published: list[object] = []

    async def load() -> tuple[RoutingConfig, dict[int, tuple[str, str | None]]]:
        return CONFIG, {}

    desk = Desk(
        load=load,  # type: ignore[arg-type]
        record=lambda record: None,
        publish=published.append,
        tz=ZoneInfo("Asia/Shanghai"),
        clock=clock,
    )
    await desk.reload()
    return desk, published


def breached(published: list[object]) -> list[uuid.UUID]:
    return [e.call_id for e in published if isinstance(e, ev.AnswerClockBreached)]


async def test_each_clock_fires_once_stopped_ones_never_moved_ones_at_their_new_time() -> None:
    clock = Clock()
    desk, published = await desk_at(clock)
    calls = [uuid.UUID(int=i) for i in range(1, 1001)]
    ring = dt.datetime.now(dt.UTC)
    for call_id in calls:
        desk.enqueue(call_id, Listener(), "general", NORMAL, first_ring=ring)
    desk.connected(calls[0], 1)  # answered: its clock stops
    desk.leave(calls[1])  # hung up
    desk.move(calls[2], "social")  # overflow: 30 s from the same first ring
    assert desk._next_due(clock.now) is not None
    clock.now += 9.0
    desk._fire(clock.now)
    assert breached(published) == []
    clock.now += 1.5
    desk._fire(clock.now)
    assert sorted(breached(published)) == calls[3:]
    desk._fire(clock.now)  # fired once only
    assert len(breached(published)) == 997
    assert desk._next_due(clock.now) is not None  # the moved one is still due
    clock.now += 20.0
    desk._fire(clock.now)
    assert breached(published)[-1] == calls[2]
    assert len(breached(published)) == 998
    assert desk._next_due(clock.now) is None
