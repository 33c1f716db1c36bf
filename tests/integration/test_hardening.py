"""Issue 15 (R27): what a review and a drill against the running service found, each on the
real stack (the service as a process, PostgreSQL, the Asterisk sandbox): logins flooded,
ownership taken through a callback, records opened and edited carelessly, sessions that
outlived their login, no TLS, personal data in error texts, reads left out of the access
log, SCAIP open to anyone, tokens for ever, nothing ever purged."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import secrets
import ssl
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from hotline.db.engine import make_engine
from tests.integration.conftest import Service
from tests.integration.floorkit import Floor
from tests.integration.pg import retention_url, sqlalchemy_url

pytestmark = pytest.mark.integration

ADMIN = "test-admin-token-of-the-suite-0123456789"
PASSWORD = "console-password-1"
ELDER_MOBILE = "13800000001"  # 王秀英 in the demo data
SON = "13900000011"  # her tier-1 contact


def base(service: Service, scheme: str = "http") -> str:
    return f"{scheme}://127.0.0.1:{service.port}"


async def call(
    http: aiohttp.ClientSession,
    service: Service,
    method: str,
    path: str,
    body: object = None,
    token: str = ADMIN,
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    async with http.request(method, base(service) + path, json=body, headers=headers) as r:
        data = await r.json() if r.content_type == "application/json" else None
        return r.status, data


async def token_of(floor: Floor, op_id: int, role: str = "operator") -> str:
    body: dict[str, Any] = {"name": f"tok-{secrets.token_hex(4)}", "role": role}
    if role == "operator":
        body["operator_id"] = op_id
    made = await floor.api("POST", "/api/tokens", body)
    return str(made["token"])


async def demo_elder(db: asyncpg.Connection) -> int:
    return int(
        await db.fetchval("SELECT elder_id FROM elder_phones WHERE number = $1", ELDER_MOBILE)
    )


async def a_case(
    db: asyncpg.Connection, elder_id: int | None, owner: int | None, status: str = "in_progress"
) -> uuid.UUID:
    case_id = uuid.uuid4()
    await db.execute(
        "INSERT INTO cases (id, opened_at, closed_at, class, status, channel, identified, "
        "elder_id, owner_operator_id) VALUES ($1, now(), CASE WHEN $2 = 'closed' THEN now() "
        "END, 'life_help', $2, 'hotline', $3, $4, $5)",
        case_id,
        status,
        elder_id is not None,
        elder_id,
        owner,
    )
    return case_id


class Events:
    """The /api/events stream as a supervisor's screen would get it."""

    def __init__(self, http: aiohttp.ClientSession, service: Service) -> None:
        self.http, self.service = http, service
        self.seen: list[dict[str, Any]] = []
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Events:
        ws = await self.http.ws_connect(
            base(self.service) + "/api/events", headers={"Authorization": f"Bearer {ADMIN}"}
        )

        async def read() -> None:
            async for msg in ws:
                if msg.type == aiohttp.WSMsgType.TEXT:
                    self.seen.append(json.loads(msg.data))

        self._ws = ws
        self._task = asyncio.create_task(read())
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._ws.close()
        if self._task is not None:
            self._task.cancel()

    async def wait(self, event_type: str, limit: float = 5.0, **fields: Any) -> dict[str, Any]:
        async with asyncio.timeout(limit):
            while True:
                for event in self.seen:
                    if event.get("type") == event_type and all(
                        event.get(k) == v for k, v in fields.items()
                    ):
                        return event
                await asyncio.sleep(0.05)


# --- 1. logins: held back, then locked, without starving anything ------------------------


async def login(
    service: Service, username: str, password: str, address: str = "127.0.0.1"
) -> aiohttp.ClientResponse:
    connector = aiohttp.TCPConnector(local_addr=(address, 0))
    async with (
        aiohttp.ClientSession(connector=connector) as http,
        http.post(
            base(service) + "/console/login",
            data={"username": username, "password": password},
            headers={"Origin": base(service)},
            allow_redirects=False,
        ) as reply,
    ):
        await reply.read()
        return reply


async def test_failed_logins_are_held_back_then_lock_the_account_with_an_alert(
    service: Service, db: asyncpg.Connection
) -> None:
    await service.start(HOTLINE_LOGIN_LOCK_AFTER="4")
    async with aiohttp.ClientSession() as http, Events(http, service) as events:
        floor = Floor(service, http)
        try:
            op_id, _ = await floor.operator(
                {}, register=False, ready=False, console_password=PASSWORD
            )
            name = (await floor.api("GET", f"/api/operators/{op_id}"))["username"]
            # From one address: three failures cost nothing, the fourth try waits.
            for _ in range(3):
                assert (await login(service, name, "wrong-1", "127.0.0.21")).status == 401
            # While it waits (each answered when the wait is over: the tarpit), made-up
            # names from that address wait the same, no password checked; and the account
            # waits too, whatever the address ...
            held, nobody, elsewhere = await asyncio.gather(
                login(service, name, PASSWORD, "127.0.0.21"),
                login(service, "nobody", "x", "127.0.0.21"),
                login(service, name, "wrong-2", "127.0.0.22"),
            )
            assert held.status == 429 and int(held.headers["Retry-After"]) >= 1
            assert nobody.status == 429 and elsewhere.status == 429
            await asyncio.sleep(0.3)
            # ... and its fourth failure locks it: right password or not, from anywhere.
            assert (await login(service, name, "wrong-3", "127.0.0.23")).status == 401
            locked = await login(service, name, PASSWORD, "127.0.0.24")
            assert locked.status == 429 and int(locked.headers["Retry-After"]) > 800
            alert = await events.wait("security.alert", kind="login_locked")
            assert alert["operator_id"] == op_id and alert["count"] == 4
            row = await db.fetchrow(
                "SELECT actor, after FROM audit_log WHERE action = 'lock' AND entity_id = $1",
                str(op_id),
            )
            assert row is not None and row["actor"] == "console-login"
            assert json.loads(row["after"])["failures"] == 4
            floor_now = await floor.api("GET", "/api/floor")
            assert any(
                a["kind"] == "login_locked" and a["operator_id"] == op_id
                for a in floor_now["alerts"]
            )
            # An admin's new password lifts the lock: the operator logs in at once.
            await floor.api(
                "PATCH", f"/api/operators/{op_id}", {"console_password": "new-password-12"}
            )
            assert (await login(service, name, "new-password-12", "127.0.0.25")).status == 303
        finally:
            await floor.undo()
    log = service.log.read_text()
    assert "console login refused for operator" in log and "wrong-1" not in log


async def test_refused_logins_are_answered_slowly_and_one_address_holds_only_a_few(
    service: Service,
) -> None:
    """The tarpit (console/login.py): a client hammering the login page gets its 429s when
    its wait is over, and an address with 4 of them held already gets a bare 429 at once."""
    await service.start()
    address = "127.0.0.31"
    for _ in range(3):  # free failures: answered at once (401)
        assert (await login(service, "nobody", "wrong", address)).status == 401

    async def attempt() -> tuple[int, float, str]:
        started = time.monotonic()
        reply = await login(service, "nobody", "wrong", address)
        return reply.status, time.monotonic() - started, reply.headers.get("Connection", "")

    answers = await asyncio.gather(*(attempt() for _ in range(8)))
    assert all(status == 429 for status, _, _ in answers)
    held = [took for _, took, conn in answers if conn.lower() != "close"]
    bare = [took for _, took, conn in answers if conn.lower() == "close"]
    assert len(held) == 4 and len(bare) == 4, answers
    assert min(held) >= 0.9  # the wait is 1 s
    assert max(bare) < min(held)
    # Another address, for another name, is not held back by these attempts.
    assert (await login(service, "someone-else", "wrong", "127.0.0.32")).status == 401


async def test_one_password_check_at_a_time_for_an_account(service: Service) -> None:
    """Guesses at one account from many addresses at once: one is checked (401), the others
    are held back (429) without a password check, whichever address they come from."""
    await service.start()
    answers = await asyncio.gather(
        *(login(service, "op1001", f"wrong-{i}", f"127.0.0.{40 + i}") for i in range(6))
    )
    statuses = sorted(reply.status for reply in answers)
    assert statuses == [401, 429, 429, 429, 429, 429], statuses
    # Checked one after another, the account's failures count as before.
    assert (await login(service, "op1001", "wrong-again", "127.0.0.47")).status == 401


# --- 2. ownership: callbacks by the owner, to the case's own numbers ---------------------


async def test_a_callback_is_asked_by_the_owner_for_the_cases_own_numbers_only(
    floor: Floor, db: asyncpg.Connection
) -> None:
    http, service = floor.http, floor.service
    owner, _ = await floor.operator({}, register=False, ready=False)
    other, _ = await floor.operator({}, register=False, ready=False)
    owner_token, other_token = await token_of(floor, owner), await token_of(floor, other)
    supervisor_token = await token_of(floor, 0, "supervisor")
    elder_id = await demo_elder(db)
    case_id = await a_case(db, elder_id, owner)
    closed = await a_case(db, elder_id, owner, "closed")
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()

    def ask(number: str, case: uuid.UUID = case_id, **more: Any) -> dict[str, Any]:
        return {"number": number, "case_id": str(case), "due_at": later, **more}

    asked: list[str] = []
    try:
        status, body = await call(http, service, "POST", "/api/callbacks", ask(SON), other_token)
        assert (status, body["field"]) == (403, "case_id")  # not their case
        status, body = await call(
            http, service, "POST", "/api/callbacks", ask("13999990000"), owner_token
        )
        assert (status, body["field"]) == (422, "number")  # nobody of the case's
        status, body = await call(
            http,
            service,
            "POST",
            "/api/callbacks",
            ask("13999990000", any_number=True),
            owner_token,
        )
        assert (status, body["field"]) == (403, "any_number")  # not the operator's to say
        status, body = await call(
            http, service, "POST", "/api/callbacks", ask(SON, closed), owner_token
        )
        assert (status, body["field"]) == (409, "case_id")  # a closed case stays closed
        status, body = await call(http, service, "POST", "/api/callbacks", ask(SON), owner_token)
        assert status == 201 and body["number"] == SON, body  # the elder's son: a party
        asked.append(body["id"])
        status, body = await call(
            http,
            service,
            "POST",
            "/api/callbacks",
            ask("13999990000", any_number=True),
            supervisor_token,
        )
        assert status == 201, body  # a supervisor may have another number called
        asked.append(body["id"])
        # The promise of a callback (R15) to another number follows the same rule.
        status, body = await call(
            http,
            service,
            "POST",
            f"/api/cases/{case_id}/callback",
            {"number": "13999990000"},
            owner_token,
        )
        assert (status, body["field"]) == (422, "number")
        # Each operator lists the callbacks and cases of their own cases, nobody else's.
        async with asyncio.timeout(5):  # the recorder writes the callback a moment later
            while True:
                _, mine = await call(http, service, "GET", "/api/callbacks", token=owner_token)
                if asked[0] in {c["id"] for c in mine}:
                    break
                await asyncio.sleep(0.1)
        _, theirs = await call(http, service, "GET", "/api/callbacks", token=other_token)
        assert theirs == []
        _, cases = await call(http, service, "GET", "/api/cases", token=other_token)
        assert cases == []
        _, cases = await call(http, service, "GET", "/api/cases?limit=1000", token=owner_token)
        assert {c["id"] for c in cases} == {str(case_id), str(closed)}
        _, everything = await call(
            http, service, "GET", "/api/cases?limit=1000", token=supervisor_token
        )
        assert {str(case_id), str(closed)} <= {c["id"] for c in everything}  # every case
    finally:
        for callback_id in asked:
            await floor.api("POST", f"/api/callbacks/{callback_id}/cancel")
    status_owner = await db.fetchrow(
        "SELECT status, owner_operator_id FROM cases WHERE id = $1", closed
    )
    assert tuple(status_owner) == ("closed", owner)


# --- 3. records: opened with a reason (limited, shown), edited only as sent -------------


async def test_records_opened_with_reasons_are_limited_and_shown_to_supervisors(
    floor: Floor, db: asyncpg.Connection
) -> None:
    http, service = floor.http, floor.service
    op_id, _ = await floor.operator({}, register=False, ready=False)
    token = await token_of(floor, op_id)
    elder_id = await demo_elder(db)
    async with Events(http, service) as events:
        status, body = await call(http, service, "GET", f"/api/elders/{elder_id}", token=token)
        assert status == 403  # no tie: a reason is needed
        for n in range(10):
            status, body = await call(
                http,
                service,
                "POST",
                f"/api/elders/{elder_id}/open",
                {"reason": f"家属来电 {n}"},
                token,
            )
            assert status == 200, body
        alert = await events.wait("security.alert", kind="record_opened", count=10)
        assert alert["operator_id"] == op_id and alert["elder_id"] == elder_id
        status, body = await call(
            http, service, "POST", f"/api/elders/{elder_id}/open", {"reason": "再看一次"}, token
        )
        assert status == 429 and body["field"] == "reason"
        await events.wait("security.alert", kind="record_limit")
        # With no tie, reading with a reason is not changing.
        status, body = await call(
            http, service, "PATCH", f"/api/elders/{elder_id}", {"medication": "x"}, token
        )
        assert status == 403
    rows = await db.fetch(
        "SELECT actor, role, why, reason FROM record_access WHERE operator_id = $1 AND kind = "
        "'record'",
        op_id,
    )
    assert len([r for r in rows if r["reason"]]) == 10 and {r["role"] for r in rows} == {"operator"}


async def test_an_owners_edit_changes_only_what_it_sends_and_never_high_risk(
    floor: Floor, db: asyncpg.Connection
) -> None:
    http, service = floor.http, floor.service
    op_id, _ = await floor.operator({}, register=False, ready=False)
    token = await token_of(floor, op_id)
    elder_id = await demo_elder(db)
    await a_case(db, elder_id, op_id)  # an open case they own: they may see and edit
    before = await db.fetchrow("SELECT * FROM elders WHERE id = $1", elder_id)
    try:
        status, body = await call(
            http, service, "PATCH", f"/api/elders/{elder_id}", {"high_risk": False}, token
        )
        assert (status, body["field"]) == (403, "high_risk")
        status, body = await call(
            http, service, "PATCH", f"/api/elders/{elder_id}", {"children": "一子一女一孙"}, token
        )
        assert status == 200, body
        after = await db.fetchrow("SELECT * FROM elders WHERE id = $1", elder_id)
        assert after["children"] == "一子一女一孙"
        for column in ("address", "medication", "health_conditions", "high_risk", "district"):
            assert after[column] == before[column], column
    finally:
        await db.execute(
            "UPDATE elders SET children = $2 WHERE id = $1", elder_id, before["children"]
        )


# --- 4. sessions end, and their sockets close -------------------------------------------


class Console:
    """A browser's login as plain HTTP: the cookie jar and the console's socket."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.ws: aiohttp.ClientWebSocketResponse | None = None

    async def log_in(self, username: str, password: str = PASSWORD) -> None:
        origin = base(self.service)
        async with self.http.post(
            origin + "/console/login",
            data={"username": username, "password": password},
            headers={"Origin": origin},
            allow_redirects=False,
        ) as reply:
            assert reply.status == 303, await reply.text()
        self.ws = await self.http.ws_connect(origin + "/console/ws", headers={"Origin": origin})

    async def closed_with(self, limit: float = 5.0) -> int | None:
        assert self.ws is not None
        async with asyncio.timeout(limit):
            async for _ in self.ws:
                pass
        return self.ws.close_code

    async def csrf(self, page: str = "/console/floor") -> str:
        async with self.http.get(base(self.service) + page) as reply:
            page = await reply.text()
        found = re.search(r'name="csrf" value="([^"]+)"', page)
        assert found is not None, page[:500]
        return found.group(1)

    async def page(self, path: str) -> int:
        async with self.http.get(base(self.service) + path, allow_redirects=False) as reply:
            return reply.status

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        await self.http.close()


async def test_a_sessions_socket_closes_on_logout_password_role_deactivation_and_idle(
    floor: Floor, db: asyncpg.Connection
) -> None:
    service = floor.service
    sup, _ = await floor.operator(
        {}, register=False, ready=False, console_password=PASSWORD, role="supervisor"
    )
    name = (await floor.api("GET", f"/api/operators/{sup}"))["username"]

    async def session() -> Console:
        console = Console(service)
        await console.log_in(name)
        return console

    # Logout: its socket closes at once, the cookie opens nothing any more.
    console = await session()
    origin = base(service)
    async with console.http.post(
        origin + "/console/logout",
        data={"csrf": await console.csrf()},
        headers={"Origin": origin},
        allow_redirects=False,
    ) as reply:
        assert reply.status == 303
    assert await console.closed_with() == 4001
    assert await console.page("/console/floor") == 303  # to the login page
    await console.close()
    # A new password ends every session of the operator (two browsers here).
    first, second = await session(), await session()
    await floor.api("PATCH", f"/api/operators/{sup}", {"console_password": "another-pw-1"})
    assert await first.closed_with() == 4001 and await second.closed_with() == 4001
    assert await first.page("/console/floor") == 303
    for console in (first, second):
        await console.close()
    await floor.api("PATCH", f"/api/operators/{sup}", {"console_password": PASSWORD})
    # A demotion: the supervisor's floor (health records, every call) is gone at once.
    console = await session()
    await floor.api("PATCH", f"/api/operators/{sup}", {"role": "operator"})
    assert await console.closed_with() == 4001
    await console.close()
    await floor.api("PATCH", f"/api/operators/{sup}", {"role": "supervisor"})
    # Deactivated.
    console = await session()
    await floor.api("PATCH", f"/api/operators/{sup}", {"active": False})
    assert await console.closed_with() == 4001
    await console.close()
    await floor.api("PATCH", f"/api/operators/{sup}", {"active": True})
    # Idle longer than HOTLINE_CONSOLE_IDLE_MIN (120 min): the next check closes it.
    console = await session()
    await db.execute(
        "UPDATE console_sessions SET last_seen_at = now() - interval '3 hours' "
        "WHERE operator_id = $1 AND ended_at IS NULL",
        sup,
    )
    assert await console.closed_with(limit=40) == 4001  # the hub checks every 30 s
    assert await console.page("/console/floor") == 303
    await console.close()
    ended = await db.fetch("SELECT ended_reason FROM console_sessions WHERE operator_id = $1", sup)
    assert {r["ended_reason"] for r in ended} >= {"logout", "password"}


async def test_quick_create_takes_the_call_and_number_from_the_service_not_the_form(
    floor: Floor, db: asyncpg.Connection
) -> None:
    service = floor.service
    op_id, _ = await floor.operator({}, register=False, ready=False, console_password=PASSWORD)
    name = (await floor.api("GET", f"/api/operators/{op_id}"))["username"]
    console = Console(service)
    try:
        await console.log_in(name)
        origin = base(service)
        forged = {
            "csrf": await console.csrf("/console"),
            "full_name": "冒名顶替",
            "call_id": str(uuid.uuid4()),  # no call offered to this operator
            "number": ELDER_MOBILE,  # someone else's number
        }
        async with console.http.post(
            origin + "/console/elders", data=forged, headers={"Origin": origin}
        ) as reply:
            assert reply.status == 403
        assert await db.fetchval("SELECT count(*) FROM elders WHERE full_name = '冒名顶替'") == 0
    finally:
        await console.close()


# --- 5. TLS, and the outside as a trusted proxy saw it -----------------------------------


def self_signed(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


async def test_the_service_serves_https_with_hsts_and_secure_cookies(
    service: Service, tmp_path: Path
) -> None:
    cert, key = self_signed(tmp_path)
    # The test's readiness probe speaks plain HTTP: start, then check over TLS ourselves.
    env = {"HOTLINE_TLS_CERT": str(cert), "HOTLINE_TLS_KEY": str(key)}
    service._registered = lambda: _https_ready(service)  # type: ignore[method-assign]
    await service.start(**env)
    trust = ssl.create_default_context(cafile=str(cert))
    async with aiohttp.ClientSession() as http:
        async with http.get(base(service, "https") + "/healthz", ssl=trust) as reply:
            assert reply.status == 200
            assert reply.headers["Strict-Transport-Security"].startswith("max-age=")
        async with http.get(base(service, "https") + "/console/login", ssl=trust) as reply:
            assert reply.status == 200
        with pytest.raises(aiohttp.ClientError):  # no plain HTTP beside it
            async with http.get(base(service) + "/healthz") as reply:
                await reply.read()


def _https_ready(service: Service) -> bool:
    context = ssl._create_unverified_context()
    import urllib.request

    try:
        with urllib.request.urlopen(
            base(service, "https") + "/healthz", timeout=2, context=context
        ) as r:
            return bool(json.loads(r.read()).get("ari_connected"))
    except OSError:
        return False


async def test_behind_a_trusted_proxy_the_console_works_and_cookies_are_secure(
    floor: Floor,
) -> None:
    service = floor.service
    await service.stop()
    await service.start(HOTLINE_TRUSTED_PROXIES="127.0.0.1")
    op_id, _ = await floor.operator({}, register=False, ready=False, console_password=PASSWORD)
    name = (await floor.api("GET", f"/api/operators/{op_id}"))["username"]
    outside = "https://hotline.example.org"
    proxied = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "hotline.example.org"}

    async def post(address: str) -> aiohttp.ClientResponse:
        connector = aiohttp.TCPConnector(local_addr=(address, 0))
        async with (
            aiohttp.ClientSession(connector=connector) as http,
            http.post(
                base(service) + "/console/login",
                data={"username": name, "password": PASSWORD},
                headers={"Origin": outside, **proxied},
                allow_redirects=False,
            ) as reply,
        ):
            await reply.read()
            return reply

    through = await post("127.0.0.1")  # the proxy: believed
    assert through.status == 303
    cookie = through.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie
    assert through.headers["Strict-Transport-Security"].startswith("max-age=")
    forged = await post("127.0.0.31")  # anyone else saying the same: not believed
    assert forged.status == 403


# --- 6. personal data stays out of error texts -------------------------------------------


async def test_a_failed_statement_never_carries_its_values_into_an_error(database: str) -> None:
    engine = make_engine(sqlalchemy_url(database))
    try:
        with pytest.raises(DBAPIError) as failed:
            async with engine.begin() as conn:
                await conn.execute(
                    text(
                        "INSERT INTO elders (full_name, medication, birth_date) VALUES (:n, :m, :b)"
                    ),
                    {"n": "王秀英", "m": "氨氯地平-SECRET", "b": "not a date"},
                )
        message = str(failed.value)
        assert "SECRET" not in message and "王秀英" not in message
        assert "hidden due to hide_parameters" in message
    finally:
        await engine.dispose()


# --- 7. the access log: every read, append-only, kept when the elder is gone -------------


async def test_reads_are_logged_append_only_and_outlive_the_elder(
    floor: Floor, db: asyncpg.Connection
) -> None:
    http, service = floor.http, floor.service
    supervisor_token = await token_of(floor, 0, "supervisor")
    elder_id = int(
        await db.fetchval("INSERT INTO elders (full_name) VALUES ('临时老人') RETURNING id")
    )
    case_id = await a_case(db, elder_id, None)
    since = await db.fetchval("SELECT now()")
    assert (
        await call(http, service, "GET", f"/api/cases/{case_id}/timeline", token=supervisor_token)
    )[0] == 200
    assert (await call(http, service, "GET", f"/api/elders/{elder_id}", token=supervisor_token))[
        0
    ] == 200
    assert (
        await call(http, service, "POST", "/api/elders/search", {"q": "临时"}, supervisor_token)
    )[0] == 200
    assert (await call(http, service, "GET", "/api/audit"))[0] == 200
    rows = await db.fetch(
        "SELECT kind, actor, role, why, target, case_id, elder_id FROM record_access "
        "WHERE at >= $1 ORDER BY id",
        since,
    )
    kinds = [(r["kind"], r["role"]) for r in rows]
    assert kinds == [
        ("timeline", "supervisor"),
        ("record", "supervisor"),
        ("search", "supervisor"),
        ("audit", "admin"),
    ]
    assert rows[0]["case_id"] == case_id and rows[1]["elder_id"] == elder_id
    assert rows[2]["target"] == "临时" and rows[3]["actor"] == "env-admin"
    assert rows[0]["actor"].startswith("tok-")
    # The service's own role cannot change or remove a row ...
    for statement in (
        "UPDATE record_access SET actor = 'nobody' WHERE at >= $1",
        "DELETE FROM record_access WHERE at >= $1",
        "UPDATE audit_log SET actor = 'nobody' WHERE id = (SELECT max(id) FROM audit_log)",
        "DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)",
    ):
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await db.execute(statement, *([since] if "$1" in statement else []))
    # ... and the rows stay when the elder's record goes.
    await db.execute("DELETE FROM cases WHERE id = $1", case_id)
    await db.execute("DELETE FROM elders WHERE id = $1", elder_id)
    kept = await db.fetchval(
        "SELECT count(*) FROM record_access WHERE elder_id = $1 OR case_id = $2",
        elder_id,
        case_id,
    )
    assert kept == 2


# --- 8. SCAIP open to the network needs an allow-list --------------------------------------


async def test_scaip_open_to_the_network_without_an_allow_list_does_not_start(
    service: Service,
) -> None:
    env = service.env(HOTLINE_SCAIP_LISTEN="0.0.0.0:15079")
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "hotline", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode != 0
    assert "HOTLINE_SCAIP_ALLOWED" in done.stderr


# --- 9. tokens expire -------------------------------------------------------------------


async def test_an_api_token_expires(floor: Floor, db: asyncpg.Connection) -> None:
    http, service = floor.http, floor.service
    made = await floor.api(
        "POST", "/api/tokens", {"name": f"tok-{secrets.token_hex(4)}", "role": "supervisor"}
    )
    expires = dt.datetime.fromisoformat(made["expires_at"])
    assert dt.timedelta(days=89) < expires - dt.datetime.now(dt.UTC) <= dt.timedelta(days=90)
    assert (await call(http, service, "GET", "/api/queues", token=made["token"]))[0] == 200
    await db.execute(
        "UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE name = $1",
        made["name"],
    )
    assert (await call(http, service, "GET", "/api/queues", token=made["token"]))[0] == 401
    status, body = await call(
        http,
        service,
        "POST",
        "/api/tokens",
        {"name": "x-1", "role": "admin", "expires_in_days": 400},
    )
    assert (status, body["field"]) == (422, "expires_in_days")


# --- 10. retention: purged after the period, unless on hold; each purge audited ----------


async def test_the_purge_removes_what_is_past_its_period_unless_the_case_is_on_hold(
    floor: Floor, db: asyncpg.Connection
) -> None:
    if not retention_url(floor.service.database):
        pytest.skip("HOTLINE_RETENTION_DATABASE_URL unset: scripts/test sets it")
    http, service = floor.http, floor.service
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=4 * 365)
    elder_id = await demo_elder(db)
    kept_case, purged_case = await a_case(db, elder_id, None), await a_case(db, elder_id, None)
    names = {}
    for case in (kept_case, purged_case):
        names[case] = f"emergency-{case.hex}-{secrets.token_hex(4)}"
        await db.execute(
            "INSERT INTO case_recordings (name, case_id, call_id, started_at, stopped_at) "
            "VALUES ($1, $2, $3, $4, $4)",
            names[case],
            case,
            uuid.uuid4(),
            old,
        )
        await db.execute(
            "INSERT INTO record_access (at, actor, role, kind, why, case_id) "
            "VALUES ($1, 'someone', 'supervisor', 'timeline', 'supervisor', $2)",
            old,
            case,
        )
    status, body = await call(
        http,
        service,
        "PUT",
        f"/api/cases/{kept_case}/hold",
        {"hold": True, "reason": "法院调取证据"},
    )
    assert (status, body.get("hold")) == (200, True), body
    status, report = await call(http, service, "POST", "/api/retention/run")
    assert status == 200 and report["problems"] == [], report
    assert report["recordings"] >= 1 and report["access_rows"] >= 1
    purged = await db.fetchval(
        "SELECT purged_at FROM case_recordings WHERE name = $1", names[purged_case]
    )
    held = await db.fetchval(
        "SELECT purged_at FROM case_recordings WHERE name = $1", names[kept_case]
    )
    assert purged is not None and held is None
    left = await db.fetch(
        "SELECT case_id FROM record_access WHERE at = $1 AND case_id = ANY($2::uuid[])",
        old,
        [kept_case, purged_case],
    )
    assert [r["case_id"] for r in left] == [kept_case]
    audits = await db.fetch(
        "SELECT actor, entity, after FROM audit_log WHERE action = 'purge' ORDER BY id DESC"
    )
    assert {a["entity"] for a in audits} >= {"recordings", "record_access"}
    assert all(a["actor"] == "env-admin" for a in audits[:2])
    status, body = await call(http, service, "GET", f"/api/recordings/{names[purged_case]}")
    assert status == 404 and "retention" in body["detail"]
    step = await db.fetchval(
        "SELECT detail FROM case_events WHERE case_id = $1 AND kind = 'hold_set'", kept_case
    )
    assert json.loads(step)["reason"] == "法院调取证据"
    status, shown = await call(http, service, "GET", "/api/retention")
    assert status == 200 and shown["last"]["by"] == "env-admin"
    assert (shown["recordings_days"], shown["access_days"]) == (1095, 1095)
