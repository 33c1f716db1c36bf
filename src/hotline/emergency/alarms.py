"""Alarm data from one-key terminals (SCAIP, received by hotline.alarms) put on cases.

Every alarm is recorded when it arrives. A terminal sends it just before its voice call or
while the call is already ringing: the data waits in the book for the call from the same
number (within the window) and is tied to that call's case when the case opens; an alarm
arriving after the call has started is tied to that call at once.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable

from hotline.alarms.book import AlarmBook
from hotline.alarms.scaip import Alarm
from hotline.calls.ports import Record
from hotline.calls.session import Call
from hotline.core.records import AlarmReceived, AlarmTied, CaseStep

log = logging.getLogger(__name__)
_NS = uuid.UUID("6f1d8c3e-54a7-4c1b-9a55-0c2f3d4e5a61")

LiveCall = Callable[[str], Call | None]
"""The call in progress from a number on the terminal line, if any (the switchboard)."""


def alarm_id(alarm: Alarm) -> uuid.UUID:
    """The same alarm sent twice (a retransmission) is one record."""
    return uuid.uuid5(_NS, f"{alarm.controller_id}/{alarm.ref}")


class AlarmDesk:
    def __init__(self, book: AlarmBook, record: Record, live_call: LiveCall) -> None:
        self._book = book
        self._record = record
        self._live_call = live_call

    def received(self, alarm: Alarm, source: tuple[str, int]) -> None:
        """The receiver's `on_alarm`: record it, then tie it to its call now or later."""
        at = dt.datetime.now(dt.UTC)
        self._record(
            AlarmReceived(
                alarm_id=alarm_id(alarm),
                at=at,
                ref=alarm.ref,
                caller_number=alarm.caller_id,
                device_type=str(alarm.device_type),
                device_id=alarm.device_id,
                status_code=alarm.status_code,
                alarm_type=alarm.alarm_type,
                priority=alarm.priority,
                location_code=None if alarm.location_code is None else str(alarm.location_code),
                location_text=alarm.location_text,
                latitude=alarm.latitude,
                longitude=alarm.longitude,
            )
        )
        log.info("alarm %s received (%s)", alarm_id(alarm), alarm.alarm_type)
        call = self._live_call(alarm.caller_id) if alarm.caller_id else None
        if call is not None:
            self._tie(call, alarm)
        else:
            self._book.add(alarm, source[0])

    def tie(self, call: Call) -> None:
        """Intake's hook once a case is open: the alarm its terminal sent, if any."""
        alarm = self._book.take(call.info.number)
        if alarm is not None:
            self._tie(call, alarm)

    def _tie(self, call: Call, alarm: Alarm) -> None:
        self._record(AlarmTied(alarm_id=alarm_id(alarm), case_id=call.info.case_id))
        self._record(
            CaseStep(
                case_id=call.info.case_id,
                at=dt.datetime.now(dt.UTC),
                kind="alarm_data",
                detail={
                    "alarm_id": str(alarm_id(alarm)),
                    "alarm_type": alarm.alarm_type,
                    "device_type": alarm.device_type,
                    "device_id": alarm.device_id,
                    "status_code": alarm.status_code,
                    "priority": alarm.priority,
                    "location_code": alarm.location_code,
                },
            )
        )
