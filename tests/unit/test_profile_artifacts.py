"""The profiles layout has one writer and one reader, next to each other: what one writes the
other reads, and a failed write leaves the previous profiles as they were."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from features.domain import EmployeeProfile, ProfileEntry, Requirement, RequirementProfile
from inference.artifacts.profiles import read_profile_artifacts, write_profile_artifacts

AS_OF = date(2026, 11, 1)
SKILL = "http://data.europa.eu/esco/skill/s1"


def _write(folder: Path, profiles: Iterator[EmployeeProfile] | list[EmployeeProfile]) -> None:
    write_profile_artifacts(
        folder, as_of=AS_OF, inferred=[], observations={}, profiles=profiles,
        role_requirements=[RequirementProfile(subject_id="r1", requirements=(
            Requirement(skill_uri=SKILL, importance=1.0, level=0.5, essential=True),))],
        opportunity_requirements=[], occupation_matches={}, summary={"encoder": "e"})


def test_what_the_writer_writes_the_reader_reads(tmp_path: Path) -> None:
    profile = EmployeeProfile(employee_id="e1", as_of=AS_OF, entries=(
        ProfileEntry(skill_uri=SKILL, proficiency=0.7, confidence=0.9),))
    _write(tmp_path / "profiles", [profile])
    read = read_profile_artifacts(tmp_path / "profiles")
    assert read.as_of == AS_OF and read.engine == "e"
    assert read.employee_profiles == {"e1": profile}
    assert set(read.role_requirements) == {"r1"}


def test_a_failed_write_keeps_the_previous_profiles(tmp_path: Path) -> None:
    folder = tmp_path / "profiles"
    _write(folder, [EmployeeProfile(employee_id="e1", as_of=AS_OF)])

    def broken() -> Iterator[EmployeeProfile]:
        yield EmployeeProfile(employee_id="e2", as_of=AS_OF)
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        _write(folder, broken())
    assert set(read_profile_artifacts(folder).employee_profiles) == {"e1"}
    assert [p.name for p in tmp_path.iterdir()] == ["profiles"]  # no staging folder left
