"""The ARI events WebSocket, reconnecting forever with capped, jittered backoff."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass

import aiohttp

from .client import AriConfig
from .errors import AuthenticationFailed
from .events import Event, EventParseError, parse_event

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StreamConnected:
    """The socket is (again) up. Events sent while it was down are lost: reconcile now."""


@dataclass(frozen=True, slots=True)
class StreamDisconnected:
    """The socket went down (or could not be opened); reconnection is under way."""

    reason: str


StreamItem = Event | StreamConnected | StreamDisconnected

_DATA = (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY)


class Backoff:
    """Capped exponential backoff with jitter: each delay is in [d/2, d], d doubling to max."""

    def __init__(
        self, initial: float, maximum: float, rand: Callable[[], float] = random.random
    ) -> None:
        if not 0 < initial <= maximum:
            raise ValueError("backoff needs 0 < initial <= maximum")
        self._initial, self._max, self._rand = initial, maximum, rand
        self._current = initial

    def next_delay(self) -> float:
        delay = self._current * (0.5 + 0.5 * self._rand())
        self._current = min(self._current * 2, self._max)
        return delay

    def reset(self) -> None:
        self._current = self._initial


class EventStream:
    """ARI events for ``config.app`` as an async iterator.

    ``items()`` yields :class:`StreamConnected` after every successful (re)connect, the
    events, and :class:`StreamDisconnected` once per outage. It reconnects until closed or
    cancelled; only a 401/403 handshake ends it, raising :class:`AuthenticationFailed`.
    Iterate inside ``contextlib.aclosing(stream.items())`` so that leaving the loop early
    closes the socket at once.
    """

    def __init__(
        self,
        config: AriConfig,
        *,
        heartbeat: float = 10.0,
        backoff_initial: float = 0.5,
        backoff_max: float = 10.0,
    ) -> None:
        self._config = config
        self._heartbeat = heartbeat
        self._backoff = Backoff(backoff_initial, backoff_max)
        # A connection that stayed up this long resets the backoff.
        self._stable_after = max(backoff_max, heartbeat)

    async def items(self) -> AsyncGenerator[StreamItem, None]:
        loop = asyncio.get_running_loop()
        down = False  # in an outage that was already reported
        async with aiohttp.ClientSession(
            headers=self._config.auth_header(),
            # Bounds the handshake only: aiohttp lifts the read timeout once upgraded.
            timeout=aiohttp.ClientTimeout(
                total=None,
                sock_connect=self._config.request_timeout,
                sock_read=self._config.request_timeout,
            ),
        ) as session:
            while True:
                try:
                    ws = await session.ws_connect(
                        self._config.events_url,
                        params={"app": self._config.app, "subscribeAll": "false"},
                        heartbeat=self._heartbeat,
                        timeout=aiohttp.ClientWSTimeout(ws_close=self._config.request_timeout),
                    )
                except aiohttp.WSServerHandshakeError as err:
                    if err.status in (401, 403):
                        raise AuthenticationFailed(
                            "events WebSocket rejected the credentials",
                            status=err.status,
                            method="GET",
                            path="/events",
                        ) from err
                    reason = f"handshake failed with HTTP {err.status}"
                except (aiohttp.ClientError, OSError, TimeoutError) as err:
                    reason = f"connect failed ({type(err).__name__})"
                else:
                    opened = loop.time()
                    async with ws:
                        if down:
                            log.info("ARI events connection restored")
                            down = False
                        yield StreamConnected()
                        seen = _Repeats()
                        while (msg := await ws.receive()).type in _DATA:
                            if seen.again(msg.data):
                                continue
                            if (event := _decode(msg)) is not None:
                                yield event
                        reason = _close_reason(ws)
                    if loop.time() - opened >= self._stable_after:
                        self._backoff.reset()
                if not down:
                    log.warning("ARI events connection down (%s); reconnecting", reason)
                    down = True
                    yield StreamDisconnected(reason)
                await asyncio.sleep(self._backoff.next_delay())


class _Repeats:
    """Frames seen lately, by the hash of their text. An app subscribed to a channel and to
    its endpoint (`endpoint:PJSIP`, for the softphones' states) gets each of that channel's
    events twice, byte for byte: the second is dropped before it costs a parse."""

    LIMIT = 512

    def __init__(self) -> None:
        self._recent: dict[int, None] = {}  # insertion-ordered: the oldest goes first

    def again(self, data: object) -> bool:
        if not isinstance(data, str):
            return False
        key = hash(data)
        if key in self._recent:
            return True
        self._recent[key] = None
        if len(self._recent) > self.LIMIT:
            del self._recent[next(iter(self._recent))]
        return False


def _decode(msg: aiohttp.WSMessage) -> Event | None:
    """The event in a data frame, or None (logged) for a frame we cannot use."""
    if msg.type is not aiohttp.WSMsgType.TEXT:
        log.warning("ignoring binary ARI frame")
        return None
    try:
        raw = json.loads(msg.data)
    except ValueError:
        log.warning("ignoring ARI frame that is not JSON")
        return None
    if not isinstance(raw, dict):
        log.warning("ignoring ARI frame that is not a JSON object")
        return None
    try:
        return parse_event(raw)
    except EventParseError as err:  # names the type and fields, never values
        log.warning("ignoring malformed ARI event: %s", err)
        return None


def _close_reason(ws: aiohttp.ClientWebSocketResponse) -> str:
    exc = ws.exception()
    if isinstance(exc, TimeoutError):
        return "heartbeat timeout"
    if exc is not None:
        return f"connection lost ({type(exc).__name__})"
    return f"closed by server (code {ws.close_code})"
