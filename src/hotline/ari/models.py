"""Pydantic models of ARI resources (Asterisk 22).

Models are frozen and keep fields they do not know (``model_extra``) so a newer Asterisk
does not break parsing. Fields Asterisk may omit are optional.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AriModel(BaseModel):
    """Base of all ARI resource and event models."""

    model_config = ConfigDict(extra="allow", frozen=True)


class CallerID(AriModel):
    name: str = ""
    number: str = ""


class DialplanCEP(AriModel):
    context: str = ""
    exten: str = ""
    priority: int = 0
    app_name: str = ""
    app_data: str = ""


class Channel(AriModel):
    id: str
    name: str
    state: str
    caller: CallerID = Field(default_factory=CallerID)
    connected: CallerID = Field(default_factory=CallerID)
    accountcode: str = ""
    dialplan: DialplanCEP = Field(default_factory=DialplanCEP)
    creationtime: datetime | None = None
    language: str = ""
    protocol_id: str | None = None
    channelvars: dict[str, str] | None = None
    caller_rdnis: str | None = None
    tenantid: str | None = None
    linkedid: str | None = None
    """Not part of the ARI Channel model; present only if a newer Asterisk sends it."""


class Bridge(AriModel):
    id: str
    technology: str = ""
    bridge_type: str = ""
    bridge_class: str = ""
    creator: str = ""
    name: str = ""
    channels: list[str] = Field(default_factory=list)
    creationtime: datetime | None = None
    video_mode: str | None = None
    video_source_id: str | None = None


class Playback(AriModel):
    id: str
    media_uri: str
    target_uri: str
    state: str
    next_media_uri: str | None = None
    language: str | None = None


class Application(AriModel):
    name: str
    channel_ids: list[str] = Field(default_factory=list)
    bridge_ids: list[str] = Field(default_factory=list)
    endpoint_ids: list[str] = Field(default_factory=list)
    device_names: list[str] = Field(default_factory=list)
    events_allowed: list[dict[str, Any]] = Field(default_factory=list)
    events_disallowed: list[dict[str, Any]] = Field(default_factory=list)


class Endpoint(AriModel):
    technology: str
    resource: str
    state: str | None = None
    channel_ids: list[str] = Field(default_factory=list)


class DeviceState(AriModel):
    name: str
    state: str


class ContactInfo(AriModel):
    uri: str
    contact_status: str
    aor: str
    roundtrip_usec: str | None = None


class Peer(AriModel):
    peer_status: str
    cause: str | None = None
    address: str | None = None
    port: str | None = None
    time: str | None = None


class ConfigTuple(AriModel):
    """One attribute of a configuration object (ARI push configuration)."""

    attribute: str
    value: str
