"""Training-side profiles: point in time, and "this skill is wrong" respected from its date."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from features.domain import Event, EventKind
from features.profiles import Observation, ObservationSource, held_role_observations
from features.ranking_history import employee_as_of, history_before
from inference.artifacts.profiles import ProfileArtifacts
from tests.support.factories import make_employee, make_move, make_requirements
from training.ranking.stage import point_in_time_builder, rejected_skills

PY, SQL = "uri:python", "uri:sql"


def observation(uri: str, day: date) -> Observation:
    return Observation(evidence_id=f"ev-{uri}-{day}", skill_uri=uri, occurred_on=day,
                       source=ObservationSource.REVIEW, level=0.8)


def test_profiles_use_only_the_past_and_drop_skills_rejected_before_the_decision() -> None:
    employee = make_employee()
    artifacts = ProfileArtifacts(folder=Path("."), as_of=date(2026, 1, 1), observations={
        employee.id: [observation(PY, date(2024, 1, 1)), observation(SQL, date(2024, 2, 1)),
                      observation("uri:future", date(2025, 6, 1))]})
    events = [Event(id="x", kind=EventKind.SKILL_REJECTED, employee_id=employee.id,
                    skill_uri=SQL, occurred_at=datetime(2025, 3, 1, tzinfo=UTC))]
    build = point_in_time_builder(artifacts, rejected=rejected_skills(events), role_levels={})

    before_rejection = build(employee, history_before(date(2025, 1, 1)))
    assert {e.skill_uri for e in before_rejection.entries} == {PY, SQL}
    assert before_rejection.as_of == date(2024, 12, 31)

    after_rejection = build(employee, history_before(date(2025, 5, 1)))
    assert {e.skill_uri for e in after_rejection.entries} == {PY}


def test_rejections_keep_the_first_date() -> None:
    events = [Event(id=str(i), kind=EventKind.SKILL_REJECTED, employee_id="e", skill_uri=SQL,
                    occurred_at=datetime(2025, month, 1, tzinfo=UTC))
              for i, month in enumerate((5, 2, 9))]
    events.append(Event(id="c", kind=EventKind.CLICK, employee_id="e",
                        occurred_at=datetime(2025, 1, 1, tzinfo=UTC)))
    assert rejected_skills(events) == {"e": {SQL: date(2025, 2, 1)}}


def test_train_fits_rerank_offsets_from_the_protected_table(tmp_path: Path) -> None:
    # `waypoint train`'s offset step on a real store: groups come from the protected table,
    # offsets (params.yaml: fairness.rerank.offsets.fit) are fitted on the validation period
    from features.params import load_params
    from features.ranking_model import Ranker
    from features.store import Store
    from tests.support.serving_factory import fill_store, serving_org, train_ranker
    from training.fairness.audit import read_audit_settings
    from training.ranking.dataset import build_dataset
    from training.ranking.stage import fit_offsets

    org = serving_org()
    url = f"sqlite:///{tmp_path / 'w.db'}"
    fill_store(url, org)
    data = build_dataset(org, negatives=8, random_negatives=2, seed=0)
    ranker = Ranker(train_ranker(org))
    settings = read_audit_settings()
    offsets = fit_offsets(Store(url), data, load_params().ranker, ranker)
    if not (settings.rerank.enabled and settings.rerank.offsets.fit):
        assert offsets == {}
        return
    assert set(offsets) == {settings.rerank.dimension}
    fitted = offsets[settings.rerank.dimension]
    assert set(fitted) <= {"female", "male"}  # the sexes of serving_org, never a person
    assert all(0.0 < v <= settings.rerank.offsets.max for v in fitted.values())


def test_a_past_profile_sees_the_role_held_then_alike_for_the_mover_and_the_stayer() -> None:
    # The stored observations are today's: the mover's role "a" is a past role dated from the
    # hire, the stayer's a current role. Rebuilt as of a decision before the move, both
    # profiles must read role "a" the same way, or the profile tells who went on to move.
    roles = {"a": 2, "b": 3}
    requirements = {"a": make_requirements("a", {PY: (0.8, 0.6, True)}),
                    "b": make_requirements("b", {SQL: (0.8, 0.6, True)})}
    records = date(2021, 1, 1)
    stayer = make_employee(id="s", role_id="a", hired_on=date(2015, 1, 1),
                           role_since=date(2018, 1, 1))
    mover_now = make_employee(id="m", role_id="b", level=3, hired_on=date(2015, 1, 1),
                              role_since=date(2024, 1, 1))
    move = make_move(employee_id="m", from_role_id="a", to_role_id="b",
                     moved_on=date(2024, 1, 1))
    stored = {
        "s": held_role_observations(stayer, [], requirements, roles, records),
        "m": held_role_observations(mover_now, [move], requirements, roles, records)}
    assert {o.source for o in stored["m"]} == {ObservationSource.PAST_ROLE,
                                               ObservationSource.CURRENT_ROLE}
    artifacts = ProfileArtifacts(folder=Path("."), as_of=date(2026, 1, 1),
                                 role_requirements=requirements, observations=stored)
    build = point_in_time_builder(artifacts, role_levels=roles, records_since=records)
    day = date(2023, 6, 1)
    mover_then = employee_as_of(mover_now, [move], {}, day, records)
    assert mover_then is not None
    mover_then = mover_then.model_copy(update={"level": 2})
    stayer_then = employee_as_of(stayer, [], {}, day, records)
    assert stayer_then is not None
    a = build(stayer_then, history_before(day))
    b = build(mover_then, history_before(day, moves=[move]))
    assert [(e.skill_uri, e.proficiency, e.confidence) for e in a.entries] == [
        (e.skill_uri, e.proficiency, e.confidence) for e in b.entries]
    assert {e.skill_uri for e in b.entries} == {PY}
