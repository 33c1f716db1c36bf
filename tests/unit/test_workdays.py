"""Working days and deadlines (R12, R15, R18) on the `holidays` package's real data.

The dates below are China's State Council notice for 2026 and Russia's decrees for 2025-2027
as the library carries them (checked against its tables):
- China 2026: 1-3 Jan off, Sunday 4 Jan worked; 15-23 Feb off (Spring Festival), Saturdays
  14 and 28 Feb worked; 1-7 Oct off (National Day), Sunday 20 Sep and Saturday 10 Oct worked.
- Russia: 31 Dec 2025 off; 1-8 Jan 2026 off and 9 Jan (transferred from Saturday 3 Jan);
  31 Dec 2026 off (transferred from Sunday 4 Jan); Saturday 20 Feb 2027 worked.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from hotline.workdays import NoSchedule, WorkCalendar, published_years

D = dt.date
SHANGHAI = ZoneInfo("Asia/Shanghai")
MOSCOW = ZoneInfo("Europe/Moscow")
CN = WorkCalendar("CN")
RU = WorkCalendar("RU")


def days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


# China


@pytest.mark.parametrize("d", [D(2026, 2, 14), D(2026, 2, 28), D(2026, 9, 20), D(2026, 10, 10)])
def test_cn_swapped_weekend_days_are_working_days(d: dt.date) -> None:
    assert d.weekday() >= 5
    assert CN.is_working_day(d)


def test_cn_an_ordinary_weekend_is_off_and_a_weekday_on() -> None:
    assert not CN.is_working_day(D(2026, 3, 14))  # Saturday
    assert not CN.is_working_day(D(2026, 3, 15))  # Sunday
    assert CN.is_working_day(D(2026, 3, 16))  # Monday


def test_cn_golden_week_is_off_and_deadlines_land_after_it() -> None:
    assert not any(CN.is_working_day(d) for d in days(D(2026, 10, 1), D(2026, 10, 7)))
    assert CN.is_working_day(D(2026, 9, 30))
    assert CN.add_working_days(D(2026, 9, 30), 1) == D(2026, 10, 8)
    # 8 and 9 Oct, then the swapped Saturday 10 Oct.
    assert CN.add_working_days(D(2026, 9, 30), 3) == D(2026, 10, 10)
    asked = dt.datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI)
    assert CN.deadline(asked, 1, tz=SHANGHAI) == dt.datetime(2026, 10, 8, 18, 0, tzinfo=SHANGHAI)
    assert CN.deadline(asked, 3, tz=SHANGHAI) == dt.datetime(2026, 10, 10, 18, 0, tzinfo=SHANGHAI)


def test_cn_new_year() -> None:
    assert not any(CN.is_working_day(d) for d in days(D(2026, 1, 1), D(2026, 1, 3)))
    # Asked on New Year's Eve: the next working day is Sunday 4 January.
    assert CN.add_working_days(D(2025, 12, 31), 1) == D(2026, 1, 4)
    assert CN.add_working_days(D(2025, 12, 31), 2) == D(2026, 1, 5)


def test_cn_spring_festival() -> None:
    assert not any(CN.is_working_day(d) for d in days(D(2026, 2, 15), D(2026, 2, 23)))
    assert CN.add_working_days(D(2026, 2, 13), 1) == D(2026, 2, 14)
    assert CN.add_working_days(D(2026, 2, 13), 2) == D(2026, 2, 24)
    # 14 Feb, 24-27 Feb and Saturday 28 Feb.
    assert CN.working_days_between(D(2026, 2, 13), D(2026, 2, 28)) == 6


def test_cn_asked_after_hours_on_a_working_day_is_the_next_working_days_end() -> None:
    tuesday = dt.datetime(2026, 3, 10, 17, 30, tzinfo=SHANGHAI)
    assert CN.deadline(tuesday, 1, tz=SHANGHAI) == dt.datetime(2026, 3, 11, 18, 0, tzinfo=SHANGHAI)
    friday = dt.datetime(2026, 3, 13, 17, 30, tzinfo=SHANGHAI)
    assert CN.deadline(friday, 1, tz=SHANGHAI) == dt.datetime(2026, 3, 16, 18, 0, tzinfo=SHANGHAI)
    # R18: three working days, at another end of day.
    assert CN.deadline(friday, 3, tz=SHANGHAI, end=dt.time(17, 0)) == dt.datetime(
        2026, 3, 18, 17, 0, tzinfo=SHANGHAI
    )


def test_cn_the_first_year_without_a_notice_raises() -> None:
    # China's notices in the data run to 2026: 2027's holidays could be computed, but not
    # its swapped working days.
    first_unknown = published_years("CN").stop
    assert first_unknown >= 2027
    assert 2026 in published_years("CN")
    with pytest.raises(NoSchedule) as caught:
        CN.is_working_day(D(first_unknown, 2, 1))
    assert (caught.value.year, caught.value.country) == (first_unknown, "CN")


@pytest.mark.skipif(
    2027 in published_years("CN"), reason="the holidays data now carries China's 2027 notice"
)
def test_cn_2027_raises() -> None:
    with pytest.raises(NoSchedule) as caught:
        CN.is_working_day(D(2027, 3, 1))
    assert (caught.value.year, caught.value.country) == (2027, "CN")
    # So does a deadline that needs a day of 2027.
    with pytest.raises(NoSchedule):
        CN.deadline(dt.datetime(2026, 12, 18, 9, 0, tzinfo=SHANGHAI), 10, tz=SHANGHAI)
    assert CN.deadline(dt.datetime(2026, 12, 18, 9, 0, tzinfo=SHANGHAI), 4, tz=SHANGHAI) == (
        dt.datetime(2026, 12, 24, 18, 0, tzinfo=SHANGHAI)
    )


def test_cn_the_last_week_of_december_needs_next_years_notice() -> None:
    only_2026 = WorkCalendar("CN", known_years={2026})
    assert only_2026.is_working_day(D(2026, 12, 24))
    for d in (D(2026, 12, 25), D(2026, 12, 26), D(2026, 12, 31)):
        with pytest.raises(NoSchedule) as caught:
            only_2026.is_working_day(d)
        assert caught.value.year == 2027
    # Told that 2027 is known, it answers (as the library's data stands).
    told = WorkCalendar("CN", known_years=range(2025, 2028))
    assert told.is_working_day(D(2026, 12, 31))
    assert not told.is_working_day(D(2027, 1, 1))


def test_a_year_before_the_data_raises() -> None:
    with pytest.raises(NoSchedule) as caught:
        CN.is_working_day(D(1999, 6, 1))
    assert caught.value.year == 1999
    assert WorkCalendar("CN", known_years={2026}).is_working_day(D(2026, 6, 1))
    with pytest.raises(NoSchedule):
        WorkCalendar("CN", known_years={2026}).is_working_day(D(2025, 6, 2))


# Local exceptions


def test_a_local_day_off_wins() -> None:
    cal = WorkCalendar("CN", extra_holidays=frozenset({D(2026, 3, 11)}))
    assert CN.is_working_day(D(2026, 3, 11))
    assert not cal.is_working_day(D(2026, 3, 11))
    assert cal.add_working_days(D(2026, 3, 10), 1) == D(2026, 3, 12)
    swapped_off = WorkCalendar("CN", extra_holidays=frozenset({D(2026, 2, 14)}))
    assert not swapped_off.is_working_day(D(2026, 2, 14))


def test_a_local_working_day_wins() -> None:
    cal = WorkCalendar("CN", extra_workdays=frozenset({D(2026, 10, 3), D(2027, 3, 6)}))
    assert not CN.is_working_day(D(2026, 10, 3))
    assert cal.is_working_day(D(2026, 10, 3))
    assert cal.add_working_days(D(2026, 9, 30), 1) == D(2026, 10, 3)
    # A local day is known without the year's notice; its neighbours are not.
    assert cal.is_working_day(D(2027, 3, 6))
    with pytest.raises(NoSchedule):
        cal.is_working_day(D(2027, 3, 7))


def test_a_day_both_off_and_on_is_refused() -> None:
    with pytest.raises(ValueError, match="both"):
        WorkCalendar(
            "RU",
            extra_holidays=frozenset({D(2026, 6, 1)}),
            extra_workdays=frozenset({D(2026, 6, 1)}),
        )


# Russia


def test_ru_new_year_holidays() -> None:
    assert not RU.is_working_day(D(2025, 12, 31))  # transferred from Sunday 5 Jan 2025
    assert [d for d in days(D(2026, 1, 1), D(2026, 1, 12)) if RU.is_working_day(d)] == [
        D(2026, 1, 12)
    ]
    assert RU.add_working_days(D(2025, 12, 30), 1) == D(2026, 1, 12)


def test_ru_transferred_days_2026() -> None:
    assert D(2026, 1, 9).weekday() == 4
    assert not RU.is_working_day(D(2026, 1, 9))  # from Saturday 3 Jan
    assert D(2026, 12, 31).weekday() == 3
    assert not RU.is_working_day(D(2026, 12, 31))  # from Sunday 4 Jan
    assert RU.is_working_day(D(2026, 12, 30))
    # Saturday 20 Feb 2027 is worked, for Monday 22 Feb: Russia's 2027 decree is known.
    assert 2027 in published_years("RU")
    assert RU.is_working_day(D(2027, 2, 20))
    assert not RU.is_working_day(D(2027, 2, 22))


def test_ru_r15_one_and_ten_working_days() -> None:
    asked = dt.datetime(2026, 4, 30, 12, 0, tzinfo=MOSCOW)
    # 1 May off, 4-8 May, 9 May (Saturday, Victory Day) observed on Monday 11 May.
    assert RU.deadline(asked, 1, tz=MOSCOW) == dt.datetime(2026, 5, 4, 18, 0, tzinfo=MOSCOW)
    assert RU.deadline(asked, 10, tz=MOSCOW) == dt.datetime(2026, 5, 18, 18, 0, tzinfo=MOSCOW)


def test_ru_first_year_past_the_data_raises() -> None:
    year = published_years("RU").stop
    with pytest.raises(NoSchedule) as caught:
        RU.is_working_day(D(year, 3, 2))
    assert (caught.value.year, caught.value.country) == (year, "RU")


# Arithmetic and time zones


def test_working_days_between_inverts_adding() -> None:
    start = D(2026, 9, 15)
    for n in (1, 3, 10, 20):
        end = CN.add_working_days(start, n)
        assert CN.working_days_between(start, end) == n
        assert CN.working_days_between(end, start) == -n
    assert CN.working_days_between(start, start) == 0


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        CN.add_working_days(D(2026, 3, 10), 0)
    with pytest.raises(TypeError):
        CN.is_working_day(dt.datetime(2026, 3, 10, 9, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        CN.deadline(dt.datetime(2026, 3, 10, 9, 0), 1, tz=SHANGHAI)


def test_the_local_date_decides() -> None:
    # 16:30 UTC on 30 Sep is already 1 Oct in Shanghai, still 30 Sep in Moscow.
    at = dt.datetime(2026, 9, 30, 16, 30, tzinfo=dt.UTC)
    cn = CN.deadline(at, 1, tz=SHANGHAI)
    assert cn == dt.datetime(2026, 10, 8, 18, 0, tzinfo=SHANGHAI)
    assert cn.utcoffset() == dt.timedelta(hours=8)
    ru = RU.deadline(at, 1, tz=MOSCOW)
    assert ru == dt.datetime(2026, 10, 1, 18, 0, tzinfo=MOSCOW)
    assert ru.utcoffset() == dt.timedelta(hours=3)
    assert ru.tzinfo is MOSCOW
    assert CN.deadline(dt.datetime(2026, 9, 30, 15, 59, tzinfo=dt.UTC), 1, tz=SHANGHAI) == (
        dt.datetime(2026, 10, 8, 18, 0, tzinfo=SHANGHAI)
    )
    assert CN.deadline(dt.datetime(2026, 9, 29, 15, 59, tzinfo=dt.UTC), 1, tz=SHANGHAI) == (
        dt.datetime(2026, 9, 30, 18, 0, tzinfo=SHANGHAI)
    )


def test_next_day_at_counts_calendar_days() -> None:
    # R12: the family by 17:00 the next day, holiday or not.
    at = dt.datetime(2026, 9, 30, 20, 0, tzinfo=SHANGHAI)
    got = CN.next_day_at(at, tz=SHANGHAI)
    assert got == dt.datetime(2026, 10, 1, 17, 0, tzinfo=SHANGHAI)
    assert got.utcoffset() == dt.timedelta(hours=8)
    # It needs no notice, and the local date decides.
    new_years_eve_utc = dt.datetime(2027, 12, 31, 17, 0, tzinfo=dt.UTC)  # 1 Jan 2028 in Shanghai
    assert CN.next_day_at(new_years_eve_utc, tz=SHANGHAI) == dt.datetime(
        2028, 1, 2, 17, 0, tzinfo=SHANGHAI
    )
    assert RU.next_day_at(new_years_eve_utc, tz=MOSCOW, end=dt.time(12, 0)) == dt.datetime(
        2028, 1, 1, 12, 0, tzinfo=MOSCOW
    )
