"""What each way of supervising means for the snoop channel on the operator's leg. Pure.

The snoop hears both directions of the operator's leg (`spy` both: the caller, as the
operator hears them, and the operator), so the supervisor always hears the whole
conversation. Where the supervisor's own voice goes is the snoop's `whisper`:

    listen   none   nobody hears the supervisor
    whisper  out    mixed into what the operator hears; the caller does not hear it
    barge    both   mixed into what the operator hears and into what the operator says,
                    so the caller hears it too (through the call's bridge)

Barging this way leaves the call's own bridge alone (two members, as the call's task and a
restarted service expect). Asterisk feeds spies before it mixes whispers in, so the
supervisor never hears themselves back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from hotline.core.events import SupervisionMode

Mode = SupervisionMode
MODES: tuple[Mode, ...] = get_args(SupervisionMode)
Direction = Literal["none", "in", "out", "both"]


@dataclass(frozen=True)
class SnoopArgs:
    spy: Direction
    whisper: Direction


_WHISPER: dict[Mode, Direction] = {"listen": "none", "whisper": "out", "barge": "both"}


def snoop_args(mode: Mode) -> SnoopArgs:
    """The snoop channel a mode needs (see the table above)."""
    return SnoopArgs(spy="both", whisper=_WHISPER[mode])


def needs_new_snoop(current: Mode, wanted: Mode) -> bool:
    """A snoop's directions are fixed when it is made: another mode needs another snoop
    (the supervisor's leg stays where it is, nobody is rung again)."""
    return snoop_args(current) != snoop_args(wanted)
