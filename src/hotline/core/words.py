"""One home for the words every part of the hotline uses."""

from __future__ import annotations

from typing import Literal, get_args

Entry = Literal["hotline", "lifehelp", "terminal"]
"""Where a call came in: the dialplan's only Stasis argument."""
ENTRIES: frozenset[str] = frozenset(get_args(Entry))
CASE_CHANNELS = ("hotline", "lifehelp", "terminal", "web", "visit")
"""Where a case can come from (R2): the call entries, web requests, letters and visits."""

Role = Literal["admin", "supervisor", "operator"]
ROLES: tuple[Role, ...] = get_args(Role)

Strategy = Literal["longest_idle", "ring_all", "round_robin"]
STRATEGIES: tuple[Strategy, ...] = get_args(Strategy)

Availability = Literal["logged_out", "ready", "paused"]
"""What an operator (or a supervisor for them) sets."""
AVAILABILITIES: tuple[Availability, ...] = get_args(Availability)
OperatorState = Literal["logged_out", "ready", "offered", "on_call", "wrap_up", "paused"]
"""What the floor shows: availability plus what the calls make of it."""
OPERATOR_STATES: tuple[OperatorState, ...] = get_args(OperatorState)

SurveyOutcome = Literal["answered", "timeout", "invalid", "hung_up"]
"""How a satisfaction survey ended (R21): a score, or why none (table survey_answers)."""
SurveyVerdict = Literal["satisfied", "neutral", "dissatisfied"]
"""How the reports count a score: 4-5 satisfied, 3 neutral, 1-2 dissatisfied."""

FALLBACK = "fallback"
"""The dialplan's duty ring group: a queue's overflow target and the safe place for a call."""

# Priorities of waiting calls: higher first, then by arrival.
EMERGENCY = 10  # one-key terminals
NORMAL = 0  # callers on the line
CALLBACK = -10  # callbacks wait below every live caller


def priority_for(entry: str) -> int:
    """How a caller on `entry` ranks in a queue: one-key terminals before everyone."""
    return EMERGENCY if entry == "terminal" else NORMAL


Q850: dict[int, str] = {
    16: "Normal Clearing",
    17: "User busy",
    18: "No user responding",
    19: "No answer",
    21: "Call Rejected",
    31: "Normal, unspecified",
    34: "No circuit/channel available",
    127: "Interworking, unspecified",
}
NORMAL_CLEARING = 16
BUSY_CAUSES = frozenset({17})
NO_ANSWER_CAUSES = frozenset({18, 19})
