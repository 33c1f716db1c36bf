"""The journal alone (no database): lines on disk at append, segments, settling, leftovers."""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import uuid
from pathlib import Path

import pytest

from hotline.core.records import OP_ADAPTER, CaseStep, Op
from hotline.db.journal import Journal, JournalBusy, OpFile, locked, segments

AT = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)
CASE = uuid.UUID("00000000-0000-4000-8000-000000000001")


def steps(n: int) -> list[Op]:
    return [CaseStep(case_id=CASE, at=AT, kind="step", detail={"n": i}) for i in range(n)]


def read_all(path: Path) -> list[Op]:
    return [op for batch in OpFile(path).batches(1000) for op in batch]


def test_an_op_is_in_the_file_when_append_returns(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    ops = steps(3)
    for op in ops:
        journal.append(op)
    # not closed, not synced: read back by another open, as a new process would
    (segment,) = segments(tmp_path)
    assert segment.name == "journal-1.jsonl"
    assert read_all(segment) == ops
    assert segment.read_bytes() == b"".join(OP_ADAPTER.dump_json(op) + b"\n" for op in ops)
    journal.close()


def test_a_second_journal_on_the_same_directory_is_refused(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    with pytest.raises(JournalBusy):
        Journal(tmp_path)
    with pytest.raises(JournalBusy), locked(tmp_path):  # nor handed over while it runs
        pass
    journal.close()
    Journal(tmp_path).close()  # released on close


def test_segments_rotate_and_settled_ones_are_deleted(tmp_path: Path) -> None:
    line = len(OP_ADAPTER.dump_json(steps(1)[0])) + 1
    journal = Journal(tmp_path, segment_bytes=10 * line)  # ten ops a segment
    ops = steps(35)
    for op in ops:
        journal.append(op)
    names = [p.name for p in segments(tmp_path)]
    assert names == [f"journal-{n}.jsonl" for n in (1, 2, 3, 4)]
    journal.settle(9)  # the first segment is not all settled yet
    assert len(segments(tmp_path)) == 4
    journal.settle(16)  # 25: the first two are
    assert [p.name for p in segments(tmp_path)] == ["journal-3.jsonl", "journal-4.jsonl"]
    journal.settle(10)  # 35: the full third goes; the fourth is still written to
    assert [p.name for p in segments(tmp_path)] == ["journal-4.jsonl"]
    assert journal.unsettled == 0
    journal.close()  # all settled: nothing is left
    assert segments(tmp_path) == []


def test_close_keeps_exactly_what_is_not_settled(tmp_path: Path) -> None:
    line = len(OP_ADAPTER.dump_json(steps(1)[0])) + 1
    journal = Journal(tmp_path, segment_bytes=10 * line)
    ops = steps(25)
    for op in ops:
        journal.append(op)
    journal.settle(13)
    journal.close()
    left = Journal(tmp_path)
    assert [read_all(f.path) for f in left.leftovers] == [ops[13:20], ops[20:]]
    left.close()


def test_leftovers_are_read_oldest_first_by_number(tmp_path: Path) -> None:
    ops = steps(3)
    for number, op in zip((10, 9, 2), ops, strict=True):
        (tmp_path / f"journal-{number}.jsonl").write_bytes(OP_ADAPTER.dump_json(op) + b"\n")
    (tmp_path / "journal-x.jsonl").write_text("not a segment")
    journal = Journal(tmp_path)
    assert [f.path.name for f in journal.leftovers] == [
        "journal-2.jsonl",
        "journal-9.jsonl",
        "journal-10.jsonl",
    ]
    journal.append(ops[0])  # a new segment after the last one left
    assert segments(tmp_path)[-1].name == "journal-11.jsonl"
    journal.close()


def test_a_torn_last_line_is_skipped_and_counted(tmp_path: Path) -> None:
    ops = steps(3)
    whole = b"".join(OP_ADAPTER.dump_json(op) + b"\n" for op in ops)
    torn = OP_ADAPTER.dump_json(steps(1)[0])[:-7]  # killed mid-write: no end, no newline
    (tmp_path / "journal-1.jsonl").write_bytes(whole + torn)
    journal = Journal(tmp_path)
    (left,) = journal.leftovers
    assert [op for batch in left.batches(2) for op in batch] == ops
    assert left.unreadable == 1
    journal.close()


def test_batches_are_read_a_few_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "journal-1.jsonl"
    path.write_bytes(b"".join(OP_ADAPTER.dump_json(op) + b"\n" for op in steps(7)))
    assert [len(b) for b in OpFile(path).batches(3)] == [3, 3, 1]


async def synced(journal: Journal, count: int) -> None:
    async with asyncio.timeout(5):
        while journal.syncs < count:
            await asyncio.sleep(0.001)


async def test_appends_are_synced_in_groups(tmp_path: Path) -> None:
    journal = Journal(tmp_path, sync_every_s=0.2)
    syncing = asyncio.create_task(journal.keep_synced())
    try:
        await asyncio.sleep(0.05)
        assert journal.syncs == 0  # nothing appended: no sync
        for op in steps(1000):
            journal.append(op)
        await synced(journal, 1)  # one for the thousand
        for op in steps(10):  # within the next 200 ms: one more, at the window's end
            journal.append(op)
            await asyncio.sleep(0.005)
        assert journal.syncs == 1
        await synced(journal, 2)
        await asyncio.sleep(0.3)
        assert journal.syncs == 2  # and none while idle
    finally:
        syncing.cancel()
        await asyncio.gather(syncing, return_exceptions=True)
        journal.close()


def test_nothing_is_appended_after_close(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.close()
    journal.append(steps(1)[0])
    assert segments(tmp_path) == []


def test_a_journal_never_closed_releases_the_directory_when_dropped(tmp_path: Path) -> None:
    """A recorder built and never run (start-up failed after it) does not keep the next one
    (or a hand-over) out."""
    journal = Journal(tmp_path)
    journal.append(steps(1)[0])
    del journal
    gc.collect()
    again = Journal(tmp_path)
    assert len(again.leftovers) == 1
    again.close()
