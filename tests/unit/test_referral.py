"""The institutions a referral offers (R17)."""

from __future__ import annotations

from typing import Any

from hotline.directories.referral import choose


def home(
    name: str, district: str, services: list[str], checked: str | None = None, active: bool = True
) -> dict[str, Any]:
    return {
        "name": name,
        "district": district,
        "services": services,
        "checked_on": checked,
        "active": active,
    }


HOMES = [
    home("A", "east", ["day care"], "2026-09-01"),
    home("B", "west", ["day care", "full care"], "2026-11-01"),
    home("C", "east", ["full care"], "2026-11-20"),
    home("D", "east", ["day care"], "2026-11-10"),
    home("E", "east", ["day care"], None),
    home("F", "east", ["day care"], "2026-11-25", active=False),
]


def test_the_elders_district_first_most_recently_checked_first_at_most_three() -> None:
    chosen = choose(HOMES, district="east", service="day care")
    assert [h["name"] for h in chosen] == ["D", "A", "E"]


def test_another_district_when_the_elders_has_too_few() -> None:
    chosen = choose(HOMES, district="east", service="full care")
    assert [h["name"] for h in chosen] == ["C", "B"]


def test_no_service_asked_and_no_district_known() -> None:
    chosen = choose(HOMES, district=None, service=None, offered=2)
    assert [h["name"] for h in chosen] == ["C", "D"]
    assert choose(HOMES, district="east", service="dentist") == []
