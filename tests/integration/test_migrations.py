"""Migrations run forward on an empty database and on one that holds data."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import asyncpg
import pytest
from alembic.script import ScriptDirectory

from hotline.db import migrate
from tests.integration.pg import _dsn, scratch_database, sqlalchemy_url

pytestmark = pytest.mark.integration


def _hotline(*args: str, database: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOTLINE_DATABASE_URL": sqlalchemy_url(database)}
    # Demo softphone accounts need the queues of revision 0002, console logins the columns
    # of 0007; the chain test loads its data at the first revision.
    env.pop("HOTLINE_DEMO_SIP_PASSWORD", None)
    env.pop("HOTLINE_DEMO_CONSOLE_PASSWORD", None)
    return subprocess.run(
        [sys.executable, "-m", "hotline", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def _revisions() -> list[str]:
    script = ScriptDirectory.from_config(migrate._config())
    return [r.revision for r in reversed(list(script.walk_revisions()))]


async def test_upgrade_empty_database_and_demo_data() -> None:
    async with scratch_database() as db:
        done = await asyncio.to_thread(_hotline, "db", "upgrade", database=db)
        assert done.returncode == 0, done.stderr
        first = await asyncio.to_thread(_hotline, "demo-data", database=db)
        again = await asyncio.to_thread(_hotline, "demo-data", database=db)
        assert "loaded" in first.stdout and "already present" in again.stdout
        conn = await asyncpg.connect(_dsn(db))
        try:
            assert await conn.fetchval("SELECT count(*) FROM elders") == 3
            assert await conn.fetchval("SELECT number FROM terminals") == "18600000001"
            case = await conn.fetchval(
                "INSERT INTO cases (id, opened_at, status, channel, identified) "
                "VALUES (gen_random_uuid(), now(), 'open', 'hotline', false) RETURNING id"
            )
            await conn.execute(
                "INSERT INTO case_events (id, case_id, at, actor, kind) "
                "VALUES (gen_random_uuid(), $1, now(), 'system', 'x')",
                case,
            )
            for statement in ("UPDATE case_events SET kind = 'y'", "DELETE FROM case_events"):
                with pytest.raises(asyncpg.RaiseError, match="append-only"):
                    await conn.execute(statement)
            assert await conn.fetchval("SELECT kind FROM case_events") == "x"
        finally:
            await conn.close()


async def test_every_step_upgrades_a_database_holding_data() -> None:
    """Walk the chain one revision at a time, with demo data loaded at the first."""
    revisions = await _revisions()
    async with scratch_database() as db:
        first = await asyncio.to_thread(_hotline, "db", "upgrade", revisions[0], database=db)
        assert first.returncode == 0, first.stderr
        loaded = await asyncio.to_thread(_hotline, "demo-data", database=db)
        assert loaded.returncode == 0, loaded.stderr
        for revision in revisions[1:]:
            step = await asyncio.to_thread(_hotline, "db", "upgrade", revision, database=db)
            assert step.returncode == 0, step.stderr
        conn = await asyncpg.connect(_dsn(db))
        try:
            assert await conn.fetchval("SELECT version_num FROM alembic_version") == revisions[-1]
            assert await conn.fetchval("SELECT count(*) FROM contacts") == 4
        finally:
            await conn.close()


async def test_unreachable_database_is_one_clear_line() -> None:
    env = {**os.environ, "HOTLINE_DATABASE_URL": "postgresql://u:pw@127.0.0.1:9/none"}
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "hotline", "calls"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "cannot reach PostgreSQL at 127.0.0.1:9/none" in lines[0]
    assert "HOTLINE_DATABASE_URL" in lines[0] and "pw" not in lines[0]
