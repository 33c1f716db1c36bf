"""ARI push configuration, app subscriptions and operators' accounts, against the fake ARI.

The replies mimic what Asterisk 22.10 answered in the sandbox (bodies and messages).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from hotline.ari import (
    AriClient,
    AriConfig,
    AriError,
    AriUnavailable,
    AuthenticationFailed,
    BadRequest,
    Conflict,
    NotFound,
    Unprocessable,
)
from hotline.ari.models import ConfigTuple
from hotline.operators import (
    account_objects,
    md5_cred,
    push_account,
    remove_account,
    sync_accounts,
)

from .fake_ari import PASSWORD, USER, FakeAri

CRED = "a9d9e8cf005a7aa485a7798e275a0342"  # md5("op1001:asterisk:pw1")
BASE = "/asterisk/config/dynamic/res_pjsip"
STATIC = frozenset({"pstn", "terminals", "duty", "duty2"})


@pytest.fixture
async def fake() -> AsyncIterator[FakeAri]:
    server = FakeAri()
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def ari(fake: FakeAri) -> AsyncIterator[AriClient]:
    config = AriConfig(fake.base_url, USER, PASSWORD, "hotline-test", request_timeout=2.0)
    async with AriClient(config) as client:
        yield client


def app_body(name: str, endpoints: list[str]) -> dict[str, object]:
    return {
        "name": name,
        "channel_ids": [],
        "bridge_ids": [],
        "endpoint_ids": endpoints,
        "device_names": [],
        "events_allowed": [],
        "events_disallowed": [],
    }


def endpoint(resource: str, state: str = "offline") -> dict[str, object]:
    return {"technology": "PJSIP", "resource": resource, "state": state, "channel_ids": []}


# -- the ARI methods -----------------------------------------------------------------------


async def test_put_sends_fields_in_order_and_returns_tuples(fake: FakeAri, ari: AriClient) -> None:
    reply = [{"attribute": "max_contacts", "value": "1"}, {"attribute": "contact", "value": ""}]
    fake.replies["PUT", f"{BASE}/aor/op1001"] = (200, reply)
    result = await ari.put_dynamic_config(
        "res_pjsip", "aor", "op1001", {"max_contacts": "1", "remove_existing": "yes"}
    )
    assert result == [
        ConfigTuple(attribute="max_contacts", value="1"),
        ConfigTuple(attribute="contact", value=""),
    ]
    [req] = fake.requests
    assert (req.method, req.path) == ("PUT", f"{BASE}/aor/op1001")
    assert req.body == {
        "fields": [
            {"attribute": "max_contacts", "value": "1"},
            {"attribute": "remove_existing", "value": "yes"},
        ]
    }
    assert req.query == []


async def test_ids_are_one_path_segment(fake: FakeAri, ari: AriClient) -> None:
    fake.replies["PUT", "/asterisk/config/dynamic/res_pjsip/aor/a%2Fb%20c"] = (200, [])
    assert await ari.put_dynamic_config("res_pjsip", "aor", "a/b c", {}) == []
    assert fake.requests[0].path == "/asterisk/config/dynamic/res_pjsip/aor/a%2Fb%20c"


async def test_get_dynamic_config(fake: FakeAri, ari: AriClient) -> None:
    fake.replies["GET", f"{BASE}/auth/op1001"] = (
        200,
        [{"attribute": "username", "value": "op1001"}],
    )
    assert await ari.get_dynamic_config("res_pjsip", "auth", "op1001") == [
        ConfigTuple(attribute="username", value="op1001")
    ]
    fake.replies["GET", f"{BASE}/auth/nope"] = (404, {"message": "Object with id 'nope' not found"})
    with pytest.raises(NotFound):
        await ari.get_dynamic_config("res_pjsip", "auth", "nope")


async def test_put_errors(fake: FakeAri, ari: AriClient) -> None:
    fake.replies["PUT", f"{BASE}/endpoint/bad"] = (
        400,
        {"message": "Creation of object 'bad' failed field value validation"},
    )
    with pytest.raises(BadRequest):
        await ari.put_dynamic_config("res_pjsip", "endpoint", "bad", {"bogus": "x"})

    fake.replies["PUT", "/asterisk/config/dynamic/res_nope/endpoint/x"] = (
        404,
        {"message": "configClass 'res_nope' not found"},
    )
    with pytest.raises(NotFound):
        await ari.put_dynamic_config("res_nope", "endpoint", "x", {})


async def test_read_only_object_is_a_conflict_not_an_auth_failure(
    fake: FakeAri, ari: AriClient
) -> None:
    """A pjsip.conf object (config wizard): 403, which is not about credentials."""
    fake.replies["PUT", f"{BASE}/endpoint/duty"] = (
        403,
        {"message": "Cannot update sorcery objects of type 'endpoint'"},
    )
    with pytest.raises(Conflict) as put_err:
        await ari.put_dynamic_config("res_pjsip", "endpoint", "duty", {"context": "x"})
    assert put_err.value.status == 403
    assert not isinstance(put_err.value, AuthenticationFailed)

    fake.replies["PUT", f"{BASE}/auth/new"] = (
        403,
        {"message": "Cannot create sorcery objects of type 'auth'"},
    )
    with pytest.raises(Conflict):  # sorcery.conf without a memory wizard for auth
        await ari.put_dynamic_config("res_pjsip", "auth", "new", {})

    fake.replies["DELETE", f"{BASE}/endpoint/duty"] = (
        403,
        {"message": "Could not delete object with id 'duty'"},
    )
    with pytest.raises(Conflict):
        await ari.delete_dynamic_config("res_pjsip", "endpoint", "duty")


async def test_read_only_ari_user_is_still_an_auth_failure(fake: FakeAri, ari: AriClient) -> None:
    fake.replies["PUT", f"{BASE}/aor/x"] = (403, {"message": "Write access denied"})
    with pytest.raises(AuthenticationFailed):
        await ari.put_dynamic_config("res_pjsip", "aor", "x", {})


async def test_put_reply_must_be_a_list_of_tuples(fake: FakeAri, ari: AriClient) -> None:
    fake.replies["PUT", f"{BASE}/aor/x"] = (200, {"attribute": "a", "value": "b"})
    with pytest.raises(AriError, match="expected a JSON list"):
        await ari.put_dynamic_config("res_pjsip", "aor", "x", {})
    fake.replies["PUT", f"{BASE}/aor/y"] = (200, [{"attribute": "md5_cred", "value": 12345}])
    with pytest.raises(AriError, match="ConfigTuple") as err:
        await ari.put_dynamic_config("res_pjsip", "aor", "y", {})
    assert "12345" not in str(err.value)  # values (secrets) are not echoed


async def test_delete_dynamic_config(fake: FakeAri, ari: AriClient) -> None:
    await ari.delete_dynamic_config("res_pjsip", "endpoint", "op1001")
    fake.replies["DELETE", f"{BASE}/endpoint/gone"] = (
        404,
        {"message": "Object with id 'gone' not found"},
    )
    with pytest.raises(NotFound):
        await ari.delete_dynamic_config("res_pjsip", "endpoint", "gone")
    assert [(r.method, r.path) for r in fake.requests] == [
        ("DELETE", f"{BASE}/endpoint/op1001"),
        ("DELETE", f"{BASE}/endpoint/gone"),
    ]


async def test_subscribe_and_unsubscribe(fake: FakeAri, ari: AriClient) -> None:
    path = "/applications/hotline-test/subscription"
    fake.replies["POST", path] = (200, app_body("hotline-test", ["PJSIP"]))
    app = await ari.subscribe("hotline-test", "endpoint:PJSIP")
    assert app.endpoint_ids == ["PJSIP"]
    fake.replies["DELETE", path] = (200, app_body("hotline-test", []))
    app = await ari.unsubscribe("hotline-test", "endpoint:PJSIP")
    assert app.endpoint_ids == []
    assert [(r.method, r.path, r.query) for r in fake.requests] == [
        ("POST", path, [("eventSource", "endpoint:PJSIP")]),
        ("DELETE", path, [("eventSource", "endpoint:PJSIP")]),
    ]


async def test_subscription_errors(fake: FakeAri, ari: AriClient) -> None:
    fake.replies["POST", "/applications/nosuch/subscription"] = (
        404,
        {"message": "Application not found"},
    )
    with pytest.raises(NotFound):
        await ari.subscribe("nosuch", "endpoint:PJSIP")
    fake.replies["POST", "/applications/a/subscription"] = (
        422,
        {"message": "Event source does not exist"},
    )
    with pytest.raises(Unprocessable):
        await ari.subscribe("a", "endpoint:PJSIP/nosuch")
    fake.replies["DELETE", "/applications/a/subscription"] = (
        422,
        {"message": "Event source was not subscribed to"},
    )
    with pytest.raises(Unprocessable):
        await ari.unsubscribe("a", "endpoint:PJSIP")


# -- operators' accounts -------------------------------------------------------------------


def test_md5_cred() -> None:
    assert md5_cred("op1001", "pw1") == CRED


def test_account_objects() -> None:
    objects = account_objects("op1001", CRED)
    assert [(t, i) for t, i, _ in objects] == [
        ("auth", "op1001"),
        ("aor", "op1001"),
        ("endpoint", "op1001"),
    ]
    auth, aor, ep = (fields for _, _, fields in objects)
    assert auth == {
        "auth_type": "md5",
        "username": "op1001",
        "md5_cred": CRED,
        "realm": "asterisk",
    }
    assert aor == {"max_contacts": "1", "remove_existing": "yes", "qualify_frequency": "15"}
    assert ep["context"] == "operators"
    assert ep["transport"] == "transport-udp"
    assert ep["auth"] == ep["aors"] == "op1001"
    # disallow before allow: applied in order on top of the existing object
    assert list(ep).index("disallow") < list(ep).index("allow")
    assert ep["allow"] == "ulaw,alaw"
    for key, value in {
        "direct_media": "no",
        "rtp_symmetric": "yes",
        "force_rport": "yes",
        "rewrite_contact": "yes",
        "dtmf_mode": "rfc4733",
    }.items():
        assert ep[key] == value
    assert account_objects("op1001", CRED, context="ops2")[2][2]["context"] == "ops2"


@pytest.mark.parametrize("name", ["", "a b", "a@b", "a:b", "a;b", "a,b", "-a", "x" * 65, "é"])
def test_account_objects_refuses_bad_names(name: str) -> None:
    with pytest.raises(ValueError, match="user name"):
        account_objects(name, CRED)


@pytest.mark.parametrize("cred", ["", "pw1", CRED.upper(), CRED + "0"])
def test_account_objects_refuses_anything_but_a_digest(cred: str) -> None:
    with pytest.raises(ValueError, match="md5_cred"):
        account_objects("op1001", cred)


async def test_push_account_order_and_bodies(fake: FakeAri, ari: AriClient) -> None:
    for t in ("auth", "aor", "endpoint"):
        fake.replies["PUT", f"{BASE}/{t}/op1001"] = (200, [])
    await push_account(ari, "op1001", CRED)
    assert [r.path for r in fake.requests] == [
        f"{BASE}/auth/op1001",
        f"{BASE}/aor/op1001",
        f"{BASE}/endpoint/op1001",
    ]
    assert all(r.method == "PUT" for r in fake.requests)
    sent = {a["attribute"]: a["value"] for a in fake.requests[0].body["fields"]}
    assert sent["md5_cred"] == CRED
    assert "pw1" not in str([r.body for r in fake.requests])


async def test_push_account_stops_at_the_first_refusal(fake: FakeAri, ari: AriClient) -> None:
    fake.replies["PUT", f"{BASE}/auth/duty"] = (200, [])
    fake.replies["PUT", f"{BASE}/aor/duty"] = (
        403,
        {"message": "Cannot update sorcery objects of type 'aor'"},
    )
    with pytest.raises(Conflict):
        await push_account(ari, "duty", CRED)
    assert [r.path for r in fake.requests] == [f"{BASE}/auth/duty", f"{BASE}/aor/duty"]


async def test_remove_account_reverse_order_ignores_missing(fake: FakeAri, ari: AriClient) -> None:
    fake.replies["DELETE", f"{BASE}/aor/op1001"] = (404, {"message": "not found"})
    assert await remove_account(ari, "op1001") is True
    assert [(r.method, r.path) for r in fake.requests] == [
        ("DELETE", f"{BASE}/endpoint/op1001"),
        ("DELETE", f"{BASE}/aor/op1001"),
        ("DELETE", f"{BASE}/auth/op1001"),
    ]
    for t in ("auth", "aor", "endpoint"):
        fake.replies["DELETE", f"{BASE}/{t}/gone"] = (404, {"message": "not found"})
    assert await remove_account(ari, "gone") is False


async def test_remove_account_propagates_other_errors(fake: FakeAri, ari: AriClient) -> None:
    fake.replies["DELETE", f"{BASE}/endpoint/duty"] = (
        403,
        {"message": "Could not delete object with id 'duty'"},
    )
    with pytest.raises(Conflict):
        await remove_account(ari, "duty")


async def test_sync_pushes_wanted_and_removes_stale_dynamic_only(
    fake: FakeAri, ari: AriClient
) -> None:
    fake.replies["GET", "/endpoints"] = (
        200,
        [
            endpoint("duty", "online"),
            endpoint("pstn"),
            endpoint("op1", "online"),
            endpoint("old", "online"),
            {"technology": "IAX2", "resource": "other", "state": "offline", "channel_ids": []},
        ],
    )
    for t in ("auth", "aor", "endpoint"):
        for name in ("op1", "op2"):
            fake.replies["PUT", f"{BASE}/{t}/{name}"] = (200, [])
    result = await sync_accounts(ari, {"op1": CRED, "op2": md5_cred("op2", "x")}, static=STATIC)
    assert result.pushed == ("op1", "op2")
    assert result.removed == ("old",)
    assert result.failed == {}
    calls = [(r.method, r.path) for r in fake.requests]
    assert calls[:6] == [
        ("PUT", f"{BASE}/{t}/{n}") for n in ("op1", "op2") for t in ("auth", "aor", "endpoint")
    ]
    assert calls[6] == ("GET", "/endpoints")
    assert calls[7:] == [("DELETE", f"{BASE}/{t}/old") for t in ("endpoint", "aor", "auth")]


async def test_sync_reports_refused_accounts_and_goes_on(fake: FakeAri, ari: AriClient) -> None:
    fake.replies["GET", "/endpoints"] = (200, [endpoint("duty")])
    fake.replies["PUT", f"{BASE}/auth/bad"] = (
        400,
        {"message": "Creation of object 'bad' failed field value validation"},
    )
    for t in ("auth", "aor", "endpoint"):
        fake.replies["PUT", f"{BASE}/{t}/ok"] = (200, [])
    result = await sync_accounts(
        ari,
        {"duty": CRED, "bad": CRED, "no good": CRED, "ok": CRED},
        static=STATIC,
    )
    assert result.pushed == ("ok",)
    assert result.removed == ()
    assert set(result.failed) == {"duty", "bad", "no good"}
    assert "static" in result.failed["duty"]
    assert result.failed["bad"].startswith("BadRequest")
    # nothing was sent for the static name or the invalid one
    assert not any("duty" in r.path or "no%20good" in r.path for r in fake.requests)


async def test_sync_propagates_losing_ari(ari: AriClient, fake: FakeAri) -> None:
    await fake.close()
    with pytest.raises(AriUnavailable):
        await sync_accounts(ari, {"op1": CRED}, static=STATIC)
