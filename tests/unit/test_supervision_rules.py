"""The pure decisions of supervision: what each mode asks of the snoop channel, and who may
supervise whom."""

from __future__ import annotations

import pytest

from hotline.supervision.checks import Busy, SupervisorRow, start_refusal, supervisor_refusal
from hotline.supervision.modes import MODES, Mode, SnoopArgs, needs_new_snoop, snoop_args


@pytest.mark.parametrize(
    ("mode", "args"),
    [
        ("listen", SnoopArgs(spy="both", whisper="none")),  # nobody hears the supervisor
        ("whisper", SnoopArgs(spy="both", whisper="out")),  # the operator only
        ("barge", SnoopArgs(spy="both", whisper="both")),  # the operator, and the caller
    ],
)
def test_each_mode_snoops_both_ways_and_whispers_where_it_says(mode: Mode, args: SnoopArgs) -> None:
    assert snoop_args(mode) == args


def test_the_modes_are_the_three_the_api_offers() -> None:
    assert MODES == ("listen", "whisper", "barge")


def test_another_mode_needs_another_snoop_the_same_does_not() -> None:
    for current in MODES:
        for wanted in MODES:
            assert needs_new_snoop(current, wanted) is (current != wanted)


SUPERVISOR = SupervisorRow(id=9, active=True, role="supervisor", endpoint="t9")


@pytest.mark.parametrize(
    ("row", "why"),
    [
        (SUPERVISOR, None),
        (None, "no such active operator"),
        (SupervisorRow(9, False, "supervisor", "t9"), "no such active operator"),
        (
            SupervisorRow(9, True, "operator", "t9"),
            "that operator does not have the supervisor role",
        ),
        (SupervisorRow(9, True, "supervisor", None), "that supervisor has no softphone"),
        (SupervisorRow(9, True, "supervisor", ""), "that supervisor has no softphone"),
    ],
)
def test_who_can_supervise(row: SupervisorRow | None, why: str | None) -> None:
    assert supervisor_refusal(row) == why


@pytest.mark.parametrize(
    ("operator", "supervisor", "on_calls", "running", "why"),
    [
        (1, 9, 0, [], None),
        (1, 9, 0, [Busy(2, 8)], None),  # others supervising others
        (9, 9, 0, [], "a supervisor cannot supervise themselves"),
        (1, 9, 0, [Busy(1, 9)], "the supervisor is already supervising this operator"),
        (1, 9, 0, [Busy(2, 9)], "the supervisor is already supervising another operator"),
        (1, 9, 1, [], "the supervisor is on a call"),
        (1, 9, 0, [Busy(1, 8)], None),  # two supervisors may listen to one operator
    ],
)
def test_when_a_supervision_can_start(
    operator: int, supervisor: int, on_calls: int, running: list[Busy], why: str | None
) -> None:
    assert start_refusal(operator, supervisor, on_calls, running) == why
