"""The vendored htmx 2 and htmx-ext-ws 2 work offline in Debian's headless chromium: a page
served by a small aiohttp server opens an htmx WebSocket to it, fragments pushed by the server
are swapped in by id, a form sent with ws-send reaches the server with its fields, the socket
comes back after a restart close, and text escaped on the server never runs as script."""

from __future__ import annotations

import asyncio
import html
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import WSCloseCode, WSMsgType, web
from playwright.async_api import Page, expect

from tests.browser.conftest import STATIC_DIR, NewPage, save_screenshot

PAGE = """<!doctype html>
<html lang="zh-CN">
<head>
  <meta charset="utf-8">
  <title>htmx ws</title>
  <script src="/static/htmx.min.js"></script>
  <script src="/static/ws.js"></script>
</head>
<body>
  <main hx-ext="ws" ws-connect="/ws">
    <p id="status">等待</p>
    <p id="note"></p>
    <table><tbody id="calls"></tbody></table>
    <form id="reply" ws-send>
      <input name="case_id" value="c-1">
      <input name="note">
      <button type="submit">发送</button>
    </form>
  </main>
</body>
</html>
"""


@dataclass
class WsServer:
    """A page, the static files and /ws; every socket the page opens and every message it
    sends are queued for the test."""

    base: str
    sockets: asyncio.Queue[web.WebSocketResponse] = field(default_factory=asyncio.Queue)
    received: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)

    async def next_socket(self, timeout: float = 5) -> web.WebSocketResponse:
        return await asyncio.wait_for(self.sockets.get(), timeout)


@pytest.fixture
async def server() -> AsyncIterator[WsServer]:
    state = WsServer(base="")

    async def page(_: web.Request) -> web.Response:
        return web.Response(text=PAGE, content_type="text/html")

    async def socket(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        state.sockets.put_nowait(ws)
        async for message in ws:
            if message.type is WSMsgType.TEXT:
                state.received.put_nowait(json.loads(message.data))
        return ws

    app = web.Application()
    app.router.add_get("/", page)
    app.router.add_get("/ws", socket)
    app.router.add_static("/static", STATIC_DIR)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    state.base = f"http://{host}:{port}"
    try:
        yield state
    finally:
        await runner.cleanup()


async def open_page(new_page: NewPage, server: WsServer) -> tuple[Page, list[str]]:
    """The page, loaded, with the list of every URL it requested."""
    page = await new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    await page.goto(server.base + "/")
    return page, requested


async def test_pushed_fragments_swap_by_id_and_ws_send_posts_the_form(
    server: WsServer, new_page: NewPage, tmp_path: Path
) -> None:
    page, requested = await open_page(new_page, server)
    ws = await server.next_socket()

    assert str(await page.evaluate("htmx.version")).startswith("2")
    # Each top-level element of a message is an out-of-band swap: by its id by default
    # (outerHTML), or as hx-swap-oob="<swap>:<selector>" for its children.
    await ws.send_str('<p id="status">已接通</p><p id="note">一条</p>')
    await expect(page.locator("#status")).to_have_text("已接通")
    await expect(page.locator("#note")).to_have_text("一条")
    # Table rows: the message must start with a table element (the browser parses it in a
    # <template>, and <tr>/<tbody> after a <p> would be dropped).
    await ws.send_str(
        '<tbody hx-swap-oob="beforeend:#calls">'
        '<tr id="call-1"><td>来电 1</td></tr><tr id="call-2"><td>来电 2</td></tr></tbody>'
    )
    await expect(page.locator("#calls tr")).to_have_count(2)
    await ws.send_str('<tr id="call-1"><td>来电 1 已接听</td></tr>')
    await expect(page.locator("#calls tr#call-1 td")).to_have_text("来电 1 已接听")
    await ws.send_str('<tr id="call-2" hx-swap-oob="delete"></tr>')
    await expect(page.locator("#calls tr")).to_have_count(1)

    await page.fill("input[name=note]", "需要回访")
    await page.click("button[type=submit]")
    sent = await asyncio.wait_for(server.received.get(), 5)
    assert sent["case_id"] == "c-1"
    assert sent["note"] == "需要回访"
    assert sent["HEADERS"]["HX-Request"] == "true"
    assert sent["HEADERS"]["HX-Trigger"] == "reply"
    assert sent["HEADERS"]["HX-Current-URL"] == server.base + "/"
    # The form was sent over the socket, not submitted as a page load.
    assert page.url == server.base + "/"

    # Nothing came from anywhere but the test server (no CDN).
    assert requested
    assert all(url.startswith(server.base + "/") for url in requested), requested
    shot = await save_screenshot(page, tmp_path / "shots" / "ws.png")
    assert shot.stat().st_size > 0


async def test_the_socket_reconnects_after_a_restart_close_and_not_after_a_normal_one(
    server: WsServer, new_page: NewPage
) -> None:
    page, _ = await open_page(new_page, server)
    first = await server.next_socket()

    # 1012 (service restart), like 1006/1011/1013, makes htmx-ext-ws reconnect after a
    # random delay ("full-jitter": up to 1 s on the first retry, doubling up to 64 s).
    await first.close(code=WSCloseCode.SERVICE_RESTART)
    second = await server.next_socket(timeout=5)
    await second.send_str('<p id="status">重新连接</p>')
    await expect(page.locator("#status")).to_have_text("重新连接")

    # A normal close (1000) or going away (1001) is final: the page stays disconnected.
    await second.close(code=WSCloseCode.OK)
    with pytest.raises(TimeoutError):
        await server.next_socket(timeout=1.5)


async def test_script_in_escaped_pushed_text_does_not_run(
    server: WsServer, new_page: NewPage
) -> None:
    page, _ = await open_page(new_page, server)
    ws = await server.next_socket()
    hostile = '<script>window.__xss = 1</script><img src="x" onerror="window.__xss = 2">'

    await ws.send_str(f'<p id="note">{html.escape(hostile)}</p>')
    await expect(page.locator("#note")).to_have_text(hostile)
    assert await page.evaluate("typeof window.__xss") == "undefined"
    assert await page.locator("#note script, #note img").count() == 0

    # The check can fail: the same text pushed unescaped does run.
    await ws.send_str(f'<p id="note">{hostile}</p>')
    await page.wait_for_function("window.__xss !== undefined", timeout=5000)
