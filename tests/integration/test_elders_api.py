"""Elders' records through the API against a real PostgreSQL migrated to head: search
(summaries only), the full record as the access rules allow (R27), opening one with a
reason, audited edits, and the access log."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.exc import DBAPIError

from hotline.app import http_app
from hotline.db import migrate
from hotline.db.engine import make_engine
from hotline.elders.store import age_on
from tests.integration.pg import create_database, sqlalchemy_url
from tests.integration.test_admin_api import ENV_TOKEN, Api, _drop, _on_postgres, _setup

pytestmark = pytest.mark.integration

TZ = ZoneInfo("Asia/Shanghai")
SUMMARY = {"id", "full_name", "district", "age", "matched"}


@pytest.fixture(scope="session")
def migrated() -> Iterator[str]:
    name = asyncio.run(create_database("hotline_elders_template"))
    try:
        migrate.upgrade(sqlalchemy_url(name))
        yield name
    finally:
        asyncio.run(_drop(name))


@pytest.fixture
async def api(migrated: str) -> AsyncIterator[Api]:
    db = f"hotline_elders_{secrets.token_hex(4)}"
    await _on_postgres(f'CREATE DATABASE "{db}" TEMPLATE "{migrated}"')
    try:
        engine = make_engine(sqlalchemy_url(db))
        app = http_app(engine, ENV_TOKEN, lambda: {"status": "ok"}, tz=TZ)
        try:
            async with TestClient(TestServer(app)) as client:
                state = Api(client, engine, {"admin": ENV_TOKEN, "bad": "not-a-token"}, {})
                await _setup(state)  # op1001 (token "operator"), op1002, a supervisor token
                await _elders(state)
                yield state
        finally:
            await engine.dispose()
    finally:
        await _drop(db)


async def _elder(api: Api, name: str, born: dt.date, **fields: Any) -> int:
    [(elder_id,)] = await api.sql(
        "INSERT INTO elders (full_name, birth_date, address, district, health_conditions, "
        "medical_history, medication, living_situation, children, life_events) VALUES "
        "(:name, :born, :address, :district, :health, :history, :medication, :living, "
        ":children, :events) RETURNING id",
        name=name,
        born=born,
        address=fields.get("address", "长青街 8 号"),
        district=fields.get("district", "示范区"),
        health=fields.get("health", "高血压"),
        history=fields.get("history", "2019 年轻度脑梗"),
        medication=fields.get("medication", "氨氯地平"),
        living="独居",
        children="一子一女",
        events="2021 年丧偶",
    )
    api.ids[name] = elder_id
    return int(elder_id)


async def _elders(api: Api) -> None:
    """王秀英 (phones, contacts, a terminal), Wang Xiuying, 欧阳秀英, and 李建国 whose open
    case op1001 owns."""
    wang = await _elder(api, "王秀英", dt.date(1941, 3, 8))
    await api.sql(
        "INSERT INTO elder_phones (elder_id, number, label) VALUES "
        "(:e, '13800000001', 'mobile'), (:e, '1088886666', 'home')",
        e=wang,
    )
    await api.sql(
        "INSERT INTO contacts (elder_id, full_name, relation, tier, number, is_guardian) VALUES "
        "(:e, '刘芳', '女儿', 2, '13900000012', false), "
        "(:e, '邻居', '邻居', 1, '13900000013', false), "
        "(:e, '刘强', '儿子', 1, '13900000011', true)",
        e=wang,
    )
    await api.sql(
        "INSERT INTO terminals (elder_id, number, serial) VALUES (:e, '18600000001', 'T-1')",
        e=wang,
    )
    await _elder(api, "Wang Xiuying", dt.date(1950, 1, 1), district="东城区")
    await _elder(api, "欧阳秀英", dt.date(1939, 12, 31))
    li = await _elder(api, "李建国", dt.date(1938, 11, 2))
    api.ids["li_case"] = await _case(api, li, api.ids["op1001"], "open")


async def _case(
    api: Api,
    elder_id: int,
    owner: int | None,
    status: str,
    opened: dt.timedelta = dt.timedelta(hours=1),
) -> Any:
    case_id = uuid.uuid4()
    await api.sql(
        "INSERT INTO cases (id, opened_at, closed_at, class, status, channel, identified, "
        "elder_id, owner_operator_id) VALUES (:id, now() - CAST(:opened AS interval), "
        "CASE WHEN :status = 'closed' THEN now() - interval '1 day' END, 'life_help', "
        ":status, 'hotline', true, :elder, :owner)",
        id=case_id,
        opened=opened,
        status=status,
        elder=elder_id,
        owner=owner,
    )
    return case_id


async def _offer(
    api: Api, elder_id: int, operator_id: int, ago: dt.timedelta, call_id: uuid.UUID
) -> None:
    """What the screen pop writes when it shows a caller's record to an operator."""
    await api.sql(
        "INSERT INTO record_access (at, actor, operator_id, elder_id, why, call_id) VALUES "
        "(now() - CAST(:ago AS interval), 'system', :op, :elder, 'offered', :call)",
        ago=ago,
        op=operator_id,
        elder=elder_id,
        call=call_id,
    )


async def _looks(api: Api, elder_id: int) -> list[tuple[Any, ...]]:
    rows = await api.sql(
        "SELECT actor, operator_id, why, reason, call_id FROM record_access "
        "WHERE elder_id = :e AND actor <> 'system' ORDER BY id",
        e=elder_id,
    )
    return [tuple(row) for row in rows]


async def _audit(api: Api) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in await api.audit() if row.entity == "elder"]


def _today() -> dt.date:
    return dt.datetime.now(TZ).date()


# --- search ----------------------------------------------------------------------------------


async def test_search_by_name_start_and_part_case_folded(api: Api) -> None:
    status, hits = await api.call("POST", "/api/elders/search", "operator", {"q": "王"})  # 王
    assert status == 200
    assert [(h["full_name"], h["matched"]) for h in hits] == [("王秀英", "name")]
    status, hits = await api.call("POST", "/api/elders/search", "operator", {"q": "wang"})
    assert [h["full_name"] for h in hits] == ["Wang Xiuying"]
    assert hits[0]["district"] == "东城区"
    assert hits[0]["age"] == age_on(dt.date(1950, 1, 1), _today())
    # A part of a name from three characters: 阳秀英 in 欧阳秀英, XIUY in Wang Xiuying.
    status, hits = await api.call("POST", "/api/elders/search", "operator", {"q": "阳秀英"})
    assert [h["full_name"] for h in hits] == ["欧阳秀英"]
    status, hits = await api.call("POST", "/api/elders/search", "operator", {"q": "XIUY"})
    assert [h["full_name"] for h in hits] == ["Wang Xiuying"]
    # LIKE's wildcards are plain text here.
    status, hits = await api.call("POST", "/api/elders/search", "operator", {"q": "%"})
    assert (status, hits) == (200, [])
    status, hits = await api.call("POST", "/api/elders/search", "operator", {"q": "W", "limit": 1})
    assert [h["full_name"] for h in hits] == ["Wang Xiuying"]


async def test_search_by_number_or_id_and_a_summary_has_no_health_data(api: Api) -> None:
    wang = api.ids["王秀英"]
    for q, matched in (
        ("138 0000 0001", "elder"),  # normalised: 138 0000 0001
        ("010-8888-6666", "elder"),
        ("+86 18600000001", "terminal"),  # +86 186...
        ("13900000011", "contact"),
        (str(wang), "id"),
    ):
        status, hits = await api.call("POST", "/api/elders/search", "operator", {"q": q})
        assert status == 200, hits
        assert [(h["id"], h["matched"]) for h in hits] == [(wang, matched)], q
        assert set(hits[0]) == SUMMARY
        text = json.dumps(hits, ensure_ascii=False)
        for private in ("高血压", "脑梗", "氨氯地平", "长青街", "13800000001", "刘强"):
            assert private not in text
    status, hits = await api.call("POST", "/api/elders/search", "operator", {"q": "13700000000"})
    assert (status, hits) == (200, [])


@pytest.mark.parametrize(
    ("query", "field"),
    [({}, "q"), ({"q": ""}, "q"), ({"q": "  "}, "q"), ({"q": "a", "limit": 51}, "limit")],
)
async def test_a_bad_search_names_its_field(api: Api, query: dict[str, Any], field: str) -> None:
    status, body = await api.call("POST", "/api/elders/search", "operator", query)
    assert (status, body["error"], body["field"]) == (422, "invalid", field)


# --- the full record and who may see it -------------------------------------------------


async def test_an_operator_with_no_tie_opens_the_record_with_a_reason(api: Api) -> None:
    wang = api.ids["王秀英"]
    status, body = await api.call("GET", f"/api/elders/{wang}", "operator")
    assert status == 403
    assert (body["error"], body["field"]) == ("forbidden", "reason")
    assert "reason" in body["detail"] and "高血压" not in json.dumps(body, ensure_ascii=False)
    assert await _looks(api, wang) == []

    status, body = await api.call("POST", f"/api/elders/{wang}/open", "operator", {"reason": "x"})
    assert (status, body["field"]) == (422, "reason")
    reason = "daughter asked for the address"
    status, record = await api.call(
        "POST", f"/api/elders/{wang}/open", "operator", {"reason": reason}
    )
    assert status == 200
    assert (record["id"], record["full_name"], record["health_conditions"]) == (
        wang,
        "王秀英",
        "高血压",
    )
    assert await _looks(api, wang) == [("op1001", api.ids["op1001"], "search", reason, None)]
    # A search opens that one look, not the next.
    status, _ = await api.call("GET", f"/api/elders/{wang}", "operator")
    assert status == 403


async def test_the_full_record(api: Api) -> None:
    wang = api.ids["王秀英"]
    older = await _case(api, wang, api.ids["op1002"], "in_progress", opened=dt.timedelta(days=2))
    newer = await _case(api, wang, None, "open", opened=dt.timedelta(hours=1))
    await _case(api, wang, None, "closed", opened=dt.timedelta(days=3))
    calls = []
    for minutes in range(6):
        call_id = uuid.uuid4()
        calls.append(call_id)
        await api.sql(
            "INSERT INTO calls (id, linkedid, channel_id, entry, caller_kind, elder_id, "
            "started_at, answered_at, connected_at, operator_id) VALUES (:id, :l, :l, "
            "'hotline', 'elder', :e, now() - CAST(:ago AS interval), now(), now(), :op)",
            id=call_id,
            l=f"l.{minutes}",
            e=wang,
            ago=dt.timedelta(minutes=minutes),
            op=api.ids["op1001"],
        )
    status, record = await api.call("GET", f"/api/elders/{wang}", "supervisor")
    assert status == 200
    assert record["birth_date"] == "1941-03-08"
    assert record["age"] == age_on(dt.date(1941, 3, 8), _today())
    for key, value in {
        "address": "长青街 8 号",
        "district": "示范区",
        "medical_history": "2019 年轻度脑梗",
        "medication": "氨氯地平",
        "living_situation": "独居",
        "children": "一子一女",
        "life_events": "2021 年丧偶",
        "high_risk": False,
    }.items():
        assert record[key] == value, key
    assert record["phones"] == [
        {"number": "13800000001", "label": "mobile"},
        {"number": "1088886666", "label": "home"},
    ]
    assert [(c["full_name"], c["tier"], c["is_guardian"]) for c in record["contacts"]] == [
        ("刘强", 1, True),
        ("邻居", 1, False),
        ("刘芳", 2, False),
    ]
    assert [(t["number"], t["serial"], t["active"]) for t in record["terminals"]] == [
        ("18600000001", "T-1", True)
    ]
    assert [c["id"] for c in record["open_cases"]] == [str(newer), str(older)]
    assert record["open_cases"][1]["owner_operator_id"] == api.ids["op1002"]
    assert record["open_cases"][1]["class"] == "life_help"
    assert [c["id"] for c in record["last_calls"]] == [str(c) for c in calls[:5]]
    assert record["last_calls"][0]["operator_id"] == api.ids["op1001"]
    assert await _looks(api, wang) == [("desk", None, "supervisor", None, None)]

    status, body = await api.call("GET", "/api/elders/999999", "supervisor")
    assert (status, body["field"]) == (404, "elder_id")


async def test_an_operator_owning_a_case_sees_the_record_without_a_reason(api: Api) -> None:
    li = api.ids["李建国"]
    status, record = await api.call("GET", f"/api/elders/{li}", "operator")
    assert status == 200
    assert record["open_cases"][0]["owner_operator_id"] == api.ids["op1001"]
    assert await _looks(api, li) == [("op1001", api.ids["op1001"], "owner", None, None)]
    # Closed a day ago: still theirs to see (for the follow-up, R12).
    await api.sql("UPDATE cases SET status = 'closed', closed_at = now() - interval '1 day'")
    status, _ = await api.call("GET", f"/api/elders/{li}", "operator")
    assert status == 200
    await api.sql("UPDATE cases SET closed_at = now() - interval '8 days'")
    status, _ = await api.call("GET", f"/api/elders/{li}", "operator")
    assert status == 403


async def test_an_offered_call_opens_the_record_for_twelve_hours_from_the_offer(
    api: Api,
) -> None:
    wang, op = api.ids["王秀英"], api.ids["op1001"]
    old_call, call = uuid.uuid4(), uuid.uuid4()
    await _offer(api, wang, op, dt.timedelta(hours=13), old_call)
    status, _ = await api.call("GET", f"/api/elders/{wang}", "operator")
    assert status == 403
    await _offer(api, wang, op, dt.timedelta(hours=1), call)
    status, _ = await api.call("GET", f"/api/elders/{wang}", "operator")
    assert status == 200
    assert await _looks(api, wang) == [("op1001", op, "offered", None, call)]
    # The window runs from the offer, not from the last look under it (the access log is
    # append-only: a second elder, offered 12 hours ago and looked at just now).
    li, older = api.ids["欧阳秀英"], uuid.uuid4()
    await _offer(api, li, op, dt.timedelta(hours=12, minutes=1), older)
    await api.sql(
        "INSERT INTO record_access (at, actor, operator_id, elder_id, why, call_id) VALUES "
        "(now(), 'op1001', :op, :elder, 'offered', :call)",
        op=op,
        elder=li,
        call=older,
    )
    status, _ = await api.call("GET", f"/api/elders/{li}", "operator")
    assert status == 403
    # Another operator's offer is not op1001's.
    await _offer(api, li, api.ids["op1002"], dt.timedelta(minutes=1), uuid.uuid4())
    status, _ = await api.call("GET", f"/api/elders/{li}", "operator")
    assert status == 403


# --- edits ---------------------------------------------------------------------------------


async def test_an_edit_is_audited_with_before_and_after_of_what_changed(api: Api) -> None:
    li = api.ids["李建国"]
    [(stamp,)] = await api.sql("SELECT updated_at FROM elders WHERE id = :e", e=li)
    change = {"medication": "阿司匹林 100mg", "high_risk": True, "district": "示范区"}
    status, record = await api.call("PATCH", f"/api/elders/{li}", "operator", change)
    assert (status, record["field"]) == (403, "high_risk")  # a supervisor's to say (issue 15)
    assert await _audit(api) == []
    status, record = await api.call("PATCH", f"/api/elders/{li}", "supervisor", change)
    assert status == 200, record
    assert (record["medication"], record["high_risk"]) == ("阿司匹林 100mg", True)
    audit = await _audit(api)
    assert audit == [
        (
            "desk",
            "update",
            "elder",
            str(li),
            {"medication": "氨氯地平", "high_risk": False},
            {"medication": "阿司匹林 100mg", "high_risk": True},
        )
    ]
    [(after,)] = await api.sql("SELECT updated_at FROM elders WHERE id = :e", e=li)
    assert after > stamp
    assert dt.datetime.fromisoformat(record["updated_at"]) == after
    # Nothing new: no audit row. Clearing a text and a birth date: audited as null / ISO.
    status, _ = await api.call("PATCH", f"/api/elders/{li}", "supervisor", change)
    assert (status, len(await _audit(api))) == (200, 1)
    status, record = await api.call(
        "PATCH", f"/api/elders/{li}", "admin", {"life_events": None, "birth_date": "1938-11-03"}
    )
    assert (status, record["life_events"], record["birth_date"]) == (200, None, "1938-11-03")
    assert (await _audit(api))[-1][0] == "env-admin"
    assert (await _audit(api))[-1][4:] == (
        {"life_events": "2021 年丧偶", "birth_date": "1938-11-02"},
        {"life_events": None, "birth_date": "1938-11-03"},
    )


async def test_an_operator_with_no_tie_may_not_edit(api: Api) -> None:
    wang = api.ids["王秀英"]
    status, body = await api.call("PATCH", f"/api/elders/{wang}", "operator", {"medication": "x"})
    assert (status, body["field"]) == (403, "reason")
    [(medication,)] = await api.sql("SELECT medication FROM elders WHERE id = :e", e=wang)
    assert medication == "氨氯地平"
    assert await _audit(api) == []
    status, _ = await api.call("PATCH", f"/api/elders/{wang}", "supervisor", {"medication": "x"})
    assert status == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"birth_date": "tomorrow"}, "birth_date"),
        ({"birth_date": "2999-01-01"}, "birth_date"),
        ({"full_name": None}, "full_name"),
        ({"full_name": " "}, "full_name"),
        ({"high_risk": "yes"}, "high_risk"),
        ({"address": "x" * 201}, "address"),
        ({"colour": "blue"}, "colour"),
        ({"id": 1}, "id"),
    ],
)
async def test_a_bad_edit_names_its_field(api: Api, body: dict[str, Any], field: str) -> None:
    li = api.ids["李建国"]
    status, reply = await api.call("PATCH", f"/api/elders/{li}", "operator", body)
    assert (status, reply["error"], reply["field"]) == (422, "invalid", field)
    assert await _audit(api) == []


# --- the access log --------------------------------------------------------------------------


async def test_a_supervisor_reads_the_access_log_and_an_operator_may_not(api: Api) -> None:
    wang, li, op = api.ids["王秀英"], api.ids["李建国"], api.ids["op1001"]
    await api.call("POST", f"/api/elders/{wang}/open", "operator", {"reason": "son called"})
    await api.call("GET", f"/api/elders/{li}", "operator")
    await api.call("GET", f"/api/elders/{li}", "supervisor")

    status, body = await api.call("GET", "/api/record-access", "operator")
    assert (status, body["error"]) == (403, "forbidden")
    status, entries = await api.call("GET", "/api/record-access", "supervisor")
    assert status == 200
    assert [(e["actor"], e["kind"], e["elder_id"], e["why"], e["reason"]) for e in entries] == [
        ("desk", "access_log", None, "supervisor", None),  # this very read (R27)
        ("desk", "record", li, "supervisor", None),
        ("op1001", "record", li, "owner", None),
        ("op1001", "record", wang, "search", "son called"),
    ]
    assert [e["role"] for e in entries] == ["supervisor", "supervisor", "operator", "operator"]
    status, entries = await api.call("GET", f"/api/record-access?elder_id={wang}", "supervisor")
    assert [(e["operator_id"], e["kind"], e["why"]) for e in entries] == [
        (None, "access_log", "supervisor"),  # this read, of her rows
        (op, "record", "search"),
    ]
    status, entries = await api.call("GET", f"/api/record-access?operator_id={op}&limit=1", "admin")
    assert [(e["elder_id"], e["why"]) for e in entries] == [(li, "owner")]
    # Nobody changes or removes what was read, not even the service's own role.
    with pytest.raises(DBAPIError, match="append-only"):
        await api.sql("DELETE FROM record_access")
    status, body = await api.call("GET", "/api/record-access?elder_id=abc", "supervisor")
    assert (status, body["field"]) == (422, "elder_id")
