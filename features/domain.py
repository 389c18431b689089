"""The one typed domain model shared by training, inference and the API.

Skills are identified by their ESCO URI everywhere. Protected attributes live in their own model
(`ProtectedAttributes`) and their own table; nothing else carries them.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


# --------------------------------------------------------------------------- taxonomy


class SkillType(StrEnum):
    SKILL = "skill/competence"
    KNOWLEDGE = "knowledge"
    UNSPECIFIED = ""


class Skill(Frozen):
    """An ESCO skill or knowledge concept."""

    uri: str
    label: str
    alt_labels: tuple[str, ...] = ()
    hidden_labels: tuple[str, ...] = ()
    description: str = ""
    skill_type: SkillType = SkillType.SKILL
    reuse_level: str = ""


class RelationType(StrEnum):
    ESSENTIAL = "essential"
    OPTIONAL = "optional"


class EscoOccupation(Frozen):
    uri: str
    label: str
    isco_group: str
    code: str
    alt_labels: tuple[str, ...] = ()
    description: str = ""


class OccupationSkill(Frozen):
    occupation_uri: str
    skill_uri: str
    relation: RelationType


class SkillBroader(Frozen):
    """One edge of the ESCO skill hierarchy: ``uri`` is narrower than ``broader_uri``."""

    uri: str
    broader_uri: str


class SkillGroup(Frozen):
    uri: str
    label: str
    code: str = ""


class OnetOccupation(Frozen):
    code: str
    title: str
    description: str
    job_zone: int | None = None


class OnetTask(Frozen):
    code: str
    task_id: int
    task: str
    core: bool


class OnetTechnology(Frozen):
    code: str
    example: str
    commodity: str
    hot: bool
    in_demand: bool


class OnetRatingKind(StrEnum):
    SKILL = "skill"
    KNOWLEDGE = "knowledge"


class OnetRating(Frozen):
    """O*NET importance (1-5) and level (0-7) of one skill or knowledge element."""

    code: str
    kind: OnetRatingKind
    element_id: str
    element_name: str
    importance: float
    level: float


class OnetAltTitle(Frozen):
    code: str
    title: str


class CareerChange(Frozen):
    """O*NET Career Changers Matrix edge: people in ``source`` could move to ``target``."""

    source: str
    target: str
    rank: int


# --------------------------------------------------------------------------- organization


class OpportunityKind(StrEnum):
    OPEN_ROLE = "open_role"
    PROJECT = "project"
    GIG = "gig"
    ROTATION = "rotation"
    MENTORSHIP = "mentorship"


class OpportunityStatus(StrEnum):
    OPEN = "open"
    FILLED = "filled"
    CLOSED = "closed"


class Department(Frozen):
    id: str
    name: str


class Role(Frozen):
    """A role in the organization, built from an O*NET occupation."""

    id: str
    title: str
    onet_code: str | None
    level: int = Field(ge=1, le=5)
    job_family: str
    department_id: str
    description: str


MAX_HOURS_PER_WEEK = 60.0
"""The most an opportunity may ask for a week (`Opportunity.hours_per_week`)."""
FULL_TIME_HOURS = 35.0
"""From this many hours a week a commitment reads as full time."""


class Opportunity(Frozen):
    id: str
    kind: OpportunityKind
    title: str
    description: str
    department_id: str
    location: str
    level: int = Field(ge=1, le=5)
    status: OpportunityStatus
    posted_on: date
    closes_on: date | None = None
    hours_per_week: float | None = Field(default=None, gt=0, le=MAX_HOURS_PER_WEEK)
    """The expected time commitment in hours a week (None: not stated)."""
    role_id: str | None = None
    owner_id: str | None = None
    """The recruiter or hiring manager who owns it (an employee id)."""
    mentor_id: str | None = None
    skill_uris: tuple[str, ...] = ()
    """Skills the poster named explicitly (may be empty; inference fills the rest)."""


class Employee(Frozen):
    """An employee as every non-fairness component sees them: no protected attributes."""

    id: str
    name: str
    role_id: str
    level: int = Field(ge=1, le=5)
    hired_on: date
    role_since: date
    department_id: str
    location: str
    manager_id: str | None
    aspirations: str
    discoverable: bool
    part_time: bool = False
    is_recruiter: bool = False


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"
    UNKNOWN = "unknown"


class ProtectedAttributes(Frozen):
    """Stored in its own table; read only by the fairness code."""

    employee_id: str
    sex: Sex
    race_ethnicity: str
    age_band: str


class EvidenceKind(StrEnum):
    PERFORMANCE_REVIEW = "performance_review"
    COURSE_COMPLETION = "course_completion"
    MANAGER_ENDORSEMENT = "manager_endorsement"
    SELF_DECLARED = "self_declared"


class Evidence(Frozen):
    id: str
    employee_id: str
    kind: EvidenceKind
    occurred_on: date
    text: str = ""
    skill_uri: str | None = None
    """Set for endorsements and self-declared skills, which name one skill."""
    course_id: str | None = None
    rating: int | None = Field(default=None, ge=1, le=5)
    author_id: str | None = None


class Course(Frozen):
    id: str
    title: str
    description: str
    skill_uris: tuple[str, ...]
    hours: int


class Move(Frozen):
    """A historical internal move, with its outcome a year later."""

    id: str
    employee_id: str
    from_role_id: str
    to_role_id: str
    opportunity_id: str | None
    moved_on: date
    promotion: bool
    outcome_rating: int | None = Field(default=None, ge=1, le=5)
    retained_one_year: bool | None = None

    @property
    def thrived(self) -> bool:
        return bool(self.retained_one_year) and (self.outcome_rating or 0) >= 4


class EventKind(StrEnum):
    IMPRESSION = "impression"
    CLICK = "click"
    APPLICATION = "application"
    ACCEPTED_MOVE = "accepted_move"
    NOT_INTERESTED = "not_interested"
    SKILL_REJECTED = "skill_rejected"
    FEEDBACK = "feedback"
    SAVED = "saved"
    """The person kept an opportunity for later (not a label: no training set reads it)."""


class Event(Frozen):
    id: str
    kind: EventKind
    employee_id: str
    occurred_at: datetime
    opportunity_id: str | None = None
    skill_uri: str | None = None
    detail: str = ""
    idempotency_key: str | None = None


class Counts(Frozen):
    """What the store holds, as reported by ``GET /healthz``."""

    skills: int
    occupations: int
    onet_occupations: int
    employees: int
    roles: int
    opportunities: int
    moves: int
    evidence: int
    courses: int


class Organization(BaseModel):
    """Everything HR knows about one company: the unit the simulator writes and ingest replaces."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    departments: list[Department] = Field(default_factory=list)
    roles: list[Role] = Field(default_factory=list)
    employees: list[Employee] = Field(default_factory=list)
    protected_attributes: list[ProtectedAttributes] = Field(default_factory=list)
    opportunities: list[Opportunity] = Field(default_factory=list)
    courses: list[Course] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)
    moves: list[Move] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)


# --------------------------------------------------------------------------- skill profiles


class ProfileEntry(Frozen):
    """One skill of a person: proficiency and confidence in [0, 1], and the evidence behind it."""

    skill_uri: str
    proficiency: float = Field(ge=0.0, le=1.0)
    confidence: float = Field(ge=0.0, le=1.0)
    evidence_ids: tuple[str, ...] = ()


class EmployeeProfile(Frozen):
    employee_id: str
    as_of: date
    entries: tuple[ProfileEntry, ...] = ()


class Requirement(Frozen):
    """One skill a role or opportunity needs: importance and required level in [0, 1]."""

    skill_uri: str
    importance: float = Field(ge=0.0, le=1.0)
    level: float = Field(ge=0.0, le=1.0)
    essential: bool = False


class RequirementProfile(Frozen):
    """What a role (``subject_id`` = role id) or an opportunity needs."""

    subject_id: str
    requirements: tuple[Requirement, ...] = ()
