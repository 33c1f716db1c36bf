"""The alarms of the last minutes by caller number, for the call that follows them: a
terminal sends its alarm data just before (or while) it places its voice call."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from hotline.alarms.scaip import Alarm
from hotline.core.phone import try_normalise


class AlarmBook:
    """The latest alarm per number for `window_s` seconds, at most `limit` numbers. An alarm
    without a caller number cannot be matched and is not kept.

    When full, the source (the sending address) holding the most entries gives up its oldest:
    a flood of made-up alarms from one address never pushes out the pending alarms of the
    others (R27); the receiver's rate limit per source keeps any one address well below the
    limit in the first place."""

    def __init__(
        self,
        window_s: float = 120,
        *,
        clock: Callable[[], float] = time.monotonic,
        limit: int = 10_000,
    ) -> None:
        if window_s <= 0 or limit <= 0:
            raise ValueError("window_s and limit must be positive")
        self.window_s = window_s
        self.limit = limit
        self._clock = clock
        # number -> (when added, alarm, source): oldest first
        self._entries: OrderedDict[str, tuple[float, Alarm, str]] = OrderedDict()
        self._by_source: dict[str, OrderedDict[str, None]] = {}  # each source's numbers

    def add(self, alarm: Alarm, source: str = "") -> None:
        if alarm.caller_id is None:
            return
        now = self._clock()
        self._expire(now)
        self._drop(alarm.caller_id)
        self._entries[alarm.caller_id] = (now, alarm, source)
        self._by_source.setdefault(source, OrderedDict())[alarm.caller_id] = None
        while len(self._entries) > self.limit:
            biggest = max(self._by_source.values(), key=len)
            self._drop(next(iter(biggest)))

    def take(self, number: str | None) -> Alarm | None:
        """The latest alarm for `number` within the window, removed from the book."""
        key = try_normalise(number)
        if key is None:
            return None
        self._expire(self._clock())
        entry = self._entries.get(key)
        self._drop(key)
        return entry[1] if entry else None

    def __len__(self) -> int:
        return len(self._entries)

    def held_by(self, source: str) -> int:
        """How many of the entries `source` sent."""
        return len(self._by_source.get(source, ()))

    def _drop(self, number: str) -> None:
        entry = self._entries.pop(number, None)
        if entry is None:
            return
        numbers = self._by_source[entry[2]]
        del numbers[number]
        if not numbers:
            del self._by_source[entry[2]]

    def _expire(self, now: float) -> None:
        while self._entries:
            number, (added, _, _) = next(iter(self._entries.items()))
            if now - added <= self.window_s:
                break
            self._drop(number)
