"""``GET /v1/admin/model`` (ml_admin, hr_admin): what is serving; ``POST /v1/admin/model/reload``
(ml_admin): load the current champion and swap it in.

A reload builds the new recommender aside and swaps it in only when it is complete; requests in
flight finish on the model they started with. A model that fails to load never replaces the one
serving: the answer is 409 (the previous model keeps serving) or 503 (none is serving), with the
error.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from starlette.concurrency import run_in_threadpool

from api.ratelimit import heavy_limited, rate_limited
from api.security import Principal, UserRole, get_current_principal, require_roles
from api.serving import ServingModelDep
from inference.ranking.responses import ModelStatus

router = APIRouter(prefix="/v1/admin", tags=["admin"],
                   dependencies=[Depends(get_current_principal)])


@router.get("/model", response_model=ModelStatus)
def model_status(
    serving: ServingModelDep,
    _principal: Annotated[Principal, Depends(require_roles(UserRole.ML_ADMIN,
                                                           UserRole.HR_ADMIN))],
    _limit: Annotated[Principal, Depends(rate_limited("admin.model"))],
) -> ModelStatus:
    """The serving model: version, bundle creation time, data versions, last reload error."""
    return serving.status()


@router.post("/model/reload", response_model=ModelStatus,
             responses={409: {"description": "the new model failed; the old one keeps serving"},
                        503: {"description": "the new model failed and none is serving"}})
async def reload_model(
    serving: ServingModelDep,
    _principal: Annotated[Principal, Depends(require_roles(UserRole.ML_ADMIN))],
    _limit: Annotated[Principal, Depends(heavy_limited("admin.model.reload", 6))],
) -> ModelStatus:
    """Load ``models:/<name>@champion`` and swap it in without dropping in-flight requests."""
    previous = serving.current
    try:
        await run_in_threadpool(serving.reload)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        if previous is not None:
            raise HTTPException(status.HTTP_409_CONFLICT,
                                f"reload failed; version {previous.version} keeps serving: "
                                f"{error}") from None
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                            f"reload failed; no model is serving: {error}") from None
    return serving.status()
