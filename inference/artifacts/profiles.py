"""The profiles artifact layout (``models/profiles/``, and ``profiles/`` in a bundle): its one
writer (`ProfileArtifactWriter`, streamed by ``waypoint skills profiles``;
`write_profile_artifacts` over rows at hand) and its one reader.

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
COMPRESS_LEVEL = 6
"""zlib's default, not gzip's 9: on the 100,000-employee observations 3.1x faster to write
(1.6 s against 5.0 s per 200 MB of JSON lines) for a file 7% larger."""
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


def _line(row: BaseModel | Mapping[str, Any]) -> str:
    data = row.model_dump(mode="json") if isinstance(row, BaseModel) else dict(row)
    return json.dumps(data) + "\n"


class ProfileArtifactWriter:
    """The layout written as it is produced, for a stage too large to hold: rows go to the
    gzip files of a staging folder beside ``folder`` as they come (`inferred`,
    `observations`, `profiles`), and `finish` writes the rest and renames the folder into
    place. Used as a context manager: leaving it by an exception, or without `finish`,
    removes the staging folder, so the previous profiles stay intact."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.parent.mkdir(parents=True, exist_ok=True)
        self.staging = Path(tempfile.mkdtemp(prefix=".profiles-", dir=folder.parent))
        self.counts = {"inferred_skills": 0, "observations": 0, "employee_profiles": 0}
        self._files = {name: gzip.open(  # noqa: SIM115 - closed by _close
            self.staging / name, "wt", encoding="utf-8", compresslevel=COMPRESS_LEVEL)
            for name in (INFERRED, OBSERVATIONS, PROFILES)}
        self._done = False

    def __enter__(self) -> ProfileArtifactWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self._close()
        if not self._done:
            shutil.rmtree(self.staging, ignore_errors=True)

    def _close(self) -> None:
        for handle in self._files.values():
            handle.close()

    def inferred(self, rows: Iterable[Mapping[str, Any]]) -> None:
        handle = self._files[INFERRED]
        for row in rows:
            handle.write(_line(row))
            self.counts["inferred_skills"] += 1

    def observations(self, employee_id: str, items: Iterable[Observation]) -> None:
        handle = self._files[OBSERVATIONS]
        for obs in items:
            handle.write(_line({"employee_id": employee_id, **obs.model_dump(mode="json")}))
            self.counts["observations"] += 1

    def profiles(self, rows: Iterable[EmployeeProfile]) -> None:
        handle = self._files[PROFILES]
        for row in rows:
            handle.write(_line(row))
            self.counts["employee_profiles"] += 1

    def finish(self, *, as_of: date, role_requirements: Iterable[RequirementProfile],
               opportunity_requirements: Iterable[RequirementProfile],
               occupation_matches: Mapping[str, Any], summary: Mapping[str, Any],
               ) -> dict[str, Any]:
        """Write the requirements, the occupation matches and the summary (with ``as_of`` and
        the row counts added, returned), then put the folder in place."""
        self._close()
        counts = {**self.counts, "requirements": _write_jsonl(self.staging / REQUIREMENTS, [
            *({"kind": "role", **p.model_dump(mode="json")} for p in role_requirements),
            *({"kind": "opportunity", **p.model_dump(mode="json")}
              for p in opportunity_requirements)])}
        (self.staging / OCCUPATION_MATCHES).write_text(
            json.dumps(dict(occupation_matches), indent=2) + "\n")
        written = {"as_of": as_of.isoformat(), **dict(summary), "rows": counts}
        (self.staging / SUMMARY).write_text(json.dumps(written, indent=2) + "\n")
        if self.folder.exists():
            shutil.rmtree(self.folder)
        self.staging.rename(self.folder)
        self._done = True
        return written


def _write_jsonl(path: Path, rows: Iterable[BaseModel | Mapping[str, Any]]) -> int:
    count = 0
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=COMPRESS_LEVEL) as handle:
        for row in rows:
            handle.write(_line(row))
            count += 1
    return count


def write_profile_artifacts(
    folder: Path, *, as_of: date, inferred: Iterable[Mapping[str, Any]],
    observations: Mapping[str, Iterable[Observation]], profiles: Iterable[EmployeeProfile],
    role_requirements: Iterable[RequirementProfile],
    opportunity_requirements: Iterable[RequirementProfile],
    occupation_matches: Mapping[str, Any], summary: Mapping[str, Any],
) -> dict[str, Any]:
    """Write the whole layout to ``folder`` atomically (`ProfileArtifactWriter` over rows at
    hand; observations by employee id); returns the summary written."""
    with ProfileArtifactWriter(folder) as writer:
        writer.inferred(inferred)
        for employee_id, items in sorted(observations.items()):
            writer.observations(employee_id, items)
        writer.profiles(profiles)
        return writer.finish(as_of=as_of, role_requirements=role_requirements,
                             opportunity_requirements=opportunity_requirements,
                             occupation_matches=occupation_matches, summary=summary)
