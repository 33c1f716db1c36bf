"""The recorder: the one writer of call and case records.

The call flow never waits on PostgreSQL. It submits operations; this task writes them in
order, in batches. While the database is unreachable, operations go to a local spool
file; once it answers again the spool is replayed (operations are idempotent) before
anything newer, so order is kept and nothing is lost.

With a journal (db.journal), each operation is on disk before it is queued, so that a killed
process loses nothing either: the next one writes what the journal holds before anything
new. With a fence (core.fence), a controller that does not lead records nothing: `submit`
refuses, and the first transaction the fence refuses stops the recorder, leaving what it
had not written in the journal (or the spool) for `db.handover.hand_over`; a leading one
also writes what deposed controllers handed over.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.exc import DataError, IntegrityError, ProgrammingError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hotline.core.fence import Deposed, Fence
from hotline.core.records import OP_ADAPTER, Op
from hotline.db.journal import Journal
from hotline.db.models import Base
from hotline.db.records import apply
from hotline.db.spool import Spool

log = logging.getLogger(__name__)

_BAD_DATA = (IntegrityError, DataError, ProgrammingError)
_OUTAGE = (SQLAlchemyError, OSError, TimeoutError)

_handed_over = Base.metadata.tables["handed_over_records"]
_HANDED_OVER_ROWS = 4  # rows per transaction; hand_over puts at most HANDED_OVER_OPS in one
_TAKE_HANDED_OVER = (
    select(_handed_over.c.id, _handed_over.c.ops)
    .order_by(_handed_over.c.id)
    .with_for_update(skip_locked=True)
    .limit(_HANDED_OVER_ROWS)
)


class Recorder:
    def __init__(
        self,
        engine: AsyncEngine,
        spool_path: str | Path,
        *,
        journal_dir: str | Path | None = None,
        fence: Fence | None = None,
        retry_seconds: float = 2.0,
        write_timeout: float = 5.0,
        batch_size: int = 200,
        linger_s: float = 0.02,
        handed_over_every_s: float = 2.0,
    ) -> None:
        self._engine = engine
        self._spool = Spool(spool_path)
        self._rejected = Spool(Path(spool_path).with_suffix(".rejected"))
        self._journal = Journal(journal_dir) if journal_dir is not None else None
        self._fence = fence
        self._queue: asyncio.Queue[Op] = asyncio.Queue()
        self._retry = retry_seconds
        self._timeout = write_timeout
        self._batch = batch_size
        self._linger = linger_s
        self._handed_over_every = handed_over_every_s
        self._down = False
        self._deposed = False
        self._refused_before = 0  # `refused` when the current stretch of refusals began
        self.written = 0
        self.refused = 0

    def submit(self, op: Op) -> None:
        """Queue an operation; never blocks and never fails for the caller. With a journal,
        the operation is in it (in the page cache) when this returns. A controller that is
        not acting (fenced out, or deposed) records nothing: the op is dropped and counted."""
        if self._fence is not None:
            if self._deposed or not self._fence.acting():
                self._refuse()
                return
            if self.refused != self._refused_before:
                log.info("acting: records accepted again (%d refused)", self._stretch())
        if self._journal is not None:
            self._journal.append(op)
        self._queue.put_nowait(op)

    def _refuse(self) -> None:
        """One warning for a stretch of refusals, not one per record."""
        if self.refused == self._refused_before:
            log.warning("not acting: records are refused (a deposed controller records nothing)")
        self.refused += 1

    def _stretch(self) -> int:
        count = self.refused - self._refused_before
        self._refused_before = self.refused
        return count

    @property
    def backlog(self) -> int:
        return self._queue.qsize()

    async def run(self) -> None:
        """Write until cancelled; on cancel, what is not yet written goes to the spool.

        First what an earlier run left: the spool, then the journal's leftover segments, in
        that order because it is submission order: an op reaches the spool only once settled,
        and settling goes in submission order, so whatever a leftover segment holds that is
        not in PostgreSQL or the spool is newer than everything in the spool (and what it
        holds that is, is replayed in order again: harmless, ops are idempotent).

        Raises Deposed when the fence refuses a transaction: nothing more is written (nor
        refused ops queued); what was not written stays in the journal (without one, it goes
        to the spool) for `hand_over`. Raised rather than returned so that the owner cannot
        take the end for a normal stop, and a task group around it stops too.
        """
        journal = self._journal
        syncing = asyncio.create_task(journal.keep_synced()) if journal else None
        loop = asyncio.get_running_loop()
        handed_over_at = loop.time()  # at start, then every `handed_over_every_s`
        batch: list[Op] = []
        try:
            while True:
                if self._spool.pending() and not await self._replay():
                    await self._spool_arrivals(self._retry)
                    continue
                if journal is not None and journal.leftovers:
                    await self._recover(journal)
                    continue  # anything that went to the spool is replayed first
                wait = None
                if self._fence is not None:
                    if loop.time() >= handed_over_at:
                        await self._take_handed_over()
                        handed_over_at = loop.time() + self._handed_over_every
                    wait = handed_over_at - loop.time()
                if not await self._take(batch, wait):
                    continue
                if not await self._write(batch):
                    self._spool.append(batch)
                self._done(len(batch))
                batch = []
        except Deposed:
            self._deposed = True
            log.warning("deposed: the recorder stops writing; the rest is left to hand over")
            raise
        finally:
            try:
                if self._deposed:
                    self._leave(batch)
                else:  # a batch cut off mid-write may also have committed: replaying is harmless
                    self._spool.append(batch)
                    self._done(len(batch))
                    self._flush_to_spool()
                if syncing is not None:
                    syncing.cancel()
                    await asyncio.gather(syncing, return_exceptions=True)
            finally:
                if journal is not None:
                    journal.close()

    def close(self) -> None:
        """Release the journal (if `run` never did): the next recorder, or `hand_over`, may
        take the directory. Safe to call again."""
        if self._journal is not None:
            self._journal.close()

    async def drain(self) -> None:
        """Wait until everything submitted so far has been written or spooled (or, once
        deposed, left for hand-over)."""
        await self._queue.join()

    def _done(self, count: int) -> None:
        """`count` ops taken from the queue, in order, are settled: written, set aside or
        spooled. Their journal lines are no longer needed."""
        for _ in range(count):
            self._queue.task_done()
        if self._journal is not None:
            self._journal.settle(count)

    def _leave(self, batch: list[Op]) -> None:
        """Deposed: what was not written stays in the journal, not settled; without a journal
        it goes to the spool. Either way `hand_over` finds it."""
        ops = [*batch, *self._drain_queue()]
        if self._journal is None:
            self._spool.append(ops)
        for _ in ops:
            self._queue.task_done()

    async def _take(self, batch: list[Op], wait_s: float | None) -> bool:
        """Fill `batch` with the next ops: what is queued, after waiting `linger_s` for more
        when there was only a little. A call submits a dozen records over its first
        milliseconds; one transaction for them (and the calls beside it) costs PostgreSQL one
        commit, and the service one round of begin and commit, instead of one each. False
        when nothing came within `wait_s`. The ops go into the caller's list at once, so a
        cancel during the linger cannot lose one."""
        try:
            async with asyncio.timeout(wait_s):
                batch.append(await self._queue.get())
        except TimeoutError:
            return False
        if self._linger and self._queue.qsize() < self._batch // 4:
            await asyncio.sleep(self._linger)
        while len(batch) < self._batch and not self._queue.empty():
            batch.append(self._queue.get_nowait())
        return True

    async def _spool_arrivals(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while (left := deadline - loop.time()) > 0:
            try:
                async with asyncio.timeout(left):  # unlike 3.11's wait_for, loses no item
                    op = await self._queue.get()
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
        try:
            for start in range(0, len(ops), self._batch):
                if not await self._write(ops[start : start + self._batch]):
                    self._spool.replace(ops[done:])
                    return False
                done = min(start + self._batch, len(ops))
        except Deposed:
            self._spool.replace(ops[done:])  # hand over only what is not written
            raise
        self._spool.replace([])
        log.info("spool: %d records written after the outage", len(ops))
        return True

    async def _recover(self, journal: Journal) -> None:
        """Write what a killed process left in the journal, a batch at a time, deleting each
        segment once it is all written or, from the first failure on, spooled (the spool is
        then replayed before anything newer, so the order holds)."""
        while journal.leftovers:
            left = journal.leftovers[0]
            count = 0
            for batch in left.batches(self._batch):
                if self._down or not await self._write(batch):
                    self._spool.append(batch)
                count += len(batch)
            if left.unreadable:
                log.error("journal: %d unreadable lines skipped", left.unreadable)
            left.delete()
            journal.leftovers.pop(0)
            log.info("journal: %d records of an earlier run recovered", count)

    async def _take_handed_over(self) -> None:
        """Write what deposed controllers handed over (`hand_over`), a few rows per fenced
        transaction that also deletes them; SKIP LOCKED, so two recorders never take the
        same row. A row whose ops the database rejects is taken again op by op (a savepoint
        each), the rejected ones set aside, so that one bad op does not hold the rest."""
        careful = False
        while True:
            try:
                rows = await asyncio.wait_for(self._handed_over_rows(careful), self._timeout)
            except _BAD_DATA as err:
                if careful:
                    log.error("handed-over records: cannot write (%s)", type(err).__name__)
                    return
                careful = True
                continue
            except _OUTAGE as err:
                _reraise_cancel()
                self._outage(err)
                return
            careful = False
            if rows < _HANDED_OVER_ROWS:
                return

    async def _handed_over_rows(self, careful: bool) -> int:
        assert self._fence is not None
        rejected: list[Op] = []
        written = 0
        async with self._engine.begin() as conn:
            await self._fence.check(conn)
            rows = (await conn.execute(_TAKE_HANDED_OVER)).all()
            for row in rows:
                for op in _handed_over_ops(row.ops):
                    if careful and not await _applied_alone(conn, op):
                        rejected.append(op)
                    elif not careful:
                        await apply(conn, op)
                    written += 1
            if rows:
                ids = [row.id for row in rows]
                await conn.execute(delete(_handed_over).where(_handed_over.c.id.in_(ids)))
        self._rejected.append(rejected)
        if rows:
            log.info("handed-over records: %d written from %d rows", written, len(rows))
            self._writing_again()
            self.written += written - len(rejected)
        return len(rows)

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
        self._writing_again()
        self.written += len(batch)
        return True

    async def _transaction(self, batch: Sequence[Op]) -> None:
        async with self._engine.begin() as conn:
            if self._fence is not None:
                await self._fence.check(conn)  # Deposed: rolled back, nothing written
            for op in batch:
                await apply(conn, op)

    def _writing_again(self) -> None:
        if self._down:
            self._down = False
            log.warning("database: writing again")

    def _outage(self, err: BaseException) -> None:
        if not self._down:
            self._down = True
            log.warning(
                "database: cannot write (%s); keeping records in %s",
                type(err).__name__,
                self._spool.path,
            )


def _handed_over_ops(raw: Any) -> list[Op]:
    ops: list[Op] = []
    unreadable = 0
    for item in raw if isinstance(raw, list) else []:
        try:
            ops.append(OP_ADAPTER.validate_python(item))
        except ValidationError:
            unreadable += 1
    if unreadable:
        log.error("handed-over records: %d unreadable ops skipped", unreadable)
    return ops


async def _applied_alone(conn: AsyncConnection, op: Op) -> bool:
    try:
        async with conn.begin_nested():
            await apply(conn, op)
    except _BAD_DATA as err:
        log.error("handed-over record rejected by the database: %s (%s)", op.op, type(err).__name__)
        return False
    return True


def _reraise_cancel() -> None:
    """asyncpg's connect can turn a cancellation into a connection error: keep the cancel."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


__all__ = ["OP_ADAPTER", "Recorder"]
