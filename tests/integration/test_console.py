"""The operators' console in a real headless browser (Debian's chromium, driven by
Playwright) against the real service, Asterisk sandbox, PostgreSQL and SIPp phones."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import re
import secrets
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from playwright.async_api import Page, expect

from hotline.workdays import NoSchedule, WorkCalendar
from tests.browser.conftest import NewPage, save_screenshot
from tests.integration import sipp
from tests.integration.calendars import service_calendar
from tests.integration.conftest import ari_get
from tests.integration.floorkit import Floor
from tests.integration.pg import sqlalchemy_url
from tests.integration.test_calls import ELDER_MOBILE

pytestmark = pytest.mark.integration

PASSWORD = "console-password-1"
TZ = ZoneInfo("Asia/Shanghai")
SHOTS = os.environ.get("HOTLINE_SCREENSHOTS")  # a folder: save the README's screenshots there
WAIT_MS = 15_000


def base(floor: Floor) -> str:
    return f"http://127.0.0.1:{floor.service.port}"


async def operator(floor: Floor, queue: str, **kw: Any) -> tuple[int, str, Any]:
    op_id, phone = await floor.operator({queue: 0}, console_password=PASSWORD, **kw)
    created = await floor.api("GET", f"/api/operators/{op_id}")
    return op_id, created["username"], phone


async def log_in(page: Page, floor: Floor, username: str, *, then: str = "/console") -> None:
    """Log in through the form; with `then` = /console, wait for the console's socket."""
    await page.goto(f"{base(floor)}/console/login")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    async with page.expect_websocket() as opened:
        await page.click("#login")
    socket = await opened.value
    assert socket.url.endswith("/console/ws")
    if then != "/console" and not page.url.endswith(then):
        await page.goto(f"{base(floor)}{then}")
    await asyncio.sleep(0.3)  # the hub has attached the socket


async def elder(db: asyncpg.Connection, name: str, number: str, **fields: Any) -> int:
    columns = ["full_name", *fields]
    values = [name, *fields.values()]
    marks = ", ".join(f"${i + 1}" for i in range(len(values)))
    elder_id = int(
        await db.fetchval(
            f"INSERT INTO elders ({', '.join(columns)}) VALUES ({marks}) RETURNING id",
            *values,
        )
    )
    await db.execute(
        "INSERT INTO elder_phones (elder_id, number) VALUES ($1, $2)", elder_id, number
    )
    return elder_id


def bridged(channel: str) -> bool:
    return any(channel in b["channels"] for b in ari_get("/bridges") or [])


async def until(check: Any, limit: float = 5.0) -> None:
    async with asyncio.timeout(limit):
        while not await asyncio.to_thread(check):
            await asyncio.sleep(0.1)


def fresh_number() -> str:
    return "137" + "".join(secrets.choice("0123456789") for _ in range(8))


async def written(db: asyncpg.Connection, query: str, *args: Any, limit: float = 5.0) -> Any:
    """The first value of `query` once the service's recorder has written it (not None)."""
    async with asyncio.timeout(limit):
        while (value := await db.fetchval(query, *args)) is None:
            await asyncio.sleep(0.1)
    return value


async def timeline(db: asyncpg.Connection, case_id: Any) -> list[tuple[str, str]]:
    rows = await db.fetch(
        "SELECT kind, actor FROM case_events WHERE case_id = $1 ORDER BY at, id", case_id
    )
    return [(r["kind"], r["actor"]) for r in rows]


# --- the screen pop --------------------------------------------------------------------


async def test_the_elder_pops_on_the_operators_screen_before_they_answer(
    floor: Floor, new_page: NewPage, db: asyncpg.Connection
) -> None:
    queue = await floor.queue(ring_timeout_s=15)
    await floor.route("hotline", queue)
    op_id, username, phone = await operator(floor, queue, ring_ms=4000)
    page = await new_page()
    await log_in(page, floor, username)
    call = asyncio.create_task(sipp.call("12349", ELDER_MOBILE, hold_ms=9000))
    try:
        await expect(page.locator("#pop-name")).to_have_text("王秀英", timeout=WAIT_MS)
        assert phone.answered == 0, "the pop must come while the softphone rings"
        await expect(page.locator("#pop-address")).to_contain_text("幸福路 1 号")
        await expect(page.locator("#pop-number")).to_have_text(ELDER_MOBILE)
        await expect(page.locator("#pop-kind")).to_have_text("老人本人")
        if SHOTS:
            await save_screenshot(page, Path(SHOTS) / "operator-pop.png")
        # Answered: the call's controls and the case form arrive without a reload.
        await phone.wait_for("answered", limit=10)
        await expect(page.locator("#btn-hangup")).to_be_visible(timeout=WAIT_MS)
        await expect(page.locator("#form-classify")).to_be_visible(timeout=WAIT_MS)
    finally:
        assert (await call).ok
    elder_id = await db.fetchval(
        "SELECT elder_id FROM elder_phones WHERE number = $1", ELDER_MOBILE
    )
    seen = await db.fetchrow(
        "SELECT why, call_id FROM record_access WHERE operator_id = $1 AND elder_id = $2",
        op_id,
        elder_id,
    )
    assert seen is not None and seen["why"] == "offered" and seen["call_id"] is not None


async def test_an_unknown_caller_gets_a_quick_create_form(
    floor: Floor, new_page: NewPage, db: asyncpg.Connection
) -> None:
    queue = await floor.queue(ring_timeout_s=15)
    await floor.route("hotline", queue)
    _, username, _ = await operator(floor, queue, ring_ms=3000)
    page = await new_page(locale="en-US")
    await log_in(page, floor, username)
    number = fresh_number()
    call = asyncio.create_task(sipp.call("12349", number, hold_ms=8000))
    try:
        await expect(page.locator("#pop-quick")).to_be_visible(timeout=WAIT_MS)
        await expect(page.locator("#pop-kind")).to_have_text("Unknown caller")
        await page.fill("#pop-quick input[name=full_name]", "赵新")
        await page.fill("#pop-quick input[name=address]", "海淀区 3 号")
        await page.click("#btn-quick-create")
        await expect(page.locator("#pop .ok")).to_be_visible(timeout=WAIT_MS)
    finally:
        assert (await call).ok
    made = await db.fetchrow(
        "SELECT e.full_name, e.address FROM elders e JOIN elder_phones p ON p.elder_id = e.id "
        "WHERE p.number = $1",
        number,
    )
    assert made is not None and (made["full_name"], made["address"]) == ("赵新", "海淀区 3 号")
    linked = await db.fetchrow(
        "SELECT c.elder_id, c.identified FROM cases c JOIN calls k ON k.case_id = c.id "
        "WHERE k.caller_number = $1",
        number,
    )
    elder_id = await db.fetchval("SELECT elder_id FROM elder_phones WHERE number = $1", number)
    assert (linked["elder_id"], linked["identified"]) == (elder_id, True)
    audit = await db.fetchrow(
        "SELECT actor, action FROM audit_log WHERE entity = 'elder' ORDER BY id DESC LIMIT 1"
    )
    assert audit is not None and (audit["actor"], audit["action"]) == (username, "create")


async def test_a_repeat_caller_is_offered_to_the_owner_of_their_open_case_first(
    floor: Floor, new_page: NewPage, db: asyncpg.Connection
) -> None:
    queue = await floor.queue(ring_timeout_s=10, wrapup_s=1)
    await floor.route("hotline", queue)
    number = fresh_number()
    await elder(db, "钱桂兰", number, address="西城区 9 号")
    owner, owner_name, owner_phone = await operator(floor, queue)
    other, _, _ = await operator(floor, queue, ready=False)
    since = dt.datetime.now(dt.UTC)
    first_call = asyncio.create_task(sipp.call("12349", number, hold_ms=4000))
    await owner_phone.wait_for("answered", limit=10)  # the first call: the owner's case
    # The other operator is ready from now: idle longer than the owner, whose call goes on,
    # so the queue alone would offer them the next call.
    await floor.state(other, "ready")
    assert (await first_call).ok
    first = await db.fetchrow(
        "SELECT operator_id, case_id FROM calls WHERE started_at >= $1 AND caller_number = $2",
        since,
        number,
    )
    assert first["operator_id"] == owner
    await asyncio.sleep(2)  # the owner's wrap-up (1 s) is over
    page = await new_page()
    await log_in(page, floor, owner_name)
    since = dt.datetime.now(dt.UTC)
    call = asyncio.create_task(sipp.call("12349", number, hold_ms=4000))
    try:
        await expect(page.locator("#pop-name")).to_have_text("钱桂兰", timeout=WAIT_MS)
        mine = page.locator("#pop-cases li.mine")
        await expect(mine).to_have_count(1)
        await expect(mine).to_contain_text("您负责的工单")
    finally:
        assert (await call).ok
    second = await db.fetchrow(
        "SELECT operator_id FROM calls WHERE started_at >= $1 AND caller_number = $2",
        since,
        number,
    )
    assert second["operator_id"] == owner != other


# --- the case form ---------------------------------------------------------------------


async def answered_case(
    floor: Floor, new_page: NewPage, db: asyncpg.Connection, *, locale: str = "zh-CN"
) -> tuple[Page, Any, str, asyncio.Task[sipp.SippRun]]:
    """An operator logged in, on a call from the demo elder, the case form on screen."""
    queue = await floor.queue(ring_timeout_s=15)
    await floor.route("hotline", queue)
    _, username, _ = await operator(floor, queue)
    page = await new_page(locale=locale)
    await log_in(page, floor, username)
    since = dt.datetime.now(dt.UTC)
    call = asyncio.create_task(sipp.call("12349", ELDER_MOBILE, hold_ms=40_000))
    await expect(page.locator("#form-classify")).to_be_visible(timeout=WAIT_MS)
    case_id = await db.fetchval(
        "SELECT case_id FROM calls WHERE started_at >= $1 AND caller_number = $2",
        since,
        ELDER_MOBILE,
    )
    return page, case_id, username, call


async def test_the_operator_classifies_and_closes_a_consultation(
    floor: Floor, new_page: NewPage, db: asyncpg.Connection
) -> None:
    page, case_id, username, call = await answered_case(floor, new_page, db)
    try:
        await page.select_option("#case-class-select", "consultation_service")
        await page.check("input[name=reasonable][value=yes]")
        await page.click("#btn-classify")
        await expect(page.locator("#case-class")).to_have_text("服务咨询", timeout=WAIT_MS)
        # Hold: the caller leaves the bridge for music; resume: back with the operator.
        channel = await db.fetchval("SELECT channel_id FROM calls WHERE case_id = $1", case_id)
        await page.click("#btn-hold")
        await until(lambda: not bridged(channel))
        await page.click("#btn-resume")
        await until(lambda: bridged(channel))
        await page.fill("#note-text", "问了送餐服务的价格")
        await page.click("#btn-note")
        await expect(page.locator("#timeline li[data-kind=note]")).to_have_count(1)
        if SHOTS:
            await save_screenshot(page, Path(SHOTS) / "operator-case.png")
        await page.fill("#close-reason", "已解答")
        await page.click("#btn-close")
        await expect(page.locator("#case-status")).to_have_text("已结单", timeout=WAIT_MS)
        await expect(page.locator("#timeline li[data-kind=closed]")).to_contain_text(username)
        await page.click("#btn-hangup")  # the call's control: ends it for both
    finally:
        await call  # the caller's scenario did not expect the BYE: its exit code says so
    ended = await written(db, "SELECT ended_by FROM calls WHERE case_id = $1", case_id)
    assert ended == "operator"
    case = await db.fetchrow("SELECT class, status, close_reason FROM cases WHERE id = $1", case_id)
    assert dict(case) == {
        "class": "consultation_service",
        "status": "closed",
        "close_reason": "已解答",
    }
    steps = await timeline(db, case_id)
    assert ("classified", username) in steps and ("note", username) in steps
    assert ("closed", username) in steps and ("operator_hung_up", username) in steps
    assert ("caller_held", username) in steps and ("caller_resumed", username) in steps


async def test_a_referral_offers_two_or_three_institutions_and_a_complaint_gets_its_deadline(
    floor: Floor, new_page: NewPage, db: asyncpg.Connection
) -> None:
    tag = secrets.token_hex(3)
    for i in range(4):
        await floor.api(
            "POST",
            "/api/organisations",
            {
                "kind": "institution",
                "name": f"养老院 {tag}-{i}",
                "district": "示范区",
                "services": [f"day-{tag}"],
            },
        )
    department = await floor.api(
        "POST", "/api/organisations", {"kind": "department", "name": f"民政科 {tag}"}
    )
    provider = await floor.api(
        "POST", "/api/organisations", {"kind": "provider", "name": f"助餐点 {tag}"}
    )
    page, case_id, username, call = await answered_case(floor, new_page, db, locale="en-US")
    try:
        await page.fill("#referral-service", f"day-{tag}")
        await page.click("#btn-referral")
        options = page.locator("#referral-options li.institution")
        await expect(options.first).to_be_visible(timeout=WAIT_MS)
        assert 2 <= await options.count() <= 3
        await options.first.locator("button").click()
        await expect(page.locator("#timeline li[data-kind=referred]")).to_have_count(1)

        await page.select_option("#order-provider", str(provider["id"]))
        await page.fill("input[name=service]", "meals")
        await page.click("#btn-order")
        ordered = page.locator("#timeline li[data-kind=service_ordered]")
        await expect(ordered).to_contain_text("meals", timeout=WAIT_MS)
        await page.click("#btn-callback")
        promised = page.locator("#timeline li[data-kind=callback_promised]")
        await expect(promised).to_contain_text(username, timeout=WAIT_MS)
        kinds = await db.fetch("SELECT kind, org_id FROM case_tasks WHERE case_id = $1", case_id)
        assert {(k["kind"], k["org_id"]) for k in kinds} == {
            ("service_order", provider["id"]),
            ("callback", None),
        }

        await page.select_option("#complaint-department", str(department["id"]))
        asked = dt.datetime.now(dt.UTC)
        await page.click("#btn-complaint")
        calendar = await service_calendar(sqlalchemy_url(floor.service.database))
        expected = _deadline(calendar, asked, 3)
        if expected is None:  # no published working-day calendar for the year: refused
            await expect(page.locator("#case-message")).to_contain_text(
                "no published", timeout=WAIT_MS
            )
            refused = "SELECT 1 FROM case_tasks WHERE case_id = $1 AND kind LIKE 'complaint%'"
            assert await db.fetch(refused, case_id) == []
        else:
            handed = page.locator("#timeline li[data-kind=complaint_handed]")
            await expect(handed).to_contain_text(username, timeout=WAIT_MS)
            tasks = await db.fetch(
                "SELECT kind, due_at, org_id FROM case_tasks "
                "WHERE case_id = $1 AND kind LIKE 'complaint%' ORDER BY kind",
                case_id,
            )
            assert [(t["kind"], t["org_id"]) for t in tasks] == [
                ("complaint_handling", department["id"]),
                ("complaint_reply", None),
            ]
            assert all(t["due_at"] == expected for t in tasks)
            shown = expected.astimezone(TZ).strftime("%Y-%m-%d %H:%M")
            due = page.locator("#case-tasks .task-complaint_handling .due")
            await expect(due).to_have_text(shown)
        await page.click("#btn-hangup")
    finally:
        await call  # ended by the operator


def _deadline(calendar: WorkCalendar, asked: dt.datetime, days: int) -> dt.datetime | None:
    """The 3-working-day deadline from the calendar the service uses (China's, with the
    years published in its database), computed here independently of the service's own
    call; None where the year is not published."""
    try:
        return calendar.deadline(asked, days, tz=TZ)
    except NoSchedule:
        return None


# --- what an operator may see ----------------------------------------------------------


async def test_an_elders_name_is_shown_as_text_never_run(
    floor: Floor, new_page: NewPage, db: asyncpg.Connection
) -> None:
    queue = await floor.queue(ring_timeout_s=15)
    await floor.route("hotline", queue)
    _, username, _ = await operator(floor, queue, ring_ms=3000)
    hostile = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'
    number = fresh_number()
    await elder(db, hostile, number, address="<b>bold</b> road")
    page = await new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: dialogs.append(d.message))
    await log_in(page, floor, username)
    call = asyncio.create_task(sipp.call("12349", number, hold_ms=6000))
    try:
        await expect(page.locator("#pop-name")).to_have_text(hostile, timeout=WAIT_MS)
        await expect(page.locator("#pop-address")).to_have_text("<b>bold</b> road")
        assert await page.locator("#pop-name script, #pop-name img").count() == 0
        assert await page.evaluate("window.__xss") is None
    finally:
        assert (await call).ok
    assert dialogs == []


async def test_an_unrelated_elder_opens_only_with_a_reason_that_is_recorded(
    floor: Floor, new_page: NewPage, db: asyncpg.Connection
) -> None:
    queue = await floor.queue()
    op_id, username, _ = await operator(floor, queue)
    elder_id = await elder(db, "孙玉珍", fresh_number(), health_conditions="糖尿病")
    page = await new_page()
    await log_in(page, floor, username)
    await page.goto(f"{base(floor)}/console/elders")
    await page.fill("#elder-q", "孙玉珍")
    await page.click("#btn-search")
    assert "孙" not in page.url  # the name searched for is not in any URL
    await expect(page.locator("#elder-results")).to_contain_text("孙玉珍")
    await expect(page.locator("#elder-results")).not_to_contain_text("糖尿病")  # a summary
    await page.click(f"#open-{elder_id}")
    await expect(page.locator("#elder-open")).to_be_visible()
    assert "糖尿病" not in await page.content()  # nothing of the record without a reason
    rows = await db.fetch("SELECT * FROM record_access WHERE elder_id = $1", elder_id)
    assert rows == []
    await page.fill("#open-reason", "家属来电询问地址")
    await page.click("#btn-open")
    await expect(page.locator("#elder-fields")).to_contain_text("糖尿病")
    row = await db.fetchrow("SELECT * FROM record_access WHERE elder_id = $1", elder_id)
    assert (row["operator_id"], row["why"], row["reason"]) == (op_id, "search", "家属来电询问地址")
    # Read with a reason is not changed with one: no form, and a forged post is refused.
    await expect(page.locator("#elder-read-only")).to_be_visible()
    assert await page.locator("#elder-form").count() == 0
    status = await page.evaluate(
        """async ([id, csrf]) => (await fetch('/console/elders/' + id, {method: 'POST',
            body: new URLSearchParams({csrf: csrf, medication: 'x', high_risk_shown: '1'})}
        )).status""",
        [elder_id, await page.locator("input[name=csrf]").first.input_value()],
    )
    assert status == 403
    assert await db.fetchval("SELECT medication FROM elders WHERE id = $1", elder_id) is None


async def test_the_owner_edits_only_what_the_form_changes_and_not_high_risk(
    floor: Floor, new_page: NewPage, db: asyncpg.Connection
) -> None:
    queue = await floor.queue()
    op_id, username, _ = await operator(floor, queue)
    elder_id = await elder(
        db, "钱桂兰", fresh_number(), health_conditions="高血压", district="东城区", high_risk=True
    )
    await db.execute(
        "INSERT INTO cases (id, opened_at, status, channel, identified, elder_id, "
        "owner_operator_id) VALUES (gen_random_uuid(), now(), 'in_progress', 'hotline', true, "
        "$1, $2)",
        elder_id,
        op_id,
    )
    page = await new_page()
    await log_in(page, floor, username)
    await page.goto(f"{base(floor)}/console/elders/{elder_id}")
    assert await page.locator("#f-high_risk").count() == 0  # a supervisor's to change
    await page.fill("#f-medication", "二甲双胍")
    await page.click("#btn-save-elder")
    await expect(page.locator("#elder-message")).to_be_visible()
    row = await db.fetchrow("SELECT * FROM elders WHERE id = $1", elder_id)
    assert (row["medication"], row["health_conditions"], row["district"], row["high_risk"]) == (
        "二甲双胍",
        "高血压",
        "东城区",
        True,
    )
    audit = await db.fetchrow(
        "SELECT actor, before, after FROM audit_log WHERE entity = 'elder' AND entity_id = $1",
        str(elder_id),
    )
    assert audit["actor"] == username and set(json.loads(audit["after"])) == {"medication"}
    # A forged post that says high risk is off is refused, and changes nothing.
    status = await page.evaluate(
        """async ([id, csrf]) => (await fetch('/console/elders/' + id, {method: 'POST',
            body: new URLSearchParams({csrf: csrf, high_risk_shown: '1'})})).status""",
        [elder_id, await page.locator("input[name=csrf]").first.input_value()],
    )
    assert status == 403
    assert await db.fetchval("SELECT high_risk FROM elders WHERE id = $1", elder_id) is True


# --- the supervisor ---------------------------------------------------------------------


async def test_the_supervisors_floor_updates_live_when_a_call_arrives(
    floor: Floor, new_page: NewPage, db: asyncpg.Connection
) -> None:
    queue = await floor.queue(ring_timeout_s=15)
    await floor.route("hotline", queue)
    await operator(floor, queue, ready=False)  # nobody answers: the call waits
    _, boss, _ = await operator(floor, queue, ready=False, role="supervisor")
    page = await new_page()
    await log_in(page, floor, boss, then="/console/floor")
    assert page.url.endswith("/console/floor")
    calls = page.locator("#floor-calls")
    before = int(await calls.inner_text())
    call = asyncio.create_task(sipp.call("12349", fresh_number(), hold_ms=6000))
    try:
        await expect(calls).to_have_text(str(before + 1), timeout=WAIT_MS)
        await expect(page.locator("#floor tr.phase-waiting")).to_have_count(1, timeout=WAIT_MS)
        if SHOTS:
            await save_screenshot(page, Path(SHOTS) / "supervisor-floor.png")
    finally:
        assert (await call).ok
    await expect(calls).to_have_text(str(before), timeout=WAIT_MS)
    await page.goto(f"{base(floor)}/console/access")
    await expect(page.locator("#access-log")).to_be_visible()


async def test_a_supervisor_listens_to_an_operators_call_from_the_floor(
    floor: Floor, new_page: NewPage
) -> None:
    queue = await floor.queue(ring_timeout_s=15)
    await floor.route("hotline", queue)
    op_id, _, op_phone = await operator(floor, queue)
    _, boss, boss_phone = await operator(floor, queue, ready=False, role="supervisor")
    page = await new_page(locale="en-US")
    await log_in(page, floor, boss, then="/console/floor")
    call = asyncio.create_task(sipp.call("12349", fresh_number(), hold_ms=12_000))
    try:
        await op_phone.wait_for("answered", limit=10)
        listen = page.locator(f"#btn-listen-{op_id}")
        await expect(listen).to_be_visible(timeout=WAIT_MS)
        await listen.click()
        await boss_phone.wait_for("answered", limit=10)  # the supervisor's softphone rang
        await page.click(f"#btn-whisper-{op_id}")  # the same supervision, another mode
        await asyncio.sleep(1)
        assert boss_phone.calls == 1  # not rung again
    finally:
        assert (await call).ok
    await boss_phone.wait_for("ended", limit=10)  # the call ended: so did the supervision


async def test_an_operator_may_not_see_the_floor_or_the_access_log(
    floor: Floor, new_page: NewPage
) -> None:
    queue = await floor.queue()
    _, username, _ = await operator(floor, queue, ready=False)
    page = await new_page()
    await log_in(page, floor, username)
    for path in ("/console/floor", "/console/access"):
        reply = await page.goto(f"{base(floor)}{path}")
        assert reply is not None and reply.status == 403


# --- the console's languages and its login ----------------------------------------------


async def test_the_console_speaks_chinese_by_default_and_english_when_asked(
    floor: Floor, new_page: NewPage
) -> None:
    queue = await floor.queue()
    op_id, username, _ = await operator(floor, queue, ready=False)
    chinese = await new_page()
    await chinese.goto(f"{base(floor)}/console/login")
    await expect(chinese.locator("h1")).to_have_text("登录")
    english = await new_page(locale="en-US")
    await english.goto(f"{base(floor)}/console/login")
    await expect(english.locator("h1")).to_have_text("Log in")
    await log_in(chinese, floor, username)
    await expect(chinese.locator("#state h2")).to_contain_text("状态")
    await chinese.click("#lang-toggle")
    await expect(chinese.locator("#state h2")).to_contain_text("State")
    await expect(chinese.locator("#btn-ready")).to_have_text("Ready")
    # State buttons: pausing with a reason shows on the operator's own screen, live.
    await chinese.click("#btn-ready")
    await expect(chinese.locator("#state-now")).to_have_text("Ready", timeout=WAIT_MS)
    await chinese.select_option("select[name=reason]", "training")
    await chinese.click("#btn-pause")
    await expect(chinese.locator("#state-now")).to_have_text("Paused", timeout=WAIT_MS)
    await expect(chinese.locator("#state-reason")).to_have_text("(Training)")
    # Every reason in words, the desk's own too (a call let ring out), not its code.
    await floor.state(op_id, "paused", "rang_out")
    reason = chinese.locator("#state-reason")
    await expect(reason).to_have_text("(Paused: let a call ring out)", timeout=WAIT_MS)
    await chinese.click("#lang-toggle")
    await expect(reason).to_have_text("(来电未接，已自动暂停)", timeout=WAIT_MS)  # noqa: RUF001


async def test_login_is_refused_without_the_right_password_and_forms_need_the_token(
    floor: Floor, new_page: NewPage
) -> None:
    queue = await floor.queue()
    _, username, _ = await operator(floor, queue, ready=False)
    page = await new_page(locale="en-US")
    await page.goto(f"{base(floor)}/console/login")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", "wrong password")
    await page.click("#login")
    await expect(page.locator(".error")).to_have_text("Wrong username or password")
    reply = await page.goto(f"{base(floor)}/console")
    assert reply is not None and page.url.endswith("/console/login")
    await log_in(page, floor, username)
    cookies = {c["name"]: c for c in await page.context.cookies()}
    session = cookies["hotline_console"]
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    # A form without the CSRF token is refused, even with the session cookie.
    status = await page.evaluate(
        """async () => (await fetch('/console/state', {method: 'POST',
            body: new URLSearchParams({state: 'ready'})})).status"""
    )
    assert status == 403
    # The API still wants a bearer token: the console's cookie is not one.
    status = await page.evaluate("async () => (await fetch('/api/cases')).status")
    assert status == 401
    assert re.fullmatch(r"[A-Za-z0-9_-]{40,}", session["value"])


async def test_an_overdue_deadline_reaches_its_owner_and_the_supervisors_floor(
    service: Any, new_page: NewPage, db: asyncpg.Connection
) -> None:
    import aiohttp

    await service.start(HOTLINE_DEADLINE_CHECK_S="1")
    async with aiohttp.ClientSession() as http:
        floor = Floor(service, http)
        try:
            queue = await floor.queue()
            op_id, username, _ = await operator(floor, queue, ready=False)
            _, boss, _ = await operator(floor, queue, ready=False, role="supervisor")
            page = await new_page(locale="en-US")
            await log_in(page, floor, username)
            board = await new_page(locale="en-US")
            await log_in(board, floor, boss, then="/console/floor")
            before = int(await board.locator("#floor-overdue").inner_text())
            case_id = await db.fetchval(
                "INSERT INTO cases (id, opened_at, status, channel, identified, "
                "owner_operator_id) VALUES (gen_random_uuid(), now(), 'in_progress', "
                "'hotline', false, $1) RETURNING id",
                op_id,
            )
            await db.execute(
                "INSERT INTO case_tasks (id, case_id, kind, due_at, created_at, "
                "owner_operator_id) VALUES (gen_random_uuid(), $1, 'complaint_reply', "
                "now() - interval '1 minute', now() - interval '3 days', $2)",
                case_id,
                op_id,
            )
            alert = page.locator("#alerts li.overdue")
            await expect(alert).to_contain_text("complaint_reply", timeout=WAIT_MS)
            await expect(board.locator("#floor-overdue")).to_have_text(
                str(before + 1), timeout=WAIT_MS
            )
            # The owner opens the case from the alert and records the task done (late).
            await alert.locator("a").click()
            await page.locator("#case-tasks .task-done").click()
            await expect(page.locator("#timeline li[data-kind=task_done]")).to_have_count(
                1, timeout=WAIT_MS
            )
            status = await db.fetchval("SELECT status FROM case_tasks WHERE case_id = $1", case_id)
            assert status == "done"
        finally:
            await floor.undo()
