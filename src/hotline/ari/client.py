"""Typed async client for the ARI REST API."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote

import aiohttp
from pydantic import ValidationError

from .errors import (
    AriError,
    AriServerError,
    AriUnavailable,
    AuthenticationFailed,
    Conflict,
    NotActing,
    NotFound,
    error_for_status,
)
from .models import (
    Application,
    AriModel,
    Bridge,
    Channel,
    ConfigTuple,
    DeviceState,
    Endpoint,
    Playback,
)

M = TypeVar("M", bound=AriModel)
Params = Mapping[str, str | int | None]

_VARIABLE_NOT_FOUND = "Provided variable was not found"
# How Asterisk words a 403 from /asterisk/config/dynamic when the object's wizard cannot
# create, update or delete it (an object of a config file, or a type with no writable
# wizard). Not a credentials problem, unlike the 403 "Write access denied" of a
# read-only ARI user.
_CONFIG_READ_ONLY = (
    "Cannot create sorcery objects",
    "Cannot update sorcery objects",
    "Could not delete object",
)


@dataclass(frozen=True)
class AriConfig:
    """Where and as whom to reach ARI. ``repr`` hides the password."""

    base_url: str
    user: str
    password: str = field(repr=False)
    app: str
    request_timeout: float = 5.0

    @property
    def rest_url(self) -> str:
        return self.base_url.rstrip("/") + "/ari"

    @property
    def events_url(self) -> str:
        """WebSocket URL of the events endpoint (no query string)."""
        url = self.rest_url + "/events"
        if url.startswith("https://"):
            return "wss://" + url.removeprefix("https://")
        return "ws://" + url.removeprefix("http://")

    def auth_header(self) -> dict[str, str]:
        """The only place credentials go: an ``Authorization: Basic`` header."""
        return {"Authorization": basic_auth(self.user, self.password)}


def basic_auth(user: str, password: str) -> str:
    """RFC 7617 ``Basic`` credentials (UTF-8)."""
    if ":" in user:
        raise ValueError("an ARI user name cannot contain ':'")
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def _seg(value: str) -> str:
    return quote(value, safe="")


def _media_list(media: str | Sequence[str]) -> list[str]:
    return [media] if isinstance(media, str) else list(media)


class AriClient:
    """ARI REST client owning one ``aiohttp.ClientSession``.

    Use as ``async with AriClient(config) as ari: ...``. Every failure is an
    :class:`~hotline.ari.errors.AriError` subclass.
    """

    def __init__(self, config: AriConfig) -> None:
        self._config = config
        self._session: aiohttp.ClientSession | None = None
        self._acting: Callable[[], bool] | None = None

    def fence(self, acting: Callable[[], bool] | None) -> None:
        """From now on, send a request that acts (anything but GET) only while `acting()`
        (the controller leads); otherwise raise NotActing without sending it."""
        self._acting = acting

    async def __aenter__(self) -> Self:
        self._session = aiohttp.ClientSession(
            headers=self._config.auth_header(),
            timeout=aiohttp.ClientTimeout(total=self._config.request_timeout),
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -- plumbing ---------------------------------------------------------------------------

    async def _request(
        self, method: str, path: str, *, params: Params | None = None, body: Any = None
    ) -> Any:
        """Send one request; return the decoded JSON body (None when empty)."""
        if self._session is None:
            raise RuntimeError("AriClient used outside 'async with'")
        if self._acting is not None and method != "GET" and not self._acting():
            raise NotActing("this controller does not lead", method=method, path=path)
        query = {k: str(v) for k, v in (params or {}).items() if v is not None}
        url = self._config.rest_url + path
        try:
            async with self._session.request(method, url, params=query, json=body) as resp:
                status, text = resp.status, await resp.text()
                reason = resp.reason or ""
        except TimeoutError as err:
            raise AriUnavailable("request timed out", method=method, path=path) from err
        except (aiohttp.ClientError, OSError) as err:
            raise AriUnavailable(
                f"connection failed ({type(err).__name__})", method=method, path=path
            ) from err
        if status >= 400:
            raise error_for_status(status, _error_message(text, reason), method=method, path=path)
        if not text.strip():
            return None
        try:
            return json.loads(text)
        except ValueError as err:
            raise AriServerError(
                "response is not JSON", status=status, method=method, path=path
            ) from err

    async def _bytes(self, path: str) -> bytes:
        """GET a file (a stored recording); errors as for JSON requests."""
        if self._session is None:
            raise RuntimeError("AriClient used outside 'async with'")
        try:
            async with self._session.get(self._config.rest_url + path) as resp:
                if resp.status >= 400:
                    text = await resp.text()
                    raise error_for_status(
                        resp.status,
                        _error_message(text, resp.reason or ""),
                        method="GET",
                        path=path,
                    )
                return await resp.read()
        except TimeoutError as err:
            raise AriUnavailable("request timed out", method="GET", path=path) from err
        except (aiohttp.ClientError, OSError) as err:
            raise AriUnavailable(
                f"connection failed ({type(err).__name__})", method="GET", path=path
            ) from err

    async def _one(self, cls: type[M], method: str, path: str, **kw: Any) -> M:
        return _validate(cls, await self._request(method, path, **kw), method, path)

    async def _many(self, cls: type[M], path: str) -> list[M]:
        data = await self._request("GET", path)
        if not isinstance(data, list):
            raise AriServerError("expected a JSON list", method="GET", path=path)
        return [_validate(cls, item, "GET", path) for item in data]

    # -- asterisk / applications ------------------------------------------------------------

    async def asterisk_info(self) -> dict[str, Any]:
        """GET /asterisk/info; a cheap call to check reachability and credentials."""
        data = await self._request("GET", "/asterisk/info")
        return data if isinstance(data, dict) else {}

    async def get_application(self, name: str) -> Application:
        return await self._one(Application, "GET", f"/applications/{_seg(name)}")

    async def subscribe(self, app: str, event_source: str) -> Application:
        """POST /applications/{app}/subscription?eventSource=...

        ``event_source`` is ``channel:<id>``, ``bridge:<id>``, ``endpoint:<tech>/<resource>``,
        ``endpoint:<tech>`` (every endpoint of that technology, also those created later)
        or ``deviceState:<name>``; several may be joined with commas. Asterisk counts
        subscriptions: subscribing twice needs two :meth:`unsubscribe` calls. An unknown
        app raises :class:`NotFound`, an unknown event source :class:`Unprocessable`.
        """
        path = f"/applications/{_seg(app)}/subscription"
        return await self._one(Application, "POST", path, params={"eventSource": event_source})

    async def filter_events(self, app: str, allowed: Sequence[str]) -> Application:
        """PUT /applications/{app}/eventFilter: only events of these types reach the app's
        sockets from now on (Asterisk drops the rest before sending them); empty: all."""
        path = f"/applications/{_seg(app)}/eventFilter"
        body = {"allowed": [{"type": name} for name in allowed]} if allowed else {}
        return await self._one(Application, "PUT", path, body=body)

    async def unsubscribe(self, app: str, event_source: str) -> Application:
        """DELETE /applications/{app}/subscription?eventSource=...

        Removes one subscription (see :meth:`subscribe`). A source the app is not
        subscribed to, or that no longer exists, raises :class:`Unprocessable`.
        """
        path = f"/applications/{_seg(app)}/subscription"
        return await self._one(Application, "DELETE", path, params={"eventSource": event_source})

    # -- dynamic configuration (ARI push configuration, sorcery) ------------------------------

    async def get_dynamic_config(
        self, config_class: str, object_type: str, object_id: str
    ) -> list[ConfigTuple]:
        """GET /asterisk/config/dynamic/{class}/{type}/{id}: every attribute of the object."""
        path = _config_path(config_class, object_type, object_id)
        return _config_tuples(await self._request("GET", path), "GET", path)

    async def put_dynamic_config(
        self,
        config_class: str,
        object_type: str,
        object_id: str,
        fields: Mapping[str, str],
    ) -> list[ConfigTuple]:
        """PUT /asterisk/config/dynamic/{class}/{type}/{id}: create the object, or update it.

        Fields are sent in the mapping's order. Asterisk applies them on top of the
        existing object (an attribute left out keeps its current value, not its default)
        and answers with every attribute of the result, secrets included: do not log it.
        An attribute or value Asterisk rejects raises :class:`BadRequest`; an unknown
        class or type :class:`NotFound`; an object only a read-only wizard holds (a
        config-file object, or a type without a writable wizard in sorcery.conf)
        :class:`Conflict` (status 403).
        """
        path = _config_path(config_class, object_type, object_id)
        body = {"fields": [{"attribute": k, "value": v} for k, v in fields.items()]}
        data = await self._config_request("PUT", path, body)
        return _config_tuples(data, "PUT", path)

    async def delete_dynamic_config(
        self, config_class: str, object_type: str, object_id: str
    ) -> None:
        """DELETE /asterisk/config/dynamic/{class}/{type}/{id}.

        A missing object raises :class:`NotFound`; a config-file object :class:`Conflict`.
        """
        await self._config_request("DELETE", _config_path(config_class, object_type, object_id))

    async def _config_request(self, method: str, path: str, body: Any = None) -> Any:
        try:
            return await self._request(method, path, body=body)
        except AuthenticationFailed as err:
            if err.status == 403 and err.message.startswith(_CONFIG_READ_ONLY):
                raise Conflict(err.message, status=403, method=method, path=path) from err
            raise

    # -- channels ---------------------------------------------------------------------------

    async def list_channels(self) -> list[Channel]:
        return await self._many(Channel, "/channels")

    async def get_channel(self, channel_id: str) -> Channel:
        return await self._one(Channel, "GET", f"/channels/{_seg(channel_id)}")

    async def answer(self, channel_id: str) -> None:
        await self._request("POST", f"/channels/{_seg(channel_id)}/answer")

    async def ring(self, channel_id: str) -> None:
        await self._request("POST", f"/channels/{_seg(channel_id)}/ring")

    async def hangup(self, channel_id: str, reason: str = "normal") -> None:
        await self._request("DELETE", f"/channels/{_seg(channel_id)}", params={"reason": reason})

    async def play(
        self,
        channel_id: str,
        media: str | Sequence[str],
        playback_id: str,
        lang: str | None = None,
    ) -> Playback:
        """Play one or more media URIs as a single playback with a caller-chosen id.

        The list goes in the JSON body: Asterisk keeps only the last of repeated ``media``
        query parameters, and a comma-joined query value breaks URIs containing commas.
        """
        body: dict[str, Any] = {"media": _media_list(media)}
        if lang is not None:
            body["lang"] = lang
        path = f"/channels/{_seg(channel_id)}/play/{_seg(playback_id)}"
        return await self._one(Playback, "POST", path, body=body)

    async def stop_playback(self, playback_id: str) -> None:
        await self._request("DELETE", f"/playbacks/{_seg(playback_id)}")

    async def start_moh(self, channel_id: str, moh_class: str | None = None) -> None:
        path = f"/channels/{_seg(channel_id)}/moh"
        await self._request("POST", path, params={"mohClass": moh_class})

    async def stop_moh(self, channel_id: str) -> None:
        await self._request("DELETE", f"/channels/{_seg(channel_id)}/moh")

    async def get_variable(self, channel_id: str, name: str) -> str | None:
        """Value of a channel variable, or None if the variable is not set.

        A missing *channel* still raises :class:`NotFound`: Asterisk answers 404 for both
        and only the message tells them apart.
        """
        path = f"/channels/{_seg(channel_id)}/variable"
        try:
            data = await self._request("GET", path, params={"variable": name})
        except NotFound as err:
            if err.message == _VARIABLE_NOT_FOUND:
                return None
            raise
        value = data.get("value") if isinstance(data, dict) else None
        return value if isinstance(value, str) else None

    async def set_variable(self, channel_id: str, name: str, value: str) -> None:
        path = f"/channels/{_seg(channel_id)}/variable"
        await self._request("POST", path, params={"variable": name, "value": value})

    async def continue_in_dialplan(
        self,
        channel_id: str,
        context: str | None = None,
        extension: str | None = None,
        priority: int | None = None,
        label: str | None = None,
    ) -> None:
        params = {"context": context, "extension": extension, "priority": priority, "label": label}
        await self._request("POST", f"/channels/{_seg(channel_id)}/continue", params=params)

    async def originate(
        self,
        endpoint: str,
        *,
        app: str,
        app_args: str = "",
        channel_id: str | None = None,
        other_channel_id: str | None = None,
        caller_id: str | None = None,
        timeout: int = 30,  # noqa: ASYNC109 -- seconds to ring, an ARI parameter
        variables: Mapping[str, str] | None = None,
        originator: str | None = None,
    ) -> Channel:
        """POST /channels into Stasis ``app``. An unreachable endpoint raises
        :class:`AllocationFailed`; a reused ``channel_id`` raises :class:`Conflict`.

        Every parameter goes in the JSON body (Asterisk reads them there too), so a
        caller ID, which is a person's number, never appears in a URL."""
        fields: dict[str, object] = {
            "endpoint": endpoint,
            "app": app,
            "appArgs": app_args or None,
            "channelId": channel_id,
            "otherChannelId": other_channel_id,
            "callerId": caller_id,
            "timeout": timeout,
            "originator": originator,
            "variables": dict(variables) if variables else None,
        }
        body = {k: v for k, v in fields.items() if v is not None}
        return await self._one(Channel, "POST", "/channels", body=body)

    async def snoop(
        self,
        channel_id: str,
        *,
        app: str,
        spy: str = "none",
        whisper: str = "none",
        app_args: str = "",
        snoop_id: str | None = None,
    ) -> Channel:
        """POST /channels/{id}/snoop: a new channel, in Stasis ``app``, that hears what
        ``channel_id`` hears and says (``spy``: none, in, out, both) and whose own audio
        is mixed into what the channel hears (``whisper`` out), says (in), or both.

        The snoop channel hangs up by itself when the channel it snoops on goes. A missing
        channel raises :class:`NotFound`; a reused ``snoop_id`` :class:`Conflict`."""
        params = {
            "app": app,
            "spy": spy,
            "whisper": whisper,
            "appArgs": app_args or None,
            "snoopId": snoop_id,
        }
        path = f"/channels/{_seg(channel_id)}/snoop"
        return await self._one(Channel, "POST", path, params=params)

    # -- bridges ----------------------------------------------------------------------------

    async def list_bridges(self) -> list[Bridge]:
        return await self._many(Bridge, "/bridges")

    async def get_bridge(self, bridge_id: str) -> Bridge:
        return await self._one(Bridge, "GET", f"/bridges/{_seg(bridge_id)}")

    async def create_bridge(
        self, bridge_id: str, type: str = "mixing", name: str | None = None
    ) -> Bridge:
        """POST /bridges/{id}. Use a fresh id per use: a reused one is a 409."""
        params = {"type": type, "name": name}
        return await self._one(Bridge, "POST", f"/bridges/{_seg(bridge_id)}", params=params)

    async def destroy_bridge(self, bridge_id: str) -> None:
        await self._request("DELETE", f"/bridges/{_seg(bridge_id)}")

    async def add_channel(
        self, bridge_id: str, channel_ids: str | Sequence[str], role: str | None = None
    ) -> None:
        channels = ",".join(_media_list(channel_ids))
        path = f"/bridges/{_seg(bridge_id)}/addChannel"
        await self._request("POST", path, params={"channel": channels, "role": role})

    async def remove_channel(self, bridge_id: str, channel_id: str) -> None:
        path = f"/bridges/{_seg(bridge_id)}/removeChannel"
        await self._request("POST", path, params={"channel": channel_id})

    async def play_bridge(
        self, bridge_id: str, media: str | Sequence[str], playback_id: str
    ) -> Playback:
        """Play media to everyone in a bridge (PlaybackFinished names ``bridge:<id>``)."""
        path = f"/bridges/{_seg(bridge_id)}/play/{_seg(playback_id)}"
        return await self._one(Playback, "POST", path, body={"media": _media_list(media)})

    async def record_bridge(
        self, bridge_id: str, name: str, *, format: str = "wav", max_duration_s: int = 0
    ) -> None:
        """Record a bridge's mix as the stored recording ``name`` (refused if it exists)."""
        params: dict[str, str | int | None] = {
            "name": name,
            "format": format,
            "ifExists": "fail",
            "maxDurationSeconds": max_duration_s,
        }
        await self._request("POST", f"/bridges/{_seg(bridge_id)}/record", params=params)

    async def stop_recording(self, name: str) -> None:
        await self._request("POST", f"/recordings/live/{_seg(name)}/stop")

    async def delete_recording(self, name: str) -> None:
        """Remove a stored recording. NotFound if Asterisk has no such recording."""
        await self._request("DELETE", f"/recordings/stored/{_seg(name)}")

    async def recording_file(self, name: str) -> bytes:
        """The stored recording's file. NotFound if Asterisk has no such recording."""
        return await self._bytes(f"/recordings/stored/{_seg(name)}/file")

    async def bridge_start_moh(self, bridge_id: str, moh_class: str | None = None) -> None:
        path = f"/bridges/{_seg(bridge_id)}/moh"
        await self._request("POST", path, params={"mohClass": moh_class})

    async def bridge_stop_moh(self, bridge_id: str) -> None:
        await self._request("DELETE", f"/bridges/{_seg(bridge_id)}/moh")

    # -- endpoints / device states ------------------------------------------------------------

    async def list_endpoints(self) -> list[Endpoint]:
        return await self._many(Endpoint, "/endpoints")

    async def get_endpoint(self, tech: str, resource: str) -> Endpoint:
        return await self._one(Endpoint, "GET", f"/endpoints/{_seg(tech)}/{_seg(resource)}")

    async def list_device_states(self) -> list[DeviceState]:
        return await self._many(DeviceState, "/deviceStates")


def _config_path(config_class: str, object_type: str, object_id: str) -> str:
    segments = (config_class, object_type, object_id)
    return "/asterisk/config/dynamic/" + "/".join(_seg(x) for x in segments)


def _config_tuples(data: Any, method: str, path: str) -> list[ConfigTuple]:
    if not isinstance(data, list):
        raise AriServerError("expected a JSON list", method=method, path=path)
    return [_validate(ConfigTuple, item, method, path) for item in data]


def _error_message(text: str, reason: str) -> str:
    """Asterisk's ``{"message": ...}``, else the start of a non-JSON body, else the reason."""
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return str(data["message"])
    return " ".join(text.split())[:200] or reason


def _validate(cls: type[M], data: Any, method: str, path: str) -> M:
    """Validate a response body. The pydantic error is not chained: it holds the values."""
    try:
        return cls.model_validate(data)
    except ValidationError as err:
        fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in err.errors())
        message = f"unexpected {cls.__name__} in response ({fields or 'root'})"
    raise AriError(message, method=method, path=path)
