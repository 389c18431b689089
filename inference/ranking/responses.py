"""Typed results of the recommender, defined once and returned unchanged by the API.

No model here carries a protected attribute; candidate lists carry only the aggregate
`ListFairness` figures (tests/unit/test_response_schemas.py walks every response schema).
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict

from features.domain import OpportunityKind
from inference.fairness.serving import ListFairness


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class MatchedSkill(_Model):
    """A required skill the person shows at or above the required level."""

    uri: str
    label: str
    proficiency: float
    required_level: float
    importance: float
    essential: bool
    evidence_ids: list[str]
    """The evidence (reviews, courses, endorsements...) behind the proficiency."""


class MissingSkill(_Model):
    """A required skill the person lacks (current level 0) or shows below the required level."""

    uri: str
    label: str
    required_level: float
    current_level: float
    importance: float
    essential: bool


class CourseSuggestion(_Model):
    """A course that teaches some of the missing skills."""

    id: str
    title: str
    hours: int
    skill_uris: list[str]
    """The missing skills it covers."""


class Reason(_Model):
    """One feature that moved the score, in plain words (from LightGBM ``pred_contrib``)."""

    feature: str
    text: str
    contribution: float


class OpportunityItem(_Model):
    """What every view of a recommended opportunity shows (the API's employee view adds the
    reasons in words, ``api.recommendation_view``; the recommender's item adds its score)."""

    rank: int
    opportunity_id: str
    kind: OpportunityKind
    title: str
    level: int
    department_id: str
    location: str
    role_id: str | None
    matched_skills: list[MatchedSkill]
    missing_skills: list[MissingSkill]
    courses: list[CourseSuggestion]
    description: str = ""
    owner_id: str | None = None
    """The recruiter or hiring manager who owns it (an employee id)."""
    posted_on: date | None = None
    closes_on: date | None = None
    hours_per_week: float | None = None
    """The expected time commitment in hours a week (None: not stated)."""


class OpportunityRecommendation(OpportunityItem):
    score: float
    reasons: list[Reason]


class RecommendationList(_Model):
    employee_id: str
    model_version: str
    as_of: date
    kinds: list[OpportunityKind]
    items: list[OpportunityRecommendation]
    offset: int = 0
    """Served positions ``offset + 1`` onwards (paging)."""
    total: int = 0
    """How many items the whole served list holds (after dismissals and filters)."""
    served_list_id: str | None = None
    """The audit-log row of this list (``served_lists``)."""


class CandidateRecommendation(_Model):
    rank: int
    model_rank: int
    """Rank by model score alone, before fair re-ranking."""
    employee_id: str
    name: str
    role_id: str
    role_title: str | None
    level: int
    department_id: str
    location: str
    score: float
    matched_skills: list[MatchedSkill]
    missing_skills: list[MissingSkill]
    reasons: list[Reason]


class CandidateList(_Model):
    role_id: str | None
    """The role (None for an opening that names no role, e.g. a project)."""
    role_title: str
    opportunity_id: str | None = None
    """Set for an opening's list: its title, location, level, closing date and time commitment
    follow."""
    title: str | None = None
    location: str | None = None
    level: int | None = None
    closes_on: date | None = None
    hours_per_week: float | None = None
    model_version: str
    as_of: date
    items: list[CandidateRecommendation]
    fairness: ListFairness | None
    """Aggregate figures of this list (group shares vs the qualified pool, counts, impact
    ratios); never a person's attribute."""
    served_list_id: str | None = None


class ModelStatus(_Model):
    state: str
    """``ready``, ``loading`` or ``unavailable``."""
    model_name: str | None = None
    model_version: str | None = None
    created_at: datetime | None = None
    loaded_at: datetime | None = None
    feature_count: int | None = None
    data_versions: dict[str, str | None] = {}
    as_of: date | None = None
    last_error: str | None = None
