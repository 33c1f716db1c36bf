"""The parts of the service, built and wired together (service.py runs them).

The call controller (`build_parts`: the desk, the directory index, the callback scheduler,
the phase handlers, the switchboard, supervision, the calendar and the deadlines) works on the
call path's own database pool, which web traffic never takes from; the console's parts
(`console_parts`) on the web's.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.alarms.book import AlarmBook
from hotline.api.replies import OnChange
from hotline.ari import AriClient, AriError
from hotline.calendars.watch import CalendarWatch
from hotline.callbacks.scheduler import Scheduler
from hotline.callbacks.store import case_queue, pending
from hotline.calls.session import Policy
from hotline.calls.switchboard import Switchboard
from hotline.cases.store import open_case_owner
from hotline.config import Settings
from hotline.console.floor_pages import floor_html
from hotline.console.hub import Hub
from hotline.console.login import Gate
from hotline.console.routes import ConsoleParts
from hotline.console.throttle import LoginThrottle
from hotline.console.web import render_text
from hotline.core.fence import Fence
from hotline.core.passwords import Passwords
from hotline.db.recorder import Recorder
from hotline.deadlines.follow_up import number_for
from hotline.deadlines.store import Claimed
from hotline.deadlines.watch import DeadlineWatch
from hotline.directory.index import DirectoryIndex
from hotline.emergency.alarms import AlarmDesk
from hotline.emergency.briefing import SWEEP_S, Briefing
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
from hotline.supervision import store as supervision_store
from hotline.supervision.button import press
from hotline.supervision.service import Supervisions
from hotline.survey.requests import SurveyPrompts
from hotline.workdays import WorkCalendar

log = logging.getLogger(__name__)


def console_parts(
    settings: Settings,
    engine: AsyncEngine,
    *,
    calls_engine: AsyncEngine,
    bus: Bus,
    live: LiveFloor,
    tz: ZoneInfo,
    parts: Parts,
    on_change: OnChange,
    passwords: Passwords,
) -> ConsoleParts:
    """The operators' console: its hub on the event stream and what its pages act through.
    The screen pop reads on the call path's pool (`calls_engine`), the pages on the web's."""
    calendar = parts.calendar
    hub = Hub(
        calls_engine,
        lambda name, lang, context: render_text(name, lang, tz, **context),
        tz,
        floor_html=floor_html(engine, live.snapshot, tz),
    )
    bus.fold(hub.fold)  # after the live floor: the pop and the floor see it folded
    gate = Gate(
        passwords,
        LoginThrottle(lock_after=settings.login_lock_after),
        publish=bus.publish,
        closed=hub.close_sessions,
    )
    return ConsoleParts(
        hub=hub,
        snapshot=live.snapshot,
        calendar=calendar,
        session_lifetime=dt.timedelta(hours=settings.console_session_h),
        on_change=on_change,
        gate=gate,
        idle=dt.timedelta(minutes=settings.console_idle_min),
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
class Parts:
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


async def build_parts(
    settings: Settings,
    engine: AsyncEngine,
    ari: AriClient,
    recorder: Recorder,
    bus: Bus,
    *,
    fence: Fence | None = None,
) -> Parts:
    """`engine`: the call path's pool."""
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

    accounts = AccountSync(ari, static=settings.static_endpoints, app=settings.ari_app)

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
        log=supervision_store.logger(engine),
    )
    calendar, deadlines = await _deadlines(settings, engine, bus, scheduler, fence)
    calendar_watch = CalendarWatch(engine, calendar, bus.publish, tz)
    await calendar_watch.reload()
    return Parts(
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
        # Summaries a crash left behind: personal data (R27). Only those older than the
        # periodic sweep's age: a standby builds this too, beside a leader whose live
        # conferences' summaries (and those it will adopt) must stay.
        swept = await speech.sweep(SWEEP_S)
        if swept:
            log.info("speech: %d private file(s) left from before removed", swept)
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


async def _deadlines(
    settings: Settings, engine: AsyncEngine, bus: Bus, scheduler: Scheduler, fence: Fence | None
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
        fence=fence,
    )
    bus.fold(deadlines.fold)
    return calendar, deadlines
