"""When an organisation's record is due to be checked again (R23)."""

from __future__ import annotations

import datetime as dt

import pytest

from hotline.directories.checks import add_months, check_due

TODAY = dt.date(2026, 11, 29)


@pytest.mark.parametrize(
    ("day", "months", "then"),
    [
        (dt.date(2026, 1, 31), 1, dt.date(2026, 2, 28)),
        (dt.date(2028, 1, 31), 1, dt.date(2028, 2, 29)),
        (dt.date(2026, 11, 30), 3, dt.date(2027, 2, 28)),
        (dt.date(2026, 12, 15), 1, dt.date(2027, 1, 15)),
    ],
)
def test_months_later_keep_the_day_or_the_months_last(
    day: dt.date, months: int, then: dt.date
) -> None:
    assert add_months(day, months) == then


def test_institutions_monthly_communities_quarterly_never_checked_now() -> None:
    checked = dt.date(2026, 10, 1)
    assert check_due("institution", checked, TODAY) == dt.date(2026, 11, 1)
    assert check_due("provider", checked, TODAY) == dt.date(2026, 11, 1)
    assert check_due("community", checked, TODAY) == dt.date(2027, 1, 1)
    assert check_due("street", checked, TODAY) == dt.date(2027, 1, 1)
    assert check_due("government_office", None, TODAY) == TODAY
