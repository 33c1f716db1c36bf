"""The OpenAPI document against the app that serves it.

The app is built with every part (transfers, callbacks, the event stream) on a scratch
database migrated to head. The tests check that the document is valid OpenAPI 3.1, that it
lists exactly the routes the app serves, that its security is what the app enforces, that
every reply (successes and errors) fits the schema the document gives for its status code,
and that hostile path values and invalid text in bodies are refused with a 4xx, never a 5xx.

Reply schemas are checked strictly: an object with `properties` may carry no other property
here (the document itself leaves objects open, as clients should tolerate new fields), so a
reply with a field the document does not name fails too.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient, TestServer
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError
from openapi_spec_validator import validate as validate_spec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from yarl import URL

from hotline.app import http_app
from hotline.ari import AriClient, AriConfig
from hotline.callbacks.scheduler import Scheduler
from hotline.callbacks.store import Pending
from hotline.calls.messages import Refused, Request
from hotline.core import events as ev
from hotline.db import migrate
from hotline.db.engine import make_engine
from hotline.events.bus import Bus
from hotline.events.live import LiveFloor
from hotline.queues.config import QueueConfig
from hotline.retention.job import RetentionJob
from hotline.retention.policy import Periods
from hotline.supervision.service import Supervisions
from hotline.supervision.stasis import Watcher
from tests.integration.calendars import publish_missing
from tests.integration.pg import _dsn, create_database, drop_database, sqlalchemy_url

pytestmark = pytest.mark.integration

ENV_TOKEN = "env-token-for-openapi-tests"
PASSWORD = "Pw-for-op1001"
JSON = "application/json"
HEALTH = {
    "status": "ok",
    "ari_connected": True,
    "live_calls": 1,
    "records_queued": 0,
    "event_subscribers": 0,
    "callbacks_pending": 0,
    "uptime_s": 12.5,
}
# Hostile path values, as they go on the wire (already URL-encoded).
HOSTILE = (
    "%00",
    "%2F",
    "..",
    "a%00b",
    "a" * 500,
    "%E2%80%AE",
    "-1",
    "0",
    "99999999999999999999999",
    quote("' OR 1=1 --", safe=""),
    "%F0%9F%98%80",
)
# A valid body for each operation that takes one (what the hostile-path test sends).
# A year's notice as an admin publishes it (2026: a year the holidays package carries too).
NOTICE_2026 = {
    "notice": "the 2026 notice",
    "holidays": [{"start": "2026-01-01", "end": "2026-01-03", "name": "元旦"}],
    "workdays": [{"start": "2026-01-04"}],
}
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/operators"): {
        "username": "op3001",
        "display_name": "Op 3001",
        "sip_password": "password-3",
    },
    ("PATCH", "/api/operators/{id}"): {"line_cap": 2},
    ("PUT", "/api/cases/{case_id}/hold"): {"hold": True, "reason": "a court asked"},
    ("PUT", "/api/operators/{id}/state"): {"state": "ready"},
    ("POST", "/api/queues"): {"name": "night", "display_name": "Night"},
    ("PATCH", "/api/queues/{name}"): {"wrapup_s": 5},
    ("PUT", "/api/queues/{name}/members/{operator_id}"): {"penalty": 1},
    ("PATCH", "/api/lines/{entry}"): {"offer_callback": False},
    ("POST", "/api/tokens"): {"name": "robot", "role": "supervisor"},
    ("POST", "/api/calls/{call_id}/transfer"): {"queue": "general"},
    ("POST", "/api/operators/{operator_id}/supervision"): {"supervisor_id": 1, "mode": "listen"},
    ("PATCH", "/api/supervision/{supervision_id}"): {"mode": "whisper"},
    ("POST", "/api/callbacks"): {"number": "13800000000", "case_id": "{case_id}"},
    ("POST", "/api/calls/{call_id}/emergency/operator"): {"action": "out"},
    ("PATCH", "/api/cases/{case_id}"): {"class": "complaint", "reasonable": True},
    ("POST", "/api/organisations"): {"kind": "department", "name": "Civil affairs"},
    ("PATCH", "/api/organisations/{org_id}"): {"phone": "12345"},
    ("POST", "/api/cases/{case_id}/notes"): {"text": "called back, all well"},
    ("POST", "/api/cases/{case_id}/close"): {"reason": "answered"},
    ("POST", "/api/cases/{case_id}/service-order"): {"org_id": 1, "service": "meals"},
    ("POST", "/api/cases/{case_id}/complaint"): {"org_id": 1},
    ("POST", "/api/cases/{case_id}/callback"): {"number": "13800000000"},
    ("POST", "/api/cases/{case_id}/callback/extend"): {
        "days": 5,
        "reason": "waiting for the office",
        "caller_told": True,
    },
    ("POST", "/api/emergency/routes"): {"area": "west", "ambulance": "120"},
    ("PUT", "/api/emergency/routes/{area}"): {"ambulance": "121", "ambulance_alt": "PJSIP/amb"},
    ("POST", "/api/elders/{elder_id}/open"): {"reason": "the family asked"},
    ("POST", "/api/elders/search"): {"q": "wang"},
    ("POST", "/api/calendar/exceptions"): {"day": "2026-12-31", "kind": "holiday"},
    ("PUT", "/api/calendar/exceptions/{day}"): {"kind": "workday", "note": "make-up day"},
    ("PUT", "/api/calendar/years/{year}"): NOTICE_2026,
    ("POST", "/api/calendar/years/{year}/preview"): NOTICE_2026,
    ("PATCH", "/api/elders/{elder_id}"): {"medication": "aspirin", "birth_date": "1941-03-08"},
    ("POST", "/api/emergency/parties"): {
        "area": "east",
        "role": "community",
        "name": "East community",
        "number": "12345",
    },
}
RECORDING = "emergency-{case}-0000abcd"
# Query parameters: a valid value and one the route must refuse with 422.
QUERY_VALUES = {
    "after": ("2026-03-10", "yesterday"),
    "days": ("2", "0"),
    "limit": ("2", "0"),
    "status": ("pending", "bogus"),
    "kind": ("institution", "bogus"),
    "service": ("day%20care", ""),
    "elder_id": ("1", "abc"),
    "state": ("overdue", "bogus"),
    "operator_id": ("1", "abc"),
    "date": ("2026-03-10", "2026-02-30"),
    "period": ("week", "year"),
    "from": ("2026-03-01", "1.3.2026"),
    "to": ("2026-04-01", "2026-02-01"),  # before from
    "format": ("csv", "pdf"),
}
# Query parameters a route needs (sent with every call to it here).
REQUIRED_QUERY: dict[str, dict[str, str]] = {
    "/api/reports/daily": {"date": "2026-03-10"},
    "/api/reports/analysis": {"period": "month", "date": "2026-03-10"},
    "/api/reports/operators": {"from": "2026-03-01", "to": "2026-04-01"},
    "/api/calendar/working-days": {"after": "2026-03-10", "days": "1"},
}


# --- the document as a schema ---------------------------------------------------------


def _closed(schema: object) -> object:
    """A copy in which objects with `properties` admit no others (unless they say)."""
    if isinstance(schema, list):
        return [_closed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: _closed(value) for key, value in schema.items()}
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def _date_time(value: object) -> bool:
    """RFC 3339 date-time: with a time zone (a naive timestamp is a bug here)."""
    if not isinstance(value, str):
        return True
    if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", value):
        return False
    try:
        return dt.datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


FORMATS = FormatChecker()
FORMATS.checks("date-time")(_date_time)
assert "uuid" in FORMATS.checkers


class Document:
    """The served document, and checks of replies against it."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.components = _closed(doc["components"])

    def operations(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        for path, ops in self.doc["paths"].items():
            for method, operation in ops.items():
                yield method.upper(), path, operation

    def operation(self, method: str, template: str) -> dict[str, Any]:
        ops = self.doc["paths"].get(template)
        assert ops is not None, f"{template} is not in the document"
        operation = ops.get(method.lower())
        assert operation is not None, f"{method} {template} is not in the document"
        return dict(operation)

    def schema_for(self, method: str, template: str, status: int, content_type: str) -> Any:
        """The schema the document gives for this reply; fails if it documents none."""
        responses = self.operation(method, template)["responses"]
        assert str(status) in responses, (
            f"{method} {template} answered {status}; the document has {sorted(responses)}"
        )
        content = responses[str(status)].get("content")
        if content is None:
            return None
        media = {key.split(";")[0].strip(): key for key in content}
        assert content_type in media, (
            f"{method} {template} {status} answered {content_type}; documented {list(content)}"
        )
        return content[media[content_type]]["schema"]

    def validate(self, schema: Mapping[str, Any], instance: object) -> None:
        """Validate against a schema of the document, `#/components/...` resolving."""
        closed = _closed(dict(schema))
        assert isinstance(closed, dict)
        full = {**closed, "components": self.components}
        Draft202012Validator.check_schema(full)
        Draft202012Validator(full, format_checker=FORMATS).validate(instance)

    def check(self, method: str, template: str, status: int, content_type: str, body: Any) -> None:
        schema = self.schema_for(method, template, status, content_type)
        if schema is None:
            assert body is None, f"{method} {template} {status}: undocumented body {body!r}"
            return
        assert body is not None, f"{method} {template} {status}: a body is documented"
        try:
            self.validate(schema, body)
        except ValidationError as err:
            raise AssertionError(
                f"{method} {template} {status}: the reply does not fit the document: "
                f"{err.message} at {list(err.absolute_path)}"
            ) from None

    def error_schema(self) -> dict[str, Any]:
        return {"$ref": "#/components/schemas/Error"}


# --- the app on a scratch database ------------------------------------------------------


@dataclass
class Reply:
    status: int
    content_type: str
    body: Any


@dataclass
class Api:
    client: TestClient[Any, Any]
    engine: AsyncEngine
    doc: Document
    tokens: dict[str, str]  # who -> bearer token
    values: dict[str, str]  # path parameter -> an existing value
    absent: dict[str, str]  # path parameter -> a well-formed value naming nothing
    other: dict[str, str] = field(default_factory=dict)  # as `values`, for op1002
    exercised: set[tuple[str, str]] = field(default_factory=set)

    async def send(
        self,
        method: str,
        path: str,
        who: str | None = "admin",
        body: object = None,
        raw: bytes | None = None,
    ) -> Reply:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        kwargs: dict[str, Any] = {}
        if raw is not None:
            kwargs["data"] = raw
            headers["Content-Type"] = JSON
        elif body is not None:
            kwargs["json"] = body
        url = URL(path, encoded=True)
        async with self.client.request(method, url, headers=headers, **kwargs) as response:
            data = await response.read()
            content_type = response.content_type
            if not data:
                parsed: Any = None
            elif content_type == JSON:
                parsed = json.loads(data)
            else:
                parsed = data.decode()
            return Reply(response.status, content_type, parsed)

    async def check(
        self,
        method: str,
        template: str,
        expect: int,
        *,
        who: str | None = "admin",
        params: Mapping[str, str] | None = None,
        query: str = "",
        body: object = None,
        raw: bytes | None = None,
    ) -> Any:
        """Call an operation, assert the status, validate the reply against the document."""
        values = {**self.values, **(params or {})}
        path = re.sub(r"{(\w+)}", lambda m: values[m.group(1)], template) + query
        reply = await self.send(method, path, who, body, raw)
        assert reply.status == expect, (
            f"{method} {path} as {who}: {reply.status} {reply.body!r}, expected {expect}"
        )
        self.doc.check(method, template, reply.status, reply.content_type, reply.body)
        self.exercised.add((method, template))
        return reply.body

    async def sql(self, query: str, **params: Any) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(text(query), params)


async def _on_postgres(sql: str) -> None:
    conn = await asyncpg.connect(_dsn("postgres"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _drop(name: str) -> None:
    try:
        await drop_database(name)
    except asyncpg.InsufficientPrivilegeError:
        await _on_postgres(f'DROP DATABASE IF EXISTS "{name}"')


@pytest.fixture(scope="session")
def migrated() -> Iterator[str]:
    name = asyncio.run(create_database("hotline_openapi_template"))
    try:
        migrate.upgrade(sqlalchemy_url(name))
        asyncio.run(publish_missing(sqlalchemy_url(name)))  # deadlines need this year's notice
        yield name
    finally:
        asyncio.run(_drop(name))


async def _refuse(call_id: uuid.UUID, request: Request) -> str:
    raise Refused("no such call in progress")


class _NoChannels:
    """The switchboard's watch, for supervisions that never start here."""

    def watch(self, channel_id: str, watcher: Watcher) -> None:
        raise AssertionError("no supervision starts here: nobody is on a call")

    def unwatch(self, channel_id: str) -> None:
        return None


async def _nothing_pending() -> list[Pending]:
    return []


def _must_not_place(*args: object) -> Any:
    raise AssertionError("the scheduler placed a call in an API test")


def _live_floor(bus: Bus, operator_id: int) -> None:
    """Something live: one caller waiting in general, one operator ready."""
    call_id = uuid.uuid4()
    bus.publish(ev.CallArrived(call_id=call_id, case_id=uuid.uuid4(), entry="hotline", number=None))
    bus.publish(ev.CallQueued(call_id=call_id, queue="general", priority=0))
    bus.publish(ev.OperatorStateChanged(operator_id=operator_id, state="ready"))


async def _seed(api: Api) -> None:
    """Two operators (op1001 a member of general), a supervisor and an operator token, and a
    case with a call, a step and a callback, so every listing has something to show."""
    ids: dict[str, str] = {}
    for username in ("op1001", "op1002"):
        created = await api.check(
            "POST",
            "/api/operators",
            201,
            body={"username": username, "display_name": username, "sip_password": PASSWORD},
        )
        ids[username] = str(created["id"])
    for name, role, operator in (("desk", "supervisor", None), ("op1001", "operator", "op1001")):
        payload: dict[str, object] = {"name": name, "role": role}
        if operator:
            payload["operator_id"] = int(ids[operator])
        created = await api.check("POST", "/api/tokens", 201, body=payload)
        api.tokens[role] = created["token"]
    await api.check("POST", "/api/tokens", 201, body={"name": "old", "role": "admin"})
    await api.check("DELETE", "/api/tokens/{name}", 204, params={"name": "old"})
    case_id, call_id, callback_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await api.sql(
        "INSERT INTO cases (id, opened_at, class, status, channel, identified) "
        "VALUES (:id, now() - interval '5 minutes', 'life_help', 'open', 'hotline', false)",
        id=case_id,
    )
    await api.sql(
        "INSERT INTO calls (id, linkedid, channel_id, entry, caller_number, caller_kind, "
        "case_id, started_at, queue_id, queued_at, answered_at, connected_at, operator_id, "
        "ended_at, end_cause, ended_by) VALUES (:id, 'l.1', 'c.1', 'hotline', '13800000000', "
        "'unknown', :case, now() - interval '5 minutes', "
        "(SELECT id FROM queues WHERE name = 'general'), now() - interval '299 seconds', "
        "now() - interval '290 seconds', now() - interval '290 seconds', :op, "
        "now() - interval '1 minute', 16, 'caller')",
        id=call_id,
        case=case_id,
        op=int(ids["op1001"]),
    )
    # A call in progress, unidentified, without a case; a case without a class or steps.
    await api.sql(
        "INSERT INTO calls (id, linkedid, channel_id, entry, started_at) "
        "VALUES (:id, 'l.2', 'c.2', 'terminal', now())",
        id=uuid.uuid4(),
    )
    await api.sql(
        "INSERT INTO cases (id, opened_at, status, channel, identified) "
        "VALUES (:id, now() - interval '1 day', 'open', 'web', false)",
        id=uuid.uuid4(),
    )
    await api.sql(
        "INSERT INTO case_events (id, case_id, at, actor, kind, detail) VALUES "
        "(:id, :case, now(), 'system', 'opened', CAST(:detail AS jsonb))",
        id=uuid.uuid4(),
        case=case_id,
        detail=json.dumps({"entry": "hotline", "number": "13800000000"}),
    )
    await api.sql(
        "INSERT INTO callbacks (id, case_id, call_id, number, reason, created_at, due_at, "
        "queue_id, requested_by) VALUES (:id, :case, :call, '13800000000', 'requested', "
        "now(), now() + interval '1 hour', (SELECT id FROM queues WHERE name = 'general'), "
        "'env-admin')",
        id=callback_id,
        case=case_id,
        call=call_id,
    )
    # The directories: an institution (the organisation the {org_id} routes name).
    home = {"kind": "institution", "name": "Home", "services": ["day care"]}
    made_org = await api.check("POST", "/api/organisations", 201, body=home)
    # The case's emergency: a route and a party of its area, a leg, a recording, a task.
    await api.check("POST", "/api/emergency/routes", 201, body={"area": "east", "ambulance": "120"})
    party = {"area": "east", "role": "care_centre", "name": "Centre", "number": "96110"}
    made = await api.check("POST", "/api/emergency/parties", 201, body=party)
    await api.sql(
        "INSERT INTO emergency_legs (id, case_id, call_id, channel_id, role, label, number,"
        " attempt, dialled_at, answered_at, acknowledged_at) VALUES (:id, :case, :call,"
        " 'hlout-1', 'ambulance', '120', '120', 1, now(), now(), now())",
        id=uuid.uuid4(),
        case=case_id,
        call=call_id,
    )
    recording = RECORDING.format(case=case_id.hex)
    await api.sql(
        "INSERT INTO case_recordings (name, case_id, call_id, started_at)"
        " VALUES (:name, :case, :call, now())",
        name=recording,
        case=case_id,
        call=call_id,
    )
    task_id = uuid.uuid4()
    await api.sql(
        "INSERT INTO case_tasks (id, case_id, kind, due_at, owner_operator_id, created_at)"
        " VALUES (:id, :case, 'family_follow_up', now() + interval '1 day', :op, now())",
        id=task_id,
        case=case_id,
        op=int(ids["op1001"]),
    )
    await api.sql("INSERT INTO calendar_exceptions (day, kind) VALUES ('2026-12-30', 'holiday')")
    api.values.update(task_id=str(task_id), day="2026-12-30", year="2026")
    api.values.update(
        org_id=str(made_org["id"]),
        area="east",
        recording=recording,
        party=str(made["id"]),
    )
    api.values.update(
        id=ids["op1001"],
        name="general",
        operator_id=ids["op1001"],
        entry="hotline",
        case_id=str(case_id),
        call_id=str(call_id),
        callback_id=str(callback_id),  # in the database; not pending in the scheduler
        supervision_id=str(uuid.uuid4()),  # none runs here (tests/integration/test_supervision.py)
    )
    api.other.update(id=ids["op1002"], operator_id=ids["op1002"])
    await api.check("PUT", "/api/queues/{name}/members/{operator_id}", 201, body={"penalty": 0})
    # An elder with a phone, a contact, a terminal, an open case and a call, looked at once
    # (so the access log has an entry).
    await api.sql(
        "INSERT INTO elders (id, full_name, birth_date, district, health_conditions) "
        "OVERRIDING SYSTEM VALUE VALUES (1, 'Wang Xiuying', '1941-03-08', 'east', 'diabetes')"
    )
    await api.sql("INSERT INTO elder_phones (elder_id, number) VALUES (1, '13800000001')")
    await api.sql(
        "INSERT INTO contacts (elder_id, full_name, relation, tier, number, is_guardian) "
        "VALUES (1, 'Liu Qiang', 'son', 1, '13900000011', true)"
    )
    await api.sql("INSERT INTO terminals (elder_id, number) VALUES (1, '18600000001')")
    await api.sql("UPDATE cases SET elder_id = 1 WHERE channel = 'web'")
    await api.sql("UPDATE calls SET elder_id = 1 WHERE linkedid = 'l.1'")
    api.values["elder_id"] = "1"
    await api.check("GET", "/api/elders/{elder_id}", 200)


@pytest.fixture
async def api(migrated: str) -> AsyncIterator[Api]:
    db = f"hotline_openapi_{secrets.token_hex(4)}"
    await _on_postgres(f'CREATE DATABASE "{db}" TEMPLATE "{migrated}"')
    try:
        engine = make_engine(sqlalchemy_url(db))
        scheduler = Scheduler(
            load=_nothing_pending,
            record=lambda op: None,
            publish=lambda event: None,
            queue=lambda name: QueueConfig(name) if name == "general" else None,
        )
        scheduler.bind(_must_not_place)
        live, bus = LiveFloor(), Bus()
        bus.fold(live.fold)
        app = http_app(
            engine,
            ENV_TOKEN,
            lambda: dict(HEALTH),
            snapshot=live.snapshot,
            ask=_refuse,
            on_call=lambda operator_id, call_id: False,
            scheduler=scheduler,
            bus=bus,
            supervisions=Supervisions(
                ari=AriClient(AriConfig("http://127.0.0.1:9", "nobody", "none", "hotline")),
                app="hotline",
                channels=_NoChannels(),
                ask=_refuse,
                calls_of=lambda operator_id: frozenset(),
                publish=bus.publish,
            ),
            retention=RetentionJob(
                engine,
                periods=Periods(),
                tz=ZoneInfo("Asia/Shanghai"),
                ari=None,
                retention_engine=None,
            ),
        )
        try:
            async with TestClient(TestServer(app)) as client:
                async with client.get("/api/openapi.json") as response:
                    assert response.status == 200
                    doc = Document(await response.json())
                absent = {
                    "id": "999999",
                    "name": "nosuchqueue",
                    "operator_id": "999999",
                    "entry": "web",  # a well-formed line that has no row
                    "case_id": str(uuid.uuid4()),
                    "call_id": str(uuid.uuid4()),
                    "callback_id": str(uuid.uuid4()),
                    "area": "nowhere",
                    "org_id": "999999",
                    "elder_id": "999999",
                    "recording": RECORDING.format(case="0" * 32),
                    "supervision_id": str(uuid.uuid4()),
                    "year": "1905",  # before any official calendar
                    "task_id": str(uuid.uuid4()),
                    "day": "2026-01-02",
                }
                state = Api(client, engine, doc, {"admin": ENV_TOKEN}, {}, absent)
                await _seed(state)
                _live_floor(bus, int(state.values["id"]))
                state.exercised.clear()
                yield state
        finally:
            await engine.dispose()
    finally:
        await _drop(db)


def _body_for(method: str, template: str, api: Api) -> dict[str, Any] | None:
    operation = api.doc.operation(method, template)
    if "requestBody" not in operation:
        return None
    assert (method, template) in BODIES, f"no sample body for {method} {template}: add one"
    return {
        key: value.format(**api.values) if isinstance(value, str) else value
        for key, value in BODIES[(method, template)].items()
    }


# --- the document itself ----------------------------------------------------------------


async def test_the_document_is_valid_openapi_3_1(api: Api) -> None:
    doc = api.doc.doc
    assert doc["openapi"].startswith("3.1.")
    validate_spec(doc)  # an OpenAPI 3.1 document (the version is read from `openapi`)
    ids = [operation["operationId"] for _, _, operation in api.doc.operations()]
    assert len(ids) == len(set(ids))
    for schema in doc["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    # Every path parameter documented as the route declares it.
    for method, path, operation in api.doc.operations():
        named = set(re.findall(r"{(\w+)}", path))
        documented = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
        assert named == documented, f"{method} {path}"


async def test_the_document_lists_exactly_the_routes_served(api: Api) -> None:
    served = {
        (route.method, route.resource.canonical)
        for route in api.client.server.app.router.routes()
        if route.method != "HEAD" and route.resource is not None
    }
    documented = {(method, path) for method, path, _ in api.doc.operations()}
    assert served - documented == set(), "served but not documented"
    assert documented - served == set(), "documented but not served"


async def test_security_is_what_the_app_enforces(api: Api) -> None:
    doc = api.doc.doc
    assert doc["components"]["securitySchemes"] == {"bearer": {"type": "http", "scheme": "bearer"}}
    public = set()
    for method, path, operation in api.doc.operations():
        if operation["security"] == []:
            public.add((method, path))
            continue
        assert operation["security"] == [{"bearer": []}], f"{method} {path}"
    assert ("GET", "/api/openapi.json") in public
    assert {path for _, path in public if path.startswith("/api")} == {"/api/openapi.json"}

    api.tokens["bad"] = "not-a-token"
    for method, path, _ in api.doc.operations():
        body = _body_for(method, path, api)
        if (method, path) in public:
            await api.check(method, path, 200, who=None)
            continue
        for who in (None, "bad"):
            reply = await api.check(method, path, 401, who=who, body=body)
            assert reply["error"] == "unauthorized"


# --- replies against the document -------------------------------------------------------


async def test_every_get_reply_fits_the_document(api: Api) -> None:
    for method, path, operation in api.doc.operations():
        if method != "GET":
            continue
        if "101" in operation["responses"]:
            # The event stream: a WebSocket whose first message is the floor's snapshot...
            headers = {"Authorization": f"Bearer {ENV_TOKEN}"}
            async with api.client.ws_connect(path, headers=headers) as ws:
                first = await ws.receive(timeout=5)
                assert first.type == WSMsgType.TEXT
                message = json.loads(first.data)
                assert message["type"] == "snapshot" and "snapshot" in message
            # ...and a plain GET (no upgrade) is refused as documented.
            reply = await api.check(method, path, 400)
            assert reply["error"] == "bad_request"
            continue
        if "audio/wav" in operation["responses"]["200"].get("content", {}):
            # A recording comes from Asterisk, and none runs here: 503 as documented (the
            # real download: tests/integration/test_emergencies.py).
            reply = await api.check(method, path, 503)
            assert reply["field"] == "recording"
            continue
        required = REQUIRED_QUERY.get(path, {})

        def query_string(required: dict[str, str] = required, **values: str) -> str:
            pairs = {**required, **values}
            return "?" + "&".join(f"{k}={v}" for k, v in pairs.items()) if pairs else ""

        reply = await api.check(method, path, 200, query=query_string())
        if isinstance(reply, list):
            assert reply, f"GET {path}: nothing listed, so nothing was checked"
        queries = [p for p in operation.get("parameters", []) if p["in"] == "query"]
        for query in queries:
            assert query["name"] in QUERY_VALUES, f"GET {path}: no sample for ?{query['name']}"
            good, bad = QUERY_VALUES[query["name"]]
            await api.check(method, path, 200, query=query_string(**{query["name"]: good}))
            refused = await api.check(method, path, 422, query=query_string(**{query["name"]: bad}))
            assert refused["field"] == query["name"]
        if queries:
            every = {q["name"]: QUERY_VALUES[q["name"]][0] for q in queries}
            await api.check(method, path, 200, query=query_string(**every))

    floor = await api.check("GET", "/api/floor", 200)
    assert floor["queues"]["general"]["waiting"] == 1
    assert floor["operators"] == {
        api.values["id"]: {"state": "ready", "reason": None, "reachable": True, "calls": 0}
    }
    cases = await api.check("GET", "/api/cases", 200)
    assert [(case["class"], case["steps"]) for case in cases] == [("life_help", 1), (None, 0)]
    calls = await api.check("GET", "/api/calls", 200)
    assert [call["case_number"] is None for call in calls] == [True, False]
    audit = await api.check("GET", "/api/audit", 200)
    assert {(entry["before"] is None, entry["after"] is None) for entry in audit} == {
        (True, False),
        (False, True),
    }


async def test_every_change_reply_fits_the_document(api: Api) -> None:
    op = await api.check(
        "POST",
        "/api/operators",
        201,
        body={"username": "op2001", "display_name": "Op", "sip_password": "password-1"},
    )
    new = {"id": str(op["id"]), "operator_id": str(op["id"])}
    await api.check(
        "PATCH", "/api/operators/{id}", 200, params=new, body={"display_name": "Op 2001"}
    )
    await api.check(
        "PUT",
        "/api/operators/{id}/state",
        200,
        params=new,
        body={"state": "paused", "reason": "lunch"},
    )
    await api.check(
        "PUT", "/api/operators/{id}/state", 200, who="operator", body={"state": "ready"}
    )

    night = {"name": "night"}
    queue = {"name": "night", "display_name": "Night", "overflow_after_s": 60}
    await api.check("POST", "/api/queues", 201, body={**queue, "overflow_target": "general"})
    await api.check("PATCH", "/api/queues/{name}", 200, params=night, body={"wrapup_s": 5})
    member = {**night, **new}
    await api.check("PUT", "/api/queues/{name}/members/{operator_id}", 201, params=member, body={})
    changed = await api.check(
        "PUT", "/api/queues/{name}/members/{operator_id}", 200, params=member, body={"penalty": 3}
    )
    assert changed["penalty"] == 3
    await api.check("DELETE", "/api/queues/{name}/members/{operator_id}", 204, params=member)
    await api.check("DELETE", "/api/queues/{name}", 204, params=night)

    hours = {"opens": "07:30", "closes": "21:00"}
    line = await api.check(
        "PATCH", "/api/lines/{entry}", 200, params={"entry": "lifehelp"}, body=hours
    )
    assert (line["opens"], line["closes"]) == ("07:30", "21:00")

    await api.check("POST", "/api/tokens", 201, body={"name": "robot", "role": "admin"})
    await api.check("DELETE", "/api/tokens/{name}", 204, params={"name": "robot"})

    # Retention (R27): a legal hold on a case, a purge now (nothing is old enough here).
    held = await api.check(
        "PUT",
        "/api/cases/{case_id}/hold",
        200,
        body=_body_for("PUT", "/api/cases/{case_id}/hold", api),
    )
    assert held["hold"] is True
    purge = await api.check("POST", "/api/retention/run", 200)
    assert (purge["recordings"], purge["access_rows"]) == (0, 0)

    asked = {"number": "138 0000 0000", "case_id": api.values["case_id"]}
    made = await api.check("POST", "/api/callbacks", 201, body=asked)
    assert (made["number"], made["queue"], made["status"]) == ("13800000000", "general", "pending")
    # An operator asks only on a case they own (R14); nobody owns this one.
    await api.check("POST", "/api/callbacks", 403, who="operator", body=asked)
    cancelled = await api.check(
        "POST", "/api/callbacks/{callback_id}/cancel", 200, params={"callback_id": made["id"]}
    )
    assert cancelled == {"status": "cancelled"}

    # No call is in progress here: transfers answer the documented 404.
    for path in ("/api/calls/{call_id}/transfer", "/api/calls/{call_id}/transfer/complete"):
        await api.check("POST", path, 404, body=_body_for("POST", path, api))
    await api.check("POST", "/api/calls/{call_id}/transfer/cancel", 404)
    await api.check("POST", "/api/calls/{call_id}/survey", 404)  # nor the survey
    # ... and so do an emergency's steps.
    for path in (
        "/api/calls/{call_id}/emergency",
        "/api/calls/{call_id}/emergency/summary",
        "/api/calls/{call_id}/emergency/operator",
        "/api/calls/{call_id}/emergency/end",
    ):
        await api.check("POST", path, 404, body=_body_for("POST", path, api))

    # Nobody is on a call here: a supervision cannot start, and none is there to change.
    path = "/api/operators/{operator_id}/supervision"
    refused = await api.check("POST", path, 409, body={"supervisor_id": int(new["id"])})
    assert refused["field"] == "supervisor_id"  # op2001 is not a supervisor
    await api.sql("UPDATE operators SET role = 'supervisor' WHERE id = :id", id=int(new["id"]))
    refused = await api.check("POST", path, 409, body={"supervisor_id": int(new["id"])})
    assert (refused["field"], refused["detail"]) == (
        "operator_id",
        "the operator is not talking on a call",
    )
    await api.check("PATCH", "/api/supervision/{supervision_id}", 404, body={"mode": "barge"})
    await api.check("DELETE", "/api/supervision/{supervision_id}", 404)

    # A case classified, noted, referred, handed on (a service order, a complaint, a
    # callback promised and extended) and closed.
    for method, path, status in (
        ("PATCH", "/api/cases/{case_id}", 200),
        ("POST", "/api/cases/{case_id}/notes", 201),
        ("POST", "/api/cases/{case_id}/referral/{org_id}", 200),
    ):
        await api.check(method, path, status, body=_body_for(method, path, api))
    for kind, path, extra in (
        ("provider", "/api/cases/{case_id}/service-order", {"service": "meals"}),
        ("department", "/api/cases/{case_id}/complaint", {}),
    ):
        org = await api.check(
            "POST", "/api/organisations", 201, body={"kind": kind, "name": f"A {kind}"}
        )
        done = await api.check("POST", path, 201, body={"org_id": org["id"], **extra})
        assert done
    done = await api.check("POST", "/api/case-tasks/{task_id}/done", 200)
    assert done["kind"] == "family_follow_up" and done["kept"] is True
    await api.check(
        "PUT", "/api/calendar/exceptions/{day}", 200, body={"kind": "workday", "note": "x"}
    )
    made_day = await api.check(
        "POST", "/api/calendar/exceptions", 201, body={"day": "2026-12-31", "kind": "holiday"}
    )
    assert made_day == {"day": "2026-12-31", "kind": "holiday", "note": None}
    await api.check("DELETE", "/api/calendar/exceptions/{day}", 204, params={"day": "2026-12-31"})
    # A year's notice: previewed, published, replaced by the package's data, withdrawn.
    preview = await api.check("POST", "/api/calendar/years/{year}/preview", 200, body=NOTICE_2026)
    assert preview["saved"] is False and preview["library_differences"]
    published = await api.check("PUT", "/api/calendar/years/{year}", 201, body=NOTICE_2026)
    assert (published["source"], published["published_by"]) == ("notice", "env-admin")
    library = await api.check("POST", "/api/calendar/years/{year}/accept-library", 200)
    assert library["source"] == "library"
    await api.check("PUT", "/api/calendar/years/{year}", 201, body=NOTICE_2026)
    await api.check("DELETE", "/api/calendar/years/{year}", 204)
    promised = await api.check(
        "POST", "/api/cases/{case_id}/callback", 201, body={"number": "13800000000"}
    )
    assert promised["kind"] == "callback"
    body = _body_for("POST", "/api/cases/{case_id}/callback/extend", api)
    extended = await api.check("POST", "/api/cases/{case_id}/callback/extend", 200, body=body)
    assert extended["days"] == 5 and extended["caller_told"] is True
    await api.check("POST", "/api/cases/{case_id}/close", 200, body={"reason": "answered"})

    await api.check("PATCH", "/api/organisations/{org_id}", 200, body={"grade": "3"})
    await api.check("POST", "/api/organisations/{org_id}/checked", 200)
    made = await api.check(
        "POST", "/api/organisations", 201, body=_body_for("POST", "/api/organisations", api)
    )
    await api.check(
        "DELETE", "/api/organisations/{org_id}", 204, params={"org_id": str(made["id"])}
    )

    west = {"area": "west"}
    await api.check(
        "POST", "/api/emergency/routes", 201, body=_body_for("POST", "/api/emergency/routes", api)
    )
    route = await api.check(
        "PUT", "/api/emergency/routes/{area}", 200, params=west, body={"ambulance": "121"}
    )
    assert (route["area"], route["ambulance"], route["ambulance_alt"]) == ("west", "121", None)
    await api.check("DELETE", "/api/emergency/routes/{area}", 204, params=west)
    party = await api.check(
        "POST", "/api/emergency/parties", 201, body=_body_for("POST", "/api/emergency/parties", api)
    )
    await api.check("DELETE", "/api/emergency/parties/{id}", 204, params={"id": str(party["id"])})

    found = await api.check("POST", "/api/elders/search", 200, body={"q": "王"})
    assert isinstance(found, list)
    opened = await api.check(
        "POST", "/api/elders/{elder_id}/open", 200, body={"reason": "the family asked"}
    )
    assert [c["class"] for c in opened["open_cases"]] == [None]
    changed = await api.check("PATCH", "/api/elders/{elder_id}", 200, body={"medication": "x"})
    assert changed["medication"] == "x"

    await api.check("DELETE", "/api/operators/{id}", 204, params=new)
    # op1001 has a token and calls: deactivated, and its record comes back.
    kept = await api.check("DELETE", "/api/operators/{id}", 200)
    assert kept["active"] is False

    changes = {(m, p) for m, p, _ in api.doc.operations() if m != "GET"}
    assert changes - api.exercised == set(), "changes no test has made"


async def test_every_error_reply_fits_the_document(api: Api) -> None:
    operations = list(api.doc.operations())
    # 403: the operator's token on what its role may not do (for its own-record routes:
    # another operator's record; transfers: a call it is not on).
    for method, path, operation in operations:
        roles = operation.get("x-roles", [])
        body = _body_for(method, path, api)
        if (roles and "operator" not in roles) or path.startswith("/api/calls/{call_id}/"):
            reply = await api.check(method, path, 403, who="operator", params=api.other, body=body)
            assert reply["error"] == "forbidden"
        if roles and "supervisor" not in roles:
            await api.check(method, path, 403, who="supervisor", params=api.other, body=body)

    # 404: well-formed path values that name nothing; `field` names the parameter.
    for method, path, _ in operations:
        for name in re.findall(r"{(\w+)}", path):
            body = _body_for(method, path, api)
            reply = await api.check(method, path, 404, params={name: api.absent[name]}, body=body)
            assert (reply["error"], reply["field"]) == ("not_found", name)

    # 422 and 400: every body with a field no model has, a value of the wrong type, and
    # text that is not JSON.
    for method, path, _ in operations:
        body = _body_for(method, path, api)
        if body is None:
            continue
        reply = await api.check(method, path, 422, body={**body, "colour": "blue"})
        assert (reply["error"], reply["field"]) == ("invalid", "colour")
        assert reply["detail"]
        wrong = next(iter(body))
        reply = await api.check(method, path, 422, body={**body, wrong: [1]})
        assert (reply["error"], reply["field"]) == ("invalid", wrong)
        reply = await api.check(method, path, 400, raw=b'{"name": ')
        assert reply["error"] == "bad_json"
        reply = await api.check(method, path, 422, raw=b"[1, 2]")
        assert reply["field"] == "body"

    # 409: a name taken, a queue still in use, a reserved token name.
    reply = await api.check(
        "POST", "/api/queues", 409, body={"name": "general", "display_name": "G"}
    )
    assert reply["field"] == "name"
    reply = await api.check("DELETE", "/api/queues/{name}", 409)
    assert reply["field"] == "name"
    reply = await api.check("POST", "/api/tokens", 409, body={"name": "env-admin", "role": "admin"})
    assert reply["field"] == "name"
    taken = {"area": "east", "ambulance": "120"}
    reply = await api.check("POST", "/api/emergency/routes", 409, body=taken)
    assert reply["field"] == "area"


# --- hostile input ----------------------------------------------------------------------


async def test_hostile_path_values_are_refused_with_a_4xx(api: Api) -> None:
    error = api.doc.error_schema()
    failures: list[str] = []
    tried = 0
    for method, path, _ in api.doc.operations():
        names = re.findall(r"{(\w+)}", path)
        body = _body_for(method, path, api)
        for name in names:
            for value in HOSTILE:
                values = {**api.values, name: value}
                url = re.sub(r"{(\w+)}", lambda m, v=values: v[m.group(1)], path)
                reply = await api.send(method, url, "admin", body)
                tried += 1
                where = f"{method} {url[:80]}"
                if not 400 <= reply.status < 500:
                    failures.append(f"{where}: {reply.status} {reply.body!r}"[:300])
                    continue
                if reply.content_type != JSON or not isinstance(reply.body, dict):
                    failures.append(f"{where}: {reply.status} {reply.content_type}")
                    continue
                try:
                    api.doc.validate(error, reply.body)
                except ValidationError as err:
                    failures.append(f"{where}: {err.message}")
                if value == "..":
                    continue  # the path is normalised before routing: /api/... elsewhere
                if str(reply.status) not in api.doc.operation(method, path)["responses"]:
                    failures.append(f"{where}: {reply.status} is not documented")
                if reply.status == 404 and reply.body.get("field") != name:
                    failures.append(f"{where}: 404 naming {reply.body.get('field')!r}")
    assert tried > 100
    assert failures == []


BAD_TEXT = ("a\u0000b", "\ud800", "a\udfffb")


async def test_invalid_text_in_bodies_is_refused_with_a_4xx(api: Api) -> None:
    other = {"id": api.other["id"]}
    for text_value in BAD_TEXT:
        cases: list[tuple[str, str, dict[str, str], dict[str, Any]]] = [
            (
                "POST",
                "/api/operators",
                {},
                {"username": "op4001", "display_name": text_value, "sip_password": "password-4"},
            ),
            ("PATCH", "/api/operators/{id}", other, {"display_name": text_value}),
            (
                "PUT",
                "/api/operators/{id}/state",
                other,
                {"state": "paused", "reason": text_value},
            ),
            ("POST", "/api/queues", {}, {"name": "night", "display_name": text_value}),
            ("PATCH", "/api/queues/{name}", {}, {"display_name": text_value}),
            ("PATCH", "/api/lines/{entry}", {}, {"queue": text_value}),
            ("POST", "/api/tokens", {}, {"name": text_value, "role": "admin"}),
            ("POST", "/api/callbacks", {}, {"number": text_value, "case_id": "x"}),
            ("POST", "/api/queues", {}, {"name": "night", "display_name": "N", text_value: 1}),
        ]
        for method, path, params, body in cases:
            raw = json.dumps(body).encode()  # \u0000 and lone surrogates as JSON escapes
            values = {**api.values, **params}
            url = re.sub(r"{(\w+)}", lambda m, v=values: v[m.group(1)], path)
            reply = await api.send(method, url, "admin", raw=raw)
            assert 400 <= reply.status < 500, f"{method} {url} {body!r}: {reply.status}"
            api.doc.check(method, path, reply.status, reply.content_type, reply.body)
            assert reply.body["error"]
    # Bytes that are not UTF-8 at all.
    reply = await api.send("POST", "/api/queues", "admin", raw=b'{"name": "\xff\xfe"}')
    assert (reply.status, reply.body["error"]) == (400, "bad_json")


async def test_out_of_range_values_in_bodies_are_refused_with_a_4xx(api: Api) -> None:
    case_id = api.values["case_id"]
    asked = {"number": "13800000000", "case_id": case_id}
    cases: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", "/api/tokens", {"name": "big", "role": "operator", "operator_id": 10**20}),
        ("POST", "/api/callbacks", {**asked, "due_at": "0001-01-01T00:00:00+01:00"}),
        ("POST", "/api/callbacks", {**asked, "due_at": "9999-12-31T23:59:59-14:00"}),
        ("POST", "/api/queues", {"name": "night", "display_name": "N", "wrapup_s": 10**30}),
        ("PUT", "/api/queues/{name}/members/{operator_id}", {"penalty": 10**30}),
        ("PATCH", "/api/operators/{id}", {"line_cap": 1e400}),
        ("POST", "/api/calls/{call_id}/transfer", {"operator_id": 10**30}),
    ]
    for method, path, body in cases:
        url = re.sub(r"{(\w+)}", lambda m: api.values[m.group(1)], path)
        reply = await api.send(method, url, "admin", body)
        assert 400 <= reply.status < 500, f"{method} {url} {body!r}: {reply.status} {reply.body}"
        api.doc.check(method, path, reply.status, reply.content_type, reply.body)
