"""The reports' figures: the counts the queries return (additive, so a class's figures are
the sum over its areas), and the replies built from them with their rates. Pure: no I/O.

Definitions (R1, R19, R21, R25):
- offered: calls queued in the period; answered: a human connected; abandoned: queued, never
  connected, ended by the caller. Answer time: connected_at - queued_at.
- within 10 s: answered within 10 seconds of queueing (R1); its rate is of the calls offered
  (an abandoned call counts against it), as the live floor's service level.
- follow-up (R19): of the life-help, service-consultation and emergency cases closed in the
  period, those with a done family follow-up or service order, or a survey asked.
- deadlines: tasks due in the period (cancelled ones aside): met when done by the deadline,
  missed when done late or still open past it (at the time of the report), pending else.
- satisfaction (R21): of the surveys answered with a score, those scoring 4 or 5.
- record complete (R25): a closed case with a class, a reasonable/unreasonable answer and a
  closing reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Self, TypeVar

from pydantic import BaseModel

from hotline.reports.periods import Kind, Period

WITHIN_S = 10  # R1
BUCKET_UPTO_S = (5, 10, 20, 30, 60)  # answer-time bands: at most this many seconds; then more
FOLLOW_UP_CLASSES = ("life_help", "consultation_service", "emergency")  # R19
FOLLOW_UP_TASKS = ("family_follow_up", "service_order")
SATISFIED_FROM = 4  # a score of 4 or 5 of 5


def rate(part: int, whole: int) -> float | None:
    """part / whole to 3 places; None when there is nothing to divide."""
    return round(part / whole, 3) if whole else None


class _Additive:
    """A frozen dataclass of numbers that adds field by field: tuples element-wise, fields
    named max_* by taking the larger."""

    def __add__(self, other: Self) -> Self:
        changes = {}
        for f in fields(self):  # type: ignore[arg-type]
            a, b = getattr(self, f.name), getattr(other, f.name)
            if isinstance(a, tuple):
                changes[f.name] = tuple(x + y for x, y in zip(a, b, strict=True))
            elif f.name.startswith("max_"):
                changes[f.name] = max(a, b)
            else:
                changes[f.name] = a + b
        return replace(self, **changes)  # type: ignore[type-var]


A = TypeVar("A", bound=_Additive)
V = TypeVar("V")


def _sum(items: Iterable[A], empty: A) -> A:
    total = empty
    for item in items:
        total = total + item
    return total


# --- calls ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallCounts(_Additive):
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    answer_s: float = 0.0  # the sum of answer times
    max_answer_s: float = 0.0
    answered_upto: tuple[int, ...] = (0,) * len(BUCKET_UPTO_S)  # answered within each band's bound


class Band(BaseModel):
    """Calls answered in an answer-time band: more than the band before, at most `upto_s`
    (None: longer than the last bound)."""

    upto_s: int | None
    calls: int


class Calls(BaseModel):
    offered: int
    answered: int
    abandoned: int
    within_10s: int
    answer_rate: float | None  # answered / offered
    within_10s_rate: float | None  # within 10 s / offered (R1)
    abandon_rate: float | None
    avg_answer_s: float | None
    max_answer_s: float | None
    answer_times: list[Band]


class KeyedCalls(Calls):
    key: str | None  # the line (entry) or the queue's name; None: no queue


class DayCalls(Calls):
    day: dt.date


class CallsBlock(BaseModel):
    totals: Calls
    by_line: list[KeyedCalls]
    by_queue: list[KeyedCalls]
    by_day: list[DayCalls]


def calls(c: CallCounts) -> dict[str, object]:
    """The fields of a Calls reply."""
    within = c.answered_upto[BUCKET_UPTO_S.index(WITHIN_S)]
    bands, below = [], 0
    for upto, cumulative in zip(BUCKET_UPTO_S, c.answered_upto, strict=True):
        bands.append(Band(upto_s=upto, calls=cumulative - below))
        below = cumulative
    bands.append(Band(upto_s=None, calls=c.answered - below))
    return {
        "offered": c.offered,
        "answered": c.answered,
        "abandoned": c.abandoned,
        "within_10s": within,
        "answer_rate": rate(c.answered, c.offered),
        "within_10s_rate": rate(within, c.offered),
        "abandon_rate": rate(c.abandoned, c.offered),
        "avg_answer_s": round(c.answer_s / c.answered, 1) if c.answered else None,
        "max_answer_s": round(c.max_answer_s, 1) if c.answered else None,
        "answer_times": bands,
    }


def calls_block(
    lines: Mapping[str | None, CallCounts],
    queues: Mapping[str | None, CallCounts],
    days: Mapping[dt.date, CallCounts],
    total: CallCounts,
) -> CallsBlock:
    return CallsBlock(
        totals=Calls.model_validate(calls(total)),
        by_line=[KeyedCalls.model_validate({"key": k, **calls(v)}) for k, v in _by_key(lines)],
        by_queue=[KeyedCalls.model_validate({"key": k, **calls(v)}) for k, v in _by_key(queues)],
        by_day=[DayCalls.model_validate({"day": d, **calls(days[d])}) for d in sorted(days)],
    )


def _by_key(groups: Mapping[str | None, V]) -> list[tuple[str | None, V]]:
    """Named keys in order, the unnamed (None) last."""
    return sorted(groups.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))


# --- cases, deadlines, surveys by class and area -----------------------------------------------


@dataclass(frozen=True)
class CaseCounts(_Additive):
    opened: int = 0
    closed: int = 0
    unreasonable: int = 0  # closed as unreasonable (R7)
    follow_up_due: int = 0
    followed_up: int = 0
    deadlines_met: int = 0
    deadlines_missed: int = 0
    deadlines_pending: int = 0
    surveys_asked: int = 0
    surveys_answered: int = 0
    satisfied: int = 0


class Cases(BaseModel):
    opened: int
    closed: int
    unreasonable: int
    follow_up_due: int
    followed_up: int
    follow_up_rate: float | None
    deadlines_met: int
    deadlines_missed: int
    deadlines_pending: int
    deadlines_kept_rate: float | None  # met / (met + missed)
    surveys_asked: int
    surveys_answered: int
    satisfied: int
    satisfaction_rate: float | None


class KeyedCases(Cases):
    key: str | None  # the class (None: not classified) or the area (None: no elder's district)


class Deadlines(BaseModel):
    kind: str  # the task's kind: callback, complaint_handling, family_follow_up, ...
    met: int
    missed: int
    pending: int
    kept_rate: float | None


class CasesBlock(BaseModel):
    totals: Cases
    by_class: list[KeyedCases]
    by_area: list[KeyedCases]
    deadlines_by_kind: list[Deadlines]


def cases(c: CaseCounts) -> dict[str, object]:
    return {
        **{f.name: getattr(c, f.name) for f in fields(c)},
        "follow_up_rate": rate(c.followed_up, c.follow_up_due),
        "deadlines_kept_rate": rate(c.deadlines_met, c.deadlines_met + c.deadlines_missed),
        "satisfaction_rate": rate(c.satisfied, c.surveys_answered),
    }


GroupKey = tuple[str | None, str | None]  # (class, area)


@dataclass(frozen=True)
class TaskCounts(_Additive):
    met: int = 0
    missed: int = 0
    pending: int = 0


def cases_block(
    groups: Mapping[GroupKey, CaseCounts], kinds: Mapping[str, TaskCounts]
) -> CasesBlock:
    by_class: dict[str | None, CaseCounts] = {}
    by_area: dict[str | None, CaseCounts] = {}
    for (klass, area), counts in groups.items():
        by_class[klass] = by_class.get(klass, CaseCounts()) + counts
        by_area[area] = by_area.get(area, CaseCounts()) + counts
    return CasesBlock(
        totals=Cases.model_validate(cases(_sum(groups.values(), CaseCounts()))),
        by_class=[KeyedCases.model_validate({"key": k, **cases(v)}) for k, v in _by_key(by_class)],
        by_area=[KeyedCases.model_validate({"key": k, **cases(v)}) for k, v in _by_key(by_area)],
        deadlines_by_kind=[
            Deadlines(
                kind=kind,
                met=t.met,
                missed=t.missed,
                pending=t.pending,
                kept_rate=rate(t.met, t.met + t.missed),
            )
            for kind, t in sorted(kinds.items())
        ],
    )


# --- the reports -----------------------------------------------------------------------------


class PeriodReply(BaseModel):
    kind: Kind
    label: str
    first_day: dt.date
    last_day: dt.date
    starts_at: dt.datetime
    ends_at: dt.datetime  # not in it: the period is [starts_at, ends_at)
    time_zone: str


def period_reply(period: Period) -> PeriodReply:
    return PeriodReply(
        kind=period.kind,
        label=period.label,
        first_day=period.first,
        last_day=period.end - dt.timedelta(days=1),
        starts_at=period.starts_at,
        ends_at=period.ends_at,
        time_zone=str(period.starts_at.tzinfo),
    )


class Report(BaseModel):
    """The daily report, and the weekly, monthly and quarterly analysis (R26)."""

    period: PeriodReply
    generated_at: dt.datetime
    calls: CallsBlock
    cases: CasesBlock


# --- operators (R25) ----------------------------------------------------------------------


@dataclass(frozen=True)
class OperatorCounts(_Additive):
    answered: int = 0
    within_10s: int = 0
    answer_s: float = 0.0
    talked: int = 0  # answered calls that have ended
    talk_s: float = 0.0
    cases_owned: int = 0  # opened in the period, owned by the operator (R14)
    cases_closed: int = 0
    closed_complete: int = 0
    deadlines_met: int = 0
    deadlines_missed: int = 0
    deadlines_pending: int = 0
    surveys_asked: int = 0
    surveys_answered: int = 0
    satisfied: int = 0


@dataclass(frozen=True)
class OperatorName:
    id: int
    username: str
    display_name: str
    active: bool


class OperatorFigures(BaseModel):
    operator_id: int
    username: str
    display_name: str
    active: bool
    answered: int
    within_10s: int
    within_10s_rate: float | None  # of the calls they answered
    avg_answer_s: float | None
    avg_talk_s: float | None
    cases_owned: int
    cases_closed: int
    closed_complete: int
    completeness_rate: float | None  # complete records / closed cases (R21, R25)
    deadlines_met: int
    deadlines_missed: int
    deadlines_pending: int
    deadlines_kept_rate: float | None
    surveys_asked: int
    surveys_answered: int
    satisfied: int
    satisfaction_rate: float | None


class OperatorsReport(BaseModel):
    period: PeriodReply
    generated_at: dt.datetime
    operators: list[OperatorFigures]


def operator_figures(who: OperatorName, c: OperatorCounts) -> OperatorFigures:
    return OperatorFigures(
        operator_id=who.id,
        username=who.username,
        display_name=who.display_name,
        active=who.active,
        answered=c.answered,
        within_10s=c.within_10s,
        within_10s_rate=rate(c.within_10s, c.answered),
        avg_answer_s=round(c.answer_s / c.answered, 1) if c.answered else None,
        avg_talk_s=round(c.talk_s / c.talked, 1) if c.talked else None,
        cases_owned=c.cases_owned,
        cases_closed=c.cases_closed,
        closed_complete=c.closed_complete,
        completeness_rate=rate(c.closed_complete, c.cases_closed),
        deadlines_met=c.deadlines_met,
        deadlines_missed=c.deadlines_missed,
        deadlines_pending=c.deadlines_pending,
        deadlines_kept_rate=rate(c.deadlines_met, c.deadlines_met + c.deadlines_missed),
        surveys_asked=c.surveys_asked,
        surveys_answered=c.surveys_answered,
        satisfied=c.satisfied,
        satisfaction_rate=rate(c.satisfied, c.surveys_answered),
    )


def operators(
    names: Iterable[OperatorName], counts: Mapping[int, OperatorCounts]
) -> list[OperatorFigures]:
    """Every active operator, and any other with figures in the period; by display name."""
    out = [
        operator_figures(who, counts.get(who.id, OperatorCounts()))
        for who in names
        if who.active or who.id in counts
    ]
    return sorted(out, key=lambda o: (o.display_name, o.operator_id))
