"""Skill profiles as pure functions of evidence and an as-of date (no model needed).

An **employee profile** aggregates observations of skills: skills inferred from review text
(with polarity and the review's rating), courses completed, manager endorsements, self-declared
skills, and the requirements of the roles the person held. Each observation carries a level
signal in [0, 1] and a weight

    weight = reliability[source] * score * 0.5 ** (age_days / half_life_days)

Proficiency is the weighted mean level; confidence is ``1 - exp(-sum(weight) / saturation)``.
Observations dated after ``as_of`` are ignored, so profiles can be rebuilt as of any past date.

Role requirements are weak evidence: holding a role is an observation only of the role's
*essential* skills, dated from the day the person took the role (so it decays like any other);
a skill seen only through the sources listed in ``profiles.needs_corroboration`` (none are
shipped: params.yaml says why) stays out of the profile until some other
evidence (a review, course, endorsement, self-declaration, the current role) names it. A skill
seen only as a development need stays out too: a need says what to build up, not what is held;
so does one seen only through course observations scoring below
``profiles.corroborating_score`` (a completion of a course on k >= 2 skills scores 1/k: it is a
share of one piece of evidence), and one read from reviews only with engine scores below
``profiles.asserted_engine_score`` (the engine's display threshold is generous).

A **requirement profile** (role or opportunity) reconciles up to three sources per skill:
skills inferred from its description (score), ESCO essential/optional relations of the ESCO
occupation matched to it, and O*NET importance (1-5) and level (0-7) ratings mapped to ESCO;
essential first and capped (``build_requirements``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from features.domain import (
    Employee,
    EmployeeProfile,
    Evidence,
    EvidenceKind,
    Move,
    ProfileEntry,
    RelationType,
    Requirement,
    RequirementProfile,
)
from features.inferred_skills import InferredSkill, Polarity, TextSpan
from features.params import ProfileParams, load_params


class ObservationSource(StrEnum):
    REVIEW = "review"
    COURSE = "course"
    ENDORSEMENT = "endorsement"
    SELF_DECLARED = "self_declared"
    CURRENT_ROLE = "current_role"
    PAST_ROLE = "past_role"


class Observation(BaseModel):
    """One piece of evidence about one skill of one person."""

    model_config = ConfigDict(frozen=True)

    evidence_id: str
    skill_uri: str
    occurred_on: date
    source: ObservationSource
    level: float = Field(ge=0.0, le=1.0)
    """What this observation says about proficiency."""
    score: float = Field(default=1.0, ge=0.0, le=1.0)
    """How sure we are the skill is meant at all (the engine's score; 1 for explicit skills;
    ``1 / k`` for each of the k skills a completed course covers)."""
    need: bool = False
    """A development need ("should build up X"): evidence of a low level that pulls the
    proficiency down, never on its own evidence that the person holds the skill."""


# ------------------------------------------------------------------ observations


def review_level(polarity: Polarity | None, rating: int | None, params: ProfileParams) -> float:
    """A strength reads as 0.5..0.9 by rating (3 when unknown); a development need as low."""
    if polarity is Polarity.DEVELOPMENT_NEED:
        return params.development_need_level
    r = 3 if rating is None else rating
    return min(1.0, max(0.0, 0.5 + 0.1 * (r - 3) + 0.1))


def role_level(level: int) -> float:
    """Org level 1..5 -> a proficiency signal 0.3..0.8 for the skills a role requires."""
    return 0.3 + 0.125 * (min(5, max(1, level)) - 1)


def named_skills(evidence: Evidence, course_skills: Mapping[str, Sequence[str]]
                 ) -> tuple[str, ...]:
    """The skills a record names itself: a completed catalog course's linked skills, the one
    skill of an endorsement or self-declaration; () for a review or a record naming none.

    A record that names its skills is evidence of those only (`evidence_observations`), so the
    engine need not read its text at all."""
    if evidence.kind is EvidenceKind.COURSE_COMPLETION:
        return tuple(course_skills.get(evidence.course_id or "", ()))
    if evidence.kind in (EvidenceKind.MANAGER_ENDORSEMENT, EvidenceKind.SELF_DECLARED):
        return (evidence.skill_uri,) if evidence.skill_uri else ()
    return ()


def held_titles(employees: Iterable[Employee], moves: Mapping[str, Sequence[Move]],
                role_titles: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    """Employee id -> the titles of the roles they hold or held (moves in and out): what a
    review calls them, not a skill (`features.profiles.outside_titles`)."""
    out: dict[str, tuple[str, ...]] = {}
    for emp in employees:
        ids = {emp.role_id, *(m.from_role_id for m in moves.get(emp.id, ())),
               *(m.to_role_id for m in moves.get(emp.id, ()))}
        out[emp.id] = tuple(sorted(role_titles[i] for i in ids if i in role_titles))
    return out


def outside_titles(inferred: Sequence[InferredSkill], text: str,
                   titles: Iterable[str]) -> list[InferredSkill]:
    """The readings of ``text`` that are not only the person's own job title: a skill whose
    every evidence span lies inside an occurrence of one of ``titles`` (the roles they hold or
    held) is dropped. "Chiara had a strong year as Environmental Engineering Technologist"
    names a job, not *environmental engineering* shown (on the demo's tune half such readings
    were truly held 32% of the time, others 83%). Case-insensitive. A reading is kept when it
    has no spans or when a span's offsets do not point at its own text in ``text`` (read from
    another text, such as a course's description for a bare completion)."""
    lowered = text.lower()
    places: list[tuple[int, int]] = []
    for title in {t.strip().lower() for t in titles if t and t.strip()}:
        start = lowered.find(title)
        while start >= 0:
            places.append((start, start + len(title)))
            start = lowered.find(title, start + 1)
    if not places:
        return list(inferred)

    def in_a_title(span: TextSpan) -> bool:
        return (lowered[span.start:span.end] == span.text.lower()
                and any(lo <= span.start and span.end <= hi for lo, hi in places))

    return [skill for skill in inferred
            if not skill.spans or not all(in_a_title(span) for span in skill.spans)]


def evidence_observations(evidence: Evidence, inferred: Sequence[InferredSkill],
                          course_skills: Mapping[str, Sequence[str]],
                          params: ProfileParams, titles: Iterable[str] = ()
                          ) -> list[Observation]:
    """Observations from one evidence record; ``inferred`` = the engine's skills for its text.

    A record that names its skills (a course of the catalog with its linked skills, an
    endorsement or self-declaration of one skill) is evidence of those; its text (the course
    title, a comment) only describes them, so its inferred skills are not observed too. A
    completion is one piece of evidence spread over the course's k skills (score ``1 / k``
    each): finishing a course on three skills does not show all three are held. A reading that
    is only the person's own job title (``titles``: `outside_titles`) is not observed."""
    inferred = outside_titles(inferred, evidence.text, titles)
    out: list[Observation] = []
    seen: set[str] = set()

    def add(uri: str, source: ObservationSource, level: float, score: float = 1.0,
            need: bool = False) -> None:
        if uri not in seen:
            seen.add(uri)
            out.append(Observation(evidence_id=evidence.id, skill_uri=uri,
                                   occurred_on=evidence.occurred_on, source=source,
                                   level=level, score=score, need=need))

    def add_inferred(source: ObservationSource, level: float) -> None:
        for skill in inferred:
            need = skill.polarity is Polarity.DEVELOPMENT_NEED
            add(skill.uri, source, params.development_need_level if need else level,
                skill.score, need)

    if evidence.kind is EvidenceKind.PERFORMANCE_REVIEW:  # a strength's level by the rating
        add_inferred(ObservationSource.REVIEW, review_level(None, evidence.rating, params))
        return out
    named = named_skills(evidence, course_skills)
    if evidence.kind is EvidenceKind.COURSE_COMPLETION:
        source, level = ObservationSource.COURSE, params.course_level
    elif evidence.kind is EvidenceKind.MANAGER_ENDORSEMENT:
        source, level = ObservationSource.ENDORSEMENT, params.endorsement_level
    else:
        source, level = ObservationSource.SELF_DECLARED, params.self_declared_level
    for uri in named:
        add(uri, source, level, 1.0 / len(named))
    if not named:
        add_inferred(source, level)
    return out


def role_observations(role_id: str, since: date, requirements: RequirementProfile | None,
                      role_level_value: int, current: bool) -> list[Observation]:
    """Holding a role is weak evidence of its essential skills (and of nothing else)."""
    if requirements is None:
        return []
    source = ObservationSource.CURRENT_ROLE if current else ObservationSource.PAST_ROLE
    return [Observation(evidence_id=f"role:{role_id}", skill_uri=req.skill_uri,
                        occurred_on=since, source=source,
                        level=min(req.level, role_level(role_level_value)),
                        score=req.importance)
            for req in requirements.requirements if req.essential]


def held_role_observations(employee: Employee, moves: Iterable[Move],
                           requirements: Mapping[str, RequirementProfile],
                           role_levels: Mapping[str, int],
                           records_since: date | None = None) -> list[Observation]:
    """The roles ``employee`` held, as `role_observations`: each role a recorded move left
    (``current=False``, dated from the move into it, the first one from the hire date), then
    the role they hold (dated ``employee.role_since``).

    A start before ``records_since`` (where the store's records of moves and openings begin:
    `features.ranking_history.records_begin`) is counted from it, as
    `features.ranking_history.employee_as_of` counts time in role: the same rule for a
    profile built today and one rebuilt as of a past decision, so that neither says who went
    on to move. Pass the employee as they were on the profile's date and the moves before it.
    """
    def floor(day: date) -> date:
        return records_since if records_since is not None and day < records_since else day

    out: list[Observation] = []
    since = floor(employee.hired_on)
    for move in sorted(moves, key=lambda m: (m.moved_on, m.id)):
        out.extend(role_observations(move.from_role_id, since,
                                     requirements.get(move.from_role_id),
                                     role_levels.get(move.from_role_id, 1), current=False))
        since = move.moved_on
    out.extend(role_observations(employee.role_id, floor(employee.role_since),
                                 requirements.get(employee.role_id), employee.level,
                                 current=True))
    return out


def is_role_observation(observation: Observation) -> bool:
    return observation.source in (ObservationSource.CURRENT_ROLE, ObservationSource.PAST_ROLE)


# ------------------------------------------------------------------ aggregation


def decay(age_days: int, half_life_days: float) -> float:
    return 0.5 ** (max(0, age_days) / half_life_days)


def _alone_enough(obs: Observation, params: ProfileParams) -> bool:
    """Whether this observation alone may put its skill in a profile (by its score)."""
    if obs.source is ObservationSource.COURSE:
        return obs.score >= params.corroborating_score
    if obs.source is ObservationSource.REVIEW:
        return obs.score >= params.asserted_engine_score
    return True


def build_employee_profile(employee_id: str, as_of: date, observations: Iterable[Observation],
                           params: ProfileParams | None = None) -> EmployeeProfile:
    """Aggregate observations dated on or before ``as_of`` into one entry per skill."""
    params = params or load_params().profiles
    reliabilities = {source: params.reliability.get(source.value, 0.5)
                     for source in ObservationSource}
    weight_sum: dict[str, float] = defaultdict(float)
    level_sum: dict[str, float] = defaultdict(float)
    evidence_ids: dict[str, set[str]] = defaultdict(set)
    corroborated: set[str] = set()
    weak = frozenset(params.needs_corroboration)
    for obs in observations:
        if obs.occurred_on > as_of:
            continue
        weight = reliabilities[obs.source] * obs.score * decay((as_of - obs.occurred_on).days,
                                                               params.half_life_days)
        if weight <= 0:
            continue
        weight_sum[obs.skill_uri] += weight
        level_sum[obs.skill_uri] += weight * obs.level
        evidence_ids[obs.skill_uri].add(obs.evidence_id)
        if obs.source.value not in weak and not obs.need and _alone_enough(obs, params):
            corroborated.add(obs.skill_uri)
    entries = []
    for uri, total in weight_sum.items():
        if uri not in corroborated:
            continue
        confidence = 1.0 - math.exp(-total / params.saturation)
        if confidence < params.min_confidence:
            continue
        entries.append(ProfileEntry(
            skill_uri=uri, proficiency=round(min(1.0, level_sum[uri] / total), 4),
            confidence=round(confidence, 4), evidence_ids=tuple(sorted(evidence_ids[uri]))))
    entries.sort(key=lambda e: (-e.proficiency * e.confidence, e.skill_uri))
    return EmployeeProfile(employee_id=employee_id, as_of=as_of, entries=tuple(entries))


# ------------------------------------------------------------------ requirements


class OnetSkillRating(BaseModel):
    """An O*NET rating already mapped to an ESCO skill."""

    model_config = ConfigDict(frozen=True)

    skill_uri: str
    importance: float = Field(ge=1.0, le=5.0)
    level: float = Field(ge=0.0, le=7.0)


def build_requirements(subject_id: str, inferred: Sequence[InferredSkill],
                       esco_relations: Mapping[str, RelationType],
                       onet: Sequence[OnetSkillRating], org_level: int,
                       explicit: Sequence[str] = (), max_requirements: int = 20,
                       min_inferred_score: float = 0.0) -> RequirementProfile:
    """Few, meaningful requirements from description skills, ESCO relations and O*NET ratings.

    - **Which skills.** Skills the poster named explicitly, the ESCO *essential* skills of the
      linked occupation, skills inferred from the description, and ESCO *optional* skills only
      when the description also names them. O*NET ratings never add a skill: they rate the
      skills already there.
    - **Importance** = max of: 1.0 named explicitly; 0.8 essential / 0.4 optional (ESCO); the
      inferred score; (IM - 1) / 4 where O*NET rates the skill; +0.1 when two sources name it.
    - **Level** = LV / 7 where O*NET rates the skill, else the org level's typical proficiency.
    - **Cap.** Essential first, then by importance; at most ``max_requirements``
      (params.yaml ``profiles.max_requirements``).
    - An inferred skill scoring below ``min_inferred_score`` (params.yaml
      ``profiles.asserted_engine_score``) is not a requirement.
    """
    importance: dict[str, list[float]] = defaultdict(list)
    essential: set[str] = set(explicit)
    for uri in explicit:
        importance[uri].append(1.0)
    for skill in inferred:
        if skill.score >= min_inferred_score:
            importance[skill.uri].append(skill.score)
    for uri, relation in sorted(esco_relations.items()):
        if relation is RelationType.ESSENTIAL:
            essential.add(uri)
            importance[uri].append(0.8)
        elif uri in importance:
            importance[uri].append(0.4)
    levels: dict[str, float] = {}
    for rating in onet:
        if rating.skill_uri in importance:
            importance[rating.skill_uri].append((rating.importance - 1.0) / 4.0)
            levels[rating.skill_uri] = max(levels.get(rating.skill_uri, 0.0), rating.level / 7.0)
    default_level = role_level(org_level)
    requirements = []
    for uri, values in importance.items():
        value = min(1.0, max(values) + (0.1 if len(values) > 1 else 0.0))
        requirements.append(Requirement(
            skill_uri=uri, importance=round(value, 4),
            level=round(levels.get(uri, default_level), 4), essential=uri in essential))
    requirements.sort(key=lambda r: (not r.essential, -r.importance, r.skill_uri))
    return RequirementProfile(subject_id=subject_id,
                              requirements=tuple(requirements[:max_requirements]))
