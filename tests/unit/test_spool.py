import datetime as dt
import uuid
from pathlib import Path

from hotline.core.ids import call_id_for, intake_case_id_for
from hotline.core.records import CallEnded, CallStarted, CaseStep
from hotline.db.spool import Spool

AT = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)


def test_ids_are_stable_across_processes() -> None:
    assert call_id_for("1763884800.42") == call_id_for("1763884800.42")
    assert call_id_for("1763884800.42") != call_id_for("1763884800.43")
    call = call_id_for("1763884800.42")
    assert intake_case_id_for(call) == intake_case_id_for(call) != call


def test_spool_round_trip_keeps_order_and_types(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s" / "spool.jsonl")
    assert not spool.pending()
    call = uuid.uuid4()
    ops = [
        CallStarted(
            call_id=call,
            linkedid="1.1",
            channel_id="1.1",
            entry="hotline",
            caller_number=None,
            at=AT,
        ),
        CaseStep(case_id=uuid.uuid4(), at=AT, kind="greeted", detail={"n": 1}),
        CallEnded(call_id=call, at=AT, cause=16, cause_txt="Normal Clearing", ended_by="caller"),
    ]
    spool.append(ops[:2])
    spool.append(ops[2:])
    assert spool.pending()
    read, unreadable = spool.read()
    assert read == ops
    assert unreadable == 0
    spool.replace(ops[2:])
    assert spool.read() == ([ops[2]], 0)
    spool.replace([])
    assert not spool.pending()


def test_unreadable_lines_are_counted_not_fatal(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.jsonl")
    step = CaseStep(case_id=uuid.uuid4(), at=AT, kind="greeted")
    spool.append([step])
    with spool.path.open("a") as f:
        f.write('{"op": "nonsense"}\n')
    assert spool.read() == ([step], 1)
