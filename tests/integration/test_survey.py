"""The satisfaction survey (R21) on the real stack: an operator's softphone answers a SIPp
caller, the API hands the caller to the survey, the operator is free at once, and the
caller answers on the keypad with RFC 2833 DTMF (tests/sipp/caller_survey.xml). A
dissatisfied answer sends the case back to its owner (R20)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import secrets
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import asyncpg
import pytest
from playwright.async_api import expect
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.core.records import SurveyAnswered
from hotline.db import migrate
from hotline.db.engine import make_engine
from hotline.db.records import apply
from tests.browser.conftest import NewPage
from tests.integration import sipp
from tests.integration.conftest import Service
from tests.integration.floorkit import Floor
from tests.integration.pg import scratch_database, sqlalchemy_url
from tests.integration.sipp import SippRun
from tests.integration.test_calls import STRANGER, finished_call, steps
from tests.integration.test_console import WAIT_MS, log_in
from tests.integration.test_console import operator as console_operator
from tests.integration.test_recorder import AT, call_ops
from tests.integration.test_transfers import call_in_progress

pytestmark = pytest.mark.integration

WAIT_S = 3  # HOTLINE_SURVEY_WAIT_S: how long the survey waits for a key
TALK_MS = 7000  # the caller talks this long before pressing: the survey is asked meanwhile


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def started(service: Service, **env: str) -> AsyncIterator[Floor]:
    await service.start(HOTLINE_SURVEY_WAIT_S=str(WAIT_S), **env)
    async with aiohttp.ClientSession() as http:
        made = Floor(service, http)
        try:
            yield made
        finally:
            await made.undo()


@pytest.fixture
async def floor(service: Service) -> AsyncIterator[Floor]:
    """The service with the synthesised Mandarin prompts and a 3 s wait for a key."""
    async for made in started(service):
        yield made


@pytest.fixture
async def short_floor(service: Service) -> AsyncIterator[Floor]:
    """... with a short recording in place of the (long) spoken question."""
    async for made in started(service, HOTLINE_PROMPT_SURVEY_QUESTION="sound:beep"):
        yield made


class Surveyed:
    """A caller answered by a fresh operator, talking, with the call and case ids known."""

    def __init__(self, floor: Floor, db: asyncpg.Connection) -> None:
        self.floor, self.db = floor, db

    async def start(self, keys: str, *, limit: float = 60, queue: str | None = None) -> None:
        """`queue`: the test's own, with its operator made already (self.operator_id and
        self.phone); else a new queue and operator."""
        floor, db = self.floor, self.db
        if queue is None:
            queue = await floor.queue()
            self.operator_id, self.phone = await floor.operator({queue: 0})
        await floor.route("hotline", queue)
        self.since = now()
        self.caller: asyncio.Task[SippRun] = asyncio.create_task(
            sipp.call(
                "12349",
                STRANGER,
                hold_ms=TALK_MS,
                limit=limit,
                scenario="caller_survey.xml",
                keys={"keys": keys},
            )
        )
        await self.phone.wait_for("answered")
        self.call_id = await call_in_progress(db, self.since)
        self.case_id = await db.fetchval("SELECT case_id FROM calls WHERE id = $1", self.call_id)
        async with asyncio.timeout(10):  # the case is the operator's (R14), as recorded
            while await self.owner() != self.operator_id:
                await asyncio.sleep(0.1)

    async def owner(self) -> int | None:
        owner: int | None = await self.db.fetchval(
            "SELECT owner_operator_id FROM cases WHERE id = $1", self.case_id
        )
        return owner

    async def survey(self) -> None:
        """Ask for the survey: the operator is free at once, the caller still on the line."""
        floor = self.floor
        reply = await floor.api("POST", f"/api/calls/{self.call_id}/survey")
        assert reply == {"status": "surveying"}
        await self.phone.wait_for("ended", limit=3)  # the operator's leg is released
        live = (await floor.api("GET", "/api/floor"))["operators"][str(self.operator_id)]
        assert live["state"] != "on_call" and live["calls"] == 0
        assert not self.caller.done()  # ... and the caller stays for the survey

    async def answer(self) -> asyncpg.Record:
        """The caller's run, then the survey's row once the recorder wrote it."""
        run = await self.caller
        assert run.ok, run.output
        async with asyncio.timeout(10):
            while True:
                row = await self.db.fetchrow(
                    "SELECT * FROM survey_answers WHERE call_id = $1", self.call_id
                )
                if row is not None:
                    return row
                await asyncio.sleep(0.1)

    async def step(self, kind: str) -> dict[str, Any]:
        async with asyncio.timeout(10):
            while True:
                detail = await self.db.fetchval(
                    "SELECT detail FROM case_events WHERE case_id = $1 AND kind = $2",
                    self.case_id,
                    kind,
                )
                if detail is not None:  # jsonb comes as its text
                    loaded: dict[str, Any] = json.loads(detail)
                    return loaded
                await asyncio.sleep(0.1)


async def provider(floor: Floor) -> int:
    made = await floor.api(
        "POST",
        "/api/organisations",
        {"kind": "provider", "name": f"助餐点 {secrets.token_hex(3)}"},
    )
    return int(made["id"])


async def test_a_satisfied_caller_presses_5(floor: Floor, db: asyncpg.Connection) -> None:
    call = Surveyed(floor, db)
    await call.start("5")
    org_id = await provider(floor)
    await floor.api(
        "POST",
        f"/api/cases/{call.case_id}/service-order",
        {"org_id": org_id, "service": "meals"},
    )
    await call.survey()

    row = await call.answer()

    assert (row["outcome"], row["score"]) == ("answered", 5)
    assert row["case_id"] == call.case_id
    assert row["operator_id"] == call.operator_id  # who handed over
    assert row["org_id"] == org_id  # the provider of the case's service order
    assert call.since < row["asked_at"] < now()
    detail = await call.step("survey_answered")
    assert detail == {"outcome": "answered", "score": 5, "verdict": "satisfied", "asked": 1}
    ended = await finished_call(db, call.since)
    assert ended["ended_by"] == "service"  # thanked, then hung up by us
    kinds = await steps(db, call.case_id)
    assert kinds.index("survey_asked") < kinds.index("survey_answered")
    assert "reopened" not in kinds
    status = await db.fetchval("SELECT status FROM cases WHERE id = $1", call.case_id)
    assert status == "follow_up"  # the service order's follow-up stands (R20)


async def test_no_key_asks_again_once_then_times_out(
    short_floor: Floor, db: asyncpg.Connection
) -> None:
    call = Surveyed(short_floor, db)
    await call.start("none")
    await call.survey()

    row = await call.answer()

    assert (row["outcome"], row["score"]) == ("timeout", None)
    assert row["org_id"] is None  # no service order on this case
    detail = await call.step("survey_answered")
    assert (detail["outcome"], detail["asked"], detail["verdict"]) == ("timeout", 2, None)


async def test_wrong_keys_twice_end_as_invalid(floor: Floor, db: asyncpg.Connection) -> None:
    call = Surveyed(floor, db)
    await call.start("bad")  # 9, then * on the repeated question
    await call.survey()

    row = await call.answer()

    assert (row["outcome"], row["score"]) == ("invalid", None)
    detail = await call.step("survey_answered")
    assert (detail["outcome"], detail["asked"]) == ("invalid", 2)


async def test_a_dissatisfied_caller_reopens_the_closed_case_to_its_owner(
    floor: Floor, db: asyncpg.Connection
) -> None:
    call = Surveyed(floor, db)
    await call.start("1")
    case = f"/api/cases/{call.case_id}"
    await floor.api("PATCH", case, {"class": "consultation_service"})
    closed = await floor.api("POST", f"{case}/close", {"reason": "answered on the phone"})
    assert closed["status"] == "closed"
    await call.survey()

    row = await call.answer()

    assert (row["outcome"], row["score"]) == ("answered", 1)
    reopened = await call.step("reopened")
    assert reopened == {"reason": "dissatisfied", "score": 1}
    assert (await call.step("survey_answered"))["verdict"] == "dissatisfied"
    case_row = await db.fetchrow(
        "SELECT status, closed_at, owner_operator_id FROM cases WHERE id = $1", call.case_id
    )
    assert (case_row["status"], case_row["closed_at"]) == ("in_progress", None)
    assert case_row["owner_operator_id"] == call.operator_id
    task = await db.fetchrow(
        "SELECT kind, status, due_at, owner_operator_id, created_at FROM case_tasks"
        " WHERE case_id = $1 AND kind = 'dissatisfied'",
        call.case_id,
    )
    assert task is not None and task["status"] == "open"
    assert task["owner_operator_id"] == call.operator_id  # back to its owner
    assert task["due_at"] - task["created_at"] == dt.timedelta(days=1)


async def test_the_operator_hands_over_with_the_console_button(
    floor: Floor, new_page: NewPage, db: asyncpg.Connection
) -> None:
    queue = await floor.queue()
    call = Surveyed(floor, db)
    call.operator_id, username, call.phone = await console_operator(floor, queue)
    page = await new_page()
    await log_in(page, floor, username)
    await call.start("5", queue=queue)
    button = page.locator("#btn-survey")
    await expect(button).to_be_visible(timeout=WAIT_MS)

    await button.click()

    await call.phone.wait_for("ended", limit=5)
    await expect(button).to_have_count(0, timeout=WAIT_MS)  # the controls leave at once
    row = await call.answer()
    assert (row["outcome"], row["score"], row["operator_id"]) == ("answered", 5, call.operator_id)
    asked = await db.fetchval(
        "SELECT actor FROM case_events WHERE case_id = $1 AND kind = 'survey_asked'",
        call.case_id,
    )
    assert asked == username  # who pressed the button


@pytest.fixture
async def engine() -> AsyncIterator[AsyncEngine]:
    """A scratch database of its own, migrated."""
    async with scratch_database() as db:
        url = sqlalchemy_url(db)
        await asyncio.to_thread(migrate.upgrade, url)
        made = make_engine(url)
        yield made
        await made.dispose()


async def test_an_answer_replayed_after_an_outage_is_written_once(engine: AsyncEngine) -> None:
    """The recorder may apply a record twice (its spool replayed): one row, one task, and a
    case closed again since is not reopened a second time. The provider is the one of the
    case's latest service order."""
    ops = call_ops("survey-replay")
    case_id, call_id = ops[3].case_id, ops[3].call_id  # type: ignore[union-attr]
    async with engine.begin() as conn:
        for op in ops:
            await apply(conn, op)
        orgs = []
        for age in (2, 1):  # an older order, then the latest
            org = (
                await conn.execute(
                    text(
                        "INSERT INTO organisations (kind, name)"
                        " VALUES ('provider', :n) RETURNING id"
                    ),
                    {"n": f"provider {age}"},
                )
            ).scalar_one()
            await conn.execute(
                text(
                    "INSERT INTO case_tasks (id, case_id, kind, due_at, created_at, org_id)"
                    " VALUES (:id, :case, 'service_order', :at, :at, :org)"
                ),
                {
                    "id": uuid.uuid4(),
                    "case": case_id,
                    "at": AT - dt.timedelta(days=age),
                    "org": org,
                },
            )
            orgs.append(org)
        await conn.execute(
            text("UPDATE cases SET status = 'closed', closed_at = :at WHERE id = :case"),
            {"at": AT, "case": case_id},
        )
    later = AT + dt.timedelta(hours=1)
    answer = SurveyAnswered(
        survey_id=uuid.uuid4(),
        case_id=case_id,
        call_id=call_id,
        operator_id=None,
        asked_at=AT,
        outcome="answered",
        score=2,
        at=later,
        reopen_due_at=later + dt.timedelta(days=1),
    )

    async def replay() -> None:
        async with engine.begin() as conn:
            await apply(conn, answer)

    await replay()
    async with engine.begin() as conn:  # the owner closes it again; then a replay
        await conn.execute(text("UPDATE cases SET status = 'closed' WHERE id = :c"), {"c": case_id})
    await replay()

    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT org_id, score FROM survey_answers"))).all()
        tasks = (
            await conn.execute(
                text("SELECT due_at, detail FROM case_tasks WHERE kind = 'dissatisfied'")
            )
        ).all()
        status = (
            await conn.execute(text("SELECT status FROM cases WHERE id = :c"), {"c": case_id})
        ).scalar_one()
    assert [tuple(r) for r in rows] == [(orgs[1], 2)]
    assert len(tasks) == 1 and tasks[0].due_at == later + dt.timedelta(days=1)
    assert tasks[0].detail == {"survey_id": str(answer.survey_id), "score": 2}
    assert status == "closed"
