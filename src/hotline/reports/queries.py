"""The reports' SQL: every figure counted and summed in PostgreSQL over the indexed time
columns (calls.queued_at, cases.opened_at / closed_at, case_tasks.due_at,
survey_answers.asked_at), one round trip per table; the rows are shaped in figures.py.

Each query takes the period's instants [starts_at, ends_at); local days (for the calls by
day) are computed in the hotline's time zone.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Date,
    Float,
    and_,
    cast,
    exists,
    func,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import InstrumentedAttribute

from hotline.db.models import Call, Case, CaseTask, Elder, Operator, Queue, SurveyAnswer
from hotline.reports import figures as fig
from hotline.reports.figures import (
    BUCKET_UPTO_S,
    FOLLOW_UP_CLASSES,
    FOLLOW_UP_TASKS,
    SATISFIED_FROM,
    WITHIN_S,
    CallCounts,
    CaseCounts,
    GroupKey,
    OperatorCounts,
    OperatorName,
    TaskCounts,
)
from hotline.reports.periods import Period


async def _tuned(conn: AsyncConnection) -> None:
    """For this transaction only: no JIT compilation (measured on a year of a million calls,
    compiling the cases query took 730 of its 860 ms; these aggregates run for well under a
    second without it), and room to sort and hash a quarter's rows in memory (at the default
    4 MB the calls by line and day spilled to disk)."""
    await conn.execute(text("SET LOCAL jit = off"))
    await conn.execute(text("SET LOCAL work_mem = '64MB'"))
    # The period's bounds are parameters; a cached generic plan, made without their values,
    # would read a day as if it were a year (or the other way round).
    await conn.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def _zone(tz: ZoneInfo) -> ColumnElement[str]:
    """The zone's name as an SQL literal: a bound parameter would differ between the select
    list and GROUP BY, and PostgreSQL would refuse the grouping."""
    if not re.fullmatch(r"[A-Za-z0-9_+\-/]{1,64}", tz.key):
        raise ValueError(f"unexpected time zone name {tz.key!r}")
    return literal_column(f"'{tz.key}'")


def _in(
    column: InstrumentedAttribute[dt.datetime] | InstrumentedAttribute[dt.datetime | None],
    period: Period,
) -> ColumnElement[bool]:
    return and_(column >= period.starts_at, column < period.ends_at)


def _waited() -> ColumnElement[Any]:
    """The answer time as an interval: compared and summed as one, turned into seconds once
    per group (cheaper than seconds for every row)."""
    return Call.connected_at - Call.queued_at


def _seconds(interval: ColumnElement[dt.timedelta]) -> ColumnElement[float]:
    return cast(func.coalesce(func.extract("epoch", interval), 0), Float)


async def calls(
    conn: AsyncConnection, period: Period, tz: ZoneInfo
) -> tuple[
    dict[str | None, CallCounts],
    dict[str | None, CallCounts],
    dict[dt.date, CallCounts],
    CallCounts,
]:
    """Calls queued in the period, by line, by queue, by local day, and in all: counted once
    by (line, queue, day), a few hundred rows a quarter, and added up here (the counts are
    additive; one pass over the calls instead of one per grouping)."""
    waited = _waited()
    day = cast(func.timezone(_zone(tz), Call.queued_at), Date)
    counted = func.count()
    query = (
        select(
            Call.entry,
            Queue.name,
            day.label("day"),
            counted.label("offered"),
            counted.filter(Call.connected_at.is_not(None)).label("answered"),
            counted.filter(Call.connected_at.is_(None), Call.ended_by == "caller").label(
                "abandoned"
            ),
            _seconds(func.sum(waited)).label("answer_s"),
            _seconds(func.max(waited)).label("max_answer_s"),
            *(
                counted.filter(waited <= dt.timedelta(seconds=upto)).label(f"upto_{upto}")
                for upto in BUCKET_UPTO_S
            ),
        )
        .select_from(Call)
        .outerjoin(Queue, Queue.id == Call.queue_id)
        .where(_in(Call.queued_at, period))
        .group_by(Call.entry, Queue.name, day)
    )
    lines: dict[str | None, CallCounts] = {}
    queues: dict[str | None, CallCounts] = {}
    days: dict[dt.date, CallCounts] = {}
    total = CallCounts()
    for row in await conn.execute(query):
        counts = CallCounts(
            offered=row.offered,
            answered=row.answered,
            abandoned=row.abandoned,
            answer_s=float(row.answer_s),
            max_answer_s=float(row.max_answer_s),
            answered_upto=tuple(getattr(row, f"upto_{upto}") for upto in BUCKET_UPTO_S),
        )
        lines[row.entry] = lines.get(row.entry, CallCounts()) + counts
        queues[row.name] = queues.get(row.name, CallCounts()) + counts
        days[row.day] = days.get(row.day, CallCounts()) + counts
        total = total + counts
    return lines, queues, days, total


def _followed_up() -> ColumnElement[bool]:
    """A done follow-up task on the case, or a survey asked (R19)."""
    task = exists(
        select(1).where(
            CaseTask.case_id == Case.id,
            CaseTask.kind.in_(FOLLOW_UP_TASKS),
            CaseTask.status == "done",
        )
    )
    survey = exists(select(1).where(SurveyAnswer.case_id == Case.id))
    return or_(task, survey)


def _met() -> ColumnElement[bool]:
    return and_(CaseTask.status == "done", CaseTask.done_at <= CaseTask.due_at)


def _missed(now: dt.datetime) -> ColumnElement[bool]:
    return or_(
        and_(CaseTask.status == "done", CaseTask.done_at > CaseTask.due_at),
        and_(CaseTask.status == "open", CaseTask.due_at < now),
    )


def _pending(now: dt.datetime) -> ColumnElement[bool]:
    return and_(CaseTask.status == "open", CaseTask.due_at >= now)


async def by_class_and_area(
    conn: AsyncConnection, period: Period, now: dt.datetime
) -> tuple[dict[GroupKey, CaseCounts], dict[str, TaskCounts]]:
    """Cases opened and closed, follow-ups, deadlines and surveys in the period, by the
    case's class and the elder's district (three queries: cases, tasks, surveys)."""
    opened, closed = _in(Case.opened_at, period), _in(Case.closed_at, period)
    due = and_(closed, Case.case_class.in_(FOLLOW_UP_CLASSES))
    counted = func.count()
    case_rows = await conn.execute(
        select(
            Case.case_class,
            Elder.district,
            counted.filter(opened).label("opened"),
            counted.filter(closed).label("closed"),
            counted.filter(closed, Case.reasonable.is_(False)).label("unreasonable"),
            counted.filter(due).label("due"),
            counted.filter(due, _followed_up()).label("followed"),
        )
        .select_from(Case)
        .outerjoin(Elder, Elder.id == Case.elder_id)
        .where(or_(opened, closed))
        .group_by(Case.case_class, Elder.district)
    )
    groups: dict[GroupKey, CaseCounts] = {}

    def add(key: GroupKey, counts: CaseCounts) -> None:
        groups[key] = groups.get(key, CaseCounts()) + counts

    for row in case_rows:  # class, area, opened, closed, ...
        add(
            (row[0], row.district),
            CaseCounts(
                opened=row.opened,
                closed=row.closed,
                unreasonable=row.unreasonable,
                follow_up_due=row.due,
                followed_up=row.followed,
            ),
        )
    task_rows = await conn.execute(
        select(
            Case.case_class,
            Elder.district,
            CaseTask.kind,
            counted.filter(_met()).label("met"),
            counted.filter(_missed(now)).label("missed"),
            counted.filter(_pending(now)).label("pending"),
        )
        .select_from(CaseTask)
        .join(Case, Case.id == CaseTask.case_id)
        .outerjoin(Elder, Elder.id == Case.elder_id)
        .where(_in(CaseTask.due_at, period), CaseTask.status != "cancelled")
        .group_by(Case.case_class, Elder.district, CaseTask.kind)
    )
    kinds: dict[str, TaskCounts] = {}
    for task in task_rows:
        add(
            (task[0], task.district),
            CaseCounts(
                deadlines_met=task.met,
                deadlines_missed=task.missed,
                deadlines_pending=task.pending,
            ),
        )
        kinds[task.kind] = kinds.get(task.kind, TaskCounts()) + TaskCounts(
            task.met, task.missed, task.pending
        )
    survey_rows = await conn.execute(
        select(
            Case.case_class,
            Elder.district,
            counted.label("asked"),
            counted.filter(SurveyAnswer.outcome == "answered").label("answered"),
            counted.filter(SurveyAnswer.score >= SATISFIED_FROM).label("satisfied"),
        )
        .select_from(SurveyAnswer)
        .join(Case, Case.id == SurveyAnswer.case_id)
        .outerjoin(Elder, Elder.id == Case.elder_id)
        .where(_in(SurveyAnswer.asked_at, period))
        .group_by(Case.case_class, Elder.district)
    )
    for survey in survey_rows:
        add(
            (survey[0], survey.district),
            CaseCounts(
                surveys_asked=survey.asked,
                surveys_answered=survey.answered,
                satisfied=survey.satisfied,
            ),
        )
    return groups, kinds


async def report(
    conn: AsyncConnection, period: Period, tz: ZoneInfo, now: dt.datetime
) -> fig.Report:
    """The daily report or the analysis of a week, month or quarter."""
    await _tuned(conn)
    lines, queues, days, total = await calls(conn, period, tz)
    groups, kinds = await by_class_and_area(conn, period, now)
    return fig.Report(
        period=fig.period_reply(period),
        generated_at=now,
        calls=fig.calls_block(lines, queues, days, total),
        cases=fig.cases_block(groups, kinds),
    )


async def operators(conn: AsyncConnection, period: Period, now: dt.datetime) -> fig.OperatorsReport:
    """Per operator (R25): answer and talk times, cases owned and closed and how complete
    their records are, deadlines kept, satisfaction. Five queries, one per table."""
    await _tuned(conn)
    counts: dict[int, OperatorCounts] = {}

    def add(operator_id: int, more: OperatorCounts) -> None:
        counts[operator_id] = counts.get(operator_id, OperatorCounts()) + more

    waited = _waited()
    counted = func.count()
    for call in await conn.execute(
        select(
            Call.operator_id,
            counted.label("answered"),
            counted.filter(waited <= dt.timedelta(seconds=WITHIN_S)).label("within"),
            _seconds(func.sum(waited)).label("answer_s"),
            counted.filter(Call.ended_at.is_not(None)).label("talked"),
            _seconds(func.sum(Call.ended_at - Call.connected_at)).label("talk_s"),
        )
        .where(
            _in(Call.queued_at, period),
            Call.connected_at.is_not(None),
            Call.operator_id.is_not(None),
        )
        .group_by(Call.operator_id)
    ):
        add(
            call.operator_id,
            OperatorCounts(
                answered=call.answered,
                within_10s=call.within,
                answer_s=call.answer_s,
                talked=call.talked,
                talk_s=call.talk_s,
            ),
        )
    opened, closed = _in(Case.opened_at, period), _in(Case.closed_at, period)
    complete = and_(
        Case.case_class.is_not(None),
        Case.reasonable.is_not(None),
        Case.close_reason.is_not(None),
        Case.close_reason != "",
    )
    for owned in await conn.execute(
        select(
            Case.owner_operator_id,
            counted.filter(opened).label("owned"),
            counted.filter(closed).label("closed"),
            counted.filter(closed, complete).label("complete"),
        )
        .where(or_(opened, closed), Case.owner_operator_id.is_not(None))
        .group_by(Case.owner_operator_id)
    ):
        add(
            owned.owner_operator_id,
            OperatorCounts(
                cases_owned=owned.owned, cases_closed=owned.closed, closed_complete=owned.complete
            ),
        )
    for task in await conn.execute(
        select(
            CaseTask.owner_operator_id,
            counted.filter(_met()).label("met"),
            counted.filter(_missed(now)).label("missed"),
            counted.filter(_pending(now)).label("pending"),
        )
        .where(
            _in(CaseTask.due_at, period),
            CaseTask.status != "cancelled",
            CaseTask.owner_operator_id.is_not(None),
        )
        .group_by(CaseTask.owner_operator_id)
    ):
        add(
            task.owner_operator_id,
            OperatorCounts(
                deadlines_met=task.met, deadlines_missed=task.missed, deadlines_pending=task.pending
            ),
        )
    for survey in await conn.execute(
        select(
            SurveyAnswer.operator_id,
            counted.label("asked"),
            counted.filter(SurveyAnswer.outcome == "answered").label("answered"),
            counted.filter(SurveyAnswer.score >= SATISFIED_FROM).label("satisfied"),
        )
        .where(_in(SurveyAnswer.asked_at, period), SurveyAnswer.operator_id.is_not(None))
        .group_by(SurveyAnswer.operator_id)
    ):
        add(
            survey.operator_id,
            OperatorCounts(
                surveys_asked=survey.asked,
                surveys_answered=survey.answered,
                satisfied=survey.satisfied,
            ),
        )
    names = [
        OperatorName(op.id, op.username, op.display_name, op.active)
        for op in await conn.execute(
            select(Operator.id, Operator.username, Operator.display_name, Operator.active)
        )
    ]
    return fig.OperatorsReport(
        period=fig.period_reply(period),
        generated_at=now,
        operators=fig.operators(names, counts),
    )
