"""The live event stream (GET /api/events) on the real stack: a snapshot first, then typed
events as calls and operators change; a subscriber that stops reading is dropped with close
code 4008 while the others go on; a reconnect starts again with a snapshot."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

import aiohttp
import asyncpg
import pytest

from tests.integration import sipp
from tests.integration.conftest import Service
from tests.integration.floorkit import Floor
from tests.integration.test_calls import ELDER_MOBILE, finished_call
from tests.integration.wsraw import RawSubscriber

pytestmark = pytest.mark.integration

TOO_SLOW = 4008


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Subscriber:
    """An aiohttp WebSocket subscriber that reads everything into a list as it comes."""

    def __init__(self, http: aiohttp.ClientSession, port: int) -> None:
        self.http, self.port = http, port
        self.messages: list[dict[str, Any]] = []
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Subscriber:
        self.ws = await self.http.ws_connect(
            f"http://127.0.0.1:{self.port}/api/events",
            headers={"Authorization": "Bearer test-admin-token-of-the-suite-0123456789"},
        )
        self._task = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self.ws is not None and self._task is not None
        await self.ws.close()
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    async def _read(self) -> None:
        assert self.ws is not None
        async for msg in self.ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                self.messages.append(json.loads(msg.data))

    def of(self, kind: str, **where: Any) -> list[dict[str, Any]]:
        return [
            m
            for m in self.messages
            if m["type"] == kind and all(m.get(k) == v for k, v in where.items())
        ]

    async def wait_for(self, kind: str, limit: float = 15.0, **where: Any) -> dict[str, Any]:
        async with asyncio.timeout(limit):
            while not self.of(kind, **where):
                await asyncio.sleep(0.05)
        return self.of(kind, **where)[0]


def health(service: Service) -> dict[str, Any]:
    return service.api("/healthz")  # type: ignore[no-any-return]


async def test_a_call_seen_on_the_stream_from_snapshot_to_end(
    floor: Floor, db: asyncpg.Connection
) -> None:
    queue = await floor.queue()
    await floor.route("hotline", queue)
    op_id, phone = await floor.operator({queue: 0})
    async with Subscriber(floor.http, floor.service.port) as sub:
        first = await sub.wait_for("snapshot")
        assert sub.messages[0] is first
        operators = {o["operator_id"]: o for o in first["snapshot"]["operators"]}
        assert operators[op_id]["state"] == "ready"
        since = now()
        assert (await sipp.call("12349", ELDER_MOBILE, hold_ms=3000)).ok
        call = await finished_call(db, since)
        call_id = str(call["id"])
        ended = await sub.wait_for("call.ended", call_id=call_id)
        assert ended["by"] == "caller"
        kinds = [m["type"] for m in sub.messages if m.get("call_id") == call_id]
        assert kinds == [
            "call.arrived",
            "call.identified",
            "call.queued",
            "call.offered",
            "call.answered",
            "call.ended",
        ]
        identified = sub.of("call.identified", call_id=call_id)[0]
        assert identified["caller_kind"] == "elder" and identified["elder_id"] is not None
        assert sub.of("call.offered", call_id=call_id)[0]["operator_ids"] == [op_id]
        answered = sub.of("call.answered", call_id=call_id)[0]
        assert answered["operator_id"] == op_id and answered["queue"] == queue
        states = [m["state"] for m in sub.of("operator.state", operator_id=op_id)]
        assert states[:2] == ["offered", "on_call"] and "wrap_up" in states
        seqs = [m["seq"] for m in sub.messages]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # no gap, in order
        assert await phone.wait_for("ended") is None


async def test_a_slow_subscriber_is_dropped_and_the_others_get_everything(
    service: Service, db: asyncpg.Connection
) -> None:
    await service.start(HOTLINE_EVENTS_BUFFER="20")
    async with aiohttp.ClientSession() as http:
        made = Floor(service, http)
        try:
            queue = await made.queue()
            op_id, _ = await made.operator({queue: 0})
            slow = RawSubscriber(
                service.port, "/api/events", "test-admin-token-of-the-suite-0123456789"
            )
            await slow.connect()  # ... and never reads until the end
            async with Subscriber(http, service.port) as fast:
                await fast.wait_for("snapshot")
                assert health(service)["event_subscribers"] == 2
                flips = 0
                while health(service)["event_subscribers"] == 2:
                    state = "paused" if flips % 2 == 0 else "ready"
                    await made.state(op_id, state, "test" if state == "paused" else None)
                    flips += 1
                    assert flips < 3000, "the slow subscriber was never dropped"
                # the fast one is unaffected: every flip arrived, in order, with no gap
                await made.state(op_id, "ready")
                async with asyncio.timeout(10):
                    while len(fast.of("operator.state", operator_id=op_id)) < flips:
                        await asyncio.sleep(0.05)
                seqs = [m["seq"] for m in fast.messages]
                assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
                # the slow one gets what was queued for it, then the close code
                messages, code = await slow.messages_until_close()
                await slow.close()
                assert code == TOO_SLOW
                assert messages and messages[0]["type"] == "snapshot"
                assert len(messages) < flips + 1
                # reconnecting starts over with a snapshot of the state now
                async with Subscriber(http, service.port) as again:
                    snap = await again.wait_for("snapshot")
                    ops = {o["operator_id"]: o for o in snap["snapshot"]["operators"]}
                    assert ops[op_id]["state"] == "ready"
                    assert snap["seq"] >= fast.messages[-1]["seq"]
        finally:
            await made.undo()


async def test_the_stream_needs_a_token_with_the_right_role(floor: Floor) -> None:
    url = f"http://127.0.0.1:{floor.service.port}/api/events"
    for headers, status in (({}, 401), ({"Authorization": "Bearer nope"}, 401)):
        with pytest.raises(aiohttp.WSServerHandshakeError) as err:
            await floor.http.ws_connect(url, headers=headers)
        assert err.value.status == status
