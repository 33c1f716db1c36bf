"""Operators' softphone accounts pushed over ARI (push configuration, sorcery memory wizard)
to the real Asterisk 22, with SIPp softphones registering and taking calls.

Runs against whichever sandbox HOTLINE_ARI_URL / HOTLINE_SIP_PORT name, with its own Stasis
app (never "hotline"), its own operator names (random) and addresses (127.0.0.10+), and
removes every account it pushed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import pytest

from hotline.ari import (
    AllocationFailed,
    AriClient,
    AriConfig,
    ChannelDestroyed,
    Conflict,
    EndpointStateChange,
    Event,
    EventStream,
    NotFound,
    StasisStart,
    StreamConnected,
)
from hotline.operators import md5_cred, push_account, remove_account, sync_accounts
from tests.integration.conftest import ARI, ari_get
from tests.integration.softphone import (
    Behaviour,
    RegistrationFailed,
    Softphone,
    endpoint_state,
    next_ip,
)

pytestmark = pytest.mark.integration

APP = "hotline-test-accounts"
STATIC = frozenset({"pstn", "terminals", "duty", "duty2"})  # pjsip.conf
E = TypeVar("E", bound=Event)


def config() -> AriConfig:
    user = os.environ.get("HOTLINE_ARI_USER", "hotline")
    return AriConfig(ARI, user, os.environ["HOTLINE_ARI_PASSWORD"], APP)


def new_name() -> str:
    return f"optest{secrets.token_hex(4)}"


@pytest.fixture
async def ari(asterisk: None) -> AsyncIterator[AriClient]:
    async with AriClient(config()) as client:
        probe = new_name()
        try:
            await client.put_dynamic_config("res_pjsip", "aor", probe, {"max_contacts": "1"})
        except Conflict:
            pytest.fail(
                "this Asterisk cannot hold pushed PJSIP objects: it runs without "
                "asterisk-docker/etc/sorcery.conf (restart it: asterisk-docker/sandbox.sh start)"
            )
        await client.delete_dynamic_config("res_pjsip", "aor", probe)
        yield client


class Accounts:
    """Pushes accounts and remembers them, so that the test removes all of them."""

    def __init__(self, ari: AriClient) -> None:
        self.ari = ari
        self.names: set[str] = set()

    async def push(self, name: str, password: str) -> None:
        self.names.add(name)
        await push_account(self.ari, name, md5_cred(name, password))

    async def remove(self, name: str) -> bool:
        return await remove_account(self.ari, name)

    async def cleanup(self) -> None:
        for name in self.names:
            await remove_account(self.ari, name)


@pytest.fixture
async def accounts(ari: AriClient) -> AsyncIterator[Accounts]:
    acc = Accounts(ari)
    yield acc
    await acc.cleanup()


@pytest.fixture
async def phones() -> AsyncIterator[Callable[..., Softphone]]:
    """``phone(name, password, behaviour)``: a Softphone on a fresh address, stopped at the end."""
    made: list[Softphone] = []

    def make(name: str, password: str, behaviour: Behaviour = "answer") -> Softphone:
        phone = Softphone(name, password, next_ip(), behaviour)
        made.append(phone)
        return phone

    yield make
    for phone in made:
        await phone.stop()


class Events:
    """The test app's events WebSocket, recorded."""

    def __init__(self) -> None:
        self.seen: list[Event] = []
        self.changed = asyncio.Event()

    async def wait(self, kind: type[E], match: Callable[[E], bool], limit: float = 10.0) -> E:
        async with asyncio.timeout(limit):
            while True:
                for event in self.seen:
                    if isinstance(event, kind) and match(event):
                        return event
                self.changed.clear()
                await self.changed.wait()

    def of(self, kind: type[E], match: Callable[[E], bool]) -> list[E]:
        return [e for e in self.seen if isinstance(e, kind) and match(e)]


@pytest.fixture
async def events(asterisk: None) -> AsyncIterator[Events]:
    rec = Events()
    connected = asyncio.Event()

    async def consume() -> None:
        async with contextlib.aclosing(EventStream(config()).items()) as items:
            async for item in items:
                if isinstance(item, StreamConnected):
                    connected.set()
                elif isinstance(item, Event):
                    rec.seen.append(item)
                    rec.changed.set()

    task = asyncio.create_task(consume(), name="test-accounts-events")
    try:
        async with asyncio.timeout(10):
            await connected.wait()
        yield rec
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def channel_gone(channel_id: str, limit: float = 10.0) -> None:
    async with asyncio.timeout(limit):
        while await asyncio.to_thread(ari_get, f"/channels/{channel_id}") is not None:
            await asyncio.sleep(0.1)


def on(channel_id: str) -> Callable[[Any], bool]:
    return lambda e: bool(e.channel.id == channel_id)


# -- accounts and registration ---------------------------------------------------------------


async def test_pushed_account_registers_and_goes_online(
    ari: AriClient, accounts: Accounts, phones: Callable[..., Softphone]
) -> None:
    name = new_name()
    await accounts.push(name, "right-password")
    assert await endpoint_state(name) == "offline"
    pushed = {
        t.attribute: t.value for t in await ari.get_dynamic_config("res_pjsip", "endpoint", name)
    }
    assert (pushed["context"], pushed["aors"], pushed["auth"]) == ("operators", name, name)

    phone = phones(name, "right-password")
    await phone.start()
    assert await endpoint_state(name) == "online"
    # pushing again (what every reconnect does) keeps the registration
    await accounts.push(name, "right-password")
    await asyncio.sleep(0.5)
    assert await endpoint_state(name) == "online"

    await phone.stop()  # unregisters
    async with asyncio.timeout(5):
        while await endpoint_state(name) != "offline":
            await asyncio.sleep(0.1)


async def test_wrong_password_is_not_registered(
    accounts: Accounts, phones: Callable[..., Softphone]
) -> None:
    name = new_name()
    await accounts.push(name, "right-password")
    with pytest.raises(RegistrationFailed, match="SIPp exited"):
        await phones(name, "wrong-password").start()
    assert await endpoint_state(name) == "offline"


async def test_removed_account_is_refused_and_gone_until_pushed_again(
    ari: AriClient, accounts: Accounts, phones: Callable[..., Softphone]
) -> None:
    name = new_name()
    await accounts.push(name, "pw-1")
    first = phones(name, "pw-1")
    await first.start()

    assert await accounts.remove(name) is True
    assert await endpoint_state(name) is None  # GET /endpoints/PJSIP/<name>: 404
    assert name not in {e.resource for e in await ari.list_endpoints()}
    assert await accounts.remove(name) is False  # nothing left to remove
    with pytest.raises(NotFound):
        await ari.get_dynamic_config("res_pjsip", "aor", name)
    await first.stop()  # its unregistration is refused too; harmless

    with pytest.raises(RegistrationFailed, match="SIPp exited"):
        await phones(name, "pw-1").start()

    await accounts.push(name, "pw-1")
    # the registration did not come back with the account: deleting the aor dropped it
    assert await endpoint_state(name) == "offline"
    again = phones(name, "pw-1")
    await again.start()
    assert await endpoint_state(name) == "online"


async def test_static_peers_cannot_be_overwritten_or_removed(ari: AriClient) -> None:
    with pytest.raises(Conflict):
        await ari.put_dynamic_config("res_pjsip", "endpoint", "duty", {"context": "operators"})
    with pytest.raises(Conflict):
        await ari.delete_dynamic_config("res_pjsip", "endpoint", "duty")
    assert await endpoint_state("duty") is not None


async def test_sync_pushes_wanted_removes_stale_and_keeps_the_rest(
    ari: AriClient, accounts: Accounts
) -> None:
    # Everything that already exists (static peers, another test's operators) counts as
    # static here, so the sync touches only this test's accounts.
    others = frozenset(e.resource for e in await ari.list_endpoints())
    stale, keep, new = new_name(), new_name(), new_name()
    await accounts.push(stale, "x")
    await accounts.push(keep, "x")
    accounts.names.add(new)

    wanted = {keep: md5_cred(keep, "y"), new: md5_cred(new, "z")}
    result = await sync_accounts(ari, wanted, static=others | STATIC)
    assert set(result.pushed) == {keep, new}
    assert result.removed == (stale,)
    assert result.failed == {}
    names = {e.resource for e in await ari.list_endpoints()}
    assert {keep, new} <= names
    assert stale not in names
    assert others <= names
    auth = {t.attribute: t.value for t in await ari.get_dynamic_config("res_pjsip", "auth", keep)}
    assert auth["md5_cred"] == md5_cred(keep, "y")  # updated in place

    again = await sync_accounts(ari, wanted, static=others | STATIC)
    assert again.removed == ()


# -- calls to a softphone --------------------------------------------------------------------


async def test_answering_softphone_takes_calls_one_after_another(
    ari: AriClient, accounts: Accounts, phones: Callable[..., Softphone], events: Events
) -> None:
    name = new_name()
    await accounts.push(name, "pw")
    phone = phones(name, "pw", "answer")
    await phone.start()

    for n in (1, 2):
        channel = await ari.originate(f"PJSIP/{name}", app=APP, app_args="operator", timeout=10)
        start = await events.wait(StasisStart, on(channel.id))
        assert start.channel.state == "Up"
        assert start.args == ["operator"]
        assert (await ari.get_channel(channel.id)).state == "Up"
        await ari.hangup(channel.id)  # the service ends the call: the phone gets a BYE
        await phone.wait_for("ended", n)
        await channel_gone(channel.id)
    assert (phone.calls, phone.answered) == (2, 2)


async def test_softphone_that_rings_out_is_cancelled_at_the_originate_timeout(
    ari: AriClient, accounts: Accounts, phones: Callable[..., Softphone], events: Events
) -> None:
    name = new_name()
    await accounts.push(name, "pw")
    phone = phones(name, "pw", "ringout")
    await phone.start()

    loop = asyncio.get_running_loop()
    t0 = loop.time()
    channel = await ari.originate(f"PJSIP/{name}", app=APP, timeout=3)
    destroyed = await events.wait(ChannelDestroyed, on(channel.id), limit=10)
    assert 2.5 <= loop.time() - t0 < 6
    assert destroyed.cause == 19  # no answer (user alerted)
    assert events.of(StasisStart, on(channel.id)) == []
    await channel_gone(channel.id)
    await phone.wait_for("cancelled")
    assert (phone.calls, phone.answered) == (1, 0)


async def test_busy_softphone_ends_the_originate_at_once(
    ari: AriClient, accounts: Accounts, phones: Callable[..., Softphone], events: Events
) -> None:
    name = new_name()
    await accounts.push(name, "pw")
    phone = phones(name, "pw", "busy")
    await phone.start()

    loop = asyncio.get_running_loop()
    t0 = loop.time()
    channel = await ari.originate(f"PJSIP/{name}", app=APP, timeout=10)
    destroyed = await events.wait(ChannelDestroyed, on(channel.id), limit=5)
    assert loop.time() - t0 < 2
    assert destroyed.cause == 17  # user busy
    await channel_gone(channel.id)
    await phone.wait_for("busy")
    assert (phone.calls, phone.answered) == (1, 0)


async def test_originate_to_an_unregistered_operator_fails_at_once(
    ari: AriClient, accounts: Accounts
) -> None:
    name = new_name()
    await accounts.push(name, "pw")
    with pytest.raises(AllocationFailed):
        await ari.originate(f"PJSIP/{name}", app=APP, timeout=3)


async def test_endpoint_state_events_follow_registration(
    ari: AriClient, accounts: Accounts, phones: Callable[..., Softphone], events: Events
) -> None:
    name = new_name()
    await accounts.push(name, "pw")
    # Every PJSIP endpoint, also those pushed later. Subscriptions are counted: undo it once.
    await ari.subscribe(APP, "endpoint:PJSIP")
    try:
        phone = phones(name, "pw")
        await phone.start()
        await events.wait(
            EndpointStateChange,
            lambda e: e.endpoint.resource == name and e.endpoint.state == "online",
        )
        await phone.stop()
        await events.wait(
            EndpointStateChange,
            lambda e: e.endpoint.resource == name and e.endpoint.state == "offline",
        )
    finally:
        await ari.unsubscribe(APP, "endpoint:PJSIP")
