"""Settings read from the environment; a missing one stops start-up with its name."""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class SettingsError(Exception):
    """A required setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    database_url: str = field(repr=False)
    ari_url: str
    ari_user: str
    ari_password: str = field(repr=False)
    ari_app: str = "hotline"
    api_host: str = "127.0.0.1"
    api_port: int = 8080
    api_token: str = field(default="", repr=False)
    greeting: tuple[str, ...] | None = None  # None: the synthesised Mandarin greeting
    spool_path: str = "/var/lib/hotline/spool.jsonl"
    log_level: str = "INFO"
    hand_over_on_shutdown: bool = True
    timezone: str = "Asia/Shanghai"
    # pjsip.conf's own endpoints: never touched by the operator account sync
    static_endpoints: frozenset[str] = frozenset({"pstn", "terminals", "duty", "duty2"})
    events_buffer: int = 1000  # a subscriber further behind than this is dropped
    directory_index_limit: int = 200_000  # numbers kept in memory for identification
    directory_refresh_s: float = 300.0
    callback_ring_s: int = 30  # how long a number called back rings
    survey_wait_s: int = 8  # the satisfaction survey waits this long for a key (R21)
    # Speech: synthesised prompts and summaries are written to `sounds_dir`, which Asterisk
    # reads as its sounds directory's `sounds_media` (sound:<sounds_media>/<file>).
    sounds_dir: str = "/var/lib/asterisk/sounds/hotline"
    sounds_media: str = "hotline"
    speech: bool = True
    prompts: Mapping[str, str] = field(default_factory=dict)  # recorded in place of synthesised
    # Emergencies (R8-R12)
    ambulance: str = "120"  # 120's route where no area has its own (a number, or PJSIP/x)
    duty_supervisor: str = "PJSIP/duty"
    emergency_tier_s: int = 20
    terminal_escalate_s: int = 20
    # SCAIP alarm data from terminals: host:port of the SIP MESSAGE receiver ("" = off)
    scaip_listen: str = ""
    scaip_allowed: frozenset[str] | None = None  # required unless listening on loopback
    scaip_rate: int = 20  # datagrams a second from one source (twice that at once)
    alarm_window_s: int = 120
    # Working days for deadlines (R15, R18): the official calendar of this country
    calendar: Literal["CN", "RU"] = "CN"
    console_session_h: int = 10  # a console login lasts this long
    console_idle_min: int = 120  # ... and ends after this long without a request
    login_lock_after: int = 10  # failed console logins of one account that lock it 15 min
    deadline_check_s: int = 60  # a deadline added by another process is seen within this
    # The HTTP edge (R27): TLS served by the service (a PEM certificate chain and its key),
    # and the reverse proxies whose Forwarded / X-Forwarded-* headers are believed.
    tls_cert: str = ""
    tls_key: str = field(default="", repr=False)
    trusted_proxies: str = ""
    # Retention (R27): how long recordings, the access log and ended console sessions are
    # kept; the access log's old rows are deleted through the retention role's own URL.
    retain_recordings_days: int = 1095
    retain_access_days: int = 1095
    retain_sessions_days: int = 90
    retention_database_url: str = field(default="", repr=False)
    # Leadership (issue 16): this process's name among the controllers sharing the database
    # (default host:port), its lease's length, and where it journals every record it makes.
    controller_name: str = ""
    lease_ms: int = 2500
    journal_dir: str = "/var/lib/hotline/journal"


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise SettingsError(f"{name} is not set")
    return value


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    value = env.get(name, choices[0]).strip() or choices[0]
    if value not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def _timezone(env: Mapping[str, str]) -> str:
    name = env.get("HOTLINE_TIMEZONE", "Asia/Shanghai").strip() or "Asia/Shanghai"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"HOTLINE_TIMEZONE: unknown time zone {name!r}") from None
    return name


def database_url(env: Mapping[str, str] = os.environ) -> str:
    """The PostgreSQL URL alone, for commands that need nothing else."""
    return _postgres(_required(env, "HOTLINE_DATABASE_URL"), "HOTLINE_DATABASE_URL")


def _postgres(url: str, name: str) -> str:
    if url.startswith("postgresql://"):
        url = "postgresql+asyncpg://" + url.removeprefix("postgresql://")
    if not url.startswith("postgresql+asyncpg://"):
        raise SettingsError(f"{name} must be a postgresql:// URL")
    return url


def _retention_url(env: Mapping[str, str]) -> str:
    url = env.get("HOTLINE_RETENTION_DATABASE_URL", "").strip()
    return _postgres(url, "HOTLINE_RETENTION_DATABASE_URL") if url else ""


def _number(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise SettingsError(f"{name} must be a whole number from {low} to {high}, got {raw!r}")
    return int(raw)


def load_settings(env: Mapping[str, str] = os.environ) -> Settings:
    listen = env.get("HOTLINE_API_LISTEN", "127.0.0.1:8080")
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit():
        raise SettingsError(f"HOTLINE_API_LISTEN must be host:port, got {listen!r}")
    greeting = (
        tuple(m.strip() for m in env["HOTLINE_GREETING"].split(",") if m.strip())
        if "HOTLINE_GREETING" in env
        else None
    )
    return Settings(
        database_url=database_url(env),
        ari_url=env.get("HOTLINE_ARI_URL", "http://127.0.0.1:8088").rstrip("/"),
        ari_user=env.get("HOTLINE_ARI_USER", "hotline"),
        ari_password=_required(env, "HOTLINE_ARI_PASSWORD"),
        ari_app=env.get("HOTLINE_ARI_APP", "hotline"),
        api_host=host,
        api_port=int(port),
        api_token=_api_token(env),
        greeting=greeting,
        spool_path=env.get("HOTLINE_SPOOL", "/var/lib/hotline/spool.jsonl"),
        log_level=env.get("HOTLINE_LOG_LEVEL", "INFO").upper(),
        timezone=_timezone(env),
        static_endpoints=frozenset(
            e.strip()
            for e in env.get("HOTLINE_STATIC_ENDPOINTS", "pstn,terminals,duty,duty2").split(",")
            if e.strip()
        ),
        hand_over_on_shutdown=_choice(env, "HOTLINE_SHUTDOWN_CALLS", ("fallback", "keep"))
        == "fallback",
        events_buffer=_number(env, "HOTLINE_EVENTS_BUFFER", 1000, 1, 1_000_000),
        directory_index_limit=_number(
            env, "HOTLINE_DIRECTORY_INDEX_LIMIT", 200_000, 0, 100_000_000
        ),
        directory_refresh_s=_number(env, "HOTLINE_DIRECTORY_REFRESH_S", 300, 1, 86400),
        callback_ring_s=_number(env, "HOTLINE_CALLBACK_RING_S", 30, 5, 300),
        survey_wait_s=_number(env, "HOTLINE_SURVEY_WAIT_S", 8, 2, 60),
        sounds_dir=env.get("HOTLINE_SOUNDS_DIR", "/var/lib/asterisk/sounds/hotline"),
        sounds_media=_media_dir(env),
        speech=_choice(env, "HOTLINE_SPEECH", ("on", "off")) == "on",
        prompts=_prompts(env),
        ambulance=_route(env, "HOTLINE_AMBULANCE", "120"),
        duty_supervisor=_route(env, "HOTLINE_DUTY_SUPERVISOR", "PJSIP/duty"),
        emergency_tier_s=_number(env, "HOTLINE_EMERGENCY_TIER_S", 20, 5, 600),
        terminal_escalate_s=_number(env, "HOTLINE_TERMINAL_ESCALATE_S", 20, 5, 600),
        scaip_listen=_listen(env, "HOTLINE_SCAIP_LISTEN"),
        scaip_allowed=_scaip_allowed(env),
        scaip_rate=_number(env, "HOTLINE_SCAIP_RATE", 20, 1, 10_000),
        alarm_window_s=_number(env, "HOTLINE_ALARM_WINDOW_S", 120, 5, 3600),
        calendar="RU" if _choice(env, "HOTLINE_CALENDAR", ("CN", "RU")) == "RU" else "CN",
        console_session_h=_number(env, "HOTLINE_CONSOLE_SESSION_H", 10, 1, 24),
        console_idle_min=_number(env, "HOTLINE_CONSOLE_IDLE_MIN", 120, 5, 1440),
        login_lock_after=_number(env, "HOTLINE_LOGIN_LOCK_AFTER", 10, 4, 100),
        deadline_check_s=_number(env, "HOTLINE_DEADLINE_CHECK_S", 60, 1, 3600),
        **_edge(env),
        retain_recordings_days=_number(env, "HOTLINE_RETAIN_RECORDINGS_DAYS", 1095, 30, 36500),
        retain_access_days=_number(env, "HOTLINE_RETAIN_ACCESS_DAYS", 1095, 180, 36500),
        retain_sessions_days=_number(env, "HOTLINE_RETAIN_SESSIONS_DAYS", 90, 1, 3650),
        retention_database_url=_retention_url(env),
        controller_name=env.get("HOTLINE_CONTROLLER_NAME", "").strip()
        or f"{socket.gethostname()}:{port}",
        lease_ms=_number(env, "HOTLINE_LEASE_MS", 2500, 1500, 30_000),
        journal_dir=env.get("HOTLINE_JOURNAL_DIR", "").strip()
        or os.path.join(
            os.path.dirname(env.get("HOTLINE_SPOOL", "/var/lib/hotline/spool.jsonl")) or ".",
            "journal",
        ),
    )


def _edge(env: Mapping[str, str]) -> dict[str, str]:
    cert, key = env.get("HOTLINE_TLS_CERT", "").strip(), env.get("HOTLINE_TLS_KEY", "").strip()
    if bool(cert) != bool(key):
        raise SettingsError("HOTLINE_TLS_CERT and HOTLINE_TLS_KEY go together: set both or none")
    for name, path in (("HOTLINE_TLS_CERT", cert), ("HOTLINE_TLS_KEY", key)):
        if path and not os.access(path, os.R_OK):
            raise SettingsError(f"{name}: cannot read {path!r}")
    proxies = env.get("HOTLINE_TRUSTED_PROXIES", "").strip()
    for part in (p.strip() for p in proxies.split(",") if p.strip()):
        try:
            ipaddress.ip_network(part, strict=False)
        except ValueError:
            raise SettingsError(
                f"HOTLINE_TRUSTED_PROXIES: {part!r} is not an address or a network"
            ) from None
    return {"tls_cert": cert, "tls_key": key, "trusted_proxies": proxies}


def _prompts(env: Mapping[str, str]) -> dict[str, str]:
    """HOTLINE_PROMPT_<NAME>=sound:<file>|recording:<name>: a recorded prompt in place of the
    synthesised one (greeting, after_hours, callback_thanks, emergency_hold, ...)."""
    found = {}
    for key, value in env.items():
        if not key.startswith("HOTLINE_PROMPT_"):
            continue
        name = key.removeprefix("HOTLINE_PROMPT_").lower()
        if not re.fullmatch(r"(sound|recording):[A-Za-z0-9_./-]{1,80}", value.strip()):
            raise SettingsError(f"{key} must be sound:<file> or recording:<name>, got {value!r}")
        found[name] = value.strip()
    return found


def _media_dir(env: Mapping[str, str]) -> str:
    value = env.get("HOTLINE_SOUNDS_MEDIA", "hotline").strip() or "hotline"
    if not re.fullmatch(r"[A-Za-z0-9_./-]{1,80}", value) or ".." in value:
        raise SettingsError(f"HOTLINE_SOUNDS_MEDIA must be a plain path, got {value!r}")
    return value


def _route(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, default).strip() or default
    if not re.fullmatch(r"PJSIP/[A-Za-z0-9_.-]{1,40}|[0-9]{3,15}", value):
        raise SettingsError(f"{name} must be a number or PJSIP/<endpoint>, got {value!r}")
    return value


def _listen(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    host, _, port = value.rpartition(":")
    if value and (not host or not port.isdigit() or not 0 < int(port) < 65536):
        raise SettingsError(f"{name} must be host:port, got {value!r}")
    return value


MIN_TOKEN = 32  # characters of the built-in admin token (secrets.token_hex(16) has 32)


def _api_token(env: Mapping[str, str]) -> str:
    """The built-in admin token: unset (no such token), or long enough not to be guessed.
    It never expires: it is for bootstrapping and tooling; people get tokens of their own."""
    token = env.get("HOTLINE_API_TOKEN", "")
    if token and (len(token) < MIN_TOKEN or len(set(token)) < 8):
        raise SettingsError(
            f"HOTLINE_API_TOKEN must be at least {MIN_TOKEN} random characters "
            "(e.g. python3 -c 'import secrets; print(secrets.token_hex(16))')"
        )
    return token


def _scaip_allowed(env: Mapping[str, str]) -> frozenset[str] | None:
    """Who may send alarm data: without a list, only the machine itself (a gateway beside
    the service); a receiver open to the network with no list is refused (R27)."""
    allowed = _addresses(env, "HOTLINE_SCAIP_ALLOWED")
    listen = _listen(env, "HOTLINE_SCAIP_LISTEN")
    host = listen.rpartition(":")[0].strip("[]")
    if listen and allowed is None and not _loopback(host):
        raise SettingsError(
            "HOTLINE_SCAIP_ALLOWED must list the addresses of the terminals' gateways when "
            f"HOTLINE_SCAIP_LISTEN is not a loopback address (it is {listen!r})"
        )
    return allowed


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _addresses(env: Mapping[str, str], name: str) -> frozenset[str] | None:
    value = env.get(name, "").strip()
    if not value:
        return None
    return frozenset(a.strip() for a in value.split(",") if a.strip())
