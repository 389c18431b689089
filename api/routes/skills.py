"""``POST /v1/skills/infer``: text -> ESCO skills with scores, evidence spans and polarity.

The engine is the one the pipeline built (``models/skills/serving.json``, the engine the
profiles use), loaded once at start-up in the background (``inference.serving.skills_engine``);
until it is in memory this route answers 503 and ``/readyz`` says not ready. Nothing is built on
a request.

Any signed-in user may call it (it reads no one's data). Limits: the token is checked and the
body limited to ``MAX_BODY_BYTES`` (streaming) before it is read (`api.guard`); ``text`` at most
``MAX_TEXT_CHARS`` characters (413 beyond); a body that is not JSON or not the schema is a 422;
the rate limit is weighted by the body's length (`text_cost`) and at most
``settings.heavy_concurrency`` heavy requests run at once (`heavy_limited`).
Empty or whitespace-only text, and text with too few letters to be language (binary garbage),
return ``200`` with an empty ``skills`` list.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from api.ratelimit import heavy_limited, text_cost
from api.security import Principal, get_current_principal
from features.inferred_skills import InferredSkill, SourceKind
from inference.skills.engine import SkillEngine

# The token is checked first, before the engine (and its label index) is loaded.
router = APIRouter(prefix="/v1/skills", tags=["skills"],
                   dependencies=[Depends(get_current_principal)])
MAX_TEXT_CHARS = 20_000
MAX_BODY_BYTES = 4 * MAX_TEXT_CHARS + 4_096
BODY_LIMITS = {"/v1/skills/infer": MAX_BODY_BYTES}
"""Enforced, streaming, by `api.guard.RequestGuard` before the body is parsed."""


class SkillInferRequest(BaseModel):
    text: str = Field(description=f"The text, at most {MAX_TEXT_CHARS} characters. Empty text "
                                  "returns an empty list.")
    source: SourceKind = Field(default=SourceKind.JOB_DESCRIPTION,
                               description="Where the text comes from; reviews get polarity.")
    top_k: int | None = Field(default=None, ge=1, le=100,
                              description="Return the N best skills with no score threshold.")


class SkillInferResponse(BaseModel):
    source: SourceKind
    encoder: str
    skills: list[InferredSkill]


def get_engine(request: Request) -> SkillEngine:
    """The engine set on the app (tests, benchmarks), else the one loaded at start-up."""
    engine: SkillEngine | None = getattr(request.app.state, "skills_engine", None)
    if engine is not None:
        return engine
    holder = getattr(request.app.state, "skills_holder", None)
    if holder is None or holder.engine is None:
        why = "not loaded" if holder is None else (
            "still loading" if holder.state == "loading" else str(holder.last_error))
        raise HTTPException(503, f"the skills engine is unavailable: {why}")
    loaded: SkillEngine = holder.engine
    return loaded


EngineDep = Annotated[SkillEngine, Depends(get_engine)]


@router.post("/infer", response_model=SkillInferResponse,
             responses={413: {"description": "text too long"},
                        422: {"description": "body is not valid JSON or not the schema"}})
def infer_skills(
    body: SkillInferRequest,
    _principal: Annotated[Principal, Depends(heavy_limited("skills.infer", cost=text_cost))],
    engine: EngineDep,
) -> SkillInferResponse:
    """ESCO skills in the text, best first, each with URI, label, calibrated score in [0, 1],
    character spans into ``text`` and, for reviews and self descriptions, a polarity
    (``strength`` or ``development_need``). Any signed-in user; rate limited."""
    if len(body.text) > MAX_TEXT_CHARS:
        raise HTTPException(413, f"text has {len(body.text)} characters; at most "
                                 f"{MAX_TEXT_CHARS} are accepted")
    result = engine.infer(body.text, body.source, top_k=body.top_k)
    return SkillInferResponse(source=result.source, encoder=engine.encoder.name,
                              skills=list(result.skills))
