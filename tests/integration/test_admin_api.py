"""The admin API against a real PostgreSQL migrated to head, served by aiohttp's TestServer."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.app import http_app as make_app
from hotline.db import migrate
from hotline.db.engine import make_engine
from tests.integration.pg import _dsn, create_database, drop_database, sqlalchemy_url

pytestmark = pytest.mark.integration

ENV_TOKEN = "env-token-for-tests"
PASSWORD = "Pw-for-op1001"


@dataclass
class Api:
    client: TestClient[Any, Any]
    engine: AsyncEngine
    tokens: dict[str, str]  # who -> bearer token
    ids: dict[str, int]  # operator username -> id
    changes: list[tuple[str, str]] = field(default_factory=list)
    listener_broken: bool = False

    async def call(
        self, method: str, path: str, who: str = "admin", body: object = None, raw: bytes = b""
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who in self.tokens else {}
        kwargs: dict[str, Any] = {"json": body} if body is not None else {"data": raw}
        async with self.client.request(method, path, headers=headers, **kwargs) as response:
            if response.status == 204:
                return 204, None
            assert response.content_type == "application/json", await response.text()
            return response.status, await response.json()

    async def sql(self, query: str, **params: Any) -> list[Any]:
        async with self.engine.begin() as conn:
            result = await conn.execute(text(query), params)
            return list(result.all()) if result.returns_rows else []

    async def audit(self) -> list[Any]:
        return await self.sql(
            "SELECT actor, action, entity, entity_id, before, after FROM audit_log ORDER BY id"
        )


async def _setup(api: Api) -> None:
    """Two operators, a supervisor token and op1001's own token; then forget the changes."""
    for username in ("op1001", "op1002"):
        status, body = await api.call(
            "POST",
            "/api/operators",
            body={"username": username, "display_name": username, "sip_password": PASSWORD},
        )
        assert status == 201, body
        api.ids[username] = body["id"]
    for name, role, operator in (("desk", "supervisor", None), ("op1001", "operator", "op1001")):
        payload: dict[str, object] = {"name": name, "role": role}
        if operator:
            payload["operator_id"] = api.ids[operator]
        status, body = await api.call("POST", "/api/tokens", body=payload)
        assert status == 201, body
        api.tokens[role] = body["token"]
    api.changes.clear()


async def _on_postgres(sql: str) -> None:
    conn = await asyncpg.connect(_dsn("postgres"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _drop(name: str) -> None:
    """DROP ... WITH (FORCE) fails when an autovacuum worker happens to be in the
    database (it runs as the superuser); a plain DROP makes autovacuum yield."""
    try:
        await drop_database(name)
    except asyncpg.InsufficientPrivilegeError:
        await _on_postgres(f'DROP DATABASE IF EXISTS "{name}"')


@pytest.fixture(scope="session")
def migrated() -> Iterator[str]:
    """A database migrated to head, copied for each test (quicker than migrating each)."""
    name = asyncio.run(create_database("hotline_admin_template"))
    try:
        migrate.upgrade(sqlalchemy_url(name))
        yield name
    finally:
        asyncio.run(_drop(name))


@pytest.fixture
async def api(migrated: str) -> AsyncIterator[Api]:
    db = f"hotline_admin_{secrets.token_hex(4)}"
    await _on_postgres(f'CREATE DATABASE "{db}" TEMPLATE "{migrated}"')
    try:
        engine = make_engine(sqlalchemy_url(db))
        state: Api | None = None

        async def on_change(entity: str, key: str) -> None:
            assert state is not None
            if state.listener_broken:
                raise RuntimeError("the routing engine is down")
            state.changes.append((entity, key))

        app = make_app(engine, ENV_TOKEN, lambda: {"status": "ok"}, on_change=on_change)
        try:
            async with TestClient(TestServer(app)) as client:
                tokens = {"admin": ENV_TOKEN, "bad": "not-a-token"}
                state = Api(client, engine, tokens, {})
                await _setup(state)
                yield state
        finally:
            await engine.dispose()
    finally:
        await _drop(db)


def md5_cred(username: str, password: str) -> str:
    return hashlib.md5(f"{username}:asterisk:{password}".encode()).hexdigest()


# --- roles -------------------------------------------------------------------------------

WHO = ("none", "bad", "operator", "supervisor", "admin")  # admin last: its change sticks
NEW_OPERATOR = {"username": "op2001", "display_name": "Op", "sip_password": "password-1"}
NEW_QUEUE = {"name": "night", "display_name": "Night"}


@pytest.mark.parametrize(
    ("method", "path", "body", "operator", "supervisor", "admin"),
    [
        ("GET", "/api/calls", None, 200, 200, 200),
        ("GET", "/api/cases", None, 200, 200, 200),
        ("GET", "/api/operators", None, 403, 200, 200),
        ("GET", "/api/operators/{op1001}", None, 200, 200, 200),  # its own record
        ("GET", "/api/operators/{op1002}", None, 403, 200, 200),
        ("POST", "/api/operators", NEW_OPERATOR, 403, 403, 201),
        ("PATCH", "/api/operators/{op1002}", {"line_cap": 2}, 403, 403, 200),
        ("DELETE", "/api/operators/{op1002}", None, 403, 403, 204),
        ("PUT", "/api/operators/{op1001}/state", {"state": "ready"}, 200, 200, 200),
        ("PUT", "/api/operators/{op1002}/state", {"state": "ready"}, 403, 200, 200),
        ("GET", "/api/queues", None, 200, 200, 200),
        ("GET", "/api/queues/general", None, 200, 200, 200),
        ("POST", "/api/queues", NEW_QUEUE, 403, 403, 201),
        ("PATCH", "/api/queues/general", {"wrapup_s": 5}, 403, 403, 200),
        ("DELETE", "/api/queues/complaint", None, 403, 403, 204),
        ("GET", "/api/queues/general/members", None, 403, 200, 200),
        ("PUT", "/api/queues/general/members/{op1001}", {}, 403, 403, 201),
        ("GET", "/api/lines", None, 200, 200, 200),
        ("PATCH", "/api/lines/hotline", {"offer_callback": False}, 403, 403, 200),
        ("POST", "/api/tokens", {"name": "t2", "role": "admin"}, 403, 403, 201),
        ("DELETE", "/api/tokens/desk", None, 403, 403, 204),
        ("GET", "/api/audit", None, 403, 200, 200),
    ],
)
async def test_roles(
    api: Api,
    method: str,
    path: str,
    body: object,
    operator: int,
    supervisor: int,
    admin: int,
) -> None:
    path = path.format(**api.ids)
    seen = {who: (await api.call(method, path, who, body))[0] for who in WHO}
    expected = {"none": 401, "bad": 401, "operator": operator, "supervisor": supervisor}
    assert seen == {**expected, "admin": admin}


async def test_health_needs_no_token_and_a_wrong_scheme_is_refused(api: Api) -> None:
    async with api.client.get("/healthz") as response:
        assert response.status == 200
        assert await response.json() == {"status": "ok"}
    basic = {"Authorization": f"Basic {ENV_TOKEN}"}
    async with api.client.get("/api/queues", headers=basic) as response:
        assert response.status == 401
        assert (await response.json())["error"] == "unauthorized"


# --- operators ---------------------------------------------------------------------------


async def test_operator_round_trip(api: Api) -> None:
    status, created = await api.call("POST", "/api/operators", body={**NEW_OPERATOR, "line_cap": 2})
    assert status == 201
    op_id = created["id"]
    assert created["username"] == created["sip_endpoint"] == "op2001"
    assert created["line_cap"] == 2 and created["active"] is True
    assert created["state"] == "logged_out"
    assert not {"sip_password", "sip_md5_cred"} & set(created)
    [(cred,)] = await api.sql("SELECT sip_md5_cred FROM operators WHERE id = :id", id=op_id)
    assert cred == md5_cred("op2001", "password-1")

    status, got = await api.call("GET", f"/api/operators/{op_id}")
    assert (status, got) == (200, created)
    status, listed = await api.call("GET", "/api/operators")
    assert [op["username"] for op in listed] == ["op1001", "op1002", "op2001"]

    patch = {"display_name": "Operator 2001", "sip_password": "password-2"}
    status, patched = await api.call("PATCH", f"/api/operators/{op_id}", body=patch)
    assert status == 200
    assert patched["display_name"] == "Operator 2001" and patched["line_cap"] == 2
    [(cred,)] = await api.sql("SELECT sip_md5_cred FROM operators WHERE id = :id", id=op_id)
    assert cred == md5_cred("op2001", "password-2")

    status, _ = await api.call("DELETE", f"/api/operators/{op_id}")
    assert status == 204
    status, body = await api.call("GET", f"/api/operators/{op_id}")
    assert (status, body) == (404, {"error": "not_found", "field": "id"})
    assert [(r.actor, r.action, r.entity_id) for r in (await api.audit())[-3:]] == [
        ("env-admin", "create", str(op_id)),
        ("env-admin", "update", str(op_id)),
        ("env-admin", "delete", str(op_id)),
    ]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "error"),
    [
        ("POST", "/api/operators", {**NEW_OPERATOR, "username": "op1001"}, 409, "username"),
        ("POST", "/api/operators", {**NEW_OPERATOR, "username": "X"}, 422, "username"),
        ("POST", "/api/operators", {**NEW_OPERATOR, "sip_password": "short"}, 422, "sip_password"),
        ("POST", "/api/operators", {**NEW_OPERATOR, "state": "ready"}, 422, "state"),
        ("PATCH", "/api/operators/{op1001}", {"username": "op9"}, 422, "username"),
        ("PATCH", "/api/operators/{op1001}", {"line_cap": 3}, 422, "line_cap"),
        ("PATCH", "/api/operators/{op1001}", {"sip_md5_cred": "x"}, 422, "sip_md5_cred"),
        ("PATCH", "/api/operators/999999", {"line_cap": 2}, 404, "id"),
        ("GET", "/api/operators/abc", None, 404, "id"),
        ("DELETE", "/api/operators/999999", None, 404, "id"),
    ],
)
async def test_operator_refusals(
    api: Api, method: str, path: str, body: object, status: int, error: str
) -> None:
    before = await api.audit()
    got_status, got = await api.call(method, path.format(**api.ids), body=body)
    assert (got_status, got["field"]) == (status, error)
    assert await api.audit() == before
    assert api.changes == []


async def test_operator_with_history_is_deactivated_not_deleted(api: Api) -> None:
    op_id = api.ids["op1001"]
    await api.sql(
        "INSERT INTO calls (id, linkedid, channel_id, entry, started_at, operator_id) "
        "VALUES (:id, 'l.1', 'c.1', 'hotline', now(), :op)",
        id=uuid.uuid4(),
        op=op_id,
    )
    status, body = await api.call("DELETE", f"/api/operators/{op_id}")
    assert status == 200 and body["active"] is False and body["id"] == op_id
    status, body = await api.call("DELETE", f"/api/operators/{op_id}")  # already inactive
    assert status == 200 and body["active"] is False
    assert api.changes == [("operator", str(op_id))]
    [row] = [r for r in await api.audit() if r.entity_id == str(op_id) and r.action == "update"]
    assert (row.before["active"], row.after["active"]) == (True, False)
    # An inactive operator's token no longer works, and it cannot be made ready.
    assert (await api.call("GET", f"/api/operators/{op_id}", "operator"))[0] == 401
    status, body = await api.call("PUT", f"/api/operators/{op_id}/state", body={"state": "ready"})
    assert (status, body["error"], body["field"]) == (409, "conflict", "state")


async def test_audit_names_the_actor_and_keeps_no_secret(api: Api) -> None:
    op_id = api.ids["op1002"]
    status, _ = await api.call(
        "PATCH", f"/api/operators/{op_id}", body={"sip_password": "Another-pw-1"}
    )
    assert status == 200
    status, _ = await api.call(
        "PUT", f"/api/operators/{op_id}/state", "supervisor", {"state": "paused", "reason": "x"}
    )
    assert status == 200
    rows = await api.audit()
    assert [(r.actor, r.action, r.entity) for r in rows[-2:]] == [
        ("env-admin", "update", "operator"),
        ("desk", "state", "operator"),
    ]
    assert rows[-2].after["sip_password"] == "(changed)"
    assert rows[-1].after == {"availability": "paused", "state_reason": "x"}
    [(dump,)] = await api.sql("SELECT string_agg(row_to_json(a)::text, ' ') FROM audit_log a")
    [(tokens,)] = await api.sql("SELECT string_agg(token_sha256, ' ') FROM api_tokens")
    creds = [r.sip_md5_cred for r in await api.sql("SELECT sip_md5_cred FROM operators")]
    for secret in (
        PASSWORD,
        "Another-pw-1",
        *creds,
        md5_cred("op1002", PASSWORD),
        *tokens.split(),
        api.tokens["supervisor"],
        api.tokens["operator"],
    ):
        assert secret not in dump


async def test_setting_state(api: Api) -> None:
    mine, other = api.ids["op1001"], api.ids["op1002"]
    path = f"/api/operators/{mine}/state"
    status, body = await api.call("PUT", path, "supervisor", {"state": "paused"})
    assert (status, body["field"]) == (422, "reason")
    status, body = await api.call("PUT", path, "supervisor", {"state": "on_call"})
    assert (status, body["field"]) == (422, "state")
    status, body = await api.call("PUT", path, "operator", {"state": "paused", "reason": "break"})
    assert status == 200
    assert (body["state"], body["state_reason"]) == ("paused", "break")
    status, _ = await api.call("PUT", path, "operator", {"state": "paused", "reason": "break"})
    assert status == 200  # the same state again: nothing to record
    status, body = await api.call("PUT", path, "operator", {"state": "ready"})
    assert (status, body["state"], body["state_reason"]) == (200, "ready", None)
    status, _ = await api.call(
        "PUT", f"/api/operators/{other}/state", "operator", {"state": "ready"}
    )
    assert status == 403
    rows = await api.sql(
        "SELECT state, reason FROM operator_state_changes WHERE operator_id = :id ORDER BY id",
        id=mine,
    )
    assert [tuple(r) for r in rows] == [("paused", "break"), ("ready", None)]
    assert api.changes == [("operator", str(mine))] * 2


# --- queues ------------------------------------------------------------------------------

FULL_QUEUE = {
    "name": "night",
    "display_name": "Night desk",
    "strategy": "round_robin",
    "ring_timeout_s": 20,
    "wrapup_s": 0,
    "service_level_s": 30,
    "overflow_after_s": 90,
    "overflow_target": "supervisors",
    "announce_every_s": None,
}


async def test_queue_round_trip(api: Api) -> None:
    status, created = await api.call("POST", "/api/queues", body=FULL_QUEUE)
    assert status == 201
    assert {k: created[k] for k in FULL_QUEUE} == FULL_QUEUE
    status, got = await api.call("GET", "/api/queues/night", "operator")
    assert (status, got) == (200, created)
    status, listed = await api.call("GET", "/api/queues", "operator")
    assert "night" in [q["name"] for q in listed]

    patch = {"ring_timeout_s": 25, "overflow_after_s": None, "overflow_target": None}
    status, patched = await api.call("PATCH", "/api/queues/night", body=patch)
    assert status == 200
    assert patched == {**created, **patch, "updated_at": patched["updated_at"]}
    status, body = await api.call("POST", "/api/queues", body=FULL_QUEUE)
    assert (status, body["error"], body["field"]) == (409, "conflict", "name")

    status, _ = await api.call("DELETE", "/api/queues/night")
    assert status == 204
    status, body = await api.call("GET", "/api/queues/night")
    assert (status, body) == (404, {"error": "not_found", "field": "name"})
    rows = [r for r in await api.audit() if r.entity == "queue"]
    assert [r.action for r in rows] == ["create", "update", "delete"]
    assert rows[1].before["ring_timeout_s"] == 20 and rows[1].after["ring_timeout_s"] == 25
    assert api.changes == [("queue", "night")] * 3


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/api/queues", {**FULL_QUEUE, "ring_timeout_s": -5}, "ring_timeout_s"),
        ("POST", "/api/queues", {**FULL_QUEUE, "strategy": "random"}, "strategy"),
        ("POST", "/api/queues", {**FULL_QUEUE, "overflow_target": "nope"}, "overflow_target"),
        ("POST", "/api/queues", {**FULL_QUEUE, "colour": "red"}, "colour"),
        ("POST", "/api/queues", {**FULL_QUEUE, "overflow_target": "night"}, "overflow_target"),
        ("POST", "/api/queues", {**FULL_QUEUE, "overflow_after_s": None}, "overflow_target"),
        ("PATCH", "/api/queues/general", {"ring_timeout_s": -1}, "ring_timeout_s"),
        ("PATCH", "/api/queues/general", {"strategy": "random"}, "strategy"),
        ("PATCH", "/api/queues/general", {"overflow_target": "nope"}, "overflow_target"),
        ("PATCH", "/api/queues/general", {"overflow_target": None}, "overflow_target"),
        ("PATCH", "/api/queues/general", {"name": "other"}, "name"),
        ("PATCH", "/api/queues/general", {"colour": "red"}, "colour"),
        # general -> supervisors already: supervisors -> general would loop
        ("PATCH", "/api/queues/supervisors", {"overflow_target": "general"}, "overflow_target"),
    ],
)
async def test_queue_bad_payloads_name_the_field(
    api: Api, method: str, path: str, body: object, field: str
) -> None:
    before = await api.audit()
    status, reply = await api.call(method, path, body=body)
    assert (status, reply["error"], reply["field"]) == (422, "invalid", field)
    assert reply["detail"]
    assert "nope" not in reply["detail"] and "random" not in reply["detail"]
    assert await api.audit() == before
    assert api.changes == []


@pytest.mark.parametrize(
    ("queue", "detail"),
    [
        ("general", "a line routes"),  # the hotline line
        ("life_help", "a line routes"),
        ("supervisors", "another queue overflows"),
        ("consultation", "calls were queued"),  # a call row below points at it
    ],
)
async def test_queue_delete_conflicts(api: Api, queue: str, detail: str) -> None:
    await api.sql(
        "INSERT INTO calls (id, linkedid, channel_id, entry, started_at, queue_id) "
        "VALUES (:id, 'l.2', 'c.2', 'hotline', now(), "
        "(SELECT id FROM queues WHERE name = 'consultation'))",
        id=uuid.uuid4(),
    )
    status, body = await api.call("DELETE", f"/api/queues/{queue}")
    assert (status, body["error"], body["field"]) == (409, "conflict", "name")
    assert body["detail"].startswith(detail)
    assert (await api.call("GET", f"/api/queues/{queue}"))[0] == 200
    assert api.changes == []


# --- members -----------------------------------------------------------------------------


async def test_members(api: Api) -> None:
    op = api.ids["op1001"]
    path = f"/api/queues/complaint/members/{op}"
    status, body = await api.call("PUT", path, body={})
    assert (status, body["penalty"], body["username"]) == (201, 0, "op1001")
    status, body = await api.call("PUT", path, body={"penalty": 5})
    assert (status, body["penalty"]) == (200, 5)
    status, _ = await api.call("PUT", path, body={"penalty": 5})  # unchanged
    assert status == 200
    status, listed = await api.call("GET", "/api/queues/complaint/members", "supervisor")
    assert status == 200
    assert [(m["operator_id"], m["penalty"]) for m in listed] == [(op, 5)]

    for method, member_path, payload, expected in (
        ("PUT", path, {"penalty": 101}, (422, "penalty")),
        ("PUT", "/api/queues/complaint/members/999999", {}, (404, "operator_id")),
        ("PUT", f"/api/queues/nope/members/{op}", {}, (404, "name")),
        ("GET", "/api/queues/nope/members", None, (404, "name")),
    ):
        status, body = await api.call(method, member_path, body=payload)
        assert (status, body["field"]) == expected

    status, _ = await api.call("DELETE", path)
    assert status == 204
    status, body = await api.call("DELETE", path)
    assert (status, body["field"]) == (404, "operator_id")
    rows = [r for r in await api.audit() if r.entity == "queue_member"]
    assert [(r.action, r.entity_id) for r in rows] == [
        ("create", f"complaint/{op}"),
        ("update", f"complaint/{op}"),
        ("delete", f"complaint/{op}"),
    ]
    assert api.changes == [("queue_member", f"complaint/{op}")] * 3


async def test_deleting_a_queue_takes_its_members(api: Api) -> None:
    op = api.ids["op1002"]
    assert (await api.call("PUT", f"/api/queues/complaint/members/{op}", body={}))[0] == 201
    assert (await api.call("DELETE", "/api/queues/complaint"))[0] == 204
    assert await api.sql("SELECT * FROM queue_members WHERE operator_id = :op", op=op) == []


# --- lines -------------------------------------------------------------------------------


async def test_lines(api: Api) -> None:
    status, lines = await api.call("GET", "/api/lines", "operator")
    assert status == 200
    assert {line["entry"]: (line["queue"], line["opens"]) for line in lines} == {
        "hotline": ("general", None),
        "lifehelp": ("life_help", "08:00"),
        "terminal": ("emergency", None),
    }
    hours = {"opens": "07:30", "closes": "21:00", "after_hours_queue": "supervisors"}
    status, body = await api.call("PATCH", "/api/lines/hotline", body=hours)
    assert status == 200
    assert body == {**hours, "entry": "hotline", "queue": "general", "offer_callback": True}
    [(opens,)] = await api.sql("SELECT opens::text FROM lines WHERE entry = 'hotline'")
    assert opens == "07:30:00"
    status, body = await api.call(
        "PATCH", "/api/lines/lifehelp", body={"opens": None, "closes": None}
    )
    assert (status, body["opens"], body["closes"]) == (200, None, None)  # now 24 hours
    rows = [r for r in await api.audit() if r.entity == "line"]
    assert [(r.actor, r.entity_id) for r in rows] == [
        ("env-admin", "hotline"),
        ("env-admin", "lifehelp"),
    ]
    assert rows[1].before["opens"] == "08:00" and rows[1].after["opens"] is None
    assert api.changes == [("line", "hotline"), ("line", "lifehelp")]


@pytest.mark.parametrize(
    ("entry", "body", "status", "field"),
    [
        ("hotline", {"opens": "08:00"}, 422, "closes"),  # the other end is still null
        ("lifehelp", {"opens": None}, 422, "closes"),
        ("lifehelp", {"opens": "09:00", "closes": "09:00"}, 422, "closes"),
        ("lifehelp", {"closes": "25:00"}, 422, "closes"),
        ("hotline", {"queue": "nope"}, 422, "queue"),
        ("hotline", {"after_hours_queue": "nope"}, 422, "after_hours_queue"),
        ("hotline", {"queue": None}, 422, "queue"),
        ("hotline", {"entry": "web"}, 422, "entry"),
        ("web", {"offer_callback": False}, 404, "entry"),
        ("nope", {"offer_callback": False}, 404, "entry"),
    ],
)
async def test_line_refusals(api: Api, entry: str, body: object, status: int, field: str) -> None:
    got_status, reply = await api.call("PATCH", f"/api/lines/{entry}", body=body)
    assert (got_status, reply["field"]) == (status, field)
    assert api.changes == []


# --- tokens, audit, errors ---------------------------------------------------------------


async def test_tokens(api: Api) -> None:
    status, body = await api.call(
        "POST", "/api/tokens", body={"name": "wall", "role": "supervisor"}
    )
    assert status == 201 and set(body) == {"name", "role", "token", "expires_at"}
    token = body["token"]
    [(stored,)] = await api.sql("SELECT token_sha256 FROM api_tokens WHERE name = 'wall'")
    assert stored == hashlib.sha256(token.encode()).hexdigest()
    api.tokens["wall"] = token
    assert (await api.call("GET", "/api/operators", "wall"))[0] == 200
    assert (await api.call("DELETE", "/api/tokens/wall"))[0] == 204
    assert (await api.call("GET", "/api/operators", "wall"))[0] == 401
    assert (await api.call("DELETE", "/api/tokens/wall"))[1]["field"] == "name"
    assert api.changes == [("token", "wall"), ("token", "wall")]

    for payload, expected in (
        ({"name": "wall", "role": "admin"}, (409, "name")),  # revoked names stay taken
        ({"name": "env-admin", "role": "admin"}, (409, "name")),
        ({"name": "op", "role": "operator"}, (422, "operator_id")),
        ({"name": "op", "role": "operator", "operator_id": 999999}, (422, "operator_id")),
        ({"name": "op", "role": "root"}, (422, "role")),
    ):
        status, body = await api.call("POST", "/api/tokens", body=payload)
        assert (status, body["field"]) == expected


async def test_audit_endpoint(api: Api) -> None:
    status, rows = await api.call("GET", "/api/audit?limit=2", "supervisor")
    assert status == 200 and len(rows) == 2
    assert (rows[0]["entity"], rows[0]["entity_id"]) == ("token", "op1001")  # newest first
    assert rows[0]["id"] > rows[1]["id"]
    status, body = await api.call("GET", "/api/audit?limit=0")
    assert (status, body["field"]) == (422, "limit")


@pytest.mark.parametrize(
    ("method", "path", "raw", "status", "expected"),
    [
        ("POST", "/api/queues", b"{not json", 400, {"error": "bad_json"}),
        ("PATCH", "/api/queues/general", b'{"a":', 400, {"error": "bad_json"}),
        ("PUT", "/api/operators/1/state", b"\xff", 400, {"error": "bad_json"}),
        ("POST", "/api/queues", b"[]", 422, {"error": "invalid", "field": "body"}),
        ("POST", "/api/queues", b"", 422, {"error": "invalid", "field": "name"}),
        ("GET", "/api/nothing-here", b"", 404, {"error": "not_found"}),
        ("DELETE", "/api/lines", b"", 405, {"error": "method_not_allowed"}),
    ],
)
async def test_errors_are_json(
    api: Api, method: str, path: str, raw: bytes, status: int, expected: dict[str, str]
) -> None:
    got_status, body = await api.call(method, path, raw=raw)
    assert got_status == status
    assert {k: body[k] for k in expected} == expected


async def test_on_change_once_per_change_and_a_failing_listener_does_not_undo_it(
    api: Api,
) -> None:
    op = api.ids["op1002"]
    steps: list[tuple[str, str, object]] = [
        ("POST", "/api/queues", FULL_QUEUE),
        ("GET", "/api/queues/night", None),  # a read
        ("PATCH", "/api/queues/night", {"wrapup_s": 5}),
        ("PATCH", "/api/queues/night", {"wrapup_s": 5}),  # no change
        ("PATCH", "/api/queues/night", {"wrapup_s": -5}),  # refused
        ("PUT", f"/api/queues/night/members/{op}", {}),
        ("PATCH", f"/api/operators/{op}", {"line_cap": 2}),
        ("PUT", f"/api/operators/{op}/state", {"state": "ready"}),
        ("PATCH", "/api/lines/terminal", {"offer_callback": False}),
    ]
    for method, path, body in steps:
        await api.call(method, path, body=body)
    assert api.changes == [
        ("queue", "night"),
        ("queue", "night"),
        ("queue_member", f"night/{op}"),
        ("operator", str(op)),
        ("operator", str(op)),
        ("line", "terminal"),
    ]

    api.listener_broken = True
    status, body = await api.call("PATCH", "/api/queues/night", body={"wrapup_s": 7})
    assert (status, body["wrapup_s"]) == (200, 7)
    [(wrapup,)] = await api.sql("SELECT wrapup_s FROM queues WHERE name = 'night'")
    assert wrapup == 7


# --- handling a case (R6, R7, R14) ---------------------------------------------------------


async def _case(api: Api, owner: str) -> str:
    case_id = str(uuid.uuid4())
    await api.sql(
        "INSERT INTO cases (id, opened_at, status, channel, identified, owner_operator_id)"
        " VALUES (CAST(:id AS uuid), now(), 'in_progress', 'hotline', true, :owner)",
        id=case_id,
        owner=api.ids[owner],
    )
    return case_id


async def _timeline(api: Api, case_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    status, body = await api.call("GET", f"/api/cases/{case_id}/timeline")
    assert status == 200
    return [(step["actor"], step["kind"], step["detail"]) for step in body]


async def test_the_owner_classifies_notes_and_closes_a_case(api: Api) -> None:
    case_id = await _case(api, "op1001")
    path = f"/api/cases/{case_id}"

    status, body = await api.call("POST", f"{path}/close", "operator", {"reason": "answered"})
    assert (status, body["field"]) == (422, "class")  # classify first (R6)
    answer = {"class": "consultation_legal", "reasonable": True}
    status, body = await api.call("PATCH", path, "operator", answer)
    assert status == 200, body
    assert (body["class"], body["reasonable"], body["owner_operator_id"]) == (
        "consultation_legal",
        True,
        api.ids["op1001"],
    )
    status, again = await api.call("PATCH", path, "operator", answer)
    assert (status, again) == (200, body)  # nothing changed: no second timeline step
    status, _ = await api.call("POST", f"{path}/notes", "operator", {"text": "已解答, 赡养纠纷"})
    assert status == 201
    status, body = await api.call(
        "POST", f"{path}/close", "operator", {"reason": "answered at once"}
    )
    assert (status, body["status"], body["close_reason"]) == (200, "closed", "answered at once")
    assert body["closed_at"] is not None

    assert await _timeline(api, case_id) == [
        (
            "op1001",
            "classified",
            {"class": "consultation_legal", "reasonable": True, "unreasonable_reason": None},
        ),
        ("op1001", "note", {"text": "已解答, 赡养纠纷"}),
        ("op1001", "closed", {"reason": "answered at once"}),
    ]
    for method, suffix, payload in (
        ("PATCH", "", {"class": "complaint"}),
        ("POST", "/close", {"reason": "again"}),
    ):
        status, body = await api.call(method, f"{path}{suffix}", "operator", payload)
        assert (status, body["error"]) == (409, "conflict")  # closed: a new request, a new case


async def test_an_unreasonable_request_needs_its_reason(api: Api) -> None:
    path = f"/api/cases/{await _case(api, 'op1001')}"
    status, body = await api.call("PATCH", path, "operator", {"reasonable": False})
    assert status == 422 and "unreasonable_reason" in body["detail"]
    status, body = await api.call(
        "PATCH", path, "operator", {"reasonable": True, "unreasonable_reason": "x"}
    )
    assert status == 422 and "unreasonable_reason" in body["detail"]
    refused = {"class": "life_help", "reasonable": False, "unreasonable_reason": "不属服务范围"}
    status, body = await api.call("PATCH", path, "operator", refused)
    assert (status, body["reasonable"], body["unreasonable_reason"]) == (
        200,
        False,
        "不属服务范围",
    )
    status, body = await api.call("PATCH", path, "operator", {"class": "astrology"})
    assert (status, body["field"]) == (422, "class")


async def test_only_the_owner_or_a_supervisor_handles_a_case(api: Api) -> None:
    case_id = await _case(api, "op1002")
    path = f"/api/cases/{case_id}"
    status, body = await api.call("PATCH", path, "operator", {"class": "complaint"})
    assert (status, body["error"]) == (403, "forbidden")  # op1001 does not own it (R14)
    status, body = await api.call("POST", f"{path}/notes", "operator", {"text": "x"})
    assert status == 403
    status, body = await api.call("PATCH", path, "supervisor", {"class": "complaint"})
    assert (status, body["owner_operator_id"]) == (200, api.ids["op1002"])  # still the owner
    assert await _timeline(api, case_id) == [("desk", "classified", {"class": "complaint"})]
    status, body = await api.call(
        "PATCH", f"/api/cases/{uuid.uuid4()}", body={"class": "complaint"}
    )
    assert (status, body["field"]) == (404, "case_id")


# --- the directories (R16-R18, R23) -------------------------------------------------------

HOME = {
    "kind": "institution",
    "name": "幸福养老院",
    "person_in_charge": "张院长",
    "phone": "010-8888 1234",
    "address": "示范区幸福路 9 号",
    "district": "示范区",
    "services": ["全托", "日间照料"],
    "grade": "三级",
    "floor_area_m2": 5200,
}


async def test_organisations_are_kept_audited_and_checked(api: Api) -> None:
    status, made = await api.call("POST", "/api/organisations", body=HOME)
    assert status == 201, made
    assert made["checked_on"] is None and made["check_due"] <= "2100-01-01"  # due: never checked
    path = f"/api/organisations/{made['id']}"
    status, body = await api.call("POST", "/api/organisations", body=HOME)
    assert (status, body["field"]) == (409, "name")
    status, body = await api.call("PATCH", path, body={"kind": "department"})
    assert (status, body["field"]) == (422, "kind")
    status, body = await api.call("PATCH", path, body={"floor_area_m2": 0})
    assert (status, body["field"]) == (422, "floor_area_m2")
    status, body = await api.call("PATCH", path, body={"services": ["全托", "康复"]})
    assert (status, body["services"]) == (200, ["全托", "康复"])
    status, body = await api.call("PATCH", path, "operator", {"grade": "一级"})
    assert status == 403
    status, body = await api.call("POST", f"{path}/checked", "supervisor")
    assert status == 200
    checked = dt.date.fromisoformat(body["checked_on"])
    due = dt.date.fromisoformat(body["check_due"])
    assert 28 <= (due - checked).days <= 31  # an institution: checked monthly (R23)

    status, listed = await api.call("GET", "/api/organisations?kind=institution", "operator")
    assert (status, [o["name"] for o in listed]) == (200, ["幸福养老院"])
    status, listed = await api.call("GET", "/api/organisations?kind=street")
    assert (status, listed) == (200, [])
    status, body = await api.call("GET", "/api/organisations?kind=church")
    assert (status, body["field"]) == (422, "kind")
    status, _ = await api.call("DELETE", path)
    assert status == 204
    status, body = await api.call("GET", path)
    assert (status, body["field"]) == (404, "org_id")
    actions = [
        (entry.action, entry.entity)
        for entry in await api.audit()
        if entry.entity == "organisation"
    ]
    assert actions == [
        ("create", "organisation"),
        ("update", "organisation"),
        ("update", "organisation"),
        ("delete", "organisation"),
    ]


async def test_a_referral_offers_institutions_near_the_elder_and_records_the_choice(
    api: Api,
) -> None:
    [(elder_id,)] = await api.sql(
        "INSERT INTO elders (full_name, district) VALUES ('测试老人', '东区') RETURNING id"
    )
    made = {}
    for name, district, services in (
        ("东区一院", "东区", ["全托"]),
        ("东区二院", "东区", ["全托", "日间照料"]),
        ("西区一院", "西区", ["全托"]),
        ("东区三院", "东区", ["日间照料"]),
        ("东区四院", "东区", ["全托"]),
    ):
        home = {"kind": "institution", "name": name, "district": district, "services": services}
        status, body = await api.call("POST", "/api/organisations", body=home)
        assert status == 201, body
        made[name] = body["id"]
    office = {"kind": "department", "name": "区民政局"}
    status, department = await api.call("POST", "/api/organisations", body=office)
    case_id = await _case(api, "op1001")
    await api.sql(
        "UPDATE cases SET elder_id = :elder WHERE id = CAST(:id AS uuid)",
        elder=elder_id,
        id=case_id,
    )
    path = f"/api/cases/{case_id}/referral"

    status, offered = await api.call("GET", f"{path}?service=全托", "operator")
    assert status == 200
    assert [o["name"] for o in offered] == ["东区一院", "东区二院", "东区四院"]  # 2-3, near first
    status, offered = await api.call("GET", f"{path}?service=日间照料", "operator")
    assert sorted(o["name"] for o in offered) == ["东区三院", "东区二院"]
    status, body = await api.call("POST", f"{path}/{department['id']}", "operator")
    assert (status, body["field"]) == (422, "org_id")
    status, body = await api.call("POST", f"{path}/999999", "operator")
    assert (status, body["field"]) == (404, "org_id")
    status, body = await api.call("POST", f"{path}/{made['东区二院']}", "operator")
    assert (status, body["class"]) == (200, "referral")
    assert await _timeline(api, case_id) == [
        ("op1001", "referred", {"organisation_id": made["东区二院"], "name": "东区二院"})
    ]


async def test_a_cases_timeline_is_for_its_owner_and_supervisors(api: Api) -> None:
    """R14, R27: an operator reads the timeline only of a case they own."""
    case_id = uuid.uuid4()
    async with api.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO cases (id, opened_at, status, channel, identified) "
                "VALUES (:id, now(), 'open', 'hotline', false)"
            ),
            {"id": case_id},
        )
    path = f"/api/cases/{case_id}/timeline"  # (the emergency view, served with the calls, too)
    status, body = await api.call("GET", path, "operator")
    assert (status, body["error"]) == (403, "forbidden")
    status, _ = await api.call("GET", path, "supervisor")
    assert status == 200
