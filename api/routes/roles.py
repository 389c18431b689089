"""``GET /v1/roles/{role_id}/candidates`` (recruiter owning the role, hr_admin; rate limited) and
``GET /v1/roles/{role_id}/paths`` (any signed-in user).

Candidates are discoverable employees only, never the role's current holders, ranked by the
model and then fairly re-ranked (``fairness.rerank`` in params.yaml); the response carries the
list's rounded group figures for the top positions (``api.candidate_view``: no model score, no
pre-re-ranking position, nothing a person's group can be read off). Every served candidate list
goes to the ``served_lists`` audit log with the detailed figures.
"""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from api.candidate_view import FIGURES_PREFIX, CandidateListView, candidate_list_view
from api.deps import StoreDep
from api.ratelimit import heavy_limited, list_cost, rate_limited
from api.security import (
    Principal,
    authorize_role_for_recruiter,
    get_current_principal,
)
from api.security.objects import not_found
from api.serving import AuditLogDep, ServingModelDep, recommender_of
from inference.paths import CareerPathList, GraphUnavailable, PathService
from inference.ranking.recommender import UnknownSubject
from inference.serving.audit_log import served_list

router = APIRouter(prefix="/v1/roles", tags=["roles"],
                   dependencies=[Depends(get_current_principal)])
_service_lock = threading.Lock()


@router.get("/{role_id}/candidates", response_model=CandidateListView,
            responses={503: {"description": "no champion model is loaded"}})
def candidates(
    role_id: str, store: StoreDep, serving: ServingModelDep, audit: AuditLogDep,
    principal: Annotated[Principal, Depends(heavy_limited("roles.candidates", 30,
                                                          cost=list_cost))],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> CandidateListView:
    """Ranked, fairly re-ranked internal candidates for a role, with rounded group figures of
    the top positions (the same for every ``limit``; withheld for small pools). No model score
    or pre-re-ranking position is shown (docs/security.md)."""
    authorize_role_for_recruiter(principal, role_id, store)
    recommender = recommender_of(serving)
    try:
        # the figures always describe the top FIGURES_PREFIX; the shown order does not depend
        # on the list size, so the first ``limit`` of a longer list are the same people
        top = recommender.candidates(role_id, FIGURES_PREFIX)
        shown = top if limit <= FIGURES_PREFIX else recommender.candidates(role_id, limit)
    except UnknownSubject as exc:
        raise HTTPException(404, str(exc)) from None
    items = shown.items[:limit]
    served_id = None
    if audit is not None:  # the detailed figures go to the audit log only
        record = served_list(
            user_id=principal.user_id, requester_role=principal.role.value,
            endpoint="candidates", subject_id=role_id, model_version=shown.model_version,
            items=[(i.employee_id, i.score) for i in items],
            fairness=shown.fairness.model_dump(mode="json") if shown.fairness else None)
        served_id = audit.record(record)
    return candidate_list_view(shown.model_copy(update={"items": items}), top, served_id)


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
def paths(role_id: str, store: StoreDep,
          service: Annotated[PathService, Depends(get_path_service)],
          _principal: Annotated[Principal, Depends(rate_limited("roles.paths", cost=list_cost))],
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
