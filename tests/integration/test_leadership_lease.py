"""The lease in a real PostgreSQL (hotline.leadership): one leader, a rising epoch, a fence
that holds inside a transaction, a takeover when the lease lapses, a release handed on."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.core.fence import Deposed
from hotline.db import migrate
from hotline.db.engine import make_engine
from hotline.leadership import store
from hotline.leadership.lease import Leadership
from hotline.leadership.rules import Terms
from tests.integration.pg import scratch_database, sqlalchemy_url
from tests.integration.proxy import CuttableProxy

pytestmark = pytest.mark.integration
TERMS = Terms(length_s=1.5, renew_every_s=0.4, margin_s=0.3, try_every_s=0.05)


@pytest.fixture
async def url() -> AsyncIterator[str]:
    async with scratch_database() as db:
        url = sqlalchemy_url(db)
        await asyncio.to_thread(migrate.upgrade, url)
        yield url


@pytest.fixture
async def engine(url: str) -> AsyncIterator[AsyncEngine]:
    eng = make_engine(url)
    yield eng
    await eng.dispose()


async def first_to_lead(*them: Leadership, limit: float = 5.0) -> Leadership:
    stop = asyncio.Event()
    tries = {asyncio.create_task(one.take(stop)): one for one in them}
    done, pending = await asyncio.wait(tries, timeout=limit, return_when=asyncio.FIRST_COMPLETED)
    stop.set()
    await asyncio.gather(*pending)
    assert done, "nobody took the lease"
    return tries[done.pop()]


async def test_one_leads_the_other_stands_by_and_the_fence_names_the_leader(
    engine: AsyncEngine,
) -> None:
    a = Leadership(engine, "a", terms=TERMS)
    b = Leadership(engine, "b", terms=TERMS)
    leader = await first_to_lead(a, b)
    other = b if leader is a else a
    assert leader.acting() and leader.epoch == 1 and leader.role == "leader"
    assert not other.acting() and other.epoch is None and other.role == "standby"
    async with engine.begin() as conn:
        await leader.check(conn)
        with pytest.raises(Deposed):
            await other.check(conn)
    # The standby keeps trying and does not get it while the leader renews.
    stop = asyncio.Event()
    keeping = asyncio.create_task(leader.keep())
    trying = asyncio.create_task(other.take(stop))
    await asyncio.sleep(2 * TERMS.length_s)
    assert not trying.done() and leader.acting()
    stop.set()
    assert await trying is False
    keeping.cancel()


async def test_a_lapsed_lease_is_taken_with_a_higher_epoch_and_the_old_leader_is_fenced(
    engine: AsyncEngine,
) -> None:
    """The leader stops renewing (frozen, cut from the database): it stops acting by its own
    clock before the standby can take over, and every check of the old epoch fails."""
    a = Leadership(engine, "a", terms=TERMS)
    b = Leadership(engine, "b", terms=TERMS)
    assert await first_to_lead(a) is a
    frozen_at = time.monotonic()
    took = await first_to_lead(b)
    waited = time.monotonic() - frozen_at
    assert took is b and b.epoch == 2
    assert waited >= TERMS.length_s - 0.2  # not before a's lease ended in the database
    assert not a.acting()  # a's own clock said so first
    with pytest.raises(Deposed):  # a wakes: its renewal is refused, it steps down
        await a.keep()
    assert a.epoch is None
    async with engine.begin() as conn:
        with pytest.raises(Deposed):
            await a.check(conn)
        await b.check(conn)


async def test_a_takeover_waits_for_a_write_that_checked_the_old_epoch(
    engine: AsyncEngine,
) -> None:
    """FOR SHARE: a transaction that checked the fence finishes under the old epoch before
    the new one begins."""
    a = Leadership(engine, "a", terms=TERMS)
    b = Leadership(engine, "b", terms=TERMS)
    await first_to_lead(a)
    async with engine.begin() as conn:
        await a.check(conn)
        await asyncio.sleep(TERMS.length_s + 0.3)  # a's lease ends while the write is open
        async with engine.begin() as other:
            await other.exec_driver_sql("SET LOCAL lock_timeout = '300ms'")
            with pytest.raises(Exception, match="lock"):
                await store.take(other, b.holder, TERMS.length_s)
    assert await first_to_lead(b) is b  # once the write ended


async def test_a_release_hands_the_lease_on_at_the_next_try(engine: AsyncEngine) -> None:
    a = Leadership(engine, "a", terms=TERMS)
    b = Leadership(engine, "b", terms=TERMS)
    await first_to_lead(a)
    await a.release()
    assert not a.acting()
    released = time.monotonic()
    assert await first_to_lead(b) is b
    assert time.monotonic() - released < 0.5
    assert b.epoch == 2


async def test_standing_aside_stops_acting_but_keeps_the_epoch_for_the_last_writes(
    engine: AsyncEngine,
) -> None:
    a = Leadership(engine, "a", terms=TERMS)
    await first_to_lead(a)
    a.stand_aside()
    assert not a.acting()
    async with engine.begin() as conn:
        await a.check(conn)  # what was recorded before can still be written


async def test_every_controller_is_seen_with_its_role(engine: AsyncEngine) -> None:
    a = Leadership(engine, "a", terms=TERMS)
    b = Leadership(engine, "b", terms=TERMS)
    await first_to_lead(a)
    stop = asyncio.Event()
    trying = asyncio.create_task(b.take(stop))
    await asyncio.sleep(0.2)
    assert await a.standbys() == 1
    view = a.view()
    roles = {c["name"]: c["role"] for c in view["controllers"]}
    assert roles == {"a": "leader", "b": "standby"}
    assert view["role"] == "leader" and view["leader"] == a.holder
    assert b.view()["role"] == "standby" and b.view()["leader"] == a.holder
    stop.set()
    await trying
    await b.stopped()
    assert await a.standbys() == 0


@pytest.mark.parametrize("standby", [False, True])
async def test_cut_from_the_database_a_leader_alone_leads_on_one_with_a_standby_stops(
    url: str, engine: AsyncEngine, standby: bool
) -> None:
    """Alone, a database outage must not stop the hotline: the leader leads on past its
    lease and renews the same epoch when the database is back (nobody took it). With a
    standby seen alive, it stops acting before the standby can take over."""
    async with CuttableProxy("127.0.0.1", 5432) as pg:
        cut_engine = make_engine(url.replace(":5432/", f":{pg.port}/"))
        try:
            a = Leadership(cut_engine, "a", terms=TERMS)
            b = Leadership(engine, "b", terms=TERMS)
            await first_to_lead(a)
            stop = asyncio.Event()
            trying = asyncio.create_task(b.take(stop)) if standby else None
            keeping = asyncio.create_task(a.keep())
            await asyncio.sleep(1.2)  # a has seen who is about
            pg.drop()
            await asyncio.sleep(TERMS.length_s + 0.5)
            if standby:
                assert not a.acting()
                assert trying is not None and await trying is True and b.epoch == 2
                with pytest.raises(Deposed):
                    await keeping
            else:
                assert a.acting() and not keeping.done()
                pg.restore()
                await asyncio.sleep(TERMS.renew_every_s + 1.0)
                assert a.acting() and a.epoch == 1  # renewed, the same epoch
                async with engine.begin() as conn:
                    await a.check(conn)
                keeping.cancel()
            stop.set()
        finally:
            await cut_engine.dispose()
