"""Transfers (R5) of a connected call, asked through the API, on the real stack."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import asyncpg
import pytest

from tests.integration import sipp
from tests.integration.floorkit import Floor
from tests.integration.test_calls import STRANGER, finished_call, steps

pytestmark = pytest.mark.integration


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def call_in_progress(db: asyncpg.Connection, since: dt.datetime) -> str:
    async with asyncio.timeout(10):
        while True:
            call_id = await db.fetchval(
                "SELECT id FROM calls WHERE started_at >= $1 AND connected_at IS NOT NULL"
                " ORDER BY started_at DESC LIMIT 1",
                since,
            )
            if call_id is not None:
                return str(call_id)
            await asyncio.sleep(0.1)


async def transfer(floor: Floor, call_id: str, body: dict[str, Any], suffix: str = "") -> Any:
    return await floor.api("POST", f"/api/calls/{call_id}/transfer{suffix}", body)


async def test_blind_transfer_to_another_queue(floor: Floor, db: asyncpg.Connection) -> None:
    first, other = await floor.queue(), await floor.queue()
    await floor.route("hotline", first)
    op_a, phone_a = await floor.operator({first: 0})
    op_b, phone_b = await floor.operator({other: 0})
    since = now()
    caller = asyncio.create_task(sipp.call("12349", STRANGER, hold_ms=14000))
    await phone_a.wait_for("answered")
    call_id = await call_in_progress(db, since)
    assert await transfer(floor, call_id, {"queue": other}) == {"status": "transferring"}
    await phone_a.wait_for("ended")  # A is free at once
    await phone_b.wait_for("answered", limit=15)
    assert (await caller).ok
    await phone_b.wait_for("ended")
    call = await finished_call(db, since)
    assert call["operator_id"] == op_a  # the first operator keeps the case (R14)
    kinds = await steps(db, call["case_id"])
    assert kinds.count("operator_answered") == 2 and "transferred" in kinds
    assert call["queue_id"] == await db.fetchval("SELECT id FROM queues WHERE name = $1", other)
    assert op_b != op_a


async def test_blind_transfer_to_an_operator(floor: Floor, db: asyncpg.Connection) -> None:
    queue = await floor.queue()
    await floor.route("hotline", queue)
    _, phone_a = await floor.operator({queue: 0})
    op_b, phone_b = await floor.operator({}, ready=False)  # in no queue: reached directly
    since = now()
    caller = asyncio.create_task(sipp.call("12349", STRANGER, hold_ms=12000))
    await phone_a.wait_for("answered")
    call_id = await call_in_progress(db, since)
    await transfer(floor, call_id, {"operator_id": op_b})
    await phone_b.wait_for("answered", limit=15)
    assert (await caller).ok
    await phone_b.wait_for("ended")
    assert phone_a.counts["ended"] == 1


async def test_blind_transfer_to_an_outside_number(floor: Floor, db: asyncpg.Connection) -> None:
    queue = await floor.queue()
    await floor.route("hotline", queue)
    _, phone_a = await floor.operator({queue: 0})
    family = asyncio.create_task(sipp.duty_phone(ip=sipp.CARRIER_IP, limit=40))
    since = now()
    caller = asyncio.create_task(sipp.call("12349", STRANGER, hold_ms=12000))
    await phone_a.wait_for("answered")
    call_id = await call_in_progress(db, since)
    await transfer(floor, call_id, {"number": "13900000011"})  # the elder's son
    assert (await caller).ok
    reached = await family
    assert reached.ok, reached.output
    kinds = await steps(db, (await finished_call(db, since))["case_id"])
    assert "transferred" in kinds and "transfer_failed" not in kinds


async def test_attended_transfer_completed(floor: Floor, db: asyncpg.Connection) -> None:
    queue = await floor.queue()
    await floor.route("hotline", queue)
    _, phone_a = await floor.operator({queue: 0})
    op_b, phone_b = await floor.operator({}, ready=False)
    since = now()
    caller = asyncio.create_task(sipp.call("12349", STRANGER, hold_ms=15000))
    await phone_a.wait_for("answered")
    call_id = await call_in_progress(db, since)
    assert await transfer(floor, call_id, {"mode": "attended", "operator_id": op_b}) == {
        "status": "consulting"
    }
    await phone_b.wait_for("answered", limit=15)
    assert phone_a.counts["ended"] == 0  # A and B speak; the caller hears music
    assert await transfer(floor, call_id, {}, "/complete") == {"status": "completed"}
    await phone_a.wait_for("ended")
    assert (await caller).ok
    await phone_b.wait_for("ended")
    kinds = await steps(db, (await finished_call(db, since))["case_id"])
    assert kinds.index("consulting") < kinds.index("transferred")


async def test_attended_transfer_cancelled_returns_to_the_operator(
    floor: Floor, db: asyncpg.Connection
) -> None:
    queue = await floor.queue()
    await floor.route("hotline", queue)
    op_a, phone_a = await floor.operator({queue: 0})
    op_b, phone_b = await floor.operator({}, ready=False)
    since = now()
    caller = asyncio.create_task(sipp.call("12349", STRANGER, hold_ms=12000))
    await phone_a.wait_for("answered")
    call_id = await call_in_progress(db, since)
    await transfer(floor, call_id, {"mode": "attended", "operator_id": op_b})
    await phone_b.wait_for("answered", limit=15)
    assert await transfer(floor, call_id, {}, "/cancel") == {"status": "cancelled"}
    await phone_b.wait_for("ended")
    assert (await caller).ok
    await phone_a.wait_for("ended")  # the caller's hang-up, back with A
    call = await finished_call(db, since)
    assert call["operator_id"] == op_a
    assert "transfer_cancelled" in await steps(db, call["case_id"])


async def test_transfers_that_cannot_be_done_are_refused(
    floor: Floor, db: asyncpg.Connection
) -> None:
    queue = await floor.queue()
    await floor.route("hotline", queue)
    _, phone_a = await floor.operator({queue: 0})
    since = now()
    caller = asyncio.create_task(sipp.call("12349", STRANGER, hold_ms=9000))
    await phone_a.wait_for("answered")
    call_id = await call_in_progress(db, since)
    url = f"http://127.0.0.1:{floor.service.port}/api/calls/{call_id}/transfer"
    headers = {"Authorization": "Bearer test-admin-token-of-the-suite-0123456789"}
    cases = [
        ({"queue": "nosuchqueue"}, 409, "call_id"),
        ({"queue": queue, "number": "120"}, 422, "body"),
        ({"mode": "attended", "queue": queue}, 409, "call_id"),
        ({"number": "12x"}, 422, "number"),
        ({"queue": queue, "speed": 1}, 422, "speed"),
    ]
    for body, status, field in cases:
        async with floor.http.post(url, json=body, headers=headers) as response:
            data = await response.json()
            assert (response.status, data.get("field")) == (status, field), (body, data)
    async with floor.http.post(url, json={}, headers=headers, params=None) as response:
        assert response.status == 422
    unknown = url.replace(call_id, "00000000-0000-0000-0000-000000000000")
    async with floor.http.post(unknown, json={"queue": queue}, headers=headers) as response:
        assert response.status == 404
    assert (await caller).ok
