"""Validated records -> the store's rows (one row at a time, so a file can be written in
chunks), the roles as the domain model, and the occupation hints roles.csv gives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from features.domain import EvidenceKind, Role
from features.organization.records import (
    CourseCompletionRecord,
    EmployeeRecord,
    EndorsementRecord,
    Record,
    ReviewRecord,
    RoleRecord,
    SelfDeclaredSkillRecord,
)

StoreRow = dict[str, Any]


@dataclass(frozen=True)
class OccupationHint:
    """What the company's roles.csv says a role is (either or both may be missing)."""

    onet_code: str | None
    occupation_uri: str | None


def plain(value: Any) -> Any:
    """A value as the store's column types take it (enum -> value, tuple -> list)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple):
        return [plain(v) for v in value]
    return value


def role(record: RoleRecord) -> Role:
    return Role(id=record.id, title=record.title, onet_code=record.onet_code,
                level=record.level, job_family=record.job_family,
                department_id=record.department_id, description=record.description)


def hint(record: RoleRecord) -> OccupationHint:
    return OccupationHint(record.onet_code, record.occupation_uri)


def _same_names(*columns: str) -> Callable[[Record], StoreRow]:
    def row(record: Record) -> StoreRow:
        values = record.__dict__
        return {column: plain(values[column]) for column in columns}

    return row


EMPLOYEE_COLUMNS = ("id", "name", "role_id", "level", "hired_on", "role_since",
                    "department_id", "location", "manager_id", "aspirations", "discoverable",
                    "part_time", "is_recruiter")


def employee_row(record: EmployeeRecord) -> StoreRow:
    """An employee who left (``left_on``) is not discoverable."""
    values = record.__dict__
    row = {column: values[column] for column in EMPLOYEE_COLUMNS}
    if record.left_on is not None:
        row["discoverable"] = False
    return row


def _evidence(record: Record, kind: EvidenceKind, occurred_on: str, *,
              skill_uri: str | None = None, course_id: str | None = None,
              rating: int | None = None, author_id: str | None = None) -> StoreRow:
    values = record.__dict__
    return {"id": values["id"], "employee_id": values["employee_id"], "kind": kind.value,
            "occurred_on": values[occurred_on], "text": values["text"],
            "skill_uri": skill_uri, "course_id": course_id, "rating": rating,
            "author_id": author_id}


def _review(r: ReviewRecord) -> StoreRow:
    return _evidence(r, EvidenceKind.PERFORMANCE_REVIEW, "reviewed_on", rating=r.rating,
                     author_id=r.reviewer_id)


def _completion(r: CourseCompletionRecord) -> StoreRow:
    return _evidence(r, EvidenceKind.COURSE_COMPLETION, "completed_on", course_id=r.course_id)


def _endorsement(r: EndorsementRecord) -> StoreRow:
    return _evidence(r, EvidenceKind.MANAGER_ENDORSEMENT, "endorsed_on", skill_uri=r.skill_uri,
                     author_id=r.endorser_id)


def _declared(r: SelfDeclaredSkillRecord) -> StoreRow:
    return _evidence(r, EvidenceKind.SELF_DECLARED, "declared_on", skill_uri=r.skill_uri)


STORE_ROW: dict[str, Callable[[Any], StoreRow]] = {
    "departments.csv": _same_names("id", "name"),
    "locations.csv": _same_names("id", "name"),
    "employees.csv": employee_row,
    "protected_attributes.csv": _same_names("employee_id", "sex", "race_ethnicity",
                                            "age_band"),
    "opportunities.csv": _same_names("id", "kind", "title", "description", "department_id",
                                     "location", "level", "status", "posted_on", "closes_on",
                                     "hours_per_week", "role_id", "owner_id", "mentor_id",
                                     "skill_uris"),
    "courses.csv": _same_names("id", "title", "description", "skill_uris", "hours"),
    "reviews.jsonl": _review,
    "course_completions.csv": _completion,
    "endorsements.csv": _endorsement,
    "self_declared_skills.csv": _declared,
    "moves.csv": _same_names("id", "employee_id", "from_role_id", "to_role_id",
                             "opportunity_id", "moved_on", "promotion", "outcome_rating",
                             "retained_one_year"),
    "events.csv": _same_names("id", "kind", "employee_id", "occurred_at", "opportunity_id",
                              "skill_uri", "detail", "idempotency_key"),
}
"""The store row of a record of each file that is written as it is read (roles are linked
first, occupation overrides are kept in the links)."""
