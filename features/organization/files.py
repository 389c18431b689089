"""The files of the organization format: name, row model, CSV or JSON lines, required or not."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from features.organization.records import (
    CourseCompletionRecord,
    CourseRecord,
    DepartmentRecord,
    EmployeeRecord,
    EndorsementRecord,
    EventRecord,
    LocationRecord,
    MoveRecord,
    OccupationOverrideRecord,
    OpportunityRecord,
    ProtectedAttributesRecord,
    Record,
    ReviewRecord,
    RoleRecord,
    SelfDeclaredSkillRecord,
)


@dataclass(frozen=True)
class FileSpec:
    """One file: its name in the folder, its row model and the column that identifies a row."""

    name: str
    record: type[Record]
    format: Literal["csv", "jsonl"]
    required: bool
    key: str

    @property
    def stem(self) -> str:
        return self.name.rsplit(".", 1)[0]


FILES: tuple[FileSpec, ...] = (
    FileSpec("departments.csv", DepartmentRecord, "csv", True, "id"),
    FileSpec("locations.csv", LocationRecord, "csv", False, "id"),
    FileSpec("roles.csv", RoleRecord, "csv", True, "id"),
    FileSpec("employees.csv", EmployeeRecord, "csv", True, "id"),
    FileSpec("protected_attributes.csv", ProtectedAttributesRecord, "csv", False,
             "employee_id"),
    FileSpec("opportunities.csv", OpportunityRecord, "csv", False, "id"),
    FileSpec("courses.csv", CourseRecord, "csv", False, "id"),
    FileSpec("reviews.jsonl", ReviewRecord, "jsonl", False, "id"),
    FileSpec("course_completions.csv", CourseCompletionRecord, "csv", False, "id"),
    FileSpec("endorsements.csv", EndorsementRecord, "csv", False, "id"),
    FileSpec("self_declared_skills.csv", SelfDeclaredSkillRecord, "csv", False, "id"),
    FileSpec("moves.csv", MoveRecord, "csv", False, "id"),
    FileSpec("events.csv", EventRecord, "csv", False, "id"),
    FileSpec("occupation_overrides.csv", OccupationOverrideRecord, "csv", False, "role_id"),
)
"""Every file, parents before children (the order they are validated and documented in)."""

BY_NAME = {spec.name: spec for spec in FILES}
EVIDENCE_FILES = ("reviews.jsonl", "course_completions.csv", "endorsements.csv",
                  "self_declared_skills.csv")
"""The four evidence files share one id space (the store's ``evidence`` table)."""
