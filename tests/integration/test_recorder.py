"""The recorder against a real PostgreSQL: batches, outage to spool, replay, bad rows."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.core.ids import call_id_for, intake_case_id_for
from hotline.core.records import (
    CallAnswered,
    CallEnded,
    CallIdentified,
    CallStarted,
    CaseOpened,
    CaseStep,
    Op,
    OperatorStateRecord,
)
from hotline.db import migrate
from hotline.db.engine import make_engine
from hotline.db.recorder import Recorder
from tests.integration.pg import scratch_database, sqlalchemy_url

pytestmark = pytest.mark.integration
AT = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
async def engine() -> AsyncIterator[AsyncEngine]:
    async with scratch_database() as db:
        url = sqlalchemy_url(db)
        await asyncio.to_thread(migrate.upgrade, url)
        eng = make_engine(url)
        yield eng
        await eng.dispose()


def call_ops(linkedid: str) -> list[Op]:
    call = call_id_for(linkedid)
    case = intake_case_id_for(call)
    return [
        CallStarted(
            call_id=call,
            linkedid=linkedid,
            channel_id=linkedid,
            entry="hotline",
            caller_number="13800000009",
            at=AT,
        ),
        CallAnswered(call_id=call, at=AT),
        CallIdentified(call_id=call, caller_kind="unknown", elder_id=None, contact_id=None),
        CaseOpened(
            case_id=case,
            call_id=call,
            at=AT,
            channel="hotline",
            case_class=None,
            elder_id=None,
            identified=False,
        ),
        CaseStep(case_id=case, at=AT, kind="call_received"),
        CallEnded(call_id=call, at=AT, cause=16, cause_txt="Normal Clearing", ended_by="caller"),
    ]


async def count(engine: AsyncEngine, sql: str) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text(sql))).scalar_one())


async def run_until_drained(recorder: Recorder) -> None:
    task = asyncio.create_task(recorder.run())
    try:
        await asyncio.wait_for(recorder.drain(), 10)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_writes_a_whole_call_and_replaying_changes_nothing(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    recorder = Recorder(engine, tmp_path / "spool.jsonl")
    for op in call_ops("1.1") + call_ops("1.1"):  # twice: idempotent
        recorder.submit(op)
    await run_until_drained(recorder)
    assert await count(engine, "SELECT count(*) FROM calls WHERE ended_at IS NOT NULL") == 1
    assert await count(engine, "SELECT count(*) FROM cases") == 1
    assert await count(engine, "SELECT count(*) FROM case_events") == 2  # two distinct steps
    assert not (tmp_path / "spool.jsonl").exists()


async def test_outage_spools_then_replays_in_order(engine: AsyncEngine, tmp_path: Path) -> None:
    spool = tmp_path / "spool.jsonl"
    dead = make_engine("postgresql+asyncpg://u:p@127.0.0.1:9/none")
    try:
        down = Recorder(dead, spool, write_timeout=2)
        for op in call_ops("2.1"):
            down.submit(op)
        await run_until_drained(down)
    finally:
        await dead.dispose()
    assert spool.stat().st_size > 0
    assert await count(engine, "SELECT count(*) FROM calls") == 0

    back = Recorder(engine, spool, retry_seconds=0.1)
    for op in call_ops("3.1"):
        back.submit(op)
    task = asyncio.create_task(back.run())
    try:
        async with asyncio.timeout(10):
            while await count(engine, "SELECT count(*) FROM calls WHERE ended_at IS NOT NULL") < 2:
                await asyncio.sleep(0.05)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert spool.stat().st_size == 0
    assert await count(engine, "SELECT count(*) FROM cases") == 2


async def test_a_bad_row_is_set_aside_and_the_rest_written(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    recorder = Recorder(engine, tmp_path / "spool.jsonl")
    ops = call_ops("4.1")
    bad = CaseStep(case_id=uuid.uuid4(), at=AT, kind="orphan")  # no such case: FK violation
    for op in [*ops[:3], bad, *ops[3:]]:
        recorder.submit(op)
    await run_until_drained(recorder)
    assert await count(engine, "SELECT count(*) FROM calls WHERE ended_at IS NOT NULL") == 1
    rejected = (tmp_path / "spool.rejected").read_text()
    assert "orphan" in rejected and rejected.count("\n") == 1


async def paused_at(engine: AsyncEngine, since: dt.datetime) -> int:
    """An operator paused (for lunch) through the API at `since`."""
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO operators (username, display_name, state, state_reason,"
                " state_since) VALUES ('late', 'Late', 'paused', 'lunch', :since)"
            ),
            {"since": since},
        )
        return int((await conn.execute(text("SELECT id FROM operators"))).scalar_one())


async def test_a_state_recorded_late_does_not_undo_a_newer_one(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    """The floor recorded "ready" when a call ended; the operator paused through the API a
    moment later; the recorder writes the older "ready" after the pause: the pause stays."""
    operator_id = await paused_at(engine, AT + dt.timedelta(seconds=2))
    recorder = Recorder(engine, tmp_path / "spool.jsonl")
    recorder.submit(
        OperatorStateRecord(
            operator_id=operator_id, state="ready", reason=None, call_id=None, at=AT
        )
    )
    recorder.submit(  # and a newer one does apply
        OperatorStateRecord(
            operator_id=operator_id,
            state="on_call",
            reason=None,
            call_id=None,
            at=AT + dt.timedelta(seconds=5),
        )
    )
    await run_until_drained(recorder)
    async with engine.connect() as conn:
        row = (await conn.execute(text("SELECT state, state_reason FROM operators"))).one()
        history = (
            (await conn.execute(text("SELECT state FROM operator_state_changes ORDER BY at")))
            .scalars()
            .all()
        )
    assert tuple(row) == ("on_call", None)
    assert history == ["ready", "on_call"]  # both kept in the history


async def test_an_older_state_after_the_pause_keeps_the_pause(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    operator_id = await paused_at(engine, AT + dt.timedelta(seconds=2))
    recorder = Recorder(engine, tmp_path / "spool.jsonl")
    recorder.submit(
        OperatorStateRecord(
            operator_id=operator_id, state="ready", reason=None, call_id=None, at=AT
        )
    )
    await run_until_drained(recorder)
    async with engine.connect() as conn:
        row = (await conn.execute(text("SELECT state, state_reason FROM operators"))).one()
    assert tuple(row) == ("paused", "lunch")
