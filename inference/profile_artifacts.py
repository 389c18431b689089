"""Read what ``waypoint skills profiles`` wrote into ``models/profiles/``.

Training reads the dated observations (to rebuild any employee's profile as of a past date);
serving reads the current profiles and the requirement profiles of roles and opportunities.
"""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from features.domain import EmployeeProfile, RequirementProfile
from features.errors import SourceFormatError, WaypointError
from features.profiles import Observation

SUMMARY = "summary.json"
PROFILES = "employee_profiles.jsonl.gz"
REQUIREMENTS = "requirements.jsonl.gz"
OBSERVATIONS = "observations.jsonl.gz"
FILES = (SUMMARY, PROFILES, REQUIREMENTS, OBSERVATIONS)


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


def read_profile_artifacts(folder: Path, *, observations: bool = False) -> ProfileArtifacts:
    for name in (SUMMARY, PROFILES, REQUIREMENTS):
        if not (folder / name).is_file():
            raise ProfilesMissing(f"{folder / name} not found: run `waypoint skills profiles`")
    summary = json.loads((folder / SUMMARY).read_text())
    result = ProfileArtifacts(folder=folder, as_of=date.fromisoformat(summary["as_of"]),
                              engine=Path(str(summary.get("encoder", "unknown"))).name)
    for _, row in _jsonl(folder / PROFILES):
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
