"""The SCAIP receiver: a SIP endpoint on UDP that takes alarm MESSAGEs from the terminals
(or their gateway) and hands each alarm to a callable.

Asterisk cannot do this for us: res_pjsip_messaging refuses an out-of-dialog MESSAGE whose
body is not text/plain (415) before the dialplan or ARI sees it.

Answers:
    MESSAGE application/scaip+xml   200 OK with an <mrs>: snu 0, or the snu of what is wrong
                                    (a data error is answered in the mrs, as SCAIP does, so
                                    that a terminal does not resend a bad payload for ever)
    MESSAGE of another type         415, with Accept
    OPTIONS                         200, with Allow and Accept
    ACK                             nothing
    anything else                   405, with Allow
    from an address not allowed     403
    over a source's rate            nothing (the datagram is dropped: a terminal retransmits;
                                    answering a flood would reflect it)
A retransmission (same Via branch, Call-ID and CSeq within 32 s) gets the same response again
and does not reach the callable twice. Heartbeats (mty PI) are answered and not passed on.

Logs carry the source address, the snu and its reason, the ref and the alarm type: never a
number, a location or the body.
"""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from hotline.alarms.scaip import CONTENT_TYPE, Alarm, BadAlarm, Snu, build_mrs, parse_mrq
from hotline.alarms.sip import BadSip, SipRequest, build_response, parse_request, transaction_key

log = logging.getLogger(__name__)

Source = tuple[str, int]
OnAlarm = Callable[[Alarm, Source], object]

ALLOW = "MESSAGE, OPTIONS"
RETRANSMIT_S = 32.0  # RFC 3261 Timer J: how long a non-INVITE server transaction lasts
_REMEMBERED = 4096  # responses kept for retransmissions
_WARNED = 1024  # refused source addresses warned about once each
_BUCKETS = 4096  # sources whose rate is followed (the least recent forgotten first)


@dataclass(frozen=True)
class Answer:
    """What one datagram gets: the bytes to send back (None: nothing) and the alarm to pass
    on (None: none)."""

    reply: bytes | None
    alarm: Alarm | None = None


class AlarmReceiver:
    """Receives SCAIP alarms on a UDP port; `on_alarm(alarm, source)` is called after the
    terminal has been answered. Its exceptions are logged, never raised. `allowed`, when
    given, is the set of source IP addresses that may send (others get 403). Each source may
    send `rate` datagrams a second on average, `burst` at once; more are dropped."""

    def __init__(
        self,
        on_alarm: OnAlarm,
        *,
        allowed: Collection[str] | None = None,
        rate: float = 20.0,
        burst: int = 40,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate and burst must be positive")
        self._on_alarm = on_alarm
        self._allowed = frozenset(allowed) if allowed is not None else None
        self._rate = rate
        self._burst = float(burst)
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # tokens, when
        self._dropped: dict[str, int] = {}
        self._clock = clock
        self._recent: OrderedDict[tuple[str, int, str, str, str], tuple[float, bytes]] = (
            OrderedDict()
        )
        self._warned: set[str] = set()
        self._transport: asyncio.DatagramTransport | None = None
        self._closed: asyncio.Future[None] | None = None

    @property
    def address(self) -> Source | None:
        """Where it listens (the real port when started on port 0), None when stopped."""
        if self._transport is None:
            return None
        host, port = self._transport.get_extra_info("sockname")[:2]
        return str(host), int(port)

    async def start(self, host: str, port: int) -> None:
        if self._transport is not None:
            raise RuntimeError("already started")
        loop = asyncio.get_running_loop()
        self._closed = loop.create_future()
        self._transport, _ = await loop.create_datagram_endpoint(
            lambda: _Endpoint(self), local_addr=(host, port)
        )
        log.info("SCAIP receiver listening on %s:%d", *self.address or (host, port))

    async def stop(self) -> None:
        transport, self._transport = self._transport, None
        if transport is None:
            return
        transport.close()
        if self._closed is not None:
            await asyncio.wait_for(asyncio.shield(self._closed), 5)
        log.info("SCAIP receiver stopped")

    def answer(self, data: bytes, source: Source) -> Answer:
        """The answer to one datagram from `source`. Never raises."""
        try:
            return self._answer(data, source)
        except Exception as err:  # a bug here must not stop the receiver
            log.error("SCAIP datagram from %s:%d not handled: %s", *source, _where(err))
            return Answer(None)

    def _answer(self, data: bytes, source: Source) -> Answer:
        if not data.strip():
            return Answer(None)  # CRLF keep-alive
        if not self._admit(source[0]):
            return Answer(None)
        try:
            request = parse_request(data)
        except BadSip as err:
            log.debug("unreadable SIP datagram from %s:%d: %s", *source, err)
            return Answer(None)
        if request.method == "ACK":
            return Answer(None)
        key = (*source, *transaction_key(request))
        now = self._clock()
        self._forget(now)
        if key in self._recent:
            return Answer(self._recent[key][1])  # a retransmission: same answer, once
        answer = self._respond(request, source)
        if answer.reply is not None:
            self._recent[key] = (now, answer.reply)
            while len(self._recent) > _REMEMBERED:
                self._recent.popitem(last=False)
        return answer

    def _respond(self, request: SipRequest, source: Source) -> Answer:
        def reply(
            status: int,
            reason: str,
            headers: Sequence[tuple[str, str]] = (),
            body: bytes = b"",
        ) -> bytes:
            kind = CONTENT_TYPE if body else None
            return build_response(
                request,
                status,
                reason,
                headers=headers,
                body=body,
                content_type=kind,
                source=source,
            )

        if self._allowed is not None and source[0] not in self._allowed:
            if source[0] not in self._warned and len(self._warned) < _WARNED:
                self._warned.add(source[0])
                log.warning("SIP from %s refused: not an allowed source", source[0])
            return Answer(reply(403, "Forbidden"))
        if request.method == "OPTIONS":
            return Answer(reply(200, "OK", headers=[("Allow", ALLOW), ("Accept", CONTENT_TYPE)]))
        if request.method != "MESSAGE":
            return Answer(reply(405, "Method Not Allowed", headers=[("Allow", ALLOW)]))
        if request.content_type != CONTENT_TYPE:
            return Answer(reply(415, "Unsupported Media Type", headers=[("Accept", CONTENT_TYPE)]))
        try:
            alarm = parse_mrq(request.body)
        except BadAlarm as bad:
            log.warning(
                "SCAIP message from %s:%d refused: snu=%d (%s)", *source, bad.status, bad.reason
            )
            body = build_mrs(bad.ref, bad.status, text=bad.reason)
            return Answer(reply(200, "OK", body=body))
        heartbeat = alarm.kind == "heartbeat"
        log.log(
            logging.DEBUG if heartbeat else logging.INFO,
            "SCAIP %s from %s:%d: ref=%s type=%s",
            alarm.kind,
            *source,
            alarm.ref,
            alarm.alarm_type,
        )
        body = build_mrs(alarm.ref, Snu.OK)
        return Answer(reply(200, "OK", body=body), None if heartbeat else alarm)

    def _received(self, data: bytes, source: Source) -> None:
        answer = self.answer(data, source)
        if answer.reply is not None and self._transport is not None:
            self._transport.sendto(answer.reply, source)
        if answer.alarm is not None:
            try:
                self._on_alarm(answer.alarm, source)
            except Exception as err:
                log.error("SCAIP alarm ref=%s: handler failed: %s", answer.alarm.ref, _where(err))

    def _admit(self, address: str) -> bool:
        """A token from the source's bucket; False (and a warning once a burst) when empty."""
        now = self._clock()
        tokens, then = self._buckets.pop(address, (self._burst, now))
        tokens = min(self._burst, tokens + (now - then) * self._rate)
        admitted = tokens >= 1.0
        self._buckets[address] = (tokens - 1.0 if admitted else tokens, now)
        while len(self._buckets) > _BUCKETS:
            self._buckets.popitem(last=False)
        if admitted:
            dropped = self._dropped.pop(address, 0)
            if dropped:
                log.warning("SCAIP from %s: %d datagram(s) over its rate dropped", address, dropped)
        elif address in self._dropped or len(self._dropped) < _WARNED:
            if address not in self._dropped:
                log.warning("SCAIP from %s over %.0f/s: dropping", address, self._rate)
            self._dropped[address] = self._dropped.get(address, 0) + 1
        return admitted

    def _forget(self, now: float) -> None:
        while self._recent:
            added, _ = next(iter(self._recent.values()))
            if now - added <= RETRANSMIT_S:
                break
            self._recent.popitem(last=False)

    def _lost(self) -> None:
        if self._closed is not None and not self._closed.done():
            self._closed.set_result(None)


class _Endpoint(asyncio.DatagramProtocol):
    def __init__(self, receiver: AlarmReceiver) -> None:
        self._receiver = receiver

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self._receiver._received(data, (str(addr[0]), int(addr[1])))

    def error_received(self, exc: Exception) -> None:
        log.debug("SCAIP socket error: %s", type(exc).__name__)  # e.g. ICMP unreachable

    def connection_lost(self, exc: Exception | None) -> None:
        self._receiver._lost()


def _where(err: BaseException) -> str:
    """The exception's type and the line that raised it: its message may quote data."""
    frames = traceback.extract_tb(err.__traceback__)
    place = f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
    return f"{type(err).__name__}{place}"
