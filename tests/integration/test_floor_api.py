"""GET /api/floor and GET /metrics against a real PostgreSQL migrated to head.

Calls are written straight into the calls table, at known offsets from the hotline's local
midnight, so every figure below is exact.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import math
import re
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.api.auth import hash_token
from hotline.app import http_app as make_app
from hotline.db import migrate
from hotline.db.engine import make_engine
from hotline.events.live import FloorSnapshot, LiveOperator, LiveQueue
from hotline.floor import stats
from hotline.floor.view import start_of_day
from tests.integration.pg import _dsn, create_database, drop_database, sqlalchemy_url

pytestmark = pytest.mark.integration

SHANGHAI = ZoneInfo("Asia/Shanghai")
ENV_TOKEN = "env-token-for-floor-tests"
TOKENS = {"admin": ENV_TOKEN, "bad": "not-a-token"}
ROLE_TOKENS = {"supervisor": "supervisor-token-for-tests", "operator": "operator-token-for-tests"}

LIVE = FloorSnapshot(
    seq=3,
    at=dt.datetime.now(dt.UTC),
    calls=(),
    operators=(
        LiveOperator(1, "on_call", None, True, 1),
        LiveOperator(2, "paused", "rang_out", True, 0),
        LiveOperator(3, "ready", None, True, 0),
    ),
    queues=(LiveQueue("emergency", 0, 0.0, 0), LiveQueue("general", 1, 42.5, 0)),
    callbacks=(),
)
HEALTH = {"status": "ok", "live_calls": 2, "records_queued": 0}
OTHER_QUEUES = ("complaint", "consultation", "life_help", "supervisors")


async def _on_postgres(sql: str) -> None:
    conn = await asyncpg.connect(_dsn("postgres"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def floor_template() -> Iterator[str]:
    name = asyncio.run(create_database("hotline_floor_template"))
    try:
        migrate.upgrade(sqlalchemy_url(name))
        yield name
    finally:
        asyncio.run(drop_database(name))


@dataclass
class Floor:
    client: TestClient[Any, Any]
    engine: AsyncEngine
    since: dt.datetime

    async def get(self, path: str, who: str) -> tuple[int, str, str]:
        token = TOKENS.get(who) or ROLE_TOKENS.get(who)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.client.get(path, headers=headers) as response:
            return response.status, response.headers["Content-Type"], await response.text()


async def _sql(engine: AsyncEngine, query: str, **params: Any) -> None:
    async with engine.begin() as conn:
        await conn.execute(text(query), params)


async def _call(
    engine: AsyncEngine,
    queue: str | None,
    queued: dt.datetime,
    *,
    started: dt.datetime | None = None,
    connected_after: float | None = None,
    ended_after: float | None = None,
    ended_by: str | None = None,
    overflowed_after: float | None = None,
    breached_after: float | None = None,
) -> None:
    def later(seconds: float | None) -> dt.datetime | None:
        return None if seconds is None else queued + dt.timedelta(seconds=seconds)

    await _sql(
        engine,
        "INSERT INTO calls (id, linkedid, channel_id, entry, started_at, queue_id, queued_at,"
        " connected_at, ended_at, ended_by, overflowed_at, sla_breached_at) VALUES (:id,"
        " :linkedid, :channel, 'hotline', :started, (SELECT id FROM queues WHERE name = :queue),"
        " :queued, :connected, :ended, :ended_by, :overflowed, :breached)",
        id=uuid.uuid4(),
        linkedid=secrets.token_hex(8),
        channel=secrets.token_hex(8),
        started=started or queued - dt.timedelta(seconds=5),
        queue=queue,
        queued=queued if queue else None,
        connected=later(connected_after),
        ended=later(ended_after),
        ended_by=ended_by,
        overflowed=later(overflowed_after),
        breached=later(breached_after),
    )


async def _callback(
    engine: AsyncEngine, case_id: uuid.UUID, created: dt.datetime, done: bool
) -> None:
    await _sql(
        engine,
        "INSERT INTO callbacks (id, case_id, reason, created_at, done_at, due_at, status)"
        " VALUES (:id, :case_id, 'abandoned', :created, :done, :created, :status)",
        id=uuid.uuid4(),
        case_id=case_id,
        created=created,
        done=created + dt.timedelta(minutes=5) if done else None,
        status="talked" if done else "pending",
    )


async def _populate(engine: AsyncEngine, since: dt.datetime) -> None:
    """general (threshold 10 s) and emergency (set to 5 s); one hour after midnight."""
    t = since + dt.timedelta(hours=1)
    await _sql(engine, "UPDATE queues SET service_level_s = 5 WHERE name = 'emergency'")
    # general: answered after 4, 10 (the threshold itself), 25 and 41 s, the last overflowed
    # in; abandoned; handed to the duty phones unanswered; still waiting.
    await _call(engine, "general", t, connected_after=4, ended_after=100, ended_by="caller")
    await _call(engine, "general", t, connected_after=10, ended_after=100, ended_by="operator")
    await _call(engine, "general", t, connected_after=25, breached_after=5)
    await _call(engine, "general", t, overflowed_after=20, connected_after=41, breached_after=5)
    await _call(engine, "general", t, ended_after=30, ended_by="caller")
    await _call(engine, "general", t, ended_after=180, ended_by="fallback")
    await _call(engine, "general", t + dt.timedelta(hours=1))
    # Started before midnight, queued after it: today's; answered after 3 s.
    await _call(
        engine,
        "general",
        since + dt.timedelta(seconds=5),
        started=since - dt.timedelta(seconds=10),
        connected_after=3,
    )
    # Yesterday's: must not count, nor the abandoned one.
    await _call(engine, "general", since - dt.timedelta(hours=1), connected_after=2)
    await _call(
        engine, "general", since - dt.timedelta(seconds=30), ended_after=10, ended_by="caller"
    )
    # Never queued (the greeting only): not offered anywhere.
    await _call(engine, None, t, ended_after=8, ended_by="caller")
    # emergency: 3 s within its 5 s; 6 s beyond it (though within general's 10 s).
    await _call(engine, "emergency", t, connected_after=3)
    await _call(engine, "emergency", t, connected_after=6)

    case_id = uuid.uuid4()
    await _sql(
        engine,
        "INSERT INTO cases (id, opened_at, status, channel, identified)"
        " VALUES (:id, :at, 'callback_due', 'hotline', false)",
        id=case_id,
        at=since - dt.timedelta(days=1),
    )
    await _callback(engine, case_id, t, done=False)
    await _callback(engine, case_id, since - dt.timedelta(hours=3), done=False)  # still due
    await _callback(engine, case_id, t, done=True)


@pytest.fixture
async def engine(floor_template: str) -> AsyncIterator[AsyncEngine]:
    db = f"hotline_floor_{secrets.token_hex(4)}"
    await _on_postgres(f'CREATE DATABASE "{db}" TEMPLATE "{floor_template}"')
    engine = make_engine(sqlalchemy_url(db))
    try:
        for role, token in ROLE_TOKENS.items():
            await _sql(
                engine,
                "INSERT INTO api_tokens (name, role, token_sha256) VALUES (:name, :role, :sha)",
                name=f"{role}-token",
                role=role,
                sha=hash_token(token),
            )
        yield engine
    finally:
        await engine.dispose()
        await drop_database(db)


@pytest.fixture
async def floor(engine: AsyncEngine) -> AsyncIterator[Floor]:
    since = start_of_day(dt.datetime.now(dt.UTC), SHANGHAI)
    await _populate(engine, since)
    app = make_app(engine, ENV_TOKEN, lambda: HEALTH, snapshot=lambda: LIVE, tz=SHANGHAI)
    async with TestClient(TestServer(app)) as client:
        yield Floor(client, engine, since)


# --- the numbers -------------------------------------------------------------------------

GENERAL = {
    "waiting": 1,
    "longest_wait_s": 42.5,
    "callbacks_waiting": 0,
    "breached_today": 2,
    "offered_today": 8,
    "answered_today": 5,
    "abandoned_today": 1,
    "overflowed_today": 1,
    "service_level_today": 0.429,  # 3 within 10 s of the 7 no longer waiting
    "avg_answer_s": 16.6,  # (4 + 10 + 25 + 41 + 3) / 5
    "service_level_s": 10,
}
EMERGENCY = {
    "waiting": 0,
    "longest_wait_s": 0.0,
    "callbacks_waiting": 0,
    "breached_today": 0,
    "offered_today": 2,
    "answered_today": 2,
    "abandoned_today": 0,
    "overflowed_today": 0,
    "service_level_today": 0.5,
    "avg_answer_s": 4.5,
    "service_level_s": 5,
}
IDLE = {
    "waiting": 0,
    "longest_wait_s": 0.0,
    "callbacks_waiting": 0,
    "breached_today": 0,
    "offered_today": 0,
    "answered_today": 0,
    "abandoned_today": 0,
    "overflowed_today": 0,
    "service_level_today": None,
    "avg_answer_s": None,
}


async def test_floor_counts_today_per_queue_and_in_total(floor: Floor) -> None:
    before = dt.datetime.now(SHANGHAI)
    status, content_type, body = await floor.get("/api/floor", "supervisor")
    assert status == 200, body
    assert content_type.startswith("application/json")
    view = json.loads(body)
    at = dt.datetime.fromisoformat(view.pop("at"))
    assert at.utcoffset() == dt.timedelta(hours=8)
    assert before - dt.timedelta(seconds=1) <= at <= dt.datetime.now(SHANGHAI)
    assert view == {
        "since": floor.since.isoformat(),
        "queues": {
            "complaint": {**IDLE, "service_level_s": 10},
            "consultation": {**IDLE, "service_level_s": 10},
            "emergency": EMERGENCY,
            "general": GENERAL,
            "life_help": {**IDLE, "service_level_s": 10},
            "supervisors": {**IDLE, "service_level_s": 10},
        },
        "operators": {
            "1": {"state": "on_call", "reason": None, "reachable": True, "calls": 1},
            "2": {"state": "paused", "reason": "rang_out", "reachable": True, "calls": 0},
            "3": {"state": "ready", "reason": None, "reachable": True, "calls": 0},
        },
        "totals": {
            "waiting": 1,
            "longest_wait_s": 42.5,
            "callbacks_waiting": 0,
            "breached_today": 2,
            "offered_today": 10,
            "answered_today": 7,
            "abandoned_today": 1,
            "overflowed_today": 1,
            "service_level_today": 0.444,  # 4 of 9
            "avg_answer_s": 13.1,  # 92 / 7
            "service_level_s": None,
            "callbacks_due": 2,
        },
        "alerts": [],
    }
    assert view["since"].endswith("T00:00:00+08:00")


async def test_stats_take_a_threshold_per_queue(floor: Floor) -> None:
    async with floor.engine.connect() as conn:
        day = await stats.today(conn, since=floor.since, service_level_s={"general": 30})
    general, emergency = day["queues"]["general"], day["queues"]["emergency"]
    assert (general["service_level_s"], general["answered_within"]) == (30, 4)  # 25 s now in
    assert general["service_level"] == 0.571  # 4 of 7
    assert (emergency["service_level_s"], emergency["answered_within"]) == (5, 1)
    assert day["totals"]["answered_within"] == 5
    assert day["totals"]["waiting"] == 1
    assert day["callbacks_due"] == 2
    async with floor.engine.connect() as conn:
        with pytest.raises(ValueError, match="time zone"):
            await stats.today(conn, since=floor.since.replace(tzinfo=None))


@pytest.mark.parametrize("tz", [SHANGHAI, ZoneInfo("UTC")])
async def test_today_begins_at_midnight_in_the_hotlines_time_zone(
    engine: AsyncEngine, tz: ZoneInfo
) -> None:
    """Shanghai's midnight is 16:00 UTC: a call queued a minute before the later of the two
    midnights is today's only where the day began earlier."""
    now = dt.datetime.now(dt.UTC)
    shanghai, utc = start_of_day(now, SHANGHAI), start_of_day(now, dt.UTC)
    await _call(engine, "general", max(shanghai, utc) - dt.timedelta(minutes=1))
    app = make_app(engine, ENV_TOKEN, lambda: {}, tz=tz)
    async with TestClient(TestServer(app)) as client:
        headers = {"Authorization": f"Bearer {ENV_TOKEN}"}
        async with client.get("/api/floor", headers=headers) as response:
            assert response.status == 200
            view = await response.json()
    since = start_of_day(now, tz)
    assert dt.datetime.fromisoformat(view["since"]) == since
    expected = 1 if since == min(shanghai, utc) else 0
    assert view["queues"]["general"]["offered_today"] == expected
    assert view["totals"]["offered_today"] == expected


# --- /metrics ----------------------------------------------------------------------------

_SAMPLE = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)')


def parse_exposition(body: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """Samples by metric name and labels; every sample must follow its HELP and TYPE."""
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    described: dict[str, set[str]] = {}
    assert body.endswith("\n")
    for line in body.splitlines():
        if line.startswith("# "):
            kind, name, rest = line[2:].split(" ", 2)
            described.setdefault(name, set()).add(kind)
            if kind == "TYPE":
                assert rest == "gauge", line
            continue
        match = _SAMPLE.fullmatch(line)
        assert match, line
        name, raw_labels, value = match.groups()
        assert described.get(name) == {"HELP", "TYPE"}, line
        labels = tuple(
            (key, re.sub(r"\\(.)", lambda m: "\n" if m[1] == "n" else m[1], raw))
            for key, raw in _LABEL.findall(raw_labels or "")
        )
        samples.setdefault(name, {})[labels] = float(value)
    return samples


def by_queue(samples: dict[tuple[tuple[str, str], ...], float]) -> dict[str, float]:
    return {dict(labels)["queue"]: value for labels, value in samples.items()}


async def test_metrics_in_the_prometheus_text_format(floor: Floor) -> None:
    status, content_type, body = await floor.get("/metrics", "operator")
    assert status == 200, body
    assert content_type == "text/plain; version=0.0.4; charset=utf-8"
    m = parse_exposition(body)
    assert by_queue(m["hotline_queue_waiting"]) == {
        "complaint": 0,
        "consultation": 0,
        "emergency": 0,
        "general": 1,
        "life_help": 0,
        "supervisors": 0,
    }
    assert by_queue(m["hotline_queue_longest_wait_seconds"])["general"] == 42.5
    assert {dict(k)["state"]: v for k, v in m["hotline_operators"].items()} == {
        "logged_out": 0,
        "ready": 1,
        "offered": 0,
        "on_call": 1,
        "wrap_up": 0,
        "paused": 1,
    }
    for name, general, emergency in (
        ("hotline_calls_offered_today", 8, 2),
        ("hotline_calls_answered_today", 5, 2),
        ("hotline_calls_abandoned_today", 1, 0),
        ("hotline_calls_overflowed_today", 1, 0),
        ("hotline_answer_clock_breaches_today", 2, 0),
        ("hotline_service_level_today", 0.429, 0.5),
        ("hotline_answer_seconds_avg_today", 16.6, 4.5),
    ):
        values = by_queue(m[name])
        assert (values.pop("general"), values.pop("emergency")) == (general, emergency), name
        idle = list(values.values())
        assert len(idle) == len(OTHER_QUEUES), name
        if name in ("hotline_service_level_today", "hotline_answer_seconds_avg_today"):
            assert all(math.isnan(v) for v in idle), name  # nothing to measure yet
        else:
            assert idle == [0, 0, 0, 0], name
    assert m["hotline_callbacks_due"] == {(): 2}
    assert m["hotline_live_calls"] == {(): 2}
    assert m["hotline_records_queued"] == {(): 0}


# --- who may see it ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/api/floor", {"none": 401, "bad": 401, "operator": 403, "supervisor": 200, "admin": 200}),
        ("/metrics", {"none": 401, "bad": 401, "operator": 200, "supervisor": 200, "admin": 200}),
    ],
)
async def test_roles(floor: Floor, path: str, expected: dict[str, int]) -> None:
    seen: dict[str, int] = {}
    for who in expected:
        status, content_type, body = await floor.get(path, who)
        seen[who] = status
        if status != 200:
            assert content_type.startswith("application/json")
            error = json.loads(body)["error"]
            assert error == ("forbidden" if status == 403 else "unauthorized")
    assert seen == expected


async def test_defaults_serve_the_database_figures_without_a_desk(engine: AsyncEngine) -> None:
    """The admin API alone: no live floor, no tz given (Asia/Shanghai)."""
    since = start_of_day(dt.datetime.now(dt.UTC), SHANGHAI)
    await _populate(engine, since)
    app = make_app(engine, ENV_TOKEN, lambda: {"status": "ok"})
    async with TestClient(TestServer(app)) as client:
        headers = {"Authorization": f"Bearer {ENV_TOKEN}"}
        async with client.get("/api/floor", headers=headers) as response:
            assert response.status == 200
            view = await response.json()
        async with client.get("/metrics", headers=headers) as response:
            assert response.status == 200
            metrics = parse_exposition(await response.text())
    assert dt.datetime.fromisoformat(view["since"]) == since
    assert view["operators"] == {}
    assert view["queues"]["general"] == {**GENERAL, "waiting": 0, "longest_wait_s": 0.0}
    assert view["totals"]["offered_today"] == 10
    assert "hotline_live_calls" not in metrics  # the health dict has no such key
    assert sum(metrics["hotline_operators"].values()) == 0
    assert len(metrics["hotline_operators"]) == 6
