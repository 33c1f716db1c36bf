"""The supervisor's reports against a known data set, inserted with SQL into a database
migrated to head; every total below is counted by hand from the rows in `_DATA` (each
number's comment says which rows make it). Then the same reports through the API as JSON,
CSV (parsed back) and XLSX (opened with openpyxl), the 422s, and the console's page and files.

The day is Tuesday 2026-03-10 in Asia/Shanghai (UTC+8): times below are local.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from openpyxl import load_workbook
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.app import http_app
from hotline.console import report_pages, sessions
from hotline.core.passwords import hash_password
from hotline.db import migrate
from hotline.db.engine import make_engine
from hotline.reports import periods, queries
from tests.integration.pg import _dsn, create_database, drop_database, sqlalchemy_url

pytestmark = pytest.mark.integration

TZ = ZoneInfo("Asia/Shanghai")
TOKEN = "env-token-for-report-tests"
DAY = dt.date(2026, 3, 10)
# "Now" for the queries read directly: the evening of the day, before T7's deadline.
EVENING = dt.datetime(2026, 3, 10, 19, 0, tzinfo=TZ)
PASSWORD = "Pw-for-the-supervisor"

# Operators A (张三) and B (李四) are active; C is inactive with no figures (not listed).
# Elders: 1 in 东城区, 2 in 西城区.
_DATA = """
INSERT INTO operators (id, username, display_name, active) OVERRIDING SYSTEM VALUE VALUES
  (1, 'opa', '张三', true), (2, 'opb', '李四', true), (3, 'opc', '王五', false),
  (4, 'boss', 'Boss', true);
INSERT INTO elders (id, full_name, district) OVERRIDING SYSTEM VALUE VALUES
  (1, '甲', '东城区'), (2, '乙', '西城区');

-- Calls (answer time = connected - queued).
INSERT INTO calls (id, linkedid, channel_id, entry, started_at, queue_id, queued_at,
                   connected_at, operator_id, ended_at, ended_by)
SELECT gen_random_uuid(), l, l, entry, q::timestamptz - interval '5 seconds',
       (SELECT id FROM queues WHERE name = queue), q::timestamptz,
       q::timestamptz + make_interval(secs => wait), op,
       q::timestamptz + make_interval(secs => ended), by
FROM (VALUES  -- line, queue, queued at, answered after (s), by, ended after queueing (s)
  -- 1: hotline, answered by A after 4 s, talked 300 s
  ('c1', 'hotline', 'general', '2026-03-10 09:00:00+08', 4, 1, 304, 'operator'),
  -- 2: hotline, answered by A after exactly 10 s (within R1's 10 s), talked 120 s
  ('c2', 'hotline', 'general', '2026-03-10 10:00:00+08', 10, 1, 130, 'caller'),
  -- 3: hotline, the caller hung up after 30 s waiting: abandoned
  ('c3', 'hotline', 'general', '2026-03-10 11:00:00+08', NULL, NULL, 30, 'caller'),
  -- 9: hotline, never answered, ended by the service (not abandoned)
  ('c9', 'hotline', 'general', '2026-03-10 12:00:00+08', NULL, NULL, 180, 'service'),
  -- 4: life-help line, answered by B after 25 s, talked 60 s
  ('c4', 'lifehelp', 'life_help', '2026-03-10 14:00:00+08', 25, 2, 85, 'caller'),
  -- 5: terminal, answered by B after 2 s, talked 300 s
  ('c5', 'terminal', 'emergency', '2026-03-10 20:00:00+08', 2, 2, 302, 'operator'),
  -- 6: terminal, queued a second before midnight (the 10th), answered by A after 75 s
  ('c6', 'terminal', 'emergency', '2026-03-10 23:59:59+08', 75, 1, 135, 'caller'),
  -- 7: queued at midnight: the 11th, not the 10th
  ('c7', 'hotline', 'general', '2026-03-11 00:00:00+08', 3, 1, 60, 'caller'),
  -- 8: queued a second before midnight on the 9th, answered by B after 6 s
  ('c8', 'hotline', 'general', '2026-03-09 23:59:59+08', 6, 2, 66, 'caller')
) AS t(l, entry, queue, q, wait, op, ended, by);
-- 10: never queued (hung up during the greeting): no report counts it
INSERT INTO calls (id, linkedid, channel_id, entry, started_at, ended_at, ended_by)
VALUES (gen_random_uuid(), 'c10', 'c10', 'hotline', '2026-03-10 13:00:00+08',
        '2026-03-10 13:00:03+08', 'caller');

-- Cases.
INSERT INTO cases (id, opened_at, closed_at, class, status, channel, elder_id, identified,
                   owner_operator_id, reasonable, unreasonable_reason, close_reason)
VALUES
  -- C1: life help, 东城区, opened and closed on the 10th by A; complete
  ('00000000-0000-0000-0000-0000000000c1', '2026-03-10 09:00+08', '2026-03-10 18:00+08',
   'life_help', 'closed', 'hotline', 1, true, 1, true, NULL, 'served'),
  -- C2: service consultation, 西城区, opened and closed by A; complete
  ('00000000-0000-0000-0000-0000000000c2', '2026-03-10 10:00+08', '2026-03-10 10:30+08',
   'consultation_service', 'closed', 'hotline', 2, true, 1, true, NULL, 'answered'),
  -- C3: emergency, 东城区, opened the 9th, closed the 10th by B without a closing reason
  ('00000000-0000-0000-0000-0000000000c3', '2026-03-09 20:00+08', '2026-03-10 12:00+08',
   'emergency', 'closed', 'terminal', 1, true, 2, true, NULL, NULL),
  -- C4: complaint, no elder, opened the 10th by B, still in progress
  ('00000000-0000-0000-0000-0000000000c4', '2026-03-10 14:00+08', NULL,
   'complaint', 'in_progress', 'lifehelp', NULL, false, 2, true, NULL, NULL),
  -- C5: legal consultation, 西城区, opened and closed by A as unreasonable; complete
  ('00000000-0000-0000-0000-0000000000c5', '2026-03-10 11:00+08', '2026-03-10 11:05+08',
   'consultation_legal', 'closed', 'hotline', 2, true, 1, false, 'harassing', 'refused'),
  -- C6: not classified, 东城区, opened the 10th, nobody owns it yet
  ('00000000-0000-0000-0000-0000000000c6', '2026-03-10 15:00+08', NULL,
   NULL, 'open', 'hotline', 1, true, NULL, NULL, NULL, NULL),
  -- C7: life help, 东城区, opened the 8th, closed the 11th (01:00): not in the day
  ('00000000-0000-0000-0000-0000000000c7', '2026-03-08 09:00+08', '2026-03-11 01:00+08',
   'life_help', 'closed', 'hotline', 1, true, 2, true, NULL, 'served');

-- Tasks (deadlines) and follow-ups.
INSERT INTO case_tasks (id, case_id, kind, due_at, owner_operator_id, status, created_at, done_at)
VALUES
  -- T1: C1's family follow-up, done an hour early by A: met (and C1 is followed up)
  (gen_random_uuid(), '00000000-0000-0000-0000-0000000000c1', 'family_follow_up',
   '2026-03-10 17:00+08', 1, 'done', '2026-03-10 09:00+08', '2026-03-10 16:00+08'),
  -- T2: C7's callback, done an hour late by B: missed
  (gen_random_uuid(), '00000000-0000-0000-0000-0000000000c7', 'callback',
   '2026-03-10 12:00+08', 2, 'done', '2026-03-08 09:00+08', '2026-03-10 13:00+08'),
  -- T3: C4's complaint handling, due 18:00, still open: missed after 18:00
  (gen_random_uuid(), '00000000-0000-0000-0000-0000000000c4', 'complaint_handling',
   '2026-03-10 18:00+08', 2, 'open', '2026-03-10 14:00+08', NULL),
  -- T4: C4's complaint reply, cancelled: not counted
  (gen_random_uuid(), '00000000-0000-0000-0000-0000000000c4', 'complaint_reply',
   '2026-03-10 20:00+08', 2, 'cancelled', '2026-03-10 14:00+08', NULL),
  -- T5: C3's hospital updates, due the 11th: not in the day
  (gen_random_uuid(), '00000000-0000-0000-0000-0000000000c3', 'hospital_updates',
   '2026-03-11 09:00+08', 2, 'done', '2026-03-09 20:00+08', '2026-03-11 08:00+08'),
  -- T6: C7's service order, done early by A: met (C7 is followed up)
  (gen_random_uuid(), '00000000-0000-0000-0000-0000000000c7', 'service_order',
   '2026-03-10 08:00+08', 1, 'done', '2026-03-08 09:00+08', '2026-03-10 07:00+08'),
  -- T7: C6's callback due 22:00, open: pending at 19:00, missed once past it
  (gen_random_uuid(), '00000000-0000-0000-0000-0000000000c6', 'callback',
   '2026-03-10 22:00+08', 1, 'open', '2026-03-10 15:00+08', NULL);

-- Satisfaction surveys (satisfied: a score of 4 or 5).
INSERT INTO survey_answers (id, case_id, operator_id, asked_at, outcome, score) VALUES
  -- S1: C1, A, 5: satisfied
  (gen_random_uuid(), '00000000-0000-0000-0000-0000000000c1',
   1, '2026-03-10 18:30+08', 'answered', 5),
  -- S2: C2, A, no key pressed: asked, not answered (and C2 is followed up)
  (gen_random_uuid(), '00000000-0000-0000-0000-0000000000c2',
   1, '2026-03-10 10:40+08', 'timeout', NULL),
  -- S3: C4, B, 3: answered, not satisfied
  (gen_random_uuid(), '00000000-0000-0000-0000-0000000000c4',
   2, '2026-03-10 13:00+08', 'answered', 3),
  -- S4: C5, A, 4: satisfied
  (gen_random_uuid(), '00000000-0000-0000-0000-0000000000c5',
   1, '2026-03-10 11:10+08', 'answered', 4),
  -- S5: C1, A, on the 11th: not in the day
  (gen_random_uuid(), '00000000-0000-0000-0000-0000000000c1',
   1, '2026-03-11 09:00+08', 'answered', 1);
"""


async def _on_postgres(sql: str) -> None:
    conn = await asyncpg.connect(_dsn("postgres"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _load(name: str) -> None:
    conn = await asyncpg.connect(_dsn(name))
    try:
        await conn.execute(_DATA)
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    """Migrated to head with the data set; the tests only read it."""
    name = asyncio.run(create_database("hotline_reports"))
    try:
        migrate.upgrade(sqlalchemy_url(name))
        asyncio.run(_load(name))
        yield name
    finally:
        asyncio.run(drop_database(name))


@pytest.fixture
async def engine(database: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(sqlalchemy_url(database))
    try:
        yield engine
    finally:
        await engine.dispose()


@dataclass
class Client:
    client: TestClient[Any, Any]
    tokens: dict[str, str]

    async def get(self, path: str, who: str = "admin") -> tuple[int, str, bytes, Any]:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        async with self.client.get(path, headers=headers) as response:
            body = await response.read()
            disposition = response.headers.get("Content-Disposition", "")
            return response.status, response.content_type, body, disposition


@pytest.fixture
async def api(engine: AsyncEngine) -> AsyncIterator[Client]:
    app = http_app(engine, TOKEN, lambda: {"status": "ok"})
    async with TestClient(TestServer(app)) as client:
        tokens = {"admin": TOKEN}
        for name, role, operator in (("desk", "supervisor", None), ("opa-token", "operator", 1)):
            body: dict[str, Any] = {"name": f"{name}-{secrets.token_hex(3)}", "role": role}
            if operator:
                body["operator_id"] = operator
            headers = {"Authorization": f"Bearer {TOKEN}"}
            async with client.post("/api/tokens", json=body, headers=headers) as response:
                assert response.status == 201, await response.text()
                tokens[role] = (await response.json())["token"]
        yield Client(client, tokens)


# --- the figures, read directly with a fixed "now" ------------------------------------------


async def test_the_daily_report_counts_what_was_counted_by_hand(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        report = await queries.report(conn, periods.day(DAY, TZ), TZ, EVENING)
    calls = report.calls.totals
    # Queued on the 10th: c1, c2, c3, c4, c5, c6, c9 (not c7, c8: the 11th and the 9th;
    # not c10: never queued).
    assert calls.offered == 7
    assert calls.answered == 5  # c1, c2, c4, c5, c6
    assert calls.abandoned == 1  # c3 (c9 was ended by the service)
    assert calls.within_10s == 3  # c1 (4 s), c2 (10 s), c5 (2 s)
    assert calls.within_10s_rate == 0.429  # 3 / 7 offered
    assert calls.answer_rate == 0.714  # 5 / 7
    assert calls.abandon_rate == 0.143  # 1 / 7
    assert calls.avg_answer_s == 23.2  # (4 + 10 + 25 + 2 + 75) / 5
    assert calls.max_answer_s == 75.0  # c6
    # 0-5 s: c1, c5; 5-10 s: c2; 10-20: none; 20-30: c4; 30-60: none; over 60: c6
    assert [(b.upto_s, b.calls) for b in calls.answer_times] == [
        (5, 2),
        (10, 1),
        (20, 0),
        (30, 1),
        (60, 0),
        (None, 1),
    ]
    by_line = {
        c.key: (c.offered, c.answered, c.within_10s, c.abandoned) for c in report.calls.by_line
    }
    assert by_line == {
        "hotline": (4, 2, 2, 1),  # c1, c2, c3, c9: c1 and c2 answered within 10 s, c3 abandoned
        "lifehelp": (1, 1, 0, 0),  # c4 after 25 s
        "terminal": (2, 2, 1, 0),  # c5 (2 s), c6 (75 s)
    }
    by_queue = {c.key: (c.offered, c.answered) for c in report.calls.by_queue}
    assert by_queue == {"general": (4, 2), "life_help": (1, 1), "emergency": (2, 2)}
    assert [(d.day, d.offered) for d in report.calls.by_day] == [(DAY, 7)]  # c6 is the 10th

    cases = report.cases.totals
    assert cases.opened == 5  # C1, C2, C4, C5, C6 (C3 the 9th, C7 the 8th)
    assert cases.closed == 4  # C1, C2, C3, C5 (C7 the 11th)
    assert cases.unreasonable == 1  # C5
    # Closed life help, service consultations and emergencies: C1, C2, C3; followed up: C1
    # (a done family follow-up), C2 (a survey asked); C3 had neither.
    assert (cases.follow_up_due, cases.followed_up, cases.follow_up_rate) == (3, 2, 0.667)
    # Due on the 10th, cancelled T4 aside: met T1, T6; missed T2 (late), T3 (open past 18:00);
    # pending T7 (due 22:00, it is 19:00).
    assert (cases.deadlines_met, cases.deadlines_missed, cases.deadlines_pending) == (2, 2, 1)
    assert cases.deadlines_kept_rate == 0.5
    # Asked on the 10th: S1-S4; answered S1, S3, S4; satisfied S1 (5), S4 (4).
    assert (cases.surveys_asked, cases.surveys_answered, cases.satisfied) == (4, 3, 2)
    assert cases.satisfaction_rate == 0.667

    by_class = {
        c.key: (
            c.opened,
            c.closed,
            c.unreasonable,
            c.follow_up_due,
            c.followed_up,
            c.deadlines_met,
            c.deadlines_missed,
            c.deadlines_pending,
            c.surveys_asked,
            c.surveys_answered,
            c.satisfied,
        )
        for c in report.cases.by_class
    }
    assert by_class == {
        # C1 opened, closed, followed up; deadlines T1, T6 met, T2 missed (C1's and C7's);
        # S1 satisfied
        "life_help": (1, 1, 0, 1, 1, 2, 1, 0, 1, 1, 1),
        # C2 opened, closed, followed up by S2 (asked, unanswered)
        "consultation_service": (1, 1, 0, 1, 1, 0, 0, 0, 1, 0, 0),
        # C3 closed, not followed up
        "emergency": (0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0),
        # C4 opened; T3 missed; S3 answered 3
        "complaint": (1, 0, 0, 0, 0, 0, 1, 0, 1, 1, 0),
        # C5 opened, closed unreasonable; S4 satisfied
        "consultation_legal": (1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1),
        # C6 opened; T7 pending
        None: (1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0),
    }
    assert [c.key for c in report.cases.by_class][-1] is None  # the unclassified last
    by_area = {
        a.key: (a.opened, a.closed, a.follow_up_due, a.followed_up, a.surveys_asked, a.satisfied)
        for a in report.cases.by_area
    }
    assert by_area == {
        "东城区": (2, 2, 2, 1, 1, 1),  # C1, C6 opened; C1, C3 closed and due; C1 followed; S1
        "西城区": (2, 2, 1, 1, 2, 1),  # C2, C5; C2 due and followed; S2, S4 (S4 satisfied)
        None: (1, 0, 0, 0, 1, 0),  # C4; S3
    }
    kinds = {d.kind: (d.met, d.missed, d.pending) for d in report.cases.deadlines_by_kind}
    assert kinds == {
        "callback": (0, 1, 1),  # T2 late, T7 pending
        "complaint_handling": (0, 1, 0),  # T3
        "family_follow_up": (1, 0, 0),  # T1
        "service_order": (1, 0, 0),  # T6
    }


async def test_the_monthly_analysis_takes_in_the_neighbouring_days(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        report = await queries.report(conn, periods.month(DAY, TZ), TZ, EVENING)
    assert report.period.label == "2026-03"
    calls = report.calls.totals
    assert (calls.offered, calls.answered, calls.within_10s) == (
        9,  # the day's 7, c7 (the 11th) and c8 (the 9th)
        7,  # the day's 5, c7, c8
        5,  # the day's 3, c7 (3 s), c8 (6 s)
    )
    assert [(d.day.isoformat(), d.offered) for d in report.calls.by_day] == [
        ("2026-03-09", 1),  # c8
        ("2026-03-10", 7),
        ("2026-03-11", 1),  # c7
    ]
    cases = report.cases.totals
    assert (cases.opened, cases.closed) == (7, 5)  # C1-C7; C1, C2, C3, C5, C7
    # Due: C1, C2, C3, C7 (life help); followed: C1, C2, C7 (T6, a done service order)
    assert (cases.follow_up_due, cases.followed_up) == (4, 3)
    # The month also holds T5 (met, done 08:00 before 09:00) and S5 (answered 1).
    assert (cases.deadlines_met, cases.surveys_answered, cases.satisfied) == (3, 4, 2)
    week = periods.week(DAY, TZ)
    async with engine.connect() as conn:
        weekly = await queries.report(conn, week, TZ, EVENING)
    assert weekly.period.label == "2026-W11"
    assert weekly.calls.totals.offered == 9  # Monday the 9th to Sunday the 15th: all of them


async def test_each_operators_figures(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        report = await queries.operators(
            conn, periods.days(DAY, DAY + dt.timedelta(1), TZ), EVENING
        )
    rows = {o.username: o for o in report.operators}
    assert set(rows) == {"opa", "opb", "boss"}  # opc is inactive without figures
    a, b = rows["opa"], rows["opb"]
    assert (a.answered, a.within_10s, a.within_10s_rate) == (3, 2, 0.667)  # c1, c2, c6
    assert a.avg_answer_s == 29.7  # (4 + 10 + 75) / 3
    assert a.avg_talk_s == 160.0  # (300 + 120 + 60) / 3
    assert (a.cases_owned, a.cases_closed, a.closed_complete) == (3, 3, 3)  # C1, C2, C5
    assert a.completeness_rate == 1.0
    # T1 and T6 met, T7 pending at 19:00
    assert (a.deadlines_met, a.deadlines_missed, a.deadlines_pending) == (2, 0, 1)
    assert (a.surveys_asked, a.surveys_answered, a.satisfied) == (3, 2, 2)  # S1, S2, S4
    assert a.satisfaction_rate == 1.0
    assert (b.answered, b.within_10s) == (2, 1)  # c4 (25 s), c5 (2 s); c8 was the 9th
    assert (b.avg_answer_s, b.avg_talk_s) == (13.5, 180.0)  # (25 + 2) / 2, (60 + 300) / 2
    # C4 opened; C3 closed without a closing reason: incomplete
    assert (b.cases_owned, b.cases_closed, b.closed_complete, b.completeness_rate) == (
        1,
        1,
        0,
        0.0,
    )
    assert (b.deadlines_met, b.deadlines_missed, b.deadlines_kept_rate) == (0, 2, 0.0)  # T2, T3
    assert (b.surveys_answered, b.satisfied, b.satisfaction_rate) == (1, 0, 0.0)  # S3
    boss = rows["boss"]
    assert (boss.answered, boss.cases_owned, boss.satisfaction_rate) == (0, 0, None)


# --- through the API -------------------------------------------------------------------------


async def test_the_api_serves_json_csv_and_xlsx(api: Client) -> None:
    status, kind, body, _ = await api.get("/api/reports/daily?date=2026-03-10", "supervisor")
    assert (status, kind) == (200, "application/json")
    daily = json.loads(body)
    assert daily["period"]["starts_at"] == "2026-03-10T00:00:00+08:00"
    assert daily["calls"]["totals"]["offered"] == 7
    # "now" is today: T7 (due 22:00 on the day) is past due and still open, so missed.
    totals = daily["cases"]["totals"]
    assert (totals["deadlines_met"], totals["deadlines_missed"], totals["deadlines_pending"]) == (
        2,
        3,
        0,
    )

    status, kind, body, disposition = await api.get("/api/reports/daily?date=2026-03-10&format=csv")
    assert (status, kind) == (200, "text/csv")
    assert disposition == 'attachment; filename="hotline-daily-2026-03-10.csv"'
    assert body.startswith(b"\xef\xbb\xbf")
    tables = _csv_tables(body)
    lines = [row[:5] for row in tables["calls_by_line"]]
    assert lines[0] == ["line", "offered", "answered", "abandoned", "within_10s"]
    assert lines[1:] == [
        _row("hotline", 4, 2, 1, 2),
        _row("lifehelp", 1, 1, 0, 0),
        _row("terminal", 2, 2, 0, 1),
        _row("total", 7, 5, 1, 3),
    ]
    area = {row[0]: row[1:3] for row in tables["cases_by_area"][1:]}
    assert area == {
        "东城区": ["2", "2"],
        "西城区": ["2", "2"],
        "no_area": ["1", "0"],
        "total": ["5", "4"],
    }
    assert tables["report"][1] == ["period", "2026-03-10"]

    status, kind, body, disposition = await api.get(
        "/api/reports/analysis?period=month&date=2026-03-31&format=xlsx"
    )
    assert (status, kind) == (
        200,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    assert disposition == 'attachment; filename="hotline-month-2026-03.xlsx"'
    book = load_workbook(io.BytesIO(body))
    assert book.sheetnames == [
        "report",
        "calls_by_line",
        "calls_by_queue",
        "calls_by_day",
        "cases_by_class",
        "cases_by_area",
        "deadlines_by_kind",
    ]
    days = [[c.value for c in row][:3] for row in book["calls_by_day"].iter_rows()]
    assert days[1:] == [
        [dt.datetime(2026, 3, 9), 1, 1],  # openpyxl reads dates back as datetimes
        [dt.datetime(2026, 3, 10), 7, 5],
        [dt.datetime(2026, 3, 11), 1, 1],
        ["total", 9, 7],
    ]
    classes = {row[0].value: row[1].value for row in book["cases_by_class"].iter_rows(min_row=2)}
    assert classes["life_help"] == 2  # C1 and C7 opened in March
    assert classes["total"] == 7

    status, kind, body, disposition = await api.get(
        "/api/reports/operators?from=2026-03-10&to=2026-03-11&format=csv", "supervisor"
    )
    assert status == 200
    assert disposition == 'attachment; filename="hotline-operators-2026-03-10..2026-03-10.csv"'
    rows = _csv_tables(body)["operators"]
    names = {row[0]: row for row in rows[1:]}
    assert set(names) == {"张三", "李四", "Boss"}
    assert names["张三"][rows[0].index("answered")] == "3"
    assert names["李四"][rows[0].index("completeness_rate")] == "0.0"


def _row(key: str, offered: int, answered: int, abandoned: int, within: int) -> list[str]:
    return [key, str(offered), str(answered), str(abandoned), str(within)]


def _csv_tables(body: bytes) -> dict[str, list[list[str]]]:
    """The CSV's tables by name (each: its name, a header row, the rows; a blank line between)."""
    tables: dict[str, list[list[str]]] = {}
    current: list[list[str]] | None = None
    for row in csv.reader(io.StringIO(body.decode("utf-8-sig"))):
        if not row:
            current = None
        elif current is None:
            current = tables.setdefault(row[0], [])
        else:
            current.append(row)
    return tables


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/reports/daily", "date"),
        ("/api/reports/daily?date=2026-02-30", "date"),
        ("/api/reports/daily?date=2026-03-10&format=pdf", "format"),
        ("/api/reports/analysis?date=2026-03-10", "period"),
        ("/api/reports/analysis?period=year&date=2026-03-10", "period"),
        ("/api/reports/analysis?period=week&date=10.03.2026", "date"),
        ("/api/reports/operators?to=2026-03-11", "from"),
        ("/api/reports/operators?from=2026-03-11&to=2026-03-10", "to"),
        ("/api/reports/operators?from=2025-01-01&to=2026-03-10", "to"),
    ],
)
async def test_wrong_values_are_422_naming_the_field(api: Client, path: str, field: str) -> None:
    status, kind, body, _ = await api.get(path)
    assert (status, kind) == (422, "application/json")
    assert json.loads(body)["field"] == field


async def test_operators_may_not_read_reports(api: Client) -> None:
    for path in (
        "/api/reports/daily?date=2026-03-10",
        "/api/reports/analysis?period=week&date=2026-03-10",
        "/api/reports/operators?from=2026-03-10&to=2026-03-11",
    ):
        status, _, _, _ = await api.get(path, "operator")
        assert status == 403


# --- the console ------------------------------------------------------------------------------


async def _console(engine: AsyncEngine, username: str, role: str) -> str:
    """A console session's cookie for the operator, as `role`."""
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE operators SET role = :role, password_hash = :hash WHERE username = :u"),
            {"role": role, "hash": hash_password(PASSWORD), "u": username},
        )
        made = await sessions.login(conn, username, PASSWORD, now=dt.datetime.now(dt.UTC))
    assert made is not None
    return made[0]


async def test_the_console_shows_the_reports_to_supervisors(engine: AsyncEngine) -> None:
    app = web.Application()
    report_pages.add(app, engine, TZ)
    boss, operator = (
        await _console(engine, "boss", "supervisor"),
        await _console(engine, "opa", "operator"),
    )
    async with TestClient(TestServer(app)) as client:
        cookies = {"Cookie": f"{sessions.COOKIE}={boss}; hotline_lang=zh"}
        async with client.get(
            "/console/reports?kind=daily&date=2026-03-10", headers=cookies
        ) as response:
            assert response.status == 200
            assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
            page = await response.text()
        assert "2026-03-10" in page and "呼入量" in page
        assert '<meter min="0" max="5" value="2">2</meter>' in page  # 0-5 s: 2 of 5 answered
        assert "style=" not in page  # the CSP allows no inline style
        assert (
            'href="/console/reports/export?kind=daily&amp;date=2026-03-10&amp;format=xlsx"' in page
        )

        async with client.get(
            "/console/reports?kind=operators&from=2026-03-10&to=2026-03-11", headers=cookies
        ) as response:
            assert response.status == 200
            assert "张三" in await response.text()
        async with client.get(
            "/console/reports?kind=analysis&period=quarter&date=2026-03-10", headers=cookies
        ) as response:
            assert response.status == 200
            assert "2026-Q1" in await response.text()
        async with client.get(
            "/console/reports?kind=daily&date=2026-02-30", headers=cookies
        ) as response:
            assert response.status == 422
            assert 'id="report-error"' in await response.text()

        # The files, named in the console's language.
        async with client.get(
            "/console/reports/export?kind=daily&date=2026-03-10&format=csv", headers=cookies
        ) as response:
            assert response.status == 200
            tables = _csv_tables(await response.read())
        assert tables["分线路话务"][0][:3] == ["线路", "呼入量", "接通量"]
        assert tables["分线路话务"][1][:2] == ["热线", "4"]
        assert [row[0] for row in tables["分类别工单"][1:]][-2:] == ["未分类", "合计"]
        english = {"Cookie": f"{sessions.COOKIE}={boss}; hotline_lang=en"}
        async with client.get(
            "/console/reports/export?kind=operators&from=2026-03-10&to=2026-03-11&format=xlsx",
            headers=english,
        ) as response:
            assert response.status == 200
            book = load_workbook(io.BytesIO(await response.read()))
        sheet = book["Operators"]
        assert [c.value for c in sheet[1]][:3] == ["Operator", "Username", "Answered"]

        # Operators are refused; without a session, the login page.
        async with client.get(
            "/console/reports", headers={"Cookie": f"{sessions.COOKIE}={operator}"}
        ) as response:
            assert response.status == 403
        async with client.get(
            "/console/reports/export?format=csv", allow_redirects=False
        ) as response:
            assert (response.status, response.headers["Location"]) == (303, "/console/login")
