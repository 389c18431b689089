"""Training-side profiles: point in time, and "this skill is wrong" respected from its date."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from features.domain import Event, EventKind
from features.profiles import Observation, ObservationSource
from features.ranking_history import history_before
from inference.artifacts.profiles import ProfileArtifacts
from tests.support.factories import make_employee
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
    build = point_in_time_builder(artifacts, rejected=rejected_skills(events))

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
