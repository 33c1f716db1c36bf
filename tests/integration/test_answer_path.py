"""R1 on the real stack (issue 14): the operator's softphone rings while the greeting plays
and the greeting stops the moment they answer (what the caller hears, measured at the
caller's phone); a known elder with an operator free hears no greeting at all; live callers
before callbacks; a callback waiting in its queue can be cancelled, one whose number is being
dialled cannot; two abandoned calls from one number make one callback."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from tests.integration import sipp
from tests.integration.conftest import SYNTHESISED_GREETING, Service
from tests.integration.floorkit import Floor
from tests.integration.outside import OutsidePhone
from tests.integration.test_callbacks import callback_closed
from tests.integration.test_calls import (
    ELDER_MOBILE,
    STRANGER,
    finished_call,
    nothing_left_in_asterisk,
    step_recorded,
    steps,
)
from tests.integration.tones import level
from tests.integration.voices import Voice, voiced_call, voiced_operator

pytestmark = pytest.mark.integration

CALLER_HZ, OPERATOR_HZ = 440.0, 1020.0
OTHER = "13700000042"  # a number no elder has


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@pytest.fixture
async def greeted_floor(service: Service) -> Any:
    """The service with its own default greeting (synthesised, 2.6 s), a Floor on it."""
    import aiohttp

    await service.start(HOTLINE_GREETING=SYNTHESISED_GREETING)
    async with aiohttp.ClientSession() as http:
        made = Floor(service, http)
        try:
            yield made
        finally:
            await made.undo()


async def step_at(db: asyncpg.Connection, case_id: Any, kind: str) -> Any:
    async with asyncio.timeout(10):
        while True:
            row = await db.fetchrow(
                "SELECT at, detail FROM case_events WHERE case_id = $1 AND kind = $2 "
                "ORDER BY at LIMIT 1",
                case_id,
                kind,
            )
            if row is not None:
                return {"at": row["at"], "detail": json.loads(row["detail"])}
            await asyncio.sleep(0.1)


async def test_the_operator_rings_during_the_greeting_and_their_answer_stops_it(
    greeted_floor: Floor, db: asyncpg.Connection, tmp_path: Path
) -> None:
    floor = greeted_floor
    queue = await floor.queue(ring_timeout_s=15)
    await floor.route("hotline", queue)
    since = now()
    async with Voice(sipp.CARRIER_IP, CALLER_HZ) as caller, Voice("127.0.0.61", OPERATOR_HZ) as op:
        _, phone = await voiced_operator(floor, {queue: 0}, op)
        call = asyncio.create_task(
            voiced_call(caller, "12349", STRANGER, hold_ms=7000, folder=tmp_path)
        )
        await phone.wait_for("answered", limit=10)
        # From the operator's answer on, the caller hears the operator, not the rest of the
        # greeting (which, played to its end, would fill the next two seconds).
        await asyncio.sleep(0.3)
        heard = await caller.hears(1.2)
        assert (await call).ok
    tone, other = level(heard, OPERATOR_HZ), level(heard, 700.0)
    assert tone > 20 * max(other, 1.0), (tone, other)
    row = await finished_call(db, since)
    case_id = row["case_id"]
    offered = await step_at(db, case_id, "offered")
    greeted = await step_at(db, case_id, "greeted")
    answered = await step_at(db, case_id, "operator_answered")
    assert greeted["detail"]["stopped"] is True
    # Rung at once: while the greeting (2.6 s) still played, not after it.
    assert (offered["at"] - row["answered_at"]).total_seconds() < 0.5
    assert greeted["at"] <= answered["at"] + dt.timedelta(seconds=0.5)
    await nothing_left_in_asterisk()


async def test_a_known_elder_skips_the_greeting_when_an_operator_is_free(
    greeted_floor: Floor, db: asyncpg.Connection
) -> None:
    floor = greeted_floor
    queue = await floor.queue()
    await floor.route("hotline", queue)
    _, phone = await floor.operator({queue: 0}, ring_ms=500)
    since = now()
    run = asyncio.create_task(sipp.call("12349", ELDER_MOBILE, hold_ms=3000))
    await phone.wait_for("answered", limit=10)
    assert (await run).ok
    row = await finished_call(db, since)
    kinds = await steps(db, row["case_id"])
    assert "greeting_skipped" in kinds and "greeted" not in kinds
    skipped = await step_at(db, row["case_id"], "greeting_skipped")
    assert skipped["detail"] == {"reason": "operator_free"}


async def test_no_callback_is_offered_while_a_live_caller_waits(
    greeted_floor: Floor, db: asyncpg.Connection
) -> None:
    """A callback due in the queue, the operator away; a live caller arrives and is greeted;
    the operator comes back: the caller is offered first, the callback only after."""
    floor = greeted_floor
    queue = await floor.queue(ring_timeout_s=10)
    await floor.route("hotline", queue)
    op_id, phone = await floor.operator({queue: 0}, ready=False, ring_ms=300)
    case_id = await _case(db)
    asked = await floor.api(
        "POST",
        "/api/callbacks",
        {"number": OTHER, "case_id": str(case_id), "queue": queue, "any_number": True},
    )
    await step_at(db, case_id, "callback_queued")  # its call waits: nobody is ready
    since = now()
    run = asyncio.create_task(sipp.call("12349", STRANGER, hold_ms=5000))
    await step_recorded(db, since, "queued")  # queued while the greeting plays
    await floor.state(op_id, "ready")
    await phone.wait_for("answered", limit=10)
    live = await finished_call(db, since, caller_number=STRANGER)
    assert live["operator_id"] == op_id
    assert "callback_offered" not in await steps(db, case_id, callbacks=True)
    assert (await run).ok
    await floor.api("POST", f"/api/callbacks/{asked['id']}/cancel")


async def test_a_callback_waiting_in_its_queue_can_be_cancelled_not_while_dialled(
    floor: Floor, db: asyncpg.Connection
) -> None:
    queue = await floor.queue(ring_timeout_s=10)
    await floor.route("hotline", queue)
    op_id, phone = await floor.operator({queue: 0}, ready=False)
    waiting = await floor.api(
        "POST",
        "/api/callbacks",
        {"number": OTHER, "case_id": str(await _case(db)), "queue": queue, "any_number": True},
    )
    await asyncio.sleep(0.5)  # its call waits in the queue: nobody is ready
    cancelled = await floor.api("POST", f"/api/callbacks/{waiting['id']}/cancel")
    assert cancelled == {"status": "cancelled"}
    assert (await callback_closed(db, waiting["id"]))["status"] == "cancelled"

    async with OutsidePhone("ringout") as elder:
        dialled = await floor.api(
            "POST",
            "/api/callbacks",
            {"number": OTHER, "case_id": str(await _case(db)), "queue": queue, "any_number": True},
        )
        await floor.state(op_id, "ready")
        await phone.wait_for("answered", limit=10)  # the operator takes it ...
        await elder.wait_for("invite", limit=10)  # ... and the number rings now
        url = f"http://127.0.0.1:{floor.service.port}/api/callbacks/{dialled['id']}/cancel"
        async with floor.http.post(
            url, headers={"Authorization": "Bearer test-admin-token-of-the-suite-0123456789"}
        ) as r:
            assert r.status == 409
            assert "being dialled" in (await r.json())["detail"]
    await asyncio.sleep(1)


async def test_two_abandoned_calls_from_one_number_make_one_callback(
    floor: Floor, db: asyncpg.Connection
) -> None:
    queue = await floor.queue()
    await floor.route("hotline", queue)
    since = now()
    for _ in range(2):
        assert (await sipp.call("12349", STRANGER, hold_ms=1500)).ok
    first = await finished_call(db, since, caller_number=STRANGER)
    second = await db.fetchrow(
        "SELECT * FROM calls WHERE caller_number = $1 AND started_at > $2 AND id <> $3",
        STRANGER,
        since,
        first["id"],
    )
    pending = await db.fetch(
        "SELECT id, case_id FROM callbacks WHERE number = $1 AND created_at > $2",
        STRANGER,
        since,
    )
    assert len(pending) == 1
    merged = await step_at(db, second["case_id"], "callback_merged")
    assert merged["detail"]["callback_id"] == str(pending[0]["id"])
    await floor.api("POST", f"/api/callbacks/{pending[0]['id']}/cancel")


async def _case(db: asyncpg.Connection) -> uuid.UUID:
    case_id = uuid.uuid4()
    await db.execute(
        "INSERT INTO cases (id, opened_at, status, channel, identified) "
        "VALUES ($1, now(), 'in_progress', 'hotline', false)",
        case_id,
    )
    return case_id
