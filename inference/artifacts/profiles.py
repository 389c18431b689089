"""The profiles artifact layout (``models/profiles/``, and ``profiles/`` in a bundle): its one
writer (`write_profile_artifacts`, used by ``waypoint skills profiles``) and its one reader.

Training reads the dated observations (to rebuild any employee's profile as of a past date);
serving reads the current profiles and the requirement profiles of roles and opportunities.
The writer builds the folder aside and renames it into place, so a failed run leaves the
previous profiles intact.
"""

from __future__ import annotations

import gzip
import json
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from features.domain import EmployeeProfile, RequirementProfile
from features.errors import SourceFormatError, WaypointError
from features.profiles import Observation

SUMMARY = "summary.json"
PROFILES = "employee_profiles.jsonl.gz"
REQUIREMENTS = "requirements.jsonl.gz"
OBSERVATIONS = "observations.jsonl.gz"
INFERRED = "inferred_skills.jsonl.gz"
OCCUPATION_MATCHES = "occupation_matches.json"
FILES = (SUMMARY, PROFILES, REQUIREMENTS, OBSERVATIONS)
SERVING_FILES = (PROFILES, REQUIREMENTS, SUMMARY)
"""What a bundle carries of the profiles (``profiles/``): serving needs no observations."""


class ProfilesMissing(WaypointError):
    """The profiles stage has not run (or its output is incomplete)."""


def _jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as exc:
                message = f"invalid JSON: {exc.msg}"
                raise SourceFormatError(path, number, exc.colno, message) from None


@dataclass
class ProfileArtifacts:
    folder: Path
    as_of: date
    engine: str = "unknown"
    """The skills engine that built the profiles (the summary's ``encoder``, by folder name)."""
    employee_profiles: dict[str, EmployeeProfile] = field(default_factory=dict)
    role_requirements: dict[str, RequirementProfile] = field(default_factory=dict)
    opportunity_requirements: dict[str, RequirementProfile] = field(default_factory=dict)
    observations: dict[str, list[Observation]] = field(default_factory=dict)


def read_profile_artifacts(folder: Path, *, observations: bool = False,
                           employee_profiles: bool = True) -> ProfileArtifacts:
    """The layout in ``folder``; ``employee_profiles=False`` leaves the current profiles unread
    (serving maps them instead: `inference.artifacts.profile_lines`)."""
    for name in (SUMMARY, PROFILES, REQUIREMENTS):
        if not (folder / name).is_file():
            raise ProfilesMissing(f"{folder / name} not found: run `waypoint skills profiles`")
    summary = json.loads((folder / SUMMARY).read_text())
    result = ProfileArtifacts(folder=folder, as_of=date.fromisoformat(summary["as_of"]),
                              engine=Path(str(summary.get("encoder", "unknown"))).name)
    for _, row in _jsonl(folder / PROFILES) if employee_profiles else ():
        profile = EmployeeProfile.model_validate(row)
        result.employee_profiles[profile.employee_id] = profile
    for number, row in _jsonl(folder / REQUIREMENTS):
        kind = row.pop("kind", None)
        requirements = RequirementProfile.model_validate(row)
        if kind == "role":
            result.role_requirements[requirements.subject_id] = requirements
        elif kind == "opportunity":
            result.opportunity_requirements[requirements.subject_id] = requirements
        else:
            raise SourceFormatError(folder / REQUIREMENTS, number, 1, f"unknown kind {kind!r}")
    if observations:
        by_employee: dict[str, list[Observation]] = defaultdict(list)
        for _, row in _jsonl(folder / OBSERVATIONS):
            employee_id = row.pop("employee_id")
            by_employee[employee_id].append(Observation.model_validate(row))
        result.observations = dict(by_employee)
    return result


def _write_jsonl(path: Path, rows: Iterable[BaseModel | Mapping[str, Any]]) -> int:
    count = 0
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        for row in rows:
            data = row.model_dump(mode="json") if isinstance(row, BaseModel) else dict(row)
            handle.write(json.dumps(data) + "\n")
            count += 1
    return count


def write_profile_artifacts(
    folder: Path, *, as_of: date, inferred: Iterable[Mapping[str, Any]],
    observations: Mapping[str, Iterable[Observation]], profiles: Iterable[EmployeeProfile],
    role_requirements: Iterable[RequirementProfile],
    opportunity_requirements: Iterable[RequirementProfile],
    occupation_matches: Mapping[str, Any], summary: Mapping[str, Any],
) -> dict[str, Any]:
    """Write the whole layout to ``folder`` atomically; returns the summary written (with
    ``as_of`` and the row counts added)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".profiles-", dir=folder.parent))
    try:
        counts = {
            "inferred_skills": _write_jsonl(staging / INFERRED, inferred),
            "observations": _write_jsonl(staging / OBSERVATIONS, (
                {"employee_id": emp_id, **obs.model_dump(mode="json")}
                for emp_id, items in sorted(observations.items()) for obs in items)),
            "employee_profiles": _write_jsonl(staging / PROFILES, profiles),
            "requirements": _write_jsonl(staging / REQUIREMENTS, [
                *({"kind": "role", **p.model_dump(mode="json")} for p in role_requirements),
                *({"kind": "opportunity", **p.model_dump(mode="json")}
                  for p in opportunity_requirements)]),
        }
        (staging / OCCUPATION_MATCHES).write_text(
            json.dumps(dict(occupation_matches), indent=2) + "\n")
        written = {"as_of": as_of.isoformat(), **dict(summary), "rows": counts}
        (staging / SUMMARY).write_text(json.dumps(written, indent=2) + "\n")
        if folder.exists():
            shutil.rmtree(folder)
        staging.rename(folder)
        return written
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
