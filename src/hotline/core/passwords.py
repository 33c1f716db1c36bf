"""Console passwords: scrypt with a random salt, compared in constant time. The password
itself is never stored, logged or audited.

scrypt is deliberately slow and memory-hungry (N = 2^17, r = 8: 128 MiB and about half a
second a check), so it runs in a small pool of threads of its own (`Passwords`), never on the
event loop the calls run on and never while a database connection is held; when more checks
wait than the pool can take in reasonable time, the next is refused at once (`Busy`: the
login page answers 429) instead of queueing without end. A hash made with a smaller N (an
older version) still verifies, and is replaced at the next successful login (`stale`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import os
import secrets
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

N, R, P = 2**17, 8, 1
MAXMEM = 256 * 1024 * 1024  # scrypt needs 128 * N * r bytes: 128 MiB at these settings
_PREFIX = "scrypt"


class Busy(Exception):
    """Too many password checks are waiting: try again shortly."""


def hash_password(password: str, *, n: int = N) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=R, p=P, maxmem=MAXMEM, dklen=32)
    return f"{_PREFIX}${n}${R}${P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str | None) -> bool:
    """Does `password` match `stored`? A missing or malformed hash never matches."""
    if not stored:
        # Spend the same time as a real check, so a missing account does not answer faster.
        hashlib.scrypt(b"x", salt=b"0" * 16, n=N, r=R, p=P, maxmem=MAXMEM, dklen=32)
        return False
    try:
        prefix, n, r, p, salt, digest = stored.split("$")
        if prefix != _PREFIX:
            return False
        given = hashlib.scrypt(
            password.encode(),
            salt=bytes.fromhex(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=MAXMEM,
            dklen=len(digest) // 2,
        )
    except ValueError:
        return False
    return hmac.compare_digest(given.hex(), digest)


def stale(stored: str | None) -> bool:
    """Made with weaker settings than today's: to be hashed again at the next login."""
    if not stored or stored.count("$") != 5:
        return False
    prefix, n, r, *_ = stored.split("$")
    return prefix == _PREFIX and (not n.isdigit() or int(n) < N or r != str(R))


class Passwords:
    """scrypt in `workers` threads of its own, at most `waiting` checks queued for them. The
    threads run only on a processor nothing else wants (Linux SCHED_IDLE; nice 19 where that
    is refused): under a flood of logins the call path (this process's event loop, Asterisk,
    PostgreSQL) gets the processor first. Measured (bench.login_flood): at nice 10 the two
    threads still took their share of both cores and the answer p99 rose from 4 to 16-36 ms."""

    def __init__(self, *, workers: int = 2, waiting: int = 8, n: int = N) -> None:
        self._pool = ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="scrypt", initializer=_yield_cpu
        )
        self._room = workers + waiting
        self._inside = 0
        self._n = n
        self._typical = 0.5  # seconds a check takes (a running mean; half a second at first)

    @contextlib.contextmanager
    def _place(self) -> Iterator[None]:
        """A place in the pool for one check, or Busy when they are all taken."""
        if self._inside >= self._room:
            raise Busy
        self._inside += 1
        try:
            yield
        finally:
            self._inside -= 1

    async def _run(self, fn: object, *args: object) -> object:
        with self._place():
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._pool, fn, *args)  # type: ignore[arg-type]

    async def hash(self, password: str) -> str:
        return str(await self._run(lambda: hash_password(password, n=self._n)))

    async def verify(self, password: str, stored: str | None) -> bool:
        """Does `password` match? No account (`stored` None): no scrypt at all, the caller
        waits as long as a real check takes (the mean of the last ones) and holds a place in
        the pool as one does, so the answer, and a `Busy`, come as for a real account; a
        flood of made-up names costs no processor and no memory."""
        if stored is None:
            with self._place():
                await asyncio.sleep(self._typical)
            return False
        started = time.monotonic()
        ok = bool(await self._run(verify_password, password, stored))
        self._typical += (time.monotonic() - started - self._typical) / 8
        return ok

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _yield_cpu() -> None:
    """A worker thread's own scheduling (Linux: a thread is a task of its own)."""
    tid = threading.get_native_id()
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, tid, NICE)
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setscheduler(tid, os.SCHED_IDLE, os.sched_param(0))


NICE = 19
