"""When to try a callback again, and what a dialled number's end means. Pure."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from hotline.core.words import BUSY_CAUSES, NO_ANSWER_CAUSES

Outcome = Literal["answered", "no_answer", "busy", "failed", "operator_left"]


def outcome_of(cause: int | None) -> Outcome:
    """A callee leg that ended unanswered, by its Q.850 cause."""
    if cause in BUSY_CAUSES:
        return "busy"
    if cause in NO_ANSWER_CAUSES or cause is None:
        return "no_answer"
    return "failed"


@dataclass(frozen=True)
class Next:
    """After an attempt: due again at `due_at` as attempt `attempt`, or closed as `closed`."""

    attempt: int
    due_at: dt.datetime | None
    closed: Literal["talked", "given_up"] | None


def after(
    attempt: int, outcome: Outcome, *, max_attempts: int, spacing_s: int, at: dt.datetime
) -> Next:
    """What follows attempt number `attempt` (1-based) ending with `outcome`.

    Someone talked: done. The operator left before the callee answered: the same attempt
    again at once (the callee was never really tried). Otherwise the next attempt after the
    queue's spacing, until the last one has been made: given up.
    """
    if outcome == "answered":
        return Next(attempt, None, "talked")
    if outcome == "operator_left":
        return Next(attempt, at, None)
    if attempt >= max_attempts:
        return Next(attempt, None, "given_up")
    return Next(attempt + 1, at + dt.timedelta(seconds=spacing_s), None)
