"""Validated records -> the domain model and the import-only rows (locations, departures,
occupation hints), and the store's rows -> records for the export."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from features.domain import (
    Course,
    Department,
    Employee,
    Event,
    Evidence,
    EvidenceKind,
    Move,
    Opportunity,
    ProtectedAttributes,
    Role,
)
from features.organization.reader import ParsedFolder
from features.organization.records import (
    CourseCompletionRecord,
    EmployeeRecord,
    EndorsementRecord,
    OccupationOverrideRecord,
    ReviewRecord,
    RoleRecord,
    SelfDeclaredSkillRecord,
)


@dataclass(frozen=True)
class OccupationHint:
    """What the company's roles.csv says a role is (either or both may be missing)."""

    onet_code: str | None
    occupation_uri: str | None


@dataclass
class IncomingOrganization:
    """Everything one import brings, as the store holds it. ``None``: the file was absent (that
    entity is left as it is); an empty list: the file was present and empty."""

    departments: list[Department]
    roles: list[Role]
    employees: list[Employee]
    left_on: dict[str, date] = field(default_factory=dict)
    locations: list[dict[str, str]] | None = None
    protected_attributes: list[ProtectedAttributes] | None = None
    opportunities: list[Opportunity] | None = None
    courses: list[Course] | None = None
    evidence: list[Evidence] | None = None
    moves: list[Move] | None = None
    events: list[Event] | None = None
    hints: dict[str, OccupationHint] = field(default_factory=dict)
    overrides: dict[str, OccupationOverrideRecord] = field(default_factory=dict)


def _role(record: RoleRecord) -> Role:
    return Role(id=record.id, title=record.title, onet_code=record.onet_code,
                level=record.level, job_family=record.job_family,
                department_id=record.department_id, description=record.description)


def _employee(record: EmployeeRecord) -> Employee:
    values = record.model_dump(exclude={"left_on"})
    if record.left_on is not None:
        values["discoverable"] = False
    return Employee(**values)


def _evidence(parsed: ParsedFolder) -> list[Evidence] | None:
    names = ("reviews.jsonl", "course_completions.csv", "endorsements.csv",
             "self_declared_skills.csv")
    if not any(name in parsed.present for name in names):
        return None
    out: list[Evidence] = []
    review: ReviewRecord
    for review in parsed.take("reviews.jsonl"):
        out.append(Evidence(id=review.id, employee_id=review.employee_id,
                            kind=EvidenceKind.PERFORMANCE_REVIEW, occurred_on=review.reviewed_on,
                            text=review.text, rating=review.rating, author_id=review.reviewer_id))
    done: CourseCompletionRecord
    for done in parsed.take("course_completions.csv"):
        out.append(Evidence(id=done.id, employee_id=done.employee_id,
                            kind=EvidenceKind.COURSE_COMPLETION, occurred_on=done.completed_on,
                            text=done.text, course_id=done.course_id))
    endorsed: EndorsementRecord
    for endorsed in parsed.take("endorsements.csv"):
        out.append(Evidence(id=endorsed.id, employee_id=endorsed.employee_id,
                            kind=EvidenceKind.MANAGER_ENDORSEMENT,
                            occurred_on=endorsed.endorsed_on, text=endorsed.text,
                            skill_uri=endorsed.skill_uri, author_id=endorsed.endorser_id))
    declared: SelfDeclaredSkillRecord
    for declared in parsed.take("self_declared_skills.csv"):
        out.append(Evidence(id=declared.id, employee_id=declared.employee_id,
                            kind=EvidenceKind.SELF_DECLARED, occurred_on=declared.declared_on,
                            text=declared.text, skill_uri=declared.skill_uri))
    return out


def _present(parsed: ParsedFolder, name: str) -> bool:
    return name in parsed.present


def incoming_organization(parsed: ParsedFolder) -> IncomingOrganization:
    """The validated folder as store rows (call after `check_folder` found no problem); the
    large files' records are taken out of ``parsed`` as they are converted."""
    roles: list[RoleRecord] = parsed.records("roles.csv")
    employees: list[EmployeeRecord] = parsed.records("employees.csv")
    return IncomingOrganization(
        departments=[Department(**r.model_dump()) for r in parsed.records("departments.csv")],
        roles=[_role(r) for r in roles],
        employees=[_employee(r) for r in employees],
        left_on={r.id: r.left_on for r in employees if r.left_on is not None},
        locations=([r.model_dump() for r in parsed.records("locations.csv")]
                   if _present(parsed, "locations.csv") else None),
        protected_attributes=([ProtectedAttributes(**r.model_dump())
                               for r in parsed.records("protected_attributes.csv")]
                              if _present(parsed, "protected_attributes.csv") else None),
        opportunities=([Opportunity(**r.model_dump()) for r in parsed.take("opportunities.csv")]
                       if _present(parsed, "opportunities.csv") else None),
        courses=([Course(**r.model_dump()) for r in parsed.records("courses.csv")]
                 if _present(parsed, "courses.csv") else None),
        evidence=_evidence(parsed),
        moves=([Move(**r.model_dump()) for r in parsed.take("moves.csv")]
               if _present(parsed, "moves.csv") else None),
        events=([Event(**r.model_dump()) for r in parsed.take("events.csv")]
                if _present(parsed, "events.csv") else None),
        hints={r.id: OccupationHint(r.onet_code, r.occupation_uri) for r in roles},
        overrides={r.role_id: r for r in parsed.records("occupation_overrides.csv")},
    )
