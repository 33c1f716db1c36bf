"""The consoles connected now, and what the event stream sends them.

Each browser tab is a socket with its own bounded send queue: a tab that stops reading is
dropped (its browser reconnects and gets a fresh page) and never slows the calls or the other
consoles. The hub is folded on the bus, so it sees every domain event in order, and does no
I/O there: reading a caller's record (once identified, before the offer), rendering and
sending run in tasks the hub owns and cancels on shutdown.

What goes where:
- an operator's tabs: the screen pop when a call is offered to them (and that it was taken,
  or went away), their state, their current call's controls;
- a supervisor's tabs: the live floor, re-rendered at most every `floor_every_s`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field, replace
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.console import pop
from hotline.console.pop import CallFacts, PopData
from hotline.console.words import Lang
from hotline.core import events as ev
from hotline.elders import store as elders

log = logging.getLogger(__name__)

SEND_QUEUE = 64
Render = Callable[[str, Lang, dict[str, Any]], str]
"""(template, language, context) -> HTML text."""
FloorHtml = Callable[[Lang], Awaitable[str]]


@dataclass(eq=False)
class Socket:
    operator_id: int
    lang: Lang
    supervisor: bool
    session: str = ""  # the key of the login it belongs to: closed when that ends
    ended: bool = False  # closed because its login ended (not for being slow)
    queue: asyncio.Queue[str] = field(default_factory=lambda: asyncio.Queue(SEND_QUEUE))
    dropped: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, text: str) -> None:
        if self.dropped.is_set():
            return
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            self.dropped.set()


class Hub:
    def __init__(
        self,
        engine: AsyncEngine,
        render: Render,
        tz: ZoneInfo,
        *,
        floor_html: FloorHtml | None = None,
        floor_every_s: float = 1.0,
    ) -> None:
        self._engine = engine
        self._render = render
        self._tz = tz
        self._floor_html = floor_html
        self._floor_every_s = floor_every_s
        self._sockets: dict[int, set[Socket]] = {}
        self._calls: dict[uuid.UUID, CallFacts] = {}
        self._data: dict[uuid.UUID, asyncio.Task[PopData]] = {}
        self._offered: dict[uuid.UUID, tuple[int, ...]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._floor_dirty = asyncio.Event()
        self._recheck = asyncio.Event()
        self.pops_sent = 0

    # --- sockets ---------------------------------------------------------------------

    def attach(
        self, operator_id: int, lang: Lang, *, supervisor: bool, session: str = ""
    ) -> Socket:
        socket = Socket(operator_id, lang, supervisor, session)
        self._sockets.setdefault(operator_id, set()).add(socket)
        if supervisor:
            self._floor_dirty.set()
        return socket

    def detach(self, socket: Socket) -> None:
        mine = self._sockets.get(socket.operator_id)
        if mine is not None:
            mine.discard(socket)
            if not mine:
                del self._sockets[socket.operator_id]

    def connected(self, operator_id: int) -> bool:
        return bool(self._sockets.get(operator_id))

    def close_sessions(self, keys: list[str]) -> int:
        """Close the sockets of these logins (logged out, expired, idle, ended by an admin's
        change): no screen pop or floor reaches them any more. How many were closed."""
        wanted = set(keys)
        closed = 0
        for socket in [s for mine in self._sockets.values() for s in mine]:
            if socket.session in wanted and not socket.dropped.is_set():
                socket.ended = True
                socket.dropped.set()
                closed += 1
        return closed

    def recheck(self) -> None:
        """Logins may have ended elsewhere (an admin's change): look now, not in 30 s."""
        self._recheck.set()

    def sessions(self) -> set[str]:
        return {s.session for mine in self._sockets.values() for s in mine if s.session}

    async def watch_sessions(
        self, live: Callable[[set[str]], Awaitable[set[str]]], every_s: float = 30.0
    ) -> None:
        """Owned task: every `every_s`, close the sockets whose login is no longer live
        (expired, idle, or ended by a change made elsewhere)."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._recheck.wait(), every_s)
            self._recheck.clear()
            keys = self.sessions()
            if not keys:
                continue
            try:
                still = await live(keys)
            except Exception as err:  # the database is away: look again next time
                log.warning("console sessions not checked (%s)", type(err).__name__)
                continue
            gone = keys - still
            if gone:
                log.info(
                    "console: %d sockets of ended logins closed", self.close_sessions(list(gone))
                )

    def _to(self, operator_id: int, template: str, context: dict[str, Any]) -> None:
        for socket in list(self._sockets.get(operator_id, ())):
            socket.offer(self._render(template, socket.lang, context))

    def call_of(self, operator_id: int, call_id: uuid.UUID) -> CallFacts | None:
        """The call, if it is offered to or answered by this operator now (what a form
        about "my call" may act on: never a call id taken from the form alone)."""
        facts = self._calls.get(call_id)
        if facts is None:
            return None
        if facts.operator_id == operator_id or operator_id in self._offered.get(call_id, ()):
            return facts
        return None

    def current_call(self, operator_id: int) -> CallFacts | None:
        """The call this operator answered and is still on."""
        for facts in self._calls.values():
            if facts.operator_id == operator_id:
                return facts
        return None

    # --- the event stream ------------------------------------------------------------

    def fold(self, seq: int, event: ev.DomainEvent) -> None:
        match event:
            case ev.CallArrived():
                self._calls[event.call_id] = CallFacts(
                    event.call_id, event.case_id, event.entry, event.number, event.at
                )
            case ev.CallIdentified():
                facts = self._calls.get(event.call_id)
                if facts is not None:
                    facts = facts.identified(
                        event.caller_kind, event.elder_id, event.contact_id, event.candidates
                    )
                    self._calls[event.call_id] = facts
                    self._prefetch(facts)
            case ev.CallQueued():
                facts = self._calls.get(event.call_id)
                if facts is not None:
                    self._calls[event.call_id] = replace(
                        facts, queue=event.queue, queued_at=event.at
                    )
            case ev.CallOffered():
                facts = self._calls.get(event.call_id)
                if facts is not None:
                    self._offered[event.call_id] = event.operator_ids
                    for operator_id in event.operator_ids:
                        if self.connected(operator_id):
                            self._spawn(self._pop(facts, operator_id, event.at))
            case ev.CallAnswered():
                self._answered(event)
            case ev.CallEnded():
                self._ended(event.call_id)
            case ev.SurveyStarted():  # the operator has left the caller to the survey
                self._left(event.call_id)
            case ev.OperatorStateChanged():
                self._to(event.operator_id, "_state.html", {"state": event})
            case ev.DeadlineDueSoon() | ev.DeadlineOverdue() if event.owner_operator_id:
                overdue = isinstance(event, ev.DeadlineOverdue)
                context = {"event": event, "overdue": overdue}
                self._to(event.owner_operator_id, "_deadline.html", context)
        self._floor_dirty.set()

    def _answered(self, event: ev.CallAnswered) -> None:
        facts = self._calls.get(event.call_id)
        if facts is None or event.operator_id is None:
            return
        before = facts.operator_id
        if before is not None and before != event.operator_id:  # transferred on: not theirs
            self._to(before, "_call.html", {"call": None})
        facts = replace(facts, operator_id=event.operator_id)
        self._calls[event.call_id] = facts
        for other in self._offered.pop(event.call_id, ()):
            if other != event.operator_id:
                self._to(other, "_pop_gone.html", {"facts": facts, "taken": True})
        self._to(event.operator_id, "_call.html", {"call": facts})

    def _left(self, call_id: uuid.UUID) -> None:
        facts = self._calls.get(call_id)
        if facts is not None and facts.operator_id is not None:
            self._to(facts.operator_id, "_call.html", {"call": None})
            self._calls[call_id] = replace(facts, operator_id=None)

    def _ended(self, call_id: uuid.UUID) -> None:
        facts = self._calls.pop(call_id, None)
        task = self._data.pop(call_id, None)
        if task is not None:
            task.cancel()
        for other in self._offered.pop(call_id, ()):
            self._to(other, "_pop_gone.html", {"facts": facts, "taken": False})
        if facts is not None and facts.operator_id is not None:
            self._to(facts.operator_id, "_call.html", {"call": None})

    # --- the pop ---------------------------------------------------------------------

    def _prefetch(self, facts: CallFacts, *, now: bool = False) -> asyncio.Task[PopData] | None:
        """Read the caller's record now, while the call is greeted and queued (not when no
        console is open: nobody would see it; a console opened later reads it on the offer)."""
        if not self._sockets and not now:
            return None
        old = self._data.pop(facts.call_id, None)
        if old is not None:
            old.cancel()
        task = asyncio.get_running_loop().create_task(
            self._load(facts), name=f"pop-load-{facts.call_id}"
        )
        self._data[facts.call_id] = task
        task.add_done_callback(_quiet)
        return task

    async def _load(self, facts: CallFacts) -> PopData:
        today = dt.datetime.now(self._tz).date()
        async with self._engine.connect() as conn:
            return await pop.load(conn, facts, today)

    async def _pop(self, facts: CallFacts, operator_id: int, offered_at: dt.datetime) -> None:
        task = self._data.get(facts.call_id) or self._prefetch(facts, now=True)
        try:
            data = await asyncio.shield(task) if task is not None else PopData()
        except Exception as err:  # the pop shows what the call says without the record
            log.warning("screen pop: record unavailable (%s)", type(err).__name__)
            data = PopData()
        if facts.entry == "terminal" and data.alarm is None:
            with contextlib.suppress(Exception):  # the alarm may have been tied since
                async with self._engine.connect() as conn:
                    data = replace(data, alarm=await pop.alarm_of(conn, facts.case_id))
        if facts.call_id not in self._calls:
            return  # gone while we read
        record = data.record
        cases = pop.cases_first(list(record.open_cases), operator_id) if record else []
        self._to(
            operator_id,
            "_pop.html",
            {
                "facts": facts,
                "data": data,
                "record": record,
                "cases": cases,
                "operator_id": operator_id,
                "waited_s": pop.waited_s(facts, offered_at),
            },
        )
        self.pops_sent += 1
        if record is not None:  # what this operator saw, and why (R27)
            async with self._engine.begin() as conn:
                await elders.note_access(
                    conn,
                    actor=f"operator:{operator_id}",
                    operator_id=operator_id,
                    elder_id=record.id,
                    why="offered",
                    call_id=facts.call_id,
                )

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work, name="console-pop")
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("console task failed: %r", type(task.exception()).__name__)

    # --- the floor -------------------------------------------------------------------

    async def run(self) -> None:
        """Owned task: the supervisors' floor, re-rendered when something changed."""
        try:
            while True:
                await self._floor_dirty.wait()
                self._floor_dirty.clear()
                await self._push_floor()
                await asyncio.sleep(self._floor_every_s)
        finally:
            for task in [*self._tasks, *self._data.values()]:
                task.cancel()
            await asyncio.gather(*self._tasks, *self._data.values(), return_exceptions=True)

    async def _push_floor(self) -> None:
        if self._floor_html is None:
            return
        supervisors = [s for mine in self._sockets.values() for s in mine if s.supervisor]
        if not supervisors:
            return
        by_lang: dict[Lang, str] = {}
        for socket in supervisors:
            if socket.lang not in by_lang:
                try:
                    by_lang[socket.lang] = await self._floor_html(socket.lang)
                except Exception as err:  # the database is away: the floor waits for it
                    log.warning("floor view unavailable (%s)", type(err).__name__)
                    return
            socket.offer(by_lang[socket.lang])


def _quiet(task: asyncio.Task[Any]) -> None:
    """A prefetch nobody waited for must not log 'exception never retrieved'."""
    if not task.cancelled():
        task.exception()
