"""Headless Debian chromium driven by Playwright, for the operators' console.

Playwright's own browser download is not used: the browser is Debian's `chromium` package
(installed by scripts/lib.sh). Tests are skipped when it is missing, unless
HOTLINE_REQUIRE_BROWSER is set, which turns the skip into a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

REPO = Path(__file__).resolve().parents[2]
STATIC_DIR = REPO / "src" / "hotline" / "console" / "static"

# Debian's /usr/bin/chromium is a shell launcher that adds flags from /etc/chromium.d and
# execs the real binary; Playwright talks to the real binary directly.
CHROMIUM_CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium")

# Headless as root in a container: no sandbox (needs user namespaces), /dev/shm is small.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--disable-background-networking",
    "--disable-component-update",
]

NewPage = Callable[..., Awaitable[Page]]


def chromium_path() -> str | None:
    """The chromium binary to drive: HOTLINE_CHROMIUM if set, else Debian's."""
    configured = os.environ.get("HOTLINE_CHROMIUM")
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    for candidate in CHROMIUM_CANDIDATES:
        if os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("chromium")


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    executable = chromium_path()
    if executable is None:
        message = (
            "Debian's chromium is not installed (apt-get install chromium chromium-driver, "
            "or scripts/up)"
        )
        if os.environ.get("HOTLINE_REQUIRE_BROWSER"):
            pytest.fail(message + "; HOTLINE_REQUIRE_BROWSER is set")
        pytest.skip(message)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def new_page(browser: Browser) -> AsyncIterator[NewPage]:
    """A factory: `await new_page()` (zh-CN) or `await new_page(locale="en-US")` gives a page
    in a fresh context (own cookies and storage); every context is closed at teardown.
    Extra keyword arguments go to Browser.new_context (viewport, timezone_id, ...)."""
    contexts: list[BrowserContext] = []

    async def make(locale: str = "zh-CN", **context_options: Any) -> Page:
        context = await browser.new_context(locale=locale, **context_options)
        contexts.append(context)
        return await context.new_page()

    try:
        yield make
    finally:
        for context in contexts:
            await context.close()


async def save_screenshot(page: Page, path: str | Path, *, full_page: bool = True) -> Path:
    """Save a PNG of the page at path (its folder made if missing); returns the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(target), full_page=full_page)
    return target
