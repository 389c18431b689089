"""Serving dependencies: the model (`RecommenderDep`, 503 until a champion is loaded) and the
served-lists audit log (`AuditLogDep`). Both live on ``app.state``, set up by the lifespan."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from inference.ranking.recommender import Recommender
from inference.serving.audit_log import ServedListLog
from inference.serving.model import NO_CHAMPION, ServingModel


def get_serving_model(request: Request) -> ServingModel:
    serving: ServingModel | None = getattr(request.app.state, "serving_model", None)
    if serving is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, NO_CHAMPION)
    return serving


def recommender_of(serving: ServingModel) -> Recommender:
    """The serving recommender, taken once per request (a reload never changes it mid-request);
    503 while none is loaded. Call it after the object-level authorization check, so a caller
    learns nothing about the model before being allowed to ask."""
    current = serving.current
    if current is not None:
        return current
    if serving.state == "loading":
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                            "the model is loading; retry shortly", headers={"Retry-After": "5"})
    message = NO_CHAMPION
    if serving.last_error and "no champion" not in serving.last_error:
        message = f"no model is serving: {serving.last_error}"
    raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, message)


def get_audit_log(request: Request) -> ServedListLog | None:
    found: ServedListLog | None = getattr(request.app.state, "served_list_log", None)
    return found


ServingModelDep = Annotated[ServingModel, Depends(get_serving_model)]
AuditLogDep = Annotated[ServedListLog | None, Depends(get_audit_log)]
