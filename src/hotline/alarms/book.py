"""The alarms of the last minutes by caller number, for the call that follows them: a
terminal sends its alarm data just before (or while) it places its voice call."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from hotline.alarms.scaip import Alarm
from hotline.core.phone import try_normalise


class AlarmBook:
    """The latest alarm per number for `window_s` seconds, at most `limit` numbers (the
    oldest go first). An alarm without a caller number cannot be matched and is not kept."""

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
        self._entries: OrderedDict[str, tuple[float, Alarm]] = OrderedDict()  # oldest first

    def add(self, alarm: Alarm) -> None:
        if alarm.caller_id is None:
            return
        now = self._clock()
        self._expire(now)
        self._entries[alarm.caller_id] = (now, alarm)
        self._entries.move_to_end(alarm.caller_id)
        while len(self._entries) > self.limit:
            self._entries.popitem(last=False)

    def take(self, number: str | None) -> Alarm | None:
        """The latest alarm for `number` within the window, removed from the book."""
        key = try_normalise(number)
        if key is None:
            return None
        self._expire(self._clock())
        entry = self._entries.pop(key, None)
        return entry[1] if entry else None

    def __len__(self) -> int:
        return len(self._entries)

    def _expire(self, now: float) -> None:
        while self._entries:
            added, _ = next(iter(self._entries.values()))
            if now - added <= self.window_s:
                break
            self._entries.popitem(last=False)
