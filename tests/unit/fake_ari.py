"""A fake ARI server: a real aiohttp app on 127.0.0.1, port 0, for hotline.ari's own tests."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

USER = "hotline"
PASSWORD = "s3cret-Pa55"  # must never show up in URLs, logs or errors


@dataclass
class Recorded:
    method: str
    path: str  # below /ari, as sent (%-encoded)
    query: list[tuple[str, str]]
    authorization: str | None
    body: Any


Reply = tuple[int, Any]
Hook = Callable[[Recorded], Reply | None]
"""Computes a reply from the request, or None to leave it to the next hook."""


class FakeAri:
    """REST replies come from ``replies[(method, path)] = (status, body)``, else from the
    hooks registered with :meth:`on`, else 204.

    ``body`` may be a str (sent as is) or anything JSON-serialisable. The events WebSocket
    at /ari/events is driven with :meth:`send` / :meth:`drop`.
    """

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.replies: dict[tuple[str, str], tuple[int, Any]] = {}
        self.hooks: list[tuple[str, str, Hook]] = []
        self.delay = 0.0  # seconds before every REST reply
        self.ws_reject: int | None = None  # HTTP status to refuse the handshake with
        self.ws_attempts = 0
        self.ws_queries: list[dict[str, str]] = []
        self.mute_next = 0  # this many next sockets never answer pings (a dead peer)
        self.sockets: list[web.WebSocketResponse] = []
        self.closed_by_client = 0
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/ari/events", self._events)
        app.router.add_route("*", "/ari/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def close(self) -> None:
        await self.drop()
        if self._runner is not None:
            await self._runner.cleanup()

    def on(self, method: str, prefix: str, hook: Hook) -> None:
        """Reply to ``method`` requests whose path (below /ari, %-encoded) starts with
        ``prefix`` with ``hook(request)``; a hook returning None passes. Hooks registered
        later are asked first; a static ``replies`` entry wins over every hook."""
        self.hooks.append((method, prefix, hook))

    def _reply(self, recorded: Recorded) -> Reply:
        static = self.replies.get((recorded.method, recorded.path))
        if static is not None:
            return static
        for method, prefix, hook in reversed(self.hooks):
            if method == recorded.method and recorded.path.startswith(prefix):
                reply = hook(recorded)
                if reply is not None:
                    return reply
        return 204, None

    def _authorized(self, request: web.Request) -> bool:
        expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        return request.headers.get("Authorization") == expected

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = request.raw_path.partition("?")[0].removeprefix("/ari")  # still %-encoded
        body = await request.json() if request.can_read_body else None
        recorded = Recorded(
            request.method,
            path,
            list(request.query.items()),
            request.headers.get("Authorization"),
            body,
        )
        self.requests.append(recorded)
        if self.delay:
            await asyncio.sleep(self.delay)
        if not self._authorized(request):
            return web.json_response({"message": "Authentication required"}, status=401)
        status, reply = self._reply(recorded)
        if reply is None:
            return web.Response(status=status)
        if isinstance(reply, str):
            return web.Response(status=status, text=reply, content_type="text/html")
        return web.json_response(reply, status=status)

    async def _events(self, request: web.Request) -> web.StreamResponse:
        self.ws_attempts += 1
        self.ws_queries.append(dict(request.query))
        async with self._changed:
            self._changed.notify_all()
        if not self._authorized(request):
            return web.json_response({"message": "Authentication required"}, status=401)
        if self.ws_reject is not None:
            return web.json_response({"message": "nope"}, status=self.ws_reject)
        ws = web.WebSocketResponse(autoping=self.mute_next <= 0)
        self.mute_next -= 1
        await ws.prepare(request)
        self.sockets.append(ws)
        async with self._changed:
            self._changed.notify_all()
        async for _ in ws:  # until either side closes
            pass
        if ws in self.sockets:  # still listed: the client went away on its own
            self.sockets.remove(ws)
            self.closed_by_client += 1
            async with self._changed:
                self._changed.notify_all()
        return ws

    async def wait_for(self, predicate: Callable[[], bool], limit: float = 2.0) -> None:
        """Wait until ``predicate()`` is true (re-checked on every socket change)."""
        async with asyncio.timeout(limit), self._changed:
            await self._changed.wait_for(predicate)

    async def send(self, event: dict[str, Any] | str) -> None:
        """Send one frame (a dict is JSON-encoded) on every open socket."""
        data = event if isinstance(event, str) else json.dumps(event)
        for ws in list(self.sockets):
            await ws.send_str(data)

    async def drop(self) -> None:
        """Close every open socket from the server side."""
        sockets, self.sockets = self.sockets, []
        for ws in sockets:
            await ws.close()
