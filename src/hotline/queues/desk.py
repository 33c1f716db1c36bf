"""The desk: the floor's owner in the running service.

Calls enqueue here; the desk decides offers (through the pure floor) and hands each to its
call's task, which does the ringing. Operator availability comes from the API (stored in
PostgreSQL), reachability from Asterisk's endpoint states. Every change of what an operator
shows on the floor is published as an event.

The desk also keeps the answer clock (R1): a caller who has waited past the queue's service
level from the first ring without a human is reported once (an event and a record), with the
queue's operators who were free at that moment. One task (`run`) sleeps until the next thing
due, a wrap-up ending or an answer clock running out, and is woken when the set-up changes:
no task per call, no polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import heapq
import logging
import math
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

from hotline.calls.ports import Publish, Record
from hotline.core import events as ev
from hotline.core.records import CallBreached, OperatorStateRecord
from hotline.core.words import Availability, OperatorState
from hotline.queues.config import QueueConfig, RoutingConfig
from hotline.queues.floor import Floor, Offer

log = logging.getLogger(__name__)

DEFAULT_SERVICE_LEVEL_S = 10  # R1


@dataclass(frozen=True)
class OfferSignal:
    """To a call's task: ring these operators for your call."""

    offer: Offer
    endpoints: dict[int, str]  # operator id -> PJSIP endpoint


@dataclass(frozen=True)
class WithdrawSignal:
    """To a callback's task: stop ringing this operator, a live caller waits for them."""

    operator_id: int


class Listener(Protocol):
    def deliver(self, item: object) -> None: ...


Loader = Callable[[], Awaitable[tuple[RoutingConfig, dict[int, tuple[Availability, str | None]]]]]


@dataclass
class _Clock:
    """One caller's answer clock: started at the first ring (monotonic), in `queue`."""

    origin: float
    queue: str | None
    deadline: float
    threshold: int


class Desk:
    def __init__(
        self,
        *,
        load: Loader,
        record: Record,
        publish: Publish,
        tz: ZoneInfo,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._record = record
        self._publish = publish
        self._tz = tz
        self._clock = clock
        self.floor = Floor(RoutingConfig({}, {}, {}))
        self._listeners: dict[uuid.UUID, Listener] = {}
        self._endpoints_online: set[str] = set()
        self._shown: dict[int, tuple[OperatorState, str | None, bool, int]] = {}
        self._answer_clocks: dict[uuid.UUID, _Clock] = {}
        # The clocks by deadline; an entry whose clock was stopped or re-armed is skipped when
        # it comes up (a thousand callers waiting cost O(log n) an arrival, not O(n)).
        self._deadlines: list[tuple[float, uuid.UUID]] = []
        self._sleep_until = math.inf  # when the timer task wakes next unless woken
        self._wake = asyncio.Event()
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
        for call_id, answer_clock in list(self._answer_clocks.items()):  # thresholds change
            self._arm(call_id, answer_clock.origin, answer_clock.queue)
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

    # --- reading ---------------------------------------------------------------------

    def queue_for(self, entry: str) -> tuple[str | None, bool]:
        local = dt.datetime.now(self._tz).time()
        return self.floor.config.queue_for(entry, local)

    def queue(self, name: str) -> QueueConfig | None:
        return self.floor.config.queues.get(name)

    @property
    def config(self) -> RoutingConfig:
        return self.floor.config

    @property
    def tz(self) -> ZoneInfo:
        return self._tz

    def position(self, call_id: uuid.UUID) -> int | None:
        return self.floor.position(call_id) if call_id in self.floor.waiting else None

    def waited(self, call_id: uuid.UUID) -> float | None:
        w = self.floor.waiting.get(call_id)
        return None if w is None else self._clock() - w.enqueued

    def on_call(self, operator_id: int, call_id: uuid.UUID) -> bool:
        live = self.floor.operators.get(operator_id)
        return live is not None and call_id in live.calls

    def calls_of(self, operator_id: int) -> frozenset[uuid.UUID]:
        """The calls the operator is connected to now."""
        live = self.floor.operators.get(operator_id)
        return frozenset(live.calls) if live is not None else frozenset()

    def free_and_busy(self, queue: str | None) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """The queue's members who could take a call now, and the others."""
        conf = self.queue(queue) if queue else None
        if conf is None:
            return (), ()
        now = self._clock()
        free: list[int] = []
        busy: list[int] = []
        for op_id in sorted(conf.members):
            live = self.floor.operators.get(op_id)
            op_conf = self.floor.config.operators.get(op_id)
            ok = (
                live is not None
                and op_conf is not None
                and live.reachable
                and live.state(now) == "ready"
                and len(live.calls) < op_conf.line_cap
            )
            (free if ok else busy).append(op_id)
        return tuple(free), tuple(busy)

    # --- calls -----------------------------------------------------------------------

    def arriving(self, call_id: uuid.UUID, entry: str) -> None:
        """A live caller is being answered on `entry`: the queue its line sends it to holds
        its operators for it (no callback is offered to them) until it is queued or gone."""
        queue, _ = self.queue_for(entry)
        if queue is not None and queue in self.floor.config.queues:
            self.floor.arrive(call_id, queue, self._clock())
            self.dispatch()

    def free_for(self, entry: str) -> bool:
        """Whether an operator of the queue `entry`'s line sends calls to is free now."""
        queue, _ = self.queue_for(entry)
        return queue is not None and self.floor.free_in(queue, self._clock())

    def enqueue(
        self,
        call_id: uuid.UUID,
        who: Listener,
        queue: str,
        priority: int,
        *,
        first_ring: dt.datetime | None = None,
        preferred: int | None = None,
        live: bool = True,
    ) -> None:
        """The call waits in `queue`. With `first_ring`, its answer clock runs from then;
        with `preferred` (the owner of the caller's open case), that operator is offered it
        first when free (R14). `live` False: a callback, offered only when no live caller
        waits for the operator."""
        self._listeners[call_id] = who
        self.floor.enqueue(call_id, queue, priority, self._clock(), preferred, live=live)
        if first_ring is not None:
            age = (dt.datetime.now(dt.UTC) - first_ring).total_seconds()
            self._arm(call_id, self._clock() - max(0.0, age), queue)
        self.dispatch()

    def move(self, call_id: uuid.UUID, queue: str) -> None:
        if call_id in self.floor.waiting:
            self.floor.move(call_id, queue, self._clock())
            answer_clock = self._answer_clocks.get(call_id)
            if answer_clock is not None:
                self._arm(call_id, answer_clock.origin, queue)
            self.dispatch()

    def leave(self, call_id: uuid.UUID) -> None:
        """The call stops waiting (hang-up, overflow to the dialplan, shutdown)."""
        waiting = self.floor.leave(call_id)
        self._listeners.pop(call_id, None)
        self._answer_clocks.pop(call_id, None)
        if waiting is not None:
            for op_id in waiting.offered_to:
                self.floor.offer_failed(call_id, op_id, rang_out=False)
        self.dispatch()

    def offer_failed(self, call_id: uuid.UUID, operator_id: int, *, rang_out: bool) -> None:
        self.floor.offer_failed(call_id, operator_id, rang_out=rang_out)
        if rang_out:
            self._state(operator_id, "paused", "rang_out", call_id, availability="paused")
            log.info("operator %d paused: let a call ring out", operator_id)
        self.dispatch()

    def withdrawn(self, call_id: uuid.UUID, operator_id: int) -> None:
        """A callback stopped ringing an operator for a live caller (no pause, no refusal)."""
        self.floor.withdrawn(call_id, operator_id)
        self.dispatch()

    def connected(self, call_id: uuid.UUID, operator_id: int) -> None:
        """A human answered: the call leaves the queue and its answer clock stops."""
        self.floor.connected(call_id, operator_id)
        self._listeners.pop(call_id, None)
        self._answer_clocks.pop(call_id, None)
        self._state(operator_id, "on_call", None, call_id)
        self.dispatch()

    def human(self, call_id: uuid.UUID) -> None:
        """Someone who is not an operator took the call (a transfer to a number)."""
        self._answer_clocks.pop(call_id, None)

    def finished(self, call_id: uuid.UUID, operator_id: int, queue: str) -> None:
        conf = self.floor.config.queues.get(queue)
        wrapup = conf.wrapup_s if conf else 0
        now = self._clock()
        self.floor.finished(call_id, operator_id, now, wrapup)
        self._wake.set()  # a wrap-up to end
        live = self.floor.operators.get(operator_id)
        if live is not None:  # what the floor shows now: wrapping up, ready, or paused
            self._state(operator_id, live.state(now), live.pause_reason, call_id)
        self.dispatch()

    def set_availability(
        self, operator_id: int, availability: Availability, reason: str | None
    ) -> None:
        self.floor.set_availability(operator_id, availability, reason, self._clock())
        self.dispatch()

    # --- matching --------------------------------------------------------------------

    def dispatch(self) -> None:
        """Make every offer the floor allows now; tell the floor what changed. A callback
        ringing an operator a live caller now waits for is told to stop (R1)."""
        now = self._clock()
        for call_id, operator_id in self.floor.callback_offers_to_withdraw(now):
            listener = self._listeners.get(call_id)
            if listener is not None:
                listener.deliver(WithdrawSignal(operator_id))
        for offer in self.floor.offers(now):
            listener = self._listeners.get(offer.call_id)
            if listener is None:
                continue
            queue = self.floor.waiting[offer.call_id].queue
            self.floor.offered(offer, queue)
            endpoints = {op: self.floor.config.operators[op].endpoint for op in offer.operator_ids}
            listener.deliver(OfferSignal(offer, endpoints))
        self._publish_operators(now)

    def _publish_operators(self, now: float) -> None:
        for op_id, live in self.floor.operators.items():
            shown = (live.state(now), live.pause_reason, live.reachable, len(live.calls))
            if self._shown.get(op_id) != shown:
                self._shown[op_id] = shown
                state, reason, reachable, calls = shown
                self._publish(
                    ev.OperatorStateChanged(
                        operator_id=op_id,
                        state=state,
                        reason=reason,
                        reachable=reachable,
                        calls=calls,
                    )
                )
        for op_id in [o for o in self._shown if o not in self.floor.operators]:
            del self._shown[op_id]

    # --- the timer -------------------------------------------------------------------

    def _arm(self, call_id: uuid.UUID, origin: float, queue: str | None) -> None:
        conf = self.queue(queue) if queue else None
        threshold = conf.service_level_s if conf else DEFAULT_SERVICE_LEVEL_S
        deadline = origin + threshold
        self._answer_clocks[call_id] = _Clock(origin, queue, deadline, threshold)
        heapq.heappush(self._deadlines, (deadline, call_id))
        if deadline < self._sleep_until:
            self._wake.set()

    def _live_deadline(self, entry: tuple[float, uuid.UUID]) -> bool:
        answer_clock = self._answer_clocks.get(entry[1])
        return answer_clock is not None and answer_clock.deadline == entry[0]

    def _next_due(self, now: float) -> float | None:
        while self._deadlines and not self._live_deadline(self._deadlines[0]):
            heapq.heappop(self._deadlines)
        times = [self._deadlines[0][0]] if self._deadlines else []
        times += [
            live.wrap_until for live in self.floor.operators.values() if live.wrap_until > now
        ]
        return min(times) if times else None

    async def run(self) -> None:
        """Owned task: answer clocks running out, wrap-ups ending."""
        while True:
            now = self._clock()
            self._fire(now)
            due = self._next_due(now)
            self._sleep_until = math.inf if due is None else due
            self._wake.clear()
            timeout = None if due is None else max(0.0, due - self._clock())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    def _fire(self, now: float) -> None:
        while self._deadlines and self._deadlines[0][0] <= now:
            entry = heapq.heappop(self._deadlines)
            if self._live_deadline(entry):
                answer_clock = self._answer_clocks.pop(entry[1])
                self._breached(entry[1], answer_clock, now)
        ended = False
        for live in self.floor.operators.values():
            if live.wrap_until and now >= live.wrap_until:
                live.wrap_until = 0.0
                ended = True
                if live.availability == "ready" and not live.calls:
                    self._state(live.id, "ready", None, None)
        if ended:
            self.dispatch()

    def _breached(self, call_id: uuid.UUID, answer_clock: _Clock, now: float) -> None:
        free, busy = self.free_and_busy(answer_clock.queue)
        waited = round(now - answer_clock.origin, 1)
        log.info(
            "answer clock: call waited %.1f s in %s without a human", waited, answer_clock.queue
        )
        self._record(CallBreached(call_id=call_id, at=dt.datetime.now(dt.UTC)))
        self._publish(
            ev.AnswerClockBreached(
                call_id=call_id,
                queue=answer_clock.queue,
                waited_s=waited,
                service_level_s=answer_clock.threshold,
                operators_free=free,
                operators_busy=busy,
            )
        )

    def _state(
        self,
        operator_id: int,
        state: str,
        reason: str | None,
        call_id: uuid.UUID | None,
        *,
        availability: Availability | None = None,
    ) -> None:
        self._record(
            OperatorStateRecord(
                operator_id=operator_id,
                state=state,
                reason=reason,
                call_id=call_id,
                at=dt.datetime.now(dt.UTC),
                availability=availability,
            )
        )
