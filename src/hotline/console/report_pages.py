"""The supervisor's reports in the console (R25, R26): the daily report, the weekly /
monthly / quarterly analysis by class and by area, the operators' figures; tables, bars drawn
with <meter> (no script, no inline style), and the same reports as CSV or XLSX files, served
here for the console's session (the API's files need a bearer token)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.console.web import guarded, lang, render
from hotline.console.words import Lang, word
from hotline.core.errors import Problem
from hotline.reports import export, queries
from hotline.reports import http as reports_http
from hotline.reports.export import Format, Name
from hotline.reports.figures import OperatorsReport, Report
from hotline.reports.periods import Period

KINDS = ("daily", "analysis", "operators")


def naming(lang_: Lang) -> Name:
    """A report's word (r_<key>), else the console's own (a class's name), else the key."""

    def name(key: str) -> str:
        mine = f"r_{key}"
        said = word(mine, lang_)
        return said if said != mine else word(key, lang_)

    return name


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _labels(name: Name) -> dict[str, Callable[[Any], str]]:
    """How the page names a table's rows: lines, queues, classes, areas, answer-time bands."""
    return {
        "line_name": lambda row: export.named(name, "line_", row.key or ""),
        "queue_name": lambda row: row.key or name("no_queue"),
        "class_name": lambda row: name(row.key or "unclassified"),
        "area_name": lambda row: row.key or name("no_area"),
        "band_name": lambda i: name(export.BAND_COLUMNS[i]),
    }


def _kind(query: Mapping[str, str]) -> str:
    kind = query.get("kind", "daily")
    return kind if kind in KINDS else "daily"


def _period(kind: str, query: Mapping[str, str], tz: ZoneInfo, today: dt.date) -> Period:
    """The period asked for; today, this month, or this month so far by default."""
    if kind == "daily":
        return reports_http.daily_period({"date": today.isoformat(), **query}, tz)
    if kind == "analysis":
        defaults = {"period": "month", "date": today.isoformat()}
        return reports_http.analysis_period({**defaults, **query}, tz)
    first = today.replace(day=1)
    defaults = {"from": first.isoformat(), "to": (today + dt.timedelta(days=1)).isoformat()}
    return reports_http.range_period({**defaults, **query}, tz)


def _export_query(kind: str, period: Period, analysis: str) -> str:
    if kind == "daily":
        return f"kind=daily&date={period.first.isoformat()}"
    if kind == "analysis":
        return f"kind=analysis&period={analysis}&date={period.first.isoformat()}"
    return f"kind=operators&from={period.first.isoformat()}&to={period.end.isoformat()}"


async def _build(
    engine: AsyncEngine, kind: str, period: Period, tz: ZoneInfo
) -> Report | OperatorsReport:
    now = dt.datetime.now(dt.UTC)
    async with engine.connect() as conn:
        if kind == "operators":
            return await queries.operators(conn, period, now)
        return await queries.report(conn, period, tz, now)


def add(app: web.Application, engine: AsyncEngine, tz: ZoneInfo) -> None:
    async def page(request: web.Request) -> web.StreamResponse:
        kind, query = _kind(request.query), request.query
        name = naming(lang(request))
        context: dict[str, Any] = {
            "kind": kind,
            "n": name,
            "pct": percent,
            **_labels(name),
            "form": dict(query),
            "report": None,
            "error": None,
            "exports": None,
        }
        try:
            period = _period(kind, query, tz, dt.datetime.now(tz).date())
        except Problem as err:
            context["error"] = f"{name(err.field or '')}: {err.detail}"
            return render(request, "reports.html", tz, status=422, **context)
        context["report"] = await _build(engine, kind, period, tz)
        context["exports"] = _export_query(kind, period, query.get("period", "month"))
        context["form"] = {
            "date": period.first.isoformat(),
            "period": period.kind if kind == "analysis" else "month",
            "from": period.first.isoformat(),
            "to": period.end.isoformat(),
        }
        return render(request, "reports.html", tz, **context)

    async def download(request: web.Request) -> web.StreamResponse:
        kind, query = _kind(request.query), request.query
        try:
            fmt: Format = reports_http.fmt_of({"format": query.get("format", "csv")})
            if fmt == "json":
                raise web.HTTPUnprocessableEntity(text="format: csv or xlsx")
            period = _period(kind, query, tz, dt.datetime.now(tz).date())
        except Problem as err:
            raise web.HTTPUnprocessableEntity(text=f"{err.field}: {err.detail}") from None
        name = naming(lang(request))
        report = await _build(engine, kind, period, tz)
        if isinstance(report, OperatorsReport):
            tables = export.operators_tables(report, name)
            label = "operators"
        else:
            tables = export.report_tables(report, name)
            label = "daily" if kind == "daily" else period.kind
        return reports_http.download(tables, fmt, label, period.label, name)

    app.router.add_get("/console/reports", guarded(engine, page, supervisor=True))
    app.router.add_get("/console/reports/export", guarded(engine, download, supervisor=True))
