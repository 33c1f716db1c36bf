"""ARI event models and :func:`parse_event`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import Field, ValidationError

from .models import (
    AriModel,
    Bridge,
    Channel,
    ContactInfo,
    DeviceState,
    Endpoint,
    Peer,
    Playback,
)


def _now() -> datetime:
    return datetime.now(UTC)


class Event(AriModel):
    """Fields common to every ARI event. A missing timestamp defaults to the receive time."""

    type: str
    application: str = ""
    timestamp: datetime = Field(default_factory=_now)
    asterisk_id: str | None = None


class StasisStart(Event):
    args: list[str]
    channel: Channel
    replace_channel: Channel | None = None


class StasisEnd(Event):
    channel: Channel


class ChannelStateChange(Event):
    channel: Channel


class ChannelHangupRequest(Event):
    channel: Channel
    cause: int | None = None
    soft: bool | None = None


class ChannelDestroyed(Event):
    channel: Channel
    cause: int
    cause_txt: str


class ChannelDtmfReceived(Event):
    channel: Channel
    digit: str
    duration_ms: int


class ChannelEnteredBridge(Event):
    bridge: Bridge
    channel: Channel | None = None


class ChannelLeftBridge(Event):
    bridge: Bridge
    channel: Channel


class BridgeDestroyed(Event):
    bridge: Bridge


class PlaybackStarted(Event):
    playback: Playback


class PlaybackFinished(Event):
    playback: Playback


class Dial(Event):
    peer: Channel
    dialstatus: str
    caller: Channel | None = None
    forward: str | None = None
    forwarded: Channel | None = None
    dialstring: str | None = None


class ChannelVarset(Event):
    variable: str
    value: str
    channel: Channel | None = None
    """Absent for a global variable."""


class ApplicationReplaced(Event):
    """Another WebSocket took over this application; this one gets no more events."""


class DeviceStateChanged(Event):
    device_state: DeviceState


class EndpointStateChange(Event):
    endpoint: Endpoint


class ContactStatusChange(Event):
    endpoint: Endpoint
    contact_info: ContactInfo


class PeerStatusChange(Event):
    endpoint: Endpoint
    peer: Peer


class UnknownEvent(Event):
    """An event type this library does not model; the payload is kept in ``raw``."""

    raw: dict[str, Any] = Field(default_factory=dict)


EVENT_TYPES: Mapping[str, type[Event]] = {
    cls.__name__: cls
    for cls in (
        StasisStart,
        StasisEnd,
        ChannelStateChange,
        ChannelHangupRequest,
        ChannelDestroyed,
        ChannelDtmfReceived,
        ChannelEnteredBridge,
        ChannelLeftBridge,
        BridgeDestroyed,
        PlaybackStarted,
        PlaybackFinished,
        Dial,
        ChannelVarset,
        ApplicationReplaced,
        DeviceStateChanged,
        EndpointStateChange,
        ContactStatusChange,
        PeerStatusChange,
    )
}
"""Modelled event types, by their ARI ``type``."""


class EventParseError(ValueError):
    """A known event type with missing or invalid fields.

    The message names the event type and the offending fields, never their values
    (they may be personal data such as a caller's name).
    """

    def __init__(self, event_type: str, fields: tuple[str, ...]) -> None:
        self.event_type = event_type
        self.fields = fields
        super().__init__(f"invalid {event_type} event: {', '.join(fields)}")


def parse_event(raw: Mapping[str, Any]) -> Event:
    """Return the typed model for ``raw``; :class:`UnknownEvent` for types not modelled.

    Raises :class:`EventParseError` when a modelled type fails validation. The pydantic
    error is deliberately not chained: its text contains the input values.
    """
    event_type = raw.get("type")
    if not isinstance(event_type, str) or (cls := EVENT_TYPES.get(event_type)) is None:
        return UnknownEvent.model_construct(
            type=event_type if isinstance(event_type, str) else "",
            application=str(raw.get("application", "")),
            timestamp=_now(),
            raw=dict(raw),
        )
    try:
        return cls.model_validate(raw)
    except ValidationError as err:
        fields = tuple(
            f"{'.'.join(str(p) for p in e['loc']) or '<root>'} ({e['type']})"
            for e in err.errors(include_url=False, include_input=False)
        )
    raise EventParseError(event_type, fields)
