"""Memory-mapped profiles (`inference.artifacts.profile_lines`) read what the profiles reader
reads, build their file once, and name the bundle's file and line when a line is bad."""

from __future__ import annotations

import gzip
import json
from datetime import date
from pathlib import Path

import pytest

from features.errors import SourceFormatError
from inference.artifacts.profile_lines import ProfileLines, shared_profiles
from inference.artifacts.profiles import PROFILES, read_profile_artifacts
from tests.support.factories import SKILLS, make_org, make_profile
from tests.support.serving_factory import write_profiles


def test_same_profiles_as_the_reader(tmp_path: Path) -> None:
    org = make_org(seed=2, employees=30)
    write_profiles(org, tmp_path / "profiles")
    expected = read_profile_artifacts(tmp_path / "profiles").employee_profiles
    mapped = ProfileLines(tmp_path / "profiles" / PROFILES, tmp_path / "arrays", "k")
    assert len(mapped) == len(expected) == 30
    assert set(mapped) == set(expected)
    assert all(mapped[k] == expected[k] for k in expected)
    assert mapped.get("nobody") is None
    built = sorted(p.name for p in (tmp_path / "arrays").iterdir())
    assert built == ["k.jsonl", "k.lock", "k.offsets.npy"]
    stamp = (tmp_path / "arrays" / "k.jsonl").stat().st_mtime_ns
    again = ProfileLines(tmp_path / "profiles" / PROFILES, tmp_path / "arrays", "k")
    assert (tmp_path / "arrays" / "k.jsonl").stat().st_mtime_ns == stamp  # mapped, not rebuilt
    assert again["e003"] == expected["e003"]


def _write(path: Path, lines: list[str]) -> None:
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


def test_blank_lines_skipped_and_bad_lines_named(tmp_path: Path) -> None:
    good = make_profile("a", as_of=date(2024, 1, 1), skills={SKILLS[0]: 0.5})
    source = tmp_path / PROFILES
    _write(source, [good.model_dump_json(), "", json.dumps({"employee_id": "b",
                                                           "as_of": "not a date"})])
    mapped = ProfileLines(source, tmp_path / "arrays", "k")
    assert mapped["a"] == good
    with pytest.raises(SourceFormatError, match=rf"{PROFILES}:3:1"):
        mapped["b"]
    _write(tmp_path / "broken.jsonl.gz", ['{"as_of": "2024-01-01"}'])
    with pytest.raises(SourceFormatError, match=r"broken\.jsonl\.gz:1:1: no employee_id"):
        ProfileLines(tmp_path / "broken.jsonl.gz", tmp_path / "arrays", "k2")


def test_shared_profiles_needs_a_digest_and_a_writable_folder(tmp_path: Path) -> None:
    source = tmp_path / PROFILES
    _write(source, [make_profile("a").model_dump_json()])
    assert shared_profiles(source, tmp_path / "arrays", None) is None
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the folder should be")
    assert shared_profiles(source, blocked, "ab" * 32) is None
    found = shared_profiles(source, tmp_path / "arrays", "ab" * 32)
    assert found is not None and list(found) == ["a"]
