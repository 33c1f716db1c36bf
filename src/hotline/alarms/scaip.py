"""SCAIP (SS 91100:2014, CLC/TS 50134-9): the alarm data a terminal sends in a SIP MESSAGE
as `application/scaip+xml`, and the answer to it.

A request is an `<mrq>` of short elements; the receiver answers with an `<mrs>` carrying the
request's `ref` and a status number `snu` (0 = OK). The standard itself is sold by SIS; the
names and codes here are those that public implementations agree on (an XSD-generated model,
proxies and receivers on GitHub, the IANA registration of the media type):

    ref  reference, echoed in the mrs (required)     cid  controller id, digits (required)
    dty  device type code (required)                  did  device id
    mty  message type: ME alarm, RE reset,            crd  caller reference, e.g.
         IN information, PI heartbeat (default ME)         "gsm:+8613800000001", "tel:...",
    stc  status code, 1-4 digits                           "sip:user@host", "no-voice:"
    pri  priority, one digit                          lco  location code, 1-3 digits
    lte  location text                                lge  geo position: <geo>lat,lon</geo>

The caller's number is read from `crd` (gsm:/tel:/sip: user part); `cid` is the controller's
id, which many terminals set to their own SIM number, so it is the fallback when no `crd`
carries a number. Unknown elements are ignored (vendors add their own); known ones are checked.

What an alarm is about is read from the device type and the status code together (a fall is
an "automatic alarm" from a fall detector), see `classify`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from enum import IntEnum
from xml.sax.saxutils import escape

from hotline.core.phone import try_normalise

CONTENT_TYPE = "application/scaip+xml"
MAX_BODY = 8 * 1024


class Snu(IntEnum):
    """Status numbers of an `<mrs>`."""

    OK = 0
    MESSAGE_TOO_LONG = 1
    INVALID_FORMAT = 2  # not XML, not an mrq, DTD or entities
    WRONG_DATA_CONTENT = 3  # a known element with a value it cannot have
    HOLD = 4
    NOT_TREATED = 5
    BUSY = 6
    MANDATORY_TAG_MISSING = 7  # ref, cid or dty missing


class BadAlarm(ValueError):
    """The body is not a usable mrq; `status` is the snu to answer with. `reason` names what
    is wrong and never carries a value from the body."""

    def __init__(self, status: int, reason: str, ref: str | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.ref = ref


# Message types (mty) and the word an Alarm carries for each.
KINDS = {"ME": "alarm", "RE": "reset", "IN": "info", "PI": "heartbeat"}

# What an alarm is about: the word in Alarm.alarm_type.
BUTTON, FALL, SMOKE, GAS, INACTIVITY, TECHNICAL, CANCEL, OTHER = (
    "button",
    "fall",
    "smoke",
    "gas",
    "inactivity",
    "technical",
    "cancel",
    "other",
)

# Status codes (stc), as numbered by the standard.
_UNKNOWN_STATUS = {0, 1}  # unknown, undefined: the device type tells
_ALARM_STATUS = {9, 10, 11}  # automatic alarm, manual alarm, alert
_MANUAL_ALARM, _ASSISTANCE = 10, 110
_INACTIVE_STATUS = {69, 104}  # non-active, time out
_CANCEL_STATUS = {19, 92, 93, 111}  # cancel, automatic/manual reset, intervention complete
_TECHNICAL_STATUS = {
    14, 15, 16,  # battery failure, ok, low
    23, 24, 25, 26, 27, 112, 113, 114, 115, 116,  # IP/mobile/POTS/primary/redundant link down, up
    31, 32, 33, 34, 35, 36, 37, 38, 39, 40,  # disconnected, error codes 1-9
    42, 52, 63, 65, 66, 67, 68,  # failure, jammed, loss, maintenance, malfunction, memory full
    73, 75, 78, 85, 86, 91, 94, 95,  # offline, online, out of service, power, restoral, RF
    102, 103, 105, 122, 123, 124, 125,  # test transmissions, trouble, radio, tamper
}  # fmt: skip
# Device types (dty).
_FALL_DEVICES = {5, 30}  # fall detector, automatic man-down detector
_SMOKE_DEVICES = {23, 25, 47}  # smoke detector, heat detector, fire alarm system
_GAS_DEVICES = {21, 26}  # gas detector, carbon monoxide detector
_INACTIVITY_DEVICES = {10, 18}  # activity detector, occupancy detector
# unknown, undefined, local unit + controller, personal trigger, fixed trigger, personal
# attack trigger, panic button, local unit
_BUTTON_DEVICES = {0, 1, 2, 3, 4, 6, 7, 48}


def classify(device_type: int, status_code: int) -> str:
    """The alarm type word for a device type (dty) and status code (stc).

    cancel     stc cancel / reset / intervention complete (19, 92, 93, 111)
    technical  battery, link, power, malfunction, test transmission, tamper (see above)
    button     stc assistance (110); an alarm from a trigger, panic button or the unit itself
    fall       an alarm from a fall or man-down detector (dty 5, 30)
    smoke      an alarm from a smoke or heat detector or a fire alarm system (dty 23, 25, 47)
    gas        an alarm from a gas or CO detector (dty 21, 26)
    inactivity stc non-active / time out (69, 104), or an alarm from an activity detector
    other      anything else (a door left open, a pill not taken, codes we do not know)

    "An alarm" is stc automatic alarm, manual alarm or alert (9, 10, 11), or unknown /
    undefined (0, 1) where the device type says what raised it.
    """
    if status_code in _CANCEL_STATUS:
        return CANCEL
    if status_code in _TECHNICAL_STATUS:
        return TECHNICAL
    if status_code == _ASSISTANCE:
        return BUTTON
    if status_code in _INACTIVE_STATUS:
        return INACTIVITY
    if status_code not in _ALARM_STATUS | _UNKNOWN_STATUS:
        return OTHER
    if device_type in _FALL_DEVICES:
        return FALL
    if device_type in _SMOKE_DEVICES:
        return SMOKE
    if device_type in _GAS_DEVICES:
        return GAS
    if device_type in _INACTIVITY_DEVICES:
        return INACTIVITY
    if device_type in _BUTTON_DEVICES or status_code == _MANUAL_ALARM:
        return BUTTON
    return OTHER


@dataclass(frozen=True)
class Alarm:
    """One mrq, checked. Fields that say who or where someone is stay out of repr()."""

    ref: str
    kind: str  # alarm | reset | info | heartbeat (mty)
    controller_id: str = field(repr=False)  # cid: often the terminal's own number
    caller_id: str | None = field(repr=False)  # normalised number, see the module docstring
    device_type: int
    device_id: str | None
    status_code: int  # 0 (unknown) when the mrq has no stc
    alarm_type: str  # see classify()
    priority: int | None
    location_code: int | None
    location_text: str | None = field(repr=False)
    latitude: float | None = field(repr=False)
    longitude: float | None = field(repr=False)


_REF = re.compile(r"[0-9A-Za-z._:\-]{1,64}")  # the standard: [0-9a-zA-Z]{1,16}
_CID = re.compile(r"\+?[0-9]{1,20}")
_CODE4 = re.compile(r"[0-9]{1,4}")
_CODE3 = re.compile(r"[0-9]{1,3}")
_DIGIT = re.compile(r"[0-9]")
_GEO = re.compile(r"\s*(-?[0-9]{1,3}(?:\.[0-9]+)?)\s*,\s*(-?[0-9]{1,3}(?:\.[0-9]+)?)\s*")
_LEAVES = {"ref", "cid", "dty", "did", "mty", "stc", "pri", "lco", "lte"}
_CALLER_SCHEMES = {"gsm", "tel", "sip", "sips"}
_MAX_TEXT = 128  # lte, did; the standard allows 32 (did 8), terminals here send Chinese text
_MAX_CRD = 256


def parse_mrq(body: bytes) -> Alarm:
    """Read and check an mrq; BadAlarm with the snu to answer when it is not usable."""
    mrq = _Mrq(_root(body))
    ref = mrq.ref
    controller_id = mrq.leaves["cid"]
    if not _CID.fullmatch(controller_id):
        raise BadAlarm(Snu.WRONG_DATA_CONTENT, "bad <cid>", ref)
    kind = KINDS.get(mrq.leaves.get("mty", "ME").upper())
    if kind is None:
        raise BadAlarm(Snu.WRONG_DATA_CONTENT, "bad <mty>", ref)
    device_type = mrq.code("dty", _CODE4) or 0  # required: present
    status_code = mrq.code("stc", _CODE4) or 0
    latitude, longitude = _position(mrq.geo, ref)
    return Alarm(
        ref=ref,
        kind=kind,
        controller_id=controller_id,
        caller_id=_caller(mrq.crds) or try_normalise(controller_id),
        device_type=device_type,
        device_id=mrq.text("did"),
        status_code=status_code,
        alarm_type=classify(device_type, status_code),
        priority=mrq.code("pri", _DIGIT),
        location_code=mrq.code("lco", _CODE3),
        location_text=mrq.text("lte"),
        latitude=latitude,
        longitude=longitude,
    )


def build_mrs(ref: str | None, snu: int, *, text: str | None = None) -> bytes:
    """The `<mrs>` answering the mrq `ref` (empty when the mrq had none we could read);
    `text` becomes `<ste>`, the status text. Never put personal data in it."""
    if not 0 <= snu <= 99999:
        raise ValueError("snu out of range")
    ste = f"<ste>{escape(text[:_MAX_TEXT])}</ste>" if text else ""
    return f"<mrs><ref>{escape(ref or '')}</ref><snu>{int(snu)}</snu>{ste}</mrs>".encode()


def _root(body: bytes) -> ET.Element:
    if len(body) > MAX_BODY:
        raise BadAlarm(Snu.MESSAGE_TOO_LONG, "body over 8 KiB")
    try:
        text = body.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise BadAlarm(Snu.INVALID_FORMAT, "not UTF-8") from None
    upper = text.upper()
    # No DTD, so no entity can be declared (and none expanded): refused before parsing.
    # NUL is not XML; refusing it also stops a UTF-16 body that would bypass this check.
    if "<!DOCTYPE" in upper or "<!ENTITY" in upper or "\x00" in text:
        raise BadAlarm(Snu.INVALID_FORMAT, "DTD, entity or NUL in body")
    try:
        root = ET.fromstring(text)  # noqa: S314 -- DTDs refused above, size bounded
    except ET.ParseError:
        raise BadAlarm(Snu.INVALID_FORMAT, "not XML") from None
    if _local(root.tag) != "mrq":
        raise BadAlarm(Snu.INVALID_FORMAT, "not an mrq")
    return root


class _Mrq:
    """The elements of an mrq we know, each at most once (crd may repeat); ref, cid and dty
    present, ref well-formed."""

    def __init__(self, root: ET.Element) -> None:
        self.leaves: dict[str, str] = {}
        self.crds: list[str] = []
        self.geo: str | None = None
        found = None  # the ref, once read, so that later errors can carry it
        for child in root:
            name = _local(child.tag)
            if name == "crd":
                self.crds.append(_text(child))
            elif name == "lge":
                if self.geo is not None:
                    raise BadAlarm(Snu.WRONG_DATA_CONTENT, "more than one <lge>", found)
                inner = next((c for c in child if _local(c.tag) == "geo"), None)
                self.geo = _text(inner if inner is not None else child)
            elif name in _LEAVES:
                if name in self.leaves:
                    raise BadAlarm(Snu.WRONG_DATA_CONTENT, f"more than one <{name}>", found)
                if len(child):
                    raise BadAlarm(Snu.WRONG_DATA_CONTENT, f"elements inside <{name}>", found)
                self.leaves[name] = _text(child)
                if name == "ref" and _REF.fullmatch(self.leaves[name]):
                    found = self.leaves[name]
        if not self.leaves.get("ref"):
            raise BadAlarm(Snu.MANDATORY_TAG_MISSING, "no <ref>")
        if found is None:
            raise BadAlarm(Snu.WRONG_DATA_CONTENT, "bad <ref>")
        self.ref: str = found
        for required in ("cid", "dty"):
            if not self.leaves.get(required):
                raise BadAlarm(Snu.MANDATORY_TAG_MISSING, f"no <{required}>", found)
        if any(len(crd) > _MAX_CRD for crd in self.crds):
            raise BadAlarm(Snu.WRONG_DATA_CONTENT, "<crd> too long", found)

    def code(self, name: str, pattern: re.Pattern[str]) -> int | None:
        value = self.leaves.get(name)
        if value is None:
            return None
        if not pattern.fullmatch(value):
            raise BadAlarm(Snu.WRONG_DATA_CONTENT, f"bad <{name}>", self.ref)
        return int(value)

    def text(self, name: str) -> str | None:
        value = self.leaves.get(name)
        if value is not None and len(value) > _MAX_TEXT:
            raise BadAlarm(Snu.WRONG_DATA_CONTENT, f"<{name}> too long", self.ref)
        return value or None


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]  # without a namespace, if a terminal sends one


def _text(element: ET.Element) -> str:
    return (element.text or "").strip()


def _caller(crds: list[str]) -> str | None:
    """The first number in a gsm:, tel: or sip: caller reference."""
    for crd in crds:
        scheme, _, rest = crd.partition(":")
        if scheme.strip().lower() in _CALLER_SCHEMES:
            user = rest.split("@", 1)[0].split(";", 1)[0]
            number = try_normalise(user)
            if number:
                return number
    return None


def _position(geo: str | None, ref: str) -> tuple[float | None, float | None]:
    """WGS 84 "latitude,longitude" in decimal degrees, as in `<lge><geo>`."""
    if not geo:
        return None, None
    match = _GEO.fullmatch(geo)
    if not match:
        raise BadAlarm(Snu.WRONG_DATA_CONTENT, "bad <lge>", ref)
    latitude, longitude = float(match[1]), float(match[2])
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise BadAlarm(Snu.WRONG_DATA_CONTENT, "<lge> out of range", ref)
    return latitude, longitude
