"""When the purge runs and what it purges (issue 15, R27)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hotline.retention.policy import Periods, cutoffs, next_run

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_the_purge_runs_at_three_local_time() -> None:
    before = dt.datetime(2026, 12, 7, 18, 0, tzinfo=dt.UTC)  # 02:00 on the 8th in Shanghai
    assert next_run(before, SHANGHAI) == dt.datetime(2026, 12, 7, 19, 0, tzinfo=dt.UTC)
    after = dt.datetime(2026, 12, 7, 19, 0, tzinfo=dt.UTC)  # 03:00 exactly: the next day's
    assert next_run(after, SHANGHAI) == dt.datetime(2026, 12, 8, 19, 0, tzinfo=dt.UTC)


def test_cutoffs_per_kind() -> None:
    now = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)
    cut = cutoffs(Periods(recordings_days=30, access_days=365, sessions_days=1), now)
    assert cut.recordings == now - dt.timedelta(days=30)
    assert cut.access == now - dt.timedelta(days=365)
    assert cut.sessions == now - dt.timedelta(days=1)
