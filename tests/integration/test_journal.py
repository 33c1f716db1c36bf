"""The journal, the fence and the hand-over against a real PostgreSQL (issue 16): a killed
recorder loses nothing, a deposed one writes nothing, and what it held reaches the tables
through the leader."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.core.fence import Deposed, Unfenced
from hotline.core.ids import call_id_for
from hotline.core.records import (
    OP_ADAPTER,
    CallEnded,
    CallIdentified,
    CallStarted,
    CaseStep,
    Op,
)
from hotline.db import migrate
from hotline.db.engine import make_engine
from hotline.db.handover import hand_over
from hotline.db.journal import OpFile, segments
from hotline.db.recorder import Recorder
from hotline.db.spool import Spool
from tests.integration.pg import scratch_database, sqlalchemy_url
from tests.integration.test_recorder import AT, call_ops, count

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
async def engine() -> AsyncIterator[AsyncEngine]:
    async with scratch_database() as db:
        url = sqlalchemy_url(db)
        await asyncio.to_thread(migrate.upgrade, url)
        eng = make_engine(url)
        yield eng
        await eng.dispose()


class Lease:
    """A fence the test moves: acting (by its own clock) or not, and whether the database
    still names this controller."""

    epoch: int | None = 7

    def __init__(self, *, acting: bool = True, leads: bool = True) -> None:
        self.is_acting = acting
        self.leads = leads
        self.checks = 0

    def acting(self) -> bool:
        return self.is_acting

    async def check(self, conn: Any) -> None:
        self.checks += 1
        await conn.execute(text("SELECT 1"))  # inside the recorder's transaction
        if not self.leads:
            raise Deposed


def write_ops(path: Path, ops: list[Op], tail: bytes = b"") -> None:
    """A file of ops as a killed process leaves it."""
    path.write_bytes(b"".join(OP_ADAPTER.dump_json(op) + b"\n" for op in ops) + tail)


async def run_until_written(recorder: Recorder, written: int) -> None:
    """Run the recorder until it has written `written` ops (what an earlier run left is not
    in its queue: `drain` does not wait for it), then stop it."""
    task = asyncio.create_task(recorder.run())
    try:
        async with asyncio.timeout(20):
            while recorder.written < written:
                await asyncio.sleep(0.01)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def journalled(directory: Path) -> int:
    return sum(len(b) for path in segments(directory) for b in OpFile(path).batches(1000))


async def test_a_killed_recorder_loses_nothing(engine: AsyncEngine, tmp_path: Path) -> None:
    """SIGKILL right after the last submit: the next recorder writes every op, once."""
    steps = 2000
    journal = tmp_path / "journal"
    spool = tmp_path / "spool.jsonl"
    with socket.socket() as silent:  # accepts connections (backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        args = [str(port), str(journal), str(spool), str(steps)]
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.integration.journal_child", *args],
            cwd=REPO,
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        try:
            assert child.stdout is not None
            line = await asyncio.wait_for(asyncio.to_thread(child.stdout.readline), 30)
            assert line == b"submitted\n"
            child.send_signal(signal.SIGKILL)
        finally:
            child.kill()
            child.wait(10)
            child.stdout.close()  # type: ignore[union-attr]
    assert child.returncode == -signal.SIGKILL
    assert not spool.exists()  # nothing was settled: all of it is in the journal alone
    assert journalled(journal) == steps + 2

    recorder = Recorder(engine, spool, journal_dir=journal)
    await run_until_written(recorder, steps + 2)
    assert await count(engine, "SELECT count(*) FROM calls") == 1
    assert await count(engine, "SELECT count(*) FROM cases") == 1
    assert await count(engine, "SELECT count(*) FROM case_events") == steps
    assert await count(engine, "SELECT count(DISTINCT detail->>'n') FROM case_events") == steps
    assert segments(journal) == []
    assert recorder.written == steps + 2


def identified(linkedid: str, kind: str) -> CallIdentified:
    return CallIdentified(
        call_id=call_id_for(linkedid), caller_kind=kind, elder_id=None, contact_id=None
    )


def ended(linkedid: str, cause: int) -> CallEnded:
    return CallEnded(
        call_id=call_id_for(linkedid), at=AT, cause=cause, cause_txt=None, ended_by="caller"
    )


async def test_recovery_writes_spool_then_journal_then_new_ops(
    engine: AsyncEngine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Last write wins for the caller's kind, first wins for the end: "contact" shows the
    journal came after the spool, cause 16 that it came before the new op."""
    caplog.set_level(logging.INFO)
    journal = tmp_path / "journal"
    journal.mkdir()
    spool = tmp_path / "spool.jsonl"
    started = call_ops("5.1")[0]
    assert isinstance(started, CallStarted)
    write_ops(spool, [started, identified("5.1", "unknown")])
    torn = OP_ADAPTER.dump_json(identified("5.1", "elder"))[:30]
    write_ops(journal / "journal-1.jsonl", [started, identified("5.1", "contact")])
    write_ops(journal / "journal-2.jsonl", [ended("5.1", 16)], tail=torn)

    recorder = Recorder(engine, spool, journal_dir=journal)
    recorder.submit(ended("5.1", 17))
    await run_until_written(recorder, 6)
    async with engine.connect() as conn:
        row = (await conn.execute(text("SELECT caller_kind, end_cause FROM calls"))).one()
    assert tuple(row) == ("contact", 16)
    assert segments(journal) == []
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors == ["journal: 1 unreadable lines skipped"]
    assert "13800000009" not in caplog.text  # no op's content in the log


async def test_leftovers_found_in_an_outage_go_to_the_spool(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    journal = tmp_path / "journal"
    journal.mkdir()
    spool = tmp_path / "spool.jsonl"
    ops = call_ops("6.1")
    write_ops(journal / "journal-3.jsonl", ops)
    dead = make_engine("postgresql+asyncpg://u:p@127.0.0.1:9/none")
    try:
        down = Recorder(dead, spool, journal_dir=journal, write_timeout=2, retry_seconds=0.1)
        task = asyncio.create_task(down.run())
        async with asyncio.timeout(10):
            while segments(journal):
                await asyncio.sleep(0.01)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    finally:
        await dead.dispose()
    assert Spool(spool).read() == (ops, 0)

    await run_until_written(Recorder(engine, spool, journal_dir=journal), 6)
    assert await count(engine, "SELECT count(*) FROM calls WHERE ended_at IS NOT NULL") == 1
    assert not Spool(spool).pending()


async def test_a_controller_that_is_not_acting_records_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="hotline.db.recorder")
    fence = Lease(acting=False)
    engine = make_engine("postgresql+asyncpg://u:p@127.0.0.1:9/none")  # never reached
    try:
        recorder = Recorder(engine, tmp_path / "spool.jsonl", journal_dir=tmp_path, fence=fence)
        for op in call_ops("7.1"):
            recorder.submit(op)
        assert (recorder.refused, recorder.backlog) == (6, 0)
        assert segments(tmp_path) == []  # not even journalled
        fence.is_acting = True
        recorder.submit(call_ops("7.2")[0])
        fence.is_acting = False
        recorder.submit(call_ops("7.3")[0])
        assert (recorder.refused, recorder.backlog) == (7, 1)
    finally:
        await engine.dispose()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2  # one per stretch of refusals, not one per record
    assert all(w.startswith("not acting") for w in warnings)
    assert "acting: records accepted again (6 refused)" in caplog.text


async def test_a_deposed_recorder_writes_nothing_and_hands_over_what_it_held(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    journal = tmp_path / "journal"
    spool = tmp_path / "spool.jsonl"
    spooled, journalled_ops = call_ops("8.1"), call_ops("8.2")
    Spool(spool).append(spooled)  # held through an outage while it led
    fence = Lease(leads=False)  # another controller took the lease
    recorder = Recorder(engine, spool, journal_dir=journal, fence=fence)
    for op in journalled_ops:
        recorder.submit(op)
    with pytest.raises(Deposed):
        await asyncio.wait_for(recorder.run(), 10)
    await asyncio.wait_for(recorder.drain(), 1)  # an owner waiting on drain is not stuck
    assert fence.checks == 1
    assert await count(engine, "SELECT count(*) FROM calls") == 0
    assert journalled(journal) == 6  # left, not settled
    assert Spool(spool).read() == (spooled, 0)
    recorder.submit(call_ops("8.3")[0])  # deposed: refused even if its clock says acting
    assert recorder.refused == 1

    assert await hand_over(engine, "ctl-a", 7, journal, spool) == 12
    assert segments(journal) == []
    assert not spool.exists()
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text("SELECT controller, epoch, ops FROM handed_over_records ORDER BY id")
            )
        ).all()
    assert {(r.controller, r.epoch) for r in rows} == {("ctl-a", 7)}
    handed = [OP_ADAPTER.validate_python(op) for r in rows for op in r.ops]
    assert handed == spooled + journalled_ops  # in the order the recorder would have

    leader = Recorder(engine, tmp_path / "leader.jsonl", fence=Unfenced())
    task = asyncio.create_task(leader.run())
    try:
        async with asyncio.timeout(10):
            while await count(engine, "SELECT count(*) FROM handed_over_records"):
                await asyncio.sleep(0.02)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert await count(engine, "SELECT count(*) FROM calls WHERE ended_at IS NOT NULL") == 2
    assert await count(engine, "SELECT count(*) FROM case_events") == 2
    assert leader.written == 12


async def test_the_leader_takes_handed_over_rows_as_they_come_and_sets_bad_ops_aside(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    spool = tmp_path / "leader.jsonl"
    fence = Lease()
    leader = Recorder(engine, spool, fence=fence, handed_over_every_s=0.1)
    task = asyncio.create_task(leader.run())
    try:
        await asyncio.sleep(0.2)  # taken at start: nothing yet
        journal = tmp_path / "journal"
        journal.mkdir()
        orphan = CaseStep(case_id=uuid.uuid4(), at=AT, kind="orphan")  # no such case
        write_ops(journal / "journal-1.jsonl", [*call_ops("9.1")[:3], orphan, *call_ops("9.1")[3:]])
        assert await hand_over(engine, "ctl-b", None, journal, tmp_path / "none.jsonl") == 7
        async with asyncio.timeout(10):
            while await count(engine, "SELECT count(*) FROM handed_over_records"):
                await asyncio.sleep(0.02)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert await count(engine, "SELECT count(*) FROM calls WHERE ended_at IS NOT NULL") == 1
    assert await count(engine, "SELECT count(*) FROM case_events") == 1
    rejected, _ = Spool(spool.with_suffix(".rejected")).read()
    assert rejected == [orphan]
