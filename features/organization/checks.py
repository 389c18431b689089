"""Checks across rows and files: duplicate ids, references to ids that exist nowhere, dates in
the future or out of order. An id referenced by a file may exist in the same import or already
in the store (``known``): an incremental import need not repeat unchanged files."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from features.organization.files import EVIDENCE_FILES, FILES
from features.organization.problems import Problems
from features.organization.reader import ParsedFolder
from features.organization.records import EmployeeRecord, OpportunityRecord


@dataclass(frozen=True)
class KnownIds:
    """Ids already in the store, by entity, and the reference data's URIs (empty: unchecked)."""

    ids: Mapping[str, frozenset[str]] = field(default_factory=dict)
    skill_uris: frozenset[str] = frozenset()
    occupation_uris: frozenset[str] = frozenset()


# (file, column) -> the file whose ids it references.
REFERENCES: dict[tuple[str, str], str] = {
    ("roles.csv", "department_id"): "departments.csv",
    ("employees.csv", "role_id"): "roles.csv",
    ("employees.csv", "department_id"): "departments.csv",
    ("employees.csv", "manager_id"): "employees.csv",
    ("employees.csv", "location"): "locations.csv",
    ("protected_attributes.csv", "employee_id"): "employees.csv",
    ("opportunities.csv", "department_id"): "departments.csv",
    ("opportunities.csv", "location"): "locations.csv",
    ("opportunities.csv", "role_id"): "roles.csv",
    ("opportunities.csv", "owner_id"): "employees.csv",
    ("opportunities.csv", "mentor_id"): "employees.csv",
    ("reviews.jsonl", "employee_id"): "employees.csv",
    ("reviews.jsonl", "reviewer_id"): "employees.csv",
    ("course_completions.csv", "employee_id"): "employees.csv",
    ("course_completions.csv", "course_id"): "courses.csv",
    ("endorsements.csv", "employee_id"): "employees.csv",
    ("endorsements.csv", "endorser_id"): "employees.csv",
    ("self_declared_skills.csv", "employee_id"): "employees.csv",
    ("moves.csv", "employee_id"): "employees.csv",
    ("moves.csv", "from_role_id"): "roles.csv",
    ("moves.csv", "to_role_id"): "roles.csv",
    ("moves.csv", "opportunity_id"): "opportunities.csv",
    ("events.csv", "employee_id"): "employees.csv",
    ("events.csv", "opportunity_id"): "opportunities.csv",
    ("occupation_overrides.csv", "role_id"): "roles.csv",
}

# Dates that describe the past: after ``today`` they are an error.
PAST_DATES: dict[str, tuple[str, ...]] = {
    "employees.csv": ("hired_on", "role_since", "left_on"),
    "opportunities.csv": ("posted_on",),
    "reviews.jsonl": ("reviewed_on",),
    "course_completions.csv": ("completed_on",),
    "endorsements.csv": ("endorsed_on",),
    "self_declared_skills.csv": ("declared_on",),
    "moves.csv": ("moved_on",),
    "events.csv": ("occurred_at",),
}

SKILL_COLUMNS: dict[str, str] = {
    "opportunities.csv": "skill_uris", "courses.csv": "skill_uris",
    "endorsements.csv": "skill_uri", "self_declared_skills.csv": "skill_uri",
}


def _column(parsed: ParsedFolder, name: str, column: str) -> int | None:
    """The 1-based CSV column of ``column`` in file ``name`` (None for JSON lines)."""
    return parsed.columns.get(name, {}).get(column)


def _ids(parsed: ParsedFolder, name: str, known: KnownIds) -> frozenset[str] | None:
    """Ids of ``name`` in this import or the store; None when neither has the entity at all
    (locations: a company that sends no locations file has free-text locations)."""
    if name in parsed.unreadable:
        return None
    spec = next(s for s in FILES if s.name == name)
    here = {getattr(r, spec.key) for r in parsed.records(name)} | parsed.invalid_ids.get(name,
                                                                                     set())
    stored = known.ids.get(name)
    if name not in parsed.present and stored is None:
        return None if name == "locations.csv" else frozenset()
    return frozenset(here | (stored or frozenset()))


def check_folder(parsed: ParsedFolder, known: KnownIds, today: date,
                 problems: Problems) -> None:
    """Every cross-row check; problems are added to ``problems``."""
    evidence_seen: dict[str, str] = {}
    for spec in FILES:
        seen: dict[str, int] = {}
        for row in parsed.rows.get(spec.name, []):
            key = getattr(row.record, spec.key)
            if key in seen:
                problems.add(spec.name, row.line, _column(parsed, spec.name, spec.key), spec.key,
                             f"duplicate id {key!r} (first on line {seen[key]})")
            else:
                seen[key] = row.line
            if spec.name in EVIDENCE_FILES:
                other = evidence_seen.setdefault(key, spec.name)
                if other != spec.name:
                    problems.add(spec.name, row.line, _column(parsed, spec.name, spec.key),
                                 spec.key, f"id {key!r} is also used in {other} (the evidence "
                                 "files share one id space)")
    targets: dict[str, frozenset[str] | None] = {}
    for (name, column), target in REFERENCES.items():
        if target not in targets:
            targets[target] = _ids(parsed, target, known)
        valid = targets[target]
        if valid is None:
            continue
        for row in parsed.rows.get(name, []):
            value = getattr(row.record, column)
            if value is not None and value not in valid:
                problems.add(name, row.line, _column(parsed, name, column), column,
                             f"unknown id {value!r} (not in {target} nor in the store)")
    for row in parsed.rows.get("employees.csv", []):
        emp: EmployeeRecord = row.record  # type: ignore[assignment]
        if emp.manager_id == emp.id:
            problems.add("employees.csv", row.line, _column(parsed, "employees.csv", "manager_id"),
                         "manager_id", "an employee cannot be their own manager")
        if emp.role_since < emp.hired_on:
            problems.add("employees.csv", row.line, _column(parsed, "employees.csv", "role_since"),
                         "role_since", f"{emp.role_since} is before hired_on {emp.hired_on}")
        if emp.left_on is not None and emp.left_on < emp.hired_on:
            problems.add("employees.csv", row.line, _column(parsed, "employees.csv", "left_on"),
                         "left_on", f"{emp.left_on} is before hired_on {emp.hired_on}")
    for row in parsed.rows.get("opportunities.csv", []):
        opp: OpportunityRecord = row.record  # type: ignore[assignment]
        if opp.closes_on is not None and opp.closes_on < opp.posted_on:
            problems.add("opportunities.csv", row.line,
                         _column(parsed, "opportunities.csv", "closes_on"), "closes_on",
                         f"{opp.closes_on} is before posted_on {opp.posted_on}")
    for name, columns in PAST_DATES.items():
        for row in parsed.rows.get(name, []):
            for column in columns:
                value = getattr(row.record, column)
                day = value.date() if isinstance(value, datetime) else value
                if day is not None and day > today:
                    problems.add(name, row.line, _column(parsed, name, column), column,
                                 f"{value} is in the future (today is {today})")
    if known.skill_uris:
        for name, column in SKILL_COLUMNS.items():
            for row in parsed.rows.get(name, []):
                value = getattr(row.record, column)
                uris: Iterable[str] = (value,) if isinstance(value, str) else value
                for uri in uris:
                    if uri not in known.skill_uris:
                        problems.add(name, row.line, _column(parsed, name, column), column,
                                     f"unknown ESCO skill {uri!r}")
    if known.occupation_uris:
        for name in ("roles.csv", "occupation_overrides.csv"):
            for row in parsed.rows.get(name, []):
                occupation = getattr(row.record, "occupation_uri", None)
                if occupation is not None and occupation not in known.occupation_uris:
                    problems.add(name, row.line, _column(parsed, name, "occupation_uri"),
                                 "occupation_uri", f"unknown ESCO occupation {occupation!r}")
