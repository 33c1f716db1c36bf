"""Reports as tables, and the tables as files: CSV (UTF-8 with a BOM, so Excel reads Chinese
text as written) and XLSX (a sheet per table, with openpyxl). Pure apart from building bytes.

Text from the records (areas, queue and operator names) never becomes a formula: in CSV a
cell starting with = + - @ is prefixed with ' (as spreadsheet programs advise); in XLSX every
text cell is stored as text.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from openpyxl import Workbook
from openpyxl.styles import Font

from hotline.reports.figures import (
    BUCKET_UPTO_S,
    Calls,
    CallsBlock,
    Cases,
    OperatorsReport,
    PeriodReply,
    Report,
)

Cell = str | int | float | dt.date | None
Name = Callable[[str], str]
"""Names a column or a key (a class, a line) for people: the key itself in the API's files,
the console's words in its own."""
Format = Literal["json", "csv", "xlsx"]
FORMATS: tuple[Format, ...] = ("json", "csv", "xlsx")
CSV_TYPE = "text/csv"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Table:
    name: str  # a key: calls_by_line, cases_by_class, ...
    columns: list[str]
    rows: list[list[Cell]]


def same(key: str) -> str:
    return key


def named(name: Name, prefix: str, key: str) -> str:
    """The name of prefix+key when there is one (the console's words), else the key."""
    said = name(prefix + key)
    return key if said == prefix + key else said


def _bands() -> list[str]:
    bounds = [0, *BUCKET_UPTO_S]
    return [f"answer_{a}_{b}s" for a, b in zip(bounds, BUCKET_UPTO_S, strict=False)] + [
        f"answer_over_{BUCKET_UPTO_S[-1]}s"
    ]


BAND_COLUMNS = _bands()
CALL_COLUMNS = [
    "offered",
    "answered",
    "abandoned",
    "within_10s",
    "answer_rate",
    "within_10s_rate",
    "abandon_rate",
    "avg_answer_s",
    "max_answer_s",
    *BAND_COLUMNS,
]
CASE_COLUMNS = list(Cases.model_fields)
OPERATOR_COLUMNS = [
    "display_name",
    "username",
    "answered",
    "within_10s",
    "within_10s_rate",
    "avg_answer_s",
    "avg_talk_s",
    "cases_owned",
    "cases_closed",
    "closed_complete",
    "completeness_rate",
    "deadlines_met",
    "deadlines_missed",
    "deadlines_pending",
    "deadlines_kept_rate",
    "surveys_asked",
    "surveys_answered",
    "satisfied",
    "satisfaction_rate",
]


def _calls_row(c: Calls) -> list[Cell]:
    fixed: list[Cell] = [getattr(c, column) for column in CALL_COLUMNS[:9]]
    return fixed + [band.calls for band in c.answer_times]


def _cases_row(c: Cases) -> list[Cell]:
    return [getattr(c, column) for column in CASE_COLUMNS]


def _period_table(period: PeriodReply, generated_at: dt.datetime, name: Name) -> Table:
    rows: list[list[Cell]] = [
        [name("period"), period.label],
        [name("first_day"), period.first_day],
        [name("last_day"), period.last_day],
        [name("time_zone"), period.time_zone],
        [name("generated_at"), generated_at.isoformat(timespec="seconds")],
    ]
    return Table("report", [name("field"), name("value")], rows)


def _calls_tables(calls: CallsBlock, name: Name) -> list[Table]:
    total = [name("total"), *_calls_row(calls.totals)]
    columns = [name(c) for c in CALL_COLUMNS]
    no_queue = name("no_queue")
    return [
        Table(
            "calls_by_line",
            [name("line"), *columns],
            [[named(name, "line_", c.key or ""), *_calls_row(c)] for c in calls.by_line] + [total],
        ),
        Table(
            "calls_by_queue",
            [name("queue"), *columns],
            [[c.key or no_queue, *_calls_row(c)] for c in calls.by_queue] + [total],
        ),
        Table(
            "calls_by_day",
            [name("day"), *columns],
            [[c.day, *_calls_row(c)] for c in calls.by_day] + [total],
        ),
    ]


def report_tables(report: Report, name: Name = same) -> list[Table]:
    cases = report.cases
    columns = [name(c) for c in CASE_COLUMNS]
    total = [name("total"), *_cases_row(cases.totals)]
    return [
        _period_table(report.period, report.generated_at, name),
        *_calls_tables(report.calls, name),
        Table(
            "cases_by_class",
            [name("class"), *columns],
            [[name(c.key or "unclassified"), *_cases_row(c)] for c in cases.by_class] + [total],
        ),
        Table(
            "cases_by_area",
            [name("area"), *columns],
            [[c.key or name("no_area"), *_cases_row(c)] for c in cases.by_area] + [total],
        ),
        Table(
            "deadlines_by_kind",
            [name(c) for c in ("task_kind", "met", "missed", "pending", "kept_rate")],
            [
                [named(name, "task_", d.kind), d.met, d.missed, d.pending, d.kept_rate]
                for d in cases.deadlines_by_kind
            ],
        ),
    ]


def operators_tables(report: OperatorsReport, name: Name = same) -> list[Table]:
    return [
        _period_table(report.period, report.generated_at, name),
        Table(
            "operators",
            [name(c) for c in OPERATOR_COLUMNS],
            [[getattr(o, c) for c in OPERATOR_COLUMNS] for o in report.operators],
        ),
    ]


def _text_safe(value: Cell) -> Cell:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(tables: Sequence[Table], name: Name = same) -> bytes:
    """Each table under its name, a blank line between; UTF-8 with a BOM."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for i, table in enumerate(tables):
        if i:
            writer.writerow([])
        writer.writerow([_text_safe(name(table.name))])
        writer.writerow([_text_safe(c) for c in table.columns])
        for row in table.rows:
            writer.writerow(["" if v is None else _text_safe(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _sheet_title(text: str, taken: set[str]) -> str:
    title = re.sub(r"[\[\]:*?/\\]", "_", text)[:31] or "sheet"
    base, n = title, 2
    while title.lower() in taken:
        suffix = f" ({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(title.lower())
    return title


def to_xlsx(tables: Sequence[Table], name: Name = same) -> bytes:
    """A sheet per table: its column names in bold on the first row, then its rows."""
    book = Workbook()
    first = book.active
    if first is not None:
        book.remove(first)
    taken: set[str] = set()
    bold = Font(bold=True)
    for table in tables:
        sheet = book.create_sheet(_sheet_title(name(table.name), taken))
        sheet.append(table.columns)
        for cell in sheet[1]:
            cell.font = bold
            cell.data_type = "s"
        for row in table.rows:
            sheet.append(row)
        for line in sheet.iter_rows(min_row=2):
            for cell in line:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # a name starting with = stays text
        for column in sheet.columns:
            letter = column[0].column_letter
            widest = max(len(str(c.value or "")) for c in column)
            sheet.column_dimensions[letter].width = min(40, max(10, widest + 2))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def filename(report: str, label: str, fmt: Format) -> str:
    """hotline-daily-2026-11-28.csv; the label is made of digits, letters, - and ."""
    safe = re.sub(r"[^0-9A-Za-z.\-]", "_", label)
    return f"hotline-{report}-{safe}.{fmt}"


def content_type(fmt: Format) -> str:
    return CSV_TYPE if fmt == "csv" else XLSX_TYPE
