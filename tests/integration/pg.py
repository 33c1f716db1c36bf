"""Throw-away PostgreSQL databases on the test cluster."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from sqlalchemy.engine import make_url


def admin_url() -> str:
    url = os.environ.get("HOTLINE_TEST_PG")
    if not url:
        raise RuntimeError(
            "HOTLINE_TEST_PG is not set: run the suite with scripts/test (see README)"
        )
    return url


def _dsn(database: str) -> str:
    return (
        make_url(admin_url())
        .set(drivername="postgresql", database=database)
        .render_as_string(hide_password=False)
    )


def sqlalchemy_url(database: str) -> str:
    return _dsn(database).replace("postgresql://", "postgresql+asyncpg://", 1)


def retention_url(database: str) -> str:
    """The retention role's URL (scripts/lib.sh makes the role) for `database`; "" when
    the suite runs without it."""
    url = os.environ.get("HOTLINE_RETENTION_DATABASE_URL", "")
    if not url:
        return ""
    return make_url(url).set(database=database).render_as_string(hide_password=False)


async def create_database(prefix: str = "hotline_test") -> str:
    name = f"{prefix}_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(_dsn("postgres"))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return name


async def drop_database(name: str) -> None:
    """Drop it, retrying while an autovacuum worker (not ours to terminate) is inside."""
    conn = await asyncpg.connect(_dsn("postgres"))
    try:
        for attempt in range(20):
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                return
            except asyncpg.InsufficientPrivilegeError:
                if attempt == 19:
                    raise
                await asyncio.sleep(0.25)
    finally:
        await conn.close()


@asynccontextmanager
async def scratch_database(prefix: str = "hotline_test") -> AsyncIterator[str]:
    """Create an empty database; drop it afterwards. Yields its name."""
    name = await create_database(prefix)
    try:
        yield name
    finally:
        await drop_database(name)
