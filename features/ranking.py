"""Ranking features: pure functions shared unchanged by training and serving.

``FEATURE_NAMES`` is the one ordered list of features; it is saved with the model and a model
refuses rows built under a different list. A row is computed from an ``EmployeeContext`` (the
employee as of a date: profile, history before that date, vector) and one target (a role or an
opportunity with its requirement profile). Protected attributes are never inputs: nothing here
accepts ``ProtectedAttributes`` and no feature is derived from sex, race, age or a proxy
the simulator biases on (part-time status).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

import numpy as np

from features.domain import (
    Course,
    Employee,
    EmployeeProfile,
    EvidenceKind,
    Opportunity,
    OpportunityKind,
    RequirementProfile,
    Role,
)
from features.ranking_history import EmployeeHistory

KIND_FEATURES = tuple(f"kind_{k.value}" for k in OpportunityKind)
_KIND_ONE_HOT = {k: tuple(float(k is j) for j in OpportunityKind) for k in OpportunityKind}

FEATURE_NAMES: tuple[str, ...] = (
    "embedding_cosine",
    "skill_coverage",
    "skill_gap",
    "essential_coverage",
    "missing_essentials",
    "required_confidence",
    "level_delta",
    "level_distance",
    "job_family_distance",
    "same_department",
    "same_location",
    "years_in_company",
    "years_in_role",
    "prior_moves",
    "days_since_relevant_learning",
    "relevant_learning_365d",
    "days_since_relevant_evidence",
    "endorsements_on_required",
    "aspiration_match",
    "career_changer_adjacency",
    *KIND_FEATURES,
)
"""The feature list, defined once. Order matters: it is the column order of every row."""

NO_EVENT_DAYS = 3650.0
"""Days-since features use this when nothing relevant ever happened (ten years)."""

_TOKEN = re.compile(r"[a-z][a-z0-9+#]{2,}")
_STOP = frozenset((
    "the", "and", "for", "with", "into", "from", "that", "this", "want", "would", "like",
    "grow", "growing", "become", "more", "work", "working", "role", "roles", "team", "teams",
    "lead", "leading", "career", "next", "move", "year", "years", "level", "about", "wants",
    "also", "our", "their", "them", "they", "who", "what", "where", "when", "which", "have",
    "has",
))
_ASPIRATION_STOP = frozenset((
    "enjoy", "enjoying", "towards", "toward", "especially", "particularly", "interested",
    "interest", "someday", "eventually", "hope", "hoping", "love", "passionate", "step", "day",
    "get", "make", "take", "into", "area", "field", "current", "currently", "now", "job",
    "using", "use", "skills", "skill",
))
"""Words of how people phrase an aspiration ("I enjoy my work as ... and want to grow towards
..., especially ..."): they say nothing about where the person wants to go."""


@lru_cache(maxsize=65536)
def tokens(text: str) -> frozenset[str]:
    """Lower-case content words of at least three characters."""
    return frozenset(t for t in _TOKEN.findall(text.lower()) if t not in _STOP)


ASPIRATION_RELEVANT = 0.5
"""An item with no skill in common is shown for an aspiration only when its match
(`aspiration_share`) reaches this: half the aspiration's words name it, and half of its
distinctive ones (one shared word such as "assistant" is not a wish); the same bar makes "it is
what you said you want to grow towards" a true reason."""

GENERIC_TITLE_WORDS = frozenset((
    "first", "line", "supervisor", "manager", "worker", "specialist", "technician",
    "technologist", "operator", "assistant", "officer", "teacher", "postsecondary", "except",
    "other", "helper", "tender", "setter", "clerk", "aide", "attendant", "associate", "senior",
    "junior", "chief", "head", "director", "lead", "general", "all", "including", "rotation",
    "month", "project", "gig", "mentorship",
))
"""Words many job titles share (in `aspiration_word` form): "First-Line Supervisor of
Correctional Officers" and "First-Line Supervisor of Passenger Attendants" share three of five
words and say nothing alike. A wish is matched on its distinctive words too."""


def aspiration_word(word: str) -> str:
    """One form for singular and plural ("officers" -> "officer"; "business" stays)."""
    if len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def aspiration_words(target: Target) -> frozenset[str]:
    """The words an aspiration is matched against: the item's title and job family, what a
    person names when they say where they want to go. Not its description: a long posting
    mentions "service", "software" and "automotive" in passing, and an explosives worker's
    opening then "matched" a wish to become an automotive service attendant."""
    text = f"{target.title} {target.job_family or ''}"
    return frozenset(aspiration_word(t) for t in tokens(text))


def aspiration_tokens(aspirations: str, current_title: str | None) -> frozenset[str]:
    """Content words of where a person wants to go: their aspiration text less the phrasing
    words and less the title of the job they hold now where the text names it ("I enjoy my
    work as a Correctional Officer and Jailer": stating one's current job is not a wish), so
    ``aspiration_match`` measures the wish, not the template. Only the phrase goes, not its
    words wherever they appear: "... towards First-Line Supervisor of Correctional Officers"
    keeps "correctional", the one word that says which supervisor."""
    text = aspirations
    if current_title and current_title.strip():
        text = re.sub(re.escape(current_title.strip()), " ", text, flags=re.IGNORECASE)
    return frozenset(aspiration_word(t) for t in tokens(text) if t not in _ASPIRATION_STOP)


def aspiration_share(wanted: frozenset[str], words: frozenset[str]) -> float:
    """How far ``words`` (an item's `aspiration_words`) name the wish ``wanted``: the share of
    its words they contain, or, where the wish has distinctive words (not
    `GENERIC_TITLE_WORDS`), the lower of that and the share of those; 0 for no wish."""
    if not wanted:
        return 0.0
    share = len(wanted & words) / len(wanted)
    distinctive = wanted - GENERIC_TITLE_WORDS
    if distinctive:
        share = min(share, len(distinctive & words) / len(distinctive))
    return share


@dataclass(frozen=True)
class Target:
    """What a candidate could move to: a role or an opportunity, reduced to what features read."""

    id: str
    title: str
    description: str
    level: int
    kind: OpportunityKind
    department_id: str
    location: str | None = None
    role_id: str | None = None
    job_family: str | None = None
    onet_code: str | None = None


def target_from_role(role: Role, location: str | None = None) -> Target:
    return Target(id=role.id, title=role.title, description=role.description, level=role.level,
                  kind=OpportunityKind.OPEN_ROLE, department_id=role.department_id,
                  location=location, role_id=role.id, job_family=role.job_family,
                  onet_code=role.onet_code)


def target_from_opportunity(opportunity: Opportunity,
                            roles: Mapping[str, Role] | None = None) -> Target:
    role = (roles or {}).get(opportunity.role_id or "")
    return Target(id=opportunity.id, title=opportunity.title,
                  description=opportunity.description, level=opportunity.level,
                  kind=opportunity.kind, department_id=opportunity.department_id,
                  location=opportunity.location, role_id=opportunity.role_id,
                  job_family=role.job_family if role else None,
                  onet_code=role.onet_code if role else None)


@dataclass(frozen=True)
class EmployeeContext:
    """Everything about one employee the features read, as of one date (computed once)."""

    employee: Employee
    as_of: date
    current_role: Role | None
    skills: Mapping[str, tuple[float, float]]
    """skill uri -> (proficiency, confidence)."""
    last_learning: Mapping[str, date]
    learning_dates: Mapping[str, tuple[date, ...]]
    last_evidence: Mapping[str, date]
    endorsements: Mapping[str, int]
    aspiration_tokens: frozenset[str]
    prior_moves: int
    vector: np.ndarray | None = field(default=None, compare=False)
    skill_history: Mapping[str, SkillHistory] = field(init=False, compare=False, repr=False)
    """skill uri -> what the four history maps above say of it, for the skills they mention
    (`skill_history_of`, derived here): one lookup per requirement in `feature_row`, not five."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "skill_history", skill_history_of(
            self.as_of, self.last_learning, self.learning_dates, self.last_evidence,
            self.endorsements))


SkillHistory = tuple[int, date | None, int, date | None]
"""(endorsements capped at 3, last learning date, learning events in the year before ``as_of``,
last evidence date) of one skill."""


def skill_history_of(as_of: date, last_learning: Mapping[str, date],
                     learning_dates: Mapping[str, tuple[date, ...]],
                     last_evidence: Mapping[str, date],
                     endorsements: Mapping[str, int]) -> dict[str, SkillHistory]:
    """`SkillHistory` of every skill any of the maps mentions."""
    uris = {*last_learning, *learning_dates, *last_evidence, *endorsements}
    return {uri: (min(3, endorsements.get(uri, 0)), last_learning.get(uri),
                  sum(1 for x in learning_dates.get(uri, ()) if (as_of - x).days <= 365),
                  last_evidence.get(uri))
            for uri in uris}


def employee_context(employee: Employee, profile: EmployeeProfile, history: EmployeeHistory,
                     as_of: date, *, current_role: Role | None = None,
                     courses: Mapping[str, Course] | None = None,
                     vector: np.ndarray | None = None) -> EmployeeContext:
    """Prepare one employee for scoring many targets as of ``as_of``.

    Raises ValueError when the profile or the history is dated after ``as_of`` (a leak).
    Evidence and moves dated on or after ``as_of`` are ignored even if the caller passes them.
    """
    if profile.as_of > as_of or history.as_of > as_of:
        raise ValueError(f"profile/history as of {profile.as_of}/{history.as_of} is after "
                         f"the feature date {as_of}")
    courses = courses or {}
    last_learning: dict[str, date] = {}
    learning: dict[str, list[date]] = {}
    last_evidence: dict[str, date] = {}
    endorsements: dict[str, int] = {}
    for ev in history.evidence:
        if ev.occurred_on >= as_of:
            continue
        uris: tuple[str, ...] = (ev.skill_uri,) if ev.skill_uri else ()
        if ev.kind is EvidenceKind.COURSE_COMPLETION:
            if ev.course_id is not None and ev.course_id in courses:
                uris = (*uris, *courses[ev.course_id].skill_uris)
            for uri in uris:
                learning.setdefault(uri, []).append(ev.occurred_on)
                last_learning[uri] = max(last_learning.get(uri, ev.occurred_on), ev.occurred_on)
        if ev.kind is EvidenceKind.MANAGER_ENDORSEMENT and ev.skill_uri:
            endorsements[ev.skill_uri] = endorsements.get(ev.skill_uri, 0) + 1
        for uri in uris:
            last_evidence[uri] = max(last_evidence.get(uri, ev.occurred_on), ev.occurred_on)
    return EmployeeContext(
        employee=employee, as_of=as_of, current_role=current_role,
        skills={e.skill_uri: (e.proficiency, e.confidence) for e in profile.entries},
        last_learning=last_learning,
        learning_dates={k: tuple(v) for k, v in learning.items()},
        last_evidence=last_evidence, endorsements=endorsements,
        aspiration_tokens=aspiration_tokens(
            employee.aspirations, current_role.title if current_role else None),
        prior_moves=sum(1 for m in history.moves if m.moved_on < as_of),
        vector=vector,
    )


def cosine(a: np.ndarray | None, b: np.ndarray | None) -> float:
    if a is None or b is None:
        return math.nan
    na, nb = math.sqrt(float(np.dot(a, a))), math.sqrt(float(np.dot(b, b)))
    if na == 0.0 or nb == 0.0:
        return 0.0
    return float(np.dot(a, b)) / (na * nb)


def job_family_distance(ctx: EmployeeContext, target: Target) -> float:
    """0 same family, 0.5 same O*NET major group (first two SOC digits), 1 otherwise."""
    role = ctx.current_role
    if role is None:
        return 1.0
    if target.job_family is not None and target.job_family == role.job_family:
        return 0.0
    if role.onet_code and target.onet_code and role.onet_code[:2] == target.onet_code[:2]:
        return 0.5
    return 1.0


def _years(start: date, end: date) -> float:
    return max(0.0, (end - start).days / 365.25)


def feature_row(ctx: EmployeeContext, target: Target, requirements: RequirementProfile,
                target_vector: np.ndarray | None = None,
                adjacency: Mapping[tuple[str, str], int] | None = None) -> np.ndarray:
    """One row of ``FEATURE_NAMES`` for (employee as of ``ctx.as_of``, target)."""
    emp = ctx.employee
    total_imp = 0.0
    covered = gap = conf = 0.0
    n_matched = 0
    ess_total = ess_cov = 0.0
    missing_ess = 0
    endorse = 0.0
    last_learn: date | None = None
    last_ev: date | None = None
    learn_recent = 0
    skill_of = ctx.skills.get
    history_of = ctx.skill_history.get
    for req in requirements.requirements:
        imp, level = req.importance, req.level
        total_imp += imp
        hit = skill_of(req.skill_uri)
        if hit is None:  # the common case: a skill the employee does not show
            gap += imp * level
            if req.essential:
                ess_total += 1.0
                missing_ess += 1
        else:
            prof, c = hit
            ratio = prof / (level if level > 0.05 else 0.05)
            if ratio > 1.0:
                ratio = 1.0
            covered += imp * ratio
            if level > prof:
                gap += imp * (level - prof)
            if prof > 0.0:
                conf += c
                n_matched += 1
            if req.essential:
                ess_total += 1.0
                ess_cov += ratio
                missing_ess += prof == 0.0
        past = history_of(req.skill_uri)
        if past is not None:
            endorsed, d, recent, d_ev = past
            endorse += imp * endorsed / 3.0
            if d is not None and (last_learn is None or d > last_learn):
                last_learn = d
            learn_recent += recent
            if d_ev is not None and (last_ev is None or d_ev > last_ev):
                last_ev = d_ev
    denom = total_imp if total_imp > 0 else 1.0
    level_delta = float(target.level - emp.level)
    asp = aspiration_share(ctx.aspiration_tokens, aspiration_words(target))
    adj = 0.0
    role = ctx.current_role
    if adjacency and role is not None and role.onet_code and target.onet_code:
        rank = adjacency.get((role.onet_code, target.onet_code))
        if rank is not None:
            adj = max(0.05, 1.0 - (rank - 1) / 10.0)
    row = [
        cosine(ctx.vector, target_vector),
        covered / denom if total_imp > 0 else 0.0,
        gap / denom if total_imp > 0 else 0.0,
        ess_cov / ess_total if ess_total else 1.0,
        float(missing_ess),
        conf / n_matched if n_matched else 0.0,
        level_delta,
        abs(level_delta),
        job_family_distance(ctx, target),
        float(target.department_id == emp.department_id),
        float(target.location is None or target.location == emp.location),
        _years(emp.hired_on, ctx.as_of),
        _years(emp.role_since, ctx.as_of),
        float(ctx.prior_moves),
        float((ctx.as_of - last_learn).days) if last_learn else NO_EVENT_DAYS,
        float(learn_recent),
        float((ctx.as_of - last_ev).days) if last_ev else NO_EVENT_DAYS,
        endorse / denom if total_imp > 0 else 0.0,
        asp,
        adj,
        *_KIND_ONE_HOT[target.kind],
    ]
    return np.array(row, dtype=np.float64)


def feature_matrix(ctx: EmployeeContext,
                   targets: Sequence[tuple[Target, RequirementProfile]],
                   target_vectors: np.ndarray | None = None,
                   adjacency: Mapping[tuple[str, str], int] | None = None) -> np.ndarray:
    """Rows for many targets of one employee, shape (len(targets), len(FEATURE_NAMES))."""
    out = np.empty((len(targets), len(FEATURE_NAMES)), dtype=np.float64)
    for i, (target, reqs) in enumerate(targets):
        vec = None if target_vectors is None else target_vectors[i]
        out[i] = feature_row(ctx, target, reqs, vec, adjacency)
    return out


def compute_features(employee: Employee, profile: EmployeeProfile, history: EmployeeHistory,
                     target: Target, requirements: RequirementProfile, as_of: date, *,
                     current_role: Role | None = None,
                     courses: Mapping[str, Course] | None = None,
                     employee_vector: np.ndarray | None = None,
                     target_vector: np.ndarray | None = None,
                     adjacency: Mapping[tuple[str, str], int] | None = None) -> np.ndarray:
    """One feature row from scratch (the reference path; batch code uses the same parts)."""
    ctx = employee_context(employee, profile, history, as_of, current_role=current_role,
                           courses=courses, vector=employee_vector)
    return feature_row(ctx, target, requirements, target_vector, adjacency)


def check_feature_names(saved: Sequence[str]) -> None:
    """Raise when a model was trained under a different feature list than this code computes."""
    if tuple(saved) != FEATURE_NAMES:
        raise ValueError(f"model feature list {tuple(saved)} != code feature list {FEATURE_NAMES}")
