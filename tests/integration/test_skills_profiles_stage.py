"""``waypoint skills profiles`` end to end on a tiny store, with a real (small) engine."""

from __future__ import annotations

import gzip
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from features.store import Store
from inference.skills.engine import SkillEngine
from tests.support.params_factory import profile_params
from tests.support.reference_factory import write_reference_dataset
from tests.support.skills_factory import uri_of
from tests.support.store_factory import PYTHON, tiny_organization
from training.skills.profiles import build_all_profiles

pytestmark = pytest.mark.model


def read(path: Path) -> list[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def test_profiles_stage_writes_profiles_as_of_a_date(tmp_path: Path, sqlite_url: str,
                                                     small_skill_engine: SkillEngine) -> None:
    store = Store(sqlite_url)
    store.create_schema()
    store.replace_organization(tiny_organization(), version="t")
    data_dir = write_reference_dataset(tmp_path / "ref")
    out = tmp_path / "profiles"
    summary = build_all_profiles(store, small_skill_engine, data_dir, date(2026, 1, 1), out,
                                 profile_params())
    assert summary["as_of"] == "2026-01-01"
    assert {p.name for p in out.iterdir()} >= {
        "inferred_skills.jsonl.gz", "observations.jsonl.gz", "employee_profiles.jsonl.gz",
        "requirements.jsonl.gz", "summary.json", "occupation_matches.json"}

    profiles = {p["employee_id"]: p for p in read(out / "employee_profiles.jsonl.gz")}
    ada = {e["skill_uri"]: e for e in profiles["e1"]["entries"]}
    python = ada[uri_of(small_skill_engine, "Python (computer programming)")]
    assert python["evidence_ids"][0] == "v1"
    # the course completed on 2026-02-01 is after the as-of date: not in the profile
    assert all("v2" not in e["evidence_ids"] for e in ada.values())
    # a development need alone is not a held skill: observed as a need, kept out of the profile
    stakeholders = uri_of(small_skill_engine, "communicate with stakeholders")
    assert stakeholders not in ada

    inferred = {(r["kind"], r["id"]): r for r in read(out / "inferred_skills.jsonl.gz")}
    review = inferred[("evidence", "v1")]
    polarities = {s["label"]: s["polarity"] for s in review["skills"]}
    assert polarities["communicate with stakeholders"] == "development_need"

    observations = read(out / "observations.jsonl.gz")
    assert any(o["evidence_id"] == "v2" and o["skill_uri"] == PYTHON for o in observations)
    assert any(o["evidence_id"] == "v1" and o["skill_uri"] == stakeholders and o["need"]
               for o in observations)

    requirements = {(r["kind"], r["subject_id"]): r for r in read(out / "requirements.jsonl.gz")}
    opportunity = requirements[("opportunity", "o1")]["requirements"]
    assert opportunity[0]["skill_uri"] == PYTHON and opportunity[0]["importance"] == 1.0
    assert ("role", "r1") in requirements

    later = build_all_profiles(store, small_skill_engine, data_dir, date(2026, 6, 1),
                               tmp_path / "later", profile_params())
    assert later["rows"]["employee_profiles"] == 2
    ada_later = {e["skill_uri"]: e for e in
                 read(tmp_path / "later" / "employee_profiles.jsonl.gz")[0]["entries"]}
    assert "v2" in ada_later[PYTHON]["evidence_ids"]
    store.dispose()


def test_the_stage_writes_the_same_whatever_its_page_of_employees(
        tmp_path: Path, sqlite_url: str, small_skill_engine: SkillEngine) -> None:
    # the stage streams employees a page at a time (evidence, moves, observations, profiles):
    # where the pages end must not change a byte of what it writes
    store = Store(sqlite_url)
    store.create_schema()
    store.replace_organization(tiny_organization(), version="t")
    data_dir = write_reference_dataset(tmp_path / "ref")
    written = {}
    for page in (1, 2, 1000):
        out = tmp_path / f"page-{page}"
        build_all_profiles(store, small_skill_engine, data_dir, date(2026, 6, 1), out,
                           profile_params(), employee_page=page, profile_chunk=1)
        written[page] = {p.name: gzip.decompress(p.read_bytes()) for p in out.glob("*.gz")}
    assert len(written[1]) == 4 and written[1] == written[2] == written[1000]
    assert read(tmp_path / "page-1" / "employee_profiles.jsonl.gz")
    assert not list(tmp_path.glob(".inferred-texts-*"))  # the working file is gone
