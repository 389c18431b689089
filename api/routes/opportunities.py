"""Opportunities posted and managed through the API, their applicants and their candidates.

- ``POST /v1/opportunities`` (manager, recruiter, hr_admin): any kind, with title, description,
  location, level, department, closing date and optional explicit skills. The required skills are
  inferred from the description at once with the serving skills engine (the profile code
  training uses: `features.profiles.build_requirements`) and returned; the opportunity, its
  requirements and a change row land in one transaction (`features.live_store`), and every API
  worker serves it within ``live_refresh_seconds``. An idempotency key is required (the
  ``Idempotency-Key`` header or the body's ``idempotency_key``, scoped to the caller as events'
  keys are): a repeat answers 200 with the stored opportunity, the same key with another body 409.
- ``PATCH /v1/opportunities/{id}`` (its owner as manager or recruiter, hr_admin): edit or close;
  a changed description, level or skill list re-infers the requirements. A PATCH is idempotent
  by itself (the same patch twice leaves the same opportunity).
- ``GET /v1/opportunities?owner=me``: the caller's own opportunities, any status, with their
  application counts (hr_admin: ``owner=<employee id>``).
- ``GET /v1/opportunities/{id}``: one opportunity with its required skills (open ones: anyone
  signed in; others: owner and hr_admin).
- ``GET /v1/opportunities/{id}/applicants`` (owner, hr_admin): who applied, first application
  per person (``application`` events, the guarded training labels of ``POST /v1/events``).
- ``GET /v1/opportunities/{id}/candidates`` (owner, hr_admin): discoverable internal candidates
  for this opening (its location, level and closing date), ranked and fairly re-ranked exactly
  as role candidates are, shown as ``GET /v1/roles/{id}/candidates`` shows them
  (`api.candidate_view`), audit-logged.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from api.candidate_view import FIGURES_PREFIX, CandidateListView, candidate_list_view
from api.deps import StoreDep
from api.ratelimit import heavy_limited, list_cost, rate_limited
from api.routes.events import KEY_PATTERN, _key
from api.routes.skills import get_engine
from api.security import (
    Principal,
    UserRole,
    authorize_opportunity,
    forbidden,
    get_current_principal,
)
from api.security.objects import not_found
from api.serving import AuditLogDep, ServingModelDep, recommender_of
from features.domain import (
    MAX_HOURS_PER_WEEK,
    Opportunity,
    OpportunityKind,
    OpportunityStatus,
    RequirementProfile,
)
from features.inferred_skills import SourceKind
from features.live_store import (
    KeyReused,
    applications,
    live_requirements,
    owned_opportunities,
    post_opportunity,
    update_opportunity,
)
from features.profiles import build_requirements
from features.ranking_history import basic_requirements
from features.store import Store
from inference.ranking.recommender import UnknownSubject
from inference.serving.audit_log import served_list
from inference.serving.model import ServingModel

router = APIRouter(prefix="/v1/opportunities", tags=["opportunities"],
                   dependencies=[Depends(get_current_principal)])
POSTERS = frozenset({UserRole.MANAGER, UserRole.RECRUITER, UserRole.HR_ADMIN})
MAX_SKILLS = 30
MAX_DESCRIPTION = 8_000
HOURS = "Expected time commitment in hours a week (more than 0, at most 60)."


class OpportunityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: OpportunityKind
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=MAX_DESCRIPTION)
    location: str = Field(min_length=1, max_length=64)
    level: int = Field(ge=1, le=5)
    department_id: str | None = Field(default=None, min_length=1, max_length=64,
                                      description="Default: the poster's department.")
    closes_on: date | None = None
    hours_per_week: float | None = Field(default=None, gt=0, le=MAX_HOURS_PER_WEEK,
                                         description=HOURS)
    role_id: str | None = Field(default=None, min_length=1, max_length=64)
    mentor_id: str | None = Field(default=None, min_length=1, max_length=64,
                                  description="Mentorships: default the poster.")
    owner_id: str | None = Field(default=None, min_length=1, max_length=64,
                                 description="hr_admin only (others own what they post).")
    skill_uris: list[str] = Field(default_factory=list, max_length=MAX_SKILLS)
    idempotency_key: str | None = Field(default=None, pattern=KEY_PATTERN,
                                        description="Or the Idempotency-Key header.")


class OpportunityPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, min_length=1, max_length=MAX_DESCRIPTION)
    location: str | None = Field(default=None, min_length=1, max_length=64)
    level: int | None = Field(default=None, ge=1, le=5)
    closes_on: date | None = None
    hours_per_week: float | None = Field(default=None, gt=0, le=MAX_HOURS_PER_WEEK,
                                         description=HOURS + " null: no longer stated.")
    status: OpportunityStatus | None = None
    skill_uris: list[str] | None = Field(default=None, max_length=MAX_SKILLS)


class RequiredSkill(BaseModel):
    uri: str
    label: str
    importance: float
    level: float
    essential: bool


class OpportunityOut(BaseModel):
    id: str
    kind: OpportunityKind
    title: str
    description: str
    department_id: str
    location: str
    level: int
    status: OpportunityStatus
    posted_on: date
    closes_on: date | None
    hours_per_week: float | None
    """The expected time commitment in hours a week (None: not stated)."""
    role_id: str | None
    owner_id: str | None
    mentor_id: str | None
    skill_uris: list[str]
    """Skills the poster named."""
    required_skills: list[RequiredSkill]
    """What serving matches people against: named and inferred skills, most important first."""
    applicants: int


class OpportunityList(BaseModel):
    owner_id: str
    items: list[OpportunityOut]


class Applicant(BaseModel):
    employee_id: str
    name: str
    role_id: str
    role_title: str | None
    level: int
    location: str
    applied_at: datetime


class ApplicantList(BaseModel):
    opportunity_id: str
    title: str
    items: list[Applicant]


# --------------------------------------------------------------------------- helpers


def _requirements(request: Request, opportunity: Opportunity) -> RequirementProfile:
    """Named skills plus the skills the serving engine infers from the description (those it
    asserts: ``profiles.asserted_engine_score``, as the profiles stage)."""
    from features.params import load_params

    params = load_params().profiles
    engine = get_engine(request)
    inferred = engine.infer(opportunity.description, SourceKind.JOB_DESCRIPTION).skills
    return build_requirements(opportunity.id, inferred, {}, [], opportunity.level,
                              explicit=opportunity.skill_uris,
                              max_requirements=params.max_requirements,
                              min_inferred_score=params.asserted_engine_score)


def _check_skills(store: Store, uris: list[str]) -> tuple[str, ...]:
    wanted = tuple(dict.fromkeys(u.strip() for u in uris if u.strip()))
    known = store.skill_labels(wanted)
    unknown = [u for u in wanted if u not in known]
    if unknown:
        raise HTTPException(422, f"unknown skill URI(s): {', '.join(unknown[:5])}")
    return wanted


def _current_requirements(serving: ServingModel, store: Store,
                          opportunity: Opportunity) -> RequirementProfile:
    current = serving.current
    if current is not None:
        return current.opportunity_requirements(opportunity)
    return live_requirements(store).get(opportunity.id) or basic_requirements(opportunity)


def _out(store: Store, opportunity: Opportunity, reqs: RequirementProfile) -> OpportunityOut:
    labels = store.skill_labels(r.skill_uri for r in reqs.requirements)
    return OpportunityOut(
        **{k: v for k, v in opportunity.model_dump().items() if k != "skill_uris"},
        skill_uris=list(opportunity.skill_uris),
        required_skills=[RequiredSkill(uri=r.skill_uri, label=labels.get(r.skill_uri,
                                                                           r.skill_uri),
                                       importance=r.importance, level=r.level,
                                       essential=r.essential) for r in reqs.requirements],
        applicants=len(applications(store, opportunity.id)))


def _request_body(body: OpportunityIn) -> dict[str, Any]:
    return body.model_dump(mode="json", exclude={"idempotency_key"})


# --------------------------------------------------------------------------- routes


@router.post("", response_model=OpportunityOut, status_code=status.HTTP_201_CREATED,
             responses={200: {"model": OpportunityOut, "description": "a repeat: the stored one"},
                        409: {"description": "the key was used for a different request"},
                        503: {"description": "the skills engine or the store is unavailable"}})
def create_opportunity(
    body: OpportunityIn, request: Request, response: Response, store: StoreDep,
    serving: ServingModelDep,
    principal: Annotated[Principal, Depends(heavy_limited("opportunities.create", 60))],
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> OpportunityOut:
    """Post an opportunity (manager, recruiter, hr_admin); its required skills are inferred
    from the description at once and returned. 201 new, 200 a repeat of the same key."""
    if principal.role not in POSTERS:
        raise forbidden("only managers, recruiters and HR admins post opportunities")
    key = _key(idempotency_key, body.idempotency_key)
    owner_id = principal.employee_id
    if body.owner_id is not None:
        if principal.role is not UserRole.HR_ADMIN:
            raise forbidden("you own what you post; only HR admins post for someone else")
        owner_id = body.owner_id
    owner = store.employee(owner_id) if owner_id else None
    if owner_id and owner is None:
        raise HTTPException(422, f"no employee with id {owner_id!r} to own it")
    department_id = body.department_id or (owner.department_id if owner else None)
    if department_id is None:
        raise HTTPException(422, "department_id is required when no owner is given")
    if department_id not in {d.id for d in store.departments()}:
        raise HTTPException(422, f"no department with id {department_id!r}")
    if body.role_id is not None and store.role(body.role_id) is None:
        raise HTTPException(422, f"no role with id {body.role_id!r}")
    today = datetime.now(UTC).date()
    if body.closes_on is not None and body.closes_on < today:
        raise HTTPException(422, "closes_on is in the past")
    mentor_id = body.mentor_id
    if body.kind is OpportunityKind.MENTORSHIP and mentor_id is None:
        mentor_id = owner_id
    if mentor_id is not None and store.employee(mentor_id) is None:
        raise HTTPException(422, f"no employee with id {mentor_id!r} to mentor")
    opportunity = Opportunity(
        id=f"opp-{uuid.uuid4().hex[:16]}", kind=body.kind, title=body.title.strip(),
        description=body.description, department_id=department_id,
        location=body.location.strip(), level=body.level, status=OpportunityStatus.OPEN,
        posted_on=today, closes_on=body.closes_on, hours_per_week=body.hours_per_week,
        role_id=body.role_id, owner_id=owner_id,
        mentor_id=mentor_id, skill_uris=_check_skills(store, body.skill_uris))
    scoped = f"{principal.user_id}:{key}"
    reqs = _requirements(request, opportunity)
    try:
        stored, created = post_opportunity(store, opportunity, reqs, scoped, _request_body(body))
    except KeyReused as exc:
        raise HTTPException(409, str(exc)) from None
    if not created:
        response.status_code = status.HTTP_200_OK
        reqs = _current_requirements(serving, store, stored)
    elif serving.current is not None:
        serving.current.live_catalog(force=True)  # this worker serves it at once
    return _out(store, stored, reqs)


@router.get("", response_model=OpportunityList)
def list_opportunities(
    store: StoreDep,
    serving: ServingModelDep,
    principal: Annotated[Principal, Depends(rate_limited("opportunities.list"))],
    owner: Annotated[str, Query(min_length=1, max_length=64,
                                description="`me`, or an employee id (hr_admin)")] = "me",
) -> OpportunityList:
    """Your own opportunities, any status, newest first (hr_admin: anyone's)."""
    if owner == "me":
        if principal.employee_id is None:
            raise forbidden("you are not an employee: give owner=<employee id> (hr_admin)")
        owner = principal.employee_id
    elif principal.role is not UserRole.HR_ADMIN and owner != principal.employee_id:
        raise forbidden("you may list only your own opportunities (owner=me)")
    if store.employee(owner) is None:
        raise not_found("employee", owner)
    return OpportunityList(owner_id=owner, items=[
        _out(store, o, _current_requirements(serving, store, o))
        for o in owned_opportunities(store, owner)[:200]])


@router.get("/{opportunity_id}", response_model=OpportunityOut)
def get_opportunity(
    opportunity_id: str, store: StoreDep, serving: ServingModelDep,
    principal: Annotated[Principal, Depends(rate_limited("opportunities.get"))],
) -> OpportunityOut:
    """One opportunity with its required skills (open: anyone signed in; else owner, hr)."""
    opportunity = authorize_opportunity(principal, opportunity_id, store)
    return _out(store, opportunity, _current_requirements(serving, store, opportunity))


@router.patch("/{opportunity_id}", response_model=OpportunityOut,
              responses={503: {"description": "the skills engine or the store is unavailable"}})
def edit_opportunity(
    opportunity_id: str, body: OpportunityPatch, request: Request, store: StoreDep,
    serving: ServingModelDep,
    principal: Annotated[Principal, Depends(heavy_limited("opportunities.edit", 60))],
) -> OpportunityOut:
    """Edit or close your opportunity (its owner, hr_admin); a changed description, level or
    skill list re-infers the requirements."""
    current = authorize_opportunity(principal, opportunity_id, store, manage=True)
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    if not changes:
        raise HTTPException(422, "nothing to change: give at least one field")
    if "skill_uris" in changes:
        changes["skill_uris"] = _check_skills(store, changes["skill_uris"] or [])
    for field in ("title", "description", "location", "level", "status"):
        if field in changes and changes[field] is None:
            raise HTTPException(422, f"{field} cannot be null")
    if "closes_on" in changes and changes["closes_on"] is not None \
            and changes["closes_on"] < current.posted_on:
        raise HTTPException(422, "closes_on is before the opportunity was posted")
    updated = current.model_copy(update=changes)
    updated = Opportunity.model_validate(updated.model_dump())
    rescore = any(updated.model_dump()[f] != current.model_dump()[f]
                  for f in ("description", "level", "skill_uris"))
    reqs = _requirements(request, updated) if rescore else None
    update_opportunity(store, updated, reqs)
    if serving.current is not None:
        serving.current.live_catalog(force=True)
    return _out(store, updated, reqs or _current_requirements(serving, store, updated))


@router.get("/{opportunity_id}/applicants", response_model=ApplicantList)
def opportunity_applicants(
    opportunity_id: str, store: StoreDep,
    principal: Annotated[Principal, Depends(rate_limited("opportunities.applicants"))],
) -> ApplicantList:
    """Who applied (the owner, hr_admin), first application per person, oldest first."""
    opportunity = authorize_opportunity(principal, opportunity_id, store, manage=True)
    roles = {r.id: r for r in store.roles()}
    items = []
    for event in applications(store, opportunity.id):
        person = store.employee(event.employee_id)
        if person is None:
            continue
        moment = event.occurred_at
        role = roles.get(person.role_id)
        items.append(Applicant(
            employee_id=person.id, name=person.name, role_id=person.role_id,
            role_title=role.title if role else None, level=person.level,
            location=person.location,
            applied_at=moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment))
    return ApplicantList(opportunity_id=opportunity.id, title=opportunity.title, items=items)


@router.get("/{opportunity_id}/candidates", response_model=CandidateListView,
            responses={503: {"description": "no champion model is loaded"}})
def opportunity_candidates(
    opportunity_id: str, store: StoreDep, serving: ServingModelDep, audit: AuditLogDep,
    principal: Annotated[Principal, Depends(heavy_limited("opportunities.candidates", 30,
                                                          cost=list_cost))],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> CandidateListView:
    """Ranked, fairly re-ranked internal candidates for one opening (its owner, hr_admin), with
    the rounded group figures of the top positions, as for a role's candidates."""
    opportunity = authorize_opportunity(principal, opportunity_id, store, manage=True)
    recommender = recommender_of(serving)
    try:
        top = recommender.opportunity_candidates(opportunity, FIGURES_PREFIX)
        shown = top if limit <= FIGURES_PREFIX else recommender.opportunity_candidates(
            opportunity, limit)
    except UnknownSubject as exc:
        raise HTTPException(404, str(exc)) from None
    items = shown.items[:limit]
    served_id = None
    if audit is not None:  # the detailed figures go to the audit log only
        record = served_list(
            user_id=principal.user_id, requester_role=principal.role.value,
            endpoint="candidates", subject_id=opportunity.id, model_version=shown.model_version,
            items=[(i.employee_id, i.score) for i in items],
            fairness=shown.fairness.model_dump(mode="json") if shown.fairness else None)
        served_id = audit.record(record)
    return candidate_list_view(shown.model_copy(update={"items": items}), top, served_id)
