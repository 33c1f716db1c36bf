"""Operator queues end to end: SIPp callers and SIPp softphones on the real Asterisk, the
service configured through its own admin API, the outcome read from PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import signal

import asyncpg
import pytest

from tests.integration import sipp
from tests.integration.conftest import ari_get
from tests.integration.floorkit import Floor
from tests.integration.test_calls import (
    ELDER_MOBILE,
    STRANGER,
    TERMINAL,
    finished_call,
    nothing_left_in_asterisk,
    step_recorded,
    steps,
)

pytestmark = pytest.mark.integration


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def test_operator_answers_and_the_caller_is_bridged_to_them(
    floor: Floor, db: asyncpg.Connection
) -> None:
    queue = await floor.queue()
    await floor.route("hotline", queue)
    op_id, phone = await floor.operator({queue: 0})
    since = now()
    run = await sipp.call("12349", ELDER_MOBILE, hold_ms=6000)
    assert run.ok, run.output
    await phone.wait_for("ended")  # the caller's hang-up reached the operator as a BYE
    call = await finished_call(db, since)
    assert call["operator_id"] == op_id
    assert call["connected_at"] is not None and call["ended_by"] == "caller"
    assert call["connected_at"] - call["queued_at"] < dt.timedelta(seconds=3)
    case = await db.fetchrow("SELECT * FROM cases WHERE id = $1", call["case_id"])
    assert case["owner_operator_id"] == op_id and case["status"] == "in_progress"  # R14
    kinds = await steps(db, case["id"])
    assert kinds[kinds.index("queued") :] == [
        "queued",
        "offered",
        "operator_answered",
        "caller_hung_up",
    ]
    history = [
        r["state"]
        for r in await db.fetch(
            "SELECT state FROM operator_state_changes WHERE operator_id = $1 ORDER BY at, id",
            op_id,
        )
    ]
    assert history[-3:] == ["on_call", "wrap_up", "ready"] or history[-2:] == ["on_call", "wrap_up"]
    assert phone.answered == 1


async def test_emergency_is_offered_before_calls_that_waited_longer(
    floor: Floor, db: asyncpg.Connection
) -> None:
    general = await floor.queue()
    emergency = await floor.queue()
    await floor.route("hotline", general)
    await floor.route("terminal", emergency)
    op_id, _ = await floor.operator({general: 0, emergency: 0}, ready=False)
    since = now()
    first = asyncio.create_task(sipp.call("12349", STRANGER, hold_ms=9000))
    await asyncio.sleep(3)  # the ordinary call is waiting
    second = asyncio.create_task(
        sipp.call("1", TERMINAL, hold_ms=5000, from_ip=sipp.TERMINAL_GATEWAY_IP)
    )
    await asyncio.sleep(3)  # greeted and queued too
    await floor.state(op_id, "ready")
    assert (await second).ok and (await first).ok
    rows = await db.fetch(
        "SELECT entry, connected_at FROM calls WHERE started_at >= $1 ORDER BY started_at", since
    )
    assert [r["entry"] for r in rows] == ["hotline", "terminal"]
    ordinary, terminal = rows
    assert terminal["connected_at"] is not None
    assert ordinary["connected_at"] is None or ordinary["connected_at"] > terminal["connected_at"]


async def test_longest_idle_operator_is_offered_first(floor: Floor, db: asyncpg.Connection) -> None:
    queue = await floor.queue()
    await floor.route("hotline", queue)
    idle_longer, _ = await floor.operator({queue: 0})
    await asyncio.sleep(1)
    _, _ = await floor.operator({queue: 0})
    since = now()
    assert (await sipp.call("12349", STRANGER, hold_ms=4000)).ok
    call = await finished_call(db, since)
    assert call["operator_id"] == idle_longer


async def test_ring_out_pauses_the_operator_and_the_next_one_answers(
    floor: Floor, db: asyncpg.Connection
) -> None:
    queue = await floor.queue(ring_timeout_s=3)
    await floor.route("hotline", queue)
    sleepy, sleepy_phone = await floor.operator({queue: 0}, behaviour="ringout")
    await asyncio.sleep(1)
    awake, _ = await floor.operator({queue: 0})
    since = now()
    assert (await sipp.call("12349", STRANGER, hold_ms=10000)).ok
    call = await finished_call(db, since)
    assert call["operator_id"] == awake
    assert sleepy_phone.calls == 1 and sleepy_phone.answered == 0
    kinds = await steps(db, call["case_id"])
    assert "offer_rang_out" in kinds
    # the supervisor sees who was paused, and why
    operator = await floor.api("GET", f"/api/operators/{sleepy}")
    assert (operator["state"], operator["state_reason"]) == ("paused", "rang_out")


async def test_busy_operator_is_skipped_but_not_paused(
    floor: Floor, db: asyncpg.Connection
) -> None:
    queue = await floor.queue()
    await floor.route("hotline", queue)
    busy, busy_phone = await floor.operator({queue: 0}, behaviour="busy")
    await asyncio.sleep(1)
    free, _ = await floor.operator({queue: 0})
    since = now()
    assert (await sipp.call("12349", STRANGER, hold_ms=6000)).ok
    call = await finished_call(db, since)
    assert call["operator_id"] == free
    assert busy_phone.calls == 1
    assert (await floor.api("GET", f"/api/operators/{busy}"))["state"] == "ready"


async def test_unregistered_softphone_is_never_offered(
    floor: Floor, db: asyncpg.Connection
) -> None:
    queue = await floor.queue()
    await floor.route("hotline", queue)
    absent, _ = await floor.operator({queue: 0}, register=False)  # ready, longest idle
    await asyncio.sleep(1)
    present, _ = await floor.operator({queue: 0})
    since = now()
    assert (await sipp.call("12349", STRANGER, hold_ms=4000)).ok
    call = await finished_call(db, since)
    assert call["operator_id"] == present
    details = await db.fetch(
        "SELECT detail FROM case_events WHERE case_id = $1 AND kind = 'offered'", call["case_id"]
    )
    assert all(str(absent) not in d["detail"] for d in details)


@pytest.mark.parametrize("line_cap", [1, 2])
async def test_line_cap_limits_calls_at_once(
    floor: Floor, db: asyncpg.Connection, line_cap: int
) -> None:
    queue = await floor.queue()
    await floor.route("hotline", queue)
    _, phone = await floor.operator({queue: 0}, line_cap=line_cap)
    since = now()
    first = asyncio.create_task(sipp.call("12349", STRANGER, hold_ms=9000))
    await asyncio.sleep(4)
    second = asyncio.create_task(sipp.call("12349", ELDER_MOBILE, hold_ms=4000))
    assert (await first).ok and (await second).ok
    async with asyncio.timeout(10):  # both ends written by the recorder
        while True:
            rows = await db.fetch(
                "SELECT connected_at, ended_at FROM calls WHERE started_at >= $1"
                " ORDER BY started_at",
                since,
            )
            if len(rows) == 2 and all(r["ended_at"] for r in rows):
                break
            await asyncio.sleep(0.1)
    assert rows[0]["connected_at"] is not None
    if line_cap == 1:
        assert rows[1]["connected_at"] is None  # never offered while the first went on
        assert phone.calls == 1
    else:
        assert rows[1]["connected_at"] is not None
        assert rows[1]["connected_at"] < rows[0]["ended_at"]  # two lines at once
        assert phone.calls == 2


async def test_overflow_moves_the_call_to_the_next_queue(
    floor: Floor, db: asyncpg.Connection
) -> None:
    backup = await floor.queue()
    first = await floor.queue(overflow_after_s=2, overflow_target=backup)
    await floor.route("hotline", first)
    op_id, _ = await floor.operator({backup: 0})
    since = now()
    assert (await sipp.call("12349", STRANGER, hold_ms=8000)).ok
    call = await finished_call(db, since)
    assert call["operator_id"] == op_id
    assert call["overflowed_at"] is not None
    assert call["queue_id"] == await db.fetchval("SELECT id FROM queues WHERE name = $1", backup)
    kinds = await steps(db, call["case_id"])
    assert kinds.index("overflowed") < kinds.index("operator_answered")


async def test_admin_change_applies_to_a_call_already_waiting(
    floor: Floor, db: asyncpg.Connection
) -> None:
    queue = await floor.queue()
    await floor.route("hotline", queue)
    op_id, _ = await floor.operator({})  # ready, in no queue
    since = now()
    caller = asyncio.create_task(sipp.call("12349", STRANGER, hold_ms=9000))
    await asyncio.sleep(4)  # waiting, nobody to offer it to
    await floor.api("PUT", f"/api/queues/{queue}/members/{op_id}", {"penalty": 0})
    assert (await caller).ok
    call = await finished_call(db, since)
    assert call["operator_id"] == op_id


def _closed_now() -> tuple[str, str]:
    local = dt.datetime.now(dt.timezone(dt.timedelta(hours=8)))  # the service's Asia/Shanghai
    opens = (local + dt.timedelta(hours=2)).strftime("%H:%M")
    closes = (local + dt.timedelta(hours=3)).strftime("%H:%M")
    return opens, closes


async def test_after_hours_caller_presses_1_for_a_callback(
    floor: Floor, db: asyncpg.Connection
) -> None:
    queue = await floor.queue()
    opens, closes = _closed_now()
    await floor.route("lifehelp", queue, opens=opens, closes=closes, after_hours_queue=queue)
    since = now()
    run = await sipp.call("123492", ELDER_MOBILE, scenario="caller_dtmf.xml", limit=30)
    assert run.ok, run.output
    call = await finished_call(db, since)
    # With an after-hours queue the caller waits in it at once while the prompt plays, and
    # the key asks for the callback instead (no prompt keeps an operator from a caller).
    assert call["ended_by"] == "service" and call["queued_at"] is not None
    callback = await db.fetchrow("SELECT * FROM callbacks WHERE call_id = $1", call["id"])
    assert callback["reason"] == "after_hours" and callback["number"] == ELDER_MOBILE
    kinds = await steps(db, call["case_id"])
    order = [k for k in kinds if k in ("after_hours", "queued", "callback_due")]
    assert order == ["after_hours", "queued", "callback_due"]
    assert "after_hours_told" in kinds


async def test_after_hours_caller_who_waits_reaches_the_24h_queue(
    floor: Floor, db: asyncpg.Connection
) -> None:
    queue, day_queue = await floor.queue(), await floor.queue()
    opens, closes = _closed_now()
    await floor.route("lifehelp", day_queue, opens=opens, closes=closes, after_hours_queue=queue)
    op_id, _ = await floor.operator({queue: 0})
    since = now()
    assert (await sipp.call("123492", ELDER_MOBILE, hold_ms=16000, limit=40)).ok
    call = await finished_call(db, since)
    assert call["operator_id"] == op_id
    assert call["queue_id"] == await db.fetchval("SELECT id FROM queues WHERE name = $1", queue)


async def test_a_conversation_survives_a_crash_of_the_service(
    floor: Floor, db: asyncpg.Connection
) -> None:
    queue = await floor.queue()
    await floor.route("hotline", queue)
    op_id, phone = await floor.operator({queue: 0})
    since = now()
    caller = asyncio.create_task(sipp.call("12349", STRANGER, hold_ms=16000, limit=40))
    await phone.wait_for("answered")
    # a kill loses what the recorder has not written yet
    await step_recorded(db, since, "operator_answered", limit=5)
    assert await floor.service.stop(signal.SIGKILL) == -signal.SIGKILL
    await floor.service.start()  # adopts the conversation as it is, in its bridge
    bridges = await asyncio.to_thread(ari_get, "/bridges")
    ours = [b for b in bridges if b["id"].startswith("hotline-call-")]
    assert len(ours) == 1 and len(ours[0]["channels"]) == 2  # caller and operator, still
    operator = (await floor.api("GET", "/api/floor"))["operators"][str(op_id)]
    assert operator["state"] == "on_call"  # the new process knows who is talking
    assert (await caller).ok  # the caller hung up after 16 s, never cut off
    await phone.wait_for("ended")  # ... and the operator heard it
    assert phone.calls == 1 and phone.answered == 1  # no second offer: nobody noticed
    call = await finished_call(db, since)
    assert call["ended_by"] == "caller" and call["operator_id"] == op_id
    kinds = await steps(db, call["case_id"])
    assert kinds.count("operator_answered") == 1 and kinds.count("call_received") == 1
    assert kinds[-2:] == ["resumed", "caller_hung_up"]
    await nothing_left_in_asterisk()


async def test_a_pause_set_during_a_call_holds_after_it(
    floor: Floor, db: asyncpg.Connection
) -> None:
    """Paused while talking: after the call the operator is paused, not ready, and stays so
    when the set-up is read again (any admin change reloads it)."""
    queue = await floor.queue(wrapup_s=0)
    await floor.route("hotline", queue)
    op_id, phone = await floor.operator({queue: 0})
    since = now()
    caller = asyncio.create_task(sipp.call("12349", STRANGER, hold_ms=5000))
    await phone.wait_for("answered")
    await floor.state(op_id, "paused", "meeting")
    assert (await caller).ok
    await finished_call(db, since)
    await phone.wait_for("ended")
    await floor.api("PATCH", f"/api/queues/{queue}", {"wrapup_s": 1})  # reloads the floor
    async with asyncio.timeout(5):
        while (await floor.api("GET", f"/api/operators/{op_id}"))["state"] != "paused":
            await asyncio.sleep(0.1)
    operator = await floor.api("GET", f"/api/operators/{op_id}")
    assert (operator["availability"], operator["state_reason"]) == ("paused", "meeting")
    view = await floor.api("GET", "/api/floor")
    assert view["operators"][str(op_id)]["state"] == "paused"
    second = asyncio.create_task(sipp.call("12349", STRANGER, hold_ms=2000))
    assert (await second).ok
    assert phone.calls == 1  # not offered while paused
