"""The live floor, folded from the domain events: calls in progress (arriving, waiting,
ringing, talking, in an emergency conference, answering the survey), operators as the floor
shows them, pending callbacks. Its snapshot is what a subscriber gets first and what the
floor view and the metrics show as "now"."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field, replace
from typing import Literal

from hotline.core import events as ev
from hotline.core.words import OperatorState

SECURITY_SHOWN = dt.timedelta(hours=1)  # a security alert without an end shows this long
CallPhase = Literal["arriving", "waiting", "ringing", "talking", "emergency", "surveying"]


@dataclass(frozen=True)
class LiveCall:
    call_id: uuid.UUID
    kind: ev.CallKind
    entry: str
    phase: CallPhase
    since: dt.datetime  # in this phase (waiting: since queued in this queue)
    queue: str | None = None
    priority: int = 0
    operator_ids: tuple[int, ...] = ()  # ringing, or the one talking
    breached: bool = False


@dataclass(frozen=True)
class LiveOperator:
    operator_id: int
    state: OperatorState
    reason: str | None
    reachable: bool
    calls: int


@dataclass(frozen=True)
class LiveQueue:
    name: str
    waiting: int  # callers on the line waiting (ringing included)
    longest_wait_s: float
    callbacks_waiting: int  # callbacks queued for an operator


@dataclass(frozen=True)
class LiveCallback:
    callback_id: uuid.UUID
    case_id: uuid.UUID
    queue: str
    due_at: dt.datetime
    attempt: int


@dataclass(frozen=True)
class LiveAlert:
    """Something supervisors must see until it is put right or passes: a calendar year
    nobody published or one the library disagrees with (hotline.calendars); an account
    locked after failed logins, records opened with a reason (console security)."""

    key: str
    kind: str  # unpublished | conflict | login_locked | record_opened | record_limit
    since: dt.datetime
    country: str = ""
    year: int | None = None
    days_left: int | None = None
    differences: int = 0  # days the two sources disagree on
    refusals: int = 0  # actions refused since it was raised
    operator_id: int | None = None
    until: dt.datetime | None = None  # shown until then (a lock, an hour of openings)
    count: int = 0


@dataclass(frozen=True)
class FloorSnapshot:
    seq: int
    at: dt.datetime
    calls: tuple[LiveCall, ...]
    operators: tuple[LiveOperator, ...]
    queues: tuple[LiveQueue, ...]
    callbacks: tuple[LiveCallback, ...]
    alerts: tuple[LiveAlert, ...] = ()


@dataclass
class LiveFloor:
    """Mutated only by `fold`, from the event loop."""

    calls: dict[uuid.UUID, LiveCall] = field(default_factory=dict)
    operators: dict[int, LiveOperator] = field(default_factory=dict)
    callbacks: dict[uuid.UUID, LiveCallback] = field(default_factory=dict)
    alerts: dict[str, LiveAlert] = field(default_factory=dict)
    seq: int = 0

    def fold(self, seq: int, event: ev.DomainEvent) -> None:
        self.seq = seq
        match event:
            case ev.CallArrived():
                self.calls[event.call_id] = LiveCall(
                    event.call_id, event.kind, event.entry, "arriving", event.at
                )
            case ev.CallQueued():
                call = self.calls.get(event.call_id) or LiveCall(
                    event.call_id,
                    event.kind,
                    "callback" if event.kind == "callback" else "hotline",
                    "waiting",
                    event.at,
                )
                self.calls[event.call_id] = replace(
                    call,
                    phase="waiting",
                    since=event.at,
                    queue=event.queue,
                    priority=event.priority,
                    operator_ids=(),
                )
            case ev.CallOffered():
                self._update(event.call_id, phase="ringing", operator_ids=event.operator_ids)
            case ev.CallAnswered():
                ids = (event.operator_id,) if event.operator_id is not None else ()
                self._update(event.call_id, phase="talking", since=event.at, operator_ids=ids)
            case ev.EmergencyStarted():  # the conference: 120, the family (emergency/)
                self._update(event.call_id, phase="emergency", since=event.at)
            case ev.SurveyStarted():  # the caller alone, on the keypad (survey/)
                self._update(event.call_id, phase="surveying", since=event.at, operator_ids=())
            case ev.AnswerClockBreached():
                self._update(event.call_id, breached=True)
            case ev.CallEnded():
                self.calls.pop(event.call_id, None)
            case ev.OperatorStateChanged():
                self.operators[event.operator_id] = LiveOperator(
                    event.operator_id, event.state, event.reason, event.reachable, event.calls
                )
            case ev.CallbackScheduled():
                self.callbacks[event.callback_id] = LiveCallback(
                    event.callback_id, event.case_id, event.queue, event.due_at, event.attempt
                )
            case ev.CallbackDone():
                self.callbacks.pop(event.callback_id, None)
            case ev.CalendarWarning() | ev.CalendarSettled() | ev.DeadlineRefused():
                self._alert(event)
            case ev.SecurityAlert():
                self._security(event)
            case _:
                pass

    def _alert(self, event: ev.CalendarWarning | ev.CalendarSettled | ev.DeadlineRefused) -> None:
        match event:
            case ev.CalendarWarning():
                known = self.alerts.get(event.key)
                self.alerts[event.key] = LiveAlert(
                    event.key,
                    event.kind,
                    known.since if known else event.at,
                    country=event.country,
                    year=event.year,
                    days_left=event.days_left,
                    differences=len(event.differences),
                    refusals=known.refusals if known else 0,
                )
            case ev.CalendarSettled():
                self.alerts.pop(event.key, None)
            case ev.DeadlineRefused():
                key = f"unpublished:{event.country}:{event.year}"
                known = self.alerts.get(key) or LiveAlert(
                    key, "unpublished", event.at, country=event.country, year=event.year
                )
                self.alerts[key] = replace(known, refusals=known.refusals + 1)

    def _security(self, event: ev.SecurityAlert) -> None:
        key = f"{event.kind}:{event.operator_id}"
        until = event.until or event.at + SECURITY_SHOWN
        known = self.alerts.get(key)
        self.alerts[key] = LiveAlert(
            key,
            event.kind,
            known.since if known else event.at,
            operator_id=event.operator_id,
            until=until,
            count=max(event.count, (known.count if known else 0) + 1),
        )

    def _update(self, call_id: uuid.UUID, **changes: object) -> None:
        call = self.calls.get(call_id)
        if call is not None:
            self.calls[call_id] = replace(call, **changes)  # type: ignore[arg-type]

    def snapshot(self, now: dt.datetime | None = None) -> FloorSnapshot:
        at = now or dt.datetime.now(dt.UTC)
        queues: dict[str, tuple[int, float, int]] = {}
        for call in self.calls.values():
            if call.queue is None or call.phase not in ("waiting", "ringing"):
                continue
            waiting, longest, callbacks = queues.get(call.queue, (0, 0.0, 0))
            if call.kind == "callback":
                callbacks += 1
            else:
                waiting += 1
                longest = max(longest, (at - call.since).total_seconds())
            queues[call.queue] = (waiting, longest, callbacks)
        return FloorSnapshot(
            seq=self.seq,
            at=at,
            calls=tuple(sorted(self.calls.values(), key=lambda c: c.since)),
            operators=tuple(self.operators[k] for k in sorted(self.operators)),
            queues=tuple(
                LiveQueue(name, w, round(longest, 1), cb)
                for name, (w, longest, cb) in sorted(queues.items())
            ),
            callbacks=tuple(sorted(self.callbacks.values(), key=lambda c: c.due_at)),
            alerts=tuple(a for k in sorted(self.alerts) if _shown(a := self.alerts[k], at)),
        )


def _shown(alert: LiveAlert, at: dt.datetime) -> bool:
    return alert.until is None or alert.until > at
