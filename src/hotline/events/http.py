"""GET /api/events: the live event stream over a WebSocket.

The first message is a snapshot of the floor ({"type": "snapshot", "seq", "snapshot"}),
then every domain event as it happens ({"seq", "type", "at", ...}); `seq` rises by one per
event, so a gap means a lost connection: reconnect and take the new snapshot. A subscriber
that falls behind is dropped with close code 4008 (CLOSE_TOO_SLOW) rather than slowing
anyone else.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import socket
from collections.abc import Callable

from aiohttp import WSMsgType, web

from hotline.api.routes import Route
from hotline.events.bus import CLOSE_TOO_SLOW, Bus, Subscriber
from hotline.events.live import FloorSnapshot

log = logging.getLogger(__name__)

TAG = "events"
SEND_BUFFER = 16384  # small socket buffers: a subscriber that stops reading shows soon
CLOSE_WAIT_S = 10.0  # how long a dropped subscriber has to take its close frame


def routes(bus: Bus, snapshot: Callable[[], FloorSnapshot]) -> list[Route]:
    def first(seq: int) -> object:
        return dataclasses.asdict(snapshot())

    async def events(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(heartbeat=30.0, writer_limit=SEND_BUFFER)
        await ws.prepare(request)
        _small_buffers(request)
        subscriber = bus.subscribe(first)
        sender = asyncio.create_task(_send(ws, subscriber), name="events-send")
        reader = asyncio.create_task(_read(ws), name="events-read")
        dropped = asyncio.create_task(subscriber.dropped.wait(), name="events-dropped")
        tasks = {sender, reader, dropped}
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            bus.unsubscribe(subscriber)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if subscriber.dropped.is_set():
            try:
                await asyncio.wait_for(
                    ws.close(code=CLOSE_TOO_SLOW, message=b"too slow"), CLOSE_WAIT_S
                )
            except TimeoutError:
                if request.transport is not None:
                    request.transport.abort()
        elif not ws.closed:
            await ws.close()
        return ws

    return [
        Route(
            "GET",
            "/api/events",
            events,
            "The live event stream (WebSocket): a snapshot of the floor, then every event",
            TAG,
            roles=("admin", "supervisor"),
            websocket=True,
            errors=(401, 403),
        )
    ]


async def _send(ws: web.WebSocketResponse, subscriber: Subscriber) -> None:
    while True:
        text = await subscriber.next()
        await ws.send_str(text)


async def _read(ws: web.WebSocketResponse) -> None:
    """Subscribers have nothing to say; reading keeps pings and the close handshake going."""
    async for msg in ws:
        if msg.type == WSMsgType.ERROR:
            return


def _small_buffers(request: web.Request) -> None:
    transport = request.transport
    if transport is None:
        return
    with contextlib.suppress(OSError, AttributeError):
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
    with contextlib.suppress(AttributeError, NotImplementedError):
        transport.set_write_buffer_limits(high=SEND_BUFFER)
