"""One supervision's task against the fake ARI server: what it asks of Asterisk, in what
order, and that whatever ends it, every channel and the bridge of it are gone."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from hotline.ari import AriClient, AriConfig
from hotline.ari.events import Event, parse_event
from hotline.calls.messages import VANISHED, Refused
from hotline.core import events as ev
from hotline.supervision.modes import Mode
from hotline.supervision.requests import ChangeMode, Stop
from hotline.supervision.stasis import Supervision, Target, Watcher

from .fake_ari import PASSWORD, USER, FakeAri, Recorded

OPERATOR_LEG = "hlop-7-abc"
LIMIT = 3.0


class Board:
    """The switchboard's watch, as a record."""

    def __init__(self) -> None:
        self.watched: dict[str, Watcher] = {}

    def watch(self, channel_id: str, watcher: Watcher) -> None:
        self.watched[channel_id] = watcher

    def unwatch(self, channel_id: str) -> None:
        self.watched.pop(channel_id, None)


def channel(channel_id: str) -> dict[str, Any]:
    return {"id": channel_id, "name": f"Snoop/{channel_id}", "state": "Up"}


def event(kind: str, channel_id: str, **more: Any) -> Event:
    return parse_event({"type": kind, "channel": channel(channel_id), **more})


@pytest.fixture
async def fake() -> AsyncIterator[FakeAri]:
    server = FakeAri()
    await server.start()

    def echo_channel(request: Recorded) -> tuple[int, Any]:
        query = dict(request.query)
        return 200, channel(query.get("snoopId") or request.body["channelId"])

    server.on("POST", "/channels", echo_channel)
    server.on("POST", "/bridges/", lambda r: (200, {"id": r.path.split("/")[2]}))
    yield server
    await server.close()


@pytest.fixture
async def ari(fake: FakeAri) -> AsyncIterator[AriClient]:
    async with AriClient(AriConfig(fake.base_url, USER, PASSWORD, "hotline")) as client:
        yield client


async def until(predicate: Callable[[], bool]) -> None:
    async with asyncio.timeout(LIMIT):
        while not predicate():
            await asyncio.sleep(0.01)


RUNS: list[asyncio.Task[None]] = []


@pytest.fixture(autouse=True)
async def no_task_left(ari: AriClient) -> AsyncIterator[None]:
    """A failed test's supervision is stopped before its ARI client closes."""
    yield
    for task in RUNS:
        task.cancel()
    await asyncio.gather(*RUNS, return_exceptions=True)
    RUNS.clear()


class Run:
    def __init__(self, fake: FakeAri, ari: AriClient, mode: Mode = "listen") -> None:
        self.fake = fake
        self.board = Board()
        self.events: list[ev.DomainEvent] = []
        target = Target(uuid.uuid4(), uuid.uuid4(), 7, OPERATOR_LEG, 9, "PJSIP/t9")
        self.sup = Supervision(
            target, mode, ari=ari, app="hotline", channels=self.board, publish=self.events.append
        )
        self.task = asyncio.create_task(self.sup.run())
        RUNS.append(self.task)

    def seen(self) -> list[tuple[str, str, dict[str, str]]]:
        return [(r.method, r.path, dict(r.query)) for r in self.fake.requests]

    async def snoop_made(self, count: int = 1) -> str:
        """The id of the `count`th snoop asked for, once its StasisStart is sent."""
        await until(lambda: len(self.snoops()) >= count)
        snoop = self.snoops()[count - 1]
        self.sup.deliver(event("StasisStart", snoop, args=["supervision"]))
        return snoop

    def snoops(self) -> list[str]:
        return [dict(r.query)["snoopId"] for r in self.fake.requests if r.path.endswith("/snoop")]

    def leg(self) -> str:
        [leg] = [r.body["channelId"] for r in self.fake.requests if r.path == "/channels"]
        return str(leg)

    async def ready(self) -> str:
        """The supervisor's phone rings: the leg's id."""
        await self.snoop_made()
        await asyncio.wait_for(asyncio.shield(self.sup.ready), LIMIT)
        return self.leg()

    async def ended(self) -> ev.SupervisionEnded:
        await asyncio.wait_for(self.task, LIMIT)
        last = self.events[-1]
        assert isinstance(last, ev.SupervisionEnded)
        return last


def hung_up(run: Run) -> set[str]:
    return {p.removeprefix("/channels/") for m, p, _ in run.seen() if m == "DELETE"}


async def test_listen_snoops_bridges_and_rings_then_a_hang_up_tears_it_all_down(
    fake: FakeAri, ari: AriClient
) -> None:
    run = Run(fake, ari)
    leg = await run.ready()
    snoop = run.snoops()[0]
    assert snoop.startswith("hlsup-") and leg.startswith("hlsup-")
    assert set(run.board.watched) == {snoop, leg}  # watched before they were made
    seen = run.seen()
    bridge = seen[0][1].removeprefix("/bridges/")
    assert seen[0] == (
        "POST",
        f"/bridges/{bridge}",
        {"type": "mixing", "name": f"supervision:{run.sup.target.supervision_id.hex}"},
    )
    assert seen[1] == (
        "POST",
        f"/channels/{OPERATOR_LEG}/snoop",
        {"app": "hotline", "spy": "both", "whisper": "none", "appArgs": "supervision"}
        | {"snoopId": snoop},
    )
    assert seen[2] == ("POST", f"/bridges/{bridge}/addChannel", {"channel": snoop})
    [ring] = [r for r in fake.requests if r.path == "/channels"]
    assert ring.body["endpoint"] == "PJSIP/t9" and ring.body["app"] == "hotline"
    assert ring.body["callerId"] == '"supervision" <7>'  # ids, no names or numbers
    assert run.sup.status == "ringing" and run.events == []

    run.sup.deliver(event("StasisStart", leg, args=["supervision"]))
    await until(lambda: run.seen()[-1][1].endswith("/addChannel"))
    assert run.seen()[-1][2] == {"channel": leg}
    assert [type(e) for e in run.events] == [ev.SupervisionStarted]
    assert run.sup.status == "on"

    run.sup.deliver(event("StasisEnd", leg))
    ended = await run.ended()
    assert ended.reason == "supervisor_hung_up" and ended.mode == "listen"
    assert hung_up(run) >= {snoop, leg}
    assert ("DELETE", f"/bridges/{bridge}", {}) in run.seen()
    assert run.board.watched == {}


async def test_another_mode_is_a_new_snoop_and_the_old_one_goes(
    fake: FakeAri, ari: AriClient
) -> None:
    run = Run(fake, ari)
    leg = await run.ready()
    run.sup.deliver(event("StasisStart", leg, args=["supervision"]))
    first = run.snoops()[0]
    change = ChangeMode(by="boss", mode="barge")
    run.sup.deliver(change)
    second = await run.snoop_made(2)
    assert await asyncio.wait_for(change.done, LIMIT) == "barge"
    snoops = [q for m, p, q in run.seen() if p.endswith("/snoop")]
    assert (snoops[1]["spy"], snoops[1]["whisper"]) == ("both", "both")
    assert first in hung_up(run) and second not in hung_up(run)
    assert leg not in hung_up(run)  # the supervisor is not rung again
    assert len([r for r in fake.requests if r.path == "/channels"]) == 1
    assert [type(e) for e in run.events] == [ev.SupervisionStarted, ev.SupervisionModeChanged]

    # The old snoop's end is not the call's; the new one's is.
    run.sup.deliver(event("ChannelDestroyed", first, cause=16, cause_txt="Normal Clearing"))
    same = ChangeMode(by="boss", mode="barge")
    run.sup.deliver(same)
    assert await asyncio.wait_for(same.done, LIMIT) == "barge"
    run.sup.deliver(event("StasisEnd", second))
    ended = await run.ended()
    assert ended.reason == "call_ended" and ended.mode == "barge"
    assert hung_up(run) >= {first, second, leg}


async def test_a_stop_is_answered_once_everything_is_gone(fake: FakeAri, ari: AriClient) -> None:
    run = Run(fake, ari)
    leg = await run.ready()
    stop = Stop(by="boss")
    run.sup.deliver(stop)
    assert await asyncio.wait_for(stop.done, LIMIT) == "ended"
    assert leg in hung_up(run)  # still ringing: the ring is cancelled
    assert (await run.ended()).reason == "stopped"


async def test_the_operator_gone_before_the_snoop_is_refused_and_nothing_is_left(
    fake: FakeAri, ari: AriClient
) -> None:
    fake.replies["POST", f"/channels/{OPERATOR_LEG}/snoop"] = (404, {"message": "not found"})
    run = Run(fake, ari)
    with pytest.raises(Refused, match="call has ended"):
        await asyncio.wait_for(asyncio.shield(run.sup.ready), LIMIT)
    ended = await run.ended()
    assert ended.reason == "failed"
    assert not [r for r in fake.requests if r.path == "/channels"]  # nobody was rung
    assert any(m == "DELETE" and p.startswith("/bridges/") for m, p, _ in run.seen())
    assert run.board.watched == {}


async def test_an_unreachable_supervisor_is_refused(fake: FakeAri, ari: AriClient) -> None:
    fake.replies["POST", "/channels"] = (500, {"message": "Allocation failed"})
    run = Run(fake, ari)
    await run.snoop_made()
    with pytest.raises(Refused, match="not reachable"):
        await asyncio.wait_for(asyncio.shield(run.sup.ready), LIMIT)
    await run.ended()
    assert run.snoops()[0] in hung_up(run)


async def test_vanished_channels_and_shutdown_end_it(fake: FakeAri, ari: AriClient) -> None:
    run = Run(fake, ari)
    await run.ready()
    run.sup.deliver(VANISHED)
    assert (await run.ended()).reason == "lost"

    fake.requests.clear()
    other = Run(fake, ari)
    leg = await other.ready()
    other.task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await other.task
    last = other.events[-1]
    assert isinstance(last, ev.SupervisionEnded) and last.reason == "shutdown"
    assert {leg, other.snoops()[0]} <= hung_up(other)
