"""A small real serving pipeline in a folder: store, profiles, a LightGBM ranker trained on real
point-in-time rows, and a bundle written with ``write_bundle`` (profiles included).

``make_org()`` is extended with protected attributes (two sexes x two groups, so re-ranking has
something to do), ESCO-style skill labels in the ``skills`` table, a recruiter owning an open
``open_role`` opening, an opportunity the employee under test owns, and a filled opportunity.
Every role and open opportunity also asks for one skill everyone has some evidence of
(`COMMON_SKILL`, like "communication" in a real catalog), so that the lists' relevance rule
(an item shares a required skill with the person) leaves this 60-person world lists as long as
the tests need; `tests/unit/test_pipeline.py` tests the rule itself.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import lightgbm as lgb

from features import tables as t
from features.domain import (
    EvidenceKind,
    OpportunityKind,
    OpportunityStatus,
    Organization,
    ProtectedAttributes,
    Requirement,
    RequirementProfile,
    Sex,
)
from features.ranking import FEATURE_NAMES
from features.ranking_history import basic_profile, basic_requirements, history_before
from features.store import Store
from inference.artifacts.bundle import ModelBundle, load_bundle, write_bundle
from inference.artifacts.profiles import PROFILES, REQUIREMENTS, SUMMARY
from tests.support.factories import FAMILIES, SKILLS, make_evidence, make_opportunity, make_org
from tests.support.params_factory import serving_policy
from training.ranking.dataset import build_dataset

AS_OF = date(2024, 1, 1)
"""Profile snapshot date (make_org's history runs 2021-2023; its open opportunities are posted
on 2024-01-01)."""
RECRUITER = "e001"
OWNER = "e004"
"""An employee who owns an open project (it must not be recommended to them)."""
OWN_PROJECT = "own-project"
FILLED = "filled-opening"
ROLE = "role-engineering-2"
"""The role the recruiter owns an open opening for."""
RACES = ("Group A", "Group B")
COMMON_SKILL = SKILLS[39]
"""A skill every role and open opportunity asks for and everyone has been endorsed on once."""
WORLD_SERVING = {"candidate_min_shared_skills": 1}
"""This world's candidate pools rest on `COMMON_SKILL`, so that the re-ranking has groups to
balance at 60 people: one shared skill lists a candidate here. The shipped two-skill rule is
tested in tests/unit/test_pipeline.py and measured on the demo (docs/live.md, "Relevance")."""


@dataclass(frozen=True)
class ServingWorld:
    org: Organization
    url: str
    bundle_dir: Path

    def store(self) -> Store:
        return Store(self.url)

    def bundle(self, rerank: dict[str, Any] | None = None) -> ModelBundle:
        """The world's bundle; ``rerank`` changes its re-ranking policy (in memory)."""
        bundle = load_bundle(self.bundle_dir, model_version="1")
        if rerank is None:
            return bundle
        return bundle.with_policy(serving_policy(AS_OF, WORLD_SERVING, **rerank))


def with_protected(org: Organization) -> Organization:
    """``org`` with protected attributes: two sexes x two groups, alternating by employee."""
    org.protected_attributes = [
        ProtectedAttributes(employee_id=e.id, sex=Sex.FEMALE if i % 2 else Sex.MALE,
                            race_ethnicity=RACES[(i // 2) % 2], age_band="30-39")
        for i, e in enumerate(org.employees)]
    return org


def serving_org() -> Organization:
    org = with_protected(make_org(seed=3, employees=60))
    org.employees = [e.model_copy(update={"is_recruiter": True}) if e.id == RECRUITER else e
                     for e in org.employees]
    org.opportunities = [
        o.model_copy(update={"owner_id": RECRUITER, "role_id": ROLE, "level": 2,
                             "kind": OpportunityKind.OPEN_ROLE})
        if o.id == "open-0" else o for o in org.opportunities]
    owner = next(e for e in org.employees if e.id == OWNER)
    org.opportunities += [
        make_opportunity(id=OWN_PROJECT, kind=OpportunityKind.PROJECT, title="Own project",
                         level=owner.level, owner_id=OWNER, posted_on=AS_OF,
                         skill_uris=FAMILIES["engineering"][1][:3]),
        make_opportunity(id=FILLED, kind=OpportunityKind.PROJECT, title="Filled project",
                         level=owner.level, status=OpportunityStatus.FILLED,
                         posted_on=AS_OF - timedelta(days=40),
                         skill_uris=FAMILIES["engineering"][1][:3]),
    ]
    org.evidence += [
        make_evidence(id=f"ev-common-{e.id}", employee_id=e.id,
                      kind=EvidenceKind.MANAGER_ENDORSEMENT, skill_uri=COMMON_SKILL, rating=3,
                      occurred_on=max(e.hired_on, AS_OF - timedelta(days=400)))
        for e in org.employees]
    org.opportunities = [
        o.model_copy(update={"skill_uris": (*o.skill_uris, COMMON_SKILL)})
        if o.status is OpportunityStatus.OPEN else o for o in org.opportunities]
    return org


def role_requirements(org: Organization) -> list[RequirementProfile]:
    out = []
    for role in org.roles:
        skills = FAMILIES[role.job_family][1]
        out.append(RequirementProfile(subject_id=role.id, requirements=(*(
            Requirement(skill_uri=uri, importance=1.0 - 0.08 * i, level=0.3 + 0.1 * role.level,
                        essential=i < 2) for i, uri in enumerate(skills[:6])),
            Requirement(skill_uri=COMMON_SKILL, importance=0.3, level=0.2))))
    return out


def write_profiles(org: Organization, folder: Path) -> dict[str, Path]:
    """Current profiles and requirement profiles in the ``waypoint skills profiles`` format."""
    folder.mkdir(parents=True, exist_ok=True)
    courses = {c.id: c for c in org.courses}
    with gzip.open(folder / PROFILES, "wt", encoding="utf-8") as handle:
        for emp in org.employees:
            evidence = [ev for ev in org.evidence if ev.employee_id == emp.id]
            profile = basic_profile(emp.id, history_before(AS_OF, evidence), courses, as_of=AS_OF)
            handle.write(json.dumps(profile.model_dump(mode="json")) + "\n")
    with gzip.open(folder / REQUIREMENTS, "wt", encoding="utf-8") as handle:
        for reqs in role_requirements(org):
            handle.write(json.dumps({"kind": "role", **reqs.model_dump(mode="json")}) + "\n")
        for opp in org.opportunities:
            reqs = basic_requirements(opp)
            handle.write(json.dumps({"kind": "opportunity", **reqs.model_dump(mode="json")})
                         + "\n")
    (folder / SUMMARY).write_text(json.dumps({"as_of": AS_OF.isoformat()}) + "\n")
    return {f"profiles/{name}": folder / name for name in (PROFILES, REQUIREMENTS, SUMMARY)}


def train_ranker(org: Organization, seed: int = 0) -> lgb.Booster:
    """A tiny LambdaRank model on real point-in-time rows of ``org``'s history."""
    data = build_dataset(org, negatives=8, random_negatives=2, seed=seed)
    train = lgb.Dataset(data.features, label=data.labels, group=data.group_sizes,
                        feature_name=list(FEATURE_NAMES))
    return lgb.train({"objective": "lambdarank", "verbose": -1, "num_leaves": 7,
                      "min_data_in_leaf": 5, "seed": seed, "num_threads": 1}, train,
                     num_boost_round=20)


def skill_label(uri: str) -> str:
    return f"Skill {uri.rsplit('/', 1)[-1].upper()}"


def fill_store(url: str, org: Organization) -> None:
    store = Store(url)
    store.create_schema()
    store.replace_organization(org, version="serving-test")
    with store.engine.begin() as conn:
        conn.execute(t.skills.insert(), [
            {"uri": uri, "label": skill_label(uri), "alt_labels": [], "hidden_labels": [],
             "description": "", "skill_type": "skill/competence", "reuse_level": ""}
            for uri in SKILLS])
    store.dispose()


def build_world(folder: Path, seed: int = 0) -> ServingWorld:
    org = serving_org()
    url = f"sqlite:///{folder / 'waypoint.db'}"
    fill_store(url, org)
    extra = write_profiles(org, folder / "profiles")
    bundle_dir = folder / "bundle"
    write_bundle(bundle_dir, model_name="waypoint-ranker", ranker=train_ranker(org, seed),
                 feature_names=FEATURE_NAMES, encoder="test", data_versions={"organization": "t"},
                 extra_files=extra, metrics={"ndcg_at_10": 0.5},
                 policy=serving_policy(AS_OF, WORLD_SERVING))
    return ServingWorld(org=org, url=url, bundle_dir=bundle_dir)


def write_world_bundle(world: ServingWorld, target: Path, seed: int) -> Path:
    """Another bundle over the same world (a retrained model)."""
    extra = write_profiles(world.org, target.parent / f"profiles-{seed}")
    write_bundle(target, model_name="waypoint-ranker", ranker=train_ranker(world.org, seed),
                 feature_names=FEATURE_NAMES, encoder="test", data_versions={"organization": "t"},
                 extra_files=extra, metrics={"ndcg_at_10": 0.5},
                 policy=serving_policy(AS_OF, WORLD_SERVING))
    return target


PROTECTED_WORDS = ("female", "male", "group a", "group b", "30-39", "race", "sex", "age_band",
                   "ethnicity")


def open_opportunity_ids(org: Organization) -> set[str]:
    return {o.id for o in org.opportunities if o.status is OpportunityStatus.OPEN}


def own_role_openings(org: Organization, role_id: str) -> set[str]:
    return {o.id for o in org.opportunities if o.role_id == role_id}

