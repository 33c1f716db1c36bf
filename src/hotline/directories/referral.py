"""Which institutions a referral offers (R17): two or three, when the directory has them.
Pure: active institutions offering the service asked for, in the elder's district first,
the most recently checked first (their records are the most trustworthy), then by name."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

OFFERED = 3


def choose(
    institutions: Iterable[Mapping[str, Any]],
    *,
    district: str | None,
    service: str | None,
    offered: int = OFFERED,
) -> list[Mapping[str, Any]]:
    def fits(o: Mapping[str, Any]) -> bool:
        return bool(o["active"]) and (service is None or service in o["services"])

    def rank(o: Mapping[str, Any]) -> tuple[bool, int, str]:
        checked = o["checked_on"]
        day = dt.date.fromisoformat(checked) if isinstance(checked, str) else dt.date.min
        return (o["district"] != district, -day.toordinal(), str(o["name"]))

    return sorted((o for o in institutions if fits(o)), key=rank)[:offered]
