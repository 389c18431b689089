"""Liveness and what the store holds."""

from __future__ import annotations

from fastapi import APIRouter, Depends
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
