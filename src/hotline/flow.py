"""The call flow: which feature handles each phase of a call (calls/phases.py).

The one place that knows them all; the switchboard is given this table and runs whatever
handler the phase of a call names. A new phase (the emergency conference) is one more line.
"""

from __future__ import annotations

from hotline.callbacks.dialer import Dialer
from hotline.callbacks.scheduler import Scheduler
from hotline.calls.controls import Controls, HangUp, Hold
from hotline.calls.intake import CaseOwner, Identified, Identify, Intake
from hotline.calls.phases import (
    Arriving,
    Conference,
    Consulting,
    Dialing,
    Greeting,
    Queued,
    Ringing,
    Routing,
    Surveying,
    Talking,
)
from hotline.calls.ports import Voice
from hotline.calls.session import Phase
from hotline.calls.talk import Talk
from hotline.emergency.conference import Emergencies
from hotline.emergency.requests import Confirm
from hotline.queues.desk import Desk
from hotline.queues.entry import Entry
from hotline.queues.waiting import Waiting
from hotline.supervision.requests import OperatorLeg, operator_leg
from hotline.survey.keys import DEFAULT_WAIT_S
from hotline.survey.requests import Survey, SurveyPrompts
from hotline.survey.stasis import Surveys
from hotline.transfers.requests import Transfer, TransferStep
from hotline.transfers.service import Transfers


def phase_handlers(
    *,
    desk: Desk,
    scheduler: Scheduler,
    identify: Identify,
    callback_ring_s: int,
    emergencies: Emergencies,
    identified: Identified | None = None,
    voice: Voice | None = None,
    case_owner: CaseOwner | None = None,
    survey_prompts: SurveyPrompts | None = None,
    survey_wait_s: float = DEFAULT_WAIT_S,
) -> dict[type, Phase]:
    intake = Intake(identify, identified, case_owner, lobby=desk)
    transfers = Transfers(desk, voice)
    waiting = Waiting(desk, escalation=emergencies, voice=voice)
    controls = Controls(desk)
    surveys = Surveys(desk, survey_prompts, wait_s=survey_wait_s)
    talk = Talk(
        desk,
        {
            Hold: controls.on_hold,  # calls/controls.py: the console's hold, resume, hang up
            HangUp: controls.on_hang_up,
            Transfer: transfers.on_transfer,
            TransferStep: transfers.on_step,
            Confirm: emergencies.on_confirm,
            OperatorLeg: operator_leg,  # supervision/: the leg a supervisor snoops on
            Survey: surveys.on_survey,  # survey/: the operator leaves, the caller answers
        },
    )
    return {
        Arriving: intake,  # calls/intake.py: answer, greet, identify, open the case
        Greeting: intake,
        Routing: Entry(desk),  # queues/entry.py: the line's queue, its hours
        Queued: waiting,  # queues/waiting.py: music, offers, overflow
        Ringing: waiting,
        Talking: talk,  # calls/talk.py: bridged; requests such as transfers
        Consulting: transfers,  # transfers/service.py: attended transfer
        Surveying: surveys,  # survey/stasis.py: the satisfaction survey on the keypad (R21)
        Dialing: Dialer(desk, scheduler.report, scheduler.claims, callback_ring_s),  # callbacks/
        Conference: emergencies,  # emergency/conference.py: 120, the family, one bridge
    }
