"""Request bodies: the strict base model and parsing that names the wrong field.

Bodies are strict (no "15" for 15, no true for 1) and refuse unknown fields. A PATCH is the
stored settings with the request's fields laid over them, validated whole by the same model
as a create, so cross-field rules hold after every change.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints, ValidationError

from hotline.core.errors import BadJson, Invalid


def storable(text: str) -> str:
    """Text PostgreSQL can keep: no NUL byte, no lone surrogate (from a JSON escape)."""
    if "\x00" in text or any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        raise ValueError("contains a character that cannot be stored (NUL or a lone surrogate)")
    return text


Storable = AfterValidator(storable)
DisplayName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), Storable
]
Reason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), Storable
]
QueueName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,31}$")]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


M = TypeVar("M", bound=BaseModel)


def load_object(raw: bytes) -> dict[str, Any]:
    """The request body as a JSON object; an empty body is {}."""
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as err:  # UnicodeDecodeError is a ValueError
        raise BadJson(detail="the body is not valid JSON") from err
    if not isinstance(data, dict):
        raise Invalid("body", "Input should be a JSON object")
    return data


def validate(model: type[M], data: Mapping[str, Any]) -> M:
    """Validate, turning the first error into Invalid(dotted field path, pydantic's message)."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        first = err.errors(include_url=False, include_input=False, include_context=False)[0]
        field = ".".join(str(part) for part in first["loc"]) or "body"
        raise Invalid(field[:100], first["msg"]) from None


def parse(model: type[M], raw: bytes) -> M:
    return validate(model, load_object(raw))


def merge(
    model: type[M],
    current: Mapping[str, Any],
    patch: Mapping[str, Any],
    fixed: Collection[str] = (),
) -> M:
    """Lay a PATCH over the current record's settings (the model's fields found in it) and
    validate the result whole."""
    for key in patch:
        if key in fixed:
            raise Invalid(key, "cannot be changed")
    settings = {key: current[key] for key in model.model_fields if key in current}
    return validate(model, {**settings, **patch})


def limit(raw: str | None, default: int = 50) -> int:
    """A `?limit=` query value: 1..1000."""
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= 1000):
        raise Invalid("limit", "Input should be a whole number from 1 to 1000")
    return int(raw)
