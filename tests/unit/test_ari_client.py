"""AriClient against the fake ARI server."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest

from hotline.ari import (
    AllocationFailed,
    AriClient,
    AriConfig,
    AriError,
    AriServerError,
    AriUnavailable,
    AuthenticationFailed,
    BadRequest,
    Conflict,
    NotFound,
    PreconditionFailed,
    Unprocessable,
)

from .fake_ari import PASSWORD, USER, FakeAri

CHANNEL = {
    "id": "1700000000.42",
    "name": "PJSIP/caller-00000001",
    "state": "Ring",
    "protocol_id": "abc@127.0.0.1",
    "caller": {"name": "Anna Example", "number": "5551234"},
    "connected": {"name": "", "number": ""},
    "accountcode": "",
    "dialplan": {
        "context": "hotline",
        "exten": "100",
        "priority": 3,
        "app_name": "Stasis",
        "app_data": "hotline,main",
    },
    "creationtime": "2025-01-02T10:00:00.123+0000",
    "language": "en",
    "some_future_field": 1,
}


def config(base_url: str, password: str = PASSWORD, timeout: float = 5.0) -> AriConfig:
    return AriConfig(base_url, USER, password, "hotline", request_timeout=timeout)


@pytest.fixture
async def fake() -> AsyncIterator[FakeAri]:
    server = FakeAri()
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def ari(fake: FakeAri) -> AsyncIterator[AriClient]:
    async with AriClient(config(fake.base_url)) as client:
        yield client


def test_config_repr_hides_password() -> None:
    cfg = config("http://127.0.0.1:8088")
    assert PASSWORD not in repr(cfg)
    assert cfg.rest_url == "http://127.0.0.1:8088/ari"
    assert cfg.events_url == "ws://127.0.0.1:8088/ari/events"
    assert AriConfig("https://h/", "u", "p", "a").events_url == "wss://h/ari/events"


async def test_credentials_only_in_basic_auth_header(fake: FakeAri, ari: AriClient) -> None:
    fake.replies["GET", "/asterisk/info"] = (200, {"system": {"version": "22.5.0"}})
    info = await ari.asterisk_info()
    assert info["system"]["version"] == "22.5.0"
    [req] = fake.requests
    assert req.authorization is not None and req.authorization.startswith("Basic ")
    assert all(key != "api_key" for key, _ in req.query)
    assert all(PASSWORD not in value for _, value in req.query)


async def test_wrong_password_is_authentication_failed_without_the_password(
    fake: FakeAri,
) -> None:
    wrong = "not-the-Right-one"
    async with AriClient(config(fake.base_url, password=wrong)) as ari:
        with pytest.raises(AuthenticationFailed) as info:
            await ari.asterisk_info()
    err = info.value
    assert (err.status, err.method, err.path) == (401, "GET", "/asterisk/info")
    assert wrong not in str(err) and wrong not in repr(err.args)


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (400, {"message": "Invalid endpoint specified"}, BadRequest),
        (401, {"message": "Authentication required"}, AuthenticationFailed),
        (403, {"message": "Forbidden"}, AuthenticationFailed),
        (404, {"message": "Channel not found"}, NotFound),
        (409, {"message": "Channel not in Stasis application"}, Conflict),
        (412, {"message": "Channel in invalid state"}, PreconditionFailed),
        (422, {"message": "Endpoint not found"}, Unprocessable),
        (500, {"message": "Allocation failed"}, AllocationFailed),
        (500, {"message": "Response validation failed"}, AriServerError),
        (502, "<html><body>Bad gateway</body></html>", AriServerError),
        (503, "Service Unavailable", AriUnavailable),
    ],
)
async def test_status_maps_to_typed_error(
    fake: FakeAri, ari: AriClient, status: int, body: object, expected: type[AriError]
) -> None:
    fake.replies["GET", "/channels/c1"] = (status, body)
    with pytest.raises(expected) as info:
        await ari.get_channel("c1")
    err = info.value
    assert type(err) is expected
    assert (err.status, err.method, err.path) == (status, "GET", "/channels/c1")
    if isinstance(body, dict):
        assert err.message == body["message"]
    else:
        assert err.message  # the start of a non-JSON body, whitespace collapsed
    assert PASSWORD not in str(err)


async def test_allocation_failed_is_a_server_error(fake: FakeAri, ari: AriClient) -> None:
    fake.replies["POST", "/channels"] = (500, {"message": "Allocation failed"})
    with pytest.raises(AriServerError) as info:
        await ari.originate("PJSIP/unreachable", app="hotline")
    assert isinstance(info.value, AllocationFailed)


async def test_connection_refused_is_unavailable() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with AriClient(config(f"http://127.0.0.1:{port}")) as ari:
        with pytest.raises(AriUnavailable) as info:
            await ari.list_channels()
    assert info.value.status is None
    assert info.value.path == "/channels"
    assert PASSWORD not in str(info.value)


async def test_timeout_is_unavailable(fake: FakeAri) -> None:
    fake.delay = 1.0
    async with AriClient(config(fake.base_url, timeout=0.1)) as ari:
        with pytest.raises(AriUnavailable, match="timed out"):
            await ari.list_channels()


async def test_channel_model_tolerates_extra_and_missing_optional_fields(
    fake: FakeAri, ari: AriClient
) -> None:
    fake.replies["GET", "/channels"] = (200, [CHANNEL])
    [chan] = await ari.list_channels()
    assert chan.id == "1700000000.42"
    assert chan.caller.number == "5551234"
    assert chan.dialplan.priority == 3 and chan.dialplan.app_data == "hotline,main"
    assert chan.creationtime is not None and chan.creationtime.year == 2025
    assert chan.linkedid is None and chan.channelvars is None
    assert chan.model_extra == {"some_future_field": 1}


async def test_unexpected_response_shape_names_fields_not_values(
    fake: FakeAri, ari: AriClient
) -> None:
    fake.replies["GET", "/channels/c1"] = (200, {**CHANNEL, "id": None})
    with pytest.raises(AriError) as info:
        await ari.get_channel("c1")
    assert "id" in str(info.value)
    assert "Anna" not in str(info.value) and info.value.__cause__ is None


async def test_originate_sends_everything_in_the_json_body(fake: FakeAri, ari: AriClient) -> None:
    fake.replies["POST", "/channels"] = (200, CHANNEL)
    chan = await ari.originate(
        "PJSIP/operator1",
        app="hotline",
        app_args="operator,case-7",
        channel_id="op-1",
        caller_id="Hotline <13800000000>",
        timeout=20,
        variables={"HOTLINE_CASE": "case-7"},
    )
    assert chan.id == CHANNEL["id"]
    [req] = fake.requests
    assert dict(req.query) == {}  # a caller's number never goes into a URL
    assert req.body == {
        "endpoint": "PJSIP/operator1",
        "app": "hotline",
        "appArgs": "operator,case-7",
        "channelId": "op-1",
        "callerId": "Hotline <13800000000>",
        "timeout": 20,
        "variables": {"HOTLINE_CASE": "case-7"},
    }


async def test_snoop_names_the_app_directions_and_id(fake: FakeAri, ari: AriClient) -> None:
    fake.replies["POST", "/channels/hlop-7-ab/snoop"] = (200, {**CHANNEL, "id": "hlsup-1"})
    chan = await ari.snoop(
        "hlop-7-ab", app="hotline", spy="both", whisper="out", snoop_id="hlsup-1"
    )
    assert chan.id == "hlsup-1"
    fake.replies["POST", "/channels/gone/snoop"] = (404, {"message": "Channel not found"})
    with pytest.raises(NotFound):
        await ari.snoop("gone", app="hotline", spy="in", app_args="supervision")
    first, second = fake.requests
    assert dict(first.query) == {
        "app": "hotline",
        "spy": "both",
        "whisper": "out",
        "snoopId": "hlsup-1",
    }
    assert dict(second.query) == {
        "app": "hotline",
        "spy": "in",
        "whisper": "none",
        "appArgs": "supervision",
    }


async def test_play_sends_every_media_uri(fake: FakeAri, ari: AriClient) -> None:
    playback = {
        "id": "pb-1",
        "media_uri": "sound:hello",
        "next_media_uri": "sound:please-wait",
        "target_uri": "channel:c1",
        "language": "de",
        "state": "queued",
    }
    fake.replies["POST", "/channels/c1/play/pb-1"] = (200, playback)
    result = await ari.play("c1", ["sound:hello", "sound:please-wait"], "pb-1", lang="de")
    assert result.id == "pb-1" and result.next_media_uri == "sound:please-wait"
    await ari.play("c1", "sound:single", "pb-1")
    first, second = fake.requests
    assert first.body == {"media": ["sound:hello", "sound:please-wait"], "lang": "de"}
    assert second.body == {"media": ["sound:single"]}


async def test_get_variable_distinguishes_unset_variable_from_gone_channel(
    fake: FakeAri, ari: AriClient
) -> None:
    fake.replies["GET", "/channels/c1/variable"] = (200, {"value": "x"})
    assert await ari.get_variable("c1", "HOTLINE_ENTRY") == "x"
    assert fake.requests[-1].query == [("variable", "HOTLINE_ENTRY")]
    fake.replies["GET", "/channels/c1/variable"] = (
        404,
        {"message": "Provided variable was not found"},
    )
    assert await ari.get_variable("c1", "UNSET") is None
    fake.replies["GET", "/channels/c1/variable"] = (
        404,
        {"message": "Provided channel was not found"},
    )
    with pytest.raises(NotFound):
        await ari.get_variable("c1", "HOTLINE_ENTRY")


async def test_simple_operations_hit_the_right_endpoints(fake: FakeAri, ari: AriClient) -> None:
    await ari.answer("c1")
    await ari.ring("c1")
    await ari.hangup("c1")
    await ari.stop_playback("pb-1")
    await ari.start_moh("c1", "default")
    await ari.stop_moh("c1")
    await ari.set_variable("c1", "HOTLINE_CASE", "case-7")
    await ari.continue_in_dialplan("c1", context="fallback", extension="s", priority=1)
    await ari.destroy_bridge("b1")
    await ari.add_channel("b1", ["c1", "c2"], role="caller")
    await ari.add_channel("b1", "c3")
    await ari.remove_channel("b1", "c1")
    await ari.bridge_start_moh("b1")
    await ari.bridge_stop_moh("b1")
    seen = [(r.method, r.path, dict(r.query)) for r in fake.requests]
    assert seen == [
        ("POST", "/channels/c1/answer", {}),
        ("POST", "/channels/c1/ring", {}),
        ("DELETE", "/channels/c1", {"reason": "normal"}),
        ("DELETE", "/playbacks/pb-1", {}),
        ("POST", "/channels/c1/moh", {"mohClass": "default"}),
        ("DELETE", "/channels/c1/moh", {}),
        ("POST", "/channels/c1/variable", {"variable": "HOTLINE_CASE", "value": "case-7"}),
        (
            "POST",
            "/channels/c1/continue",
            {"context": "fallback", "extension": "s", "priority": "1"},
        ),
        ("DELETE", "/bridges/b1", {}),
        ("POST", "/bridges/b1/addChannel", {"channel": "c1,c2", "role": "caller"}),
        ("POST", "/bridges/b1/addChannel", {"channel": "c3"}),
        ("POST", "/bridges/b1/removeChannel", {"channel": "c1"}),
        ("POST", "/bridges/b1/moh", {}),
        ("DELETE", "/bridges/b1/moh", {}),
    ]
    assert all(r.authorization for r in fake.requests)


async def test_listing_resources(fake: FakeAri, ari: AriClient) -> None:
    bridge = {
        "id": "queue-1",
        "technology": "holding_bridge",
        "bridge_type": "holding",
        "bridge_class": "stasis",
        "creator": "Stasis",
        "name": "waiting",
        "channels": ["c1"],
        "creationtime": "2025-01-02T10:00:00.000+0000",
    }
    fake.replies["POST", "/bridges/queue-1"] = (200, bridge)
    fake.replies["GET", "/bridges"] = (200, [bridge])
    fake.replies["GET", "/bridges/queue-1"] = (200, bridge)
    fake.replies["GET", "/applications/hotline"] = (
        200,
        {
            "name": "hotline",
            "channel_ids": ["c1"],
            "bridge_ids": ["queue-1"],
            "endpoint_ids": [],
            "device_names": [],
            "events_allowed": [],
            "events_disallowed": [],
        },
    )
    endpoint = {"technology": "PJSIP", "resource": "op/1", "state": "online", "channel_ids": []}
    fake.replies["GET", "/endpoints"] = (200, [endpoint])
    fake.replies["GET", "/endpoints/PJSIP/op%2F1"] = (200, endpoint)
    fake.replies["GET", "/deviceStates"] = (200, [{"name": "PJSIP/op1", "state": "NOT_INUSE"}])

    created = await ari.create_bridge("queue-1", type="holding", name="waiting")
    assert created.channels == ["c1"]
    assert fake.requests[-1].query == [("type", "holding"), ("name", "waiting")]
    assert [b.id for b in await ari.list_bridges()] == ["queue-1"]
    assert (await ari.get_bridge("queue-1")).bridge_type == "holding"
    app = await ari.get_application("hotline")
    assert app.channel_ids == ["c1"] and app.bridge_ids == ["queue-1"]
    assert (await ari.list_endpoints())[0].resource == "op/1"
    assert (await ari.get_endpoint("PJSIP", "op/1")).state == "online"
    assert (await ari.list_device_states())[0].state == "NOT_INUSE"


async def test_use_outside_context_manager_is_an_error() -> None:
    ari = AriClient(config("http://127.0.0.1:1"))
    with pytest.raises(RuntimeError):
        await ari.list_channels()
