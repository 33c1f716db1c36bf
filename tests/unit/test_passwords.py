"""Console passwords (issue 15, R27): scrypt at N = 2^17, in a pool of its own that refuses
when full and runs below the call path's priority; weaker hashes upgraded."""

from __future__ import annotations

import asyncio
import os
import threading
import time

import pytest

from hotline.core.passwords import NICE, Busy, Passwords, hash_password, stale, verify_password


def test_a_new_hash_is_scrypt_at_2_17_and_an_older_one_is_stale() -> None:
    made = hash_password("a long password")
    assert made.split("$")[:4] == ["scrypt", str(2**17), "8", "1"]
    assert not stale(made)
    older = hash_password("a long password", n=2**14)  # what earlier versions stored
    assert stale(older) and verify_password("a long password", older)
    assert not verify_password("another", older)
    assert not verify_password("x", None) and not verify_password("x", "md5$nope")


async def test_the_pool_refuses_when_full_and_runs_below_the_call_paths_priority() -> None:
    passwords = Passwords(workers=1, waiting=1, n=2**10)
    try:
        seen = await passwords._run(
            lambda: (
                os.getpriority(os.PRIO_PROCESS, threading.get_native_id()),
                os.sched_getscheduler(threading.get_native_id()),
            )
        )
        assert seen == (NICE, os.SCHED_IDLE)
        assert os.getpriority(os.PRIO_PROCESS, 0) < NICE
        assert os.sched_getscheduler(0) == os.SCHED_OTHER
        gate = threading.Event()
        first = asyncio.ensure_future(passwords._run(gate.wait, 5))
        second = asyncio.ensure_future(passwords._run(gate.wait, 5))
        await asyncio.sleep(0.05)
        with pytest.raises(Busy):  # one working, one waiting: the next is turned away
            await passwords.verify("x", hash_password("x", n=2**10))
        gate.set()
        assert await first and await second
        assert await passwords.verify("x", await passwords.hash("x"))
    finally:
        passwords.close()


async def test_no_account_costs_no_scrypt_yet_answers_like_one() -> None:
    passwords = Passwords(workers=1, waiting=1, n=2**10)
    try:
        assert await passwords.verify("x", await passwords.hash("x"))
        typical = passwords._typical
        started = time.monotonic()
        calls_before = passwords._pool._work_queue.qsize()
        assert not await passwords.verify("x", None)
        took = time.monotonic() - started
        assert took >= typical * 0.9  # waited as long as a real check
        assert passwords._pool._work_queue.qsize() == calls_before  # no work for the pool
        # It holds a place as a real check does: two of them fill a pool of room 2.
        sleepers = [asyncio.ensure_future(passwords.verify("y", None)) for _ in range(2)]
        await asyncio.sleep(0)
        with pytest.raises(Busy):
            await passwords.verify("z", None)
        with pytest.raises(Busy):
            await passwords.verify("x", hash_password("x", n=2**10))
        assert not any(await asyncio.gather(*sleepers))
    finally:
        passwords.close()
