"""A test's own queues and operators, made through the admin API and undone after."""

from __future__ import annotations

import secrets
from typing import Any

import aiohttp

from tests.integration.conftest import Service
from tests.integration.softphone import Behaviour, Softphone, next_ip


class Floor:
    """A test's own queues and operators, made through the admin API and undone after."""

    def __init__(self, service: Service, http: aiohttp.ClientSession) -> None:
        self.service = service
        self.http = http
        self.phones: list[Softphone] = []
        self.operators: list[int] = []
        self.lines: dict[str, dict[str, Any]] = {}

    async def api(self, method: str, path: str, body: object = None) -> Any:
        url = f"http://127.0.0.1:{self.service.port}{path}"
        async with self.http.request(
            method,
            url,
            json=body,
            headers={"Authorization": "Bearer test-admin-token-of-the-suite-0123456789"},
        ) as response:
            data = await response.json() if response.content_type == "application/json" else None
            assert response.status < 300, (method, path, response.status, data)
            return data

    async def queue(self, **settings: Any) -> str:
        name = f"q{secrets.token_hex(3)}"
        body = {"name": name, "display_name": name, "ring_timeout_s": 4, "wrapup_s": 1}
        await self.api("POST", "/api/queues", {**body, **settings})
        return name

    async def route(self, entry: str, queue: str, **line: Any) -> None:
        """Send calls on ``entry`` to ``queue`` for this test."""
        if entry not in self.lines:
            current = await self.api("GET", "/api/lines")
            self.lines[entry] = next(x for x in current if x["entry"] == entry)
        await self.api("PATCH", f"/api/lines/{entry}", {"queue": queue, **line})

    async def operator(
        self,
        queues: dict[str, int],
        *,
        behaviour: Behaviour = "answer",
        line_cap: int = 1,
        ready: bool = True,
        register: bool = True,
        ring_ms: int = 200,
        console_password: str | None = None,
        role: str = "operator",
    ) -> tuple[int, Softphone]:
        name = f"t{secrets.token_hex(4)}"
        password = secrets.token_hex(8)
        body: dict[str, Any] = {
            "username": name,
            "display_name": name,
            "sip_password": password,
            "line_cap": line_cap,
            "role": role,
        }
        if console_password is not None:
            body["console_password"] = console_password
        created = await self.api("POST", "/api/operators", body)
        op_id = int(created["id"])
        self.operators.append(op_id)
        for queue, penalty in queues.items():
            await self.api("PUT", f"/api/queues/{queue}/members/{op_id}", {"penalty": penalty})
        phone = Softphone(name, password, next_ip(), behaviour, ring_ms=ring_ms)
        if register:
            self.phones.append(phone)
            await phone.start()
        if ready:
            await self.state(op_id, "ready")
        return op_id, phone

    async def state(self, op_id: int, state: str, reason: str | None = None) -> None:
        body: dict[str, Any] = {"state": state}
        if reason:
            body["reason"] = reason
        await self.api("PUT", f"/api/operators/{op_id}/state", body)

    async def undo(self) -> None:
        for phone in self.phones:
            await phone.stop()
        for entry, line in self.lines.items():
            await self.api(
                "PATCH",
                f"/api/lines/{entry}",
                {k: line[k] for k in ("queue", "opens", "closes", "after_hours_queue")},
            )
        for op_id in self.operators:
            await self.api("DELETE", f"/api/operators/{op_id}")
