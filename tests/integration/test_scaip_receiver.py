"""The SCAIP receiver on a real UDP socket, with SIPp on the terminal gateway's address
(127.0.0.3) sending real alarm MESSAGEs (tests/sipp/scaip_message.xml). Needs SIPp only:
no Asterisk, no PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hotline.alarms.receiver import AlarmReceiver
from hotline.alarms.scaip import CONTENT_TYPE, Alarm, Snu
from tests.integration import sipp
from tests.integration.sipp import TERMINAL_GATEWAY_IP, SippRun

pytestmark = pytest.mark.integration

ELDER = "13800000001"
KITCHEN = "厨房"
Seen = list[tuple[Alarm, tuple[str, int]]]


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[AlarmReceiver, Seen]]:
    seen: Seen = []
    rx = AlarmReceiver(lambda alarm, source: seen.append((alarm, source)))
    await rx.start("127.0.0.1", 0)
    try:
        yield rx, seen
    finally:
        await rx.stop()


async def send(rx: AlarmReceiver, body: str, expect_snu: int, log: Path) -> SippRun:
    """One MESSAGE from the gateway's address; SIPp fails unless the 200's snu is expected."""
    assert rx.address is not None
    host, port = rx.address
    return await sipp.message(
        f"{host}:{port}", body, content_type=CONTENT_TYPE, log=log, expect_snu=expect_snu
    )


GOOD = (
    "<mrq><ref>7A00F1</ref><mty>ME</mty><cid>26317</cid><dty>0005</dty><did>02</did>"
    f"<crd>gsm:+86{ELDER}</crd><stc>0009</stc><pri>1</pri><lco>021</lco><lte>{KITCHEN}</lte>"
    "<lge><geo>39.9042,116.4074</geo></lge></mrq>"
)


async def test_good_alarm(receiver: tuple[AlarmReceiver, Seen], tmp_path: Path) -> None:
    rx, seen = receiver
    run = await send(rx, GOOD, Snu.OK, tmp_path / "sipp.log")
    assert run.ok, run.output
    assert (tmp_path / "sipp.log").read_text().split() == ["snu", "0"]
    [(alarm, source)] = seen
    assert source[0] == TERMINAL_GATEWAY_IP
    assert (alarm.ref, alarm.kind, alarm.caller_id, alarm.controller_id) == (
        "7A00F1",
        "alarm",
        ELDER,
        "26317",
    )
    assert (alarm.device_type, alarm.device_id, alarm.status_code, alarm.alarm_type) == (
        5,
        "02",
        9,
        "fall",
    )
    assert (alarm.priority, alarm.location_code, alarm.location_text) == (1, 21, KITCHEN)
    assert (alarm.latitude, alarm.longitude) == (39.9042, 116.4074)


MALFORMED = [
    pytest.param(GOOD.replace("<ref>7A00F1</ref>", ""), Snu.MANDATORY_TAG_MISSING, id="no-ref"),
    pytest.param(GOOD.replace("39.9042,116.4074", "139.9,116.4"), Snu.WRONG_DATA_CONTENT, id="geo"),
    pytest.param(GOOD.replace("<stc>0009</stc>", "<stc>fall</stc>"), 3, id="stc"),
    pytest.param(f"alarm! {ELDER} {KITCHEN}", Snu.INVALID_FORMAT, id="not-xml"),
    pytest.param(
        '<!DOCTYPE mrq [<!ENTITY x "x">]>' + GOOD.replace(KITCHEN, "&x;"), 2, id="doctype"
    ),
]


@pytest.mark.parametrize(("body", "snu"), MALFORMED)
async def test_malformed_alarm(
    receiver: tuple[AlarmReceiver, Seen],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    body: str,
    snu: int,
) -> None:
    rx, seen = receiver
    caplog.set_level(logging.DEBUG)
    run = await send(rx, body, snu, tmp_path / "sipp.log")
    assert run.ok, run.output
    assert (tmp_path / "sipp.log").read_text().split() == ["snu", str(snu)]
    assert seen == []
    refused = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(refused) == 1 and f"snu={snu}" in refused[0].getMessage()
    assert TERMINAL_GATEWAY_IP in refused[0].getMessage()
    for personal in (ELDER, KITCHEN, "39.9", "116.4", "<mrq>", "alarm!"):
        assert personal not in caplog.text


async def test_scenario_fails_on_another_snu(
    receiver: tuple[AlarmReceiver, Seen], tmp_path: Path
) -> None:
    """The scenario's check is real: the good alarm, expected to be refused, fails SIPp."""
    rx, _ = receiver
    run = await send(rx, GOOD, Snu.MANDATORY_TAG_MISSING, tmp_path / "sipp.log")
    assert not run.ok
