"""A tiny but complete organization for store and API tests."""

from __future__ import annotations

from datetime import UTC, date, datetime

from features.domain import (
    Course,
    Department,
    Employee,
    Event,
    EventKind,
    Evidence,
    EvidenceKind,
    Move,
    Opportunity,
    OpportunityKind,
    OpportunityStatus,
    Organization,
    ProtectedAttributes,
    Role,
    Sex,
)

PYTHON = "http://data.europa.eu/esco/skill/2b0fa1ff-2d7b-4b7a-9b8e-f4e4b6f8d4d7"


def tiny_organization() -> Organization:
    dept = Department(id="d1", name="Engineering")
    roles = [
        Role(id="r1", title="Software Developer", onet_code="15-1252.00", level=3,
             job_family="Computer and Mathematical", department_id="d1",
             description="Modify existing software to correct errors."),
        Role(id="r2", title="Computer Systems Analyst", onet_code="15-1211.00", level=4,
             job_family="Computer and Mathematical", department_id="d1",
             description="Test, maintain, and monitor computer programs."),
    ]
    employees = [
        Employee(id="e1", name="Ada L.", role_id="r1", level=3, hired_on=date(2020, 1, 6),
                 role_since=date(2022, 3, 1), department_id="d1", location="Lisbon",
                 manager_id="e2", aspirations="systems analysis", discoverable=True),
        Employee(id="e2", name="Grace H.", role_id="r2", level=4, hired_on=date(2015, 5, 4),
                 role_since=date(2019, 1, 1), department_id="d1", location="Lisbon",
                 manager_id=None, aspirations="lead a team", discoverable=False),
    ]
    return Organization(
        departments=[dept], roles=roles, employees=employees,
        protected_attributes=[
            ProtectedAttributes(employee_id="e1", sex=Sex.FEMALE, race_ethnicity="Asian",
                                age_band="30-39"),
            ProtectedAttributes(employee_id="e2", sex=Sex.UNKNOWN, race_ethnicity="unknown",
                                age_band="50-59"),
        ],
        opportunities=[
            Opportunity(id="o1", kind=OpportunityKind.PROJECT, title="Data pipeline rebuild",
                        description="Rebuild the pipeline in Python.", department_id="d1",
                        location="Lisbon", level=3, status=OpportunityStatus.OPEN,
                        posted_on=date(2026, 10, 1), owner_id="e2", skill_uris=(PYTHON,),
                        hours_per_week=7.5),
        ],
        courses=[Course(id="c1", title="Python for analysts", description="Learn Python.",
                        skill_uris=(PYTHON,), hours=12)],
        evidence=[
            Evidence(id="v1", employee_id="e1", kind=EvidenceKind.PERFORMANCE_REVIEW,
                     occurred_on=date(2025, 12, 1), rating=4, author_id="e2",
                     text="Ada writes clean Python. She needs to improve stakeholder updates."),
            Evidence(id="v2", employee_id="e1", kind=EvidenceKind.COURSE_COMPLETION,
                     occurred_on=date(2026, 2, 1), course_id="c1"),
        ],
        moves=[Move(id="m1", employee_id="e2", from_role_id="r1", to_role_id="r2",
                    opportunity_id=None, moved_on=date(2019, 1, 1), promotion=True,
                    outcome_rating=4, retained_one_year=True)],
        events=[Event(id="x1", kind=EventKind.IMPRESSION, employee_id="e1",
                      occurred_at=datetime(2026, 11, 1, 9, 0, tzinfo=UTC), opportunity_id="o1")],
    )
