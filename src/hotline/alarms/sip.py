"""Just enough SIP (RFC 3261) over UDP to answer a request: one datagram read into a
SipRequest, and the response built for it. No dialogs; the receiver keeps the few responses
it needs to resend to retransmissions.

Header names are matched without regard to case, compact forms included (`v` Via, `f` From,
`t` To, `i` Call-ID, `c` Content-Type, `l` Content-Length, ...). Anything that is not a
well-formed request raises BadSip; nothing from it is kept or logged.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

MAX_DATAGRAM = 65_535
MAX_HEADERS = 100

COMPACT = {
    "a": "accept-contact",
    "b": "referred-by",
    "c": "content-type",
    "d": "request-disposition",
    "e": "content-encoding",
    "f": "from",
    "i": "call-id",
    "j": "reject-contact",
    "k": "supported",
    "l": "content-length",
    "m": "contact",
    "o": "event",
    "r": "refer-to",
    "s": "subject",
    "t": "to",
    "u": "allow-events",
    "v": "via",
    "x": "session-expires",
    "y": "identity",
}
_REQUIRED = ("via", "from", "to", "call-id", "cseq")
_TOKEN = re.compile(r"[A-Za-z0-9.!%*_+`'~\-]+")
_CSEQ = re.compile(r"([0-9]{1,10})\s+(" + _TOKEN.pattern + r")")
# Canonical spelling of the headers a response copies or adds.
_SPELLING = {"via": "Via", "from": "From", "to": "To", "call-id": "Call-ID", "cseq": "CSeq"}


class BadSip(ValueError):
    """Not a SIP request we can answer; the reason says why without quoting it."""


@dataclass(frozen=True)
class SipRequest:
    method: str
    uri: str
    headers: tuple[tuple[str, str], ...]  # (lower-case full name, value), in order
    body: bytes

    def header(self, name: str) -> str | None:
        """The first value of a header, by full or compact name in any case."""
        values = self.all(name)
        return values[0] if values else None

    def all(self, name: str) -> list[str]:
        key = _canonical(name)
        return [value for header, value in self.headers if header == key]

    @property
    def content_type(self) -> str | None:
        """The media type alone, lower case: `application/scaip+xml`."""
        value = self.header("content-type")
        return value.split(";", 1)[0].strip().lower() if value else None


def parse_request(data: bytes) -> SipRequest:
    """One UDP datagram as a request. A body without Content-Length runs to the end of the
    datagram (RFC 3261 18.3); a Content-Length beyond it is refused."""
    if len(data) > MAX_DATAGRAM:
        raise BadSip("datagram too large")
    head, body = _split(data)
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        raise BadSip("head is not UTF-8") from None
    lines = text.replace("\r\n", "\n").split("\n")
    method, uri = _request_line(lines[0])
    headers = _headers(lines[1:])
    request = SipRequest(method, uri, headers, body)
    for name in _REQUIRED:
        if request.header(name) is None:
            raise BadSip(f"no {name} header")
    cseq = _CSEQ.fullmatch(request.header("cseq") or "")
    if not cseq or cseq[2] != method:
        raise BadSip("bad CSeq")
    length = request.header("content-length")
    if length is not None:
        if not length.isdigit():
            raise BadSip("bad Content-Length")
        if int(length) > len(body):
            raise BadSip("body shorter than Content-Length")
        request = SipRequest(method, uri, headers, body[: int(length)])
    return request


def build_response(
    request: SipRequest,
    status: int,
    reason: str,
    *,
    headers: Sequence[tuple[str, str]] = (),
    body: bytes = b"",
    content_type: str | None = None,
    source: tuple[str, int] | None = None,
) -> bytes:
    """The response to `request`: its Via headers (all, in order; the top one stamped with
    `received`/`rport` for `source`), From, To (with a tag if it had none: the same one for
    every retransmission), Call-ID and CSeq, then `headers`, Content-Type and Content-Length."""
    vias = request.all("via")
    if source is not None:
        vias[0] = _stamp(vias[0], source)
    lines = [f"SIP/2.0 {status} {reason}"]
    lines += [f"Via: {via}" for via in vias]
    lines.append(f"From: {request.header('from')}")
    lines.append(f"To: {_tagged(request)}")
    lines.append(f"Call-ID: {request.header('call-id')}")
    lines.append(f"CSeq: {request.header('cseq')}")
    lines += [f"{name}: {value}" for name, value in headers]
    if content_type is not None:
        lines.append(f"Content-Type: {content_type}")
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def transaction_key(request: SipRequest) -> tuple[str, str, str]:
    """What makes a retransmission the same request: top Via branch, Call-ID, CSeq."""
    top = request.all("via")[0].split(",", 1)[0]
    branch = next(
        (p.split("=", 1)[1].strip() for p in top.split(";")[1:] if _param(p) == "branch"), ""
    )
    return branch, request.header("call-id") or "", request.header("cseq") or ""


def _canonical(name: str) -> str:
    key = name.strip().lower()
    return COMPACT.get(key, key)


def _split(data: bytes) -> tuple[bytes, bytes]:
    """Head and body at the first empty line (CRLF CRLF, or bare LF LF from lax senders)."""
    crlf, lf = data.find(b"\r\n\r\n"), data.find(b"\n\n")
    if crlf >= 0 and (lf < 0 or crlf < lf):
        return data[:crlf], data[crlf + 4 :]
    if lf >= 0:
        return data[:lf], data[lf + 2 :]
    return data.rstrip(b"\r\n"), b""


def _request_line(line: str) -> tuple[str, str]:
    parts = line.split(" ")
    if len(parts) != 3:
        raise BadSip("bad request line")
    method, uri, version = parts
    if method.upper() == "SIP/2.0":
        raise BadSip("a response, not a request")
    if not _TOKEN.fullmatch(method) or version.upper() != "SIP/2.0" or ":" not in uri:
        raise BadSip("bad request line")
    return method, uri


def _headers(lines: list[str]) -> tuple[tuple[str, str], ...]:
    headers: list[tuple[str, str]] = []
    for line in lines:
        if line[:1] in (" ", "\t"):  # folded onto the previous header
            if not headers:
                raise BadSip("continuation before any header")
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {line.strip()}".strip())
            continue
        name, colon, value = line.partition(":")
        if not colon or not _TOKEN.fullmatch(name.strip()):
            raise BadSip("bad header line")
        headers.append((_canonical(name), value.strip()))
        if len(headers) > MAX_HEADERS:
            raise BadSip("too many headers")
    return tuple(headers)


def _param(param: str) -> str:
    return param.split("=", 1)[0].strip().lower()


def _tagged(request: SipRequest) -> str:
    """The To header, with our tag added when the request's had none."""
    to = request.header("to") or ""
    params = to.rsplit(">", 1)[1] if ">" in to else to
    if any(_param(p) == "tag" for p in params.split(";")[1:]):
        return to
    seed = "\n".join((request.header("call-id") or "", request.header("from") or ""))
    return f"{to};tag={hashlib.sha256(seed.encode()).hexdigest()[:16]}"


def _stamp(via: str, source: tuple[str, int]) -> str:
    """RFC 3261 18.2.1 and RFC 3581: `received` when the sender is not where its Via says
    (or it asked for `rport`), and `rport` filled with the port it sent from."""
    top, comma, rest = via.partition(",")
    sent_by, *params = top.split(";")
    host = sent_by.split()[-1] if sent_by.split() else ""
    host = host[1:].split("]", 1)[0] if host.startswith("[") else host.split(":", 1)[0]
    rport = any(_param(p) == "rport" for p in params)
    kept = [p for p in params if _param(p) not in ("rport", "received")]
    if rport:
        kept.append(f"rport={source[1]}")
    if rport or host != source[0]:
        kept.append(f"received={source[0]}")
    return ";".join([sent_by, *kept]) + comma + rest
