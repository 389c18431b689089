"""The serving recommender on a small real pipeline (store, profiles, a LightGBM ranker trained on
real point-in-time rows, a bundle): filters, ordering, training/serving parity, explanations,
fair re-ranking with hand-computed figures, the audit log and model reloads."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from features.domain import OpportunityKind, ProtectedAttributes, Sex
from features.ranking import (
    ASPIRATION_RELEVANT,
    FEATURE_NAMES,
    aspiration_tokens,
    aspiration_words,
    target_from_opportunity,
)
from features.ranking_explain import SAME_FACT
from features.store import Store
from inference.artifacts.bundle import BundleError, load_bundle
from inference.fairness.serving import OTHER_GROUPS, fair_candidate_order
from inference.ranking.explain import ASPIRATION, HELD_SKILLS, PREFERRED_PLACE
from inference.ranking.recommender import Recommender, UnknownSubject
from inference.serving.audit_log import ServedListLog, served_list
from inference.serving.model import NoChampion, ServingModel
from tests.support.factories import make_employee
from tests.support.params_factory import rerank_policy
from tests.support.serving_factory import (
    FILLED,
    OWN_PROJECT,
    OWNER,
    PROTECTED_WORDS,
    ROLE,
    ServingWorld,
    build_world,
    open_opportunity_ids,
    skill_label,
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> ServingWorld:
    return build_world(tmp_path_factory.mktemp("serving"))


@pytest.fixture(scope="module")
def recommender(world: ServingWorld) -> Iterator[Recommender]:
    store = world.store()
    yield Recommender(world.bundle(rerank={"k": 10, "min_cell": 3}), store)
    store.dispose()


def test_recommendations_are_open_not_own_role_not_owned(world: ServingWorld,
                                                         recommender: Recommender) -> None:
    open_ids = open_opportunity_ids(world.org)
    served = 0
    for emp in world.org.employees:
        result = recommender.recommend(emp.id, limit=100)
        ids = [i.opportunity_id for i in result.items]
        served += len(ids)
        assert set(ids) <= open_ids
        assert FILLED not in ids
        assert all(i.role_id != emp.role_id for i in result.items)
        if emp.id == OWNER:
            assert OWN_PROJECT not in ids
    assert served > 0
    others = [e for e in world.org.employees
              if e.id != OWNER and abs(e.level - recommender.employees[OWNER].level) <= 1]
    assert any(OWN_PROJECT in [i.opportunity_id for i in recommender.recommend(e.id).items]
               for e in others), "the owned project is recommended to others"


def test_scores_ordered_and_explained(world: ServingWorld, recommender: Recommender) -> None:
    evidence = {ev.id: ev.employee_id for ev in world.org.evidence}
    explained = 0
    for emp in world.org.employees[:20]:
        items = recommender.recommend(emp.id, limit=10).items
        assert len(items) <= 10
        assert [i.rank for i in items] == list(range(1, len(items) + 1))
        scores = [i.score for i in items]
        assert scores == sorted(scores, reverse=True)
        for item in items:
            assert item.matched_skills or item.missing_skills
            explained += bool(item.reasons)
            for reason in item.reasons:  # the model's reasons, or a fact (contribution 0)
                assert reason.text and (reason.contribution > 0 or reason.feature in (
                    HELD_SKILLS, PREFERRED_PLACE, ASPIRATION))
            for skill in item.matched_skills:
                assert skill.label == skill_label(skill.uri)
                assert skill.proficiency >= skill.required_level
                assert skill.evidence_ids and all(evidence[e] == emp.id
                                                  for e in skill.evidence_ids)
            for missing in item.missing_skills:
                assert missing.current_level < missing.required_level
            for course in item.courses:
                assert set(course.skill_uris) <= {m.uri for m in item.missing_skills}
    assert explained > 0


def test_serving_features_equal_the_training_path(world: ServingWorld,
                                                 recommender: Recommender) -> None:
    """No training/serving skew: for a decision on the serving date, the training path
    (`build_dataset` over the organization read from the store, the requirement profiles read
    from the bundle's files, a fresh vectorizer, the career-changer table) computes the same
    feature rows serving computes for the same employee, opportunity and date, and the served
    score is the ranker's score of that row."""
    from features.store import Store
    from inference.artifacts.profiles import read_profile_artifacts
    from inference.retrieval.indexes import SkillProfileVectorizer
    from training.ranking.dataset import Query, build_dataset
    from training.ranking.stage import career_adjacency

    store = Store(world.url)
    org = store.organization()
    artifacts = read_profile_artifacts(world.bundle_dir / "profiles")
    roles = {r.id: r for r in org.roles}
    checked = 0
    for emp_id in ("e010", "e020", "e031"):
        slate = recommender.scored_opportunities(emp_id).top(5)
        for row, served_features, served_score in zip(
                slate.rows, slate.features, slate.scores.tolist(), strict=True):
            opp = recommender.opportunities[row]
            query = Query(id=f"{emp_id}:{opp.id}", as_of=recommender.as_of,
                          target=target_from_opportunity(opp, roles),
                          requirements=artifacts.opportunity_requirements[opp.id],
                          grades={emp_id: 1})
            data = build_dataset(org, queries=[query], vectorizer=SkillProfileVectorizer(),
                                 adjacency=career_adjacency(store), negatives=0,
                                 random_negatives=0)
            assert data.employee_ids == [emp_id]
            # the one deliberate difference: a past decision cannot read today's undated
            # aspiration (features.ranking_history.employee_as_of), serving can
            asp = FEATURE_NAMES.index("aspiration_match")
            assert data.features[0, asp] == 0.0
            same = np.arange(len(FEATURE_NAMES)) != asp
            np.testing.assert_allclose(data.features[0, same], served_features[same], rtol=0,
                                       atol=1e-9)
            # ... and a model trained without it never splits on it: the same score
            expected = float(world.bundle().ranker.predict(served_features[None, :])[0])
            assert float(world.bundle().ranker.predict(data.features[:1])[0]) == pytest.approx(
                expected, abs=1e-9)
            assert served_score == pytest.approx(expected, abs=1e-9)
            checked += 1
    assert checked >= 10
    store.dispose()


RAW_FRACTION = re.compile(r"\(-?\d*\.\d+\)")
"""A bare decimal in brackets: a similarity, gap or confidence shown as a number."""


def test_reasons_are_true_of_their_items(world: ServingWorld,
                                         recommender: Recommender) -> None:
    checked = 0
    roles = {r.id: r for r in world.org.roles}
    for emp in world.org.employees[:30]:
        for item in recommender.recommend(emp.id, limit=10).items:
            opp = next(o for o in recommender.opportunities if o.id == item.opportunity_id)
            essentials = any(r.essential for r in recommender.open_opportunities()[
                recommender.opportunities.index(opp)][1].requirements)
            facts = [SAME_FACT.get(r.feature, r.feature) for r in item.reasons]
            assert len(facts) == len(set(facts)), [r.text for r in item.reasons]  # one per fact
            assert item.reasons, item.title  # a held skill or an aspiration: say which
            wish = aspiration_tokens(emp.aspirations, roles[emp.role_id].title)
            named = aspiration_words(target_from_opportunity(opp, roles))
            for reason in item.reasons:
                checked += 1
                # no raw feature value a person cannot read ("close to this one (0.62)")
                assert not RAW_FRACTION.search(reason.text), reason.text
                if reason.feature == HELD_SKILLS:
                    held = int(reason.text.split()[3])  # "You already have N of the M skills"
                    assert item.matched_skills and held >= len(item.matched_skills) > 0
                    assert item.matched_skills[0].label in reason.text
                if reason.feature in ("essential_coverage", "missing_essentials"):
                    assert essentials, (item.title, reason.text)
                if reason.feature == ASPIRATION:  # half its words name the item, not its prose
                    assert len(wish & named) >= ASPIRATION_RELEVANT * len(wish) > 0, item.title
                if reason.feature == "same_location":
                    assert opp.location == emp.location, (item.title, reason.text)
    for candidate in recommender.candidates(ROLE, limit=10).items:
        assert all(r.feature != "same_location" for r in candidate.reasons)  # roles: no place
        assert candidate.reasons or not candidate.matched_skills
        assert all(r.text.startswith("They") for r in candidate.reasons
                   if r.feature == HELD_SKILLS)
    assert checked > 0


def test_kinds_and_limit(recommender: Recommender) -> None:
    for emp_id in ("e010", "e020", "e030"):
        projects = recommender.recommend(emp_id, [OpportunityKind.PROJECT], limit=50)
        assert projects.kinds == [OpportunityKind.PROJECT]
        assert all(i.kind is OpportunityKind.PROJECT for i in projects.items)
        assert len(recommender.recommend(emp_id, limit=2).items) <= 2
    with pytest.raises(UnknownSubject):
        recommender.recommend("nobody")


def test_candidates_are_discoverable_non_holders(world: ServingWorld,
                                                 recommender: Recommender) -> None:
    result = recommender.candidates(ROLE, limit=10)
    assert 0 < len(result.items) <= 10
    people = {e.id: e for e in world.org.employees}
    for item in result.items:
        assert people[item.employee_id].discoverable
        assert people[item.employee_id].role_id != ROLE
        assert item.reasons == [] or all("You" not in r.text for r in item.reasons)
    assert [i.rank for i in result.items] == list(range(1, len(result.items) + 1))
    by_model = sorted(result.items, key=lambda i: i.model_rank)
    assert [i.score for i in by_model] == sorted((i.score for i in by_model), reverse=True)
    fairness = result.fairness
    assert fairness is not None and fairness.rerank_enabled
    assert fairness.prefix_floor_violations == 0
    assert fairness.list_size == len(result.items)
    assert sum(g.list_count for g in fairness.groups) == fairness.list_size
    assert sum(g.pool_count for g in fairness.groups) == fairness.pool_size
    blob = fairness.model_dump_json()
    assert not any(i.employee_id in blob for i in result.items)
    for item in result.items:
        assert not any(w in item.model_dump_json().lower() for w in PROTECTED_WORDS)
    with pytest.raises(UnknownSubject):
        recommender.candidates("no-role")


def test_candidates_use_the_bundles_rerank_offsets(world: ServingWorld, tmp_path: Path) -> None:
    # the same model with offsets in its manifest: a large offset for women puts them ahead
    # of every man the floors do not require (floors off: floor_ratio ~ 0)
    target = tmp_path / "bundle-offsets"
    shutil.copytree(world.bundle_dir, target)
    manifest = json.loads((target / "manifest.json").read_text())
    manifest["rerank_offsets"] = {"sex": {"female": 10.0}}
    (target / "manifest.json").write_text(json.dumps(manifest))
    config = {"dimension": "sex", "k": 10, "min_cell": 1, "ceilings": False, "floor_ratio": 1e-9}
    plain = Recommender(world.bundle(rerank=config), world.store()).candidates(ROLE, limit=10)
    lifted_bundle = load_bundle(target, model_version="1")
    lifted = Recommender(lifted_bundle.with_policy(world.bundle(rerank=config).manifest.policy),
                         world.store()).candidates(ROLE, limit=10)
    sex = {p.employee_id: p.sex.value for p in world.org.protected_attributes}
    women = [i for i in lifted.items if sex[i.employee_id] == "female"]
    assert women, "the pool has women"
    first = [sex[i.employee_id] for i in lifted.items]
    assert first == sorted(first, key=lambda v: v != "female")  # every woman before any man
    assert [i.employee_id for i in lifted.items] != [i.employee_id for i in plain.items]
    assert lifted.fairness is not None and lifted.fairness.moved_positions > 0


# --------------------------------------------------------------------------- fair re-ranking


def _pool_store(tmp_path: Path, n_per_group: int) -> tuple[Store, list[str]]:
    """A store where m1..mN are male and f1..fN female; ranked males first."""
    from features import tables as t

    store = Store(f"sqlite:///{tmp_path / 'pool.db'}")
    store.create_schema()
    males = [f"m{i}" for i in range(1, n_per_group + 1)]
    females = [f"f{i}" for i in range(1, n_per_group + 1)]
    with store.engine.begin() as conn:
        conn.execute(t.departments.insert(), [{"id": "dept-eng", "name": "Engineering"}])
        conn.execute(t.roles.insert(), [{"id": "role-1", "title": "R", "onet_code": None,
                                         "level": 2, "job_family": "x",
                                         "department_id": "dept-eng", "description": ""}])
        conn.execute(t.employees.insert(), [
            make_employee(id=i).model_dump(mode="python") for i in males + females])
        conn.execute(t.protected_attributes.insert(), [
            ProtectedAttributes(employee_id=i, sex=Sex.MALE if i[0] == "m" else Sex.FEMALE,
                                race_ethnicity="unknown", age_band="30-39").model_dump(
                mode="json") for i in males + females])
    return store, males + females


def test_fair_order_and_figures_by_hand(tmp_path: Path) -> None:
    store, ranked = _pool_store(tmp_path, 4)
    config = rerank_policy(dimension="sex", k=4, min_cell=1, ceilings=True, floor_ratio=1.0)
    order, figures = fair_candidate_order(store.engine, ranked, 4, config, 0.02)
    # shares 1/2 each: floors p=2 -> 1, p=4 -> 2 female; the best-ranked feasible head wins
    assert order == ["m1", "f1", "m2", "f2", "m3", "m4", "f3", "f4"]
    assert figures.pool_size == 8 and figures.list_size == 4
    groups = {g.group: g for g in figures.groups}
    assert groups["male"].list_count == 2 and groups["male"].list_count_before_rerank == 4
    assert groups["female"].list_count == 2 and groups["female"].list_count_before_rerank == 0
    assert groups["female"].pool_share == 0.5 and groups["female"].list_share == 0.5
    assert groups["female"].selection_rate == 0.5
    assert groups["female"].impact_ratio == 1.0 and figures.min_impact_ratio == 1.0
    assert figures.reordered and figures.moved_positions == 3
    assert figures.prefix_floor_violations == 0

    off = rerank_policy(dimension="sex", k=4, min_cell=1, enabled=False, ceilings=True,
                        floor_ratio=1.0)
    order, figures = fair_candidate_order(store.engine, ranked, 4, off, 0.02)
    assert order == ranked
    groups = {g.group: g for g in figures.groups}
    assert groups["female"].list_count == 0 and groups["female"].impact_ratio == 0.0
    assert figures.min_impact_ratio == 0.0 and not figures.reordered
    assert figures.prefix_floor_violations > 0
    store.dispose()


def test_offsets_lift_a_group_before_the_floors_by_hand(tmp_path: Path) -> None:
    store, ranked = _pool_store(tmp_path, 4)  # m1..m4 then f1..f4 (model order)
    config = rerank_policy(dimension="sex", k=4, min_cell=1, floor_ratio=0.5, ceilings=False)
    # scores 8..1: mean 4.5, sd sqrt(5.25) = 2.291; f1 (4) sits 0.436 sd under m4 (5) and
    # 1.309 sd under m1 (7). An offset of +0.5 sd for women puts f1 (z -0.218 + 0.5 = 0.282)
    # above m4 (z 0.218) but under m3 (z 0.655): order m1 m2 m3 f1 m4 f2 ...
    scores = [8.0, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0]
    order, figures = fair_candidate_order(store.engine, ranked, 4, config, 0.02, scores=scores,
                                          offsets={"female": 0.5})
    assert order[:5] == ["m1", "m2", "m3", "f1", "m4"]
    assert figures.reordered and figures.prefix_floor_violations == 0
    # without offsets the floors at half of proportional need one woman by position 4 too
    plain, _ = fair_candidate_order(store.engine, ranked, 4, config, 0.02, scores=scores,
                                    offsets={})
    assert plain[:4] == ["m1", "m2", "m3", "f1"]
    # a big offset puts every woman first; the floors (men >= floor(p / 4)) bring m1 in at 4
    order, _ = fair_candidate_order(store.engine, ranked, 4, config, 0.02, scores=scores,
                                    offsets={"female": 5.0})
    assert order[:4] == ["f1", "f2", "f3", "m1"]
    with pytest.raises(ValueError, match="together"):
        fair_candidate_order(store.engine, ranked, 4, config, 0.02, scores=scores)


def test_small_cells_are_merged(tmp_path: Path) -> None:
    store, ranked = _pool_store(tmp_path, 4)
    policy = rerank_policy(dimension="sex", k=4, min_cell=5, ceilings=True, floor_ratio=1.0)
    _, figures = fair_candidate_order(store.engine, ranked, 4, policy, 0.02)
    assert [g.group for g in figures.groups] == [OTHER_GROUPS]
    assert figures.groups[0].pool_count == 8
    store.dispose()


# --------------------------------------------------------------------------- audit log


def test_served_lists_survive_a_new_store_and_failures_do_not_raise(
        world: ServingWorld, recommender: Recommender, tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'audit.db'}")
    store.create_schema()
    audit = ServedListLog(store)
    result = recommender.candidates(ROLE, limit=5)
    assert result.fairness is not None
    fairness = result.fairness.model_dump(mode="json")
    for _ in range(200):
        record = served_list(user_id="e001", requester_role="recruiter", endpoint="candidates",
                             subject_id=ROLE, model_version=result.model_version,
                             items=[(i.employee_id, i.score) for i in result.items],
                             fairness=fairness)
        audit.record(record)
    audit.close()
    assert audit.written == 200 and audit.failed == 0

    rows = Store(store.url).served_lists(since=datetime.now(UTC) - timedelta(minutes=5))
    assert len(rows) == 200
    row = rows[-1]
    assert row.id == record.id and row.endpoint == "candidates" and row.subject_id == ROLE
    assert [i.id for i in row.items] == [i.employee_id for i in result.items]
    assert row.fairness == fairness
    people = json.dumps(row.model_dump(mode="json")["items"]).lower()
    assert not any(w in people for w in PROTECTED_WORDS)
    assert not any(i.employee_id in json.dumps(row.fairness) for i in result.items)
    assert Store(store.url).served_lists(since=datetime.now(UTC) + timedelta(minutes=1)) == []

    broken = ServedListLog(Store(f"sqlite:///{tmp_path / 'no-schema.db'}"))
    assert broken.record(record) == record.id  # no table: the write fails, the caller does not
    broken.flush()
    assert broken.failed == 1 and broken.written == 0
    broken.close()
    store.dispose()


# --------------------------------------------------------------------------- reloads


def test_failed_reload_keeps_the_serving_recommender(world: ServingWorld, tmp_path: Path) -> None:
    store = world.store()
    source = {"path": world.bundle_dir}

    def load() -> Recommender:
        return Recommender(load_bundle(source["path"], model_version="7"), store)

    serving = ServingModel(load)
    assert serving.state == "unavailable" and serving.current is None
    first = serving.reload()
    assert serving.state == "ready" and serving.status().model_version == "7"
    source["path"] = tmp_path / "missing"
    with pytest.raises(BundleError):
        serving.reload()
    assert serving.current is first
    status = serving.status()
    assert status.model_version == "7" and status.last_error is not None
    assert np.isfinite(first.recommend("e010").items[0].score)

    def no_champion() -> Recommender:
        raise NoChampion("no champion model: run dvc repro")

    empty = ServingModel(no_champion)
    empty.load_in_background().join(10)
    assert empty.wait(1) and empty.state == "unavailable"
    assert "no champion" in (empty.status().last_error or "")
    store.dispose()


def test_an_opportunity_whose_owner_left_is_not_offered(tmp_path: Path) -> None:
    from datetime import date

    from features import tables as t

    world = build_world(tmp_path)
    store = world.store()
    before = {o.id for o in Recommender(world.bundle(), store).opportunities}
    assert OWN_PROJECT in before
    with store.engine.begin() as conn:  # what an import marking the departure writes
        conn.execute(t.employee_departures.insert(), [
            {"employee_id": OWNER, "left_on": date(2023, 12, 1), "source": "file"}])
    after = {o.id for o in Recommender(world.bundle(), store).opportunities}
    assert after == before - {OWN_PROJECT}  # nobody would answer an application to it
    store.dispose()
