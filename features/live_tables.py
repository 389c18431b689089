"""Tables of what people and managers change while the API runs (issue "live updates").

Registered in `features.tables.metadata`, so ``Store.create_schema`` creates them; read and
written only through `features.live_store`. Not in ``ORGANIZATION_TABLES``: replacing the
organization keeps them (a live requirement row whose opportunity is gone is ignored).
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Integer, String, Table

from features.tables import metadata

opportunity_requirements = Table(
    "opportunity_requirements", metadata,
    Column("opportunity_id", String(64), primary_key=True),
    Column("requirements", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
"""Requirements inferred when an opportunity was posted or edited through the API
(a `RequirementProfile` as JSON); they win over the bundle's for that opportunity."""

live_changes = Table(
    "live_changes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("subject_id", String(64), nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
)
"""One row per change that serving must pick up (an opportunity posted, edited or closed);
every API worker polls ``max(id)`` and rebuilds its live catalog when it moved."""

write_keys = Table(
    "write_keys", metadata,
    Column("key", String(160), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("subject_id", String(64), nullable=False),
    Column("request", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
"""Idempotency keys of the live writes (scoped ``"<caller>:<key>"``, as events' keys are): a
repeat returns what the first write made; the same key with another request is a conflict."""

live_observations = Table(
    "live_observations", metadata,
    Column("evidence_id", String(64), primary_key=True),
    Column("employee_id", String(64), nullable=False, index=True),
    Column("observations", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
"""The skill observations (`features.profiles.Observation`) of evidence written through the API,
computed once by the worker that took it (with the serving skills engine), so every worker
updates the person's profile from them without running the engine again."""

employee_preferences = Table(
    "employee_preferences", metadata,
    Column("employee_id", String(64), primary_key=True),
    Column("locations", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
"""Where an employee would like to work (their aspirations are ``employees.aspirations``)."""
