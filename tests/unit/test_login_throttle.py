"""Failed console logins held back per address and per account (issue 15). Pure."""

from __future__ import annotations

from hotline.console.throttle import (
    FREE,
    LOCK_AFTER,
    LOCK_FOR,
    MAX_WAIT,
    WINDOW,
    Locked,
    LoginThrottle,
    Wait,
)

ADDR, OTHER_ADDR = "10.0.0.7", "10.0.0.8"


def test_a_few_failures_cost_nothing_then_each_waits_longer() -> None:
    throttle = LoginThrottle()
    now = 1000.0
    for _ in range(FREE - 1):
        assert throttle.check(ADDR, "op1", now) is None
        assert throttle.failed(ADDR, "op1", now) is None
    throttle.failed(ADDR, "op1", now)  # the FREE-th failure: the next one waits 1 s
    wait = throttle.check(ADDR, "op1", now)
    assert wait == Wait(1.0)
    assert throttle.check(ADDR, "op1", now + 1.0) is None
    throttle.failed(ADDR, "op1", now + 1.0)
    assert throttle.check(ADDR, "op1", now + 1.0) == Wait(2.0)
    # Another account from the same address waits too; the same account from elsewhere too.
    assert throttle.check(ADDR, "op2", now + 1.0) == Wait(2.0)
    assert throttle.check(OTHER_ADDR, "op1", now + 1.0) == Wait(2.0)
    assert throttle.check(OTHER_ADDR, "op2", now + 1.0) is None


def test_the_wait_stops_growing_and_old_failures_stop_counting() -> None:
    throttle = LoginThrottle()
    for i in range(FREE + 20):
        throttle.failed(ADDR, f"u{i}", float(i))  # a different name each time: no lock
    wait = throttle.check(ADDR, "anyone", float(FREE + 20))
    assert wait is not None and wait.seconds <= MAX_WAIT and not wait.locked
    later = FREE + 20 + WINDOW + MAX_WAIT + 1
    assert throttle.check(ADDR, "anyone", later) is None
    throttle.failed(ADDR, "anyone", later)  # counted afresh: one recent failure
    assert throttle.check(ADDR, "anyone", later) is None


def test_an_account_is_locked_after_too_many_failures_from_anywhere() -> None:
    throttle = LoginThrottle()
    locked: Locked | None = None
    now = 0.0
    for i in range(LOCK_AFTER):
        now = i * (MAX_WAIT + 1)  # each attempt after its wait, from a new address
        assert throttle.check(f"10.0.1.{i}", "sup1", now) is None
        locked = throttle.failed(f"10.0.1.{i}", "sup1", now)
    assert locked == Locked("sup1", now + LOCK_FOR, LOCK_AFTER)
    refused = throttle.check("10.9.9.9", "sup1", now + 60)
    assert refused == Wait(LOCK_FOR - 60, locked=True)
    assert throttle.check("10.9.9.9", "sup1", now + LOCK_FOR + MAX_WAIT) is None
    # A reset password unlocks at once.
    throttle.failed("10.0.2.1", "op7", 0.0)
    throttle.unlock("sup1")
    assert throttle.check("10.9.9.8", "sup1", now + 61) is None


def test_success_clears_the_count() -> None:
    throttle = LoginThrottle()
    for _ in range(FREE):
        throttle.failed(ADDR, "op1", 0.0)
    throttle.succeeded(ADDR, "op1")
    assert throttle.check(ADDR, "op1", 0.0) is None


def test_memory_is_bounded_under_a_flood_of_names() -> None:
    throttle = LoginThrottle(keep=100)
    for i in range(10_000):
        throttle.failed(f"10.{i // 65536}.{i // 256 % 256}.{i % 256}", f"name{i}", float(i))
    assert len(throttle._accounts._counts) == 100 and len(throttle._addresses._counts) == 100
