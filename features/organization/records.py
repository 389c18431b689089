"""One pydantic model per file of the organization format: the columns, their types, whether
each is required, and an example. The importer validates every row with these models and
``docs/data-format.md`` and the JSON Schemas are generated from them (`features.organization.docs`).

CSV cells are text: an empty cell is "absent" (``None`` for an optional column), booleans are
``true`` / ``false``, dates are ISO ``YYYY-MM-DD``, timestamps ISO 8601 with a UTC offset, and a
list of skill URIs is one cell with the URIs separated by spaces.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from features.domain import (
    MAX_HOURS_PER_WEEK,
    EventKind,
    OpportunityKind,
    OpportunityStatus,
    Sex,
)


def _space_separated(value: Any) -> Any:
    if isinstance(value, str):
        return tuple(part for part in value.split() if part)
    return value


def _blank_is_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value


SkillUris = Annotated[tuple[str, ...], BeforeValidator(_space_separated)]
Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^\S(.*\S)?$")]
OptionalId = Annotated[Id | None, BeforeValidator(_blank_is_none)]
OnetCode = Annotated[str | None, BeforeValidator(_blank_is_none),
                     Field(pattern=r"^\d{2}-\d{4}\.\d{2}$")]
Level = Annotated[int, Field(ge=1, le=5)]
Rating = Annotated[int | None, BeforeValidator(_blank_is_none), Field(ge=1, le=5)]
OptionalDate = Annotated[date | None, BeforeValidator(_blank_is_none)]
OptionalBool = Annotated[bool | None, BeforeValidator(_blank_is_none)]
OptionalText = Annotated[str | None, BeforeValidator(_blank_is_none)]
HoursPerWeek = Annotated[Annotated[float, Field(gt=0, le=MAX_HOURS_PER_WEEK)] | None,
                         BeforeValidator(_blank_is_none)]


class Record(BaseModel):
    """One row of one file; unknown columns are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class DepartmentRecord(Record):
    """A department (or any organizational unit roles and opportunities belong to)."""

    id: Id = Field(description="Department id, unique in the file.", examples=["D-ENG"])
    name: str = Field(min_length=1, description="Display name.", examples=["Engineering"])


class LocationRecord(Record):
    """A work location; employees and opportunities name one by id."""

    id: Id = Field(description="Location id, unique in the file.", examples=["lisbon"])
    name: str = Field(min_length=1, description="Display name.", examples=["Lisbon, Portugal"])


class RoleRecord(Record):
    """A job (position type) in the company. A role with neither ``onet_code`` nor
    ``occupation_uri`` is linked to an ESCO occupation by its title (the job-title normalizer);
    the link and its score are kept and can be overridden (``occupation_overrides.csv``)."""

    id: Id = Field(description="Role id, unique in the file.", examples=["R-DATA-ENG-2"])
    title: str = Field(min_length=1, description="Job title as the company writes it.",
                       examples=["Sr. Data Engineer II"])
    description: str = Field(default="", description="Job description (skills are inferred "
                             "from it).", examples=["Builds and runs the data pipelines."])
    level: Level = Field(description="Seniority level, 1 (entry) to 5 (most senior).",
                         examples=[3])
    job_family: str = Field(default="", description="Job family or function.",
                            examples=["Data"])
    department_id: Id = Field(description="Department id (departments.csv).",
                              examples=["D-ENG"])
    onet_code: OnetCode = Field(default=None, description="O*NET-SOC 2019 code, when known.",
                                examples=["15-1252.00"])
    occupation_uri: OptionalText = Field(
        default=None, description="ESCO occupation URI, when known.",
        examples=["http://data.europa.eu/esco/occupation/f2b15a0e-e65a-438a-affb-29b9d50b77d1"])


class EmployeeRecord(Record):
    """A person, current or former. Someone who left keeps their row with ``left_on`` set (or is
    simply absent from a later export: the import then marks them as left, never deletes
    them, so their history stays)."""

    id: Id = Field(description="Employee id, unique in the file.", examples=["E00042"])
    name: str = Field(min_length=1, description="Display name.", examples=["Ada Lovelace"])
    role_id: Id = Field(description="Current (or last) role id (roles.csv).",
                        examples=["R-DATA-ENG-2"])
    level: Level = Field(description="Seniority level, 1 to 5.", examples=[3])
    hired_on: date = Field(description="Hire date.", examples=["2021-03-01"])
    role_since: date = Field(description="Date they started in the current role (on or after "
                             "the hire date).", examples=["2023-07-01"])
    department_id: Id = Field(description="Department id (departments.csv).",
                              examples=["D-ENG"])
    location: Id = Field(description="Location id (locations.csv, when that file is given).",
                         examples=["lisbon"])
    manager_id: OptionalId = Field(default=None, description="Their manager's employee id; "
                                   "empty for the top of the org chart.", examples=["E00007"])
    aspirations: str = Field(default="", description="What they want to do next, in their "
                             "own words.", examples=["Lead a data platform team"])
    discoverable: bool = Field(description="Whether recruiters may find them as an internal "
                               "candidate (their opt-in).", examples=[True])
    part_time: bool = Field(default=False, description="Works part-time.", examples=[False])
    is_recruiter: bool = Field(default=False, description="Works as a recruiter (may see "
                               "candidate lists for the roles they own).", examples=[False])
    left_on: OptionalDate = Field(default=None, description="Last day at the company, for "
                                  "someone who left.", examples=[""])


class ProtectedAttributesRecord(Record):
    """Optional, for fairness audits only: read by the fairness code and nothing else."""

    employee_id: Id = Field(description="Employee id (employees.csv), at most one row each.",
                            examples=["E00042"])
    sex: Sex = Field(description="Sex as recorded by HR.", examples=["female"])
    race_ethnicity: str = Field(min_length=1, description="Race / ethnicity category as "
                                "recorded by HR (``unknown`` when not disclosed).",
                                examples=["unknown"])
    age_band: str = Field(min_length=1, description="Age band.", examples=["30-39"])


class OpportunityRecord(Record):
    """Anything someone could move to: an open role, a project, a gig, a rotation or a
    mentorship, open now or in the past."""

    id: Id = Field(description="Opportunity id, unique in the file.", examples=["O-2026-0012"])
    kind: OpportunityKind = Field(description="What it is.", examples=["open_role"])
    title: str = Field(min_length=1, description="Title as posted.",
                       examples=["Data Engineer, payments"])
    description: str = Field(default="", description="Posting text (skills are inferred from "
                             "it).", examples=["Own the payments data pipelines."])
    department_id: Id = Field(description="Department id (departments.csv).",
                              examples=["D-ENG"])
    location: Id = Field(description="Location id.", examples=["lisbon"])
    level: Level = Field(description="Seniority level, 1 to 5.", examples=[3])
    status: OpportunityStatus = Field(description="open, filled or closed.", examples=["open"])
    posted_on: date = Field(description="Date posted.", examples=["2026-10-01"])
    closes_on: OptionalDate = Field(default=None, description="Closing date, if any.",
                                    examples=["2026-12-15"])
    hours_per_week: HoursPerWeek = Field(
        default=None, description="Expected time commitment in hours a week, more than 0 and "
        "at most 60 (empty: not stated).", examples=[6])
    role_id: OptionalId = Field(default=None, description="The role it fills (open roles).",
                                examples=["R-DATA-ENG-2"])
    owner_id: OptionalId = Field(default=None, description="Employee id of the recruiter or "
                                 "hiring manager who owns it.", examples=["E00007"])
    mentor_id: OptionalId = Field(default=None, description="Employee id of the mentor "
                                  "(mentorships).", examples=[""])
    skill_uris: SkillUris = Field(default=(), description="ESCO skill URIs the poster named, "
                                  "separated by spaces (may be empty).",
                                  examples=["http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d"])


class CourseRecord(Record):
    """The course catalog."""

    id: Id = Field(description="Course id, unique in the file.", examples=["C-SQL-101"])
    title: str = Field(min_length=1, description="Course title.", examples=["SQL basics"])
    description: str = Field(default="", description="Course description.",
                             examples=["Write queries that join and aggregate."])
    skill_uris: SkillUris = Field(default=(), description="ESCO skill URIs it teaches, "
                                  "separated by spaces.",
                                  examples=["http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d"])
    hours: int = Field(ge=0, description="Length in hours.", examples=[12])


class ReviewRecord(Record):
    """A performance review (JSON lines: review text is long)."""

    id: Id = Field(description="Review id, unique across the four evidence files.",
                   examples=["REV-0001"])
    employee_id: Id = Field(description="Who was reviewed (employees.csv).",
                            examples=["E00042"])
    reviewed_on: date = Field(description="Date of the review.", examples=["2025-12-01"])
    text: str = Field(description="The review text.",
                      examples=["Ada writes clean Python; she should share updates sooner."])
    rating: Rating = Field(default=None, description="Overall rating, 1 to 5.", examples=[4])
    reviewer_id: OptionalId = Field(default=None, description="The reviewer's employee id.",
                                    examples=["E00007"])


class CourseCompletionRecord(Record):
    """A course someone completed."""

    id: Id = Field(description="Completion id, unique across the four evidence files.",
                   examples=["CC-0001"])
    employee_id: Id = Field(description="Who completed it (employees.csv).",
                            examples=["E00042"])
    course_id: Id = Field(description="Course id (courses.csv).", examples=["C-SQL-101"])
    completed_on: date = Field(description="Completion date.", examples=["2026-02-01"])
    text: str = Field(default="", description="Free text (certificate, notes).",
                      examples=["Completed the course 'SQL basics' (12 hours)."])


class EndorsementRecord(Record):
    """A colleague or manager endorsing someone for one skill."""

    id: Id = Field(description="Endorsement id, unique across the four evidence files.",
                   examples=["EN-0001"])
    employee_id: Id = Field(description="Who was endorsed (employees.csv).",
                            examples=["E00042"])
    skill_uri: str = Field(min_length=1, description="The ESCO skill URI endorsed.",
                           examples=["http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d"])
    endorsed_on: date = Field(description="Date.", examples=["2026-03-10"])
    endorser_id: OptionalId = Field(default=None, description="Who endorsed (employee id).",
                                    examples=["E00007"])
    text: str = Field(default="", description="Free text.", examples=["Great at SQL."])


class SelfDeclaredSkillRecord(Record):
    """A skill someone added to their own profile."""

    id: Id = Field(description="Declaration id, unique across the four evidence files.",
                   examples=["SD-0001"])
    employee_id: Id = Field(description="Who declared it (employees.csv).",
                            examples=["E00042"])
    skill_uri: str = Field(min_length=1, description="The ESCO skill URI.",
                           examples=["http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d"])
    declared_on: date = Field(description="Date.", examples=["2024-05-02"])
    text: str = Field(default="", description="Free text.", examples=["Added 'SQL'."])


class MoveRecord(Record):
    """A historical internal move (a new role), with its outcome a year later when known."""

    id: Id = Field(description="Move id, unique in the file.", examples=["M-0001"])
    employee_id: Id = Field(description="Who moved (employees.csv).", examples=["E00042"])
    from_role_id: Id = Field(description="Role before (roles.csv).", examples=["R-DATA-ENG-1"])
    to_role_id: Id = Field(description="Role after (roles.csv).", examples=["R-DATA-ENG-2"])
    opportunity_id: OptionalId = Field(default=None, description="The opportunity they moved "
                                       "through, if any (opportunities.csv).",
                                       examples=["O-2023-0101"])
    moved_on: date = Field(description="Date of the move.", examples=["2023-07-01"])
    promotion: bool = Field(description="Whether the move was a promotion.", examples=[True])
    outcome_rating: Rating = Field(default=None, description="Performance rating a year after "
                                   "the move, 1 to 5.", examples=[4])
    retained_one_year: OptionalBool = Field(default=None, description="Still in the role (or "
                                            "the company) a year later.", examples=[True])


class EventRecord(Record):
    """Applications and other interactions with opportunities (an HRIS or ATS gives
    ``application`` and ``accepted_move`` rows; the marketplace adds its own)."""

    id: Id = Field(description="Event id, unique in the file.", examples=["EV-0001"])
    kind: EventKind = Field(description="What happened.", examples=["application"])
    employee_id: Id = Field(description="Who (employees.csv).", examples=["E00042"])
    occurred_at: datetime = Field(description="When (ISO 8601 with offset).",
                                  examples=["2026-10-03T09:30:00+00:00"])
    opportunity_id: OptionalId = Field(default=None, description="The opportunity "
                                       "(opportunities.csv).", examples=["O-2026-0012"])
    skill_uri: OptionalText = Field(default=None, description="The skill, for skill feedback.",
                                    examples=[""])
    detail: str = Field(default="", description="Free text.", examples=[""])
    idempotency_key: OptionalText = Field(default=None, description="Client key that made the "
                                          "event unique, if any.", examples=[""])


class OccupationOverrideRecord(Record):
    """An HR admin's decision on a role's occupation; it wins over any code in roles.csv and
    over the title normalizer's link, on this import and every later one."""

    role_id: Id = Field(description="Role id (roles.csv), at most one row each.",
                        examples=["R-DATA-ENG-2"])
    occupation_uri: str = Field(min_length=1, description="ESCO occupation URI the role is.",
                                examples=["http://data.europa.eu/esco/occupation/f2b15a0e-e65a-438a-affb-29b9d50b77d1"])
    onet_code: OnetCode = Field(default=None, description="O*NET-SOC code, when known.",
                                examples=["15-1252.00"])
