"""The process killed in the SIGKILL drill (test_journal): it submits a call and its steps
to a recorder whose database never answers (a port that accepts and stays silent), so the
first write hangs and everything else waits in the queue; it prints "submitted" right after
the last submit returns, with no chance for a sync, and waits to be killed.

Usage: python -m tests.integration.journal_child PORT JOURNAL_DIR SPOOL STEPS
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys

from hotline.core.ids import call_id_for, intake_case_id_for
from hotline.core.records import CallStarted, CaseOpened, CaseStep, Op
from hotline.db.engine import make_engine
from hotline.db.recorder import Recorder

AT = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)
LINKEDID = "9.1"


def drill_ops(steps: int) -> list[Op]:
    call = call_id_for(LINKEDID)
    case = intake_case_id_for(call)
    return [
        CallStarted(
            call_id=call,
            linkedid=LINKEDID,
            channel_id=LINKEDID,
            entry="hotline",
            caller_number=None,
            at=AT,
        ),
        CaseOpened(
            case_id=case,
            call_id=call,
            at=AT,
            channel="hotline",
            case_class=None,
            elder_id=None,
            identified=False,
        ),
        *(CaseStep(case_id=case, at=AT, kind="step", detail={"n": n}) for n in range(steps)),
    ]


async def main(port: int, journal_dir: str, spool: str, steps: int) -> None:
    engine = make_engine(f"postgresql+asyncpg://u:p@127.0.0.1:{port}/silent")
    recorder = Recorder(engine, spool, journal_dir=journal_dir, write_timeout=600)
    writing = asyncio.create_task(recorder.run())
    ops = drill_ops(steps)
    recorder.submit(ops[0])
    await asyncio.sleep(0.2)  # the recorder takes it and hangs in its first write
    for n, op in enumerate(ops[1:]):
        recorder.submit(op)
        if n % 100 == 0:
            await asyncio.sleep(0)  # as calls would: the loop turns between submits
    print("submitted", flush=True)
    await asyncio.sleep(3600)
    writing.cancel()


if __name__ == "__main__":
    port, journal_dir, spool, steps = sys.argv[1:]
    asyncio.run(main(int(port), journal_dir, spool, int(steps)))
