"""A year's official notice published by an admin (issue 20): the notice checked and read, the
calendar counting deadlines with it, its comparison with the `holidays` package's data, and
when the calendar warns.

The 2027 notice here is made up but well-formed (the package has no 2027 swaps for China):
1-3 Jan off (New Year, Friday to Sunday); 6-12 Feb off (Spring Festival), Saturdays 30 Jan
and 20 Feb worked; 1-7 Oct off (National Day), Saturday 9 Oct worked.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from hotline.calendars import rules
from hotline.workdays import NoSchedule, Notice, NoticeError, Run, WorkCalendar
from hotline.workdays.notice import as_lines, as_runs, build, parse_lines

D = dt.date
SHANGHAI = ZoneInfo("Asia/Shanghai")

HOLIDAYS_2027 = """
# 国务院办公厅关于2027年部分节假日安排的通知 (made up)
2027-01-01..2027-01-03 元旦
2027-02-06..2027-02-12 春节
2027-04-05 清明节
2027-10-01 ~ 2027-10-07 国庆节
"""
WORKDAYS_2027 = "2027-01-30 春节调休\n2027-02-20 春节调休\n2027-10-09\n"


def notice_2027() -> Notice:
    return build(
        2027, parse_lines(HOLIDAYS_2027, "holidays"), parse_lines(WORKDAYS_2027, "workdays")
    )


def with_2027(**kw: object) -> WorkCalendar:
    return WorkCalendar("CN", notices={2027: notice_2027()}, **kw)  # type: ignore[arg-type]


# --- the notice ---------------------------------------------------------------------------


def test_a_notice_is_read_from_lines_of_days_and_runs() -> None:
    notice = notice_2027()
    assert D(2027, 2, 6) in notice.holidays and D(2027, 2, 12) in notice.holidays
    assert len(notice.holidays) == 3 + 7 + 1 + 7
    assert notice.workdays == {D(2027, 1, 30), D(2027, 2, 20), D(2027, 10, 9)}
    assert notice.names[D(2027, 2, 8)] == "春节"
    assert D(2027, 10, 9) not in notice.names
    # Shown again as the same lines (the console's form filled from a published year).
    again = as_lines(as_runs(notice.holidays, notice.names))
    assert parse_lines(again, "holidays") == parse_lines(HOLIDAYS_2027, "holidays")


@pytest.mark.parametrize(
    ("holidays", "workdays", "field", "says"),
    [
        ("2026-10-01", "", "holidays[0]", "outside the notice for 2027"),
        ("2027-01-01\n2028-01-01", "", "holidays[1]", "outside"),
        ("2027-02-01..2027-03-01", "", "holidays[0]", "longer than 15 days"),
        ("2027-02-12..2027-02-06", "", "holidays[0]", "ends"),
        ("2027-02-06", "2027-02-22", "workdays[0]", "is a weekday"),
        ("2027-02-06..2027-02-12", "2027-02-06", "workdays", "also listed as a day off"),
        ("2026-12-28", "", "holidays", "no day off in 2027"),
    ],
)
def test_a_notice_that_cannot_be_right_is_refused_naming_the_part(
    holidays: str, workdays: str, field: str, says: str
) -> None:
    with pytest.raises(NoticeError) as raised:
        build(2027, parse_lines(holidays, "holidays"), parse_lines(workdays, "workdays"))
    assert raised.value.field == field
    assert says in raised.value.detail


def test_a_line_that_is_not_a_date_names_its_line() -> None:
    with pytest.raises(NoticeError) as raised:
        parse_lines("2027-01-01\nthe first of May\n", "holidays")
    assert raised.value.field == "holidays"
    assert "line 2" in raised.value.detail
    with pytest.raises(NoticeError, match="line 1"):
        parse_lines("2027-02-30", "holidays")


def test_a_notice_may_name_the_last_week_of_the_year_before() -> None:
    # A New Year's bridge: Sunday 27 December 2026 worked, named in the 2027 notice.
    notice = build(
        2027, [Run(D(2027, 1, 1), D(2027, 1, 3))], [Run(D(2026, 12, 27), D(2026, 12, 27))]
    )
    calendar = WorkCalendar("CN", notices={2027: notice})
    assert calendar.is_working_day(D(2026, 12, 27))
    assert not calendar.is_working_day(D(2026, 12, 26))  # an ordinary Saturday


# --- deadlines counted with it -------------------------------------------------------------


def test_without_the_notice_2027_is_refused_from_25_december() -> None:
    calendar = WorkCalendar("CN")
    assert 2027 not in calendar.known_years
    assert calendar.add_working_days(D(2026, 12, 21), 1) == D(2026, 12, 22)
    with pytest.raises(NoSchedule) as raised:
        calendar.add_working_days(D(2026, 12, 24), 1)  # the 25th needs the 2027 notice
    assert raised.value.year == 2027


def test_a_complaint_on_30_december_is_due_across_new_year_with_the_published_days() -> None:
    calendar = with_2027()
    assert calendar.source(2027) == "notice" and calendar.source(2026) == "library"
    asked = dt.datetime(2026, 12, 30, 10, 0, tzinfo=SHANGHAI)  # Wednesday
    # 31 Dec (Thu) is the first; 1-3 Jan are off; Mon 4 and Tue 5 Jan the second and third.
    assert calendar.deadline(asked, 3, tz=SHANGHAI) == dt.datetime(
        2027, 1, 5, 18, 0, tzinfo=SHANGHAI
    )
    # Spring Festival: Friday 5 Feb, then the 6th to the 12th off, Saturday 20 Feb worked.
    assert calendar.add_working_days(D(2027, 2, 4), 1) == D(2027, 2, 5)
    assert calendar.add_working_days(D(2027, 2, 5), 1) == D(2027, 2, 15)
    assert calendar.working_days_between(D(2027, 2, 14), D(2027, 2, 21)) == 6  # 15-19, 20
    assert calendar.is_working_day(D(2027, 1, 30))  # a swapped Saturday
    assert not calendar.is_working_day(D(2027, 1, 31))  # an ordinary Sunday


def test_local_exceptions_stand_over_a_published_year() -> None:
    calendar = with_2027(
        extra_holidays=frozenset({D(2027, 2, 20)}), extra_workdays=frozenset({D(2027, 2, 8)})
    )
    assert not calendar.is_working_day(D(2027, 2, 20))
    assert calendar.is_working_day(D(2027, 2, 8))
    assert calendar.official(D(2027, 2, 20)) and not calendar.official(D(2027, 2, 8))


def test_a_year_nobody_published_is_refused_and_the_refusal_told() -> None:
    calendar = with_2027()
    told: list[int] = []
    calendar.on_refused = told.append
    with pytest.raises(NoSchedule) as raised:
        calendar.add_working_days(D(2027, 12, 30), 1)
    assert raised.value.year == 2028
    calendar.refused(raised.value)
    assert told == [2028]


def test_the_admins_notice_stands_over_the_librarys_year_and_the_differences_show() -> None:
    library = WorkCalendar("CN")
    assert library.official(D(2026, 2, 14))  # the library: Saturday 14 Feb 2026 worked
    # An admin published 2026 with 14 Feb off and Tuesday 24 Feb off instead.
    own = build(
        2026, [Run(D(2026, 2, 15), D(2026, 2, 24), "春节")], [Run(D(2026, 2, 28), D(2026, 2, 28))]
    )
    calendar = WorkCalendar("CN", notices={2026: own})
    assert not calendar.official(D(2026, 2, 14))
    assert not calendar.official(D(2026, 2, 24))
    differences = calendar.differences(2026)
    assert D(2026, 2, 14) in differences and D(2026, 2, 24) in differences
    assert D(2026, 10, 1) in differences  # National Day is not in this notice: a working day
    assert calendar.differences(2027) == []
    # A notice equal to the library's data for its year differs nowhere.
    same = library.schedule(2026)
    assert same is not None
    assert WorkCalendar("CN", notices={2026: same}).differences(2026) == []


def test_the_librarys_year_as_a_notice() -> None:
    schedule = WorkCalendar("CN").schedule(2026)
    assert schedule is not None
    assert D(2026, 10, 1) in schedule.holidays and D(2026, 10, 3) in schedule.holidays  # Sat
    assert D(2026, 10, 10) in schedule.workdays
    assert "National Day" in schedule.names[D(2026, 10, 1)]
    assert WorkCalendar("CN").schedule(2031) is None


# --- the warnings ---------------------------------------------------------------------------


def test_an_unpublished_year_is_warned_from_30_days_before_it_starts() -> None:
    known = range(2001, 2027)
    assert rules.unpublished(D(2026, 12, 1), known, "CN") == []
    warned = rules.unpublished(D(2026, 12, 2), known, "CN")
    assert [(w.kind, w.year, w.days_left) for w in warned] == [("unpublished", 2027, 30)]
    assert warned[0].key == "unpublished:CN:2027"
    assert [w.days_left for w in rules.unpublished(D(2026, 12, 31), known, "CN")] == [1]
    # Once the year has begun it is still warned about, every day.
    assert [(w.year, w.days_left) for w in rules.unpublished(D(2027, 3, 1), known, "CN")] == [
        (2027, 0)
    ]
    # Published: nothing to say.
    assert rules.unpublished(D(2026, 12, 20), [*known, 2027], "CN") == []
    assert not rules.refusing(D(2026, 12, 24)) and rules.refusing(D(2026, 12, 25))


def test_warnings_raised_changed_and_settled() -> None:
    first = rules.unpublished(D(2026, 12, 2), range(2001, 2027), "CN")
    raised, settled = rules.changes({}, first)
    assert raised == first and settled == []
    before = {w.key: w for w in first}
    raised, settled = rules.changes(before, first)
    assert raised == [] and settled == []
    next_day = rules.unpublished(D(2026, 12, 3), range(2001, 2027), "CN")
    raised, _ = rules.changes(before, next_day)
    assert [w.days_left for w in raised] == [29]
    conflict = rules.conflicts("CN", {2026: [D(2026, 2, 14)], 2025: []})
    assert [(w.kind, w.year, w.differences) for w in conflict] == [
        ("conflict", 2026, (D(2026, 2, 14),))
    ]
    raised, settled = rules.changes(before, conflict)
    assert raised == conflict and settled == first
