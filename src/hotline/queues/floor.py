"""The floor: operators' live state and the calls waiting, and the pure matching of both.

Mutated only from the event loop (no locks). ``offers()`` is a pure function of the
state: every decision about who rings is made there and unit-tested without I/O.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from hotline.core.words import Availability, OperatorState
from hotline.queues.config import QueueConfig, RoutingConfig

ARRIVING_S = 30.0  # a caller is answered and queued in milliseconds; this is a safety net


@dataclass
class OperatorLive:
    id: int
    availability: Availability = "logged_out"
    pause_reason: str | None = None
    reachable: bool = False  # the softphone is registered and answers qualify
    calls: set[uuid.UUID] = field(default_factory=set)  # connected calls
    offered: uuid.UUID | None = None  # ringing now
    wrap_until: float = 0.0  # monotonic time the wrap-up ends
    idle_since: float = 0.0  # last time a call (or wrap-up) ended

    def state(self, now: float) -> OperatorState:
        """The state as the floor shows it."""
        if self.availability != "ready":
            return self.availability
        if self.offered is not None:
            return "offered"
        if self.calls:
            return "on_call"
        if now < self.wrap_until:
            return "wrap_up"
        return "ready"


@dataclass
class Waiting:
    call_id: uuid.UUID
    queue: str
    priority: int
    arrived: float  # monotonic; first arrival, kept across overflow
    enqueued: float  # monotonic; in this queue
    offered_to: frozenset[int] = frozenset()  # ringing now
    tried: frozenset[int] = frozenset()  # rang and did not answer
    preferred: int | None = None  # the owner of the caller's open case (R14): offered first
    live: bool = True  # a caller on the line; False: a callback we will place


@dataclass(frozen=True)
class Offer:
    call_id: uuid.UUID
    operator_ids: tuple[int, ...]
    ring_timeout_s: int


class Floor:
    def __init__(self, config: RoutingConfig) -> None:
        self.config = config
        self.operators: dict[int, OperatorLive] = {}
        self.waiting: dict[uuid.UUID, Waiting] = {}
        # live callers being answered, not queued yet -> (their queue, since when)
        self.arriving: dict[uuid.UUID, tuple[str, float]] = {}
        self._round_robin: dict[str, int] = {}  # queue -> last operator offered
        self._ordered: list[Waiting] | None = None  # `waiting` in offer order, until it changes
        self._live_in: Counter[str] = Counter()  # live callers waiting, by queue
        self.reconfigure(config)

    def reconfigure(self, config: RoutingConfig) -> None:
        """New set-up from the admins: applies to the next offers, calls in progress stay."""
        self.config = config
        for op_id in config.operators:
            self.operators.setdefault(op_id, OperatorLive(op_id))
        for op_id in list(self.operators):
            live = self.operators[op_id]
            if op_id not in config.operators and not live.calls and live.offered is None:
                del self.operators[op_id]

    # --- waiting calls ---------------------------------------------------------------

    def arrive(self, call_id: uuid.UUID, queue: str, now: float) -> None:
        """A live caller is being answered for `queue`: no callback is offered to the
        queue's operators from now on (R1: live callers first), though it is not queued yet."""
        self.arriving[call_id] = (queue, now)

    def free_in(self, queue: str, now: float) -> bool:
        """Whether one of the queue's operators could be offered a call now."""
        conf = self.config.queues.get(queue)
        return conf is not None and any(self._free(op, now, frozenset()) for op in conf.members)

    def enqueue(
        self,
        call_id: uuid.UUID,
        queue: str,
        priority: int,
        now: float,
        preferred: int | None = None,
        *,
        live: bool = True,
    ) -> None:
        self.arriving.pop(call_id, None)
        self._put(Waiting(call_id, queue, priority, now, now, preferred=preferred, live=live))

    def move(self, call_id: uuid.UUID, queue: str, now: float) -> None:
        """Overflow or transfer to another queue; the first arrival time is kept."""
        w = self._take(call_id)
        assert w is not None
        self._put(
            Waiting(call_id, queue, w.priority, w.arrived, now, preferred=w.preferred, live=w.live)
        )

    def leave(self, call_id: uuid.UUID) -> Waiting | None:
        self.arriving.pop(call_id, None)
        return self._take(call_id)

    def _put(self, w: Waiting) -> None:
        self._take(w.call_id)
        self.waiting[w.call_id] = w
        if w.live:
            self._live_in[w.queue] += 1
        self._ordered = None

    def _take(self, call_id: uuid.UUID) -> Waiting | None:
        w = self.waiting.pop(call_id, None)
        if w is not None:
            self._ordered = None
            if w.live:
                self._live_in[w.queue] -= 1
                if self._live_in[w.queue] <= 0:
                    del self._live_in[w.queue]
        return w

    def position(self, call_id: uuid.UUID) -> int:
        """1-based place among the calls waiting in the same queue."""
        me = self.waiting[call_id]
        return 1 + sum(
            1 for w in self.waiting.values() if w.queue == me.queue and _order(w) < _order(me)
        )

    # --- offers ----------------------------------------------------------------------

    def offers(self, now: float) -> list[Offer]:
        """Offers to make now: waiting calls in priority order, each to eligible operators.

        Emergencies (higher priority) go first across every queue, so an operator who
        serves both emergency and other queues is offered the emergency first. A caller whose
        open case has an owner is offered to that owner alone first when the owner is free
        (R14, whatever queues the owner serves); if the owner is not free or does not answer,
        the queue's operators are offered the call as usual. Live callers first, always: a
        callback is never offered to an operator serving a queue where a live caller waits
        or is being answered (`blocked`).

        Cheap when nothing can be offered: no free operator, no work; the waiting calls are
        kept in order between changes, and the walk stops once every free operator is taken.
        """
        free = {op for op in self.operators if self._free(op, now, frozenset())}
        if not free:
            return []
        blocked: set[int] | None = None
        made: list[Offer] = []
        for w in self._in_order():
            if not free:
                break
            if w.offered_to:
                continue
            queue = self.config.queues.get(w.queue)
            if queue is None:
                continue
            allowed = free - w.tried
            if not w.live:
                if blocked is None:
                    blocked = self.blocked(now)
                allowed -= blocked
            owner = w.preferred
            if owner is not None and owner in allowed:
                free.discard(owner)
                made.append(Offer(w.call_id, (owner,), queue.ring_timeout_s))
                continue
            chosen = self._choose(queue, [op for op in queue.members if op in allowed])
            if chosen:
                free.difference_update(chosen)
                made.append(Offer(w.call_id, tuple(chosen), queue.ring_timeout_s))
        return made

    def blocked(self, now: float | None = None) -> set[int]:
        """Operators serving a queue in which a live caller waits or is being answered (one
        being answered for longer than ARRIVING_S is not waited for: it is queued by then,
        or was lost without being told)."""
        queues = {
            q for q, since in self.arriving.values() if now is None or now - since < ARRIVING_S
        }
        queues.update(self._live_in)
        found: set[int] = set()
        for name in queues:
            conf = self.config.queues.get(name)
            if conf is not None:
                found.update(conf.members)
        return found

    def callback_offers_to_withdraw(self, now: float) -> list[tuple[uuid.UUID, int]]:
        """(callback, operator) rings to stop: a live caller now waits for that operator."""
        # Found from the operators (a handful), not by walking every caller waiting.
        offered = {live.offered for live in self.operators.values() if live.offered is not None}
        ringing = [
            w
            for call_id in sorted(offered)
            if (w := self.waiting.get(call_id)) is not None and not w.live and w.offered_to
        ]
        if not ringing:
            return []
        blocked = self.blocked(now)
        return [(w.call_id, op) for w in ringing for op in sorted(w.offered_to & blocked)]

    def _in_order(self) -> list[Waiting]:
        if self._ordered is None:
            self._ordered = sorted(self.waiting.values(), key=_order)
        return self._ordered

    def _free(self, op_id: int, now: float, tried: frozenset[int]) -> bool:
        """Could this operator be offered a call now (and has not let this one ring out)?"""
        live = self.operators.get(op_id)
        conf = self.config.operators.get(op_id)
        if live is None or conf is None or op_id in tried:
            return False
        if live.availability != "ready" or not live.reachable or live.offered is not None:
            return False
        return now >= live.wrap_until and len(live.calls) < conf.line_cap

    def _choose(self, queue: QueueConfig, free: list[int]) -> list[int]:
        if not free:
            return []
        best = min(queue.members[o] for o in free)  # lowest penalty tier first
        tier = sorted(o for o in free if queue.members[o] == best)
        if queue.strategy == "ring_all":
            return tier
        if queue.strategy == "round_robin":
            last = self._round_robin.get(queue.name, -1)
            pick = next((o for o in tier if o > last), tier[0])
            return [pick]
        return [min(tier, key=lambda o: (self.operators[o].idle_since, o))]

    def offered(self, offer: Offer, queue: str) -> None:
        """The offer is ringing: mark the call and the operators."""
        w = self.waiting[offer.call_id]
        w.offered_to = frozenset(offer.operator_ids)
        for op_id in offer.operator_ids:
            self.operators[op_id].offered = offer.call_id
        self._round_robin[queue] = offer.operator_ids[-1]

    def offer_failed(self, call_id: uuid.UUID, operator_id: int, *, rang_out: bool) -> None:
        """One operator did not take the call (no answer, busy, unreachable)."""
        live = self.operators.get(operator_id)
        if live is not None and live.offered == call_id:
            live.offered = None
            if rang_out:
                live.availability = "paused"
                live.pause_reason = "rang_out"
        w = self.waiting.get(call_id)
        if w is not None:
            w.offered_to = w.offered_to - {operator_id}
            w.tried = w.tried | {operator_id}

    def withdrawn(self, call_id: uuid.UUID, operator_id: int) -> None:
        """A callback's ring stopped to free the operator for a live caller: not a refusal,
        the callback may be offered to them again later."""
        live = self.operators.get(operator_id)
        if live is not None and live.offered == call_id:
            live.offered = None
        w = self.waiting.get(call_id)
        if w is not None:
            w.offered_to = w.offered_to - {operator_id}

    def connected(self, call_id: uuid.UUID, operator_id: int) -> Iterable[int]:
        """The operator answered: the call leaves the queue. Returns others to stop ringing."""
        w = self._take(call_id)
        live = self.operators.get(operator_id)
        if live is not None:  # an operator no longer set up (adopted after a restart) is not
            live.offered = None
            live.calls.add(call_id)
        others = (w.offered_to - {operator_id}) if w else frozenset()
        for op_id in others:
            if self.operators[op_id].offered == call_id:
                self.operators[op_id].offered = None
        return sorted(others)

    def finished(self, call_id: uuid.UUID, operator_id: int, now: float, wrapup_s: int) -> None:
        live = self.operators.get(operator_id)
        if live is None:
            return
        live.calls.discard(call_id)
        live.wrap_until = now + wrapup_s
        live.idle_since = now + wrapup_s

    def set_availability(
        self, operator_id: int, availability: Availability, reason: str | None, now: float
    ) -> None:
        live = self.operators.setdefault(operator_id, OperatorLive(operator_id))
        if availability == "ready" and live.availability != "ready":
            live.idle_since = now
        live.availability = availability
        live.pause_reason = reason if availability == "paused" else None

    def set_reachable(self, operator_id: int, reachable: bool) -> None:
        if operator_id in self.operators:
            self.operators[operator_id].reachable = reachable


def _order(w: Waiting) -> tuple[int, float]:
    return (-w.priority, w.arrived)
