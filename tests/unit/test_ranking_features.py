"""Ranking features: hand-computed values, no protected inputs, explanations."""

from __future__ import annotations

import inspect
import re
import typing
from datetime import date

import lightgbm as lgb
import numpy as np
import pytest

import features.ranking as ranking
import features.ranking_history as ranking_history
from features.domain import (
    EvidenceKind,
    Move,
    OpportunityKind,
    ProtectedAttributes,
)
from features.ranking import (
    FEATURE_NAMES,
    NO_EVENT_DAYS,
    aspiration_share,
    aspiration_tokens,
    aspiration_words,
    check_feature_names,
    compute_features,
    employee_context,
    feature_matrix,
    feature_row,
    target_from_opportunity,
    target_from_role,
)
from features.ranking_explain import TEMPLATES, ReasonFacts, explain, top_reasons
from features.ranking_history import basic_profile, employee_as_of, history_before
from features.ranking_model import Ranker
from tests.support.factories import (
    SKILLS,
    make_course,
    make_employee,
    make_evidence,
    make_move,
    make_opportunity,
    make_profile,
    make_requirements,
    make_role,
)

AS_OF = date(2024, 6, 1)
FORBIDDEN = {"sex", "gender", "race", "ethnicity", "ethnic", "age", "birth", "born", "protected",
             "religion", "disability", "nationality", "pregnant", "marital"}


def _row(**kw: typing.Any) -> dict[str, float]:
    emp = kw.pop("employee", make_employee(level=2, hired_on=date(2020, 6, 1),
                                           role_since=date(2022, 6, 1)))
    role = make_role(id=emp.role_id, level=2, job_family="engineering", onet_code="15-1252.00")
    target = kw.pop("target", target_from_opportunity(make_opportunity(level=3, location="Lisbon")))
    hist = history_before(AS_OF, kw.pop("evidence", ()), kw.pop("moves", ()))
    row = compute_features(emp, kw.pop("profile", make_profile(
        skills={SKILLS[0]: 0.3, SKILLS[1]: 0.5}, as_of=date(2024, 5, 31))), hist, target,
        kw.pop("requirements", make_requirements()), AS_OF, current_role=role, **kw)
    assert row.shape == (len(FEATURE_NAMES),)
    return dict(zip(FEATURE_NAMES, row.tolist(), strict=True))


def test_feature_names_are_unique_and_kinds_complete() -> None:
    assert len(set(FEATURE_NAMES)) == len(FEATURE_NAMES)
    for kind in OpportunityKind:
        assert f"kind_{kind.value}" in FEATURE_NAMES
    check_feature_names(list(FEATURE_NAMES))
    with pytest.raises(ValueError):
        check_feature_names(list(reversed(FEATURE_NAMES)))


def test_hand_computed_skill_features() -> None:
    # requirements: S0 importance 1, level .6, essential; S1 importance .5, level .5
    # profile: S0 .3 (half the level), S1 .5 (met); confidence .8
    f = _row()
    assert f["skill_coverage"] == pytest.approx((1 * 0.5 + 0.5 * 1.0) / 1.5)
    assert f["skill_gap"] == pytest.approx((1 * 0.3 + 0.5 * 0.0) / 1.5)
    assert f["essential_coverage"] == pytest.approx(0.5)
    assert f["missing_essentials"] == 0
    assert f["required_confidence"] == pytest.approx(0.8)
    assert f["level_delta"] == 1 and f["level_distance"] == 1
    assert f["years_in_company"] == pytest.approx((AS_OF - date(2020, 6, 1)).days / 365.25)
    assert f["years_in_role"] == pytest.approx((AS_OF - date(2022, 6, 1)).days / 365.25)
    assert f["days_since_relevant_learning"] == NO_EVENT_DAYS
    assert f["kind_open_role"] == 1 and f["kind_gig"] == 0
    assert np.isnan(f["embedding_cosine"])  # no vectors given: missing, not zero


def test_missing_essential_and_empty_requirements() -> None:
    f = _row(profile=make_profile(skills={SKILLS[5]: 1.0}, as_of=AS_OF))
    assert f["missing_essentials"] == 1 and f["skill_coverage"] == 0
    f = _row(requirements=make_requirements(skills={}))
    assert f["skill_coverage"] == 0 and f["essential_coverage"] == 1


def test_learning_endorsements_and_vectors() -> None:
    course = make_course(id="c1", skill_uris=(SKILLS[1],))
    evidence = [
        make_evidence(employee_id="x", kind=EvidenceKind.COURSE_COMPLETION, skill_uri=None,
                      course_id="c1", occurred_on=date(2024, 5, 1)),
        make_evidence(employee_id="x", kind=EvidenceKind.MANAGER_ENDORSEMENT,
                      skill_uri=SKILLS[0], occurred_on=date(2023, 1, 1)),
        make_evidence(employee_id="x", kind=EvidenceKind.MANAGER_ENDORSEMENT,
                      skill_uri=SKILLS[0], occurred_on=AS_OF),  # on the date: not yet known
    ]
    f = _row(evidence=evidence, courses={"c1": course},
             employee_vector=np.array([1.0, 0.0]), target_vector=np.array([1.0, 1.0]))
    assert f["days_since_relevant_learning"] == (AS_OF - date(2024, 5, 1)).days
    assert f["relevant_learning_365d"] == 1
    assert f["days_since_relevant_evidence"] == (AS_OF - date(2024, 5, 1)).days
    assert f["endorsements_on_required"] == pytest.approx(1.0 * (1 / 3) / 1.5)
    assert f["embedding_cosine"] == pytest.approx(2 ** -0.5)


def test_aspiration_family_and_adjacency() -> None:
    emp = make_employee(level=2, aspirations="Move into data engineering pipelines")
    data_role = make_role(id="r-data", title="Data Pipelines Engineer",
                          description="Builds engineering tools", level=3, job_family="data",
                          onet_code="15-1243.00")
    f = _row(employee=emp, target=target_from_role(data_role),
             adjacency={("15-1252.00", "15-1243.00"): 3})
    # aspiration tokens {data, engineering, pipelines}; the title and family say data,
    # pipelines; "engineering" in the description does not count (a posting's prose is not
    # where it leads)
    assert f["aspiration_match"] == pytest.approx(2 / 3)
    assert f["job_family_distance"] == 0.5  # other family, same SOC major group 15
    assert f["career_changer_adjacency"] == pytest.approx(0.8)
    other = make_role(level=2, job_family="finance", onet_code="13-2011.00", title="Accountant")
    g = _row(employee=emp, target=target_from_role(other))
    assert g["aspiration_match"] == 0 and g["job_family_distance"] == 1
    assert g["career_changer_adjacency"] == 0


def test_feature_matrix_equals_rows() -> None:
    emp = make_employee()
    profile = make_profile(as_of=AS_OF)
    ctx = employee_context(emp, profile, history_before(AS_OF), AS_OF, vector=np.ones(4))
    targets = [(target_from_opportunity(make_opportunity(level=lv)), make_requirements())
               for lv in (1, 2, 3)]
    vecs = np.eye(3, 4)
    m = feature_matrix(ctx, targets, vecs)
    for i, (t, r) in enumerate(targets):
        assert np.array_equal(m[i], feature_row(ctx, t, r, vecs[i]), equal_nan=True)


def test_profile_after_feature_date_is_refused() -> None:
    with pytest.raises(ValueError):
        employee_context(make_employee(), make_profile(as_of=date(2024, 6, 2)),
                         history_before(AS_OF), AS_OF)


# --------------------------------------------------------------------------- protected attributes


def _words(name: str) -> set[str]:
    return set(re.split(r"[_\W]+", name.lower()))


def test_no_feature_name_touches_protected_attributes() -> None:
    for name in FEATURE_NAMES:
        assert not _words(name) & FORBIDDEN, name
        assert "part_time" not in name  # the simulator's proxy for the disadvantaged group


@pytest.mark.parametrize("func", [compute_features, employee_context, feature_row,
                                  feature_matrix, basic_profile, employee_as_of])
def test_feature_functions_cannot_receive_protected_attributes(func: typing.Any) -> None:
    hints = typing.get_type_hints(func)
    for pname in inspect.signature(func).parameters:
        assert not _words(pname) & FORBIDDEN, pname
        assert hints.get(pname) is not ProtectedAttributes, pname
        assert "ProtectedAttributes" not in repr(hints.get(pname)), pname
    for module in (ranking, ranking_history):
        assert "ProtectedAttributes" not in vars(module)  # not even imported
        assert "from features.protected" not in inspect.getsource(module)


def test_features_ignore_part_time() -> None:
    emp = make_employee(part_time=False)
    assert np.array_equal(np.array(list(_row(employee=emp).values())),
                          np.array(list(_row(employee=emp.model_copy(
                              update={"part_time": True})).values())), equal_nan=True)


# --------------------------------------------------------------------------- point in time


def test_employee_as_of_undoes_later_moves() -> None:
    roles = {r.id: r for r in (make_role(id="a", level=1), make_role(id="b", level=2),
                               make_role(id="c", level=3))}
    emp = make_employee(id="p", role_id="c", level=3, hired_on=date(2020, 1, 1),
                        role_since=date(2023, 1, 1))
    moves: list[Move] = [
        make_move(employee_id="p", from_role_id="a", to_role_id="b", moved_on=date(2021, 1, 1)),
        make_move(employee_id="p", from_role_id="b", to_role_id="c", moved_on=date(2023, 1, 1))]
    assert employee_as_of(emp, moves, roles, date(2019, 1, 1)) is None
    then = employee_as_of(emp, moves, roles, date(2020, 6, 1))
    assert then is not None and (then.role_id, then.level, then.role_since) == (
        "a", 1, date(2020, 1, 1))
    mid = employee_as_of(emp, moves, roles, date(2023, 1, 1))  # the move day itself: not yet
    assert mid is not None and (mid.role_id, mid.role_since) == ("b", date(2021, 1, 1))
    now = employee_as_of(emp, moves, roles, date(2024, 1, 1))
    assert now == emp.model_copy(update={"aspirations": ""})


def test_a_past_decision_cannot_read_todays_aspiration() -> None:
    # the stored text is today's and names today's job: on a past date it would tell which
    # move the person went on to make, so the point-in-time employee has none
    roles = {r.id: r for r in (make_role(id="a", title="Nurse"),
                               make_role(id="b", title="Oncology Nurse"))}
    emp = make_employee(id="p", role_id="b", aspirations=(
        "I enjoy my work as an Oncology Nurse and want to grow towards Nurse Manager."))
    moves = [make_move(employee_id="p", from_role_id="a", to_role_id="b",
                       moved_on=date(2023, 1, 1))]
    for day in (date(2022, 6, 1), date(2024, 6, 1)):
        then = employee_as_of(emp, moves, roles, day)
        assert then is not None and then.aspirations == ""
        ctx = employee_context(then, make_profile("p", day), history_before(day), day)
        assert ctx.aspiration_tokens == frozenset()


# --------------------------------------------------------------------------- explanations


def test_top_reasons_hand_values() -> None:
    row = np.zeros(len(FEATURE_NAMES))
    row[FEATURE_NAMES.index("skill_coverage")] = 0.75
    contrib = np.zeros(len(FEATURE_NAMES) + 1)
    contrib[FEATURE_NAMES.index("skill_coverage")] = 0.9
    contrib[FEATURE_NAMES.index("level_distance")] = -0.5
    contrib[FEATURE_NAMES.index("same_location")] = 0.1
    contrib[-1] = 5.0  # expected value: ignored
    reasons = top_reasons(row, contrib, k=2)
    assert [r.feature for r in reasons] == ["skill_coverage", "level_distance"]
    assert reasons[0].text == "You already cover 75% of the skills it needs"
    assert [r.feature for r in top_reasons(row, contrib, k=2, positive_only=True)] == [
        "skill_coverage", "same_location"]
    assert set(TEMPLATES) == set(FEATURE_NAMES)


def test_a_reason_is_shown_only_when_its_sentence_is_true() -> None:
    # the model may credit a feature whose value says nothing good: a negative profile
    # similarity, 100 % coverage of no essential skill, "your location" for an unplaced item
    row = np.zeros(len(FEATURE_NAMES))
    row[FEATURE_NAMES.index("embedding_cosine")] = -0.2
    row[FEATURE_NAMES.index("essential_coverage")] = 1.0
    row[FEATURE_NAMES.index("same_location")] = 1.0
    row[FEATURE_NAMES.index("years_in_role")] = 3.0
    contrib = np.zeros(len(FEATURE_NAMES) + 1)
    for name, c in (("embedding_cosine", 0.9), ("essential_coverage", 0.8),
                    ("same_location", 0.7), ("years_in_role", 0.1)):
        contrib[FEATURE_NAMES.index(name)] = c
    unplaced = ReasonFacts(has_essentials=False, location_known=False)
    shown = top_reasons(row, contrib, k=3, positive_only=True, facts=unplaced)
    assert [r.feature for r in shown] == ["years_in_role"]
    placed = ReasonFacts(has_essentials=True, location_known=True)
    shown = top_reasons(row, contrib, k=3, positive_only=True, facts=placed)
    assert [r.feature for r in shown] == ["essential_coverage", "same_location",
                                         "years_in_role"]
    # without facts (the old behaviour) the false sentences were offered
    assert top_reasons(row, contrib, k=1, positive_only=True)[0].text.startswith(
        "Your overall skill profile is close")


def test_one_sentence_per_fact_in_a_list_of_reasons() -> None:
    # the share of the requirements held and the gap left are one fact; so are the essential
    # skills met and those missing: the larger contribution speaks, the other is not repeated
    row = np.zeros(len(FEATURE_NAMES))
    for name, value in (("skill_coverage", 0.6), ("skill_gap", 0.2),
                        ("essential_coverage", 1.0), ("missing_essentials", 0.0)):
        row[FEATURE_NAMES.index(name)] = value
    contrib = np.zeros(len(FEATURE_NAMES) + 1)
    for name, c in (("skill_coverage", 0.5), ("skill_gap", 0.6),
                    ("essential_coverage", 0.3), ("missing_essentials", 0.4)):
        contrib[FEATURE_NAMES.index(name)] = c
    shown = top_reasons(row, contrib, k=4, positive_only=True, facts=ReasonFacts())
    # the gap (the largest) is told as the share held, with its figure
    assert [r.feature for r in shown] == ["skill_coverage", "missing_essentials"]
    assert [r.text for r in shown] == ["You already cover 60% of the skills it needs",
                                       "No essential skill is missing"]
    # a share held too small to be good news is not turned into "a small gap"
    row[FEATURE_NAMES.index("skill_coverage")] = 0.25
    shown = top_reasons(row, contrib, k=4, positive_only=True, facts=ReasonFacts())
    assert [r.feature for r in shown] == ["missing_essentials"]


def test_a_kind_reason_speaks_only_of_the_items_own_kind() -> None:
    # "You tend to suit this kind of opportunity (rotation)" on a gig was shown because not
    # being a rotation helped its score: a kind's sentence is true only of an item of that kind
    kinds = [n for n in FEATURE_NAMES if n.startswith("kind_")]
    assert len(kinds) >= 2
    row = np.zeros(len(FEATURE_NAMES))
    row[FEATURE_NAMES.index(kinds[0])] = 1.0  # the item is of the first kind
    contrib = np.zeros(len(FEATURE_NAMES) + 1)
    contrib[FEATURE_NAMES.index(kinds[1])] = 0.9   # not being the second kind helped
    contrib[FEATURE_NAMES.index(kinds[0])] = 0.5
    facts = ReasonFacts()
    shown = top_reasons(row, contrib, k=3, facts=facts)
    assert [r.feature for r in shown] == [kinds[0]]
    contrib[FEATURE_NAMES.index(kinds[1])] = -0.9  # nor "this kind is a weaker fit" for it
    assert [r.feature for r in top_reasons(row, contrib, k=3, facts=facts)] == [kinds[0]]


def test_explain_with_a_real_lightgbm_model(tmp_path: typing.Any) -> None:
    rng = np.random.default_rng(0)
    x = rng.random((400, len(FEATURE_NAMES)))
    cov = FEATURE_NAMES.index("skill_coverage")
    y = (x[:, cov] > 0.5).astype(int) * 2
    booster = lgb.train({"objective": "lambdarank", "verbosity": -1, "num_threads": 1,
                         "min_data_in_leaf": 5}, lgb.Dataset(x, y, group=[20] * 20,
                                                             feature_name=list(FEATURE_NAMES)),
                        num_boost_round=20)
    good = x[np.argmax(x[:, cov])]
    reasons = explain(booster, good, k=1)
    assert reasons[0].feature == "skill_coverage" and reasons[0].contribution > 0
    ranker = Ranker(booster=booster)
    ranker.save(tmp_path)
    loaded = Ranker.load(tmp_path)
    assert np.allclose(loaded.score(x[:5]), ranker.score(x[:5]))
    assert loaded.reasons(good, k=1)[0].feature == "skill_coverage"


def test_skill_history_by_hand() -> None:
    as_of = date(2026, 11, 1)
    history = ranking.skill_history_of(
        as_of,
        last_learning={"a": date(2026, 6, 1)},
        learning_dates={"a": (date(2025, 1, 1), date(2026, 6, 1), date(2025, 11, 1))},
        last_evidence={"a": date(2026, 6, 1), "b": date(2024, 2, 2)},
        endorsements={"b": 5, "c": 1})
    # "a": learnt twice in the 365 days before as_of (2025-11-01 is exactly 365 days back)
    assert history == {"a": (0, date(2026, 6, 1), 2, date(2026, 6, 1)),
                       "b": (3, None, 0, date(2024, 2, 2)),  # endorsements capped at 3
                       "c": (1, None, 0, None)}


def test_time_in_role_on_a_past_date_does_not_tell_who_went_on_to_move() -> None:
    # Two people in role "a" since before the records begin; one moves to "b" in 2024. On a
    # 2023 decision date both had held "a" just as long as far as the store can know: the start
    # of a role someone has since left is recorded only by a move into it, so taking the hire
    # date for the mover (and the true start for the stayer) would flag the mover.
    roles = {r.id: r for r in (make_role(id="a", level=2), make_role(id="b", level=3))}
    records = date(2021, 1, 1)
    stayer = make_employee(id="s", role_id="a", hired_on=date(2015, 1, 1),
                           role_since=date(2018, 1, 1))
    mover = make_employee(id="m", role_id="b", level=3, hired_on=date(2015, 1, 1),
                          role_since=date(2024, 1, 1))
    moves = [make_move(employee_id="m", from_role_id="a", to_role_id="b",
                       moved_on=date(2024, 1, 1))]
    day = date(2023, 6, 1)
    then_stayer = employee_as_of(stayer, [], roles, day, records)
    then_mover = employee_as_of(mover, moves, roles, day, records)
    assert then_stayer is not None and then_mover is not None
    assert then_stayer.role_since == then_mover.role_since == records
    assert (then_mover.role_id, then_mover.level) == ("a", 2)
    # without the records' start the old rule shows the difference it must not
    assert employee_as_of(mover, moves, roles, day).role_since == date(2015, 1, 1)  # type: ignore[union-attr]
    # a role begun after the records begin keeps its start
    recent = make_employee(id="r", role_id="a", hired_on=date(2022, 3, 1),
                           role_since=date(2022, 3, 1))
    assert employee_as_of(recent, [], roles, day, records).role_since == date(2022, 3, 1)  # type: ignore[union-attr]


@pytest.mark.parametrize(("aspiration", "current", "title", "match"), [
    # the current job's title is dropped as a phrase, not its words: "correctional" stays
    ("I enjoy my work as a Correctional Officer and Jailer and want to grow towards "
     "First-Line Supervisor of Correctional Officers.", "Correctional Officer and Jailer",
     "First-Line Supervisor of Correctional Officers", 1.0),
    # three of five words shared, none of the distinctive ones: not this wish
    ("I enjoy my work as a Correctional Officer and Jailer and want to grow towards "
     "First-Line Supervisor of Correctional Officers.", "Correctional Officer and Jailer",
     "First-Line Supervisor of Passenger Attendants", 0.0),
    ("I enjoy my work as a Purchasing Agent and want to grow towards Purchasing Manager.",
     "Purchasing Agent", "Biofuels Product Development Manager", 0.0),
    ("I enjoy my work as a Purchasing Agent and want to grow towards Purchasing Manager.",
     "Purchasing Agent", "Purchasing Manager", 1.0),
])
def test_an_aspiration_is_matched_on_its_distinctive_words(aspiration: str, current: str,
                                                           title: str, match: float) -> None:
    wish = aspiration_tokens(aspiration, current)
    target = target_from_role(make_role(title=title, description="", job_family=""))
    assert aspiration_share(wish, aspiration_words(target)) == pytest.approx(match)


def test_an_aspiration_is_not_matched_on_a_postings_prose() -> None:
    wish = aspiration_tokens("I enjoy my work as a Tire Repairer and want to grow towards "
                             "Automotive Service Attendant.", "Tire Repairer")
    blaster = make_role(title="Explosives Worker", job_family="",
                        description="Automotive service crews use software in passing.")
    assert aspiration_share(wish, aspiration_words(target_from_role(blaster))) == 0.0
