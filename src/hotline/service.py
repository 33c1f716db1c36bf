"""Wires the parts together and runs them until asked to stop.

Start-up checks name what to fix (database, schema, ARI credentials). Every background
task is started through one exit stack (hotline.tasks) and stopped in reverse order: the
HTTP API first, then the calls (handed to the duty phones), then the event consumer and the
timers, then the recorder once everything it was given is written.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import logging
import signal
import ssl
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.alarms.receiver import AlarmReceiver
from hotline.api.edge import networks, tls_context
from hotline.app import http_app
from hotline.ari import AriClient, AriConfig, AriUnavailable, AuthenticationFailed
from hotline.ari.stream import EventStream
from hotline.assembly import build_parts, console_parts
from hotline.calls.switchboard import AppTakenOver, Switchboard
from hotline.config import Settings, SettingsError
from hotline.console import sessions
from hotline.core.passwords import Passwords
from hotline.db import migrate
from hotline.db.engine import check_database, make_engine
from hotline.db.recorder import Recorder
from hotline.events.bus import Bus
from hotline.events.live import LiveFloor
from hotline.retention.job import RetentionJob
from hotline.retention.policy import Periods
from hotline.tasks import Tasks

log = logging.getLogger(__name__)
GC_YOUNG = 20_000  # allocations between two young-generation passes (Python's default: 700)


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
async def _http(
    app: web.Application, host: str, port: int, tls: ssl.SSLContext | None
) -> AsyncIterator[None]:
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port, ssl_context=tls).start()
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
    # Two pools: the call path's (records, identification, emergency facts, the floor's
    # set-up) and the web's (API, console): a flood of web requests never takes a call's.
    engine = make_engine(settings.database_url)
    calls_engine = make_engine(settings.database_url)
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
            await _serve(settings, Pools(engine, calls_engine), ari, ari_config, stop)
    finally:
        await engine.dispose()
        await calls_engine.dispose()


@dataclass(frozen=True)
class Pools:
    web: AsyncEngine  # the API's and the console's
    calls: AsyncEngine  # the call path's: web traffic never takes these connections


async def _serve(
    settings: Settings,
    pools: Pools,
    ari: AriClient,
    ari_config: AriConfig,
    stop: asyncio.Event,
) -> None:
    engine, calls_engine = pools.web, pools.calls
    tz = ZoneInfo(settings.timezone)
    started = time.monotonic()
    async with contextlib.AsyncExitStack() as stack:
        tasks = Tasks(stack)
        recorder = Recorder(calls_engine, settings.spool_path)
        tasks.start(recorder.run(), "recorder")
        stack.push_async_callback(_drain, recorder)

        bus = Bus(limit=settings.events_buffer)
        live = LiveFloor()
        bus.fold(live.fold)
        parts = await build_parts(settings, calls_engine, ari, recorder, bus)
        passwords = Passwords()
        stack.callback(passwords.close)
        retention = await _retention(settings, engine, ari, tz, stack)
        desk, index, scheduler, board = parts.desk, parts.index, parts.scheduler, parts.board
        _settle_memory()

        def health() -> dict[str, Any]:
            return {
                "status": "ok",
                "ari_connected": board.connected,
                "live_calls": board.live,
                "records_queued": recorder.backlog,
                "event_subscribers": bus.subscribers,
                "callbacks_pending": len(scheduler.pending()),
                "uptime_s": round(time.monotonic() - started, 1),
            }

        async def on_change(entity: str, key: str) -> None:
            """An admin changed the set-up: the next offers use it; calls in progress go on."""
            if entity == "operator":
                await parts.sync_softphones()
                console.hub.recheck()  # a new password, role or deactivation ends logins
                await console.gate.changed(engine, key)  # ... and lifts a lock
            if entity in ("calendar", "calendar_year"):  # the next deadlines use it
                await parts.calendar_watch.reload()
                return
            await desk.reload()

        console = console_parts(
            settings,
            engine,
            calls_engine=calls_engine,
            bus=bus,
            live=live,
            tz=tz,
            parts=parts,
            on_change=on_change,
            passwords=passwords,
        )
        app = http_app(
            engine,
            settings.api_token,
            health,
            on_change=on_change,
            snapshot=live.snapshot,
            tz=tz,
            ask=board.request,
            on_call=desk.on_call,
            ari=ari,
            scheduler=scheduler,
            bus=bus,
            supervisions=parts.supervisions,
            calendar=console.calendar,
            console=console,
            passwords=passwords,
            edge=(networks(settings.trusted_proxies), bool(settings.tls_cert)),
            retention=retention,
        )
        stack.push_async_callback(parts.briefing.close)
        if settings.scaip_listen:
            await _scaip(settings, parts.alarms.received, stack)
        for work, name in (
            (desk.run(), "desk"),
            (console.hub.run(), "console"),
            (
                console.hub.watch_sessions(
                    sessions.checker(engine, dt.timedelta(minutes=settings.console_idle_min))
                ),
                "console-sessions",
            ),
            (index.run(), "directory-index"),
            (scheduler.run(), "callbacks"),
            (parts.deadlines.run(), "deadlines"),
            (parts.calendar_watch.run(), "calendar"),
            (parts.briefing.sweep(), "speech-sweep"),
            (retention.run(), "retention"),
        ):
            tasks.start(work, name)
        consumer = tasks.start(_consume(EventStream(ari_config), board), "ari-events")
        stack.push_async_callback(board.shutdown, hand_over=settings.hand_over_on_shutdown)
        stack.push_async_callback(parts.supervisions.shutdown)  # before the calls are handed over
        tls = tls_context(settings.tls_cert, settings.tls_key) if settings.tls_cert else None
        await stack.enter_async_context(_http(app, settings.api_host, settings.api_port, tls))
        log.info(
            "serving app %r; API on %s:%d", settings.ari_app, settings.api_host, settings.api_port
        )
        stopper = tasks.start(stop.wait(), "stop")
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
    log.info("stopped; %d records written", recorder.written)


async def _scaip(
    settings: Settings, received: Callable[..., Any], stack: contextlib.AsyncExitStack
) -> None:
    """The SIP MESSAGE receiver of terminals' alarm data (SCAIP), stopped with the rest."""
    receiver = AlarmReceiver(
        received,
        allowed=settings.scaip_allowed,
        rate=settings.scaip_rate,
        burst=2 * settings.scaip_rate,
    )
    host, _, port = settings.scaip_listen.rpartition(":")
    try:
        await receiver.start(host, int(port))
    except OSError as bind_error:
        raise SettingsError(
            f"cannot listen for SCAIP on {settings.scaip_listen} "
            f"(HOTLINE_SCAIP_LISTEN): {bind_error}"
        ) from bind_error
    stack.push_async_callback(receiver.stop)
    log.info("SCAIP alarm data received on udp %s", settings.scaip_listen)


async def _retention(
    settings: Settings,
    engine: AsyncEngine,
    ari: AriClient,
    tz: ZoneInfo,
    stack: contextlib.AsyncExitStack,
) -> RetentionJob:
    """The daily purge; the access log's old rows through the retention role's own URL."""
    retention_engine = None
    if settings.retention_database_url:
        retention_engine = make_engine(settings.retention_database_url, pool_size=1)
        stack.push_async_callback(retention_engine.dispose)
    else:
        log.warning("HOTLINE_RETENTION_DATABASE_URL unset: the access log is never purged")
    periods = Periods(
        recordings_days=settings.retain_recordings_days,
        access_days=settings.retain_access_days,
        sessions_days=settings.retain_sessions_days,
    )
    return RetentionJob(engine, periods=periods, tz=tz, ari=ari, retention_engine=retention_engine)


def _settle_memory() -> None:
    """What start-up made (the directory index, prompts, compiled statements) lives as long
    as the process: moved out of the garbage collector's sight, so that its full passes
    under load walk only what calls make. Young objects are collected less often too: a
    call makes thousands of short-lived ones, and each pass over them costs the answer path.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG, 20, 20)


async def _drain(recorder: Recorder) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(recorder.drain(), 5.0)


def serve(settings: Settings) -> None:
    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run(settings, stop)

    asyncio.run(main())
