"""Handing over what a deposed controller held (issue 16).

A controller that stops leading may still hold records it decided while it led: in its
journal (submitted, not yet written) and in its spool (kept through an outage). They are
facts, and they must reach the tables, but not through this controller: it no longer acts.
`hand_over` puts them in `handed_over_records`, where the leading controller's recorder
takes them and writes them through its own fenced transactions (db.recorder). This write is
not fenced: it decides nothing new, and the rows only wait there for whoever leads.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hotline.core.records import OP_ADAPTER, Op
from hotline.db.journal import OpFile, locked, segments
from hotline.db.models import Base

log = logging.getLogger(__name__)

HANDED_OVER_OPS = 500
"""Ops per row: rows stay small, and the leader writes a few per transaction."""

_handed_over = Base.metadata.tables["handed_over_records"]


async def hand_over(
    engine: AsyncEngine,
    controller: str,
    epoch: int | None,
    journal_dir: str | os.PathLike[str] | None,
    spool_path: str | os.PathLike[str],
) -> int:
    """Move every op left in the journal segments and the spool to `handed_over_records`,
    in one transaction, then delete the files; the number of ops. Call it once the recorder
    has stopped (it raises JournalBusy while the recorder still holds the journal).

    The order is the recorder's own recovery order, spool then journal (see Recorder.run),
    and the rows' ids keep it for the leader. Read a batch at a time, inserted as it is
    read: memory stays flat. Killed between the commit and the deletion, the next hand-over
    (or recorder) hands the same ops again: harmless, ops are idempotent.
    """
    files = [OpFile(Path(spool_path))]
    if journal_dir is None:
        return await _hand_over(engine, controller, epoch, files)
    directory = Path(journal_dir)
    with locked(directory):
        files += [OpFile(path) for path in segments(directory)]
        return await _hand_over(engine, controller, epoch, files)


async def _hand_over(
    engine: AsyncEngine, controller: str, epoch: int | None, files: list[OpFile]
) -> int:
    count = 0
    async with engine.begin() as conn:
        for ops in _rows(files):
            await _insert(conn, controller, epoch, ops)
            count += len(ops)
    unreadable = sum(file.unreadable for file in files)
    if unreadable:
        log.error("hand-over: %d unreadable lines skipped", unreadable)
    for file in files:
        file.delete()
    return count  # the caller says how many, and why


def _rows(files: list[OpFile]) -> Iterator[list[Op]]:
    for file in files:
        yield from file.batches(HANDED_OVER_OPS)


async def _insert(conn: AsyncConnection, controller: str, epoch: int | None, ops: list[Op]) -> None:
    dumped: list[Any] = [OP_ADAPTER.dump_python(op, mode="json") for op in ops]
    await conn.execute(insert(_handed_over).values(controller=controller, epoch=epoch, ops=dumped))
