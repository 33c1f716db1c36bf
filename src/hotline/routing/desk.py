"""The desk: the floor's owner in the running service.

Call sessions enqueue here; the desk decides offers (through the pure floor) and hands
each to its call's session, which does the ringing. Operator availability comes from the
API (stored in PostgreSQL), reachability from Asterisk's endpoint states. One ticker task
re-runs the matching so that wrap-ups ending and timers need no task of their own.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

from hotline.db.records import Op, OperatorState
from hotline.routing.config import QueueConfig, RoutingConfig
from hotline.routing.floor import Availability, Floor, Offer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OfferSignal:
    """To a call session: ring these operators for your call."""

    offer: Offer
    endpoints: dict[int, str]  # operator id -> PJSIP endpoint


class Listener(Protocol):
    def signal(self, signal: object) -> None: ...


Loader = Callable[[], Awaitable[tuple[RoutingConfig, dict[int, tuple[Availability, str | None]]]]]


class Desk:
    def __init__(
        self,
        *,
        load: Loader,
        record: Callable[[Op], None],
        tz: ZoneInfo,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._record = record
        self._tz = tz
        self._clock = clock
        self.floor = Floor(RoutingConfig({}, {}, {}))
        self._listeners: dict[uuid.UUID, Listener] = {}
        self._endpoints_online: set[str] = set()
        self.loaded = False

    # --- set-up ----------------------------------------------------------------------

    async def reload(self) -> None:
        """Read the set-up and standing availability again; applies to the next offers."""
        config, states = await self._load()
        self.floor.reconfigure(config)
        now = self._clock()
        for op_id, (availability, reason) in states.items():
            self.floor.set_availability(op_id, availability, reason, now)
        self._apply_reachability()
        self.loaded = True
        self.dispatch()

    def endpoint_states(self, online: set[str]) -> None:
        """The full list of softphones Asterisk sees online (at reconcile)."""
        self._endpoints_online = set(online)
        self._apply_reachability()
        self.dispatch()

    def endpoint_state(self, endpoint: str, online: bool) -> None:
        if online:
            self._endpoints_online.add(endpoint)
        else:
            self._endpoints_online.discard(endpoint)
        self._apply_reachability()
        self.dispatch()

    def _apply_reachability(self) -> None:
        for op_id, conf in self.floor.config.operators.items():
            self.floor.set_reachable(op_id, conf.endpoint in self._endpoints_online)

    # --- calls -----------------------------------------------------------------------

    def queue_for(self, entry: str) -> tuple[str | None, bool]:
        local = dt.datetime.now(self._tz).time()
        return self.floor.config.queue_for(entry, local)

    def queue(self, name: str) -> QueueConfig | None:
        return self.floor.config.queues.get(name)

    def enqueue(self, call_id: uuid.UUID, who: Listener, queue: str, priority: int) -> None:
        self._listeners[call_id] = who
        self.floor.enqueue(call_id, queue, priority, self._clock())
        self.dispatch()

    def move(self, call_id: uuid.UUID, queue: str) -> None:
        if call_id in self.floor.waiting:
            self.floor.move(call_id, queue, self._clock())
            self.dispatch()

    def position(self, call_id: uuid.UUID) -> int | None:
        return self.floor.position(call_id) if call_id in self.floor.waiting else None

    def waited(self, call_id: uuid.UUID) -> float | None:
        w = self.floor.waiting.get(call_id)
        return None if w is None else self._clock() - w.enqueued

    def leave(self, call_id: uuid.UUID) -> None:
        """The call stops waiting (hang-up, overflow to the dialplan, shutdown)."""
        waiting = self.floor.leave(call_id)
        self._listeners.pop(call_id, None)
        if waiting is not None:
            for op_id in waiting.offered_to:
                self.floor.offer_failed(call_id, op_id, rang_out=False)
        self.dispatch()

    def offer_failed(self, call_id: uuid.UUID, operator_id: int, *, rang_out: bool) -> None:
        self.floor.offer_failed(call_id, operator_id, rang_out=rang_out)
        if rang_out:
            self._state(operator_id, "paused", "rang_out", call_id)
            log.info("operator %d paused: let a call ring out", operator_id)
        self.dispatch()

    def connected(self, call_id: uuid.UUID, operator_id: int) -> list[int]:
        others = list(self.floor.connected(call_id, operator_id))
        self._listeners.pop(call_id, None)
        self._state(operator_id, "on_call", None, call_id)
        self.dispatch()
        return others

    def finished(self, call_id: uuid.UUID, operator_id: int, queue: str) -> None:
        conf = self.floor.config.queues.get(queue)
        wrapup = conf.wrapup_s if conf else 0
        self.floor.finished(call_id, operator_id, self._clock(), wrapup)
        self._state(operator_id, "wrap_up" if wrapup else "ready", None, call_id)
        self.dispatch()

    def set_availability(
        self, operator_id: int, availability: Availability, reason: str | None
    ) -> None:
        self.floor.set_availability(operator_id, availability, reason, self._clock())
        self.dispatch()

    def on_call(self, operator_id: int, call_id: uuid.UUID) -> bool:
        live = self.floor.operators.get(operator_id)
        return live is not None and call_id in live.calls

    # --- matching --------------------------------------------------------------------

    def dispatch(self) -> None:
        """Make every offer the floor allows now."""
        now = self._clock()
        for offer in self.floor.offers(now):
            listener = self._listeners.get(offer.call_id)
            if listener is None:
                continue
            queue = self.floor.waiting[offer.call_id].queue
            self.floor.offered(offer, queue)
            endpoints = {op: self.floor.config.operators[op].endpoint for op in offer.operator_ids}
            listener.signal(OfferSignal(offer, endpoints))

    async def tick(self, every: float = 0.5) -> None:
        """Owned task: wrap-ups that ended become offers; ready-after-wrap-up is recorded."""
        while True:
            await asyncio.sleep(every)
            now = self._clock()
            for live in self.floor.operators.values():
                if live.wrap_until and now >= live.wrap_until:
                    live.wrap_until = 0.0
                    if live.availability == "ready" and not live.calls:
                        self._state(live.id, "ready", None, None)
            self.dispatch()

    def _state(
        self, operator_id: int, state: str, reason: str | None, call_id: uuid.UUID | None
    ) -> None:
        self._record(
            OperatorState(
                operator_id=operator_id,
                state=state,
                reason=reason,
                call_id=call_id,
                at=dt.datetime.now(dt.UTC),
            )
        )

    # --- the live view ---------------------------------------------------------------

    def snapshot(self) -> dict[str, object]:
        now = self._clock()
        queues: dict[str, dict[str, object]] = {}
        for name in self.floor.config.queues:
            waits = [now - w.enqueued for w in self.floor.waiting.values() if w.queue == name]
            queues[name] = {
                "waiting": len(waits),
                "longest_wait_s": round(max(waits), 1) if waits else 0.0,
            }
        operators = {
            str(op_id): {
                "state": live.state(now),
                "reason": live.pause_reason,
                "reachable": live.reachable,
                "calls": len(live.calls),
            }
            for op_id, live in self.floor.operators.items()
        }
        return {"queues": queues, "operators": operators}
