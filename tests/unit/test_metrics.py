"""The floor's merge (live snapshot + today's figures) and the Prometheus text it becomes."""

from __future__ import annotations

import datetime as dt
import math
from zoneinfo import ZoneInfo

import pytest

from hotline.events.live import FloorSnapshot, LiveAlert, LiveOperator, LiveQueue
from hotline.floor.metrics import Metric, collect, render
from hotline.floor.stats import QueueDay, QueueToday, Today
from hotline.floor.view import FloorReply, empty_snapshot, merge, start_of_day

SHANGHAI = ZoneInfo("Asia/Shanghai")
AT = dt.datetime(2024, 5, 2, 9, 30, tzinfo=SHANGHAI)
SINCE = dt.datetime(2024, 5, 2, tzinfo=SHANGHAI)

# --- render ------------------------------------------------------------------------------


def test_render_writes_help_type_and_samples() -> None:
    text = render(
        [
            Metric(
                "hotline_queue_waiting",
                "gauge",
                "Callers waiting.",
                (({"queue": "general"}, 2.0), ({"queue": "emergency"}, 0.0)),
            ),
            Metric("hotline_live_calls", "gauge", "Calls now.", (({}, 3.0),)),
        ]
    )
    assert text == (
        "# HELP hotline_queue_waiting Callers waiting.\n"
        "# TYPE hotline_queue_waiting gauge\n"
        'hotline_queue_waiting{queue="general"} 2\n'
        'hotline_queue_waiting{queue="emergency"} 0\n'
        "# HELP hotline_live_calls Calls now.\n"
        "# TYPE hotline_live_calls gauge\n"
        "hotline_live_calls 3\n"
    )


@pytest.mark.parametrize(
    ("value", "label"),
    [
        ("plain", "plain"),
        ('say "hi"', 'say \\"hi\\"'),
        ("back\\slash", "back\\\\slash"),
        ("two\nlines", "two\\nlines"),
        ('\\"\n', '\\\\\\"\\n'),  # each escaped once, in the right order
        ("队列", "队列"),  # UTF-8 as is
    ],
)
def test_label_values_are_escaped(value: str, label: str) -> None:
    text = render([Metric("m", "gauge", "h", (({"queue": value}, 1.0),))])
    assert text.splitlines()[2] == f'm{{queue="{label}"}} 1'


def test_help_escapes_backslash_and_newline_but_not_quotes() -> None:
    text = render([Metric("m", "gauge", 'a\\b\n"c"', ())])
    assert text == '# HELP m a\\\\b\\n"c"\n# TYPE m gauge\n'


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (0.0, "0"),
        (7.0, "7"),
        (0.429, "0.429"),
        (14.8, "14.8"),
        (-2.5, "-2.5"),
        (math.nan, "NaN"),
        (math.inf, "+Inf"),
        (-math.inf, "-Inf"),
        (1e300, "1e+300"),
    ],
)
def test_values(value: float, written: str) -> None:
    assert render([Metric("m", "gauge", "h", (({}, value),))]).splitlines()[2] == f"m {written}"


def test_several_labels_keep_their_order() -> None:
    text = render([Metric("m", "gauge", "h", (({"b": "1", "a": "2"}, 1.0),))])
    assert text.splitlines()[2] == 'm{b="1",a="2"} 1'


@pytest.mark.parametrize(
    ("name", "labels"),
    [("1bad", {}), ("bad-name", {}), ("ok", {"bad-label": "x"}), ("ok", {"__reserved": "x"})],
)
def test_invalid_names_are_refused(name: str, labels: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="invalid"):
        render([Metric(name, "gauge", "h", ((labels, 1.0),))])


def test_nothing_renders_as_empty_text() -> None:
    assert render([]) == ""


# --- start of day ------------------------------------------------------------------------


def test_today_starts_at_the_local_midnight() -> None:
    # 17:00 UTC on 1 May is 01:00 on 2 May in Shanghai: its day began 16:00 UTC on 1 May.
    now = dt.datetime(2024, 5, 1, 17, 0, tzinfo=dt.UTC)
    since = start_of_day(now, SHANGHAI)
    assert since == dt.datetime(2024, 5, 1, 16, 0, tzinfo=dt.UTC)
    assert since.isoformat() == "2024-05-02T00:00:00+08:00"
    assert start_of_day(now, ZoneInfo("UTC")) == dt.datetime(2024, 5, 1, tzinfo=dt.UTC)


# --- merge -------------------------------------------------------------------------------


def day(
    offered: int,
    answered: int,
    abandoned: int,
    overflowed: int,
    waiting: int,
    avg: float | None,
    sl: float | None,
) -> QueueDay:
    return QueueDay(
        offered=offered,
        answered=answered,
        answered_within=0,
        abandoned=abandoned,
        overflowed=overflowed,
        breached=1 if offered else 0,
        waiting=waiting,
        avg_answer_s=avg,
        service_level=sl,
    )


TODAY = Today(
    since=SINCE,
    queues={
        "general": QueueToday(**day(6, 4, 1, 1, 1, 20.0, 0.4), service_level_s=10),
        "emergency": QueueToday(**day(0, 0, 0, 0, 0, None, None), service_level_s=5),
    },
    totals=day(6, 4, 1, 1, 1, 20.0, 0.4),
    callbacks_due=2,
)

SNAPSHOT = FloorSnapshot(
    seq=9,
    at=AT,
    calls=(),
    operators=(
        LiveOperator(1, "on_call", None, True, 1),
        LiveOperator(2, "paused", "rang_out", True, 0),
        LiveOperator(3, "logged_out", None, False, 0),
    ),
    queues=(
        LiveQueue("emergency", 2, 3.0, 0),
        LiveQueue("general", 1, 42.5, 1),
        LiveQueue("night", 0, 0.0, 0),  # live calls know it, not yet the database
    ),
    callbacks=(),
    alerts=(
        LiveAlert(
            "unpublished:CN:2027",
            "unpublished",
            AT,
            country="CN",
            year=2027,
            days_left=24,
            refusals=2,
        ),
    ),
)


def queue(
    waiting: int,
    longest: float,
    figures: tuple[int, int, int, int],
    sl: float | None,
    avg: float | None,
    threshold: int | None,
    callbacks: int = 0,
) -> dict[str, object]:
    offered, answered, abandoned, overflowed = figures
    return {
        "waiting": waiting,
        "longest_wait_s": longest,
        "callbacks_waiting": callbacks,
        "breached_today": 1 if offered else 0,
        "offered_today": offered,
        "answered_today": answered,
        "abandoned_today": abandoned,
        "overflowed_today": overflowed,
        "service_level_today": sl,
        "avg_answer_s": avg,
        "service_level_s": threshold,
    }


def test_merge_lays_today_over_the_live_floor() -> None:
    view = merge(SNAPSHOT, TODAY, AT).model_dump(mode="json")
    assert view == {
        "at": "2024-05-02T09:30:00+08:00",
        "since": "2024-05-02T00:00:00+08:00",
        "queues": {
            "emergency": queue(2, 3.0, (0, 0, 0, 0), None, None, 5),
            "general": queue(1, 42.5, (6, 4, 1, 1), 0.4, 20.0, 10, callbacks=1),
            "night": queue(0, 0.0, (0, 0, 0, 0), None, None, None),
        },
        "operators": {
            "1": {"state": "on_call", "reason": None, "reachable": True, "calls": 1},
            "2": {"state": "paused", "reason": "rang_out", "reachable": True, "calls": 0},
            "3": {"state": "logged_out", "reason": None, "reachable": False, "calls": 0},
        },
        "totals": {
            **queue(3, 42.5, (6, 4, 1, 1), 0.4, 20.0, None, callbacks=1),
            "callbacks_due": 2,
        },
        "alerts": [
            {
                "key": "unpublished:CN:2027",
                "kind": "unpublished",
                "country": "CN",
                "year": 2027,
                "since": "2024-05-02T09:30:00+08:00",
                "days_left": 24,
                "differences": 0,
                "refusals": 2,
                "operator_id": None,
                "until": None,
                "count": 0,
            }
        ],
    }


def test_merge_without_live_calls_shows_the_database_queues_idle() -> None:
    view = merge(empty_snapshot(), TODAY, AT).model_dump(mode="json")
    assert view["operators"] == {}
    assert view["queues"]["general"] == queue(0, 0.0, (6, 4, 1, 1), 0.4, 20.0, 10)
    assert view["totals"]["waiting"] == 0
    assert view["totals"]["longest_wait_s"] == 0.0


# --- collect -----------------------------------------------------------------------------


def parse(text: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """Simple label values only (the ones these tests use)."""
    out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        series, value = line.rsplit(" ", 1)
        name, _, labels = series.partition("{")
        pairs = tuple(
            (k, v.strip('"'))
            for k, v in (p.split("=", 1) for p in labels.rstrip("}").split(",") if p)
        )
        out.setdefault(name, {})[pairs] = float(value)
    return out


def test_collect_turns_the_view_into_metrics() -> None:
    view: FloorReply = merge(SNAPSHOT, TODAY, AT)
    text = render(collect(view, {"live_calls": 3, "records_queued": 12, "status": "ok"}))
    families = [line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")]
    assert families == [
        "hotline_queue_waiting",
        "hotline_queue_longest_wait_seconds",
        "hotline_operators",
        "hotline_calls_offered_today",
        "hotline_calls_answered_today",
        "hotline_calls_abandoned_today",
        "hotline_calls_overflowed_today",
        "hotline_answer_clock_breaches_today",
        "hotline_callbacks_waiting",
        "hotline_service_level_today",
        "hotline_answer_seconds_avg_today",
        "hotline_callbacks_due",
        "hotline_calendar_alerts",
        "hotline_live_calls",
        "hotline_event_subscribers",
        "hotline_records_queued",
    ]
    assert all(
        line.split()[3] == "gauge" for line in text.splitlines() if line.startswith("# TYPE")
    )
    m = parse(text)
    q = (("queue", "general"),)
    assert m["hotline_queue_waiting"] == {
        (("queue", "emergency"),): 2,
        q: 1,
        (("queue", "night"),): 0,
    }
    assert m["hotline_queue_longest_wait_seconds"][q] == 42.5
    assert m["hotline_operators"] == {
        (("state", "logged_out"),): 1,
        (("state", "ready"),): 0,
        (("state", "offered"),): 0,
        (("state", "on_call"),): 1,
        (("state", "wrap_up"),): 0,
        (("state", "paused"),): 1,
    }
    assert m["hotline_calls_offered_today"][q] == 6
    assert m["hotline_calls_answered_today"][q] == 4
    assert m["hotline_calls_abandoned_today"][q] == 1
    assert m["hotline_calls_overflowed_today"][q] == 1
    assert m["hotline_answer_clock_breaches_today"][q] == 1
    assert m["hotline_callbacks_waiting"][q] == 1
    assert m["hotline_service_level_today"][q] == 0.4
    assert math.isnan(m["hotline_service_level_today"][(("queue", "emergency"),)])
    assert m["hotline_answer_seconds_avg_today"][q] == 20.0
    assert math.isnan(m["hotline_answer_seconds_avg_today"][(("queue", "night"),)])
    assert m["hotline_callbacks_due"] == {(): 2}
    assert m["hotline_calendar_alerts"] == {
        (("kind", "unpublished"),): 1,
        (("kind", "conflict"),): 0,
    }
    assert m["hotline_live_calls"] == {(): 3}
    assert m["hotline_records_queued"] == {(): 12}


def test_health_without_numbers_leaves_those_metrics_without_samples() -> None:
    text = render(collect(merge(empty_snapshot(), TODAY, AT), {"status": "ok", "live_calls": None}))
    assert "# TYPE hotline_live_calls gauge\n# HELP hotline_event_subscribers" in text
    assert "# TYPE hotline_event_subscribers gauge\n# HELP hotline_records_queued" in text
    assert text.endswith("# TYPE hotline_records_queued gauge\n")
    operators = [line for line in text.splitlines() if line.startswith("hotline_operators{")]
    assert operators == [
        f'hotline_operators{{state="{s}"}} 0'
        for s in ("logged_out", "ready", "offered", "on_call", "wrap_up", "paused")
    ]
