"""The recorder: the one writer of call and case records.

The call flow never waits on PostgreSQL. It submits operations; this task writes them in
order, in batches. While the database is unreachable, operations go to a local spool
file; once it answers again the spool is replayed (operations are idempotent) before
anything newer, so order is kept and nothing is lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.exc import DataError, IntegrityError, ProgrammingError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.core.records import OP_ADAPTER, Op
from hotline.db.records import apply
from hotline.db.spool import Spool

log = logging.getLogger(__name__)

_BAD_DATA = (IntegrityError, DataError, ProgrammingError)
_OUTAGE = (SQLAlchemyError, OSError, TimeoutError)


class Recorder:
    def __init__(
        self,
        engine: AsyncEngine,
        spool_path: str | Path,
        *,
        retry_seconds: float = 2.0,
        write_timeout: float = 5.0,
        batch_size: int = 200,
        linger_s: float = 0.02,
    ) -> None:
        self._engine = engine
        self._spool = Spool(spool_path)
        self._rejected = Spool(Path(spool_path).with_suffix(".rejected"))
        self._queue: asyncio.Queue[Op] = asyncio.Queue()
        self._retry = retry_seconds
        self._timeout = write_timeout
        self._batch = batch_size
        self._linger = linger_s
        self._down = False
        self.written = 0

    def submit(self, op: Op) -> None:
        """Queue an operation; never blocks and never fails for the caller."""
        self._queue.put_nowait(op)

    @property
    def backlog(self) -> int:
        return self._queue.qsize()

    async def run(self) -> None:
        """Write until cancelled; on cancel, what is not yet written goes to the spool."""
        batch: list[Op] = []
        try:
            while True:
                if self._spool.pending() and not await self._replay():
                    await self._spool_arrivals(self._retry)
                    continue
                batch = await self._take()
                if not await self._write(batch):
                    self._spool.append(batch)
                self._done(len(batch))
                batch = []
        finally:
            # A batch cut off mid-write may also have committed: replaying it is harmless.
            self._spool.append(batch)
            self._flush_to_spool()

    async def drain(self) -> None:
        """Wait until everything submitted so far has been written or spooled."""
        await self._queue.join()

    def _done(self, count: int) -> None:
        for _ in range(count):
            self._queue.task_done()

    async def _take(self) -> list[Op]:
        """The next batch: what is queued, after waiting `linger_s` for more when there was
        only a little. A call submits a dozen records over its first milliseconds; one
        transaction for them (and the calls beside it) costs PostgreSQL one commit, and the
        service one round of begin and commit, instead of one each."""
        batch = [await self._queue.get()]
        if self._linger and self._queue.qsize() < self._batch // 4:
            await asyncio.sleep(self._linger)
        while len(batch) < self._batch and not self._queue.empty():
            batch.append(self._queue.get_nowait())
        return batch

    async def _spool_arrivals(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while (left := deadline - loop.time()) > 0:
            try:
                op = await asyncio.wait_for(self._queue.get(), left)
            except TimeoutError:
                return
            ops = [op, *self._drain_queue()]
            self._spool.append(ops)
            self._done(len(ops))

    def _drain_queue(self) -> list[Op]:
        ops: list[Op] = []
        while not self._queue.empty():
            ops.append(self._queue.get_nowait())
        return ops

    def _flush_to_spool(self) -> None:
        ops = self._drain_queue()
        self._spool.append(ops)
        self._done(len(ops))

    async def _replay(self) -> bool:
        ops, unreadable = self._spool.read()
        if unreadable:
            log.error("spool: %d unreadable lines skipped", unreadable)
        done = 0
        for start in range(0, len(ops), self._batch):
            if not await self._write(ops[start : start + self._batch]):
                self._spool.replace(ops[done:])
                return False
            done = min(start + self._batch, len(ops))
        self._spool.replace([])
        log.info("spool: %d records written after the outage", len(ops))
        return True

    async def _write(self, batch: Sequence[Op]) -> bool:
        """True when the batch is stored (or, for bad rows, set aside)."""
        try:
            await asyncio.wait_for(self._transaction(batch), self._timeout)
        except _BAD_DATA:
            for op in batch:  # find the bad one(s); the rest still get written
                try:
                    await asyncio.wait_for(self._transaction([op]), self._timeout)
                except _BAD_DATA as err:
                    log.error("record rejected by the database: %s (%s)", op.op, type(err).__name__)
                    self._rejected.append([op])
                except _OUTAGE as err:
                    _reraise_cancel()
                    self._outage(err)
                    return False
        except _OUTAGE as err:
            _reraise_cancel()
            self._outage(err)
            return False
        if self._down:
            self._down = False
            log.warning("database: writing again")
        self.written += len(batch)
        return True

    async def _transaction(self, batch: Sequence[Op]) -> None:
        async with self._engine.begin() as conn:
            for op in batch:
                await apply(conn, op)

    def _outage(self, err: BaseException) -> None:
        if not self._down:
            self._down = True
            log.warning(
                "database: cannot write (%s); keeping records in %s",
                type(err).__name__,
                self._spool.path,
            )


def _reraise_cancel() -> None:
    """asyncpg's connect can turn a cancellation into a connection error: keep the cancel."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


__all__ = ["OP_ADAPTER", "Recorder"]
