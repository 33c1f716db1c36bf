"""Operators' SIP softphone accounts in Asterisk, pushed over ARI.

An operator's account is three PJSIP objects with the same id, the operator's SIP user
name (``endpoint``): an ``auth`` (digest credentials), an ``aor`` (where the softphone
registers) and an ``endpoint`` (how calls to and from it behave). The service, whose
PostgreSQL holds the truth, pushes them with ARI push configuration
(``PUT /asterisk/config/dynamic/res_pjsip/{type}/{id}``) on every (re)connect and on
every admin change; Asterisk keeps them in its sorcery ``memory`` wizard
(``asterisk-docker/etc/sorcery.conf``), so they are gone after an Asterisk restart and
the next connect pushes them again. No config file is edited, nothing is reloaded.

Only the MD5 digest ``md5(user:realm:password)`` ever leaves the service (:func:`md5_cred`),
never the password.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from hotline.ari import AriClient, BadRequest, Conflict, NotFound, Unprocessable

log = logging.getLogger(__name__)

CONFIG_CLASS = "res_pjsip"
TECHNOLOGY = "PJSIP"
REALM = "asterisk"
DEFAULT_CONTEXT = "operators"
DEFAULT_TRANSPORT = "transport-udp"  # pjsip_site.conf, rendered by render-config.sh
PUSH_ORDER = ("auth", "aor", "endpoint")  # what refers to what: endpoint -> aor, auth

AccountObject = tuple[str, str, dict[str, str]]
"""(object type, object id, fields) of one PJSIP object, fields in the order sent."""

# A SIP user name that is also a safe sorcery id and ARI path segment: no '@', ':', ';',
# ',' (a list separator in `aors`/`auth`), spaces or quotes.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_MD5_HEX = re.compile(r"[0-9a-f]{32}")


def md5_cred(endpoint: str, password: str, realm: str = REALM) -> str:
    """The digest Asterisk stores instead of the password: md5("user:realm:password")."""
    data = f"{endpoint}:{realm}:{password}".encode()
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def check_name(endpoint: str) -> str:
    """``endpoint`` if it can be an operator's SIP user name and object id, else ValueError."""
    if not _NAME.fullmatch(endpoint):
        raise ValueError(
            "an operator's SIP user name is 1-64 of A-Z a-z 0-9 . _ - and starts with a "
            "letter or digit"
        )
    return endpoint


def account_objects(
    endpoint: str,
    md5_cred: str,
    *,
    context: str = DEFAULT_CONTEXT,
    transport: str = DEFAULT_TRANSPORT,
) -> list[AccountObject]:
    """The auth, aor and endpoint of one operator's softphone, in push order.

    Pure. ``md5_cred`` is :func:`md5_cred` of the password (32 lower-case hex digits).
    """
    check_name(endpoint)
    if not _MD5_HEX.fullmatch(md5_cred):
        raise ValueError("md5_cred must be 32 lower-case hex digits")
    for name, value in (("context", context), ("transport", transport)):
        if not _NAME.fullmatch(value):
            raise ValueError(f"invalid {name}")
    auth = {
        "auth_type": "md5",
        "username": endpoint,
        "md5_cred": md5_cred,
        "realm": REALM,
    }
    aor = {
        "max_contacts": "1",
        "remove_existing": "yes",  # a new REGISTER (another PC) replaces the old contact
        "qualify_frequency": "15",  # OPTIONS every 15 s: an unreachable phone goes offline
    }
    sip_endpoint = {
        "transport": transport,
        "context": context,
        "disallow": "all",
        "allow": "ulaw,alaw",
        "auth": endpoint,
        "aors": endpoint,
        "direct_media": "no",
        "rtp_symmetric": "yes",
        "force_rport": "yes",
        "rewrite_contact": "yes",
        "dtmf_mode": "rfc4733",
    }
    return [("auth", endpoint, auth), ("aor", endpoint, aor), ("endpoint", endpoint, sip_endpoint)]


async def push_account(
    ari: AriClient,
    endpoint: str,
    md5_cred: str,
    *,
    context: str = DEFAULT_CONTEXT,
    transport: str = DEFAULT_TRANSPORT,
) -> None:
    """Create or update one operator's account (auth, aor, endpoint, in that order).

    Idempotent: pushing the same account again changes nothing; a new ``md5_cred``
    applies to the next REGISTER or call (a registered softphone stays registered).
    A name taken by a pjsip.conf object raises :class:`~hotline.ari.Conflict`.
    """
    for object_type, object_id, fields in account_objects(
        endpoint, md5_cred, context=context, transport=transport
    ):
        await ari.put_dynamic_config(CONFIG_CLASS, object_type, object_id, fields)


async def remove_account(ari: AriClient, endpoint: str) -> bool:
    """Delete one operator's account (endpoint, aor, auth: the reverse of the push order).

    Deleting the aor drops the softphone's registration; its next REGISTER is refused.
    Objects already gone are skipped. Returns whether anything was deleted.
    """
    check_name(endpoint)
    deleted = False
    for object_type in reversed(PUSH_ORDER):
        try:
            await ari.delete_dynamic_config(CONFIG_CLASS, object_type, endpoint)
        except NotFound:
            continue
        deleted = True
    return deleted


async def _push_each(
    ari: AriClient,
    accounts: Mapping[str, str],
    *,
    static: frozenset[str],
    context: str = DEFAULT_CONTEXT,
    transport: str = DEFAULT_TRANSPORT,
) -> tuple[list[str], dict[str, str]]:
    """Push each account; the names pushed, and those Asterisk refused with why (no secrets).
    Losing ARI or its credentials propagates."""
    pushed: list[str] = []
    failed: dict[str, str] = {}
    for name, cred in accounts.items():
        if name in static:
            failed[name] = "name taken by a static endpoint (pjsip.conf)"
            continue
        try:
            await push_account(ari, name, cred, context=context, transport=transport)
        except ValueError as err:
            failed[name] = str(err)
        except (BadRequest, Conflict, NotFound, Unprocessable) as err:
            failed[name] = f"{type(err).__name__}: {err.message}"
        else:
            pushed.append(name)
    if failed:  # counts only: user names may be people's names
        log.warning("%d operator account(s) not pushed", len(failed))
    return pushed, failed


@dataclass(frozen=True)
class SyncResult:
    """What :func:`sync_accounts` did."""

    pushed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    failed: Mapping[str, str] = field(default_factory=dict)
    """Accounts that could not be pushed, with why (no secrets)."""


async def sync_accounts(
    ari: AriClient,
    wanted: Mapping[str, str],
    *,
    static: frozenset[str],
    context: str = DEFAULT_CONTEXT,
    transport: str = DEFAULT_TRANSPORT,
) -> SyncResult:
    """Make Asterisk's operator accounts exactly ``wanted`` (user name -> md5_cred).

    Pushes every wanted account, then deletes every PJSIP endpoint Asterisk lists
    (``GET /endpoints``) that is neither wanted nor ``static`` (the pjsip.conf peers),
    with its aor and auth. Run it on every (re)connect of the events socket.

    One account that Asterisk refuses (a name clash with a static object, an invalid
    value) is reported in ``failed`` and the others still go through; losing ARI
    (:class:`~hotline.ari.AriUnavailable`) or its credentials propagates: retry on the
    next connect.
    """
    pushed, failed = await _push_each(
        ari, wanted, static=static, context=context, transport=transport
    )
    removed: list[str] = []
    for ep in await ari.list_endpoints():
        name = ep.resource
        if ep.technology != TECHNOLOGY or name in static or name in wanted:
            continue
        if not _NAME.fullmatch(name):
            continue  # not one of ours: we only ever create valid names
        if await remove_account(ari, name):
            removed.append(name)
    return SyncResult(pushed=tuple(pushed), removed=tuple(removed), failed=failed)


class AccountSync:
    """Keeps Asterisk's operator accounts equal to the wanted ones.

    `full` (on every connect of the events socket) pushes every account and removes the
    strays Asterisk lists; `changes` (after an admin change) pushes only accounts that are new
    or changed since and removes only those gone since, so that an operator's state change
    costs no ARI request at all.
    """

    def __init__(self, ari: AriClient, *, static: frozenset[str], app: str | None = None) -> None:
        self._ari = ari
        self._static = static
        self._app = app  # the Stasis app that follows the softphones' states (None: none)
        self._pushed: dict[str, str] | None = None  # None: not known (before a full sync)

    async def full(self, wanted: Mapping[str, str]) -> SyncResult:
        result = await sync_accounts(self._ari, wanted, static=self._static)
        self._pushed = {name: wanted[name] for name in result.pushed}
        if self._app is not None:
            await follow(self._ari, self._app, set(self._pushed))
        return result

    async def changes(self, wanted: Mapping[str, str]) -> SyncResult:
        if self._pushed is None:
            return await self.full(wanted)
        changed = {n: c for n, c in wanted.items() if self._pushed.get(n) != c}
        pushed, failed = await _push_each(self._ari, changed, static=self._static)
        self._pushed.update((name, changed[name]) for name in pushed)
        removed: list[str] = []
        gone = [n for n in self._pushed if n not in wanted]
        if self._app is not None and (pushed or gone):
            await follow(self._ari, self._app, set(self._pushed) - set(gone))
        for name in gone:
            await remove_account(self._ari, name)
            del self._pushed[name]
            removed.append(name)
        return SyncResult(pushed=tuple(pushed), removed=tuple(removed), failed=failed)


async def follow(ari: AriClient, app: str, names: set[str]) -> None:
    """Subscribe `app` to exactly these softphones' endpoints (their states: reachable or
    not), one by one. Never to the whole technology (`endpoint:PJSIP`): that would forward
    every channel of the carrier trunk too, and with it, on each call arriving or ending,
    the trunk's snapshot listing all of its channels (measured: with 1,000 callers parked
    Asterisk's queue of the app's events overflowed, and it stopped taking new calls)."""
    subscribed = set((await ari.get_application(app)).endpoint_ids)
    for source in sorted(subscribed):
        if source.rstrip("/") == TECHNOLOGY:  # an older version's subscription to all
            for _ in range(100):  # one unsubscription per subscription made
                try:
                    left = await ari.unsubscribe(app, f"endpoint:{TECHNOLOGY}")
                except Unprocessable:
                    break
                if not {s for s in left.endpoint_ids if s.rstrip("/") == TECHNOLOGY}:
                    break
    for name in sorted(names):
        if f"{TECHNOLOGY}/{name}" not in subscribed:
            try:
                await ari.subscribe(app, f"endpoint:{TECHNOLOGY}/{name}")
            except (NotFound, Unprocessable) as err:  # pushed, then gone: the next sync
                log.warning("softphone state not followed (%s)", type(err).__name__)
    for source in sorted(subscribed):
        tech, _, name = source.partition("/")
        if tech == TECHNOLOGY and name and name not in names:
            with contextlib.suppress(Unprocessable):  # already gone with its endpoint
                await ari.unsubscribe(app, f"endpoint:{source}")
