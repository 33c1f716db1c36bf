"""Wires the parts together and runs them until asked to stop.

Start-up checks name what to fix (database, schema, ARI credentials). Every background
task is created here, kept, cancelled and awaited on shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import AsyncIterator
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.api.http import make_app
from hotline.api.transfers import add_routes as add_transfer_routes
from hotline.ari import AriClient, AriConfig, AriError, AriUnavailable, AuthenticationFailed
from hotline.ari.stream import EventStream
from hotline.calls.session import Policy
from hotline.calls.switchboard import AppTakenOver, Switchboard
from hotline.config import Settings, SettingsError
from hotline.db import migrate
from hotline.db.directory import matches_for
from hotline.db.engine import check_database, make_engine
from hotline.db.recorder import Recorder
from hotline.db.routing import load_config, operator_accounts, standing_states
from hotline.identify import ANONYMOUS, Identity, decide
from hotline.operators.accounts import sync_accounts
from hotline.routing.desk import Desk

log = logging.getLogger(__name__)


def _identifier(engine: AsyncEngine) -> Any:
    async def identify(number: str | None) -> Identity:
        if number is None:
            return ANONYMOUS
        async with engine.connect() as conn:
            return decide(number, await matches_for(conn, number))

    return identify


async def _check_ari(ari: AriClient, settings: Settings) -> None:
    try:
        await ari.asterisk_info()
    except AuthenticationFailed as err:
        raise SettingsError(
            f"ARI at {settings.ari_url} refused user {settings.ari_user!r}; "
            "check HOTLINE_ARI_USER and HOTLINE_ARI_PASSWORD"
        ) from err
    except AriUnavailable as err:
        raise SettingsError(
            f"cannot reach ARI at {settings.ari_url}; check HOTLINE_ARI_URL and that Asterisk runs"
        ) from err


@contextlib.asynccontextmanager
async def _http(app: web.Application, host: str, port: int) -> AsyncIterator[None]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as err:
        await runner.cleanup()
        raise SettingsError(f"cannot listen on {host}:{port} (HOTLINE_API_LISTEN): {err}") from err
    try:
        yield
    finally:
        await runner.cleanup()


async def _consume(stream: EventStream, board: Switchboard) -> None:
    async with contextlib.aclosing(stream.items()) as items:
        async for item in items:
            try:
                await board.handle(item)
            except AppTakenOver:
                raise
            except Exception:
                log.exception("event %s not handled", type(item).__name__)


async def run(settings: Settings, stop: asyncio.Event) -> None:
    engine = make_engine(settings.database_url)
    ari_config = AriConfig(
        base_url=settings.ari_url,
        user=settings.ari_user,
        password=settings.ari_password,
        app=settings.ari_app,
    )
    try:
        await check_database(engine, await asyncio.to_thread(migrate.head))
        async with AriClient(ari_config) as ari:
            await _check_ari(ari, settings)
            await _serve(settings, engine, ari, ari_config, stop)
    finally:
        await engine.dispose()


async def _serve(
    settings: Settings,
    engine: AsyncEngine,
    ari: AriClient,
    ari_config: AriConfig,
    stop: asyncio.Event,
) -> None:
    recorder = Recorder(engine, settings.spool_path)

    async def load_routing() -> Any:
        async with engine.connect() as conn:
            return await load_config(conn), await standing_states(conn)

    desk = Desk(load=load_routing, record=recorder.submit, tz=ZoneInfo(settings.timezone))
    await desk.reload()

    async def sync_softphones() -> None:
        """Asterisk's operator accounts = the active operators in PostgreSQL."""
        async with engine.connect() as conn:
            wanted = await operator_accounts(conn)
        try:
            done = await sync_accounts(ari, wanted, static=settings.static_endpoints)
        except AriError as err:
            log.error("operator accounts not synced (%s); retrying on the next change", err.status)
            return
        log.info("operator accounts: %d pushed, %d removed", len(done.pushed), len(done.removed))

    board = Switchboard(
        ari=ari,
        app=settings.ari_app,
        record=recorder.submit,
        identify=_identifier(engine),
        policy=Policy(greeting=settings.greeting, app=settings.ari_app),
        desk=desk,
        on_connect=sync_softphones,
    )
    started = time.monotonic()

    def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "ari_connected": board.connected,
            "live_calls": board.live,
            "records_queued": recorder.backlog,
            "uptime_s": round(time.monotonic() - started, 1),
            "floor": desk.snapshot(),
        }

    async def on_change(entity: str, key: str) -> None:
        """An admin changed the set-up: the next offers use it; calls in progress go on."""
        if entity == "operator":
            await sync_softphones()
        await desk.reload()

    app = make_app(
        engine,
        settings.api_token,
        health,
        on_change=on_change,
        floor_fn=desk.snapshot,
        tz=ZoneInfo(settings.timezone),
    )
    add_transfer_routes(app, board.request, desk.on_call)
    recorder_task = asyncio.create_task(recorder.run(), name="recorder")
    ticker = asyncio.create_task(desk.tick(), name="desk-ticker")
    consumer = asyncio.create_task(_consume(EventStream(ari_config), board), name="ari-events")
    stopper = asyncio.create_task(stop.wait(), name="stop")
    try:
        async with _http(app, settings.api_host, settings.api_port):
            log.info(
                "serving app %r; API on %s:%d",
                settings.ari_app,
                settings.api_host,
                settings.api_port,
            )
            await asyncio.wait({consumer, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if consumer.done() and not consumer.cancelled():
                err = consumer.exception()
                if isinstance(err, AuthenticationFailed):
                    raise SettingsError("ARI refused the credentials on the events socket") from err
                if isinstance(err, AppTakenOver):
                    raise SettingsError(
                        f"another process took over the Stasis app {settings.ari_app!r}"
                    ) from err
                if err is not None:
                    raise err
            await board.shutdown(hand_over=settings.hand_over_on_shutdown)
    finally:
        for task in (consumer, stopper, ticker):
            task.cancel()
        await asyncio.gather(consumer, stopper, ticker, return_exceptions=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(recorder.drain(), 5.0)
        recorder_task.cancel()
        await asyncio.gather(recorder_task, return_exceptions=True)
        log.info("stopped; %d records written", recorder.written)


def serve(settings: Settings) -> None:
    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run(settings, stop)

    asyncio.run(main())
