"""Tables of the case store. The schema itself is owned by Alembic (migrations/)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, get_args

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    SmallInteger,
    Text,
    Time,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hotline.core.words import (
    AVAILABILITIES,
    CASE_CHANNELS,
    OPERATOR_STATES,
    ROLES,
    STRATEGIES,
    SurveyOutcome,
)

ENTRIES = CASE_CHANNELS
CALLER_KINDS = ("elder", "contact", "terminal", "unknown", "anonymous", "unverified")
CASE_CLASSES = (
    "emergency",
    "consultation_service",
    "consultation_affairs",
    "consultation_legal",
    "consultation_other",
    "life_help",
    "referral",
    "complaint",
)
CASE_STATUSES = ("open", "in_progress", "callback_due", "follow_up", "closed")


CONSOLE_ROLES = ("operator", "supervisor", "admin")  # who may log in to the console, as what


def _one_of(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


class Base(DeclarativeBase):
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy's own class attribute
        dt.datetime: DateTime(timezone=True),
        dict[str, Any]: JSONB,
    }


class Elder(Base):
    """An elder served by the hotline (R22)."""

    __tablename__ = "elders"
    __table_args__ = (
        # migration 0008: any part of a name (pg_trgm), and its start, case-folded, in byte
        # order: ix_elders_name_prefix ON elders ((lower(full_name)) COLLATE "C")
        Index(
            "ix_elders_name_trgm",
            "full_name",
            postgresql_using="gin",
            postgresql_ops={"full_name": "gin_trgm_ops"},
        ),
    )
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    full_name: Mapped[str] = mapped_column(Text)
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    address: Mapped[str | None] = mapped_column(Text)
    district: Mapped[str | None] = mapped_column(Text)
    health_conditions: Mapped[str | None] = mapped_column(Text)
    medical_history: Mapped[str | None] = mapped_column(Text)
    medication: Mapped[str | None] = mapped_column(Text)
    living_situation: Mapped[str | None] = mapped_column(Text)
    children: Mapped[str | None] = mapped_column(Text)
    life_events: Mapped[str | None] = mapped_column(Text)
    # Flagged high-risk: with nobody on the floor answering its terminal, 120 is called too.
    high_risk: Mapped[bool] = mapped_column(Boolean, server_default="false")
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())


class ElderPhone(Base):
    """A number the elder calls from. A shared home line may belong to two elders."""

    __tablename__ = "elder_phones"
    __table_args__ = (UniqueConstraint("elder_id", "number"),)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    elder_id: Mapped[int] = mapped_column(ForeignKey("elders.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(Text, index=True)
    label: Mapped[str | None] = mapped_column(Text)


class Contact(Base):
    """A family member, guardian or neighbour, called in tier order (R9, R22)."""

    __tablename__ = "contacts"
    __table_args__ = (
        CheckConstraint("tier BETWEEN 1 AND 9", name="contacts_tier"),
        Index("ix_contacts_elder_tier", "elder_id", "tier"),
    )
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    elder_id: Mapped[int] = mapped_column(ForeignKey("elders.id", ondelete="CASCADE"))
    full_name: Mapped[str] = mapped_column(Text)
    relation: Mapped[str] = mapped_column(Text)
    tier: Mapped[int] = mapped_column(SmallInteger)
    number: Mapped[str] = mapped_column(Text, index=True)
    is_guardian: Mapped[bool] = mapped_column(Boolean, server_default="false")


class Terminal(Base):
    """A one-key call terminal, known by the number its line presents (R10)."""

    __tablename__ = "terminals"
    __table_args__ = (Index("ix_terminals_elder", "elder_id"),)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    elder_id: Mapped[int] = mapped_column(ForeignKey("elders.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(Text, unique=True)
    serial: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, server_default="true")


class Operator(Base):
    __tablename__ = "operators"
    __table_args__ = (
        CheckConstraint("line_cap BETWEEN 1 AND 2", name="operators_line_cap"),
        CheckConstraint(
            _one_of("state", OPERATOR_STATES),
            name="operators_state",
        ),
        CheckConstraint(_one_of("availability", AVAILABILITIES), name="operators_availability"),
        CheckConstraint(_one_of("role", CONSOLE_ROLES), name="operators_role"),
    )
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    username: Mapped[str] = mapped_column(Text, unique=True)
    display_name: Mapped[str] = mapped_column(Text)
    sip_endpoint: Mapped[str | None] = mapped_column(Text, unique=True)
    line_cap: Mapped[int] = mapped_column(SmallInteger, server_default="1")
    active: Mapped[bool] = mapped_column(Boolean, server_default="true")
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    # PJSIP digest credential md5("endpoint:realm:password"): the password itself is not kept.
    sip_md5_cred: Mapped[str | None] = mapped_column(Text)
    # What the floor shows (ready, offered, on_call, wrap_up, paused, logged_out) ...
    state: Mapped[str] = mapped_column(Text, server_default="logged_out")
    state_reason: Mapped[str | None] = mapped_column(Text)
    state_since: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    # ... and what was set (through the API, or a pause for letting a call ring out).
    availability: Mapped[str] = mapped_column(Text, server_default="logged_out")
    # The console (migration 0007): operator or supervisor, and a scrypt password hash.
    role: Mapped[str] = mapped_column(Text, server_default="operator")
    password_hash: Mapped[str | None] = mapped_column(Text)


class Case(Base):
    """A work order, from intake to closure (R13)."""

    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint(_one_of("class", CASE_CLASSES), name="cases_class"),
        CheckConstraint(_one_of("status", CASE_STATUSES), name="cases_status"),
        CheckConstraint(_one_of("channel", ENTRIES), name="cases_channel"),
        CheckConstraint(
            "reasonable IS DISTINCT FROM false OR unreasonable_reason IS NOT NULL",
            name="cases_unreasonable_reason",
        ),
        Index(
            "ix_cases_elder_open",
            "elder_id",
            "opened_at",
            postgresql_where=text("status <> 'closed'"),
        ),
    )
    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    number: Mapped[int] = mapped_column(BigInteger, Identity(), unique=True)
    opened_at: Mapped[dt.datetime]
    closed_at: Mapped[dt.datetime | None]
    case_class: Mapped[str | None] = mapped_column("class", Text)
    status: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(Text)
    elder_id: Mapped[int | None] = mapped_column(ForeignKey("elders.id"), index=True)
    identified: Mapped[bool] = mapped_column(Boolean)
    owner_operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    # R7: whether the request is reasonable, and why not (migration 0005)
    reasonable: Mapped[bool | None] = mapped_column(Boolean)
    unreasonable_reason: Mapped[str | None] = mapped_column(Text)
    close_reason: Mapped[str | None] = mapped_column(Text)
    # migration 0012: a legal hold: nothing of the case (its recordings) is purged
    hold: Mapped[bool] = mapped_column(Boolean, server_default="false")


class Call(Base):
    """One call into the hotline, as Asterisk saw it (keyed by its linkedid)."""

    __tablename__ = "calls"
    __table_args__ = (
        CheckConstraint(_one_of("entry", ENTRIES), name="calls_entry"),
        CheckConstraint(_one_of("caller_kind", CALLER_KINDS), name="calls_caller_kind"),
        Index("ix_calls_elder_started", "elder_id", "started_at"),
    )
    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    linkedid: Mapped[str] = mapped_column(Text, unique=True)
    channel_id: Mapped[str] = mapped_column(Text)
    entry: Mapped[str] = mapped_column(Text)
    caller_number: Mapped[str | None] = mapped_column(Text)
    caller_kind: Mapped[str | None] = mapped_column(Text)
    elder_id: Mapped[int | None] = mapped_column(ForeignKey("elders.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cases.id"), index=True)
    started_at: Mapped[dt.datetime] = mapped_column(index=True)
    answered_at: Mapped[dt.datetime | None]
    ended_at: Mapped[dt.datetime | None]
    end_cause: Mapped[int | None] = mapped_column(Integer)
    end_cause_txt: Mapped[str | None] = mapped_column(Text)
    ended_by: Mapped[str | None] = mapped_column(Text)
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id"))
    queued_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    priority: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    connected_at: Mapped[dt.datetime | None]  # a human (operator) answered
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    overflowed_at: Mapped[dt.datetime | None]
    # R1: the moment the caller had waited past the queue's service level without a human.
    sla_breached_at: Mapped[dt.datetime | None]


class CaseEvent(Base):
    """One step of a case: append-only (a trigger refuses UPDATE and DELETE)."""

    __tablename__ = "case_events"
    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[dt.datetime]
    actor: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")


# --- operator queues (migration 0002) ---------------------------------------------------


class Queue(Base):
    """A queue of callers waiting for an operator (R1-R5)."""

    __tablename__ = "queues"
    __table_args__ = (
        CheckConstraint(_one_of("strategy", STRATEGIES), name="queues_strategy"),
        CheckConstraint("ring_timeout_s > 0", name="queues_ring_timeout"),
        CheckConstraint("wrapup_s >= 0", name="queues_wrapup"),
        CheckConstraint("service_level_s > 0", name="queues_service_level"),
        CheckConstraint("overflow_after_s IS NULL OR overflow_after_s > 0", name="queues_overflow"),
        CheckConstraint("announce_every_s IS NULL OR announce_every_s > 0", name="queues_announce"),
        CheckConstraint("callback_attempts BETWEEN 1 AND 10", name="queues_callback_attempts"),
        CheckConstraint("callback_spacing_s > 0", name="queues_callback_spacing"),
    )
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)  # slug: emergency, life_help, ...
    display_name: Mapped[str] = mapped_column(Text)
    strategy: Mapped[str] = mapped_column(Text, server_default="longest_idle")
    ring_timeout_s: Mapped[int] = mapped_column(Integer, server_default="15")
    wrapup_s: Mapped[int] = mapped_column(Integer, server_default="10")
    service_level_s: Mapped[int] = mapped_column(Integer, server_default="10")
    overflow_after_s: Mapped[int | None] = mapped_column(Integer)
    # Another queue's name, or "fallback" for the dialplan's duty ring group.
    overflow_target: Mapped[str | None] = mapped_column(Text)
    announce_every_s: Mapped[int | None] = mapped_column(Integer, server_default="30")
    callback_attempts: Mapped[int] = mapped_column(SmallInteger, server_default="3")
    callback_spacing_s: Mapped[int] = mapped_column(Integer, server_default="900")
    callback_on_abandon: Mapped[bool] = mapped_column(Boolean, server_default="true")
    updated_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())


class QueueMember(Base):
    __tablename__ = "queue_members"
    __table_args__ = (
        UniqueConstraint("queue_id", "operator_id"),
        CheckConstraint("penalty BETWEEN 0 AND 100", name="queue_members_penalty"),
    )
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id", ondelete="CASCADE"))
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id", ondelete="CASCADE"))
    penalty: Mapped[int] = mapped_column(SmallInteger, server_default="0")


class Line(Base):
    """An entry point (hotline, life-help line, terminals): its queue and its hours (R2)."""

    __tablename__ = "lines"
    __table_args__ = (CheckConstraint(_one_of("entry", ENTRIES), name="lines_entry"),)
    entry: Mapped[str] = mapped_column(Text, primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id"))
    # Local opening hours; both NULL means 24 hours.
    opens: Mapped[dt.time | None] = mapped_column(Time)
    closes: Mapped[dt.time | None] = mapped_column(Time)
    after_hours_queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id"))
    offer_callback: Mapped[bool] = mapped_column(Boolean, server_default="true")


class OperatorStateChange(Base):
    __tablename__ = "operator_state_changes"
    __table_args__ = (CheckConstraint(_one_of("state", OPERATOR_STATES), name="osc_state"),)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    event_id: Mapped[uuid.UUID | None] = mapped_column(UUID, unique=True)  # replays: once
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime] = mapped_column(index=True)
    state: Mapped[str] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    call_id: Mapped[uuid.UUID | None] = mapped_column(UUID)


CALLBACK_STATUSES = ("pending", "talked", "given_up", "cancelled")
ATTEMPT_OUTCOMES = ("answered", "no_answer", "busy", "failed", "operator_left")


class Callback(Base):
    """A call to return, on a case: abandoned while waiting, asked for after hours, or asked
    for by an operator or supervisor. Pending until someone talked, or given up after the
    queue's last attempt, or cancelled."""

    __tablename__ = "callbacks"
    __table_args__ = (
        CheckConstraint(_one_of("status", CALLBACK_STATUSES), name="callbacks_status"),
        Index("ix_callbacks_pending_due", "due_at", postgresql_where=text("status = 'pending'")),
    )
    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    call_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("calls.id"))
    number: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)  # abandoned | after_hours | requested
    waited_s: Mapped[float | None]
    created_at: Mapped[dt.datetime]
    done_at: Mapped[dt.datetime | None]
    done_by: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    status: Mapped[str] = mapped_column(Text, server_default="pending")
    due_at: Mapped[dt.datetime]
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id"))
    attempts: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    max_attempts: Mapped[int] = mapped_column(SmallInteger, server_default="3")
    spacing_s: Mapped[int] = mapped_column(Integer, server_default="900")
    last_outcome: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str | None] = mapped_column(Text)


class CallbackAttempt(Base):
    """One call placed for a callback: the operator rung, the number dialled, the outcome."""

    __tablename__ = "callback_attempts"
    __table_args__ = (
        UniqueConstraint("callback_id", "attempt"),
        CheckConstraint(_one_of("outcome", ATTEMPT_OUTCOMES), name="callback_attempts_outcome"),
    )
    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    callback_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("callbacks.id"))
    attempt: Mapped[int] = mapped_column(SmallInteger)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    outcome: Mapped[str] = mapped_column(Text)
    cause: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[dt.datetime]
    answered_at: Mapped[dt.datetime | None]
    ended_at: Mapped[dt.datetime]


class AuditEntry(Base):
    """Every admin change: who, when, what, before and after."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(server_default=func.now(), index=True)
    actor: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)  # create | update | delete
    entity: Mapped[str] = mapped_column(Text)
    entity_id: Mapped[str] = mapped_column(Text)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class ApiToken(Base):
    """A bearer token for the API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"
    __table_args__ = (CheckConstraint(_one_of("role", ROLES), name="api_tokens_role"),)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    role: Mapped[str] = mapped_column(Text)
    token_sha256: Mapped[str] = mapped_column(Text, unique=True)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    revoked_at: Mapped[dt.datetime | None]
    expires_at: Mapped[dt.datetime | None]  # migration 0012; None: revoked before it


# --- emergencies (migration 0004) ---------------------------------------------------------

PARTY_ROLES = ("care_centre", "community", "district_office", "other")
PARTY_MODES = ("call", "notify")
LEG_ROLES = ("elder", "operator", "ambulance", "family", "supervisor", "party")
TASK_STATUSES = ("open", "done", "cancelled")


class EmergencyRoute(Base):
    """Where 120 is dialled for an area (an elder's district; "*" for anywhere else):
    a number through the carrier trunk, or a PJSIP endpoint; a second route if configured."""

    __tablename__ = "emergency_routes"
    area: Mapped[str] = mapped_column(Text, primary_key=True)
    ambulance: Mapped[str] = mapped_column(Text)
    ambulance_alt: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())


class EmergencyParty(Base):
    """Who else an emergency reaches (R10): the home-care service centre, the community, the
    district office; called into the conference or notified, per area or per elder."""

    __tablename__ = "emergency_parties"
    __table_args__ = (
        CheckConstraint(_one_of("role", PARTY_ROLES), name="emergency_parties_role"),
        CheckConstraint(_one_of("mode", PARTY_MODES), name="emergency_parties_mode"),
        CheckConstraint("(area IS NULL) <> (elder_id IS NULL)", name="emergency_parties_scope"),
    )
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    area: Mapped[str | None] = mapped_column(Text, index=True)
    elder_id: Mapped[int | None] = mapped_column(
        ForeignKey("elders.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    number: Mapped[str] = mapped_column(Text)
    mode: Mapped[str] = mapped_column(Text)


class EmergencyLeg(Base):
    """One party of an emergency conference: who, which number, dialled, answered, heard the
    summary (acknowledged), left, and why it ended."""

    __tablename__ = "emergency_legs"
    __table_args__ = (CheckConstraint(_one_of("role", LEG_ROLES), name="emergency_legs_role"),)
    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    call_id: Mapped[uuid.UUID] = mapped_column(UUID)
    channel_id: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(Text)
    number: Mapped[str | None] = mapped_column(Text)
    tier: Mapped[int | None] = mapped_column(SmallInteger)
    attempt: Mapped[int] = mapped_column(SmallInteger, server_default="1")
    dialled_at: Mapped[dt.datetime | None]
    answered_at: Mapped[dt.datetime | None]
    acknowledged_at: Mapped[dt.datetime | None]
    left_at: Mapped[dt.datetime | None]
    end_cause: Mapped[int | None] = mapped_column(Integer)
    end_reason: Mapped[str | None] = mapped_column(Text)


class CaseRecording(Base):
    """A recording of a case's conference, kept by Asterisk under `name`."""

    __tablename__ = "case_recordings"
    name: Mapped[str] = mapped_column(Text, primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    call_id: Mapped[uuid.UUID] = mapped_column(UUID)
    started_at: Mapped[dt.datetime]
    stopped_at: Mapped[dt.datetime | None]
    purged_at: Mapped[dt.datetime | None]  # migration 0012: its file removed (retention)


class CaseTask(Base):
    """A follow-up owed on a case (R11, R12), owned by the case's first operator."""

    __tablename__ = "case_tasks"
    __table_args__ = (
        CheckConstraint(_one_of("status", TASK_STATUSES), name="case_tasks_status"),
        Index("ix_case_tasks_open_due", "due_at", postgresql_where=text("status = 'open'")),
        Index("ix_case_tasks_due", "due_at"),  # 0010: the reports' deadlines by period
        Index(
            "ix_case_tasks_owner_open",
            "owner_operator_id",
            "due_at",
            postgresql_where=text("status = 'open'"),
        ),
    )
    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(Text)  # hospital_updates | family_follow_up
    due_at: Mapped[dt.datetime]
    owner_operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    status: Mapped[str] = mapped_column(Text, server_default="open")
    created_at: Mapped[dt.datetime]
    done_at: Mapped[dt.datetime | None]
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))  # 0007
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    extensions: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    warned_at: Mapped[dt.datetime | None]  # 0009: due soon, said once
    escalated_at: Mapped[dt.datetime | None]  # 0009: overdue, escalated once


class Alarm(Base):
    """Alarm data a one-key terminal sent (SCAIP), tied to the case of its voice call."""

    __tablename__ = "alarms"
    __table_args__ = (Index("ix_alarms_caller", "caller_number", "received_at"),)
    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    received_at: Mapped[dt.datetime]
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cases.id"), index=True)
    ref: Mapped[str | None] = mapped_column(Text)
    caller_number: Mapped[str | None] = mapped_column(Text)
    device_type: Mapped[str | None] = mapped_column(Text)
    device_id: Mapped[str | None] = mapped_column(Text)
    status_code: Mapped[int | None] = mapped_column(Integer)
    alarm_type: Mapped[str | None] = mapped_column(Text)
    priority: Mapped[int | None] = mapped_column(Integer)
    location_code: Mapped[str | None] = mapped_column(Text)
    location_text: Mapped[str | None] = mapped_column(Text)
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]


# --- directories (migration 0006) ---------------------------------------------------------

ORGANISATION_KINDS = (
    "provider",
    "institution",
    "department",
    "community",
    "street",
    "government_office",
)


class Organisation(Base):
    """A service provider (R16), an institution (R17), a department complaints go to (R18), or
    a community, street or government office (R23), with when it was last checked."""

    __tablename__ = "organisations"
    __table_args__ = (
        CheckConstraint(_one_of("kind", ORGANISATION_KINDS), name="organisations_kind"),
        CheckConstraint("floor_area_m2 IS NULL OR floor_area_m2 > 0", name="organisations_area"),
        UniqueConstraint("kind", "name", name="organisations_kind_name"),
        Index("ix_organisations_kind_district", "kind", "district"),
    )
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    person_in_charge: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    district: Mapped[str | None] = mapped_column(Text)
    services: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    grade: Mapped[str | None] = mapped_column(Text)
    floor_area_m2: Mapped[int | None] = mapped_column(Integer)
    member: Mapped[bool] = mapped_column(Boolean, server_default="false")  # a member provider
    active: Mapped[bool] = mapped_column(Boolean, server_default="true")
    checked_on: Mapped[dt.date | None] = mapped_column(Date)
    updated_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())


# --- the console (migration 0007) ---------------------------------------------------------

ACCESS_WHY = ("offered", "owner", "search", "supervisor", "admin")
ACCESS_KINDS = (
    "record",  # an elder's full record
    "timeline",  # a case's timeline
    "emergency",  # a case's emergency view
    "recording",  # a conference's recording downloaded
    "search",  # a search of the directory (`target`: what was looked for)
    "audit",  # the audit log read
    "access_log",  # this log read
    "supervision",  # an operator's call listened to, whispered to, barged into
)


class ConsoleSession(Base):
    """A browser's login: only the token's hash is kept; the CSRF token is per session."""

    __tablename__ = "console_sessions"
    token_sha256: Mapped[str] = mapped_column(Text, primary_key=True)
    operator_id: Mapped[int] = mapped_column(
        ForeignKey("operators.id", ondelete="CASCADE"), index=True
    )
    csrf: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None]
    # migration 0012: the idle timeout, and why a session ended
    last_seen_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    ended_reason: Mapped[str | None] = mapped_column(Text)


class RecordAccess(Base):
    """Every read of what the hotline keeps about people (R27): an elder's full record, a
    case's timeline or emergency view, a recording, a search, the logs themselves, a
    supervision; who (`actor`: an operator's username or a token's name; `role`), when, why,
    what. Append-only (a trigger; only the retention role deletes old rows), and it outlives
    the elder's and the operator's records: no foreign key (migration 0012)."""

    __tablename__ = "record_access"
    __table_args__ = (
        CheckConstraint(_one_of("why", ACCESS_WHY), name="record_access_why"),
        CheckConstraint(_one_of("kind", ACCESS_KINDS), name="record_access_kind"),
        Index("ix_record_access_operator_elder", "operator_id", "elder_id", "at"),
        Index("ix_record_access_elder", "elder_id", "at"),
        Index("ix_record_access_case", "case_id", "at"),
        Index("ix_record_access_kind_at", "kind", "at"),
    )
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(Text)
    operator_id: Mapped[int | None] = mapped_column(BigInteger)
    elder_id: Mapped[int | None] = mapped_column(BigInteger)
    why: Mapped[str] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    call_id: Mapped[uuid.UUID | None] = mapped_column(UUID)
    kind: Mapped[str] = mapped_column(Text, server_default="record")
    role: Mapped[str | None] = mapped_column(Text)
    case_id: Mapped[uuid.UUID | None] = mapped_column(UUID)
    target: Mapped[str | None] = mapped_column(Text)


# --- deadlines and surveys (migration 0009) -----------------------------------------------


class CalendarException(Base):
    """A local exception to the official working-day calendar: a day off, or a day worked."""

    __tablename__ = "calendar_exceptions"
    __table_args__ = (
        CheckConstraint("kind IN ('holiday', 'workday')", name="calendar_exceptions_kind"),
    )
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())


class OfficialYear(Base):
    """A year's official schedule published by an admin from the government's notice
    (migration 0011); it stands over the `holidays` package's data for the same year."""

    __tablename__ = "official_years"
    __table_args__ = (
        CheckConstraint("year BETWEEN 1990 AND 2200", name="official_years_year"),
        CheckConstraint("country IN ('CN', 'RU')", name="official_years_country"),
    )
    country: Mapped[str] = mapped_column(Text, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    notice: Mapped[str] = mapped_column(Text)
    published_by: Mapped[str] = mapped_column(Text)
    published_at: Mapped[dt.datetime]
    library_version: Mapped[str | None] = mapped_column(Text)
    library_checked_at: Mapped[dt.datetime | None]
    library_differences: Mapped[Any | None] = mapped_column(JSONB)


class OfficialDay(Base):
    """A day a published notice names: a day off, or a weekend day worked."""

    __tablename__ = "official_days"
    __table_args__ = (
        ForeignKeyConstraint(
            ["country", "year"],
            ["official_years.country", "official_years.year"],
            ondelete="CASCADE",
        ),
        CheckConstraint("kind IN ('holiday', 'workday')", name="official_days_kind"),
    )
    country: Mapped[str] = mapped_column(Text, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    name: Mapped[str | None] = mapped_column(Text)


SURVEY_OUTCOMES: tuple[str, ...] = get_args(SurveyOutcome)


class SurveyAnswer(Base):
    """One satisfaction survey (R21): the score given on the keypad, or why there is none."""

    __tablename__ = "survey_answers"
    __table_args__ = (
        CheckConstraint(_one_of("outcome", SURVEY_OUTCOMES), name="survey_outcome"),
        CheckConstraint(
            "(outcome = 'answered') = (score IS NOT NULL) "
            "AND (score IS NULL OR score BETWEEN 1 AND 5)",
            name="survey_score",
        ),
    )
    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    call_id: Mapped[uuid.UUID | None] = mapped_column(UUID)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    asked_at: Mapped[dt.datetime] = mapped_column(index=True)
    outcome: Mapped[str] = mapped_column(Text)
    score: Mapped[int | None] = mapped_column(SmallInteger)


class LeaderLease(Base):
    """Who leads (migration 0013): one row; `epoch` rises at every takeover (the fencing
    token every acting write checks)."""

    __tablename__ = "leader_lease"
    __table_args__ = (CheckConstraint("id = 1", name="leader_lease_one_row"),)
    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    holder: Mapped[str] = mapped_column(Text)
    epoch: Mapped[int] = mapped_column(BigInteger)
    acquired_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]


class Controller(Base):
    """A `hotline serve` process as last seen: its role and, leading, its epoch."""

    __tablename__ = "controllers"
    __table_args__ = (
        CheckConstraint("role IN ('leader', 'standby', 'stopped')", name="controllers_role"),
    )
    name: Mapped[str] = mapped_column(Text, primary_key=True)
    host: Mapped[str] = mapped_column(Text)
    pid: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(Text)
    epoch: Mapped[int | None] = mapped_column(BigInteger)
    started_at: Mapped[dt.datetime]
    seen_at: Mapped[dt.datetime]


class HandedOverRecord(Base):
    """Records a controller held (journal, spool) when it stopped leading: the next leader
    writes them, through its own fenced transaction, and deletes the row."""

    __tablename__ = "handed_over_records"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    controller: Mapped[str] = mapped_column(Text)
    epoch: Mapped[int | None] = mapped_column(BigInteger)
    ops: Mapped[Any] = mapped_column(JSONB)
    handed_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
