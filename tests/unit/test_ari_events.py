"""parse_event: good events, unknown types, malformed known types, recorded fixtures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hotline.ari import (
    EVENT_TYPES,
    ApplicationReplaced,
    ChannelDestroyed,
    ChannelDtmfReceived,
    ChannelHangupRequest,
    ChannelVarset,
    Dial,
    EventParseError,
    PeerStatusChange,
    PlaybackFinished,
    StasisStart,
    UnknownEvent,
    parse_event,
)

FIXTURES = Path(__file__).parent / "fixtures" / "ari_events"

CALLER_NAME = "Anna Example"
CHANNEL: dict[str, Any] = {
    "id": "1700000000.42",
    "name": "PJSIP/caller-00000001",
    "state": "Up",
    "caller": {"name": CALLER_NAME, "number": "5551234"},
    "connected": {"name": "", "number": ""},
    "accountcode": "",
    "dialplan": {"context": "hotline", "exten": "100", "priority": 3},
    "creationtime": "2025-01-02T10:00:00.123+0000",
    "language": "en",
}
BASE = {"application": "hotline", "timestamp": "2025-01-02T10:00:01.000+0000"}


def event(type_: str, **fields: Any) -> dict[str, Any]:
    return {"type": type_, **BASE, "asterisk_id": "52:54:00:12:34:56", **fields}


def test_stasis_start() -> None:
    ev = parse_event(event("StasisStart", args=["hotline", "main"], channel=CHANNEL))
    assert isinstance(ev, StasisStart)
    assert ev.args == ["hotline", "main"]
    assert ev.channel.caller.name == CALLER_NAME
    assert ev.replace_channel is None
    assert ev.timestamp.year == 2025 and ev.asterisk_id == "52:54:00:12:34:56"


@pytest.mark.parametrize(
    ("raw", "cls", "check"),
    [
        (
            event("ChannelDestroyed", channel=CHANNEL, cause=16, cause_txt="Normal Clearing"),
            ChannelDestroyed,
            lambda e: e.cause == 16,
        ),
        (
            event("ChannelHangupRequest", channel=CHANNEL),
            ChannelHangupRequest,
            lambda e: e.cause is None and e.soft is None,
        ),
        (
            event("ChannelDtmfReceived", channel=CHANNEL, digit="5", duration_ms=120),
            ChannelDtmfReceived,
            lambda e: e.digit == "5",
        ),
        (
            event("Dial", peer=CHANNEL, dialstatus="ANSWER"),
            Dial,
            lambda e: e.caller is None and e.dialstatus == "ANSWER",
        ),
        (
            event("ChannelVarset", variable="GLOBAL_X", value="1"),
            ChannelVarset,
            lambda e: e.channel is None,
        ),
        (
            {"type": "ApplicationReplaced", "application": "hotline"},
            ApplicationReplaced,
            lambda e: e.timestamp is not None,
        ),
        (
            event(
                "PlaybackFinished",
                playback={
                    "id": "pb-1",
                    "media_uri": "sound:hello",
                    "target_uri": "channel:c1",
                    "state": "done",
                },
            ),
            PlaybackFinished,
            lambda e: e.playback.state == "done",
        ),
        (
            event(
                "PeerStatusChange",
                endpoint={"technology": "PJSIP", "resource": "op1", "state": "online"},
                peer={"peer_status": "Reachable"},
            ),
            PeerStatusChange,
            lambda e: e.peer.peer_status == "Reachable",
        ),
    ],
)
def test_known_events(raw: dict[str, Any], cls: type, check: Any) -> None:
    ev = parse_event(raw)
    assert type(ev) is cls
    assert check(ev)


def test_unknown_type_is_kept_not_rejected() -> None:
    raw = event("ChannelTalkingStarted", channel=CHANNEL)
    ev = parse_event(raw)
    assert isinstance(ev, UnknownEvent)
    assert ev.type == "ChannelTalkingStarted" and ev.application == "hotline"
    assert ev.raw == raw
    assert isinstance(parse_event({"no": "type"}), UnknownEvent)


def test_malformed_known_event_names_type_and_field_but_not_values() -> None:
    bad_channel = {**CHANNEL, "dialplan": {**CHANNEL["dialplan"], "priority": "first"}}
    with pytest.raises(EventParseError) as info:
        parse_event(event("StasisStart", channel=bad_channel))  # and no args
    err = info.value
    assert isinstance(err, ValueError)
    assert err.event_type == "StasisStart"
    message = str(err)
    assert "StasisStart" in message
    assert "args" in message and "channel.dialplan.priority" in message
    assert "first" not in message and CALLER_NAME not in message
    assert err.__cause__ is None and err.__context__ is None  # pydantic's text has values


def test_recorded_fixtures_parse_to_known_models() -> None:
    files = sorted(FIXTURES.glob("*.json")) if FIXTURES.is_dir() else []
    if not files:
        pytest.skip(f"no recorded ARI events in {FIXTURES}")
    for path in files:
        raw = json.loads(path.read_text(encoding="utf-8"))
        ev = parse_event(raw)  # EventParseError fails the test, naming type and field
        assert ev.type == raw["type"], path.name
        if raw["type"] in EVENT_TYPES:
            assert type(ev) is EVENT_TYPES[raw["type"]], path.name
        else:
            assert isinstance(ev, UnknownEvent), path.name
