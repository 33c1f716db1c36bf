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
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.alarms.book import AlarmBook
from hotline.alarms.receiver import AlarmReceiver
from hotline.api.replies import OnChange
from hotline.app import http_app
from hotline.ari import AriClient, AriConfig, AriError, AriUnavailable, AuthenticationFailed
from hotline.ari.stream import EventStream
from hotline.calendars.watch import CalendarWatch
from hotline.callbacks.scheduler import Scheduler
from hotline.callbacks.store import case_queue, pending
from hotline.calls.session import Policy
from hotline.calls.switchboard import AppTakenOver, Switchboard
from hotline.cases.store import open_case_owner
from hotline.config import Settings, SettingsError
from hotline.console.floor_pages import floor_html
from hotline.console.hub import Hub
from hotline.console.routes import ConsoleParts
from hotline.console.web import render_text
from hotline.db import migrate
from hotline.db.engine import check_database, make_engine
from hotline.db.recorder import Recorder
from hotline.deadlines.follow_up import number_for
from hotline.deadlines.store import Claimed
from hotline.deadlines.watch import DeadlineWatch
from hotline.directory.index import DirectoryIndex
from hotline.emergency.alarms import AlarmDesk
from hotline.emergency.briefing import Briefing
from hotline.emergency.conference import Emergencies
from hotline.emergency.plan import Facts
from hotline.emergency.plan import Settings as EmergencySettings
from hotline.emergency.store import facts_for
from hotline.events.bus import Bus
from hotline.events.live import LiveFloor
from hotline.flow import phase_handlers
from hotline.operators.accounts import AccountSync
from hotline.operators.store import operator_accounts
from hotline.queues.desk import Desk
from hotline.queues.setup import load_config, standing_states
from hotline.speech.prompts import PromptTexts, Voice, build_prompts
from hotline.speech.tts import Speech, SpeechError
from hotline.supervision.button import press
from hotline.supervision.service import Supervisions
from hotline.survey.requests import SurveyPrompts
from hotline.tasks import Tasks
from hotline.workdays import WorkCalendar

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
async def _http(app: web.Application, host: str, port: int) -> AsyncIterator[None]:
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
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
    tz = ZoneInfo(settings.timezone)
    started = time.monotonic()
    async with contextlib.AsyncExitStack() as stack:
        tasks = Tasks(stack)
        recorder = Recorder(engine, settings.spool_path)
        tasks.start(recorder.run(), "recorder")
        stack.push_async_callback(_drain, recorder)

        bus = Bus(limit=settings.events_buffer)
        live = LiveFloor()
        bus.fold(live.fold)
        parts = await _parts(settings, engine, ari, recorder, bus)
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
            if entity in ("calendar", "calendar_year"):  # the next deadlines use it
                await parts.calendar_watch.reload()
                return
            await desk.reload()

        console = _console(
            settings, engine, bus=bus, live=live, tz=tz, parts=parts, on_change=on_change
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
        )
        stack.push_async_callback(parts.briefing.close)
        if settings.scaip_listen:
            receiver = AlarmReceiver(parts.alarms.received, allowed=settings.scaip_allowed)
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
        for work, name in (
            (desk.run(), "desk"),
            (console.hub.run(), "console"),
            (index.run(), "directory-index"),
            (scheduler.run(), "callbacks"),
            (parts.deadlines.run(), "deadlines"),
            (parts.calendar_watch.run(), "calendar"),
        ):
            tasks.start(work, name)
        consumer = tasks.start(_consume(EventStream(ari_config), board), "ari-events")
        stack.push_async_callback(board.shutdown, hand_over=settings.hand_over_on_shutdown)
        stack.push_async_callback(parts.supervisions.shutdown)  # before the calls are handed over
        await stack.enter_async_context(_http(app, settings.api_host, settings.api_port))
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


def _console(
    settings: Settings,
    engine: AsyncEngine,
    *,
    bus: Bus,
    live: LiveFloor,
    tz: ZoneInfo,
    parts: _Parts,
    on_change: OnChange,
) -> ConsoleParts:
    """The operators' console: its hub on the event stream and what its pages act through."""
    calendar = parts.calendar
    hub = Hub(
        engine,
        lambda name, lang, context: render_text(name, lang, tz, **context),
        tz,
        floor_html=floor_html(engine, live.snapshot, tz),
    )
    bus.fold(hub.fold)  # after the live floor: the pop and the floor see it folded
    return ConsoleParts(
        hub=hub,
        snapshot=live.snapshot,
        calendar=calendar,
        session_lifetime=dt.timedelta(hours=settings.console_session_h),
        on_change=on_change,
        ask=parts.board.request,
        on_call=parts.desk.on_call,
        scheduler=parts.scheduler,
        supervise=lambda operator_id, supervisor_id, mode, by: press(
            engine,
            parts.supervisions,
            operator_id=operator_id,
            supervisor_id=supervisor_id,
            mode=mode,
            by=by,
        ),
    )


@dataclass(frozen=True)
class _Parts:
    desk: Desk
    index: DirectoryIndex
    scheduler: Scheduler
    board: Switchboard
    sync_softphones: Callable[[], Awaitable[None]]  # after an admin change: what changed
    briefing: Briefing
    alarms: AlarmDesk
    supervisions: Supervisions
    calendar: WorkCalendar  # the working days of deadlines, with the local exceptions
    calendar_watch: CalendarWatch  # keeps it current; warns when a year needs an admin
    deadlines: DeadlineWatch


async def _parts(
    settings: Settings, engine: AsyncEngine, ari: AriClient, recorder: Recorder, bus: Bus
) -> _Parts:
    """The call controller: the desk, the directory index, the callback scheduler, the phase
    handlers of a call, and the switchboard that runs the calls."""
    tz = ZoneInfo(settings.timezone)

    async def load_routing() -> Any:
        async with engine.connect() as conn:
            return await load_config(conn), await standing_states(conn)

    desk = Desk(load=load_routing, record=recorder.submit, publish=bus.publish, tz=tz)
    await desk.reload()
    index = DirectoryIndex(
        engine, limit=settings.directory_index_limit, refresh_s=settings.directory_refresh_s
    )
    await index.load()

    async def load_callbacks() -> Any:
        async with engine.connect() as conn:
            return await pending(conn)

    scheduler = Scheduler(
        load=load_callbacks, record=recorder.submit, publish=bus.publish, queue=desk.queue
    )
    await scheduler.start()

    speech, prompts = await _speech(settings)
    briefing = Briefing(speech, prompts)
    emergency = EmergencySettings(
        ambulance=settings.ambulance,
        supervisor=settings.duty_supervisor,
        tier_s=settings.emergency_tier_s,
        escalate_after_s=settings.terminal_escalate_s,
    )

    async def load_facts(elder_id: int | None) -> Facts:
        """An elder's facts; with the database down, 120's default route alone."""
        try:
            async with asyncio.timeout(2.0), engine.connect() as conn:
                return await facts_for(
                    conn, elder_id, default_route=emergency.ambulance, today=dt.date.today()
                )
        except Exception as err:  # an emergency never waits on the database
            log.error("emergency facts unavailable (%s); calling 120 only", type(err).__name__)
            return Facts(elder_id, routes=(emergency.ambulance,))

    emergencies = Emergencies(desk, load_facts, briefing, emergency, tz)

    async def case_owner(elder_id: int) -> int | None:
        async with engine.connect() as conn:
            return await open_case_owner(conn, elder_id)

    board_ref: list[Switchboard] = []
    alarms = AlarmDesk(
        AlarmBook(settings.alarm_window_s),
        recorder.submit,
        lambda number: board_ref[0].live_from(number, "terminal") if board_ref else None,
    )
    phases = phase_handlers(
        desk=desk,
        scheduler=scheduler,
        identify=index.identify,
        callback_ring_s=settings.callback_ring_s,
        emergencies=emergencies,
        identified=alarms.tie,
        voice=Voice(speech, PromptTexts()),
        case_owner=case_owner,
        survey_prompts=SurveyPrompts.of({**settings.prompts, **prompts}),
        survey_wait_s=settings.survey_wait_s,
    )

    accounts = AccountSync(ari, static=settings.static_endpoints)

    async def sync_softphones(*, full: bool = False) -> None:
        """Asterisk's operator accounts = the active operators in PostgreSQL: all of them on
        every connect, only what changed after an admin change."""
        async with engine.connect() as conn:
            wanted = await operator_accounts(conn)
        try:
            done = await (accounts.full(wanted) if full else accounts.changes(wanted))
        except AriError as err:
            log.error("operator accounts not synced (%s); retrying on the next change", err.status)
            return
        if full or done.pushed or done.removed:
            log.info(
                "operator accounts: %d pushed, %d removed", len(done.pushed), len(done.removed)
            )

    async def on_connect() -> None:
        await sync_softphones(full=True)

    board = Switchboard(
        ari=ari,
        app=settings.ari_app,
        record=recorder.submit,
        publish=bus.publish,
        policy=_policy(settings, prompts),
        phases=phases,
        endpoints=desk,
        seats=desk,
        callbacks=scheduler,
        on_connect=on_connect,
    )
    scheduler.bind(board.outbound)
    board_ref.append(board)
    supervisions = Supervisions(
        ari=ari,
        app=settings.ari_app,
        channels=board,
        ask=board.request,
        calls_of=desk.calls_of,
        publish=bus.publish,
    )
    calendar, deadlines = await _deadlines(settings, engine, bus, scheduler)
    calendar_watch = CalendarWatch(engine, calendar, bus.publish, tz)
    await calendar_watch.reload()
    return _Parts(
        desk,
        index,
        scheduler,
        board,
        sync_softphones,
        briefing,
        alarms,
        supervisions,
        calendar,
        calendar_watch,
        deadlines,
    )


async def _speech(settings: Settings) -> tuple[Speech | None, dict[str, str]]:
    """The speech engine and the hotline's prompts, synthesised once (cached on disk).
    Without speech (off, or espeak-ng/sox missing) the service runs on recorded prompts."""
    if not settings.speech:
        return None, {}
    speech = Speech(Path(settings.sounds_dir), settings.sounds_media)
    try:
        prompts = await build_prompts(speech, PromptTexts(), settings.prompts)
    except (SpeechError, OSError) as err:
        log.error("speech unavailable (%s): prompts and summaries are not spoken", err)
        return None, {}
    log.info("speech: %d prompts ready in %s", len(prompts), settings.sounds_dir)
    return speech, prompts


def _policy(settings: Settings, prompts: dict[str, str]) -> Policy:
    greeting = settings.greeting
    if greeting is None:
        greeting = (prompts["greeting"],) if "greeting" in prompts else ("sound:hello-world",)
    after_hours = prompts.get("after_hours")
    if after_hours is None:
        return Policy(greeting=greeting, app=settings.ari_app)
    return Policy(greeting=greeting, app=settings.ari_app, after_hours_prompt=(after_hours,))


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


async def _deadlines(
    settings: Settings, engine: AsyncEngine, bus: Bus, scheduler: Scheduler
) -> tuple[WorkCalendar, DeadlineWatch]:
    """The working-day calendar (filled by the CalendarWatch) and the deadline scheduler,
    which offers follow-up calls to the case's owner through the callback scheduler."""
    calendar = WorkCalendar(settings.calendar)  # its years and local days: CalendarWatch

    async def follow_up(task: Claimed) -> None:
        """R12, R19: the follow-up call, offered to the case's owner first."""
        async with engine.connect() as conn:
            number = await number_for(conn, task)
            queue = await case_queue(conn, task.case_id) or "general"
        if number is not None and scheduler.queue_config(queue) is not None:
            scheduler.ask(
                case_id=task.case_id,
                number=number,
                queue=queue,
                due_at=dt.datetime.now(dt.UTC),
                by="system",
                owner=task.owner_operator_id,
                reason="follow_up",
            )

    deadlines = DeadlineWatch(
        engine,
        bus.publish,
        follow_up=follow_up,
        check=dt.timedelta(seconds=settings.deadline_check_s),
    )
    bus.fold(deadlines.fold)
    return calendar, deadlines
