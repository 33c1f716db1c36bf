"""Deadlines of case actions in working days (R15, R18), from the deployment's calendar.
Pure: given the calendar and the moment asked, when each is due.

A year whose official schedule is not published yet is an explicit error (NoDeadline), never
a guess: the action is refused and the admins alerted (the log, the event stream, the floor),
until the library or an admin's publication of the year's notice covers it
(hotline.calendars).
"""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

from hotline.core.errors import Conflict
from hotline.workdays import NoSchedule, WorkCalendar

log = logging.getLogger(__name__)

CALLBACK_DAYS = 1  # R15: call back within 1 working day ...
CALLBACK_MAX_DAYS = 10  # ... extendable (once, the caller told) to at most 10
COMPLAINT_DAYS = 3  # R18: the department handles it within 3 working days ...
COMPLAINT_REPLY_DAYS = 3  # ... and the caller is told within 3 working days
SERVICE_FOLLOW_UP = dt.timedelta(days=3)  # R20: service orders are followed up after 3 days


class NoDeadline(Exception):
    def __init__(self, err: NoSchedule) -> None:
        super().__init__(
            f"no published working-day schedule for {err.year} ({err.country}): "
            "the deadline cannot be computed"
        )
        self.year = err.year


def working_days(calendar: WorkCalendar, at: dt.datetime, days: int, tz: ZoneInfo) -> dt.datetime:
    try:
        return calendar.deadline(at, days, tz=tz)
    except NoSchedule as err:
        calendar.refused(err)  # on the event stream and the floor
        raise NoDeadline(err) from None


def extension_allowed(days: int, extensions: int) -> str | None:
    """Why an extension of a callback to `days` working days is refused, or None (R15)."""
    if extensions >= 1:
        return "a callback may be extended once"
    if not CALLBACK_DAYS < days <= CALLBACK_MAX_DAYS:
        return f"extend to 2..{CALLBACK_MAX_DAYS} working days from the request"
    return None


def no_deadline(err: NoDeadline) -> Conflict:
    """Refused, loudly: the admins must publish the year's schedule."""
    log.error("ALERT deadline refused: %s", err)
    return Conflict("deadline", f"{err}; an admin must publish the year's official notice")
