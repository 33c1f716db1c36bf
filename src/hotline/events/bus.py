"""The bus: domain events in, a sequence number on each, folded into the live projections
(synchronously, so a snapshot is never behind), then fanned out to every subscriber.

Each subscriber has its own bounded send queue. Publishing never waits for a subscriber:
one whose queue is full is dropped (its socket closed with CLOSE_TOO_SLOW) and everyone else
goes on undisturbed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from hotline.api.replies import dumps
from hotline.core.events import DomainEvent

log = logging.getLogger(__name__)

CLOSE_TOO_SLOW = 4008
"""WebSocket close code: the subscriber fell behind and its send queue overflowed."""

Fold = Callable[[int, DomainEvent], None]


class Subscriber:
    """One subscriber's bounded queue of encoded messages."""

    def __init__(self, limit: int) -> None:
        self._queue: asyncio.Queue[str] = asyncio.Queue(maxsize=limit)
        self.dropped = asyncio.Event()

    def offer(self, text: str) -> bool:
        """Queue a message; False (and dropped) when the queue is full."""
        if self.dropped.is_set():
            return False
        try:
            self._queue.put_nowait(text)
        except asyncio.QueueFull:
            self.dropped.set()
            return False
        return True

    async def next(self) -> str:
        return await self._queue.get()


class Bus:
    def __init__(self, *, limit: int = 1000) -> None:
        self._limit = limit
        self._subscribers: set[Subscriber] = set()
        self._folds: list[Fold] = []
        self.seq = 0

    def fold(self, fold: Fold) -> None:
        """Apply `fold` to every event, in order, before subscribers see it."""
        self._folds.append(fold)

    def publish(self, event: DomainEvent) -> None:
        self.seq += 1
        for fold in self._folds:
            try:
                fold(self.seq, event)
            except Exception:
                log.exception("folding %s failed", event.type)
        if not self._subscribers:
            return
        text = dumps({"seq": self.seq, **event.model_dump(mode="json")})
        for subscriber in list(self._subscribers):
            if not subscriber.offer(text):
                self._subscribers.discard(subscriber)
                log.warning("event stream: a subscriber fell behind and was dropped")

    def subscribe(self, snapshot: Callable[[int], object]) -> Subscriber:
        """A new subscriber whose first message is `snapshot(seq)`: the state as of the last
        event published, so that what follows are exactly the deltas after it."""
        subscriber = Subscriber(self._limit)
        subscriber.offer(
            dumps({"seq": self.seq, "type": "snapshot", "snapshot": snapshot(self.seq)})
        )
        self._subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)
