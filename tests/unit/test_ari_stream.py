"""EventStream against the fake ARI server's events WebSocket."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from hotline.ari import (
    AriConfig,
    AuthenticationFailed,
    EventStream,
    StasisStart,
    StreamConnected,
    StreamDisconnected,
    StreamItem,
)
from hotline.ari.stream import Backoff

from .fake_ari import PASSWORD, USER, FakeAri

LOGGER = "hotline.ari.stream"
CALLER_NAME = "Anna Example"


def stasis_start(channel_id: str = "c1") -> dict[str, Any]:
    return {
        "type": "StasisStart",
        "application": "hotline",
        "timestamp": "2025-01-02T10:00:01.000+0000",
        "args": ["main"],
        "channel": {
            "id": channel_id,
            "name": "PJSIP/caller-00000001",
            "state": "Ring",
            "caller": {"name": CALLER_NAME, "number": "5551234"},
            "connected": {"name": "", "number": ""},
            "accountcode": "",
            "dialplan": {"context": "hotline", "exten": "100", "priority": 3},
            "creationtime": "2025-01-02T10:00:00.123+0000",
            "language": "en",
        },
    }


class Consumer:
    """Drives ``stream.items()`` in a task, as the service would, into a queue."""

    def __init__(self, stream: EventStream) -> None:
        self.queue: asyncio.Queue[StreamItem] = asyncio.Queue()
        self.task = asyncio.create_task(self._run(stream), name="test-consumer")

    async def _run(self, stream: EventStream) -> None:
        async with contextlib.aclosing(stream.items()) as items:
            async for item in items:
                await self.queue.put(item)

    async def next(self) -> StreamItem:
        return await asyncio.wait_for(self.queue.get(), 2.0)

    async def stop(self) -> None:
        if self.task.done():  # ended on its own; the test inspected the outcome
            return
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


class RecordingBackoff(Backoff):
    def __init__(self, initial: float, maximum: float) -> None:
        super().__init__(initial, maximum)
        self.delays: list[float] = []

    def next_delay(self) -> float:
        self.delays.append(super().next_delay())
        return self.delays[-1]


@pytest.fixture
async def fake() -> AsyncIterator[FakeAri]:
    server = FakeAri()
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def consume(fake: FakeAri) -> AsyncIterator[Callable[..., Consumer]]:
    consumers: list[Consumer] = []

    def start(password: str = PASSWORD, **kw: float) -> Consumer:
        config = AriConfig(fake.base_url, USER, password, "hotline", request_timeout=2.0)
        options = {"heartbeat": 5.0, "backoff_initial": 0.01, "backoff_max": 0.02, **kw}
        consumers.append(Consumer(EventStream(config, **options)))
        return consumers[-1]

    yield start
    for consumer in consumers:
        await consumer.stop()


async def test_receives_events_over_authorized_socket(
    fake: FakeAri, consume: Callable[..., Consumer]
) -> None:
    stream = consume()
    assert await stream.next() == StreamConnected()
    assert fake.ws_queries == [{"app": "hotline", "subscribeAll": "false"}]
    await fake.wait_for(lambda: len(fake.sockets) == 1)
    await fake.send(stasis_start())
    item = await stream.next()
    assert isinstance(item, StasisStart) and item.channel.id == "c1"


async def test_reconnects_after_drop_and_logs_outage_once(
    fake: FakeAri, consume: Callable[..., Consumer], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    stream = consume()
    assert await stream.next() == StreamConnected()
    await fake.wait_for(lambda: len(fake.sockets) == 1)
    fake.ws_reject = 500  # the next few reconnects fail
    await fake.drop()
    item = await stream.next()
    assert isinstance(item, StreamDisconnected) and "closed by server" in item.reason
    await fake.wait_for(lambda: fake.ws_attempts >= 5)
    fake.ws_reject = None
    assert await stream.next() == StreamConnected()  # no second StreamDisconnected
    await fake.wait_for(lambda: len(fake.sockets) == 1)
    await fake.send(stasis_start("c2"))
    item = await stream.next()
    assert isinstance(item, StasisStart) and item.channel.id == "c2"
    levels = [r.levelno for r in caplog.records if r.name == LOGGER]
    assert levels == [logging.WARNING, logging.INFO]


async def test_wrong_credentials_are_fatal(fake: FakeAri, consume: Callable[..., Consumer]) -> None:
    wrong = "Wrong-Secret-99"
    stream = consume(password=wrong)
    with pytest.raises(AuthenticationFailed) as info:
        await asyncio.wait_for(stream.task, 2.0)
    assert info.value.status == 401
    assert wrong not in str(info.value)
    assert fake.ws_attempts == 1  # not retried
    assert stream.queue.empty()


async def test_bad_frames_are_skipped_without_payload_in_logs(
    fake: FakeAri, consume: Callable[..., Consumer], caplog: pytest.LogCaptureFixture
) -> None:
    stream = consume()
    assert await stream.next() == StreamConnected()
    await fake.wait_for(lambda: len(fake.sockets) == 1)
    bad_known = stasis_start()
    del bad_known["args"]
    await fake.send("not json at all")
    await fake.send("[1, 2]")
    await fake.send(bad_known)
    await fake.sockets[0].send_bytes(b"\x00\x01")
    await fake.send(stasis_start("good"))
    item = await stream.next()
    assert isinstance(item, StasisStart) and item.channel.id == "good"
    warnings = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert len(warnings) == 4
    assert any("StasisStart" in w and "args" in w for w in warnings)
    assert not any(CALLER_NAME in w or "not json at all" in w for w in warnings)


async def test_backoff_between_attempts_is_capped(
    fake: FakeAri, consume: Callable[..., Consumer]
) -> None:
    fake.ws_reject = 500
    stream = consume(backoff_initial=0.01, backoff_max=0.02)
    item = await stream.next()
    assert isinstance(item, StreamDisconnected) and "HTTP 500" in item.reason
    # Uncapped doubling from 10 ms would need ~80 s for 14 attempts; capped it is ~0.3 s.
    await fake.wait_for(lambda: fake.ws_attempts >= 14, limit=5.0)
    assert stream.queue.empty()  # one StreamDisconnected per outage, not per retry


async def test_every_retry_waits_a_bounded_delay(fake: FakeAri) -> None:
    fake.ws_reject = 503
    config = AriConfig(fake.base_url, USER, PASSWORD, "hotline")
    stream = EventStream(config, backoff_initial=0.01, backoff_max=0.04)
    backoff = stream._backoff = RecordingBackoff(0.01, 0.04)
    consumer = Consumer(stream)
    try:
        await fake.wait_for(lambda: fake.ws_attempts >= 6)
    finally:
        await consumer.stop()
    # No busy loop: a delay follows every failed attempt, never below initial/2.
    assert len(backoff.delays) >= fake.ws_attempts - 1
    assert all(0.005 <= d <= 0.04 for d in backoff.delays)


def test_backoff_doubles_caps_and_resets() -> None:
    top = Backoff(0.5, 2.0, rand=lambda: 1.0)
    assert [top.next_delay() for _ in range(5)] == [0.5, 1.0, 2.0, 2.0, 2.0]
    top.reset()
    assert top.next_delay() == 0.5
    low = Backoff(0.5, 2.0, rand=lambda: 0.0)
    assert [low.next_delay() for _ in range(4)] == [0.25, 0.5, 1.0, 1.0]
    with pytest.raises(ValueError):
        Backoff(0.0, 1.0)


async def test_dead_peer_is_noticed_by_heartbeat(
    fake: FakeAri, consume: Callable[..., Consumer]
) -> None:
    fake.mute_next = 1  # the first socket never answers pings
    stream = consume(heartbeat=0.1)
    assert await stream.next() == StreamConnected()
    item = await stream.next()
    assert isinstance(item, StreamDisconnected) and item.reason == "heartbeat timeout"
    assert await stream.next() == StreamConnected()
    await fake.wait_for(lambda: len(fake.sockets) == 1)
    await fake.send(stasis_start("after"))
    item = await stream.next()
    assert isinstance(item, StasisStart) and item.channel.id == "after"


async def test_cancel_closes_the_socket(fake: FakeAri, consume: Callable[..., Consumer]) -> None:
    stream = consume()
    assert await stream.next() == StreamConnected()
    await fake.wait_for(lambda: len(fake.sockets) == 1)
    await stream.stop()
    assert stream.task.cancelled()
    await fake.wait_for(lambda: fake.closed_by_client == 1)


async def test_idle_socket_outlives_the_request_timeout(fake: FakeAri) -> None:
    config = AriConfig(fake.base_url, USER, PASSWORD, "hotline", request_timeout=0.1)
    consumer = Consumer(EventStream(config, heartbeat=5.0))
    try:
        assert await consumer.next() == StreamConnected()
        await fake.wait_for(lambda: len(fake.sockets) == 1)
        await asyncio.sleep(0.3)  # idle for 3x the handshake read timeout
        await fake.send(stasis_start("late"))
        item = await consumer.next()
        assert isinstance(item, StasisStart) and item.channel.id == "late"
    finally:
        await consumer.stop()


async def test_handshake_that_never_answers_times_out() -> None:
    writers: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        await reader.read()  # never answer; return when the client hangs up

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    config = AriConfig(f"http://127.0.0.1:{port}", USER, PASSWORD, "hotline", request_timeout=0.1)
    consumer = Consumer(EventStream(config, backoff_initial=0.01, backoff_max=0.02))
    try:
        item = await consumer.next()
        assert isinstance(item, StreamDisconnected) and "connect failed" in item.reason
    finally:
        await consumer.stop()
        for writer in writers:
            writer.close()
        server.close()
        await server.wait_closed()
