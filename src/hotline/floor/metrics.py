"""GET /metrics: the floor and the service's health in Prometheus' text format 0.0.4.

Written by hand (https://prometheus.io/docs/instrumenting/exposition_formats/): `collect`
turns the floor view and the health dict into metric families, `render` writes them.
Figures "today" are gauges: they fall back to zero at the local midnight.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from hotline.core.words import OPERATOR_STATES
from hotline.floor.view import FloorReply, QueueFloor

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")

Labels = Mapping[str, str]


@dataclass(frozen=True)
class Metric:
    """One metric family: its HELP and TYPE lines and its samples."""

    name: str
    kind: Literal["gauge", "counter", "untyped"]
    help: str
    samples: tuple[tuple[Labels, float], ...]


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _value(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(float(value))


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    for name in labels:
        if not _LABEL.fullmatch(name) or name.startswith("__"):
            raise ValueError(f"invalid label name {name!r}")
    inner = ",".join(f'{name}="{_escape_label(value)}"' for name, value in labels.items())
    return "{" + inner + "}"


def render(metrics: Iterable[Metric]) -> str:
    """The exposition text: each family's HELP, TYPE, then its samples; ends with a newline."""
    lines: list[str] = []
    for metric in metrics:
        if not _NAME.fullmatch(metric.name):
            raise ValueError(f"invalid metric name {metric.name!r}")
        lines.append(f"# HELP {metric.name} {_escape_help(metric.help)}")
        lines.append(f"# TYPE {metric.name} {metric.kind}")
        lines.extend(
            f"{metric.name}{_labels(labels)} {_value(value)}" for labels, value in metric.samples
        )
    return "\n".join(lines) + "\n" if lines else ""


def _per_queue(
    view: FloorReply, name: str, help_: str, field: Callable[[QueueFloor], float | None]
) -> Metric:
    samples = tuple(
        ({"queue": queue}, math.nan if (value := field(figures)) is None else float(value))
        for queue, figures in view.queues.items()
    )
    return Metric(name, "gauge", help_, samples)


def _health_gauge(health: Mapping[str, object], key: str, name: str, help_: str) -> Metric:
    """A sample only when the health dict has a number under `key`."""
    value = health.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return Metric(name, "gauge", help_, ())
    return Metric(name, "gauge", help_, (({}, float(value)),))


def collect(view: FloorReply, health: Mapping[str, object]) -> list[Metric]:
    """The metric families for one scrape. A service level or an average with nothing to
    measure yet (no call has stopped waiting, none answered) is NaN."""
    states: dict[str, int] = dict.fromkeys(OPERATOR_STATES, 0)
    for operator in view.operators.values():
        states[operator.state] = states.get(operator.state, 0) + 1
    return [
        _per_queue(
            view,
            "hotline_queue_waiting",
            "Callers waiting in the queue now.",
            lambda q: q.waiting,
        ),
        _per_queue(
            view,
            "hotline_queue_longest_wait_seconds",
            "How long the longest-waiting caller in the queue has waited.",
            lambda q: q.longest_wait_s,
        ),
        Metric(
            "hotline_operators",
            "gauge",
            "Operators in each state now.",
            tuple(({"state": state}, float(n)) for state, n in states.items()),
        ),
        _per_queue(
            view,
            "hotline_calls_offered_today",
            "Calls queued since the local midnight.",
            lambda q: q.offered_today,
        ),
        _per_queue(
            view,
            "hotline_calls_answered_today",
            "Calls queued today and answered by an operator.",
            lambda q: q.answered_today,
        ),
        _per_queue(
            view,
            "hotline_calls_abandoned_today",
            "Calls queued today whose caller hung up while waiting.",
            lambda q: q.abandoned_today,
        ),
        _per_queue(
            view,
            "hotline_calls_overflowed_today",
            "Calls queued today that overflowed into this queue.",
            lambda q: q.overflowed_today,
        ),
        _per_queue(
            view,
            "hotline_answer_clock_breaches_today",
            "Calls queued today whose caller waited past the queue's service level without "
            "a human (R1).",
            lambda q: q.breached_today,
        ),
        _per_queue(
            view,
            "hotline_callbacks_waiting",
            "Callbacks waiting in the queue for an operator now.",
            lambda q: q.callbacks_waiting,
        ),
        _per_queue(
            view,
            "hotline_service_level_today",
            "Share (0..1) of today's calls answered within the queue's threshold, "
            "of those no longer waiting.",
            lambda q: q.service_level_today,
        ),
        _per_queue(
            view,
            "hotline_answer_seconds_avg_today",
            "Average wait before an operator answered, of today's answered calls.",
            lambda q: q.avg_answer_s,
        ),
        Metric(
            "hotline_callbacks_due",
            "gauge",
            "Callbacks not done yet.",
            (({}, float(view.totals.callbacks_due)),),
        ),
        Metric(
            "hotline_calendar_alerts",
            "gauge",
            "Working-day calendar years needing an admin: unpublished (deadlines into them "
            "are refused) or in conflict with the holidays package.",
            tuple(
                ({"kind": kind}, float(sum(a.kind == kind for a in view.alerts)))
                for kind in ("unpublished", "conflict")
            ),
        ),
        _health_gauge(health, "live_calls", "hotline_live_calls", "Calls in the service now."),
        _health_gauge(
            health,
            "event_subscribers",
            "hotline_event_subscribers",
            "Subscribers of the live event stream now.",
        ),
        _health_gauge(
            health,
            "records_queued",
            "hotline_records_queued",
            "Records waiting to be written to PostgreSQL (in memory or spooled).",
        ),
    ]
