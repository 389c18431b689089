"""Point-in-time training sets: grades, candidates, and no feature reading the future."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from features.domain import EvidenceKind, Organization
from tests.support.factories import SKILLS, make_employee, make_evidence, make_move, make_org
from training.ranking.dataset import (
    APPLIED,
    MOVED,
    NOT_CHOSEN,
    THRIVED,
    RankingDataset,
    build_dataset,
    historical_queries,
)


@pytest.fixture(scope="module")
def org() -> Organization:
    return make_org(seed=3, employees=60, years=3)


def test_queries_have_graded_applicants_and_movers(org: Organization) -> None:
    queries = historical_queries(org)
    assert len(queries) == len(org.moves)
    assert [q.as_of for q in queries] == sorted(q.as_of for q in queries)
    moves = {m.opportunity_id: m for m in org.moves}
    for q in queries:
        mv = moves[q.id.removeprefix("opp:")]
        assert q.as_of == mv.moved_on
        assert q.grades[mv.employee_id] == (THRIVED if mv.thrived else MOVED)
        assert all(g == APPLIED for e, g in q.grades.items() if e != mv.employee_id)


def test_dataset_groups_and_labels(org: Organization) -> None:
    ds = build_dataset(org, negatives=8, random_negatives=2)
    assert ds.features.shape == (int(ds.group_sizes.sum()), len(ds.feature_names))
    assert len(ds.employee_ids) == len(ds.labels)
    start = 0
    for size in ds.group_sizes:
        labels = ds.labels[start:start + size]
        ids = ds.employee_ids[start:start + size]
        assert len(set(ids)) == size  # one row per candidate
        assert int((labels >= MOVED).sum()) == 1
        assert int((labels == NOT_CHOSEN).sum()) >= 1
        start += size


def test_negatives_respect_opt_in(org: Organization) -> None:
    hidden = {e.id for e in org.employees if not e.discoverable}
    ds = build_dataset(org, negatives=10)
    negatives = {e for e, y in zip(ds.employee_ids, ds.labels, strict=True) if y == NOT_CHOSEN}
    assert hidden and not negatives & hidden


def test_no_feature_reads_the_future(org: Organization) -> None:
    """Append a future (evidence, courses, moves, hires) after a cutoff: past rows don't move."""
    before = build_dataset(org, negatives=8)
    cutoff = before.query_dates[len(before.query_dates) // 2]
    roles = {r.id: r for r in org.roles}
    future = org.model_copy(deep=True)
    for i, emp in enumerate(list(future.employees)):
        for j, uri in enumerate(SKILLS[:20:3]):
            future.evidence.append(make_evidence(
                id=f"future-{i}-{j}", employee_id=emp.id, occurred_on=cutoff + timedelta(j),
                kind=[EvidenceKind.MANAGER_ENDORSEMENT, EvidenceKind.COURSE_COMPLETION][j % 2],
                skill_uri=uri, course_id="course-0", rating=5))
    moved = []
    for emp in future.employees[::4]:
        target = next(r for r in org.roles if r.id != emp.role_id and r.level >= emp.level)
        day = max([cutoff] + [m.moved_on + timedelta(1) for m in org.moves
                              if m.employee_id == emp.id])  # after their last real move
        future.moves.append(make_move(id=f"future-move-{emp.id}", employee_id=emp.id,
                                      from_role_id=emp.role_id, to_role_id=target.id,
                                      moved_on=day, outcome_rating=5))
        moved.append(emp.model_copy(update={"role_id": target.id, "level": target.level,
                                            "role_since": day,
                                            "department_id": roles[target.id].department_id}))
    by_id = {e.id: e for e in moved}
    future.employees = [by_id.get(e.id, e) for e in future.employees]
    future.employees.append(make_employee(id="z-new", hired_on=cutoff, role_id="role-data-2"))
    after = build_dataset(future, negatives=8)

    past_before = _rows_until(before, cutoff)
    past_after = _rows_until(after, cutoff)
    assert past_before.keys() == past_after.keys() and past_before
    for key, row in past_before.items():
        assert np.array_equal(row, past_after[key], equal_nan=True), key
    # and the future did reach the later queries (the test would be vacuous otherwise)
    later = set(_rows_until(after, date.max)) - set(past_after)
    assert later


def _rows_until(ds: RankingDataset, cutoff: date) -> dict[tuple[str, str, int], np.ndarray]:
    out = {}
    qi = np.repeat(np.arange(len(ds.group_sizes)), ds.group_sizes)
    for r, (q, emp, y) in enumerate(zip(qi, ds.employee_ids, ds.labels, strict=True)):
        if ds.query_dates[q] <= cutoff:
            out[(ds.query_ids[q], emp, int(y))] = ds.features[r]
    return out


def test_save_load_round_trip(org: Organization, tmp_path: object) -> None:
    from pathlib import Path

    ds = build_dataset(org, negatives=4)
    path = Path(str(tmp_path)) / "train.npz"
    ds.save(path)
    back = RankingDataset.load(path)
    assert np.array_equal(back.features, ds.features, equal_nan=True)
    assert back.query_dates == ds.query_dates and back.feature_names == ds.feature_names
    sub = ds.subset(np.arange(len(ds.group_sizes)) < 3)
    assert len(sub.group_sizes) == 3 and len(sub.labels) == int(ds.group_sizes[:3].sum())
