"""The in-memory directory index against a real PostgreSQL: loaded whole, bounded, answering
known numbers without the database, asking it for new ones, and carrying on while it is
unreachable."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.core.phone import normalise
from hotline.db.engine import make_engine
from hotline.directory.identify import UNKNOWN, UNVERIFIED
from hotline.directory.index import DirectoryIndex
from tests.integration.conftest import database  # noqa: F401 - the session fixture
from tests.integration.pg import _dsn, sqlalchemy_url
from tests.integration.proxy import CuttableProxy
from tests.integration.test_calls import ELDER_MOBILE, SHARED_LINE, SON, TERMINAL

pytestmark = pytest.mark.integration

NEWCOMER = "13700000555"


@pytest.fixture
async def engine(database: str) -> AsyncIterator[AsyncEngine]:  # noqa: F811
    made = make_engine(sqlalchemy_url(database))
    yield made
    await made.dispose()


async def demo_numbers(database: str) -> set[str]:  # noqa: F811
    conn = await asyncpg.connect(_dsn(database))
    try:
        rows = await conn.fetch(
            "SELECT number FROM elder_phones UNION SELECT number FROM contacts"
            " UNION SELECT number FROM terminals WHERE active"
        )
    finally:
        await conn.close()
    return {r["number"] for r in rows}


async def test_loaded_whole_and_answering_from_memory(engine: AsyncEngine, database: str) -> None:  # noqa: F811
    index = DirectoryIndex(engine)
    await index.load()
    assert index.complete and len(index) == len(await demo_numbers(database))
    elder = await index.identify(ELDER_MOBILE)
    assert (elder.caller_kind, elder.identified) == ("elder", True)
    assert (await index.identify(TERMINAL)).caller_kind == "terminal"
    son = await index.identify(SON)
    assert son.caller_kind == "contact" and son.elder_id == elder.elder_id
    shared = await index.identify(normalise(SHARED_LINE))
    assert shared.elder_id is None and len(shared.candidates) == 2
    assert (await index.identify("13700000099")) == UNKNOWN
    assert (await index.identify(None)).caller_kind == "anonymous"


async def test_a_number_added_after_the_load_is_found_and_remembered(
    engine: AsyncEngine,
    database: str,  # noqa: F811
) -> None:
    index = DirectoryIndex(engine)
    await index.load()
    before = len(index)
    conn = await asyncpg.connect(_dsn(database))
    try:
        elder_id = await conn.fetchval("SELECT elder_id FROM elder_phones LIMIT 1")
        await conn.execute(
            "INSERT INTO contacts (elder_id, full_name, relation, tier, number)"
            " VALUES ($1, 'Newcomer', 'neighbour', 3, $2)",
            elder_id,
            NEWCOMER,
        )
        found = await index.identify(NEWCOMER)
        assert (found.caller_kind, found.elder_id) == ("contact", elder_id)
        assert len(index) == before + 1  # remembered
    finally:
        await conn.execute("DELETE FROM contacts WHERE number = $1", NEWCOMER)
        await conn.close()


async def test_bounded_terminals_first(engine: AsyncEngine) -> None:
    index = DirectoryIndex(engine, limit=1)
    await index.load()
    assert not index.complete and len(index) == 1
    assert (await index.identify(TERMINAL)).caller_kind == "terminal"  # held
    assert (await index.identify(ELDER_MOBILE)).caller_kind == "elder"  # asked, then held
    assert len(index) == 1  # the newest kept, the oldest let go


async def test_while_postgresql_is_unreachable(database: str) -> None:  # noqa: F811
    async with CuttableProxy("127.0.0.1", 5432) as pg:
        url = sqlalchemy_url(database).replace(":5432/", f":{pg.port}/")
        engine = make_engine(url)
        try:
            index = DirectoryIndex(engine, ask_timeout=1.0)
            await index.load()
            pg.drop()
            assert (await index.identify(ELDER_MOBILE)).caller_kind == "elder"
            assert (await index.identify(TERMINAL)).caller_kind == "terminal"
            # not held, and the database cannot be asked: unverified, not "unknown"
            assert await asyncio.wait_for(index.identify(NEWCOMER), 3) == UNVERIFIED
            with pytest.raises(OSError):
                await index.load()  # the refresh fails; the index keeps what it had
            assert (await index.identify(SON)).caller_kind == "contact"
        finally:
            await engine.dispose()
