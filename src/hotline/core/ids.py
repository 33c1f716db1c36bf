"""Derived ids: a restarted service finds the same call, case and callback again, and a
replayed record never duplicates a row."""

from __future__ import annotations

import uuid

_NAMESPACE = uuid.UUID("5d1c2f46-7b0e-4c53-9a8e-2f6f0f1d9b21")


def call_id_for(linkedid: str) -> uuid.UUID:
    """The call's id, derived from Asterisk's linkedid."""
    return uuid.uuid5(_NAMESPACE, linkedid)


def intake_case_id_for(call_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(call_id, "intake-case")


def callback_id_for(call_id: uuid.UUID, reason: str) -> uuid.UUID:
    """The callback a call asked for (abandoned, after hours): one per call and reason."""
    return uuid.uuid5(call_id, f"callback-{reason}")


def attempt_call_id(callback_id: uuid.UUID, attempt: int) -> uuid.UUID:
    """The id of the call we place for one attempt of a callback."""
    return uuid.uuid5(callback_id, f"attempt-{attempt}")
