"""Response shapes of a career-path list: the API's ``GET /v1/roles/{id}/paths`` body and, one
per line, the output of ``waypoint paths`` (the same model dumped the same way)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class ObservedMoves(_Model):
    """The organization's own history of this move."""

    moves: int
    """People who moved from the source role to this one."""
    share: float
    """Their share of all moves out of the source role."""
    rated: int
    """Moves with a known one-year outcome."""
    thrived: int
    """Of those, moves rated 4+ and still in the role a year later."""


class SkillGap(_Model):
    skill: str
    """An O*NET skill or knowledge area the target needs at a higher level."""
    from_level: float
    to_level: float
    """O*NET levels (0-7) of the source and target occupations."""


class StepReasons(_Model):
    summary: str
    """One readable line: lateral / step up and why."""
    signals: list[str]
    """The reference signals that most raised this target."""
    shared_skills: list[str]
    gaps: list[SkillGap]
    job_zone_from: int | None
    job_zone_to: int | None
    relatedness: float
    """Occupation relatedness in [0, 1] (1.0 for the same occupation)."""


class CareerPathStep(_Model):
    role_id: str
    title: str
    onet_code: str | None
    level: int
    direction: str
    """``lateral`` (same level) or ``upward`` (a step up)."""
    score: float
    relatedness: float
    observed: ObservedMoves
    reasons: StepReasons


class CareerPathList(_Model):
    role_id: str
    role_title: str
    onet_code: str | None
    level: int
    model_version: str
    """The occupation graph's version (``career-changers`` when none is loaded)."""
    moves_out: int
    """Observed internal moves out of the role: the evidence behind ``evidence_weight``."""
    evidence_weight: float
    """Weight of the observed moves in the scores (0 until there are enough of them)."""
    items: list[CareerPathStep]
