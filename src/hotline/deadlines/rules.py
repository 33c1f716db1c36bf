"""What happens to a case task when its time comes. Pure.

Deadlines (a callback promised, a complaint's handling and the caller told, the family's
follow-up by 17:00 the next day, the hospital updates) warn their owner `WARN_BEFORE` ahead
and, not done by their due time, are escalated to the supervisors. A service order's task is
not a deadline but the end of the 3 days in which a complaint keeps the case open (R20): then
the case closes on its own. Follow-up calls (R12 the family, R19 the served elder) are offered
to the case's owner when the task is warned.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

WARN_BEFORE = dt.timedelta(hours=2)
AUTO_CLOSE = frozenset({"service_order"})  # R20
FOLLOW_UP_CALLS = frozenset({"family_follow_up", "service_order"})  # R12, R19
AUTO_CLOSE_REASON = "served; no complaint within 3 days (R20)"

Due = Literal["warn", "overdue", "auto_close"]


def warn_at(due_at: dt.datetime) -> dt.datetime:
    return due_at - WARN_BEFORE


def at_due(kind: str) -> Due:
    """What the due time of a task of `kind` does."""
    return "auto_close" if kind in AUTO_CLOSE else "overdue"


def met(due_at: dt.datetime, done_at: dt.datetime | None, now: dt.datetime) -> bool | None:
    """Kept (True), missed (False) or still running (None)."""
    if done_at is not None:
        return done_at <= due_at
    return None if now < due_at else False
