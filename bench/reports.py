"""Reports benchmark: the supervisor's reports over a year of a city's calls.

  data      two scratch databases with the demo data, each given a year (2025, local time)
            of generated activity with set-based SQL (generate_series, never row by row):
            --small calls (the baseline) and --calls calls. Per call: a line (60% hotline,
            15% life-help line, 25% one-key terminals) and its queue, a time of day (85%
            between 07:00 and 21:00), 3% abandoned, the rest answered after an exponential
            wait (mean 5 s, at most 300 s) by one of 60 operators, talking 30-600 s. Cases:
            7 for every 10 calls, of every class (5% not classified), 90% closed within 3
            days, 3% unreasonable, 4% closed without a reason, 90% of an elder (one of
            calls/10 elders in 20 districts). Tasks by class: life help a service order and a
            family follow-up, emergencies hospital updates and a family follow-up, complaints
            handling and a reply, half the service consultations a callback; 85% done (some
            late), 10% open, 5% cancelled. Surveys: 60% of the closed served cases, 80%
            answered. Then VACUUM ANALYZE; the row counts are printed.
  reports   through the HTTP app (in this process, aiohttp's test server, a real socket,
            the admin token): the daily report (a day in June), the monthly and quarterly
            analysis, the operators' figures for a month and for the year, as JSON; the
            quarter and the operators' year also as XLSX. One warm-up run each, then --runs
            timed runs: p50/p99 (nearest rank), baseline and full side by side.
  --explain EXPLAIN (ANALYZE, BUFFERS) of every query of the daily report, the quarterly
            analysis and the operators' year on the full data.

    set -a; . /var/lib/hotline/secrets.env; set +a
    .venv/bin/python -m bench.reports                 # about 4 minutes; --help lists the settings

Needs PostgreSQL only (no Asterisk). The databases are dropped at the end, also on Ctrl-C or
SIGTERM.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import event
from tests.integration.pg import _dsn, sqlalchemy_url

from bench.common import bench_database, default_pg, percentile, run_until_done
from bench.elders import DISTRICTS
from hotline.app import http_app
from hotline.db.engine import make_engine

TZ = ZoneInfo("Asia/Shanghai")
YEAR_START = dt.datetime(2025, 1, 1, tzinfo=TZ)
DAYS = 365
OPERATORS = 60
TOKEN = "bench-reports-token"

REPORTS: list[tuple[str, str]] = [
    ("daily (2025-06-18)", "/api/reports/daily?date=2025-06-18"),
    ("monthly analysis (2025-06)", "/api/reports/analysis?period=month&date=2025-06-18"),
    ("quarterly analysis (2025-Q2)", "/api/reports/analysis?period=quarter&date=2025-06-18"),
    ("operators, a month", "/api/reports/operators?from=2025-06-01&to=2025-07-01"),
    ("operators, the year", "/api/reports/operators?from=2025-01-01&to=2026-01-01"),
    (
        "quarterly analysis as XLSX",
        "/api/reports/analysis?period=quarter&date=2025-06-18&format=xlsx",
    ),
    (
        "operators, the year, as XLSX",
        "/api/reports/operators?from=2025-01-01&to=2026-01-01&format=xlsx",
    ),
]

_OPERATORS = """
INSERT INTO operators (username, display_name, active)
SELECT 'rop' || lpad(i::text, 3, '0'), '坐席' || i, i % 20 <> 0 FROM generate_series(1, $1) i
"""
_ELDERS = """
INSERT INTO elders (full_name, district)
SELECT '老人' || i, ($2::text[])[1 + i % cardinality($2::text[])] FROM generate_series(1, $1) i
"""
_CALLS = """
INSERT INTO calls (id, linkedid, channel_id, entry, caller_kind, elder_id, started_at, queue_id,
                   queued_at, connected_at, operator_id, ended_at, ended_by)
SELECT gen_random_uuid(), 'rb.' || i, 'rb.' || i, s.entry, 'elder', s.elder,
       s.queued - interval '8 seconds', queues.id, s.queued,
       CASE WHEN s.abandoned THEN NULL ELSE s.queued + s.wait END,
       CASE WHEN s.abandoned THEN NULL ELSE s.op END,
       s.queued + s.wait + CASE WHEN s.abandoned THEN interval '0' ELSE s.talk END,
       CASE WHEN s.abandoned OR s.r < 0.5 THEN 'caller' ELSE 'operator' END
FROM (
  SELECT i,
         $1::timestamptz + ((i - 1) * $3::int / $2::int) * interval '1 day'
           + CASE WHEN random() < 0.85 THEN interval '7 hours' + random() * interval '14 hours'
                  ELSE random() * interval '24 hours' END AS queued,
         CASE WHEN r1 < 0.60 THEN 'hotline' WHEN r1 < 0.75 THEN 'lifehelp' ELSE 'terminal' END
           AS entry,
         random() < 0.03 AS abandoned,
         make_interval(secs => least(300, -ln(1 - random()) * 5)) AS wait,
         make_interval(secs => 30 + random() * 570) AS talk,
         ($4::bigint[])[1 + floor(random() * cardinality($4::bigint[]))::int] AS op,
         $5::bigint + floor(random() * $6::int)::bigint AS elder,
         random() AS r
  FROM (SELECT i, random() AS r1 FROM generate_series(1, $2::int) i OFFSET 0) g
  OFFSET 0
) s
JOIN (VALUES ('hotline', 'general'), ('lifehelp', 'life_help'), ('terminal', 'emergency'))
  AS m(entry, queue) ON m.entry = s.entry
JOIN queues ON queues.name = m.queue
"""
_CLASSES = [
    *["consultation_service"] * 5,
    *["life_help"] * 5,
    *["emergency"] * 2,
    "complaint",
    "referral",
    *["consultation_affairs"] * 2,
    "consultation_legal",
    *["consultation_other"] * 2,
    None,
]
_CASES = """
INSERT INTO cases (id, opened_at, closed_at, class, status, channel, elder_id, identified,
                   owner_operator_id, reasonable, unreasonable_reason, close_reason)
SELECT gen_random_uuid(), opened, closed, klass,
       CASE WHEN closed IS NULL THEN 'in_progress' ELSE 'closed' END, 'hotline', elder,
       elder IS NOT NULL, op, reasonable,
       CASE WHEN reasonable = false THEN 'harassing' END,
       CASE WHEN closed IS NOT NULL AND r2 >= 0.04 THEN 'served' END
FROM (
  SELECT opened,
         CASE WHEN r1 < 0.9 THEN opened + random() * interval '3 days' END AS closed,
         ($3::text[])[1 + floor(random() * cardinality($3::text[]))::int] AS klass,
         CASE WHEN random() < 0.9 THEN $5::bigint + floor(random() * $6::int)::bigint END AS elder,
         ($4::bigint[])[1 + floor(random() * cardinality($4::bigint[]))::int] AS op,
         CASE WHEN r3 < 0.03 THEN false WHEN r3 < 0.05 THEN NULL ELSE true END AS reasonable,
         r2
  FROM (
    SELECT $1::timestamptz + ((i - 1) * $7::int / $2::int) * interval '1 day'
             + interval '7 hours' + random() * interval '14 hours' AS opened,
           random() AS r1, random() AS r2, random() AS r3
    FROM generate_series(1, $2::int) i OFFSET 0
  ) g
  OFFSET 0
) s
"""
_TASKS = """
INSERT INTO case_tasks (id, case_id, kind, due_at, owner_operator_id, status, created_at, done_at)
SELECT gen_random_uuid(), id, kind, due, owner_operator_id, status, opened_at,
       CASE WHEN status = 'done' THEN due + (r2 * 18 - 14) * interval '1 hour' END
FROM (
  SELECT c.id, c.opened_at, c.owner_operator_id, k.kind, c.opened_at + k.after AS due,
         CASE WHEN r < 0.85 THEN 'done' WHEN r < 0.95 THEN 'open' ELSE 'cancelled' END AS status,
         r2
  FROM (SELECT id, opened_at, owner_operator_id, class, random() AS r, random() AS r2,
               random() AS r3 FROM cases OFFSET 0) c
  JOIN (VALUES
    ('life_help', 'service_order', interval '4 hours'),
    ('life_help', 'family_follow_up', interval '2 days'),
    ('emergency', 'hospital_updates', interval '6 hours'),
    ('emergency', 'family_follow_up', interval '1 day'),
    ('complaint', 'complaint_handling', interval '3 days'),
    ('complaint', 'complaint_reply', interval '3 days'),
    ('consultation_service', 'callback', interval '1 day')
  ) AS k(class, kind, after) ON k.class = c.class
  WHERE k.kind <> 'callback' OR c.r3 < 0.5
) t
"""
_SURVEYS = """
INSERT INTO survey_answers (id, case_id, operator_id, asked_at, outcome, score)
SELECT gen_random_uuid(), id, owner_operator_id, closed_at + interval '1 hour', outcome,
       CASE WHEN outcome = 'answered'
            THEN (ARRAY[5,5,5,5,5,5,5,5,5,5,4,4,4,4,4,4,4,3,3,2])[1 + floor(r2 * 20)::int] END
FROM (
  SELECT id, owner_operator_id, closed_at, r2,
         CASE WHEN r < 0.8 THEN 'answered' WHEN r < 0.95 THEN 'timeout' ELSE 'hung_up' END
           AS outcome
  FROM (SELECT *, random() AS r, random() AS r2, random() AS pick FROM cases
        WHERE closed_at IS NOT NULL
          AND class IN ('life_help', 'consultation_service', 'emergency', 'complaint', 'referral')
        OFFSET 0) c
  WHERE pick < 0.6
) s
"""
_TABLES = ("operators", "elders", "calls", "cases", "case_tasks", "survey_answers")


async def generate(database: str, calls: int) -> dict[str, int]:
    """A year of activity around `calls` calls; the rows in each table."""
    conn = await asyncpg.connect(_dsn(database))
    try:
        await conn.execute("SELECT setseed(0.42)")
        await conn.execute(_OPERATORS, OPERATORS)
        ops = await conn.fetchval("SELECT array_agg(id) FROM operators WHERE username LIKE 'rop%'")
        elders = max(1000, calls // 10)
        first = int(await conn.fetchval("SELECT coalesce(max(id), 0) FROM elders")) + 1
        await conn.execute(_ELDERS, elders, DISTRICTS)
        await conn.execute(_CALLS, YEAR_START, calls, DAYS, ops, first, elders)
        await conn.execute(_CASES, YEAR_START, calls * 7 // 10, _CLASSES, ops, first, elders, DAYS)
        await conn.execute(_TASKS)
        await conn.execute(_SURVEYS)
        for table in _TABLES:
            await conn.execute(f"VACUUM ANALYZE {table}")
        return {t: int(await conn.fetchval(f"SELECT count(*) FROM {t}")) for t in _TABLES}
    finally:
        await conn.close()


@dataclass
class Timing:
    name: str
    small: list[float]
    full: list[float]
    bytes_full: int = 0


async def time_reports(database: str, runs: int) -> dict[str, tuple[list[float], int]]:
    engine = make_engine(sqlalchemy_url(database))
    out: dict[str, tuple[list[float], int]] = {}
    try:
        app = http_app(engine, TOKEN, lambda: {"status": "ok"})
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with TestClient(TestServer(app)) as client:
            for name, path in REPORTS:
                seconds: list[float] = []
                size = 0
                for run in range(runs + 1):
                    started = time.perf_counter()
                    async with client.get(path, headers=headers) as response:
                        body = await response.read()
                        assert response.status == 200, body[:300]
                    if run:  # the first is a warm-up
                        seconds.append(time.perf_counter() - started)
                    size = len(body)
                out[name] = (seconds, size)
    finally:
        await engine.dispose()
    return out


async def explain(database: str) -> None:
    """EXPLAIN ANALYZE each statement the quarterly analysis and the operators' year run."""
    engine = make_engine(sqlalchemy_url(database))
    statements: list[tuple[str, Sequence[Any]]] = []

    def keep(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        statements.append((statement, tuple(params or ())))

    event.listen(engine.sync_engine, "before_cursor_execute", keep)
    try:
        app = http_app(engine, TOKEN, lambda: {"status": "ok"})
        async with TestClient(TestServer(app)) as client:
            for path in (REPORTS[0][1], REPORTS[2][1], REPORTS[4][1]):
                async with client.get(path, headers={"Authorization": f"Bearer {TOKEN}"}) as r:
                    assert r.status == 200
    finally:
        await engine.dispose()
    conn = await asyncpg.connect(_dsn(database))
    try:
        for statement, params in statements:
            if "api_tokens" in statement or not statement.lstrip().upper().startswith("SELECT"):
                continue
            async with conn.transaction():  # as the reports run them (queries._tuned)
                await conn.execute("SET LOCAL jit = off")
                await conn.execute("SET LOCAL work_mem = '64MB'")
                rows = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", *params)
            print("\n" + statement.split("\nFROM")[0][:120].replace("\n", " ") + " ...")
            for row in rows:
                print("   ", row[0])
    finally:
        await conn.close()


def _ms(values: list[float], p: float) -> str:
    return f"{percentile(values, p) * 1000:8.1f}"


async def run(args: argparse.Namespace) -> None:
    results: dict[str, dict[str, tuple[list[float], int]]] = {}
    for label, calls in (("small", args.small), ("full", args.calls)):
        async with bench_database("hotline_bench_reports") as database:
            started = time.monotonic()
            counts = await generate(database, calls)
            print(
                f"{label}: generated in {time.monotonic() - started:.1f} s: "
                + ", ".join(f"{t} {n:,}" for t, n in counts.items())
            )
            results[label] = await time_reports(database, args.runs)
            if args.explain and label == "full":
                await explain(database)
    print(f"\nms over {args.runs} runs (after a warm-up), {args.small:,} vs {args.calls:,} calls")
    print(f"{'report':36} {'p50 small':>10} {'p99 small':>10} {'p50 full':>10} {'p99 full':>10}")
    for name, _ in REPORTS:
        small, _size = results["small"][name]
        full, size = results["full"][name]
        print(
            f"{name:36} {_ms(small, 50):>10} {_ms(small, 99):>10} {_ms(full, 50):>10}"
            f" {_ms(full, 99):>10}   ({size:,} bytes)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.reports",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--calls", type=int, default=1_000_000, help="calls in the year [1000000]")
    parser.add_argument("--small", type=int, default=10_000, help="the baseline's calls [10000]")
    parser.add_argument("--runs", type=int, default=10, help="timed runs of each report [10]")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE on the full data")
    args = parser.parse_args()
    default_pg()
    run_until_done(lambda: run(args), "interrupted: the scratch databases are dropped")


if __name__ == "__main__":
    main()
