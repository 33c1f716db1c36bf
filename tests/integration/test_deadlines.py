"""Deadlines kept (issue 9): the scheduler against the real PostgreSQL with a controllable
clock (a complaint warned, escalated once, never twice; across a restart; a served case
closing on its own, R20), and the running service (a deadline that fell due while it was
down fires once at start and not again after a restart; a follow-up call offered to the
case's owner first; local calendar exceptions through the API)."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from hotline.api.auth import Principal
from hotline.cases import actions
from hotline.core import events as ev
from hotline.core.fence import Deposed, Unfenced
from hotline.deadlines import rules, store
from hotline.deadlines.watch import DeadlineWatch
from hotline.workdays import WorkCalendar
from tests.integration import sipp
from tests.integration.calendars import service_calendar
from tests.integration.conftest import Service
from tests.integration.floorkit import Floor
from tests.integration.outside import OutsidePhone
from tests.integration.pg import sqlalchemy_url
from tests.integration.test_callbacks import bridged_callback, hang_up_callee
from tests.integration.test_calls import ELDER_MOBILE, finished_call

pytestmark = pytest.mark.integration

TZ = ZoneInfo("Asia/Shanghai")
MONDAY = dt.datetime(2026, 3, 9, 10, 0, tzinfo=TZ)  # an ordinary working week
SUPERVISOR = Principal("boss", "supervisor")


@pytest.fixture
async def engine(database: str) -> AsyncIterator[AsyncEngine]:
    made = create_async_engine(sqlalchemy_url(database))
    yield made
    await made.dispose()


async def new_case(db: asyncpg.Connection, owner: int | None = None) -> uuid.UUID:
    case_id = uuid.uuid4()
    await db.execute(
        "INSERT INTO cases (id, opened_at, status, channel, identified, owner_operator_id) "
        "VALUES ($1, now(), 'in_progress', 'hotline', false, $2)",
        case_id,
        owner,
    )
    return case_id


async def department(db: asyncpg.Connection) -> int:
    return int(
        await db.fetchval(
            "INSERT INTO organisations (kind, name) VALUES ('department', $1) RETURNING id",
            f"Civil affairs {uuid.uuid4().hex[:6]}",
        )
    )


class Heard:
    def __init__(self) -> None:
        self.events: list[ev.DomainEvent] = []

    def __call__(self, event: ev.DomainEvent) -> None:
        self.events.append(event)

    def of(self, kind: type[Any]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


async def steps(db: asyncpg.Connection, case_id: uuid.UUID) -> list[str]:
    rows = await db.fetch(
        "SELECT kind FROM case_events WHERE case_id = $1 ORDER BY at, id", case_id
    )
    return [r["kind"] for r in rows]


# --- the scheduler, with a controllable clock -------------------------------------------


async def test_a_complaints_deadline_is_warned_then_escalated_once(
    engine: AsyncEngine, db: asyncpg.Connection
) -> None:
    case_id = await new_case(db)
    org = await department(db)
    async with engine.begin() as conn:
        made = await actions.complaint(
            conn,
            case_id,
            SUPERVISOR,
            org_id=org,
            calendar=WorkCalendar("CN"),
            tz=TZ,
            now=MONDAY.astimezone(dt.UTC),
        )
    due = dt.datetime(2026, 3, 12, 18, 0, tzinfo=TZ)  # Thursday: the third working day
    assert dt.datetime.fromisoformat(made["handling"]["due_at"]) == due
    heard = Heard()
    watch = DeadlineWatch(engine, heard)
    assert await watch.fire(MONDAY + dt.timedelta(hours=1)) == 0
    assert await watch.fire(due - rules.WARN_BEFORE - dt.timedelta(seconds=1)) == 0
    assert await watch.fire(due - dt.timedelta(hours=1)) == 2  # handling and reply: due soon
    assert {e.kind for e in heard.of(ev.DeadlineDueSoon)} == {
        "complaint_handling",
        "complaint_reply",
    }
    assert await watch.fire(due - dt.timedelta(minutes=1)) == 0  # warned once
    assert await watch.fire(due + dt.timedelta(seconds=1)) == 2  # overdue: escalated
    overdue = heard.of(ev.DeadlineOverdue)
    assert {(e.case_id, e.due_at) for e in overdue} == {(case_id, due)}
    assert await watch.fire(due + dt.timedelta(hours=5)) == 0  # never twice
    assert (await steps(db, case_id)).count("deadline_missed") == 2


async def test_a_deadline_kept_is_not_escalated(
    engine: AsyncEngine, db: asyncpg.Connection
) -> None:
    case_id = await new_case(db)
    task_id = uuid.uuid4()
    due = MONDAY + dt.timedelta(days=1)
    await db.execute(
        "INSERT INTO case_tasks (id, case_id, kind, due_at, created_at) "
        "VALUES ($1, $2, 'callback', $3, $4)",
        task_id,
        case_id,
        due,
        MONDAY,
    )
    heard = Heard()
    watch = DeadlineWatch(engine, heard)
    async with engine.begin() as conn:
        done = await store.done(conn, task_id, "op", due - dt.timedelta(hours=3))
    assert done is not None and done["kept"] is True
    assert await watch.fire(due + dt.timedelta(hours=1)) == 0
    assert heard.events == []
    assert "task_done" in await steps(db, case_id)


async def test_across_a_restart_a_deadline_fires_once_not_twice_not_never(
    engine: AsyncEngine, db: asyncpg.Connection
) -> None:
    case_id = await new_case(db)
    first, second = uuid.uuid4(), uuid.uuid4()
    for task_id, due in ((first, MONDAY), (second, MONDAY + dt.timedelta(hours=6))):
        await db.execute(
            "INSERT INTO case_tasks (id, case_id, kind, due_at, created_at, warned_at) "
            "VALUES ($1, $2, 'family_follow_up', $3, $4, $4)",
            task_id,
            case_id,
            due,
            MONDAY - dt.timedelta(days=1),
        )
    before, after = Heard(), Heard()
    assert await DeadlineWatch(engine, before).fire(MONDAY + dt.timedelta(hours=1)) == 1
    # "Restarted": a new scheduler on the same database, later; the second task fell due
    # while no scheduler ran.
    assert await DeadlineWatch(engine, after).fire(MONDAY + dt.timedelta(hours=8)) == 1
    assert [e.task_id for e in before.of(ev.DeadlineOverdue)] == [first]
    assert [e.task_id for e in after.of(ev.DeadlineOverdue)] == [second]


async def test_a_deposed_controller_claims_no_deadline(
    engine: AsyncEngine, db: asyncpg.Connection
) -> None:
    """The claims are the leader's (issue 16): a fence that says Deposed leaves the task due
    for the one that leads."""
    case_id = await new_case(db)
    await db.execute(
        "INSERT INTO case_tasks (id, case_id, kind, due_at, created_at, warned_at) "
        "VALUES ($1, $2, 'family_follow_up', $3, $4, $4)",
        uuid.uuid4(),
        case_id,
        MONDAY,
        MONDAY - dt.timedelta(days=1),
    )

    class Gone(Unfenced):
        async def check(self, conn: Any) -> None:
            raise Deposed("a")

    deposed, leader = Heard(), Heard()
    with pytest.raises(Deposed):
        await DeadlineWatch(engine, deposed, fence=Gone()).fire(MONDAY + dt.timedelta(hours=1))
    assert deposed.events == []
    assert (
        await DeadlineWatch(engine, leader, fence=Unfenced()).fire(MONDAY + dt.timedelta(hours=1))
        == 1
    )


async def test_a_served_case_closes_after_three_days_without_complaint(
    engine: AsyncEngine, db: asyncpg.Connection
) -> None:
    quiet, unhappy = await new_case(db), await new_case(db)
    provider = int(
        await db.fetchval(
            "INSERT INTO organisations (kind, name) VALUES ('provider', $1) RETURNING id",
            f"Meals {uuid.uuid4().hex[:6]}",
        )
    )
    for case_id in (quiet, unhappy):
        async with engine.begin() as conn:
            await actions.service_order(
                conn, case_id, SUPERVISOR, org_id=provider, service="meals", now=MONDAY
            )
    await db.execute(
        "INSERT INTO case_tasks (id, case_id, kind, due_at, created_at) "
        "VALUES ($1, $2, 'dissatisfied', $3, $3)",
        uuid.uuid4(),
        unhappy,
        MONDAY + dt.timedelta(days=10),
    )
    heard = Heard()
    watch = DeadlineWatch(engine, heard)
    await watch.fire(MONDAY + dt.timedelta(days=3, seconds=1))
    closed = await db.fetchrow("SELECT status, close_reason FROM cases WHERE id = $1", quiet)
    assert (closed["status"], closed["close_reason"]) == ("closed", rules.AUTO_CLOSE_REASON)
    kept = await db.fetchval("SELECT status FROM cases WHERE id = $1", unhappy)
    assert kept == "follow_up"  # a dissatisfied answer keeps it open
    assert heard.of(ev.DeadlineOverdue) == []  # a service order is not a missed deadline


def test_a_deadline_is_met_by_its_due_time() -> None:
    due = MONDAY
    assert rules.met(due, due, due) is True
    assert rules.met(due, due + dt.timedelta(seconds=1), due) is False
    assert rules.met(due, None, due - dt.timedelta(seconds=1)) is None
    assert rules.met(due, None, due + dt.timedelta(seconds=1)) is False


# --- the running service ----------------------------------------------------------------


async def test_the_service_fires_a_deadline_missed_while_down_once(
    service: Service, db: asyncpg.Connection
) -> None:
    case_id = await new_case(db)
    task_id = uuid.uuid4()
    await db.execute(
        "INSERT INTO case_tasks (id, case_id, kind, due_at, created_at) "
        "VALUES ($1, $2, 'complaint_reply', now() - interval '1 hour', now() - interval '3 days')",
        task_id,
        case_id,
    )
    await service.start()
    escalated = await _escalated(db, task_id)
    assert escalated is not None  # not never
    await service.stop()
    await service.start()
    seen = await _event_types(service, seconds=2.0)  # the restarted scheduler has looked
    assert "snapshot" in seen and "deadline.overdue" not in seen  # not twice
    assert await db.fetchval("SELECT escalated_at FROM case_tasks WHERE id = $1", task_id) == (
        escalated
    )
    assert (await steps(db, case_id)).count("deadline_missed") == 1


async def _event_types(service: Service, *, seconds: float) -> list[str]:
    """The types of the events on the stream for `seconds` (the first is the snapshot)."""
    import aiohttp

    types: list[str] = []
    async with aiohttp.ClientSession() as http:
        url = f"http://127.0.0.1:{service.port}/api/events"
        headers = {"Authorization": "Bearer test-admin-token-of-the-suite-0123456789"}
        async with http.ws_connect(url, headers=headers) as ws:
            try:
                async with asyncio.timeout(seconds):
                    async for msg in ws:
                        types.append(msg.json()["type"])
            except TimeoutError:
                pass
    return types


async def _escalated(db: asyncpg.Connection, task_id: uuid.UUID) -> Any:
    async with asyncio.timeout(10):
        while True:
            value = await db.fetchval("SELECT escalated_at FROM case_tasks WHERE id = $1", task_id)
            if value is not None:
                return value
            await asyncio.sleep(0.1)


async def test_a_follow_up_call_is_offered_to_the_cases_owner_first(
    service: Service, db: asyncpg.Connection
) -> None:
    await service.start(HOTLINE_DEADLINE_CHECK_S="1")
    import aiohttp

    async with aiohttp.ClientSession() as http:
        floor = Floor(service, http)
        try:
            queue = await floor.queue(ring_timeout_s=8)
            await floor.route("hotline", queue)
            owner, owner_phone = await floor.operator({queue: 0})
            other, other_phone = await floor.operator({queue: 0}, ready=False)
            since = dt.datetime.now(dt.UTC)
            first = asyncio.create_task(sipp.call("12349", ELDER_MOBILE, hold_ms=3000))
            await owner_phone.wait_for("answered", limit=10)
            await floor.state(other, "ready")  # idle longer than the owner from now
            assert (await first).ok
            call = await finished_call(db, since)
            assert call["operator_id"] == owner
            await asyncio.sleep(1.5)  # the owner's wrap-up
            provider = await floor.api(
                "POST",
                "/api/organisations",
                {"kind": "provider", "name": f"Meals {since:%H%M%S%f}"},
            )
            await floor.api(
                "POST",
                f"/api/cases/{call['case_id']}/service-order",
                {"org_id": provider["id"], "service": "meals"},
            )
            # Three days pass: the follow-up is due within the warning window.
            await db.execute(
                "UPDATE case_tasks SET due_at = now() + interval '1 hour' WHERE case_id = $1",
                call["case_id"],
            )
            async with OutsidePhone("answer") as elder:
                await owner_phone.wait_for("answered", 2, limit=15)  # offered to the owner
                await elder.wait_for("answered")
                await hang_up_callee(await bridged_callback())
            assert other_phone.calls == 0
            follow = await db.fetchrow(
                "SELECT reason, number FROM callbacks WHERE case_id = $1", call["case_id"]
            )
            assert (follow["reason"], follow["number"]) == ("follow_up", ELDER_MOBILE)
        finally:
            await floor.undo()


async def test_a_local_holiday_moves_a_deadline(service: Service, db: asyncpg.Connection) -> None:
    await service.start()
    import aiohttp

    async with aiohttp.ClientSession() as http:
        floor = Floor(service, http)
        case_id = await new_case(db)
        org = await department(db)
        calendar = await service_calendar(sqlalchemy_url(service.database))
        now = dt.datetime.now(dt.UTC)
        try:
            plain = calendar.deadline(now, 3, tz=TZ)
        except Exception:  # no published calendar for the days ahead: nothing to compare
            pytest.skip("the official calendar does not cover the next working days")
        first = calendar.add_working_days(now.astimezone(TZ).date(), 1)
        day = first.isoformat()
        made = await floor.api("POST", "/api/calendar/exceptions", {"day": day, "kind": "holiday"})
        assert made == {"day": day, "kind": "holiday", "note": None}
        try:
            tasks = await floor.api("POST", f"/api/cases/{case_id}/complaint", {"org_id": org})
            moved = dt.datetime.fromisoformat(tasks["handling"]["due_at"])
            calendar.set_local(frozenset({first}), frozenset())
            assert moved == calendar.deadline(now, 3, tz=TZ) > plain
            listed = await floor.api("GET", "/api/calendar/exceptions")
            assert {"day": day, "kind": "holiday", "note": None} in listed
            audit = await db.fetchrow(
                "SELECT actor, action FROM audit_log WHERE entity = 'calendar' AND entity_id = $1",
                day,
            )
            assert (audit["actor"], audit["action"]) == ("env-admin", "create")
        finally:
            await floor.api("DELETE", f"/api/calendar/exceptions/{day}")
