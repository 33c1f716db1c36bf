"""Two controllers on one database (issue 16): one leads, one stands by warm; the standby
takes over a killed, frozen or stopped leader within seconds and keeps every call as it is.

Real `hotline serve` processes, the sandbox's Asterisk, SIPp callers and a softphone."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import signal
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from bench.common import free_tcp_port

from tests.integration import sipp
from tests.integration.conftest import ARI_PORT, Service, ari_get
from tests.integration.floorkit import Floor
from tests.integration.proxy import CuttableProxy
from tests.integration.test_calls import (
    STRANGER,
    finished_call,
    nothing_left_in_asterisk,
    step_recorded,
    steps,
)

pytestmark = pytest.mark.integration
TAKEOVER_S = 5.0  # the bound


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def http_get(service: Service, path: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{service.port}{path}", timeout=2) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


async def health(service: Service) -> dict[str, Any]:
    return await asyncio.to_thread(service.health)


async def until_role(service: Service, role: str, *, connected: bool, limit: float) -> float:
    """Seconds until the process says `role` and is ready: leading, with its events socket
    up; standing by, knowing who leads."""
    started = time.monotonic()
    async with asyncio.timeout(limit):
        while True:
            seen = await health(service)
            ready = seen.get("ari_connected") if connected else seen.get("leader")
            if seen.get("role") == role and ready:
                return time.monotonic() - started
            await asyncio.sleep(0.05)


async def undo_through(floor: Floor, other: Service) -> None:
    """If `other` leads now, undo the floor through it, before it stops (the floor's own
    undo, later, then finds nothing left to do)."""
    if floor.service is other:
        await floor.undo()
        floor.phones.clear()
        floor.lines.clear()
        floor.operators.clear()


@pytest.fixture
async def standby(floor: Floor, tmp_path: Path) -> AsyncIterator[Service]:
    """A second controller on the same database, standing by."""
    workdir = tmp_path / "standby"
    workdir.mkdir()
    other = Service(floor.service.database, workdir)
    other.port = free_tcp_port()
    await other.start_standby()
    yield other
    await undo_through(floor, other)
    if other.proc is not None:
        other.proc.send_signal(signal.SIGCONT)
        await other.stop()


async def bridges_of_ours() -> list[dict[str, Any]]:
    return [
        b
        for b in await asyncio.to_thread(ari_get, "/bridges")
        if b["id"].startswith("hotline-call-")
    ]


async def test_a_standby_answers_only_who_leads(floor: Floor, standby: Service) -> None:
    leader = floor.service
    status, body = await asyncio.to_thread(http_get, leader, "/api/leader")
    assert status == 200 and body["role"] == "leader" and body["epoch"] >= 1
    status, body = await asyncio.to_thread(http_get, standby, "/api/leader")
    assert status == 503 and body["role"] == "standby" and body["leader"]
    names = {c["name"]: c["role"] for c in body["controllers"] if c["alive"]}
    assert sorted(names.values()) == ["leader", "standby"]
    status, body = await asyncio.to_thread(http_get, standby, "/api/cases")
    assert status == 503 and body["error"] == "standby"
    assert (await health(standby))["ari_connected"] is False  # no events socket


async def test_a_killed_leader_is_replaced_within_5_s_and_every_caller_stays(
    floor: Floor, db: asyncpg.Connection, standby: Service
) -> None:
    """SIGKILL the leader with one caller talking to the only operator and another waiting
    in the queue: the standby leads within 5 s, the conversation goes on in its bridge, the
    waiting caller is offered to the operator when the first hangs up."""
    queue = await floor.queue(wrapup_s=0)
    await floor.route("hotline", queue)
    op_id, phone = await floor.operator({queue: 0})
    since = now()
    talking = asyncio.create_task(sipp.call("12349", STRANGER, hold_ms=14000, limit=40))
    await phone.wait_for("answered")
    await step_recorded(db, since, "operator_answered", limit=5)
    waiting = asyncio.create_task(sipp.call("12349", "13900000077", hold_ms=24000, limit=60))
    await asyncio.sleep(2)  # answered, greeted, queued: the only operator is busy
    killed = time.monotonic()
    assert await floor.service.stop(signal.SIGKILL) == -signal.SIGKILL
    took = await until_role(standby, "leader", connected=True, limit=TAKEOVER_S + 2)
    took = time.monotonic() - killed
    assert took < TAKEOVER_S, took
    floor.service = standby  # the floor's API is the new leader's
    ours = await bridges_of_ours()
    assert len(ours) == 1 and len(ours[0]["channels"]) == 2  # still talking
    operator = (await floor.api("GET", "/api/floor"))["operators"][str(op_id)]
    assert operator["state"] == "on_call"
    assert (await talking).ok  # never cut off
    assert (await waiting).ok  # answered by the operator after the first call
    await phone.wait_for("answered", 2, limit=20)
    first = await finished_call(db, since, caller_number=STRANGER)
    assert first["ended_by"] == "caller" and first["operator_id"] == op_id
    kinds = await steps(db, first["case_id"])
    assert kinds.count("operator_answered") == 1 and "resumed" in kinds
    await nothing_left_in_asterisk()


async def test_a_frozen_leader_wakes_deposed_and_acts_no_more(
    floor: Floor, db: asyncpg.Connection, standby: Service
) -> None:
    """SIGSTOP for 10 s: the standby takes over; SIGCONT: the old leader finds itself
    deposed (its lease is gone, Asterisk gave the app away) and touches nothing: the call
    it ran goes on with the new leader."""
    op_id, talking, since = await talking_call(floor, db, hold_ms=18000, limit=40)
    old = floor.service
    assert old.proc is not None
    old.proc.send_signal(signal.SIGSTOP)
    try:
        took = await until_role(standby, "leader", connected=True, limit=TAKEOVER_S + 2)
        assert took < TAKEOVER_S
        await asyncio.sleep(max(0.0, 10 - took))
    finally:
        old.proc.send_signal(signal.SIGCONT)
    await until_role(old, "standby", connected=False, limit=10)
    ours = await bridges_of_ours()
    assert len(ours) == 1 and len(ours[0]["channels"]) == 2  # the old leader hung up nobody
    assert "deposed" in old.log.read_text()
    floor.service = standby
    assert (await talking).ok
    call = await finished_call(db, since, caller_number=STRANGER)
    assert call["ended_by"] == "caller" and call["operator_id"] == op_id
    await nothing_left_in_asterisk()
    # The old process stands by again, ready to take over in its turn.
    status, body = await asyncio.to_thread(http_get, old, "/api/leader")
    assert status == 503 and body["leader"] and body["leader"] != old.api("/healthz")["name"]


async def test_sigterm_hands_the_calls_to_the_standby_in_under_a_second(
    floor: Floor, db: asyncpg.Connection, standby: Service
) -> None:
    op_id, talking, since = await talking_call(floor, db, hold_ms=9000, limit=40)
    old = floor.service
    assert old.proc is not None
    stopped = time.monotonic()
    old.proc.send_signal(signal.SIGTERM)
    await until_role(standby, "leader", connected=True, limit=5)
    took = time.monotonic() - stopped
    assert took < 1.0, took
    assert await asyncio.to_thread(old.proc.wait, 10) == 0
    old.proc = None
    floor.service = standby
    ours = await bridges_of_ours()
    assert len(ours) == 1 and len(ours[0]["channels"]) == 2  # not handed to the duty phones
    assert (await talking).ok
    call = await finished_call(db, since, caller_number=STRANGER)
    assert call["ended_by"] == "caller" and call["operator_id"] == op_id
    await nothing_left_in_asterisk()


@pytest.fixture
async def cut_floor(service: Service, tmp_path: Path) -> AsyncIterator[tuple[Floor, Cuts]]:
    """The leader reaching Asterisk and PostgreSQL each through a proxy a test can cut."""
    async with (
        CuttableProxy("127.0.0.1", ARI_PORT) as ari,
        CuttableProxy("127.0.0.1", 5432) as pg,
    ):
        url = service.env()["HOTLINE_DATABASE_URL"].replace(":5432/", f":{pg.port}/")
        await service.start(
            HOTLINE_ARI_URL=f"http://127.0.0.1:{ari.port}", HOTLINE_DATABASE_URL=url
        )
        async with aiohttp.ClientSession() as http:
            made = Floor(service, http)
            try:
                yield made, Cuts(ari, pg)
            finally:
                ari.restore()
                pg.restore()
                await made.undo()


@dataclass(frozen=True)
class Cuts:
    ari: CuttableProxy
    pg: CuttableProxy


async def talking_call(
    floor: Floor, db: asyncpg.Connection, *, hold_ms: int, limit: float
) -> tuple[Any, ...]:
    """A stranger's call talking to the only operator of a new queue, its answer recorded:
    the operator's id, the caller's SIPp task, when it began."""
    queue = await floor.queue()
    await floor.route("hotline", queue)
    op_id, phone = await floor.operator({queue: 0})
    since = now()
    talking = asyncio.create_task(sipp.call("12349", STRANGER, hold_ms=hold_ms, limit=limit))
    await phone.wait_for("answered")
    await step_recorded(db, since, "operator_answered", limit=5)
    return op_id, talking, since


@pytest.mark.parametrize("cut", ["ari", "pg"])
async def test_a_leader_cut_off_gives_way_and_the_call_goes_on(
    cut_floor: tuple[Floor, Cuts], db: asyncpg.Connection, tmp_path: Path, cut: str
) -> None:
    """Cut from Asterisk (3 s without its events socket, a standby alive: it gives way) or
    from PostgreSQL (it cannot renew its lease: it stops acting before the lease ends): the
    standby, which reaches both, leads within 5 s of the grace, the conversation goes on,
    and the old leader, reconnected, stands by."""
    floor, cuts = cut_floor
    workdir = tmp_path / "standby"
    workdir.mkdir()
    standby = Service(floor.service.database, workdir)
    standby.port = free_tcp_port()
    await standby.start_standby()
    old = floor.service
    try:
        op_id, talking, since = await talking_call(floor, db, hold_ms=16000, limit=60)
        (cuts.ari if cut == "ari" else cuts.pg).drop()
        took = await until_role(standby, "leader", connected=True, limit=10)
        assert took < TAKEOVER_S + (3.0 if cut == "ari" else 0.0), took
        floor.service = standby
        ours = await bridges_of_ours()
        assert len(ours) == 1 and len(ours[0]["channels"]) == 2  # still talking
        cuts.ari.restore()
        cuts.pg.restore()
        await until_role(old, "standby", connected=False, limit=15)
        assert (await talking).ok  # never cut off
        call = await finished_call(db, since, caller_number=STRANGER)
        assert call["ended_by"] == "caller" and call["operator_id"] == op_id
        await nothing_left_in_asterisk()
    finally:
        await undo_through(floor, standby)
        if standby.proc is not None:
            await standby.stop()
