"""``POST /v1/occupations/match`` (any signed-in user): job titles to ESCO occupations, the same
matcher and output as ``waypoint titles``. 503 until the title index is built. Rate-limited by
the body's size (`api.ratelimit.text_cost`), like skills inference."""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from api.ratelimit import rate_limited, text_cost
from api.security import Principal, get_current_principal
from inference.titles import TitleIndexUnavailable, TitleMatcher, load_matcher
from inference.titles.requests import TitleIn, TitleOut, match_titles

router = APIRouter(prefix="/v1/occupations", tags=["occupations"],
                   dependencies=[Depends(get_current_principal)])
_lock = threading.Lock()
TITLES_FOLDER = ("occupations", "titles")


class MatchRequest(BaseModel):
    items: list[TitleIn] = Field(min_length=1, max_length=1000)
    top_k: int = Field(default=5, ge=1, le=50)


class MatchResponse(BaseModel):
    items: list[TitleOut]


def get_matcher(request: Request) -> TitleMatcher:
    """The app's title matcher, loaded once from the prebuilt index."""
    with _lock:
        matcher: TitleMatcher | None = getattr(request.app.state, "title_matcher", None)
        if matcher is None:
            folder = request.app.state.settings.artifact_dir.joinpath(*TITLES_FOLDER)
            try:
                matcher = load_matcher(folder)
            except TitleIndexUnavailable as exc:
                raise HTTPException(503, str(exc)) from None
            request.app.state.title_matcher = matcher
        return matcher


@router.post("/match", response_model=MatchResponse,
             responses={503: {"description": "the job-title index was not built"}})
def match(body: MatchRequest,
          matcher: Annotated[TitleMatcher, Depends(get_matcher)],
          _principal: Annotated[Principal, Depends(rate_limited("occupations.match",
                                                                cost=text_cost))],
          ) -> MatchResponse:
    """The ``top_k`` best ESCO occupations of each title (with the crosswalk's O*NET-SOC code
    where there is one), best first; an empty list for an empty or junk title."""
    return MatchResponse(items=match_titles(matcher, body.items, body.top_k))
