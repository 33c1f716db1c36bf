"""Calls end to end: SIPp callers -> Asterisk 22 sandbox -> hotline service -> PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from typing import Any

import asyncpg
import pytest

from tests.integration import sipp
from tests.integration.conftest import ARI_PORT, Service, ari_get
from tests.integration.proxy import CuttableProxy

pytestmark = pytest.mark.integration

ELDER_MOBILE = "13800000001"  # 王秀英 in the demo data
SON = "13900000011"  # her tier-1 contact
TERMINAL = "18600000001"  # her one-key terminal
SHARED_LINE = "01066661234"  # 李建国 and 张桂兰's home line
STRANGER = "13700000099"


async def finished_call(db: asyncpg.Connection, since: dt.datetime, **where: Any) -> Any:
    """The call that started after ``since`` and has ended, once the recorder wrote it."""
    clauses = " ".join(f"AND {k} = ${i + 2}" for i, k in enumerate(where))
    async with asyncio.timeout(15):
        while True:
            row = await db.fetchrow(
                f"SELECT * FROM calls WHERE started_at >= $1 AND ended_at IS NOT NULL {clauses}"
                " ORDER BY started_at DESC LIMIT 1",
                since,
                *where.values(),
            )
            if row is not None:
                return row
            await asyncio.sleep(0.1)


CALLBACK_CALL_STEPS = frozenset(
    {"callback_queued", "callback_offered", "callback_attempt", "callback_done"}
)


async def steps(db: asyncpg.Connection, case_id: Any, *, callbacks: bool = False) -> list[str]:
    """The case's timeline; without `callbacks`, leaving out the steps of the calls placed
    for its callback (which go on after the caller's own call has ended)."""
    rows = await db.fetch(
        "SELECT kind FROM case_events WHERE case_id = $1 ORDER BY at, id", case_id
    )
    kinds = [r["kind"] for r in rows]
    return kinds if callbacks else [k for k in kinds if k not in CALLBACK_CALL_STEPS]


async def nothing_left_in_asterisk() -> None:
    async with asyncio.timeout(10):
        while await asyncio.to_thread(ari_get, "/channels") or await asyncio.to_thread(
            ari_get, "/bridges"
        ):
            await asyncio.sleep(0.1)


async def elder_id(db: asyncpg.Connection, number: str) -> int:
    return int(await db.fetchval("SELECT elder_id FROM elder_phones WHERE number = $1", number))


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def step_recorded(
    db: asyncpg.Connection, since: dt.datetime, kind: str, limit: float = 10.0
) -> None:
    """Wait until a call started after ``since`` has the timeline step ``kind`` stored."""
    async with asyncio.timeout(limit):
        while not await db.fetchval(
            "SELECT count(*) FROM calls c JOIN case_events e ON e.case_id = c.case_id"
            " WHERE c.started_at >= $1 AND e.kind = $2",
            since,
            kind,
        ):
            await asyncio.sleep(0.05)


async def test_known_elder_is_answered_greeted_identified_and_recorded(
    service: Service, db: asyncpg.Connection
) -> None:
    await service.start()
    since = now()
    run = await sipp.call("12349", "+86 138 0000 0001".replace(" ", ""), hold_ms=4000)
    assert run.ok, run.output
    call = await finished_call(db, since)
    assert call["entry"] == "hotline"
    assert call["caller_number"] == ELDER_MOBILE
    assert call["caller_kind"] == "elder"
    assert call["elder_id"] == await elder_id(db, ELDER_MOBILE)
    assert call["answered_at"] - call["started_at"] < dt.timedelta(seconds=1)
    assert call["ended_by"] == "caller"
    assert call["end_cause"] == 16  # normal clearing, from ChannelDestroyed
    case = await db.fetchrow("SELECT * FROM cases WHERE id = $1", call["case_id"])
    assert case["identified"] and case["class"] is None
    assert case["elder_id"] == call["elder_id"]
    assert call["queue_id"] == await db.fetchval("SELECT id FROM queues WHERE name = 'general'")
    assert await steps(db, case["id"]) == [
        "call_received",
        "queued",  # at once: the greeting plays while the caller already waits (R1)
        "greeted",
        "callback_due",  # nobody was free: hanging up while waiting is an abandoned call
        "caller_hung_up",
    ]
    # ... and the callback waits in the queue for an operator at once, below live callers
    await step_recorded(db, since, "callback_queued")
    assert case["status"] == "callback_due"
    callback = await db.fetchrow("SELECT * FROM callbacks WHERE case_id = $1", case["id"])
    assert callback["reason"] == "abandoned" and callback["number"] == ELDER_MOBILE
    assert 3 < callback["waited_s"] <= 4.5  # queued at once: it waited all its 4 s
    await nothing_left_in_asterisk()
    listed = service.api("/api/cases?limit=5")
    assert any(c["id"] == str(case["id"]) for c in listed)


@pytest.mark.parametrize(
    ("number", "kind", "identified"),
    [
        (STRANGER, "unknown", False),
        ("anonymous", "anonymous", False),
        (SON, "contact", True),
        (SHARED_LINE, "elder", False),
    ],
)
async def test_every_caller_is_answered_and_gets_a_case(
    service: Service, db: asyncpg.Connection, number: str, kind: str, identified: bool
) -> None:
    await service.start()
    since = now()
    run = await sipp.call("12349", number, hold_ms=3000)
    assert run.ok, run.output
    call = await finished_call(db, since)
    assert call["answered_at"] is not None
    assert call["caller_kind"] == kind
    case = await db.fetchrow("SELECT * FROM cases WHERE id = $1", call["case_id"])
    assert case["identified"] is identified
    received = json.loads(
        await db.fetchval(
            "SELECT detail FROM case_events WHERE case_id = $1 AND kind = 'call_received'",
            case["id"],
        )
    )
    assert received["caller_kind"] == kind
    if number == SHARED_LINE:  # both elders of the shared line, for the operator to pick
        assert received["candidates"] == [2, 3]


async def test_one_key_terminal_opens_an_emergency_case(
    service: Service, db: asyncpg.Connection
) -> None:
    await service.start()
    since = now()
    run = await sipp.call("1", TERMINAL, hold_ms=3000, from_ip=sipp.TERMINAL_GATEWAY_IP)
    assert run.ok, run.output
    call = await finished_call(db, since)
    assert (call["entry"], call["caller_kind"]) == ("terminal", "terminal")
    assert call["elder_id"] == await elder_id(db, ELDER_MOBILE)
    case = await db.fetchrow("SELECT class, channel FROM cases WHERE id = $1", call["case_id"])
    assert (case["class"], case["channel"]) == ("emergency", "terminal")


async def test_life_help_line_is_its_own_entry(service: Service, db: asyncpg.Connection) -> None:
    await service.start()
    since = now()
    run = await sipp.call("123492", ELDER_MOBILE, hold_ms=2500)
    assert run.ok, run.output
    call = await finished_call(db, since)
    assert call["entry"] == "lifehelp"
    assert (
        await db.fetchval("SELECT class FROM cases WHERE id = $1", call["case_id"]) == "life_help"
    )


async def test_caller_hanging_up_during_the_greeting(
    service: Service, db: asyncpg.Connection
) -> None:
    await service.start()
    since = now()
    run = await sipp.call("12349", STRANGER, hold_ms=300)
    assert run.ok, run.output
    call = await finished_call(db, since)
    assert call["ended_by"] == "caller"
    kinds = await steps(db, call["case_id"])
    assert "greeted" not in kinds
    assert kinds[-1] == "caller_hung_up"
    await nothing_left_in_asterisk()


async def test_call_parked_across_a_service_crash_is_picked_up_and_completed(
    service: Service, db: asyncpg.Connection
) -> None:
    await service.start()
    since = now()
    caller = asyncio.create_task(sipp.call("12349", ELDER_MOBILE, hold_ms=12000))
    await step_recorded(db, since, "queued")
    assert await service.stop(signal.SIGKILL) == -signal.SIGKILL
    await asyncio.sleep(1)
    await service.start()  # reconciles: the parked channel is adopted
    run = await caller
    assert run.ok, run.output
    call = await finished_call(db, since)
    assert call["ended_by"] == "caller"
    assert call["caller_kind"] == "elder"
    kinds = await steps(db, call["case_id"])
    assert "resumed" in kinds
    assert kinds.count("call_received") == 1  # resumed, not received a second time
    assert kinds[-1] == "caller_hung_up"
    assert await db.fetchval("SELECT count(*) FROM calls WHERE started_at >= $1", since) == 1
    await nothing_left_in_asterisk()


async def test_service_down_rings_the_duty_phone(asterisk: None) -> None:
    duty = asyncio.create_task(sipp.duty_phone(limit=40))
    await asyncio.sleep(0.5)
    run = await sipp.call("12349", ELDER_MOBILE, hold_ms=3000, limit=40)
    assert run.ok, run.output
    answered = await duty
    assert answered.ok, answered.output


async def test_overflow_to_the_fallback_rings_the_duty_phone(
    service: Service, db: asyncpg.Connection
) -> None:
    await db.execute(
        "UPDATE queues SET overflow_after_s = 2, overflow_target = 'fallback'"
        " WHERE name = 'general'"
    )
    try:
        await service.start()
    finally:
        await db.execute(
            "UPDATE queues SET overflow_after_s = 180, overflow_target = 'supervisors'"
            " WHERE name = 'general'"
        )
    duty = asyncio.create_task(sipp.duty_phone(limit=40))
    since = now()
    run = await sipp.call("12349", STRANGER, hold_ms=10000, limit=40)
    assert run.ok, run.output
    assert (await duty).ok
    call = await finished_call(db, since)
    assert call["ended_by"] == "fallback"
    kinds = await steps(db, call["case_id"])
    assert kinds[-4:] == ["queued", "greeted", "overflowed", "handed_to_fallback"]


async def test_shutdown_hands_live_calls_to_the_duty_phone(
    service: Service, db: asyncpg.Connection
) -> None:
    await service.start()
    duty = asyncio.create_task(sipp.duty_phone(limit=40))
    since = now()
    caller = asyncio.create_task(sipp.call("12349", STRANGER, hold_ms=12000, limit=40))
    async with asyncio.timeout(10):
        while not await db.fetchval(
            "SELECT count(*) FROM calls WHERE started_at >= $1 AND answered_at IS NOT NULL", since
        ):
            await asyncio.sleep(0.1)
    assert await service.stop(signal.SIGTERM) == 0
    assert (await caller).ok
    assert (await duty).ok
    call = await finished_call(db, since)
    assert call["ended_by"] == "fallback"


async def test_wrong_ari_credentials_are_one_clear_line(service: Service) -> None:
    env = service.env(HOTLINE_ARI_PASSWORD="wrong")
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "hotline", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "HOTLINE_ARI_PASSWORD" in lines[0] and "wrong" not in lines[0]


async def test_api_needs_the_token(service: Service) -> None:
    await service.start()
    with pytest.raises(urllib.error.HTTPError) as err:
        await asyncio.to_thread(
            urllib.request.urlopen, f"http://127.0.0.1:{service.port}/api/calls", timeout=5
        )
    err.value.close()
    assert err.value.code == 401


async def test_dropped_ari_socket_the_call_goes_on_and_is_completed(
    service: Service, db: asyncpg.Connection
) -> None:
    async with CuttableProxy("127.0.0.1", ARI_PORT) as proxy:
        await service.start(HOTLINE_ARI_URL=f"http://127.0.0.1:{proxy.port}")
        since = now()
        caller = asyncio.create_task(sipp.call("12349", ELDER_MOBILE, hold_ms=9000))
        await step_recorded(db, since, "queued")
        proxy.drop()
        await asyncio.sleep(2)
        proxy.restore()
        run = await caller  # hangs up after the socket is back
        assert run.ok, run.output
        call = await finished_call(db, since)
        assert call["ended_by"] == "caller"
        assert (await steps(db, call["case_id"]))[-1] == "caller_hung_up"
    await nothing_left_in_asterisk()


async def test_caller_gone_while_the_socket_was_down_is_closed_as_lost(
    service: Service, db: asyncpg.Connection
) -> None:
    async with CuttableProxy("127.0.0.1", ARI_PORT) as proxy:
        await service.start(HOTLINE_ARI_URL=f"http://127.0.0.1:{proxy.port}")
        since = now()
        caller = asyncio.create_task(sipp.call("12349", STRANGER, hold_ms=4500))
        await step_recorded(db, since, "queued")
        proxy.drop()
        run = await caller  # hangs up while nobody listens: the event is lost
        assert run.ok, run.output
        proxy.restore()  # reconciliation finds the channel gone
        call = await finished_call(db, since)
        assert call["ended_by"] == "lost"
        assert (await steps(db, call["case_id"]))[-1] == "call_lost"
    await nothing_left_in_asterisk()


async def test_without_a_greeting_the_call_goes_straight_to_the_queue(
    service: Service, db: asyncpg.Connection
) -> None:
    await service.start(HOTLINE_GREETING="")
    since = now()
    run = await sipp.call("12349", STRANGER, hold_ms=2000)
    assert run.ok, run.output
    call = await finished_call(db, since)
    assert call["ended_by"] == "caller"
    assert await steps(db, call["case_id"]) == [
        "call_received",
        "queued",
        "callback_due",
        "caller_hung_up",
    ]


async def test_identified_from_memory_while_the_database_is_down(
    service: Service, db: asyncpg.Connection
) -> None:
    """The directory index answers while PostgreSQL is unreachable: a known elder is still
    an elder, not "unverified", and the call's record lands once the database is back."""
    async with CuttableProxy("127.0.0.1", 5432) as pg:
        url = service.env()["HOTLINE_DATABASE_URL"].replace(":5432/", f":{pg.port}/")
        await service.start(HOTLINE_DATABASE_URL=url)
        pg.drop()  # every connection cut, new ones refused
        since = now()
        run = await sipp.call("12349", ELDER_MOBILE, hold_ms=3000)
        assert run.ok, run.output
        assert await db.fetchval("SELECT count(*) FROM calls WHERE started_at >= $1", since) == 0
        pg.restore()  # the spooled records are written now
        call = await finished_call(db, since)
    assert call["caller_kind"] == "elder"
    assert call["elder_id"] == await elder_id(db, ELDER_MOBILE)
    kinds = await steps(db, call["case_id"])
    assert kinds[0] == "call_received" and kinds[-1] == "caller_hung_up"
