"""When an organisation's record is due to be checked again (R23): institutions (and the
service providers orders go to) monthly; streets, communities and government offices every
three months. Pure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

MONTHS = {
    "provider": 1,
    "institution": 1,
    "department": 3,
    "community": 3,
    "street": 3,
    "government_office": 3,
}


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, or the month's last day when it has no such day."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def check_due(kind: str, checked_on: dt.date | None, today: dt.date) -> dt.date:
    """The day the record is due to be checked: never checked means today."""
    if checked_on is None:
        return today
    return add_months(checked_on, MONTHS[kind])


def with_check_due(record: Mapping[str, Any], today: dt.date) -> dict[str, Any]:
    """An organisation's record as shown: with the day it is due to be checked."""
    checked = record["checked_on"]
    day = dt.date.fromisoformat(checked) if isinstance(checked, str) else None
    return {**record, "check_due": check_due(str(record["kind"]), day, today).isoformat()}
