"""The routing set-up as admins configured it: queues, members, lines, operators."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from hotline.core.words import Strategy


@dataclass(frozen=True)
class QueueConfig:
    name: str
    display_name: str = ""  # what a caller is told (a transfer to the queue)
    strategy: Strategy = "longest_idle"
    ring_timeout_s: int = 15
    wrapup_s: int = 10
    service_level_s: int = 10
    overflow_after_s: int | None = None
    overflow_target: str | None = None
    announce_every_s: int | None = 30
    callback_attempts: int = 3
    callback_spacing_s: int = 900
    callback_on_abandon: bool = True
    members: Mapping[int, int] = field(default_factory=dict)  # operator id -> penalty


@dataclass(frozen=True)
class LineConfig:
    entry: str
    queue: str
    opens: dt.time | None = None
    closes: dt.time | None = None
    after_hours_queue: str | None = None
    offer_callback: bool = True

    def is_open(self, local: dt.time) -> bool:
        """Open at ``local`` time? Both bounds None means 24 hours; may span midnight."""
        if self.opens is None or self.closes is None:
            return True
        if self.opens <= self.closes:
            return self.opens <= local < self.closes
        return local >= self.opens or local < self.closes

    def next_open(self, local: dt.datetime) -> dt.datetime:
        """The next time the line opens at or after `local` (an aware local time); `local`
        itself when it is open then."""
        if self.opens is None or self.is_open(local.timetz().replace(tzinfo=None)):
            return local
        today = local.replace(
            hour=self.opens.hour, minute=self.opens.minute, second=0, microsecond=0
        )
        return today if today > local else today + dt.timedelta(days=1)


@dataclass(frozen=True)
class OperatorConfig:
    id: int
    endpoint: str
    line_cap: int = 1
    display_name: str = ""


@dataclass(frozen=True)
class RoutingConfig:
    queues: Mapping[str, QueueConfig]
    lines: Mapping[str, LineConfig]
    operators: Mapping[int, OperatorConfig]

    def queue_for(self, entry: str, local: dt.time) -> tuple[str | None, bool]:
        """The queue a call on ``entry`` waits in, and whether the line is open now."""
        line = self.lines.get(entry)
        if line is None:
            return (next(iter(self.queues), None), True)
        if line.is_open(local):
            return line.queue, True
        return line.after_hours_queue, False
