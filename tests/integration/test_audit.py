"""The audit stage's assembly (hand-checked), the gate on a biased ranker, and mitigation."""

from __future__ import annotations

import math
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from features.params import RankerParams, load_params
from features.ranking import FEATURE_NAMES
from inference.fairness.groups import INTERSECTION, RACE, SEX, protected_groupings
from inference.fairness.models import iter_impact_ratios
from tests.support.factories import make_org
from tests.support.params_factory import audit_settings, ranker_params
from training.fairness.audit import (
    AuditSettings,
    build_audit,
    fit_rerank_offsets,
    mean_ndcg,
    ranked_lists,
    read_audit_settings,
)
from training.fairness.employee_lists import employee_recommendations, with_score_percentiles
from training.fairness.mitigation import (
    MitigationSettings,
    chosen_rates,
    massage_labels,
    neutralize_features,
    train_mitigated,
)
from training.ranking.dataset import RankingDataset, build_dataset
from training.ranking.ranker import time_split


def _dataset(rows: list[tuple[str, str, int]]) -> RankingDataset:
    """``(query id, employee id, grade)`` rows, queries contiguous, one feature column used."""
    qids = list(dict.fromkeys(q for q, _, _ in rows))
    sizes = np.array([sum(1 for q, _, _ in rows if q == x) for x in qids], dtype=np.int32)
    return RankingDataset(
        features=np.zeros((len(rows), len(FEATURE_NAMES))),
        labels=np.array([g for _, _, g in rows], dtype=np.int32), group_sizes=sizes,
        query_ids=qids, query_dates=[date(2025, 1, 1) + timedelta(i) for i in range(len(qids))],
        employee_ids=[e for _, e, _ in rows])


# Two lists of four; "f*" are female, "m*" male. Scores rank men first in both lists.
ROWS = [("q1", "f1", 2), ("q1", "m1", 0), ("q1", "f2", 1), ("q1", "m2", 0),
        ("q2", "m3", 0), ("q2", "f3", 0), ("q2", "m4", 1), ("q2", "f4", 3)]
SCORES = np.array([0.2, 0.9, 0.1, 0.8, 0.7, 0.3, 0.6, 0.4])
SEXES = {e: ("female" if e.startswith("f") else "male") for _, e, _ in ROWS}
GROUPS = {SEX: SEXES, RACE: dict.fromkeys(SEXES, "unknown"),
          INTERSECTION: {e: f"{s} | unknown" for e, s in SEXES.items()}}


CODE_DEFAULTS = {"ceilings": True, "floor_ratio": 1.0, "offsets": {"fit": False}}
"""The re-ranking these hand-computed cases were written for: exact floors with ceilings."""


def _settings(rerank: bool, k: int = 2) -> AuditSettings:
    return audit_settings(k=k, median_scope="list", small_group_threshold=0.0,
                          rerank=dict(enabled=rerank, dimension=SEX, k=k, **CODE_DEFAULTS))


def test_ranked_lists_by_hand() -> None:
    lists, relevance = ranked_lists(_dataset(ROWS), SCORES)
    assert [rl.ids for rl in lists] == [("m1", "m2", "f1", "f2"), ("m3", "m4", "f4", "f3")]
    assert relevance[1] == {"m3": 0.0, "f3": 0.0, "m4": 1.0, "f4": 3.0}
    with pytest.raises(ValueError):
        ranked_lists(_dataset(ROWS), SCORES[:3])


def test_audit_without_rerank_by_hand() -> None:
    result = build_audit(_dataset(ROWS), SCORES, GROUPS, _settings(rerank=False))
    sex = {d.dimension: d for d in result.audit.candidate_lists.dimensions}[SEX]  # type: ignore[union-attr]
    rates = {g.group: (g.selection_rate, g.selection_impact_ratio, g.scoring_rate)
             for g in sex.groups}
    # top 2 of each list are men: women 0 of 4 selected; median per list: men above it
    assert rates["male"] == (1.0, 1.0, 1.0)
    assert rates["female"] == (0.0, 0.0, 0.0)
    assert not result.passed and result.min_impact_ratio() == 0.0
    # exposure: men hold ranks 1-2 of each list, women 3-4 (k = 2: women's exposure is 0)
    ranking = {d.dimension: d for d in result.audit.rankings.dimensions}[SEX]  # type: ignore[union-attr]
    female = next(g for g in ranking.groups if g.group == "female")
    assert female.exposure == 0.0 and female.exposure_impact_ratio == 0.0
    # no re-ranking: NDCG@2 unchanged; q1 shows two grade-0 rows (0); q2 shows grades 0, 1
    # against the ideal 3, 1: (1 / log2(3)) / (7 + 1 / log2(3))
    ndcg = result.audit.ndcg
    assert ndcg is not None and ndcg.delta == 0.0
    q2 = (1 / math.log2(3)) / (7 + 1 / math.log2(3))
    assert ndcg.before == pytest.approx((0.0 + q2) / 2)


def test_rerank_is_the_served_order_and_costs_ndcg_by_hand() -> None:
    result = build_audit(_dataset(ROWS), SCORES, GROUPS, _settings(rerank=True))
    # floors at k = 2 with half women in each pool: one woman in the top 2, at rank 2
    assert [rl.ids for rl in result.lists.served] == [("m1", "f1", "m2", "f2"),
                                                     ("m3", "f4", "m4", "f3")]
    sex = result.audit.candidate_lists.dimensions[0]  # type: ignore[union-attr]
    assert {g.group: g.selection_impact_ratio for g in sex.groups} == {"male": 1.0,
                                                                      "female": 1.0}
    # re-ranking moves the movers up here: NDCG rises
    after = mean_ndcg(result.lists.served, result.lists.relevance, 2)
    assert result.audit.ndcg is not None and result.audit.ndcg.after == pytest.approx(after)
    assert result.audit.ndcg.after > result.audit.ndcg.before
    # scoring rates are the model's scores: re-ranking does not change them
    assert {g.group: g.scoring_rate for g in sex.groups} == {"male": 1.0, "female": 0.0}


def test_every_impact_ratio_key_in_json() -> None:
    result = build_audit(_dataset(ROWS), SCORES, GROUPS, _settings(rerank=True))
    doc = result.audit.model_dump(mode="json")
    keys: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if "impact_ratio" in k and not isinstance(v, dict | list):
                    keys.append(k)
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(doc)
    per_group = [f for f in iter_impact_ratios(result.audit)]
    assert len([k for k in keys if not k.startswith("min_")]) == len(per_group)


def test_settings_from_params(tmp_path: Path) -> None:
    s = read_audit_settings()
    assert s.rerank == load_params().fairness.rerank and s.fitted_offsets == {}
    assert MitigationSettings.from_params(s.mitigation, s.small_group_threshold).massages
    with pytest.raises(ValueError):
        MitigationSettings.from_params(s.mitigation.model_copy(
            update={"drop_features": ("sex",)}), 0.02)


# --------------------------------------------------------------------------- mitigation


def test_massage_equalizes_chosen_rates_by_hand() -> None:
    # women: 4 applicants, 1 chosen (25%); men: 4 applicants, 2 chosen (50%)
    rows = [("q", "f1", 2), ("q", "f2", 1), ("q", "f3", 1), ("q", "f4", 1),
            ("r", "m1", 2), ("r", "m2", 2), ("r", "m3", 1), ("r", "m4", 1), ("r", "m5", 0)]
    data = _dataset(rows)
    sexes = {e: ("female" if e.startswith("f") else "male") for _, e, _ in rows}
    assert chosen_rates(data, sexes)["female"]["chosen_rate"] == 0.25
    scores = np.array([0.0, 0.1, 0.9, 0.5, 0, 0, 0, 0, 0])
    massaged, promoted = massage_labels(data, sexes, scores, small_group_threshold=0.0)
    # considered: women 4/4, men 4/5 -> (1 - 0.8) * 5 = 1 man (m5, the only one) -> applied;
    # chosen: women 1/4, men now 2/5 -> round((0.4 - 0.25) * 4) = 1 promotion: the
    # best-scored not-chosen woman (f3)
    assert promoted == {"considered:male": 1, "chosen:female": 1}
    assert massaged.labels.tolist() == [2, 1, 2, 1, 2, 2, 1, 1, 1]
    assert chosen_rates(massaged, sexes)["female"]["chosen_rate"] == 0.5
    assert data.labels.tolist()[2] == 1  # the input is not modified


def test_massage_equalizes_consideration_by_hand() -> None:
    # pools: women considered 1 of 4 rows, men 2 of 4; nobody chosen
    rows = [("q", "f1", 1), ("q", "f2", 0), ("q", "f3", 0), ("q", "f4", 0),
            ("q", "m1", 1), ("q", "m2", 1), ("q", "m3", 0), ("q", "m4", 0)]
    data = _dataset(rows)
    sexes = {e: ("female" if e.startswith("f") else "male") for _, e, _ in rows}
    scores = np.array([0.0, 0.2, 0.7, 0.1, 0, 0, 0, 0])
    massaged, promoted = massage_labels(data, sexes, scores, small_group_threshold=0.0)
    # (0.5 - 0.25) * 4 = 1: the best-scored woman not considered (f3) becomes an applicant
    assert promoted == {"considered:female": 1}
    assert massaged.labels.tolist() == [1, 0, 1, 0, 1, 1, 0, 0]
    assert data.labels.tolist()[2] == 0  # the input is not modified


def test_neutralized_features_are_unused() -> None:
    org = make_org(seed=2, employees=120, years=3)
    data = build_dataset(org, negatives=8, random_negatives=2)
    params = ranker_params(min_data_in_leaf=5, num_threads=1, num_boost_round=40)
    names = ("years_in_role", "prior_moves")
    settings = MitigationSettings(enabled=True, method="drop_features", drop_features=names)
    grouping = {e.id: "x" for e in org.employees}
    ranker, _, _ = train_mitigated(data, params, grouping, settings)
    gain = dict(zip(FEATURE_NAMES, ranker.booster.feature_importance("gain"), strict=True))
    assert all(gain[n] == 0 for n in names)
    assert neutralize_features(data, names).features[:, FEATURE_NAMES.index(names[0])].sum() == 0


# --------------------------------------------------------------------------- on a small org


@pytest.fixture(scope="module")
def small() -> tuple[RankingDataset, dict[str, dict[str, str]], RankerParams]:
    org = make_org(seed=5, employees=180, years=4)
    data = build_dataset(org, negatives=10, random_negatives=3)
    ids = sorted({e.id for e in org.employees})
    rng = np.random.default_rng(0)
    from features.domain import ProtectedAttributes, Sex

    attrs = {i: ProtectedAttributes(employee_id=i, sex=Sex.FEMALE if rng.random() < 0.5
                                    else Sex.MALE, race_ethnicity="unknown", age_band="30-39")
             for i in ids}
    params = ranker_params(min_data_in_leaf=5, num_threads=1, num_boost_round=60)
    return data, protected_groupings(attrs, ids), params


def test_gate_blocks_a_biased_ranker_and_rerank_raises_ratios(
        small: tuple[RankingDataset, dict[str, dict[str, str]], RankerParams]) -> None:
    data, groups, params = small
    ranker, _, _ = train_mitigated(data, params, None, MitigationSettings())
    _, _, test = time_split(data, params.valid_fraction, params.test_fraction)
    female = np.array([groups[SEX][e] == "female" for e in test.employee_ids])
    biased = ranker.score(test.features) - 10.0 * female  # every woman below every man
    settings = audit_settings(k=5, small_group_threshold=0.0,
                              rerank=dict(enabled=False, dimension=SEX, k=10, **CODE_DEFAULTS))
    before = build_audit(test, biased, groups, settings)
    assert not before.passed
    assert any("sex = 'female': selection impact ratio" in v for v in before.gate.violations)
    after = build_audit(test, biased, groups, audit_settings(
        k=5, small_group_threshold=0.0,
        rerank=dict(enabled=True, dimension=SEX, k=10, **CODE_DEFAULTS)))

    def female_selection(result: object) -> float:
        sex = result.audit.candidate_lists.dimensions[0]  # type: ignore[attr-defined]
        return next(g.selection_impact_ratio for g in sex.groups if g.group == "female")

    assert female_selection(after) > female_selection(before) + 0.3
    # floors are floor(p * share): 2 of the top 5 when women are about half the pool
    assert female_selection(after) >= 0.6


def test_offsets_fitted_on_validation_lift_a_biased_ranker_on_the_test_period(
        small: tuple[RankingDataset, dict[str, dict[str, str]], RankerParams]) -> None:
    data, groups, params = small
    ranker, _, _ = train_mitigated(data, params, None, MitigationSettings())
    _, valid, test = time_split(data, params.valid_fraction, params.test_fraction)

    def biased(part: RankingDataset) -> np.ndarray:
        # women lose half a standard deviation of the ranker's scores everywhere (in the
        # scores' own units: offsets act on list-standardized scores)
        female = np.array([groups[SEX][e] == "female" for e in part.employee_ids])
        scores = ranker.score(part.features)
        return scores - 0.5 * float(np.std(scores)) * female

    rerank = dict(enabled=True, dimension=SEX, k=10, ceilings=False, floor_ratio=0.5,
                  offsets={"fit": True, "target": 0.9})
    settings = audit_settings(k=5, small_group_threshold=0.0, rerank=rerank)
    fit = fit_rerank_offsets(valid, biased(valid), groups[SEX], settings)
    assert set(fit.offsets) == {"female"} and fit.offsets["female"] > 0
    # on the validation lists the fitted offsets raise the lowest ratio over no offsets (how
    # close they get to the target depends on the model's scores)
    none = fit_rerank_offsets(valid, biased(valid), groups[SEX], audit_settings(
        k=5, small_group_threshold=0.0, rerank={**rerank, "offsets": {"fit": True,
                                                                      "target": 0.9,
                                                                      "max": 0.0}}))
    assert none.offsets == {}
    assert fit.lowest_ratio is not None and none.lowest_ratio is not None
    assert fit.lowest_ratio > none.lowest_ratio + 0.05
    plain = build_audit(test, biased(test), groups, settings)
    lifted = build_audit(test, biased(test), groups, settings.model_copy(
        update={"fitted_offsets": dict(fit.offsets)}))

    def female(result: object, metric: str) -> float:
        sex = result.audit.candidate_lists.dimensions[0]  # type: ignore[attr-defined]
        return float(next(getattr(g, metric) for g in sex.groups if g.group == "female"))

    assert female(lifted, "selection_impact_ratio") > female(plain, "selection_impact_ratio")
    assert lifted.lists.served != plain.lists.served
    # the offsets only reorder: every served list is a permutation of its pool
    assert all(sorted(a.ids) == sorted(b.ids)
               for a, b in zip(lifted.lists.served, lifted.lists.ranked, strict=True))


def test_employee_lists_are_the_served_lists(tmp_path: Path) -> None:
    # the audit's employee-facing lists are what GET /v1/employees/{id}/recommendations
    # serves: same depth, filters (owned / mentored), rejected skills, features and order
    from features.store import Store
    from inference.ranking.recommender import Recommender
    from tests.support.serving_factory import OWNER, build_world

    world = build_world(tmp_path)
    store = Store(world.url)
    recommender = Recommender(world.bundle(), store)
    lists = employee_recommendations(recommender, sample=25, seed=1, top_k=5)
    assert len(lists) == 25 and len({e.employee_id for e in lists}) == 25
    shown = [r for e in lists for r in e.recommendations]
    assert shown and all(0 < r.quality <= 1 for r in shown)
    for audited in lists:
        served = recommender.recommend(audited.employee_id, limit=5)
        assert [r.opportunity_id for r in audited.recommendations] == \
            [i.opportunity_id for i in served.items]
    owner = employee_recommendations(recommender, sample=0, top_k=300)
    mine = next(e for e in owner if e.employee_id == OWNER)
    owned = {o.id for o in world.org.opportunities if OWNER in (o.owner_id, o.mentor_id)}
    assert owned and not owned & {r.opportunity_id for r in mine.recommendations}
    store.dispose()


def test_score_percentiles_by_hand() -> None:
    from tests.support.factories import make_opportunity

    o1, o2 = make_opportunity(level=2), make_opportunity(level=4)
    out = with_score_percentiles([("a", 0.1, [(o1, 3.0), (o2, -1.0)]), ("b", 0.2, [(o2, 1.0)])])
    assert [r.quality for r in out[0].recommendations] == [1.0, pytest.approx(1 / 3)]
    assert out[1].recommendations[0].quality == pytest.approx(2 / 3)
    assert out[1].recommendations[0].level == 4.0


# --------------------------------------------------------------------------- served traffic


@pytest.mark.store
def test_served_audit_reads_the_log(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from features.settings import Settings
    from features.store import ServedItem, ServedList, Store
    from tests.support.store_factory import tiny_organization
    from training.fairness.stage import run_served_audit, served_candidate_lists

    url = f"sqlite:///{tmp_path / 'w.db'}"
    store = Store(url)
    store.create_schema()
    store.replace_organization(tiny_organization(), "v1")
    moment = datetime(2026, 11, 2, 9, tzinfo=UTC)

    def entry(i: int, order: list[str], endpoint: str = "candidates") -> ServedList:
        return ServedList(id=f"s{i}", served_at=moment + timedelta(hours=i), user_id="u",
                          requester_role="recruiter", endpoint=endpoint, subject_id="r2",
                          model_version="3",
                          items=[ServedItem(id=e, score=1.0 - r / 10, rank=r)
                                 for r, e in enumerate(order, 1)])

    store.log_served_list(entry(1, ["e2", "e1"]), entry(2, ["e1", "e2"]),
                          entry(3, ["o1"], endpoint="recommendations"))
    lists = served_candidate_lists(store, moment + timedelta(hours=2))
    assert [rl.ids for rl in lists] == [("e1", "e2")]
    settings = Settings(database_url=url, artifact_dir=tmp_path / "models")
    served = audit_settings(k=1, small_group_threshold=0.0)
    result = run_served_audit(settings, served, None)
    sex = result.audit.candidate_lists.dimensions[0]  # type: ignore[union-attr]
    # e1 (female) first once, e2 (sex unknown) first once: both selected in 1 of 2 lists
    assert {g.group: g.selection_rate for g in sex.groups} == {"female": 0.5, "unknown": 0.5}
    assert (tmp_path / "models" / "reports" / "fairness_served_audit.json").is_file()
    # two lists are too few for a verdict: the served audit fails as inconclusive
    assert not result.passed
    assert result.gate.violations[0].startswith("inconclusive: 2 served candidate list(s)")
    enough = served.model_copy(update={"gate": served.gate.model_copy(
        update={"min_served_lists": 2})})
    assert run_served_audit(settings, enough, None).passed


def test_naive_ranker_gets_hr_fields_and_screening_removes_the_proxy(
        small: tuple[RankingDataset, dict[str, dict[str, str]], RankerParams]) -> None:
    from training.fairness.mitigation import (
        HR_FIELDS,
        AugmentedRanker,
        screen_proxies,
        train_pipeline,
        with_hr_fields,
        without_hr_fields,
    )

    data, groups, params = small
    # part-time held by women only: a perfect proxy of the group
    hr = {e: (1.0 if g == "female" else 0.0,) for e, g in groups[SEX].items()}
    wide = with_hr_fields(data, hr)
    assert wide.feature_names == (*FEATURE_NAMES, *HR_FIELDS)
    assert wide.features.shape[1] == len(FEATURE_NAMES) + 1
    assert without_hr_fields(wide).feature_names == FEATURE_NAMES
    flagged, smd = screen_proxies(wide, groups[SEX], "female")
    assert "part_time" in flagged and smd["part_time"] > 1.0
    naive, report = train_pipeline(wide, params, groups[SEX], MitigationSettings(), screen=False)
    assert isinstance(naive, AugmentedRanker) and naive.feature_names[-1] == "part_time"
    assert report.hr_fields == ("part_time",) and report.screened_out == ()
    massage = MitigationSettings(enabled=True, method="massage", small_group_threshold=0.0)
    shipped, report = train_pipeline(wide, params, groups[SEX], massage, screen=True)
    assert shipped.feature_names == FEATURE_NAMES  # a shipped-format Ranker
    assert report.screened_out == ("part_time",) and report.to_dict()["screened_out"]


def test_compare_with_hr_fields(
        small: tuple[RankingDataset, dict[str, dict[str, str]], RankerParams]) -> None:
    from training.fairness.compare import before_after_markdown, compare, comparison_rows

    data, groups, params = small
    hr = {e: (1.0 if g == "female" else 0.0,) for e, g in groups[SEX].items()}
    settings = audit_settings(k=5, small_group_threshold=0.0,
                              rerank=dict(enabled=True, dimension=SEX, k=10, **CODE_DEFAULTS))
    mitigation = MitigationSettings(enabled=True, method="massage", small_group_threshold=0.0)
    c = compare(data, groups, params, settings, mitigation, hr=hr)
    assert "part_time" in c.unmitigated.features and "part_time" not in c.shipped.features
    rows = {a: (b, d) for a, b, d in comparison_rows(c, settings)}
    assert rows["features"] == ("shipped list + part_time", "shipped list")
    assert rows["proxy screening (removed)"][1].startswith("part_time (SMD")
    assert "Fairness before / after" in before_after_markdown(c, "test", settings)
    low, high = c.ndcg_loss_interval(settings.k)
    assert low <= c.ndcg_relative_loss <= high
    assert rows["... 95% paired bootstrap interval over the test lists"][1].endswith("%")


def test_paired_loss_interval_by_hand() -> None:
    import numpy as np

    from training.fairness.compare import paired_loss_interval

    before = np.array([1.0, 1.0, 1.0, 1.0])
    # the same loss on every list: every resample gives 10 %
    assert paired_loss_interval(before, before * 0.9) == pytest.approx((0.1, 0.1))
    # one list loses everything, the others nothing: the mean loss is 25 %, resamples spread it
    low, high = paired_loss_interval(before, np.array([0.0, 1.0, 1.0, 1.0]))
    assert 0.0 <= low < 0.25 < high <= 1.0
    with pytest.raises(ValueError):
        paired_loss_interval(before, before[:2])


def test_rerank_tradeoff_tables_on_a_small_org() -> None:
    from types import SimpleNamespace

    from features.domain import ProtectedAttributes, Sex
    from training.fairness.tradeoffs import seed_table, tradeoff_table

    org = make_org(seed=6, employees=150, years=4)
    data = build_dataset(org, negatives=10, random_negatives=3)
    ids = sorted({e.id for e in org.employees})
    attrs = {i: ProtectedAttributes(employee_id=i, sex=Sex.FEMALE if n % 2 else Sex.MALE,
                                    race_ethnicity="unknown", age_band="30-39")
             for n, i in enumerate(ids)}
    inputs = SimpleNamespace(
        params=ranker_params(min_data_in_leaf=5, num_threads=1, num_boost_round=40),
        audit_settings=audit_settings(k=5, small_group_threshold=0.0),
        data=data, org=org, groupings=protected_groupings(attrs, ids))
    table = tradeoff_table(inputs, variants=(  # type: ignore[arg-type]
        ("model order", {"enabled": False}),
        ("offsets + floors 0.8", {"fit": True, "floor_ratio": 0.8})))
    lines = table.strip().splitlines()
    assert lines[0].startswith("Unmitigated ranker, model order: NDCG@10 ")
    rows = [line for line in lines if line.startswith("| model order") or
            line.startswith("| offsets + floors")]
    assert len(rows) == 2 and all(row.count("|") == 12 for row in rows)
    seeds = seed_table(inputs, [1, 2]).strip().splitlines()  # type: ignore[arg-type]
    assert [line.split("|")[1].strip() for line in seeds[2:]] == ["1", "2"]
    assert all(line.split("|")[3].strip().endswith("%") for line in seeds[2:])
