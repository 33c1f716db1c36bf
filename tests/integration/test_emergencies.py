"""Emergencies (R8-R12) on the real stack: a terminal's call, the operator on a softphone,
120 and the family as phones behind the carrier trunk (SIPp, speaking), the duty supervisor's
phone; one conference in Asterisk, its audio measured through snoop channels."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import io
import secrets
import signal
import time
import wave
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import asyncpg
import pytest

from hotline.alarms.scaip import CONTENT_TYPE
from tests.integration import sipp
from tests.integration.conftest import SOUNDS_DIR, Service, ari_get, ari_request
from tests.integration.floorkit import Floor
from tests.integration.listen import ear, rms
from tests.integration.outside import OutsideLines
from tests.integration.softphone import Behaviour, Softphone
from tests.integration.tones import level, tone_pcap

pytestmark = pytest.mark.integration
TIER_S = 6
ESCALATE_S = 6
HEARD = 1000.0  # a tone's level in what a party hears (the tones are sent at 8000)
UNHEARD = 300.0  # nobody hears their own voice back


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


SCAIP = "127.0.0.1:15070"  # the service's receiver of terminals' alarm data, in these tests


SETTINGS = {
    "HOTLINE_EMERGENCY_TIER_S": str(TIER_S),
    "HOTLINE_TERMINAL_ESCALATE_S": str(ESCALATE_S),
    "HOTLINE_SCAIP_LISTEN": SCAIP,
}


@pytest.fixture
async def emergency_floor(service: Service) -> AsyncIterator[Floor]:
    await service.start(**SETTINGS)
    async with aiohttp.ClientSession() as http:
        floor = Floor(service, http)
        try:
            yield floor
        finally:
            await floor.undo()


Spawn = Callable[[Coroutine[Any, Any, Any]], "asyncio.Task[Any]"]


@pytest.fixture
async def spawn() -> AsyncIterator[Spawn]:
    """Start a task for the test (a phone on a call); whatever is still running when the test
    ends (a failed test) is cancelled, and its SIPp stopped."""
    tasks: list[asyncio.Task[Any]] = []

    def start(coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        tasks.append(asyncio.create_task(coro))
        return tasks[-1]

    yield start
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


@dataclass
class Elder:
    id: int
    district: str
    terminal: str
    tiers: dict[int, list[str]]


def number() -> str:
    return "139" + "".join(secrets.choice("0123456789") for _ in range(8))


async def make_elder(
    db: asyncpg.Connection, tiers: dict[int, int], *, high_risk: bool = False
) -> Elder:
    """A made-up elder of a district of their own, with a terminal and contacts by tier."""
    district = f"test-{secrets.token_hex(3)}"
    elder_id = await db.fetchval(
        "INSERT INTO elders (full_name, birth_date, address, district, health_conditions,"
        " medication, high_risk) VALUES ('测试老人', '1940-05-01', '测试路 8 号', $1,"
        " '高血压', '降压药', $2) RETURNING id",
        district,
        high_risk,
    )
    terminal = "186" + "".join(secrets.choice("0123456789") for _ in range(8))
    await db.execute("INSERT INTO terminals (elder_id, number) VALUES ($1, $2)", elder_id, terminal)
    numbers: dict[int, list[str]] = {}
    for tier, count in tiers.items():
        for _ in range(count):
            n = number()
            numbers.setdefault(tier, []).append(n)
            await db.execute(
                "INSERT INTO contacts (elder_id, full_name, relation, tier, number)"
                " VALUES ($1, '家属', '子女', $2, $3)",
                elder_id,
                tier,
                n,
            )
    return Elder(elder_id, district, terminal, numbers)


@dataclass(frozen=True)
class Tones:
    """Who speaks which tone (Hz), and the pcaps that carry them."""

    pcaps: dict[float, Path]

    def pcap(self, hz: float) -> Path:
        return self.pcaps[hz]


ELDER_HZ, AMBULANCE_HZ, FAMILY_HZ, OTHER_HZ = 440.0, 700.0, 1000.0, 1300.0


@pytest.fixture(scope="module")
def tones(tmp_path_factory: pytest.TempPathFactory) -> Tones:
    folder = tmp_path_factory.mktemp("tones")
    return Tones(
        {
            hz: tone_pcap(folder / f"{int(hz)}.pcap", hz, 150)
            for hz in (ELDER_HZ, AMBULANCE_HZ, FAMILY_HZ, OTHER_HZ)
        }
    )


async def terminal_desk(floor: Floor) -> tuple[int, Softphone]:
    """The terminal line routed to a queue of the test's own, one operator ready in it."""
    queue = await floor.queue()
    await floor.route("terminal", queue)
    return await floor.operator({queue: 0})


async def terminal_call(elder: Elder, tones: Tones, limit: float = 150) -> sipp.SippRun:
    """The elder presses the button: a call from the terminal gateway that speaks (the
    elder's tone) until the service hangs it up."""
    scenario = tones.pcap(ELDER_HZ).with_suffix(".xml")
    template = (sipp.SCENARIOS / "terminal_caller.xml").read_text()
    scenario.write_text(template.replace("PCAP_FILE", str(tones.pcap(ELDER_HZ))))
    return await sipp.call(
        "112",
        elder.terminal,
        from_ip=sipp.TERMINAL_GATEWAY_IP,
        scenario=str(scenario),
        limit=limit,
    )


def lines(
    tones: Tones, elder: Elder, behaviours: dict[str, Behaviour] | None = None
) -> OutsideLines:
    """120 and every family number speak their tone; the elder's own number (called back)
    speaks the elder's."""
    family = {n: tones.pcap(FAMILY_HZ) for numbers in elder.tiers.values() for n in numbers}
    return OutsideLines(
        behaviours or {},
        tones={
            "120": tones.pcap(AMBULANCE_HZ),
            elder.terminal: tones.pcap(ELDER_HZ),
            **family,
        },
        default_tone=tones.pcap(OTHER_HZ),
    )


async def live_call(db: asyncpg.Connection, since: dt.datetime, **where: Any) -> asyncpg.Record:
    clauses = " ".join(f"AND {k} IS NOT NULL" for k in where)
    async with asyncio.timeout(20):
        while True:
            row = await db.fetchrow(
                f"SELECT id, case_id FROM calls WHERE started_at >= $1 AND entry = 'terminal'"
                f" AND case_id IS NOT NULL {clauses} ORDER BY started_at DESC LIMIT 1",
                since,
            )
            if row is not None:
                return row
            await asyncio.sleep(0.1)


async def until(
    floor: Floor, case_id: Any, ok: Callable[[dict[str, Any]], bool], limit: float = 45
) -> dict[str, Any]:
    """The case's emergency once `ok` holds for it."""
    view: dict[str, Any] = {}
    try:
        async with asyncio.timeout(limit):
            while True:
                view = await floor.api("GET", f"/api/cases/{case_id}/emergency")
                if ok(view):
                    return view
                await asyncio.sleep(0.2)
    except TimeoutError:
        raise AssertionError(f"emergency never got there: {view}") from None


def legs(view: dict[str, Any], role: str) -> list[dict[str, Any]]:
    return [leg for leg in view["legs"] if leg["role"] == role]


def joined(view: dict[str, Any], role: str) -> bool:
    return any(leg["answered_at"] and not leg["left_at"] for leg in legs(view, role)) and role in {
        a["role"] for a in view["acknowledged"]
    }


async def channels_of(db: asyncpg.Connection, case_id: Any) -> dict[str, str]:
    """role -> channel id of the legs still on (the latest of each role)."""
    rows = await db.fetch(
        "SELECT role, channel_id FROM emergency_legs WHERE case_id = $1 AND answered_at IS"
        " NOT NULL AND left_at IS NULL ORDER BY answered_at",
        case_id,
    )
    return {r["role"]: r["channel_id"] for r in rows}


async def steps(db: asyncpg.Connection, case_id: Any) -> list[str]:
    rows = await db.fetch(
        "SELECT kind FROM case_events WHERE case_id = $1 ORDER BY at, id", case_id
    )
    return [r["kind"] for r in rows]


async def nothing_left(channel_ids: set[str], limit: float = 10) -> None:
    """None of these channels, and no bridge of ours, is left in Asterisk."""
    async with asyncio.timeout(limit):
        while True:
            live = {c["id"] for c in await asyncio.to_thread(ari_get, "/channels")}
            bridges = [
                b
                for b in await asyncio.to_thread(ari_get, "/bridges")
                if b["id"].startswith("hotline-call-")
            ]
            if not (live & channel_ids) and not bridges:
                return
            await asyncio.sleep(0.2)


async def legs_still_open(db: asyncpg.Connection, case_id: int, limit: float = 10) -> int:
    """How many of the case's legs have no end recorded, once the recorder has caught up
    (or after ``limit`` seconds)."""
    query = "SELECT count(*) FROM emergency_legs WHERE case_id = $1 AND left_at IS NULL"
    open_legs = int(await db.fetchval(query, case_id))
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(limit):
            while open_legs:
                await asyncio.sleep(0.2)
                open_legs = int(await db.fetchval(query, case_id))
    return open_legs


async def bridge_of(channel_id: str) -> set[str]:
    for bridge in await asyncio.to_thread(ari_get, "/bridges"):
        if channel_id in bridge["channels"]:
            return set(bridge["channels"])
    return set()


# --- the tests ------------------------------------------------------------------------


async def test_confirmed_emergency_brings_everyone_into_one_conference(
    emergency_floor: Floor, db: asyncpg.Connection, tones: Tones, spawn: Spawn
) -> None:
    floor = emergency_floor
    op_id, phone = await terminal_desk(floor)
    elder = await make_elder(db, {1: 1, 2: 1})
    route = {"area": elder.district, "ambulance": "120"}
    await floor.api("POST", "/api/emergency/routes", route)
    family = elder.tiers[1][0]
    since = now()
    async with lines(tones, elder) as outside, ear() as listen:
        caller = spawn(terminal_call(elder, tones))
        await phone.wait_for("answered", limit=20)
        call = await live_call(db, since, connected_at=True)
        t_confirm = time.time()
        confirmed = await floor.api("POST", f"/api/calls/{call['id']}/emergency")
        assert confirmed == {"status": "confirmed"}
        await outside.wait_for("answered-120")
        await outside.wait_for(f"answered-{family}")

        # 120 hears the summary on its own leg, outside the conference, before joining.
        view = await until(floor, call["case_id"], lambda v: bool(legs(v, "ambulance")))
        ambulance = (await channels_of(db, call["case_id"]))["ambulance"]
        elder_channel = (await channels_of(db, call["case_id"]))["elder"]
        assert ambulance not in await bridge_of(elder_channel)
        briefing = await listen.hears(ambulance)
        assert rms(briefing) > UNHEARD  # the summary, spoken to 120 alone ...
        assert level(briefing, ELDER_HZ) < UNHEARD  # ... not the conference

        view = await until(
            floor, call["case_id"], lambda v: joined(v, "ambulance") and joined(v, "family")
        )
        parties = await channels_of(db, call["case_id"])
        assert set(parties) == {"elder", "operator", "ambulance", "family"}
        assert await bridge_of(parties["elder"]) == set(parties.values())
        briefed = legs(view, "ambulance")[0]
        heard_s = (
            dt.datetime.fromisoformat(briefed["acknowledged_at"])
            - dt.datetime.fromisoformat(briefed["answered_at"])
        ).total_seconds()
        assert heard_s > 5  # the whole summary, not a click
        assert view["ambulance_reached"] is True
        assert legs(view, "family")[0]["tier"] == 1
        assert not [x for x in view["legs"] if x["role"] == "family" and x["tier"] == 2]

        # Audio flows: each party hears every other speaker, and not itself.
        speakers = {"elder": ELDER_HZ, "ambulance": AMBULANCE_HZ, "family": FAMILY_HZ}
        for role, channel in parties.items():
            heard = await listen.hears(channel)
            for speaker, hz in speakers.items():
                if speaker == role:
                    assert level(heard, hz) < UNHEARD, f"{role} hears itself"
                else:
                    assert level(heard, hz) > HEARD, f"{role} does not hear {speaker}"

        ended = await floor.api("POST", f"/api/calls/{call['id']}/emergency/end")
        assert ended == {"status": "ended"}
        run = await caller
        assert run.ok, run.output
        await phone.wait_for("ended")
        await outside.wait_for("ended-120")
        await outside.wait_for(f"ended-{family}")
        await nothing_left(set(parties.values()))

    view = await until(
        floor,
        call["case_id"],
        lambda v: bool(v["recordings"]) and all(x["left_at"] for x in v["legs"]),
    )
    # The spoken summary and notice (the elder's name, address, health) are not kept.
    spoken = [f for f in Path(SOUNDS_DIR).glob("tts-*.wav") if f.stat().st_mtime > t_confirm]
    assert spoken == []
    kinds = await steps(db, call["case_id"])
    for kind in ("emergency_confirmed", "recording_started", "leg_acknowledged", "leg_joined"):
        assert kind in kinds
    assert await db.fetchval("SELECT class FROM cases WHERE id = $1", call["case_id"]) == (
        "emergency"
    )
    tasks = {t["kind"]: t for t in view["tasks"]}
    assert tasks["family_follow_up"]["owner_operator_id"] == op_id
    due = dt.datetime.fromisoformat(tasks["family_follow_up"]["due_at"]).astimezone(
        ZoneInfo("Asia/Shanghai")
    )
    assert (due.hour, due.minute) == (17, 0)
    assert due.date() == since.astimezone(ZoneInfo("Asia/Shanghai")).date() + dt.timedelta(1)
    assert "hospital_updates" in tasks

    name = view["recordings"][0]["name"]
    url = f"http://127.0.0.1:{floor.service.port}/api/recordings/{name}"
    async with floor.http.get(
        url, headers={"Authorization": "Bearer test-admin-token-of-the-suite-0123456789"}
    ) as response:
        assert response.status == 200 and response.content_type == "audio/wav"
        data = await response.read()
    with wave.open(io.BytesIO(data)) as recording:
        assert recording.getnframes() / recording.getframerate() > 10


async def test_family_tier_unanswered_moves_on_and_120_refused_is_retried(
    emergency_floor: Floor, db: asyncpg.Connection, tones: Tones, spawn: Spawn
) -> None:
    floor = emergency_floor
    _, phone = await terminal_desk(floor)
    elder = await make_elder(db, {1: 1, 2: 1})
    await floor.api(
        "POST",
        "/api/emergency/routes",
        {"area": elder.district, "ambulance": "1201", "ambulance_alt": "120"},
    )
    first, second = elder.tiers[1][0], elder.tiers[2][0]
    since = now()
    async with lines(tones, elder, {"1201": "busy", first: "ringout"}) as outside:
        caller = spawn(terminal_call(elder, tones))
        await phone.wait_for("answered", limit=20)
        call = await live_call(db, since, connected_at=True)
        await floor.api("POST", f"/api/calls/{call['id']}/emergency")
        await outside.wait_for("busy-1201")
        await outside.wait_for("answered-120")  # at once, on the second route
        await outside.wait_for(f"cancelled-{first}", limit=TIER_S + 10)
        await outside.wait_for(f"answered-{second}", limit=10)
        view = await until(
            floor, call["case_id"], lambda v: joined(v, "family") and joined(v, "ambulance")
        )
        tries = legs(view, "ambulance")
        assert [(t["number"], t["attempt"]) for t in tries] == [("1201", 1), ("120", 2)]
        assert tries[0]["answered_at"] is None and tries[0]["end_cause"] == 17  # busy
        assert [x["tier"] for x in legs(view, "family") if x["answered_at"]] == [2]
        await floor.api("POST", f"/api/calls/{call['id']}/emergency/end")
        assert (await caller).ok
    kinds = await steps(db, call["case_id"])
    assert "supervisor_alerted" in kinds and "family_tier_unanswered" in kinds
    alerts = await db.fetch(
        "SELECT detail->>'reason' AS reason FROM case_events WHERE case_id = $1"
        " AND kind = 'supervisor_alerted'",
        call["case_id"],
    )
    assert {a["reason"] for a in alerts} == {"ambulance_unreached"}


async def test_nobody_answering_a_terminal_escalates_to_family_and_supervisor(
    emergency_floor: Floor, db: asyncpg.Connection, tones: Tones, spawn: Spawn
) -> None:
    floor = emergency_floor
    await floor.route("terminal", await floor.queue())  # nobody in it
    elder = await make_elder(db, {1: 1}, high_risk=True)  # 120 too, without a human
    family = elder.tiers[1][0]
    since = now()
    async with lines(tones, elder) as outside:
        duty = spawn(sipp.duty_phone(limit=90))
        caller = spawn(terminal_call(elder, tones))
        call = await live_call(db, since)
        await outside.wait_for(f"answered-{family}", limit=ESCALATE_S + 15)
        await outside.wait_for("answered-120")
        view = await until(
            floor,
            call["case_id"],
            lambda v: joined(v, "family") and joined(v, "supervisor") and joined(v, "ambulance"),
        )
        parties = await channels_of(db, call["case_id"])
        assert await bridge_of(parties["elder"]) == set(parties.values())
        assert "operator" not in parties
        await floor.api("POST", f"/api/calls/{call['id']}/emergency/end")
        assert (await caller).ok
        assert (await duty).ok
        await nothing_left(set(parties.values()))
    kinds = await steps(db, call["case_id"])
    assert kinds.index("unanswered_escalated") < kinds.index("emergency_escalated")
    escalated_at = await db.fetchval(
        "SELECT at FROM case_events WHERE case_id = $1 AND kind = 'emergency_escalated'",
        call["case_id"],
    )
    assert (escalated_at - since).total_seconds() >= ESCALATE_S - 1
    assert view["tasks"] and all(t["owner_operator_id"] is None for t in view["tasks"])


async def test_the_elder_hanging_up_is_called_back_and_the_others_stay(
    emergency_floor: Floor, db: asyncpg.Connection, tones: Tones, spawn: Spawn
) -> None:
    floor = emergency_floor
    _, phone = await terminal_desk(floor)
    elder = await make_elder(db, {1: 1})
    since = now()
    async with lines(tones, elder) as outside:
        caller = spawn(terminal_call(elder, tones))
        await phone.wait_for("answered", limit=20)
        call = await live_call(db, since, connected_at=True)
        await floor.api("POST", f"/api/calls/{call['id']}/emergency")
        await until(floor, call["case_id"], lambda v: joined(v, "family"))
        first = (await channels_of(db, call["case_id"]))["elder"]
        await asyncio.to_thread(ari_request, "DELETE", f"/channels/{first}")  # the line drops
        assert (await caller).ok
        await outside.wait_for(f"answered-{elder.terminal}", limit=15)
        view = await until(
            floor,
            call["case_id"],
            lambda v: sum(1 for x in legs(v, "elder") if x["answered_at"]) == 2,
        )
        parties = await channels_of(db, call["case_id"])
        assert parties["elder"] != first
        async with asyncio.timeout(10):
            while set(parties.values()) != await bridge_of(parties["family"]):
                await asyncio.sleep(0.2)
        assert phone.counts["ended"] == 0  # the operator stayed on
        await floor.api("POST", f"/api/calls/{call['id']}/emergency/end")
        await outside.wait_for(f"ended-{elder.terminal}")
        await nothing_left(set(parties.values()))
    kinds = await steps(db, call["case_id"])
    assert kinds.index("elder_dropped") < kinds.index("elder_back")
    assert [x["attempt"] for x in legs(view, "elder")] == [1, 2]


def alarm(elder: Elder, *, ref: str = "7A00F1") -> str:
    """A fall detector's alarm (dty 5, stc 9: an automatic alarm) from the elder's terminal."""
    return (
        f"<mrq><ref>{ref}</ref><mty>ME</mty><cid>26317</cid><dty>0005</dty><did>02</did>"
        f"<crd>gsm:{elder.terminal}</crd><stc>0009</stc><pri>1</pri><lco>021</lco>"
        "<lte>厨房</lte><lge><geo>39.9042,116.4074</geo></lge></mrq>"
    )


async def hang_up_caller(db: asyncpg.Connection, call_id: Any) -> None:
    channel = await db.fetchval("SELECT channel_id FROM calls WHERE id = $1", call_id)
    await asyncio.to_thread(ari_request, "DELETE", f"/channels/{channel}")


async def test_alarm_data_sent_before_the_call_is_put_on_its_case(
    emergency_floor: Floor, db: asyncpg.Connection, tones: Tones, spawn: Spawn, tmp_path: Path
) -> None:
    floor = emergency_floor
    _, phone = await terminal_desk(floor)
    elder = await make_elder(db, {1: 1})
    sent = await sipp.message(
        SCAIP, alarm(elder), content_type=CONTENT_TYPE, log=tmp_path / "mrs.log", expect_snu=0
    )
    assert sent.ok, sent.output
    since = now()
    caller = spawn(terminal_call(elder, tones))
    await phone.wait_for("answered", limit=20)
    call = await live_call(db, since, connected_at=True)
    view = await until(floor, call["case_id"], lambda v: bool(v["alarms"]))
    [data] = view["alarms"]
    assert (data["alarm_type"], data["ref"], data["device_type"]) == ("fall", "7A00F1", "5")
    assert (data["location_code"], data["location_text"]) == ("21", "厨房")
    assert (data["latitude"], data["longitude"]) == (39.9042, 116.4074)
    await hang_up_caller(db, call["id"])
    assert (await caller).ok
    assert "alarm_data" in await steps(db, call["case_id"])


async def test_malformed_alarm_data_is_answered_with_an_error_and_the_call_goes_on(
    emergency_floor: Floor, db: asyncpg.Connection, tones: Tones, spawn: Spawn, tmp_path: Path
) -> None:
    floor = emergency_floor
    _, phone = await terminal_desk(floor)
    elder = await make_elder(db, {1: 1})
    broken = alarm(elder).replace("<ref>7A00F1</ref>", "")  # no reference: SCAIP snu 7
    sent = await sipp.message(
        SCAIP, broken, content_type=CONTENT_TYPE, log=tmp_path / "mrs.log", expect_snu=7
    )
    assert sent.ok, sent.output
    since = now()
    caller = spawn(terminal_call(elder, tones))
    await phone.wait_for("answered", limit=20)
    call = await live_call(db, since, connected_at=True)
    await hang_up_caller(db, call["id"])
    assert (await caller).ok
    view = await floor.api("GET", f"/api/cases/{call['case_id']}/emergency")
    assert view["alarms"] == []
    log = floor.service.log.read_text()
    assert "snu=7" in log  # logged, without the data: no number, no place
    assert elder.terminal not in log and "厨房" not in log and "39.9" not in log


async def test_asterisk_refuses_scaip_messages_itself(tmp_path: Path) -> None:
    """Why the service receives SCAIP itself: Asterisk 22's PJSIP refuses any out-of-dialog
    MESSAGE that is not text/plain with 415 before its dialplan or ARI sees it."""
    refused = await sipp.message(
        sipp.ASTERISK,
        "<mrq><ref>1</ref><cid>1</cid><dty>0005</dty></mrq>",
        content_type=CONTENT_TYPE,
        log=tmp_path / "refused.log",
        scenario="message_refused.xml",
    )
    assert refused.ok, refused.output


async def test_operator_steps_out_and_back_repeats_the_summary_and_may_leave(
    emergency_floor: Floor, db: asyncpg.Connection, tones: Tones, spawn: Spawn
) -> None:
    floor = emergency_floor
    _, phone = await terminal_desk(floor)
    elder = await make_elder(db, {1: 1})
    centre = {"area": elder.district, "role": "care_centre", "name": "示范服务中心"}
    await floor.api("POST", "/api/emergency/parties", {**centre, "number": "96110"})
    office = {"area": elder.district, "role": "district_office", "name": "区民政局"}
    await floor.api(
        "POST", "/api/emergency/parties", {**office, "number": "12345", "mode": "notify"}
    )
    since = now()
    async with lines(tones, elder) as outside, ear() as listen:
        caller = spawn(terminal_call(elder, tones))
        await phone.wait_for("answered", limit=20)
        call = await live_call(db, since, connected_at=True)
        steps_url = f"/api/calls/{call['id']}/emergency"
        await floor.api("POST", steps_url)
        await outside.wait_for("answered-96110")
        view = await until(
            floor,
            call["case_id"],
            lambda v: joined(v, "ambulance") and joined(v, "family") and joined(v, "party"),
        )
        assert legs(view, "party")[0]["label"] == "care_centre"
        parties = await channels_of(db, call["case_id"])

        out = await floor.api("POST", f"{steps_url}/operator", {"action": "out"})
        assert out == {"status": "out"}
        assert parties["operator"] not in await bridge_of(parties["elder"])
        assert level(await listen.hears(parties["operator"]), ELDER_HZ) < UNHEARD
        back = await floor.api("POST", f"{steps_url}/operator", {"action": "in"})
        assert back == {"status": "in"}
        assert level(await listen.hears(parties["operator"]), ELDER_HZ) > HEARD

        again = await floor.api("POST", f"{steps_url}/summary")
        assert again == {"status": "playing"}

        # The operator leaves: the conference goes on without them.
        await asyncio.to_thread(ari_request, "DELETE", f"/channels/{parties['operator']}")
        await phone.wait_for("ended")
        await asyncio.sleep(1)
        still = await channels_of(db, call["case_id"])
        assert set(still) == {"elder", "ambulance", "family", "party"}
        assert await bridge_of(still["elder"]) == set(still.values())
        assert level(await listen.hears(still["elder"]), AMBULANCE_HZ) > HEARD

        await floor.api("POST", f"{steps_url}/end")
        assert (await caller).ok
        await outside.wait_for("ended-96110")
        await nothing_left(set(parties.values()))
    kinds = await steps(db, call["case_id"])
    for kind in (
        "operator_stepped_out",
        "operator_stepped_in",
        "summary_repeated",
        "operator_left_conference",
        "party_notified",
    ):
        assert kind in kinds, kind
    # The recorder writes behind the call: the legs' ends land shortly after the channels go.
    assert await legs_still_open(db, call["case_id"]) == 0


async def test_a_conference_survives_a_crash_of_the_service(
    emergency_floor: Floor, db: asyncpg.Connection, tones: Tones, spawn: Spawn
) -> None:
    floor = emergency_floor
    _, phone = await terminal_desk(floor)
    elder = await make_elder(db, {1: 1})
    family = elder.tiers[1][0]
    since = now()
    async with lines(tones, elder) as outside, ear() as listen:
        caller = spawn(terminal_call(elder, tones))
        await phone.wait_for("answered", limit=20)
        call = await live_call(db, since, connected_at=True)
        await floor.api("POST", f"/api/calls/{call['id']}/emergency")
        await until(
            floor, call["case_id"], lambda v: joined(v, "ambulance") and joined(v, "family")
        )
        parties = await channels_of(db, call["case_id"])
        assert await bridge_of(parties["elder"]) == set(parties.values())

        assert await floor.service.stop(signal.SIGKILL) == -signal.SIGKILL
        await asyncio.sleep(1)
        await floor.service.start(**SETTINGS)  # reconciles: the conference is adopted

        assert await bridge_of(parties["elder"]) == set(parties.values())
        for word in ("ended-120", f"ended-{family}"):
            assert outside.counts[word] == 0  # nobody was cut off
        assert phone.counts["ended"] == 0
        heard = await listen.hears(parties["elder"])
        assert level(heard, AMBULANCE_HZ) > HEARD and level(heard, FAMILY_HZ) > HEARD

        assert await floor.api("POST", f"/api/calls/{call['id']}/emergency/end") == {
            "status": "ended"
        }
        assert (await caller).ok
        await outside.wait_for("ended-120")
        await outside.wait_for(f"ended-{family}")
        await phone.wait_for("ended")
        await nothing_left(set(parties.values()))
    kinds = await steps(db, call["case_id"])
    assert kinds.index("resumed") < kinds.index("emergency_adopted")
    view = await floor.api("GET", f"/api/cases/{call['case_id']}/emergency")
    assert len(view["legs"]) == 4  # the same four legs, closed: none recorded twice
    assert all(leg["left_at"] for leg in view["legs"])


async def bridge_id_of(channel_id: str) -> str:
    for bridge in await asyncio.to_thread(ari_get, "/bridges"):
        if channel_id in bridge["channels"]:
            return str(bridge["id"])
    raise AssertionError(f"{channel_id} is in no bridge")


async def members(bridge_id: str) -> set[str]:
    """Who is in the bridge now (ARI /bridges); empty once it is gone."""
    for bridge in await asyncio.to_thread(ari_get, "/bridges"):
        if bridge["id"] == bridge_id:
            return set(bridge["channels"])
    return set()


async def until_members(bridge_id: str, wanted: set[str], limit: float = 15) -> None:
    seen: set[str] = set()
    try:
        async with asyncio.timeout(limit):
            while (seen := await members(bridge_id)) != wanted:
                await asyncio.sleep(0.2)
    except TimeoutError:
        raise AssertionError(f"bridge {bridge_id} holds {seen}, not {wanted}") from None


async def test_the_elder_hanging_up_while_the_service_is_down_is_called_back_after_it(
    emergency_floor: Floor, db: asyncpg.Connection, tones: Tones, spawn: Spawn
) -> None:
    floor = emergency_floor
    _, phone = await terminal_desk(floor)
    elder = await make_elder(db, {1: 1})
    family = elder.tiers[1][0]
    since = now()
    async with lines(tones, elder) as outside:
        caller = spawn(terminal_call(elder, tones))
        await phone.wait_for("answered", limit=20)
        call = await live_call(db, since, connected_at=True)
        await floor.api("POST", f"/api/calls/{call['id']}/emergency")
        await until(
            floor, call["case_id"], lambda v: joined(v, "ambulance") and joined(v, "family")
        )
        parties = await channels_of(db, call["case_id"])
        bridge = await bridge_id_of(parties["elder"])
        assert await members(bridge) == set(parties.values())

        assert await floor.service.stop(signal.SIGKILL) == -signal.SIGKILL
        # The elder hangs up while nobody listens to Asterisk.
        await asyncio.to_thread(ari_request, "DELETE", f"/channels/{parties['elder']}")
        assert (await caller).ok
        stayed = {parties[role] for role in ("operator", "ambulance", "family")}
        await until_members(bridge, stayed)
        await floor.service.start(**SETTINGS)

        assert stayed <= await members(bridge)  # the conference goes on, in its own bridge
        await outside.wait_for(f"answered-{elder.terminal}", limit=15)  # the elder called back
        view = await until(
            floor,
            call["case_id"],
            lambda v: sum(1 for x in legs(v, "elder") if x["answered_at"]) == 2,
        )
        back = (await channels_of(db, call["case_id"]))["elder"]
        assert back != parties["elder"]
        await until_members(bridge, stayed | {back})  # and rejoined the others
        for word in ("ended-120", f"ended-{family}"):
            assert outside.counts[word] == 0  # nobody was cut off
        assert phone.counts["ended"] == 0

        assert await floor.api("POST", f"/api/calls/{call['id']}/emergency/end") == {
            "status": "ended"
        }
        await outside.wait_for(f"ended-{elder.terminal}")
        await outside.wait_for("ended-120")
        await phone.wait_for("ended")
        await nothing_left(stayed | {back, parties["elder"]})
    kinds = await steps(db, call["case_id"])
    assert (
        kinds.index("resumed")
        < kinds.index("emergency_adopted")
        < kinds.index("elder_dropped")
        < kinds.index("elder_back")
    )
    assert await legs_still_open(db, call["case_id"]) == 0
    view = await floor.api("GET", f"/api/cases/{call['case_id']}/emergency")
    first, second = legs(view, "elder")
    assert first["left_at"] and first["end_reason"] == "hung_up"  # left while we were down
    assert (second["attempt"], second["number"]) == (2, elder.terminal)  # the call back
    assert len(view["legs"]) == 5  # the four of the conference and the call back: once each


async def test_an_elder_called_back_before_a_crash_is_adopted_as_the_elder(
    emergency_floor: Floor, db: asyncpg.Connection, tones: Tones, spawn: Spawn
) -> None:
    floor = emergency_floor
    _, phone = await terminal_desk(floor)
    elder = await make_elder(db, {1: 1})
    family = elder.tiers[1][0]
    since = now()
    async with lines(tones, elder) as outside:
        caller = spawn(terminal_call(elder, tones))
        await phone.wait_for("answered", limit=20)
        call = await live_call(db, since, connected_at=True)
        await floor.api("POST", f"/api/calls/{call['id']}/emergency")
        await until(floor, call["case_id"], lambda v: joined(v, "family"))
        first = (await channels_of(db, call["case_id"]))["elder"]
        await asyncio.to_thread(ari_request, "DELETE", f"/channels/{first}")  # the line drops
        assert (await caller).ok
        await outside.wait_for(f"answered-{elder.terminal}", limit=15)
        await until(
            floor,
            call["case_id"],
            lambda v: sum(1 for x in legs(v, "elder") if x["answered_at"]) == 2,
        )
        parties = await channels_of(db, call["case_id"])
        bridge = await bridge_id_of(parties["family"])
        await until_members(bridge, set(parties.values()))  # the elder's call back joined

        assert await floor.service.stop(signal.SIGKILL) == -signal.SIGKILL
        await asyncio.sleep(1)
        await floor.service.start(**SETTINGS)

        assert await members(bridge) == set(parties.values())  # nobody cut off
        await asyncio.sleep(2)
        assert outside.counts[f"invite-{elder.terminal}"] == 1  # not called again
        for word in ("ended-120", f"ended-{family}", f"ended-{elder.terminal}"):
            assert outside.counts[word] == 0
        assert phone.counts["ended"] == 0

        # The adopted call back is the elder's line: its drop is called back as any other.
        await asyncio.to_thread(ari_request, "DELETE", f"/channels/{parties['elder']}")
        await outside.wait_for(f"answered-{elder.terminal}", count=2, limit=15)
        view = await until(
            floor,
            call["case_id"],
            lambda v: sum(1 for x in legs(v, "elder") if x["answered_at"]) == 3,
        )
        again = (await channels_of(db, call["case_id"]))["elder"]
        await until_members(bridge, (set(parties.values()) - {parties["elder"]}) | {again})
        await floor.api("POST", f"/api/calls/{call['id']}/emergency/end")
        await phone.wait_for("ended")
        await nothing_left(set(parties.values()) | {again})
    kinds = await steps(db, call["case_id"])
    adopted = kinds.index("emergency_adopted")
    assert kinds[:adopted].count("elder_dropped") == 1  # before the crash
    assert kinds[adopted:].count("elder_dropped") == 1  # the adopted line's drop
    assert [x["attempt"] for x in legs(view, "elder")] == [1, 2, 3]
    assert await legs_still_open(db, call["case_id"]) == 0


async def test_an_operator_stepped_out_at_a_crash_is_kept_and_steps_back_in(
    emergency_floor: Floor, db: asyncpg.Connection, tones: Tones, spawn: Spawn
) -> None:
    floor = emergency_floor
    _, phone = await terminal_desk(floor)
    elder = await make_elder(db, {1: 1})
    since = now()
    async with lines(tones, elder) as outside, ear() as listen:
        caller = spawn(terminal_call(elder, tones))
        await phone.wait_for("answered", limit=20)
        call = await live_call(db, since, connected_at=True)
        steps_url = f"/api/calls/{call['id']}/emergency"
        await floor.api("POST", steps_url)
        await until(
            floor, call["case_id"], lambda v: joined(v, "ambulance") and joined(v, "family")
        )
        parties = await channels_of(db, call["case_id"])
        bridge = await bridge_id_of(parties["elder"])
        assert await floor.api("POST", f"{steps_url}/operator", {"action": "out"}) == {
            "status": "out"
        }
        assert parties["operator"] not in await members(bridge)

        assert await floor.service.stop(signal.SIGKILL) == -signal.SIGKILL
        await asyncio.sleep(1)
        await floor.service.start(**SETTINGS)

        others = set(parties.values()) - {parties["operator"]}
        assert await members(bridge) == others  # still out, and not hung up
        live = {c["id"] for c in await asyncio.to_thread(ari_get, "/channels")}
        assert parties["operator"] in live and phone.counts["ended"] == 0
        assert level(await listen.hears(parties["operator"]), ELDER_HZ) < UNHEARD

        back = await floor.api("POST", f"{steps_url}/operator", {"action": "in"})
        assert back == {"status": "in"}
        assert await members(bridge) == set(parties.values())
        assert level(await listen.hears(parties["operator"]), ELDER_HZ) > HEARD

        await floor.api("POST", f"{steps_url}/end")
        assert (await caller).ok
        await outside.wait_for("ended-120")
        await phone.wait_for("ended")
        await nothing_left(set(parties.values()))
    kinds = await steps(db, call["case_id"])
    assert kinds.index("emergency_adopted") < kinds.index("operator_stepped_in")
    assert await legs_still_open(db, call["case_id"]) == 0
