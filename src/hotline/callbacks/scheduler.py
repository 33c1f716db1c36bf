"""The callback scheduler: keeps every pending callback, and when one is due, places a call
for it that waits in its queue like a caller (below the live ones). The dialer reports how
each attempt went; the scheduler records it and either closes the callback (someone talked,
or the last attempt failed) or makes it due again after the queue's spacing.

One task sleeps until the next callback is due and is woken by any change: no polling, no
task per callback. Its state is in PostgreSQL (through the recorder), so a restart picks up
every pending callback where it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Literal

from hotline.callbacks import policy
from hotline.callbacks.dialer import AttemptResult
from hotline.callbacks.store import Pending
from hotline.calls.messages import CANCELLED, Refused
from hotline.calls.phases import LiveState, Queued
from hotline.calls.ports import CallbackRequest, Publish, Record
from hotline.calls.session import Call, CallInfo, now
from hotline.core import events as ev
from hotline.core.ids import attempt_call_id, callback_id_for
from hotline.core.records import (
    CallbackAttempted,
    CallbackClosed,
    CallbackDue,
    CallbackRenewed,
    CaseStep,
)
from hotline.core.words import CALLBACK
from hotline.queues.config import QueueConfig

log = logging.getLogger(__name__)

Place = Callable[[CallInfo, LiveState, Callable[[Call], None]], Call]
"""Start a call we place ourselves (Switchboard.outbound)."""
Load = Callable[[], Awaitable[list[Pending]]]
RETRY_AFTER_ERROR = dt.timedelta(seconds=30)


class Scheduler:
    def __init__(
        self,
        *,
        load: Load,
        record: Record,
        publish: Publish,
        queue: Callable[[str], QueueConfig | None],
        clock: Callable[[], dt.datetime] = now,
    ) -> None:
        self._load = load
        self._record = record
        self._publish = publish
        self._queue = queue
        self._clock = clock
        self._place: Place | None = None
        self._pending: dict[uuid.UUID, Pending] = {}
        self._by_call: dict[uuid.UUID, Pending] = {}
        self._calls: dict[uuid.UUID, Call] = {}  # the call placed for each active callback
        self._wake = asyncio.Event()

    def queue_config(self, name: str) -> QueueConfig | None:
        return self._queue(name)

    def bind(self, place: Place) -> None:
        """Where attempts are placed (the switchboard, made after the scheduler)."""
        self._place = place

    async def start(self) -> None:
        """Load the pending callbacks (after a restart, or a takeover: where they are now;
        what a standby read while it stood by is forgotten first)."""
        fresh = await self._load()
        self._pending.clear()
        for cb in fresh:
            self._pending[cb.callback_id] = cb
        if self._pending:
            log.info("callbacks: %d pending", len(self._pending))
        self._wake.set()

    # --- asking ----------------------------------------------------------------------

    def request(self, request: CallbackRequest) -> None:
        """From the call flow: a caller hung up while waiting, or asked after hours. One
        pending callback per number and queue: a caller who tries again and hangs up again
        updates the callback already waiting (due at the sooner time) rather than adding one."""
        if request.number is None:
            self._step(request.case_id, "callback_impossible", reason=request.reason)
            return
        same = next(
            (
                cb
                for cb in self._pending.values()
                if cb.number == request.number and cb.queue == request.queue
            ),
            None,
        )
        if same is not None:
            self._merge(same, request)
            return
        callback_id = callback_id_for(request.call_id, request.reason)
        self._add(
            callback_id,
            case_id=request.case_id,
            call_id=request.call_id,
            number=request.number,
            queue=request.queue,
            due_at=request.due_at,
            reason=request.reason,
            waited_s=request.waited_s,
            by=None,
        )

    def ask(
        self,
        *,
        case_id: uuid.UUID,
        number: str,
        queue: str,
        due_at: dt.datetime,
        by: str,
        owner: int | None = None,
        reason: str = "requested",
    ) -> Pending:
        """From the API: an operator or supervisor asks for a callback; or a follow-up call
        (reason "follow_up", R12, R19). With `owner`, that operator is offered it first."""
        return self._add(
            uuid.uuid4(),
            case_id=case_id,
            call_id=None,
            number=number,
            queue=queue,
            due_at=due_at,
            reason=reason,
            waited_s=None,
            by=by,
            owner=owner,
        )

    def reached(self, number: str, operator_id: int) -> None:
        """The number called in and talks to an operator now: its callbacks not yet being
        placed are done (talked); nobody is called back about what was just answered."""
        for cb in [c for c in self._pending.values() if c.number == number and c.active is None]:
            del self._pending[cb.callback_id]
            self._close(cb, "talked", operator_id, by=None, detail="the caller called again")

    def _merge(self, cb: Pending, request: CallbackRequest) -> None:
        sooner = cb.active is None and request.due_at < cb.due_at
        if sooner:
            cb.due_at = request.due_at
            self._record(CallbackRenewed(callback_id=cb.callback_id, due_at=cb.due_at))
            self._scheduled(cb)
            self._wake.set()
        self._step(
            request.case_id,
            "callback_merged",
            callback_id=str(cb.callback_id),
            reason=request.reason,
            due_at=cb.due_at.isoformat(),
        )
        log.info("callback %s: the number asked again (%s)", cb.callback_id, request.reason)

    def cancel(self, callback_id: uuid.UUID, by: str) -> None:
        """Cancel a pending callback: also one whose call waits for (or rings) an operator,
        which leaves the queue; refused (Refused) only while its number is being dialled."""
        cb = self._pending.get(callback_id)
        if cb is None:
            raise KeyError(callback_id)
        if cb.active is not None:
            call = self._calls.get(cb.active)
            if call is not None and not isinstance(call.state, Queued):  # Ringing is one too
                raise Refused("its number is being dialled for an operator now")
            if call is not None:
                call.cancelled = True  # checked before the call moves on; the signal wakes it
                call.deliver(CANCELLED)
        del self._pending[callback_id]
        self._close(cb, "cancelled", None, by=by)

    def _add(
        self,
        callback_id: uuid.UUID,
        *,
        case_id: uuid.UUID,
        call_id: uuid.UUID | None,
        number: str,
        queue: str,
        due_at: dt.datetime,
        reason: str,
        waited_s: float | None,
        by: str | None,
        owner: int | None = None,
    ) -> Pending:
        existing = self._pending.get(callback_id)
        if existing is not None:
            return existing
        conf = self._queue(queue)
        cb = Pending(
            callback_id=callback_id,
            case_id=case_id,
            number=number,
            queue=queue,
            due_at=due_at,
            attempt=1,
            max_attempts=conf.callback_attempts if conf else 3,
            spacing_s=conf.callback_spacing_s if conf else 900,
            reason=reason,
            owner=owner,
        )
        self._record(
            CallbackDue(
                callback_id=callback_id,
                case_id=case_id,
                call_id=call_id,
                number=number,
                reason=reason,
                waited_s=waited_s,
                at=self._clock(),
                queue=queue,
                due_at=due_at,
                max_attempts=cb.max_attempts,
                spacing_s=cb.spacing_s,
                requested_by=by,
            )
        )
        self._step(
            case_id,
            "callback_due",
            actor=by or "system",
            reason=reason,
            queue=queue,
            due_at=due_at.isoformat(),
            attempts=cb.max_attempts,
        )
        self._publish(ev.CaseChanged(case_id=case_id, status="callback_due"))
        self._scheduled(cb)
        self._pending[callback_id] = cb
        self._wake.set()
        return cb

    # --- running ---------------------------------------------------------------------

    def pending(self) -> list[Pending]:
        return sorted(self._pending.values(), key=lambda cb: cb.due_at)

    async def run(self) -> None:
        """Owned task: place each callback's call when it is due."""
        while True:
            now = self._clock()
            due = [cb for cb in self._pending.values() if cb.active is None and cb.due_at <= now]
            for cb in sorted(due, key=lambda cb: cb.due_at):
                self._attempt(cb, now)
            waiting = [cb.due_at for cb in self._pending.values() if cb.active is None]
            self._wake.clear()
            timeout = (
                None if not waiting else max(0.0, (min(waiting) - self._clock()).total_seconds())
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    def _attempt(self, cb: Pending, now: dt.datetime) -> None:
        if self._place is None:
            return
        cb.tries += 1
        call_id = uuid.uuid5(cb.callback_id, f"call-{cb.attempt}-{cb.tries}")
        info = CallInfo(
            call_id=call_id,
            case_id=cb.case_id,
            key=f"cb-{call_id.hex}",
            entry="callback",
            number=cb.number,
            started_at=now,
            kind="callback",
        )
        cb.active, cb.reported = call_id, False
        self._by_call[call_id] = cb
        log.info("callback %s: attempt %d queued in %s", cb.callback_id, cb.attempt, cb.queue)
        call = self._place(info, Queued(now, None, cb.queue, CALLBACK, now), self._call_done)
        call.case_owner = cb.owner  # set before its task first runs: offered to them first
        self._calls[call_id] = call

    def claims(self, call_id: uuid.UUID) -> bool:
        """Whether the operator who reaches the callee of this call takes the case (R14)."""
        cb = self._by_call.get(call_id)
        return cb is not None and policy.claims_case(cb.reason, cb.owner)

    def report(self, call_id: uuid.UUID, result: AttemptResult) -> None:
        """From the dialer: how the attempt went."""
        cb = self._by_call.get(call_id)
        if cb is None or cb.reported:
            return
        cb.reported = True
        now = self._clock()
        nxt = policy.after(
            cb.attempt,
            result.outcome,
            max_attempts=cb.max_attempts,
            spacing_s=cb.spacing_s,
            at=now,
        )
        self._step(
            cb.case_id,
            "callback_attempt",
            attempt=cb.attempt,
            operator_id=result.operator_id,
            outcome=result.outcome,
            cause=result.cause,
        )
        self._publish(
            ev.CallbackAttempted(
                callback_id=cb.callback_id,
                attempt=cb.attempt,
                operator_id=result.operator_id,
                outcome=result.outcome,
            )
        )
        if result.outcome != "operator_left":
            self._record(
                CallbackAttempted(
                    attempt_id=attempt_call_id(cb.callback_id, cb.attempt),
                    callback_id=cb.callback_id,
                    attempt=cb.attempt,
                    operator_id=result.operator_id,
                    outcome=result.outcome,
                    cause=result.cause,
                    started_at=now,
                    answered_at=result.answered_at,
                    ended_at=now,
                    next_due_at=nxt.due_at,
                )
            )
        if nxt.closed is not None:
            self._pending.pop(cb.callback_id, None)
            self._close(cb, nxt.closed, result.operator_id, by=None)
            return
        assert nxt.due_at is not None
        cb.attempt, cb.due_at = nxt.attempt, nxt.due_at
        self._scheduled(cb)

    def _call_done(self, call: Call) -> None:
        """A call placed for a callback has ended (after its report, or without one)."""
        cb = self._by_call.pop(call.info.call_id, None)
        self._calls.pop(call.info.call_id, None)
        if cb is None:
            return
        cb.active = None
        if not cb.reported and cb.callback_id in self._pending:
            # Ended before the number was dialled (shutdown, an error): the same attempt again.
            cb.due_at = self._clock() + RETRY_AFTER_ERROR
        self._wake.set()

    # --- records ---------------------------------------------------------------------

    def _scheduled(self, cb: Pending) -> None:
        self._publish(
            ev.CallbackScheduled(
                callback_id=cb.callback_id,
                case_id=cb.case_id,
                number=cb.number,
                queue=cb.queue,
                due_at=cb.due_at,
                attempt=cb.attempt,
                reason=cb.reason,
            )
        )

    def _close(
        self,
        cb: Pending,
        outcome: Literal["talked", "given_up", "cancelled"],
        operator_id: int | None,
        *,
        by: str | None,
        detail: str | None = None,
    ) -> None:
        at = self._clock()
        self._record(
            CallbackClosed(
                callback_id=cb.callback_id, outcome=outcome, operator_id=operator_id, at=at
            )
        )
        attempts = cb.attempt if outcome != "cancelled" else cb.attempt - 1
        extra = {"reason": detail} if detail else {}
        self._step(cb.case_id, "callback_done", actor=by or "system", outcome=outcome, **extra)
        self._publish(
            ev.CallbackDone(
                callback_id=cb.callback_id,
                outcome=outcome,
                attempts=attempts,
            )
        )
        log.info("callback %s: %s after %d attempt(s)", cb.callback_id, outcome, attempts)

    def _step(
        self, case_id: uuid.UUID, kind: str, *, actor: str = "system", **detail: object
    ) -> None:
        self._record(
            CaseStep(case_id=case_id, at=self._clock(), actor=actor, kind=kind, detail=detail)
        )
