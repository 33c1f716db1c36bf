"""What the API asks of a call in an emergency (answered by the call's own task)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hotline.calls.messages import Request


@dataclass
class Confirm(Request):
    """The operator confirms the emergency: 120, the family and the parties are called."""


@dataclass
class RepeatSummary(Request):
    """Play the spoken summary of the elder into the conference again."""


@dataclass
class OperatorStep(Request):
    """The operator steps out of the conference (hears music) or back in."""

    action: Literal["out", "in"] = "out"


@dataclass
class EndConference(Request):
    """Hang everyone up: help has arrived, the case goes on without the call."""


EMERGENCY_REQUESTS = (Confirm, RepeatSummary, OperatorStep, EndConference)
