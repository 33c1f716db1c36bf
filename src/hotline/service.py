"""Wires the parts together and runs them until asked to stop.

Start-up checks name what to fix (database, schema, ARI credentials). Then the process
lives one term after another (`_term`): it builds every part and serves HTTP while it
stands by (warm: its pools, prompts and directory ready; only who leads is answered), takes
the lease when it is free (hotline.leadership), re-reads what changes (routing, callbacks,
the calendar), opens the ARI events socket and starts the calls' tasks. A term ends on
SIGTERM or when the lease is lost (a missed renewal, or Asterisk's ApplicationReplaced:
another controller took the app); deposed, the process acts no more (the fence refuses its
REST calls and records), hands the records it still held to the next leader through
PostgreSQL, and stands by again.

Every background task is started through one exit stack (hotline.tasks) and stopped in
reverse order: the HTTP API first, then the calls (handed to a standby if one is alive,
else to the duty phones), then the event consumer and the timers, then the recorder once
everything it was given is written, then the lease is released.
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
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.alarms.receiver import AlarmReceiver
from hotline.api.edge import networks, tls_context
from hotline.app import http_app
from hotline.ari import AriClient, AriConfig, AriError, AriUnavailable, AuthenticationFailed
from hotline.ari.stream import EventStream
from hotline.assembly import Parts, build_parts, console_parts
from hotline.calls.switchboard import AppTakenOver, Switchboard
from hotline.config import Settings, SettingsError
from hotline.console import sessions
from hotline.console.routes import ConsoleParts
from hotline.core.fence import Deposed
from hotline.core.passwords import Passwords
from hotline.db import migrate
from hotline.db.engine import check_database, make_engine
from hotline.db.handover import hand_over
from hotline.db.recorder import Recorder
from hotline.events.bus import Bus
from hotline.events.live import LiveFloor
from hotline.leadership.lease import Leadership
from hotline.leadership.rules import Terms
from hotline.retention.job import RetentionJob
from hotline.retention.policy import Periods
from hotline.tasks import Tasks

log = logging.getLogger(__name__)
_DB_OUTAGE = (SQLAlchemyError, OSError)
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
    # The lease has a small one of its own: it is renewed whatever the others wait for.
    engine = make_engine(settings.database_url)
    calls_engine = make_engine(settings.database_url)
    lease_engine = make_engine(settings.database_url, pool_size=2)
    leadership = Leadership(
        lease_engine, settings.controller_name, terms=Terms.of(settings.lease_ms / 1000)
    )
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
            ari.fence(leadership.acting)  # a deposed controller's REST calls are not sent
            life = Life(settings, Pools(engine, calls_engine), ari, ari_config, stop, leadership)
            await _terms(life)
    finally:
        await leadership.stopped()
        await engine.dispose()
        await calls_engine.dispose()
        await lease_engine.dispose()


async def _terms(life: Life) -> None:
    """Term after term until stopped. The database lost while standing by (or just as the
    lease was taken): the term ends (its lease released) and the next begins a second later."""
    while not life.stop.is_set():
        try:
            if not await _term(life):
                return
            log.warning("standing by again")
        except _DB_OUTAGE as err:
            log.error("database unreachable (%s): standing by again shortly", type(err).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(life.stop.wait(), 1.0)


@dataclass(frozen=True)
class Pools:
    web: AsyncEngine  # the API's and the console's
    calls: AsyncEngine  # the call path's: web traffic never takes these connections


@dataclass(frozen=True)
class Life:
    """What lasts as long as the process, term after term."""

    settings: Settings
    pools: Pools
    ari: AriClient
    ari_config: AriConfig
    stop: asyncio.Event
    leadership: Leadership


@dataclass
class Ending:
    """How a term ends, decided on the way out: the calls handed to the duty phones (alone,
    on SIGTERM), left for a standby (one is alive), or left as they are (deposed)."""

    hand_over_calls: bool = False
    deposed: bool = False
    epoch: int | None = None  # the term's, for the records handed over


@dataclass(frozen=True)
class Built:
    """Every part of one term, built while standing by."""

    parts: Parts
    recorder: Recorder
    console: ConsoleParts
    retention: RetentionJob


async def _term(life: Life) -> bool:
    """One term: stand by (warm), lead, end. True when deposed (stand by again)."""
    settings, leadership = life.settings, life.leadership
    ending = Ending()
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(_after, settings, leadership, ending)
        # What a process killed before this one left in the journal (or the spool) goes to
        # whoever leads, now: this process may stand by for a long time.
        await _hand_over(settings, leadership, None, "left by the last process")
        built = await _build(life, stack)
        log.info(
            "standing by as %r; API on %s:%d", leadership.name, settings.api_host, settings.api_port
        )
        if not await leadership.take(life.stop, ready=lambda: _reaches(life.ari)):
            return False
        return await _lead(life, built, stack, ending)


async def _build(life: Life, stack: contextlib.AsyncExitStack) -> Built:
    """The parts and the HTTP app, built and served (a standby answers only who leads)."""
    settings, leadership = life.settings, life.leadership
    engine, calls_engine = life.pools.web, life.pools.calls
    tz = ZoneInfo(settings.timezone)
    started = time.monotonic()
    recorder = Recorder(
        calls_engine, settings.spool_path, journal_dir=settings.journal_dir, fence=leadership
    )
    stack.callback(recorder.close)  # the journal released, though the term never led
    bus = Bus(limit=settings.events_buffer)
    live = LiveFloor()
    bus.fold(live.fold)
    parts = await build_parts(settings, calls_engine, life.ari, recorder, bus, fence=leadership)
    passwords = Passwords()
    stack.callback(passwords.close)
    retention = await _retention(settings, engine, life.ari, tz, stack, fence=leadership)
    desk, scheduler, board = parts.desk, parts.scheduler, parts.board
    _settle_memory()

    def health() -> dict[str, Any]:
        return {
            **leadership.view(),
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
        ari=life.ari,
        scheduler=scheduler,
        bus=bus,
        supervisions=parts.supervisions,
        calendar=console.calendar,
        console=console,
        passwords=passwords,
        edge=(networks(settings.trusted_proxies), bool(settings.tls_cert)),
        retention=retention,
        leadership=leadership,
    )
    stack.push_async_callback(parts.briefing.close)
    tls = tls_context(settings.tls_cert, settings.tls_key) if settings.tls_cert else None
    await stack.enter_async_context(_http(app, settings.api_host, settings.api_port, tls))
    return Built(parts, recorder, console, retention)


async def _lead(life: Life, built: Built, stack: contextlib.AsyncExitStack, ending: Ending) -> bool:
    """Leading: what changed while standing by is read again, then the tasks and the events
    socket start; until SIGTERM (False) or the lease is lost (True)."""
    settings, leadership, parts = life.settings, life.leadership, built.parts
    tasks = Tasks(stack)
    await parts.desk.reload()
    await parts.scheduler.start()
    await parts.calendar_watch.reload()
    writer = tasks.start(built.recorder.run(), "recorder")
    stack.push_async_callback(_drain, built.recorder, ending)  # before the writer stops
    if settings.scaip_listen:
        await _scaip(settings, parts.alarms.received, stack)
    idle = dt.timedelta(minutes=settings.console_idle_min)
    for work, name in (
        (parts.desk.run(), "desk"),
        (built.console.hub.run(), "console"),
        (
            built.console.hub.watch_sessions(sessions.checker(life.pools.web, idle)),
            "console-sessions",
        ),
        (_fresh_index(parts.index), "directory-index"),
        (parts.scheduler.run(), "callbacks"),
        (parts.deadlines.run(), "deadlines"),
        (parts.calendar_watch.run(), "calendar"),
        (parts.briefing.sweep(), "speech-sweep"),
        (built.retention.run(), "retention"),
    ):
        tasks.start(work, name)
    consumer = tasks.start(_consume(EventStream(life.ari_config), parts.board), "ari-events")
    stack.push_async_callback(_calls_end, parts.board, ending)
    stack.push_async_callback(parts.supervisions.shutdown)  # before the calls are handed over
    keeper = tasks.start(leadership.keep(), "lease")
    watcher = tasks.start(_watch_asterisk(parts.board, leadership), "asterisk-watch")
    log.info("serving app %r as the leader", settings.ari_app)
    stopper = tasks.start(life.stop.wait(), "stop")
    ending.epoch = leadership.epoch
    await asyncio.wait(
        {consumer, stopper, keeper, writer, watcher}, return_when=asyncio.FIRST_COMPLETED
    )
    if stopper.done():
        await _stopping(settings, leadership, ending)
        return False
    ended = next(t for t in (consumer, keeper, writer, watcher) if t.done())
    err = None if ended.cancelled() else ended.exception()
    if isinstance(err, LostAsterisk):
        await leadership.give_way(str(err))
        ending.deposed = True
        return True
    if err is None or isinstance(err, Deposed | AppTakenOver):
        # The lease lost, the app taken by another, or a write refused for our epoch.
        leadership.step_down(
            "Asterisk gave the Stasis app to another controller"
            if isinstance(err, AppTakenOver)
            else "the lease was lost"
        )
        ending.deposed = True
        return True
    if isinstance(err, AuthenticationFailed):
        raise SettingsError("ARI refused the credentials on the events socket") from err
    raise err


class LostAsterisk(Exception):
    """The leader has not reached Asterisk for ASTERISK_GRACE_S, and a standby is alive."""


ASTERISK_GRACE_S = 3.0  # a leader that cannot reach Asterisk this long gives way to a standby


async def _reaches(ari: AriClient) -> bool:
    """Could this process lead: does Asterisk answer it? (A standby asks before each try.)"""
    try:
        async with asyncio.timeout(1.0):
            await ari.asterisk_info()
    except (AriError, TimeoutError):
        return False
    return True


async def _watch_asterisk(board: Switchboard, leadership: Leadership) -> None:
    """Raise LostAsterisk when the events socket has been down ASTERISK_GRACE_S and a
    standby is alive (standbys try to lead only when they reach Asterisk). Alone, the leader
    stays: its socket reconnects, and the calls are reconciled as before."""
    loop = asyncio.get_running_loop()
    down_since = loop.time()
    while True:
        await asyncio.sleep(0.25)
        if board.connected:
            down_since = loop.time()
        elif loop.time() - down_since >= ASTERISK_GRACE_S and await leadership.standbys():
            raise LostAsterisk(f"Asterisk unreachable for {ASTERISK_GRACE_S:.0f} s")


async def _calls_end(board: Switchboard, ending: Ending) -> None:
    await board.shutdown(hand_over=ending.hand_over_calls)


async def _stopping(settings: Settings, leadership: Leadership, ending: Ending) -> None:
    """SIGTERM while leading: with a standby alive, act no more and let it take the calls
    as they are (the lease is released once the records are written); alone, hand the
    calls to the duty phones (HOTLINE_SHUTDOWN_CALLS=fallback) as before."""
    if await leadership.standbys():
        log.warning("stopping: a standby takes the calls as they are")
        leadership.stand_aside()
        return
    ending.hand_over_calls = settings.hand_over_on_shutdown


async def _after(settings: Settings, leadership: Leadership, ending: Ending) -> None:
    """Last, once the recorder has stopped: deposed, hand what it still held to the next
    leader; otherwise give the lease up, so a standby (or a restart) leads at once."""
    if ending.deposed:
        await _hand_over(settings, leadership, ending.epoch, "deposed")
        return
    await leadership.release()


async def _hand_over(
    settings: Settings, leadership: Leadership, epoch: int | None, why: str
) -> None:
    """Records this process's journal and spool hold (deposed, or left by a killed process
    before it): into PostgreSQL, for whichever controller leads to write (db.handover)."""
    try:
        count = await hand_over(
            leadership.engine, leadership.holder, epoch, settings.journal_dir, settings.spool_path
        )
    except Exception as err:  # kept locally: handed over at the next start
        log.error("%s: records kept locally for now (%s)", why, type(err).__name__)
        return
    if count:
        log.warning("%s: %d records handed to the leader", why, count)


async def _fresh_index(index: Any) -> None:
    """A new leader reads the directory again at once (a standby's may be old), then every
    refresh period."""
    try:
        await index.load()
    except Exception as err:  # the standby's index stands meanwhile
        log.error("directory index not refreshed (%s)", type(err).__name__)
    await index.run()


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
    *,
    fence: Leadership,
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
    return RetentionJob(
        engine,
        periods=periods,
        tz=tz,
        ari=ari,
        retention_engine=retention_engine,
        fence=fence,
    )


def _settle_memory() -> None:
    """What start-up made (the directory index, prompts, compiled statements) lives as long
    as the process: moved out of the garbage collector's sight, so that its full passes
    under load walk only what calls make. Young objects are collected less often too: a
    call makes thousands of short-lived ones, and each pass over them costs the answer path.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG, 20, 20)


async def _drain(recorder: Recorder, ending: Ending) -> None:
    """Wait (a while) for the recorder to write what it was given; deposed, it writes no more."""
    if ending.deposed:
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(recorder.drain(), 5.0)
    log.info("stopped; %d records written", recorder.written)


def serve(settings: Settings) -> None:
    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run(settings, stop)

    asyncio.run(main())
