"""How long what is kept, and when the purge runs. Pure.

Recordings of conferences and the access log are kept for their legal period, then purged;
a case under a legal hold keeps its recordings and the access log's rows about it. Ended
console sessions are kept a while for the login history. The purge runs daily at 03:00
local time, when the floor is quietest.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

HOUR = 3  # the purge's local hour


@dataclass(frozen=True)
class Periods:
    recordings_days: int = 1095
    access_days: int = 1095
    sessions_days: int = 90


@dataclass(frozen=True)
class Cutoffs:
    """What was made before these is purged."""

    recordings: dt.datetime
    access: dt.datetime
    sessions: dt.datetime


def cutoffs(periods: Periods, now: dt.datetime) -> Cutoffs:
    return Cutoffs(
        recordings=now - dt.timedelta(days=periods.recordings_days),
        access=now - dt.timedelta(days=periods.access_days),
        sessions=now - dt.timedelta(days=periods.sessions_days),
    )


def next_run(now: dt.datetime, tz: ZoneInfo, hour: int = HOUR) -> dt.datetime:
    """The next `hour`:00 local time after `now` (aware), in UTC."""
    local = now.astimezone(tz)
    day = local.date()
    while True:
        at = dt.datetime.combine(day, dt.time(hour), tzinfo=tz)
        if at > local:
            return at.astimezone(dt.UTC)
        day += dt.timedelta(days=1)
