"""The journal: every record the recorder accepts is on disk before it is queued (issue 16).

The recorder's queue lives in memory, so a killed process used to lose what it had not yet
written. Now `append` writes each operation as one JSON line with a single write(2) on an
O_APPEND descriptor, with no buffer of ours in between: when it returns, the line is in the
kernel's page cache, which outlives the process, so a SIGKILL right after it loses nothing.
What the page cache does not survive is a power loss or a kernel crash: `keep_synced` fsyncs
(in a worker thread, so the event loop never waits on the disk) at most every `sync_every_s`
(10 ms) after something was appended, so such a loss costs at most that last window.

Lines go to segments, ``journal-<n>.jsonl``, a new one every `segment_bytes` (4 MiB). The
recorder reports how many operations, in submission order, are settled (written to
PostgreSQL, set aside as rejected, or appended to the spool, which is fsynced itself); a
segment whose operations are all settled is deleted, so the journal holds only what may still
be lost elsewhere, and a few MiB at most while the database keeps up.

Segments found at start-up are `leftovers` of a process that did not close its journal (it
was killed): the recorder writes them before anything new and then deletes them, reading a
batch at a time (`OpFile`) so that memory stays flat however much was left.

One journal per directory: a lock (flock) taken when it opens and released when it closes
(or when an unclosed journal is garbage: a recorder built and never run does not keep the
directory from the next one), so that a second recorder, or `hand_over` while the recorder
still runs, cannot read and delete segments that are still being written.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import re
import threading
import weakref
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from hotline.core.records import OP_ADAPTER, Op

log = logging.getLogger(__name__)

SEGMENT_BYTES = 4 * 1024 * 1024
SYNC_EVERY_S = 0.01
_SEGMENT = re.compile(r"journal-(\d+)\.jsonl")


class JournalBusy(RuntimeError):
    """Another journal (a recorder still running, here or in another process) holds the
    directory."""


class OpFile:
    """A file of operations, one JSON line each (a journal segment, the spool), read back a
    batch at a time. Lines that cannot be read (torn by a crash mid-write) are skipped and
    counted in `unreadable`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.unreadable = 0

    def batches(self, size: int) -> Iterator[list[Op]]:
        if not self.path.exists():
            return
        batch: list[Op] = []
        with self.path.open("rb") as f:
            for line in f:
                if not line.strip():
                    continue
                try:
                    batch.append(OP_ADAPTER.validate_json(line))
                except ValidationError:
                    self.unreadable += 1
                    continue
                if len(batch) >= size:
                    yield batch
                    batch = []
        if batch:
            yield batch

    def delete(self) -> None:
        self.path.unlink(missing_ok=True)


def segments(directory: Path) -> list[Path]:
    """The segment files in `directory`, oldest first (by number: 10 comes after 9)."""
    numbered = []
    for path in directory.glob("journal-*.jsonl"):
        if match := _SEGMENT.fullmatch(path.name):
            numbered.append((int(match[1]), path))
    return [path for _, path in sorted(numbered)]


def _lock(directory: Path) -> int:
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(directory / "lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as err:
        os.close(fd)
        raise JournalBusy(f"journal {directory} is in use by another recorder") from err
    return fd


@contextlib.contextmanager
def locked(directory: Path) -> Iterator[None]:
    """Hold the journal directory as a Journal does: for `hand_over`."""
    fd = _lock(directory)
    try:
        yield
    finally:
        os.close(fd)


@dataclass
class _Segment:
    path: Path
    first: int  # the submission number of its first operation
    end: int  # one past its last
    fd: int | None  # open while it is the one written to
    size: int = 0


class Journal:
    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        segment_bytes: int = SEGMENT_BYTES,
        sync_every_s: float = SYNC_EVERY_S,
    ) -> None:
        self.directory = Path(directory)
        self._lock_fd = _lock(self.directory)
        self._open = {self._lock_fd}  # what the finalizer closes if close() never runs
        self._finalizer = weakref.finalize(self, _close_all, self._open)
        found = segments(self.directory)
        self.leftovers = [OpFile(path) for path in found]
        self._next_number = 1 + max((_number(path) for path in found), default=0)
        self._segment_bytes = segment_bytes
        self._every = sync_every_s
        self._live: deque[_Segment] = deque()  # oldest first; the last one may be open
        self._appended = 0
        self._settled = 0
        self._retired: list[int] = []  # descriptors of full segments: sync once more, close
        self._new_entries = False  # a segment was created: sync the directory too
        self._dirty = asyncio.Event()
        self._fd_lock = threading.Lock()  # between close() and a sync in the worker thread
        self._closed = False
        self._failing = False
        self.syncs = 0

    @property
    def unsettled(self) -> int:
        return self._appended - self._settled

    def append(self, op: Op) -> None:
        """One line, one write(2): in the page cache when this returns. Never raises: a
        journal that cannot write (disk full) is logged once and the op still goes on to
        the queue, as it did before there was a journal. After `close` the directory is the
        next reader's (a new recorder, `hand_over`): nothing is appended."""
        if self._closed:
            return
        line = OP_ADAPTER.dump_json(op) + b"\n"
        number = self._appended
        self._appended += 1  # in the count to settle even if the line cannot be written
        segment = None
        try:
            segment = self._writing(number)
            segment.end = self._appended
            segment.size += _write_all(segment.fd, line)
        except OSError as err:
            if segment is not None and segment.fd is not None:
                self._retire(segment)  # a torn line ends its segment: the next starts clean
            if not self._failing:
                self._failing = True
                log.error("journal: cannot write in %s (%s)", self.directory, type(err).__name__)
            return
        if self._failing:
            self._failing = False
            log.warning("journal: writing again")
        self._dirty.set()
        if segment.size >= self._segment_bytes:
            self._retire(segment)

    def settle(self, count: int) -> None:
        """`count` more operations, in submission order, are settled: delete the segments
        (full ones, no longer written to) whose operations all are."""
        self._settled += count
        while self._live and self._live[0].fd is None and self._live[0].end <= self._settled:
            segment = self._live.popleft()
            try:
                segment.path.unlink(missing_ok=True)
            except OSError as err:
                log.error("journal: cannot delete %s (%s)", segment.path, type(err).__name__)

    async def keep_synced(self) -> None:
        """Group sync until cancelled: one fsync for whatever was appended in the last
        `sync_every_s`, none while nothing is. Run by the recorder beside its writes."""
        loop = asyncio.get_running_loop()
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            started = loop.time()
            retired, self._retired = self._retired, []
            current = self._live[-1].fd if self._live else None
            new_entries, self._new_entries = self._new_entries, False
            try:
                await asyncio.to_thread(self._sync, retired, current, new_entries)
            except OSError as err:
                log.error("journal: sync failed (%s)", type(err).__name__)
            await asyncio.sleep(max(0.0, self._every - (loop.time() - started)))

    def close(self) -> None:
        """Sync and close; delete what is settled and rewrite the first segment left without
        its settled head, so that what stays on disk is exactly what is not settled (for the
        next recorder or `hand_over`); then release the directory. Blocks on the disk: called
        once, when the recorder stops."""
        if self._closed:
            return
        with self._fd_lock:  # a sync job still to run finds it closed and does nothing
            self._closed = True
            self._retired = []
            for segment in self._live:
                segment.fd = None
            for fd in self._open - {self._lock_fd}:  # also those of a sync job never run
                self._sync_and_close(fd)
        self.settle(0)
        try:
            self._drop_settled_head()
        except OSError as err:  # then the head is replayed once more: harmless, idempotent
            log.error("journal: cannot trim %s (%s)", self.directory, type(err).__name__)
        self._open.discard(self._lock_fd)
        os.close(self._lock_fd)
        self._finalizer.detach()

    def _writing(self, first: int) -> _Segment:
        if self._live and self._live[-1].fd is not None:
            return self._live[-1]
        path = self.directory / f"journal-{self._next_number}.jsonl"
        self._next_number += 1
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC
        fd = os.open(path, flags, 0o600)
        self._open.add(fd)
        segment = _Segment(path, first, first, fd)
        self._live.append(segment)
        self._new_entries = True
        return segment

    def _retire(self, segment: _Segment) -> None:
        """Full: the next append opens a new segment; the sync task syncs and closes it."""
        assert segment.fd is not None
        self._retired.append(segment.fd)
        segment.fd = None
        self.settle(0)

    def _sync(self, retired: list[int], current: int | None, new_entries: bool) -> None:
        with self._fd_lock:
            if self._closed:  # close() synced and closed them all
                return
            for fd in retired:
                self._sync_and_close(fd)
            if current is not None:
                os.fsync(current)
            if new_entries:
                _sync_directory(self.directory)
            self.syncs += 1

    def _sync_and_close(self, fd: int) -> None:
        try:
            os.fsync(fd)
        except OSError as err:
            log.error("journal: sync failed (%s)", type(err).__name__)
        finally:
            self._open.discard(fd)
            os.close(fd)

    def _drop_settled_head(self) -> None:
        if not self._live or self._live[0].first >= self._settled:
            return
        head = self._live[0]
        skip = self._settled - head.first
        trimmed = head.path.with_suffix(".trim")
        with head.path.open("rb") as src, trimmed.open("wb") as dst:
            for number, line in enumerate(src):
                if number >= skip:
                    dst.write(line)
            dst.flush()
            os.fsync(dst.fileno())
        os.replace(trimmed, head.path)
        _sync_directory(self.directory)
        head.first = self._settled


def _number(path: Path) -> int:
    match = _SEGMENT.fullmatch(path.name)
    return int(match[1]) if match else 0


def _write_all(fd: int | None, data: bytes) -> int:
    """write(2) on a regular file writes it all unless the disk is full; a short write is
    finished rather than leaving a torn line that the next one would run into."""
    assert fd is not None
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    return len(data)


def _close_all(descriptors: set[int]) -> None:
    for fd in descriptors:
        with contextlib.suppress(OSError):
            os.close(fd)
    descriptors.clear()


def _sync_directory(directory: Path) -> None:
    """A new segment's name is on disk only once its directory is synced."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
