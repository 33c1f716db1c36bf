"""Callbacks on the real stack: a caller who hung up while waiting is called back. The
callback waits in its queue, an operator's SIPp softphone answers it, the service dials the
elder's number through the carrier trunk (a SIPp phone on the carrier's address) and bridges
the two; no answer or busy is tried again after the queue's spacing, then given up."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import asyncpg
import pytest

from tests.integration import sipp
from tests.integration.conftest import ari_get, ari_request
from tests.integration.floorkit import Floor
from tests.integration.outside import OutsidePhone
from tests.integration.test_calls import (
    ELDER_MOBILE,
    SON,
    finished_call,
    nothing_left_in_asterisk,
    step_recorded,
    steps,
)

pytestmark = pytest.mark.integration


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def abandoned_call(floor: Floor, db: asyncpg.Connection, queue: str) -> Any:
    """A caller who waits in `queue` with nobody ready and hangs up: their call row."""
    await floor.route("hotline", queue)
    since = now()
    run = await sipp.call("12349", ELDER_MOBILE, hold_ms=3000)
    assert run.ok, run.output
    call = await finished_call(db, since)
    assert call["connected_at"] is None and call["ended_by"] == "caller"
    return call


async def callback_of(db: asyncpg.Connection, case_id: Any) -> Any:
    async with asyncio.timeout(10):
        while True:
            row = await db.fetchrow("SELECT * FROM callbacks WHERE case_id = $1", case_id)
            if row is not None:
                return row
            await asyncio.sleep(0.1)


async def callback_closed(db: asyncpg.Connection, callback_id: Any, limit: float = 40) -> Any:
    async with asyncio.timeout(limit):
        while True:
            row = await db.fetchrow("SELECT * FROM callbacks WHERE id = $1", callback_id)
            if row["status"] != "pending":
                return row
            await asyncio.sleep(0.2)


async def bridged_callback() -> dict[str, Any]:
    """The bridge of a callback: the operator's leg and the number called, together."""
    async with asyncio.timeout(10):
        while True:
            for bridge in await asyncio.to_thread(ari_get, "/bridges") or []:
                channels = bridge["channels"]
                if (
                    bridge["id"].startswith("hotline-call-")
                    and len(channels) == 2
                    and any(c.startswith("hlop-") for c in channels)
                    and any(c.startswith("hlout-") for c in channels)
                ):
                    return dict(bridge)
            await asyncio.sleep(0.1)


async def hang_up_callee(bridge: dict[str, Any]) -> None:
    """The elder hangs up (Asterisk ends their leg, as a BYE from the carrier would)."""
    callee = next(c for c in bridge["channels"] if c.startswith("hlout-"))
    await asyncio.to_thread(ari_request, "DELETE", f"/channels/{callee}")


async def attempts(db: asyncpg.Connection, callback_id: Any) -> list[str]:
    rows = await db.fetch(
        "SELECT outcome FROM callback_attempts WHERE callback_id = $1 ORDER BY attempt",
        callback_id,
    )
    return [r["outcome"] for r in rows]


async def test_a_caller_who_hung_up_while_waiting_is_called_back(
    floor: Floor, db: asyncpg.Connection
) -> None:
    queue = await floor.queue(callback_attempts=2, callback_spacing_s=3)
    op_id, phone = await floor.operator({queue: 0}, ready=False)
    async with OutsidePhone("answer") as elder:
        call = await abandoned_call(floor, db, queue)
        callback = await callback_of(db, call["case_id"])
        assert (callback["reason"], callback["number"]) == ("abandoned", ELDER_MOBILE)
        assert callback["status"] == "pending" and callback["max_attempts"] == 2
        await step_recorded(db, call["started_at"], "callback_queued")
        assert phone.calls == 0  # it waits in the queue for an operator
        await floor.state(op_id, "ready")
        await phone.wait_for("answered")  # the operator takes the callback ...
        await elder.wait_for("answered")  # ... and the service rings the elder, who answers
        bridge = await bridged_callback()  # the two are talking
        await hang_up_callee(bridge)
        await phone.wait_for("ended")  # the elder hung up: the operator's call ends too
    done = await callback_closed(db, callback["id"])
    assert done["status"] == "talked" and done["done_by"] == op_id
    assert await attempts(db, callback["id"]) == ["answered"]
    kinds = await steps(db, call["case_id"], callbacks=True)
    tail = kinds[kinds.index("callback_due") :]
    assert [k for k in tail if k.startswith("callback_")] == [
        "callback_due",
        "callback_queued",
        "callback_offered",
        "callback_attempt",
        "callback_done",
    ]
    case = await db.fetchrow("SELECT * FROM cases WHERE id = $1", call["case_id"])
    assert case["owner_operator_id"] == op_id and case["status"] == "in_progress"
    await nothing_left_in_asterisk()


async def test_no_answer_then_answered_on_the_second_attempt(
    floor: Floor, db: asyncpg.Connection
) -> None:
    queue = await floor.queue(callback_attempts=3, callback_spacing_s=4)
    op_id, phone = await floor.operator({queue: 0}, ready=False)
    elder = OutsidePhone("ringout")
    await elder.start()
    try:
        call = await abandoned_call(floor, db, queue)
        callback = await callback_of(db, call["case_id"])
        await floor.state(op_id, "ready")
        await phone.wait_for("answered")
        await elder.wait_for("cancelled", limit=20)  # rang 6 s unanswered, then cancelled
        await step_recorded(db, call["started_at"], "callback_attempt")
        await phone.wait_for("ended")  # the operator heard nobody answered, and is free
        await elder.stop()
        elder = OutsidePhone("answer")  # the elder is home now
        await elder.start()
        await phone.wait_for("answered", 2, limit=20)  # the second attempt, after 4 s
        await elder.wait_for("answered")
        await hang_up_callee(await bridged_callback())
        done = await callback_closed(db, callback["id"])
    finally:
        await elder.stop()
    assert done["status"] == "talked" and done["attempts"] == 2
    assert await attempts(db, callback["id"]) == ["no_answer", "answered"]
    await nothing_left_in_asterisk()


async def test_given_up_after_the_last_attempt_and_the_supervisor_sees_it(
    floor: Floor, db: asyncpg.Connection
) -> None:
    queue = await floor.queue(callback_attempts=2, callback_spacing_s=2)
    op_id, phone = await floor.operator({queue: 0}, ready=False)
    async with OutsidePhone("busy") as elder:
        call = await abandoned_call(floor, db, queue)
        callback = await callback_of(db, call["case_id"])
        await floor.state(op_id, "ready")
        done = await callback_closed(db, callback["id"])
        assert elder.counts["busy"] == 2
    assert done["status"] == "given_up" and done["attempts"] == 2
    assert await attempts(db, callback["id"]) == ["busy", "busy"]
    assert phone.answered == 2  # the operator was offered each attempt
    listed = await floor.api("GET", "/api/callbacks?status=given_up")
    assert str(callback["id"]) in [c["id"] for c in listed]
    view = await floor.api("GET", "/api/floor")
    assert view["totals"]["callbacks_due"] == 0
    kinds = await steps(db, call["case_id"], callbacks=True)
    assert kinds.count("callback_attempt") == 2 and kinds[-1] == "callback_done"
    await nothing_left_in_asterisk()


async def test_a_callback_asked_for_through_the_api(floor: Floor, db: asyncpg.Connection) -> None:
    queue = await floor.queue()
    await floor.route("hotline", queue)
    op_id, phone = await floor.operator({queue: 0})
    since = now()
    run = await sipp.call("12349", ELDER_MOBILE, hold_ms=4000)  # answered, then hangs up
    assert run.ok, run.output
    call = await finished_call(db, since)
    assert call["operator_id"] == op_id
    await phone.wait_for("ended")
    due = now() + dt.timedelta(seconds=3)
    async with OutsidePhone("answer") as son:
        asked = await floor.api(
            "POST",
            "/api/callbacks",
            {"number": SON, "case_id": str(call["case_id"]), "due_at": due.isoformat()},
        )
        assert asked["status"] == "pending" and asked["queue"] == queue
        assert asked["reason"] == "requested" and asked["number"] == SON
        await asyncio.sleep(1.5)
        assert phone.calls == 1  # not before it is due
        await phone.wait_for("answered", 2, limit=15)
        await son.wait_for("answered")
        await hang_up_callee(await bridged_callback())
        done = await callback_closed(db, asked["id"])
    assert done["status"] == "talked" and done["requested_by"] == "env-admin"
    assert done["due_at"] == due.replace(microsecond=due.microsecond)  # as asked
    refused = await floor.http.post(
        f"http://127.0.0.1:{floor.service.port}/api/callbacks",
        json={"number": "not-a-number", "case_id": str(call["case_id"])},
        headers={"Authorization": "Bearer test-admin-token-of-the-suite-0123456789"},
    )
    assert refused.status == 422 and (await refused.json())["field"] == "number"
    await nothing_left_in_asterisk()
