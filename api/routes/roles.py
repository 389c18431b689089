"""``GET /v1/roles/{role_id}/candidates`` (recruiter owning the role, hr_admin; rate limited) and
``GET /v1/roles/{role_id}/paths`` (any signed-in user).

Candidates are discoverable employees only, never the role's current holders, ranked by the
model and then fairly re-ranked (``fairness.rerank`` in params.yaml); the response carries the
list's aggregate fairness figures, never a person's protected attribute. Every served candidate
list goes to the ``served_lists`` audit log with those figures.
"""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from api.deps import StoreDep
from api.ratelimit import rate_limited
from api.security import (
    CurrentUser,
    Principal,
    authorize_role_for_recruiter,
    get_current_principal,
)
from api.security.objects import not_found
from api.serving import AuditLogDep, ServingModelDep, recommender_of
from inference.audit_log import served_list
from inference.paths import CareerPathList, GraphUnavailable, PathService
from inference.recommendation_models import CandidateList
from inference.recommender import UnknownSubject

router = APIRouter(prefix="/v1/roles", tags=["roles"],
                   dependencies=[Depends(get_current_principal)])
_service_lock = threading.Lock()


@router.get("/{role_id}/candidates", response_model=CandidateList,
            responses={503: {"description": "no champion model is loaded"}})
def candidates(
    role_id: str, store: StoreDep, serving: ServingModelDep, audit: AuditLogDep,
    principal: Annotated[Principal, Depends(rate_limited("roles.candidates", 30))],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> CandidateList:
    """Ranked, fairly re-ranked internal candidates for a role, with aggregate fairness figures
    (group shares of the list vs the qualified pool, counts, impact ratios)."""
    authorize_role_for_recruiter(principal, role_id, store)
    recommender = recommender_of(serving)
    try:
        result = recommender.candidates(role_id, limit)
    except UnknownSubject as exc:
        raise HTTPException(404, str(exc)) from None
    if audit is not None:
        record = served_list(
            user_id=principal.user_id, requester_role=principal.role.value,
            endpoint="candidates", subject_id=role_id, model_version=result.model_version,
            items=[(i.employee_id, i.score) for i in result.items],
            fairness=result.fairness.model_dump(mode="json") if result.fairness else None)
        result = result.model_copy(update={"served_list_id": audit.record(record)})
    return result


def get_path_service(request: Request) -> PathService:
    """The app's one ``PathService`` (created on first use; it loads the prebuilt graph)."""
    with _service_lock:
        service: PathService | None = getattr(request.app.state, "path_service", None)
        if service is None:
            settings = request.app.state.settings
            service = PathService(request.app.state.store, settings.artifact_dir)
            request.app.state.path_service = service
        return service


@router.get("/{role_id}/paths", response_model=CareerPathList,
            responses={503: {"description": "the career-path model was not built"}})
def paths(role_id: str, principal: CurrentUser, store: StoreDep,
          service: Annotated[PathService, Depends(get_path_service)],
          limit: Annotated[int, Query(ge=1, le=100)] = 10) -> CareerPathList:
    """The most reachable next roles from a role, lateral and step up, each with its reasons
    (any signed-in user). The same code and settings as ``waypoint paths``."""
    if store.role(role_id) is None:
        raise not_found("role", role_id)
    try:
        return service.paths(role_id, limit)
    except GraphUnavailable as exc:
        raise HTTPException(503, str(exc)) from None
    except KeyError:
        raise not_found("role", role_id) from None
