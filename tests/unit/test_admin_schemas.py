"""Admin API bodies: good and bad payloads side by side, and the error each bad one names."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from hotline.api import bodies as schemas
from hotline.api.tokens import TokenBody as TokenCreate
from hotline.core.errors import BadJson, Invalid
from hotline.operators.schemas import OperatorCreateBody as OperatorCreate
from hotline.operators.schemas import OperatorUpdateBody as OperatorUpdate
from hotline.operators.schemas import StateChangeBody as StateChange
from hotline.queues.schemas import LineBody as LineConfig
from hotline.queues.schemas import MemberBody as MemberConfig
from hotline.queues.schemas import QueueBody as QueueConfig

OPERATOR = {"username": "op1001", "display_name": "Operator 1001", "sip_password": "s3cret-pw"}
QUEUE = {"name": "general", "display_name": "General"}
LINE = {
    "queue": "general",
    "opens": None,
    "closes": None,
    "after_hours_queue": None,
    "offer_callback": True,
}

GOOD: list[tuple[type[BaseModel], dict[str, Any], dict[str, Any]]] = [
    # model, payload, fields expected on the parsed model
    (OperatorCreate, OPERATOR, {"line_cap": 1, "active": True}),
    (OperatorCreate, {**OPERATOR, "line_cap": 2, "active": False}, {"line_cap": 2}),
    (OperatorCreate, {**OPERATOR, "display_name": "  Ann  "}, {"display_name": "Ann"}),
    (OperatorCreate, {**OPERATOR, "username": "a-b_c"}, {"username": "a-b_c"}),
    (StateChange, {"state": "ready"}, {"state": "ready", "reason": None}),
    (StateChange, {"state": "paused", "reason": "lunch"}, {"reason": "lunch"}),
    (StateChange, {"state": "logged_out"}, {"state": "logged_out"}),
    (
        QueueConfig,
        QUEUE,
        {
            "strategy": "longest_idle",
            "ring_timeout_s": 15,
            "wrapup_s": 10,
            "service_level_s": 10,
            "overflow_after_s": None,
            "overflow_target": None,
        },
    ),
    (QueueConfig, {**QUEUE, "strategy": "ring_all", "wrapup_s": 0}, {"wrapup_s": 0}),
    (
        QueueConfig,
        {**QUEUE, "overflow_after_s": 60, "overflow_target": "fallback"},
        {"overflow_target": "fallback"},
    ),
    (QueueConfig, {**QUEUE, "announce_every_s": None}, {"announce_every_s": None}),
    (MemberConfig, {}, {"penalty": 0}),
    (MemberConfig, {"penalty": 100}, {"penalty": 100}),
    (LineConfig, LINE, {"opens": None}),
    (LineConfig, {**LINE, "opens": "08:00", "closes": "20:00"}, {"closes": "20:00"}),
    (LineConfig, {**LINE, "opens": "20:00", "closes": "08:00"}, {"opens": "20:00"}),  # overnight
    (TokenCreate, {"name": "desk-1", "role": "supervisor"}, {"operator_id": None}),
    (TokenCreate, {"name": "op1001", "role": "operator", "operator_id": 3}, {"operator_id": 3}),
]

BAD: list[tuple[type[BaseModel], dict[str, Any], str]] = [
    # model, payload, the field the error names
    (OperatorCreate, {**OPERATOR, "username": "Op1001"}, "username"),
    (OperatorCreate, {**OPERATOR, "username": "ab"}, "username"),
    (OperatorCreate, {**OPERATOR, "username": "a" * 33}, "username"),
    (OperatorCreate, {**OPERATOR, "display_name": "   "}, "display_name"),
    (OperatorCreate, {**OPERATOR, "display_name": "x" * 101}, "display_name"),
    (OperatorCreate, {**OPERATOR, "sip_password": "short"}, "sip_password"),
    (OperatorCreate, {**OPERATOR, "sip_password": "x" * 65}, "sip_password"),
    (OperatorCreate, {**OPERATOR, "sip_password": "has space"}, "sip_password"),
    (OperatorCreate, {**OPERATOR, "line_cap": 3}, "line_cap"),
    (OperatorCreate, {**OPERATOR, "line_cap": "1"}, "line_cap"),  # strict: no strings
    (OperatorCreate, {**OPERATOR, "active": 1}, "active"),
    (OperatorCreate, {**OPERATOR, "sip_md5_cred": "0" * 32}, "sip_md5_cred"),
    (OperatorCreate, {"username": "op1001", "display_name": "x"}, "sip_password"),
    (OperatorUpdate, {"display_name": None, "line_cap": 1, "active": True}, "display_name"),
    (StateChange, {"state": "paused"}, "reason"),
    (StateChange, {"state": "paused", "reason": " "}, "reason"),
    (StateChange, {"state": "on_call"}, "state"),
    (StateChange, {"state": "ready", "reason": "r" * 201}, "reason"),
    (QueueConfig, {**QUEUE, "ring_timeout_s": -5}, "ring_timeout_s"),
    (QueueConfig, {**QUEUE, "ring_timeout_s": 0}, "ring_timeout_s"),
    (QueueConfig, {**QUEUE, "ring_timeout_s": 301}, "ring_timeout_s"),
    (QueueConfig, {**QUEUE, "ring_timeout_s": 1.5}, "ring_timeout_s"),
    (QueueConfig, {**QUEUE, "wrapup_s": -1}, "wrapup_s"),
    (QueueConfig, {**QUEUE, "service_level_s": 601}, "service_level_s"),
    (QueueConfig, {**QUEUE, "strategy": "random"}, "strategy"),
    (QueueConfig, {**QUEUE, "name": "General"}, "name"),
    (QueueConfig, {**QUEUE, "name": "g"}, "name"),
    (QueueConfig, {**QUEUE, "name": "has-dash"}, "name"),
    (QueueConfig, {**QUEUE, "name": "fallback"}, "name"),
    (QueueConfig, {**QUEUE, "overflow_after_s": 60}, "overflow_target"),
    (QueueConfig, {**QUEUE, "overflow_target": "supervisors"}, "overflow_target"),
    (
        QueueConfig,
        {**QUEUE, "overflow_after_s": 60, "overflow_target": "general"},
        "overflow_target",
    ),
    (QueueConfig, {**QUEUE, "overflow_after_s": 0, "overflow_target": "x1"}, "overflow_after_s"),
    (QueueConfig, {**QUEUE, "announce_every_s": 4}, "announce_every_s"),
    (QueueConfig, {**QUEUE, "colour": "red"}, "colour"),
    (MemberConfig, {"penalty": -1}, "penalty"),
    (MemberConfig, {"penalty": 101}, "penalty"),
    (LineConfig, {**LINE, "opens": "08:00"}, "closes"),
    (LineConfig, {**LINE, "closes": "20:00"}, "closes"),
    (LineConfig, {**LINE, "opens": "08:00", "closes": "08:00"}, "closes"),
    (LineConfig, {**LINE, "opens": "8:00", "closes": "20:00"}, "opens"),
    (LineConfig, {**LINE, "opens": "24:00", "closes": "20:00"}, "opens"),
    (LineConfig, {**LINE, "opens": "08:00:00", "closes": "20:00"}, "opens"),
    (LineConfig, {**LINE, "queue": None}, "queue"),
    (LineConfig, {**LINE, "offer_callback": "yes"}, "offer_callback"),
    (TokenCreate, {"name": "op", "role": "operator"}, "operator_id"),
    (TokenCreate, {"name": "boss", "role": "admin", "operator_id": 1}, "operator_id"),
    (TokenCreate, {"name": "boss", "role": "root"}, "role"),
    (TokenCreate, {"name": "Bad Name", "role": "admin"}, "name"),
]


@pytest.mark.parametrize(("model", "payload", "expected"), GOOD)
def test_good_payload(
    model: type[BaseModel], payload: dict[str, Any], expected: dict[str, Any]
) -> None:
    parsed = schemas.validate(model, payload)
    assert {key: getattr(parsed, key) for key in expected} == expected


@pytest.mark.parametrize(("model", "payload", "field"), BAD)
def test_bad_payload_names_the_field(
    model: type[BaseModel], payload: dict[str, Any], field: str
) -> None:
    with pytest.raises(Invalid) as caught:
        schemas.validate(model, payload)
    assert caught.value.field == field
    assert caught.value.body()["error"] == "invalid"
    assert caught.value.detail


@pytest.mark.parametrize(
    ("model", "payload", "secret"),
    [
        (OperatorCreate, {**OPERATOR, "sip_password": "tiny"}, "tiny"),
        (QueueConfig, {**QUEUE, "strategy": "random-strategy"}, "random-strategy"),
        (QueueConfig, {**QUEUE, "name": "NotASlug"}, "NotASlug"),
    ],
)
def test_errors_do_not_echo_the_input(
    model: type[BaseModel], payload: dict[str, Any], secret: str
) -> None:
    with pytest.raises(Invalid) as caught:
        schemas.validate(model, payload)
    assert secret not in str(caught.value.body())


def test_password_is_not_in_the_models_repr() -> None:
    parsed = schemas.validate(OperatorCreate, OPERATOR)
    assert OPERATOR["sip_password"] not in repr(parsed)


@pytest.mark.parametrize(
    ("raw", "error", "field"),
    [
        (b"{", BadJson, None),
        (b"\xff\xfe", BadJson, None),
        (b"[1, 2]", Invalid, "body"),
        (b'"text"', Invalid, "body"),
    ],
)
def test_bodies_that_are_not_objects(
    raw: bytes, error: type[schemas.Problem], field: str | None
) -> None:
    with pytest.raises(error) as caught:
        schemas.load_object(raw)
    assert caught.value.field == field


@pytest.mark.parametrize(("raw", "expected"), [(b"", {}), (b"  ", {}), (b'{"a": 1}', {"a": 1})])
def test_bodies_that_are_objects(raw: bytes, expected: dict[str, Any]) -> None:
    assert schemas.load_object(raw) == expected


STORED_QUEUE = {
    **QUEUE,
    "strategy": "longest_idle",
    "ring_timeout_s": 15,
    "wrapup_s": 10,
    "service_level_s": 10,
    "overflow_after_s": 60,
    "overflow_target": "supervisors",
    "announce_every_s": 30,
    "updated_at": "2026-11-23T08:00:00+00:00",  # not a setting: left out of the merge
}


@pytest.mark.parametrize(
    ("patch", "field", "value"),
    [
        ({"ring_timeout_s": 20}, "ring_timeout_s", 20),
        ({"overflow_after_s": None, "overflow_target": None}, "overflow_target", None),
        ({}, "overflow_target", "supervisors"),
    ],
)
def test_merge_lays_a_patch_over_the_stored_settings(
    patch: dict[str, Any], field: str, value: object
) -> None:
    merged = schemas.merge(QueueConfig, STORED_QUEUE, patch, fixed=("name",))
    assert getattr(merged, field) == value
    assert merged.display_name == "General"


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"name": "other"}, "name"),  # fixed
        ({"overflow_target": None}, "overflow_target"),  # the pair must change together
        ({"ring_timeout_s": -1}, "ring_timeout_s"),
        ({"updated_at": "now"}, "updated_at"),  # not a setting
    ],
)
def test_merge_refuses(patch: dict[str, Any], field: str) -> None:
    with pytest.raises(Invalid) as caught:
        schemas.merge(QueueConfig, STORED_QUEUE, patch, fixed=("name",))
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("raw", "expected"), [(None, 50), ("1", 1), ("1000", 1000), ("0", None), ("-1", None)]
)
def test_limit(raw: str | None, expected: int | None) -> None:
    if expected is None:
        with pytest.raises(Invalid):
            schemas.limit(raw)
    else:
        assert schemas.limit(raw) == expected
