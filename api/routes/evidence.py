"""A person's skills and the evidence behind them, and new evidence that changes them at once.

- ``GET /v1/employees/{id}/skills`` (the employee, their managers, hr_admin): the served profile,
  each skill with proficiency, confidence and the evidence behind it, and the skills the person
  rejected.
- ``POST /v1/employees/{id}/evidence``: ``kind`` is ``course_completion`` (``course_id``),
  ``self_declared`` (``skill_uri``: "I have this skill") or ``self_description`` (``text``) by the
  employee; ``endorsement`` (``skill_uri``, optional ``text``) by their manager (direct or
  indirect); ``review`` (``text``, optional ``rating`` 1-5) by their manager or hr_admin. The text
  goes through the serving skills engine, the observations come from
  `features.profiles.evidence_observations` (the code training uses), and evidence, observations
  and a change row land in one transaction (`features.live_store.add_evidence`): the person's
  recommendations, explanations and development plans reflect it at once on this worker and
  within ``live_refresh_seconds`` on every other. The evidence is a normal ``evidence`` row, so
  the next ``waypoint skills profiles`` run builds on it. Idempotency keys as for events (header
  or body, scoped to the caller; a repeat 200, the same key for another body 409).

- ``GET`` / ``PUT /v1/employees/{id}/preferences``: aspirations (free text, the ranking's
  ``aspiration_match`` feature reads it) and preferred locations; the employee changes them (the
  managers and hr_admin may read them); every worker re-reads the person at its next check.

Rejecting a skill is ``POST /v1/events`` with ``skill_rejected``; opting in or out of candidate
search is ``PUT /v1/employees/{id}/discoverability``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from api.deps import StoreDep
from api.ratelimit import heavy_limited, rate_limited
from api.routes.events import KEY_PATTERN, _key
from api.routes.skills import get_engine
from api.security import (
    Principal,
    UserRole,
    authorize_employee,
    forbidden,
    get_current_principal,
    is_report,
)
from api.security.objects import not_found
from api.serving import ServingModelDep, recommender_of
from features.domain import Evidence, EvidenceKind
from features.inferred_skills import InferredSkill, SourceKind
from features.live_store import (
    KeyReused,
    add_evidence,
    preferred_locations,
    set_preferences,
)
from features.profiles import evidence_observations, held_titles
from inference.ranking.recommender import UnknownSubject

router = APIRouter(prefix="/v1/employees", tags=["skills"],
                   dependencies=[Depends(get_current_principal)])


class EvidenceKindIn(StrEnum):
    COURSE_COMPLETION = "course_completion"
    SELF_DECLARED = "self_declared"
    SELF_DESCRIPTION = "self_description"
    ENDORSEMENT = "endorsement"
    REVIEW = "review"


STORED_AS = {
    EvidenceKindIn.COURSE_COMPLETION: (EvidenceKind.COURSE_COMPLETION,
                                       SourceKind.COURSE_DESCRIPTION),
    EvidenceKindIn.SELF_DECLARED: (EvidenceKind.SELF_DECLARED, SourceKind.SELF_DESCRIPTION),
    EvidenceKindIn.SELF_DESCRIPTION: (EvidenceKind.SELF_DECLARED, SourceKind.SELF_DESCRIPTION),
    EvidenceKindIn.ENDORSEMENT: (EvidenceKind.MANAGER_ENDORSEMENT,
                                 SourceKind.PERFORMANCE_REVIEW),
    EvidenceKindIn.REVIEW: (EvidenceKind.PERFORMANCE_REVIEW, SourceKind.PERFORMANCE_REVIEW),
}
"""API kind -> (stored evidence kind, the engine's source kind for its text), as training maps
them (`training.skills.profiles.EVIDENCE_SOURCE`)."""
BY_SELF = frozenset({EvidenceKindIn.COURSE_COMPLETION, EvidenceKindIn.SELF_DECLARED,
                     EvidenceKindIn.SELF_DESCRIPTION})


class EvidenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: EvidenceKindIn
    course_id: str | None = Field(default=None, min_length=1, max_length=64)
    skill_uri: str | None = Field(default=None, min_length=1, max_length=255)
    text: str = Field(default="", max_length=4000)
    rating: int | None = Field(default=None, ge=1, le=5)
    idempotency_key: str | None = Field(default=None, pattern=KEY_PATTERN,
                                        description="Or the Idempotency-Key header.")


class ObservedSkill(BaseModel):
    uri: str
    label: str
    level: float
    """What the evidence says about proficiency."""
    score: float
    """How sure the engine is the skill is meant (1 for a named skill)."""


class EvidenceOut(BaseModel):
    id: str
    employee_id: str
    kind: EvidenceKindIn
    occurred_on: date
    author_id: str | None
    skills: list[ObservedSkill]


class EvidenceItem(BaseModel):
    id: str
    kind: str
    occurred_on: date | None
    text: str
    """The evidence text, shortened; a role's title for the evidence of holding a role."""


class ProfileSkill(BaseModel):
    uri: str
    label: str
    proficiency: float
    confidence: float
    evidence: list[EvidenceItem]


class RejectedSkill(BaseModel):
    uri: str
    label: str


class SkillProfileOut(BaseModel):
    employee_id: str
    as_of: date
    model_version: str
    skills: list[ProfileSkill]
    rejected: list[RejectedSkill]


def _may_write(principal: Principal, kind: EvidenceKindIn, employee_id: str,
               store: StoreDep) -> None:
    if store.employee(employee_id) is None:
        raise not_found("employee", employee_id)
    if kind in BY_SELF:
        if principal.employee_id != employee_id:
            raise forbidden(f"{kind.value} evidence is added by the employee themself")
        return
    if principal.role is UserRole.HR_ADMIN and kind is EvidenceKindIn.REVIEW:
        return
    if (principal.role is UserRole.MANAGER and principal.employee_id
            and is_report(store, principal.employee_id, employee_id)):
        return
    raise forbidden(f"{kind.value} evidence is added by the employee's manager"
                    + (" or HR" if kind is EvidenceKindIn.REVIEW else ""))


def _held_titles(store: StoreDep, employee_id: str) -> tuple[str, ...]:
    """The titles of the roles the person holds or held (`features.profiles.held_titles`)."""
    employee = store.employee(employee_id)
    if employee is None:
        return ()
    moves = store.moves_of([employee_id])
    ids = {employee.role_id, *(r for m in moves.get(employee_id, ())
                               for r in (m.from_role_id, m.to_role_id))}
    titles = {role.id: role.title for i in ids if (role := store.role(i)) is not None}
    return held_titles([employee], moves, titles).get(employee_id, ())


def _check(body: EvidenceIn, store: StoreDep) -> None:
    kind = body.kind
    if kind is EvidenceKindIn.COURSE_COMPLETION:
        if body.course_id is None:
            raise HTTPException(422, "a course_completion needs the course_id")
        if body.course_id not in {c.id for c in store.courses()}:
            raise HTTPException(422, f"no course with id {body.course_id!r}")
    if kind in (EvidenceKindIn.SELF_DECLARED, EvidenceKindIn.ENDORSEMENT) \
            and body.skill_uri is None:
        raise HTTPException(422, f"a {kind.value} needs the skill_uri")
    if body.skill_uri is not None and not store.skill_labels([body.skill_uri]):
        raise HTTPException(422, f"unknown skill URI {body.skill_uri!r}")
    if kind in (EvidenceKindIn.SELF_DESCRIPTION, EvidenceKindIn.REVIEW) and not body.text.strip():
        raise HTTPException(422, f"a {kind.value} needs a text")
    if body.rating is not None and kind is not EvidenceKindIn.REVIEW:
        raise HTTPException(422, "only a review has a rating")


@router.post("/{employee_id}/evidence", response_model=EvidenceOut,
             status_code=status.HTTP_201_CREATED,
             responses={200: {"model": EvidenceOut, "description": "a repeat: the stored one"},
                        409: {"description": "the key was used for a different request"},
                        503: {"description": "the skills engine or the store is unavailable"}})
def post_evidence(
    employee_id: str, body: EvidenceIn, request: Request, response: Response,
    store: StoreDep, serving: ServingModelDep,
    principal: Annotated[Principal, Depends(heavy_limited("employees.evidence", 120))],
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> EvidenceOut:
    """Add evidence of a person's skills (who may add which kind: see the module notes); the
    person's profile, lists and plans reflect it at once."""
    _may_write(principal, body.kind, employee_id, store)
    key = _key(idempotency_key, body.idempotency_key)
    _check(body, store)
    stored_kind, source = STORED_AS[body.kind]
    evidence = Evidence(
        id=f"ev-live-{uuid.uuid4().hex[:16]}", employee_id=employee_id, kind=stored_kind,
        occurred_on=datetime.now(UTC).date(), text=body.text.strip(), skill_uri=body.skill_uri,
        course_id=body.course_id, rating=body.rating, author_id=principal.user_id)
    courses = {c.id: c for c in store.courses()}
    text = evidence.text
    if not text and evidence.course_id in courses:  # as training reads a bare completion
        text = courses[evidence.course_id].description
    inferred: tuple[InferredSkill, ...] = ()
    if text:
        inferred = get_engine(request).infer(text, source).skills
    recommender = serving.current
    params = recommender.profile_params if recommender is not None else None
    if params is None:
        from features.params import load_params

        params = load_params().profiles
    observations = evidence_observations(
        evidence, inferred, {c.id: c.skill_uris for c in courses.values()}, params,
        _held_titles(store, employee_id))
    request_body: dict[str, Any] = {**body.model_dump(mode="json", exclude={"idempotency_key"}),
                                    "employee_id": employee_id}
    try:
        stored, created = add_evidence(store, evidence, observations,
                                       f"{principal.user_id}:{key}", request_body)
    except KeyReused as exc:
        raise HTTPException(409, str(exc)) from None
    if not created:
        response.status_code = status.HTTP_200_OK
    elif recommender is not None:
        recommender.live_catalog(force=True)  # this worker's profile changes at once
    labels = store.skill_labels(o.skill_uri for o in observations)
    return EvidenceOut(
        id=stored.id, employee_id=employee_id, kind=body.kind, occurred_on=stored.occurred_on,
        author_id=stored.author_id,
        skills=[ObservedSkill(uri=o.skill_uri, label=labels.get(o.skill_uri, o.skill_uri),
                              level=o.level, score=o.score) for o in observations])


@router.get("/{employee_id}/skills", response_model=SkillProfileOut,
            responses={503: {"description": "no champion model is loaded"}})
def skill_profile(
    employee_id: str, store: StoreDep, serving: ServingModelDep,
    principal: Annotated[Principal, Depends(rate_limited("employees.skills"))],
) -> SkillProfileOut:
    """The served skill profile: proficiency, confidence and the evidence behind each skill
    (yourself, your reports as a manager, anyone as hr_admin)."""
    authorize_employee(principal, employee_id, store)
    recommender = recommender_of(serving)
    try:
        recommender.known_employee(employee_id)
    except UnknownSubject as exc:
        raise HTTPException(404, str(exc)) from None
    recommender.live_catalog()
    profile = recommender.profile(employee_id)
    rejected = sorted(recommender.rejected_skills(employee_id))
    labels = store.skill_labels([*(e.skill_uri for e in profile.entries), *rejected])
    evidence = {e.id: e for e in store.evidence(employee_id)}
    roles = recommender.roles

    def item(evidence_id: str) -> EvidenceItem:
        found = evidence.get(evidence_id)
        if found is not None:
            return EvidenceItem(id=found.id, kind=found.kind.value,
                                occurred_on=found.occurred_on, text=found.text[:200])
        if evidence_id.startswith("role:"):
            role = roles.get(evidence_id.removeprefix("role:"))
            return EvidenceItem(id=evidence_id, kind="role", occurred_on=None,
                                text=f"holds or held the role {role.title}" if role else "")
        return EvidenceItem(id=evidence_id, kind="other", occurred_on=None, text="")

    return SkillProfileOut(
        employee_id=employee_id, as_of=recommender.as_of, model_version=recommender.version,
        skills=[ProfileSkill(uri=e.skill_uri, label=labels.get(e.skill_uri, e.skill_uri),
                             proficiency=e.proficiency, confidence=e.confidence,
                             evidence=[item(i) for i in e.evidence_ids[:10]])
                for e in profile.entries],
        rejected=[RejectedSkill(uri=u, label=labels.get(u, u)) for u in rejected])


class Preferences(BaseModel):
    employee_id: str
    aspirations: str
    locations: list[str]


class PreferencesUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    aspirations: str | None = Field(default=None, max_length=500)
    locations: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(
        default=None, max_length=10)


@router.get("/{employee_id}/preferences", response_model=Preferences)
def get_preferences(
    employee_id: str, store: StoreDep,
    principal: Annotated[Principal, Depends(rate_limited("employees.preferences.get"))],
) -> Preferences:
    """Aspirations and preferred locations (yourself, your reports, anyone as hr_admin)."""
    employee = authorize_employee(principal, employee_id, store)
    return Preferences(employee_id=employee.id, aspirations=employee.aspirations,
                       locations=preferred_locations(store, employee.id))


@router.put("/{employee_id}/preferences", response_model=Preferences)
def put_preferences(
    employee_id: str, body: PreferencesUpdate, store: StoreDep, serving: ServingModelDep,
    principal: Annotated[Principal, Depends(rate_limited("employees.preferences", 30))],
) -> Preferences:
    """Set your aspirations and / or preferred locations (yourself only); a PUT is idempotent."""
    if store.employee(employee_id) is None:
        raise not_found("employee", employee_id)
    if principal.employee_id != employee_id:
        raise forbidden("only the employee changes their aspirations and locations")
    if body.aspirations is None and body.locations is None:
        raise HTTPException(422, "give aspirations, locations or both")
    set_preferences(store, employee_id, aspirations=body.aspirations,
                    locations=None if body.locations is None
                    else list(dict.fromkeys(v.strip() for v in body.locations)))
    if serving.current is not None:
        serving.current.live_catalog(force=True)
    return get_preferences(employee_id, store, principal)
