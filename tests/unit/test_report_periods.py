"""Report periods as local days in the hotline's time zone, half-open [from, to); and the
pure parts of the reports: adding counts, rates, the answer-time bands, CSV and XLSX."""

from __future__ import annotations

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from hotline.core.errors import Invalid
from hotline.reports import export, figures, periods
from hotline.reports.figures import CallCounts, CaseCounts, OperatorCounts, OperatorName

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")


def test_a_day_is_local_midnight_to_local_midnight() -> None:
    p = periods.day(dt.date(2026, 11, 28), SHANGHAI)
    assert (p.kind, p.label, p.days) == ("day", "2026-11-28", 1)
    # Shanghai is UTC+8 all year: the day starts at 16:00 UTC the day before.
    assert p.starts_at.astimezone(dt.UTC) == dt.datetime(2026, 11, 27, 16, tzinfo=dt.UTC)
    assert p.ends_at.astimezone(dt.UTC) == dt.datetime(2026, 11, 28, 16, tzinfo=dt.UTC)


def test_a_day_when_the_clocks_change_is_23_or_25_hours_long() -> None:
    spring = periods.day(dt.date(2026, 3, 29), BERLIN)
    autumn = periods.day(dt.date(2026, 10, 25), BERLIN)
    assert spring.ends_at.astimezone(dt.UTC) - spring.starts_at.astimezone(dt.UTC) == dt.timedelta(
        hours=23
    )
    assert autumn.ends_at.astimezone(dt.UTC) - autumn.starts_at.astimezone(dt.UTC) == dt.timedelta(
        hours=25
    )


@pytest.mark.parametrize(
    ("on", "label", "monday"),
    [
        (dt.date(2026, 11, 28), "2026-W48", dt.date(2026, 11, 23)),  # a Saturday
        (dt.date(2026, 11, 23), "2026-W48", dt.date(2026, 11, 23)),  # the Monday itself
        (dt.date(2026, 11, 29), "2026-W48", dt.date(2026, 11, 23)),  # the Sunday
        (dt.date(2027, 1, 1), "2026-W53", dt.date(2026, 12, 28)),  # ISO year 2026 has 53 weeks
        (dt.date(2024, 12, 30), "2025-W01", dt.date(2024, 12, 30)),  # week 1 starts in December
    ],
)
def test_iso_weeks(on: dt.date, label: str, monday: dt.date) -> None:
    p = periods.week(on, SHANGHAI)
    assert (p.label, p.first, p.end, p.days) == (label, monday, monday + dt.timedelta(7), 7)
    assert p.first.isoweekday() == 1


def test_months_and_quarters() -> None:
    feb = periods.month(dt.date(2028, 2, 10), SHANGHAI)
    assert (feb.label, feb.first, feb.end, feb.days) == (
        "2028-02",
        dt.date(2028, 2, 1),
        dt.date(2028, 3, 1),
        29,  # a leap year
    )
    dec = periods.month(dt.date(2026, 12, 31), SHANGHAI)
    assert (dec.first, dec.end) == (dt.date(2026, 12, 1), dt.date(2027, 1, 1))
    q4 = periods.quarter(dt.date(2026, 11, 28), SHANGHAI)
    assert (q4.label, q4.first, q4.end, q4.days) == (
        "2026-Q4",
        dt.date(2026, 10, 1),
        dt.date(2027, 1, 1),
        92,
    )
    q1 = periods.quarter(dt.date(2026, 3, 31), SHANGHAI)
    assert (q1.label, q1.first, q1.end) == ("2026-Q1", dt.date(2026, 1, 1), dt.date(2026, 4, 1))
    assert periods.analysis("quarter", dt.date(2026, 3, 31), SHANGHAI) == q1
    with pytest.raises(Invalid) as err:
        periods.analysis("year", dt.date(2026, 3, 31), SHANGHAI)
    assert err.value.field == "period"


def test_a_range_of_days_is_half_open_and_at_most_a_year() -> None:
    p = periods.days(dt.date(2026, 11, 1), dt.date(2026, 12, 1), SHANGHAI)
    assert (p.label, p.days) == ("2026-11-01..2026-11-30", 30)
    assert periods.days(dt.date(2024, 1, 1), dt.date(2025, 1, 1), SHANGHAI).days == 366
    for first, end in (
        (dt.date(2026, 11, 1), dt.date(2026, 11, 1)),  # empty
        (dt.date(2026, 11, 2), dt.date(2026, 11, 1)),  # backwards
        (dt.date(2025, 1, 1), dt.date(2026, 1, 3)),  # 367 days
    ):
        with pytest.raises(Invalid) as err:
            periods.days(first, end, SHANGHAI)
        assert err.value.field == "to"


@pytest.mark.parametrize(
    "value", [None, "", "2026-13-01", "2026-02-30", "20261128", "2026-11-28T00:00", "1999-12-31"]
)
def test_dates_must_be_real_days_written_yyyy_mm_dd(value: str | None) -> None:
    with pytest.raises(Invalid) as err:
        periods.parse_date(value, "date")
    assert err.value.field == "date"


# --- figures ----------------------------------------------------------------------------------


def test_counts_add_field_by_field_and_the_longest_wait_is_the_larger() -> None:
    a = CallCounts(3, 2, 1, 14.0, 9.0, (1, 2, 2, 2, 2))
    b = CallCounts(5, 4, 0, 80.0, 61.0, (0, 1, 2, 3, 3))
    assert a + b == CallCounts(8, 6, 1, 94.0, 61.0, (1, 3, 4, 5, 5))
    assert CaseCounts(opened=1, satisfied=2) + CaseCounts(opened=2) == CaseCounts(
        opened=3, satisfied=2
    )


def test_the_answer_time_bands_and_rates() -> None:
    # 8 offered, 6 answered: 1 within 5 s, 3 within 10 s, 4 within 20 s, 5 within 30 and 60 s,
    # so one took longer than a minute; 1 abandoned.
    out = figures.calls(CallCounts(8, 6, 1, 94.0, 61.04, (1, 3, 4, 5, 5)))
    bands = [(b.upto_s, b.calls) for b in out["answer_times"]]  # type: ignore[attr-defined]
    assert bands == [(5, 1), (10, 2), (20, 1), (30, 1), (60, 0), (None, 1)]
    assert out["within_10s"] == 3
    assert out["within_10s_rate"] == 0.375  # of the 8 offered
    assert out["answer_rate"] == 0.75
    assert out["abandon_rate"] == 0.125
    assert (out["avg_answer_s"], out["max_answer_s"]) == (15.7, 61.0)
    empty = figures.calls(CallCounts())
    assert (empty["answer_rate"], empty["avg_answer_s"], empty["max_answer_s"]) == (None,) * 3


def test_classes_and_areas_are_sums_of_their_groups() -> None:
    block = figures.cases_block(
        {
            ("life_help", "东城区"): CaseCounts(opened=2, follow_up_due=2, followed_up=1),
            ("life_help", None): CaseCounts(opened=1),
            (None, "东城区"): CaseCounts(opened=4, surveys_answered=4, satisfied=3),
        },
        {"callback": figures.TaskCounts(1, 1, 0)},
    )
    assert [(c.key, c.opened) for c in block.by_class] == [("life_help", 3), (None, 4)]
    assert [(a.key, a.opened) for a in block.by_area] == [("东城区", 6), (None, 1)]
    assert block.totals.opened == 7
    assert block.by_class[0].follow_up_rate == 0.5
    assert block.totals.satisfaction_rate == 0.75
    assert block.deadlines_by_kind[0].kept_rate == 0.5


def test_inactive_operators_show_only_with_figures() -> None:
    names = [
        OperatorName(1, "op1", "B", True),
        OperatorName(2, "op2", "A", False),
        OperatorName(3, "op3", "C", False),
    ]
    out = figures.operators(names, {3: OperatorCounts(answered=1)})
    assert [o.operator_id for o in out] == [1, 3]


# --- files ------------------------------------------------------------------------------------


TABLES = [
    export.Table("cases_by_area", ["area", "opened"], [["东城区", 3], ["=HYPERLINK(1)", 1]]),
    export.Table("deadlines_by_kind", ["kind", "kept_rate"], [["callback", None]]),
]


def test_csv_has_a_bom_and_keeps_formulas_as_text() -> None:
    data = export.to_csv(TABLES)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [
        ["cases_by_area"],
        ["area", "opened"],
        ["东城区", "3"],
        ["'=HYPERLINK(1)", "1"],
        [],
        ["deadlines_by_kind"],
        ["kind", "kept_rate"],
        ["callback", ""],
    ]


def test_xlsx_has_a_sheet_per_table_with_text_never_a_formula() -> None:
    book = load_workbook(io.BytesIO(export.to_xlsx(TABLES)))
    assert book.sheetnames == ["cases_by_area", "deadlines_by_kind"]
    sheet = book["cases_by_area"]
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [
        ["area", "opened"],
        ["东城区", 3],
        ["=HYPERLINK(1)", 1],
    ]
    assert sheet["A3"].data_type == "s"  # stored as text, not as a formula


def test_sheet_titles_are_short_unique_and_legal() -> None:
    taken: set[str] = set()
    long = "x" * 40
    assert export._sheet_title("a/b:c", taken) == "a_b_c"
    first, second = export._sheet_title(long, taken), export._sheet_title(long, taken)
    assert (len(first), len(second)) == (31, 31) and first != second


def test_file_names() -> None:
    assert export.filename("daily", "2026-11-28", "csv") == "hotline-daily-2026-11-28.csv"
    assert (
        export.filename("operators", "2026-11-01..2026-11-30", "xlsx")
        == "hotline-operators-2026-11-01..2026-11-30.xlsx"
    )
    assert export.filename("x", 'a"b/c', "csv") == "hotline-x-a_b_c.csv"
