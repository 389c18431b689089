"""The relational schema (SQLAlchemy Core). Same tables on SQLite and PostgreSQL.

Protected attributes live in `protected_attributes`, a table nothing but the fairness code reads.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

# --------------------------------------------------------------------------- reference data

dataset_versions = Table(
    "dataset_versions", metadata,
    Column("name", String(64), primary_key=True),
    Column("version", String(64), nullable=False),
    Column("loaded_at", DateTime(timezone=True), nullable=False),
    Column("detail", JSON, nullable=False),
)

skills = Table(
    "skills", metadata,
    Column("uri", String(255), primary_key=True),
    Column("label", Text, nullable=False),
    Column("alt_labels", JSON, nullable=False),
    Column("hidden_labels", JSON, nullable=False),
    Column("description", Text, nullable=False),
    Column("skill_type", String(32), nullable=False),
    Column("reuse_level", String(32), nullable=False),
)

esco_occupations = Table(
    "esco_occupations", metadata,
    Column("uri", String(255), primary_key=True),
    Column("label", Text, nullable=False),
    Column("isco_group", String(16), nullable=False),
    Column("code", String(64), nullable=False),
    Column("alt_labels", JSON, nullable=False),
    Column("description", Text, nullable=False),
)

occupation_skills = Table(
    "occupation_skills", metadata,
    Column("occupation_uri", String(255), primary_key=True),
    Column("skill_uri", String(255), primary_key=True),
    Column("relation", String(16), nullable=False),
)

skill_broader = Table(
    "skill_broader", metadata,
    Column("uri", String(255), primary_key=True),
    Column("broader_uri", String(255), primary_key=True),
)

skill_groups = Table(
    "skill_groups", metadata,
    Column("uri", String(255), primary_key=True),
    Column("label", Text, nullable=False),
    Column("code", String(64), nullable=False),
)

onet_occupations = Table(
    "onet_occupations", metadata,
    Column("code", String(16), primary_key=True),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("job_zone", Integer),
)

onet_tasks = Table(
    "onet_tasks", metadata,
    Column("code", String(16), primary_key=True),
    Column("task_id", Integer, primary_key=True),
    Column("task", Text, nullable=False),
    Column("core", Boolean, nullable=False),
)

onet_technology = Table(
    "onet_technology", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code", String(16), nullable=False, index=True),
    Column("example", Text, nullable=False),
    Column("commodity", Text, nullable=False),
    Column("hot", Boolean, nullable=False),
    Column("in_demand", Boolean, nullable=False),
)

onet_ratings = Table(
    "onet_ratings", metadata,
    Column("code", String(16), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("element_id", String(32), primary_key=True),
    Column("element_name", Text, nullable=False),
    Column("importance", Float, nullable=False),
    Column("level", Float, nullable=False),
)

onet_alt_titles = Table(
    "onet_alt_titles", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code", String(16), nullable=False, index=True),
    Column("title", Text, nullable=False),
)

career_changers = Table(
    "career_changers", metadata,
    Column("source", String(16), primary_key=True),
    Column("target", String(16), primary_key=True),
    Column("rank", Integer, nullable=False),
)

REFERENCE_TABLES = (
    skills, esco_occupations, occupation_skills, skill_broader, skill_groups, onet_occupations,
    onet_tasks, onet_technology, onet_ratings, onet_alt_titles, career_changers,
)

# --------------------------------------------------------------------------- organization

departments = Table(
    "departments", metadata,
    Column("id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
)

roles = Table(
    "roles", metadata,
    Column("id", String(64), primary_key=True),
    Column("title", Text, nullable=False),
    Column("onet_code", String(16), index=True),
    Column("level", Integer, nullable=False),
    Column("job_family", Text, nullable=False),
    Column("department_id", String(64), ForeignKey("departments.id"), nullable=False),
    Column("description", Text, nullable=False),
)

employees = Table(
    "employees", metadata,
    Column("id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("role_id", String(64), ForeignKey("roles.id"), nullable=False),
    Column("level", Integer, nullable=False),
    Column("hired_on", Date, nullable=False),
    Column("role_since", Date, nullable=False),
    Column("department_id", String(64), ForeignKey("departments.id"), nullable=False),
    Column("location", String(64), nullable=False),
    Column("manager_id", String(64), index=True),
    Column("aspirations", Text, nullable=False),
    Column("discoverable", Boolean, nullable=False),
    Column("part_time", Boolean, nullable=False),
    Column("is_recruiter", Boolean, nullable=False),
)

protected_attributes = Table(
    "protected_attributes", metadata,
    Column("employee_id", String(64), ForeignKey("employees.id"), primary_key=True),
    Column("sex", String(16), nullable=False),
    Column("race_ethnicity", String(64), nullable=False),
    Column("age_band", String(16), nullable=False),
)

opportunities = Table(
    "opportunities", metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False, index=True),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("department_id", String(64), ForeignKey("departments.id"), nullable=False),
    Column("location", String(64), nullable=False),
    Column("level", Integer, nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("posted_on", Date, nullable=False),
    Column("closes_on", Date),
    Column("role_id", String(64), ForeignKey("roles.id")),
    Column("owner_id", String(64)),
    Column("mentor_id", String(64)),
    Column("skill_uris", JSON, nullable=False),
    Column("hours_per_week", Float),
)

courses = Table(
    "courses", metadata,
    Column("id", String(64), primary_key=True),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("skill_uris", JSON, nullable=False),
    Column("hours", Integer, nullable=False),
)

evidence = Table(
    "evidence", metadata,
    Column("id", String(64), primary_key=True),
    Column("employee_id", String(64), ForeignKey("employees.id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("occurred_on", Date, nullable=False),
    Column("text", Text, nullable=False),
    Column("skill_uri", String(255)),
    Column("course_id", String(64)),
    Column("rating", Integer),
    Column("author_id", String(64)),
    Index("ix_evidence_employee", "employee_id", "occurred_on"),
)

moves = Table(
    "moves", metadata,
    Column("id", String(64), primary_key=True),
    Column("employee_id", String(64), ForeignKey("employees.id"), nullable=False, index=True),
    Column("from_role_id", String(64), ForeignKey("roles.id"), nullable=False),
    Column("to_role_id", String(64), ForeignKey("roles.id"), nullable=False),
    Column("opportunity_id", String(64)),
    Column("moved_on", Date, nullable=False),
    Column("promotion", Boolean, nullable=False),
    Column("outcome_rating", Integer),
    Column("retained_one_year", Boolean),
)

events = Table(
    "events", metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("employee_id", String(64), nullable=False, index=True),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("opportunity_id", String(64), index=True),
    Column("skill_uri", String(255)),
    Column("detail", Text, nullable=False),
    Column("idempotency_key", String(128), unique=True),
)

locations = Table(
    "locations", metadata,
    Column("id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
)
"""Work locations named by an imported organization (``locations.csv``); the simulator writes
none (its locations are free text)."""

employee_departures = Table(
    "employee_departures", metadata,
    Column("employee_id", String(64), ForeignKey("employees.id"), primary_key=True),
    Column("left_on", Date, nullable=False),
    Column("source", String(16), nullable=False),
)
"""Employees who left: ``source`` is ``file`` (``left_on`` in employees.csv) or ``absent``
(missing from a later import, marked on the import's date). Their rows and history stay."""

role_occupations = Table(
    "role_occupations", metadata,
    Column("role_id", String(64), ForeignKey("roles.id"), primary_key=True),
    Column("occupation_uri", String(255)),
    Column("label", Text, nullable=False),
    Column("onet_code", String(16)),
    Column("score", Float),
    Column("method", String(16), nullable=False),
    Column("title", Text, nullable=False),
)
"""How each imported role is linked to an occupation: ``given`` (a code in roles.csv),
``title_match`` (the job-title normalizer, with its score, for the title it matched),
``override`` (an HR admin; wins on every later import) or ``unlinked``."""

# Deleted children first, inserted parents first.
ORGANIZATION_TABLES = (
    departments, roles, employees, protected_attributes, opportunities, courses, evidence, moves,
    events, locations, employee_departures, role_occupations,
)

# --------------------------------------------------------------------------- serving audit log

served_lists = Table(
    "served_lists", metadata,
    Column("id", String(32), primary_key=True),
    Column("served_at", DateTime(timezone=True), nullable=False, index=True),
    Column("user_id", String(64), nullable=False),
    Column("requester_role", String(32), nullable=False),
    Column("endpoint", String(64), nullable=False),
    Column("subject_id", String(64), nullable=False, index=True),
    Column("model_version", String(64), nullable=False),
    Column("items", JSON, nullable=False),
    Column("fairness", JSON),
)
"""Every list the API served (audit log, append-only). ``items``: ``[{id, score, rank}]``;
``fairness``: aggregate list figures only (never a person's protected attribute). Not part of
``ORGANIZATION_TABLES``: replacing the organization keeps the log."""
