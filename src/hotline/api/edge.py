"""The HTTP edge: TLS served by the service itself, and what a reverse proxy in front of it
says about the outside (R27).

Behind a proxy that ends TLS, the service sees plain HTTP from the proxy's address; the
proxy tells the outside scheme, host and client in `Forwarded` (RFC 7239) or the
`X-Forwarded-Proto` / `-Host` / `-For` headers. Those are believed only from the addresses in
HOTLINE_TRUSTED_PROXIES: from anyone else they are ignored (a client could claim to be
anything). The request is then seen as the outside saw it (`request.scheme`, `.host`,
`.remote`, `.secure`), so the console's same-origin checks compare with the address the
browser used, its cookies are Secure whenever the outside is HTTPS, and the login throttle
counts the real client, not the proxy.
"""

from __future__ import annotations

import ipaddress
import re
import ssl
from collections.abc import Iterable
from pathlib import Path

from aiohttp import web

from hotline.api.routes import Handler

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_TOKEN = re.compile(r'\s*([a-zA-Z]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;,\s]*)\s*')
HSTS = "max-age=31536000"


def networks(text: str) -> tuple[Network, ...]:
    """HOTLINE_TRUSTED_PROXIES: addresses or networks, comma-separated. ValueError names
    the one that is not."""
    found = []
    for part in (p.strip() for p in text.split(",")):
        if part:
            found.append(ipaddress.ip_network(part, strict=False))
    return tuple(found)


def trusted(remote: str | None, proxies: Iterable[Network]) -> bool:
    if not remote:
        return False
    try:
        address = ipaddress.ip_address(remote)
    except ValueError:
        return False
    return any(address in net for net in proxies)


def forwarded(request: web.Request) -> dict[str, str]:
    """What the nearest proxy said: proto, host, for (the last element of `Forwarded`, else
    the X-Forwarded-* headers' last values)."""
    said: dict[str, str] = {}
    header = request.headers.get("Forwarded")
    if header:
        last = header.split(",")[-1]
        for pair in last.split(";"):
            match = _TOKEN.fullmatch(pair)
            if match:
                said[match[1].lower()] = match[2].strip('"')
        return said
    for name, key in (("X-Forwarded-Proto", "proto"), ("X-Forwarded-Host", "host")):
        value = request.headers.get(name)
        if value:
            said[key] = value.split(",")[-1].strip()
    client = request.headers.get("X-Forwarded-For")
    if client:
        said["for"] = client.split(",")[-1].strip()
    return said


def _client(value: str) -> str | None:
    """An address from a `for` value ("192.0.2.7", "[2001:db8::1]:4711", "_hidden")."""
    value = value.strip()
    if value.startswith("["):
        value = value[1 : value.find("]")]
    elif value.count(":") == 1:
        value = value.partition(":")[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def middleware(proxies: tuple[Network, ...], *, tls: bool) -> object:
    """See the request as the outside saw it (from a trusted proxy); HSTS on HTTPS."""

    @web.middleware
    async def outside(request: web.Request, handler: Handler) -> web.StreamResponse:
        if proxies and trusted(request.remote, proxies):
            said = forwarded(request)
            changes: dict[str, str] = {}
            if said.get("proto") in ("http", "https"):
                changes["scheme"] = said["proto"]
            if said.get("host") and re.fullmatch(r"[A-Za-z0-9.\-:\[\]]{1,255}", said["host"]):
                changes["host"] = said["host"]
            client = _client(said.get("for", ""))
            if client:
                changes["remote"] = client
            if changes:
                request = request.clone(**changes)  # type: ignore[arg-type]
        secure = tls or request.secure
        try:
            response = await handler(request)
        except web.HTTPException as answer:  # a redirect or an error raised as an answer
            if secure:
                answer.headers.setdefault("Strict-Transport-Security", HSTS)
            raise
        if secure:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response

    return outside


def tls_context(cert: str, key: str) -> ssl.SSLContext:
    """The server's TLS: TLS 1.2 at least, the certificate chain and key in PEM files."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(Path(cert), Path(key))
    return context
