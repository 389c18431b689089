"""The job-title request and response shapes shared by ``waypoint titles`` (one JSON object a
line) and ``POST /v1/occupations/match``, and the strict parser of an input line."""

from __future__ import annotations

import json

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from features.errors import WaypointError
from inference.titles.matcher import Match, TitleMatcher

MAX_TEXT = 500


class TitleIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=200)
    text: str = Field(max_length=MAX_TEXT)


class OccupationOut(BaseModel):
    uri: str
    label: str
    score: float
    onet_code: str | None


class TitleOut(BaseModel):
    id: str
    occupations: list[OccupationOut]


class MalformedLine(WaypointError):
    """An input line that is not ``{"id": "...", "text": "..."}``."""


def parse_line(line: str, number: int, source: str = "stdin") -> TitleIn:
    """One JSON line -> ``TitleIn``; ``MalformedLine`` naming ``source`` and the line number."""
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        raise MalformedLine(f"{source} line {number}: not JSON ({exc.msg})") from None
    if not isinstance(raw, dict):
        raise MalformedLine(f"{source} line {number}: expected an object with id and text")
    if isinstance(raw.get("id"), int) and not isinstance(raw.get("id"), bool):
        raw["id"] = str(raw["id"])
    try:
        return TitleIn.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "line"
        raise MalformedLine(f"{source} line {number}: {where}: {first['msg']}") from None


def _out(match: Match) -> OccupationOut:
    return OccupationOut(uri=match.uri, label=match.label, score=round(match.score, 6),
                         onet_code=match.onet_code)


def match_titles(matcher: TitleMatcher, titles: list[TitleIn], top_k: int) -> list[TitleOut]:
    found = matcher.match([t.text for t in titles], top_k)
    return [TitleOut(id=t.id, occupations=[_out(m) for m in matches])
            for t, matches in zip(titles, found, strict=True)]
