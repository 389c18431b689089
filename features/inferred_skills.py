"""What the skills engine says about a text: ESCO skills with scores, evidence spans, polarity.

These types live in ``features`` because both the engine (``inference.skills``) produces them and
the profile builder (``features.profiles``) consumes them; the profile code needs no model.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class SourceKind(StrEnum):
    """Where a text comes from; decides polarity handling and source reliability."""

    JOB_DESCRIPTION = "job_description"
    COURSE_DESCRIPTION = "course_description"
    PERFORMANCE_REVIEW = "performance_review"
    SELF_DESCRIPTION = "self_description"


class Polarity(StrEnum):
    """For review-like text: is the skill praised or named as something to work on."""

    STRENGTH = "strength"
    DEVELOPMENT_NEED = "development_need"


class MatchKind(StrEnum):
    EXACT = "exact"
    """The preferred label appears verbatim (case-insensitive) in the text."""
    ALIAS = "alias"
    """An alternative or hidden label appears verbatim."""
    SEMANTIC = "semantic"
    """Found by embedding similarity only."""


class TextSpan(BaseModel):
    """Character offsets ``[start, end)`` into the input text, and the text they cover."""

    model_config = ConfigDict(frozen=True)

    start: int = Field(ge=0)
    end: int = Field(ge=0)
    text: str


class InferredSkill(BaseModel):
    """One ESCO skill found in a text."""

    model_config = ConfigDict(frozen=True)

    uri: str
    label: str
    score: float = Field(ge=0.0, le=1.0)
    """Calibrated: roughly the probability that a human annotator would tag this skill."""
    spans: tuple[TextSpan, ...] = ()
    polarity: Polarity | None = None
    """Set for performance reviews and self descriptions; ``None`` for other sources."""
    match: MatchKind = MatchKind.SEMANTIC


class SkillInference(BaseModel):
    """The engine's answer for one text: skills best first."""

    model_config = ConfigDict(frozen=True)

    source: SourceKind
    skills: tuple[InferredSkill, ...] = ()
