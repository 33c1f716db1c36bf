"""Routes of the supervisor's reports (R25, R26): the daily report, the weekly / monthly /
quarterly analysis by class and by area, and the operators' figures; as JSON, or as a CSV or
XLSX file to download (`format=`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.api.replies import reply
from hotline.api.routes import Query, Route
from hotline.core.errors import Invalid
from hotline.core.words import Role
from hotline.reports import export, periods, queries
from hotline.reports.export import FORMATS, Format, Name, Table
from hotline.reports.figures import OperatorsReport, Report
from hotline.reports.periods import Period

TAG = "reports"
Clock = Callable[[], dt.datetime]

FORMAT = Query(
    "format", "json (the default), or a file: csv (UTF-8 with BOM) or xlsx", {"enum": list(FORMATS)}
)
DATE = Query("date", "a local day, YYYY-MM-DD", {"type": "string", "format": "date"}, True)
PERIOD = Query(
    "period",
    "week (ISO, Monday to Sunday), month or quarter: the one holding `date`",
    {"enum": list(periods.ANALYSIS_KINDS)},
    True,
)
FROM = Query("from", "the first local day, YYYY-MM-DD", {"type": "string", "format": "date"}, True)
TO = Query(
    "to",
    "the first local day after the range (at most 366 days after from), YYYY-MM-DD",
    {"type": "string", "format": "date"},
    True,
)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def fmt_of(query: Mapping[str, str]) -> Format:
    value = query.get("format", "json")
    for fmt in FORMATS:
        if value == fmt:
            return fmt
    raise Invalid("format", "one of json, csv, xlsx")


def daily_period(query: Mapping[str, str], tz: ZoneInfo) -> Period:
    return periods.day(periods.parse_date(query.get("date"), "date"), tz)


def analysis_period(query: Mapping[str, str], tz: ZoneInfo) -> Period:
    kind = query.get("period")
    if kind not in periods.ANALYSIS_KINDS:
        raise Invalid("period", "one of week, month, quarter")
    return periods.analysis(kind, periods.parse_date(query.get("date"), "date"), tz)


def range_period(query: Mapping[str, str], tz: ZoneInfo) -> Period:
    first = periods.parse_date(query.get("from"), "from")
    return periods.days(first, periods.parse_date(query.get("to"), "to"), tz)


def download(tables: list[Table], fmt: Format, report: str, label: str, name: Name) -> web.Response:
    """A CSV or XLSX file as an attachment."""
    body = export.to_csv(tables, name) if fmt == "csv" else export.to_xlsx(tables, name)
    return web.Response(
        body=body,
        content_type=export.content_type(fmt),
        charset="utf-8" if fmt == "csv" else None,
        headers={
            "Content-Disposition": (
                f'attachment; filename="{export.filename(report, label, fmt)}"'
            ),
            "Cache-Control": "no-store",
        },
    )


def report_reply(report: Report, fmt: Format, kind: str) -> web.Response:
    if fmt == "json":
        return reply(report.model_dump(mode="json"))
    return download(export.report_tables(report), fmt, kind, report.period.label, export.same)


def operators_reply(report: OperatorsReport, fmt: Format) -> web.Response:
    if fmt == "json":
        return reply(report.model_dump(mode="json"))
    tables = export.operators_tables(report)
    return download(tables, fmt, "operators", report.period.label, export.same)


def routes(engine: AsyncEngine, tz: ZoneInfo, now: Clock = _now) -> list[Route]:
    async def daily(request: web.Request) -> web.Response:
        fmt, period = fmt_of(request.query), daily_period(request.query, tz)
        async with engine.connect() as conn:
            report = await queries.report(conn, period, tz, now())
        return report_reply(report, fmt, "daily")

    async def analysis(request: web.Request) -> web.Response:
        fmt, period = fmt_of(request.query), analysis_period(request.query, tz)
        async with engine.connect() as conn:
            report = await queries.report(conn, period, tz, now())
        return report_reply(report, fmt, period.kind)

    async def operators(request: web.Request) -> web.Response:
        fmt, period = fmt_of(request.query), range_period(request.query, tz)
        async with engine.connect() as conn:
            report = await queries.operators(conn, period, now())
        return operators_reply(report, fmt)

    who: tuple[Role, ...] = ("admin", "supervisor")
    files = (export.CSV_TYPE, export.XLSX_TYPE)
    return [
        Route(
            "GET",
            "/api/reports/daily",
            daily,
            "The daily report: calls by line, queue and answer time; cases, follow-ups, "
            "deadlines and satisfaction by class and area",
            TAG,
            roles=who,
            query=(DATE, FORMAT),
            reply=Report,
            also_types=files,
            errors=(422,),
        ),
        Route(
            "GET",
            "/api/reports/analysis",
            analysis,
            "The weekly, monthly or quarterly analysis by class and by area",
            TAG,
            roles=who,
            query=(PERIOD, DATE, FORMAT),
            reply=Report,
            also_types=files,
            errors=(422,),
        ),
        Route(
            "GET",
            "/api/reports/operators",
            operators,
            "Each operator's figures over a range of days (R25)",
            TAG,
            roles=who,
            query=(FROM, TO, FORMAT),
            reply=OperatorsReport,
            also_types=files,
            errors=(422,),
        ),
    ]
