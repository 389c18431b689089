"""Liveness and what the store holds (``/healthz``); readiness (``/readyz``): 200 once the
skills engine and the champion model are loaded, 503 with the same JSON body before."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.deps import StoreDep
from api.ratelimit import address_limited
from features.domain import Counts

router = APIRouter(tags=["health"], dependencies=[Depends(address_limited("healthz", 600))])


class Health(BaseModel):
    status: str
    counts: Counts
    reference_version: str | None
    organization_version: str | None


@router.get("/healthz", response_model=Health)
def healthz(store: StoreDep) -> Health:
    return Health(
        status="ok",
        counts=store.counts(),
        reference_version=store.dataset_version("reference"),
        organization_version=store.dataset_version("organization"),
    )


class Readiness(BaseModel):
    ready: bool
    skills_engine: str
    """``ready``, ``loading`` or ``unavailable``."""
    model: str
    """The champion model's state: ``ready``, ``loading`` or ``unavailable``."""


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
def readyz(request: Request) -> JSONResponse:
    state = request.app.state
    engine = ("ready" if getattr(state, "skills_engine", None) is not None else
              getattr(getattr(state, "skills_holder", None), "state", "unavailable"))
    model = getattr(getattr(state, "serving_model", None), "state", "unavailable")
    body = Readiness(ready=engine == "ready" and model == "ready", skills_engine=engine,
                     model=model)
    return JSONResponse(body.model_dump(), status_code=200 if body.ready else 503)
