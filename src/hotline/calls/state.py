"""The life of a call as a small union of states; each method returns the next state.

Pure: no I/O. The session (session.py) performs the actions and feeds the results here.
Ended has no methods: nothing follows it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Ended:
    at: dt.datetime
    by: str  # caller | service | fallback | lost
    cause: int | None = None
    cause_txt: str | None = None


@dataclass(frozen=True)
class _Live:
    started_at: dt.datetime

    def hung_up(self, at: dt.datetime, cause: int | None, cause_txt: str | None) -> Ended:
        return Ended(at, "caller", cause, cause_txt)

    def lost(self, at: dt.datetime) -> Ended:
        """The channel vanished while nobody watched (seen at reconciliation)."""
        return Ended(at, "lost")


@dataclass(frozen=True)
class Arriving(_Live):
    """In Stasis, not yet answered."""

    def answered(self, at: dt.datetime) -> Greeting:
        return Greeting(self.started_at, at)


@dataclass(frozen=True)
class Greeting(_Live):
    answered_at: dt.datetime

    def greeted(self, at: dt.datetime) -> Holding:
        return Holding(self.started_at, self.answered_at, at)


@dataclass(frozen=True)
class Holding(_Live):
    answered_at: dt.datetime
    since: dt.datetime

    def handed_to_fallback(self, at: dt.datetime) -> Ended:
        return Ended(at, "fallback")

    def ended_by_service(self, at: dt.datetime) -> Ended:
        return Ended(at, "service")


CallState = Arriving | Greeting | Holding | Ended
LiveState = Arriving | Greeting | Holding


def resumed(started_at: dt.datetime, answered: bool, now: dt.datetime) -> LiveState:
    """The state to carry on from for a call found in Stasis after a restart."""
    if not answered:
        return Arriving(started_at)
    return Holding(started_at, started_at, now)
