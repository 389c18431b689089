"""Career paths: signal combination, lateral/upward bounds, and the ``waypoint paths`` verb."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from features.domain import CareerChange, Organization
from features.store import Store
from inference.paths import CareerLattice, PathWeights, career_paths, skill_overlap
from tests.support.factories import (
    SKILLS,
    make_move,
    make_opportunity,
    make_requirements,
    make_role,
)
from waypoint.commands.paths import lattice_from_store, write_paths

ROLES = [
    make_role(id="dev-2", onet_code="15-1252.00", level=2, job_family="eng", title="Developer"),
    make_role(id="dev-3", onet_code="15-1252.00", level=3, job_family="eng",
              title="Senior Developer"),
    make_role(id="data-2", onet_code="15-2051.00", level=2, job_family="data",
              title="Data Scientist"),
    make_role(id="qa-2", onet_code="15-1253.00", level=2, job_family="eng", title="QA"),
    make_role(id="acct-2", onet_code="13-2011.00", level=2, job_family="fin", title="Accountant"),
    make_role(id="dev-5", onet_code="15-1252.00", level=5, job_family="eng", title="Architect"),
    make_role(id="dev-1", onet_code="15-1252.00", level=1, job_family="eng", title="Junior"),
]


def test_skill_overlap_by_hand() -> None:
    a = make_requirements(skills={SKILLS[0]: (1.0, 0.5, True), SKILLS[1]: (0.5, 0.5, False)})
    b = make_requirements(skills={SKILLS[0]: (0.5, 0.5, True), SKILLS[2]: (1.0, 0.5, False)})
    assert skill_overlap(a, b) == pytest.approx(0.5 / (1.0 + 0.5 + 1.0))
    assert skill_overlap(a, a) == 1.0 and skill_overlap(a, None) == 0.0


def test_signals_combine_and_bounds_hold() -> None:
    moves = [make_move(from_role_id="dev-2", to_role_id="data-2") for _ in range(3)] + \
        [make_move(from_role_id="dev-2", to_role_id="qa-2")]
    changes = [CareerChange(source="15-1252.00", target="15-1253.00", rank=1),
               CareerChange(source="15-1252.00", target="13-2011.00", rank=10)]
    steps = career_paths("dev-2", ROLES, moves, changes, limit=10)
    by_id = {s.role_id: s for s in steps}
    # data-2: 0.5 * 3/4 ; qa-2: 0.5 * 1/4 + 0.3 * 1.0 ; dev-3: 0.3 (same occupation, up)
    assert by_id["data-2"].score == pytest.approx(0.375)
    assert by_id["qa-2"].score == pytest.approx(0.425)
    assert by_id["dev-3"].score == pytest.approx(0.3) and by_id["dev-3"].direction == "upward"
    assert by_id["acct-2"].score == pytest.approx(0.3 * 0.1)
    assert [s.role_id for s in steps] == ["qa-2", "data-2", "dev-3", "acct-2"]
    assert "dev-5" not in by_id and "dev-1" not in by_id and "dev-2" not in by_id
    assert career_paths("dev-2", ROLES, moves, changes, limit=2) == steps[:2]
    wide = career_paths("dev-2", ROLES, weights=PathWeights(max_step_up=3))
    assert "dev-5" in {s.role_id for s in wide}


def test_skill_overlap_alone_finds_neighbours() -> None:
    reqs = {"dev-2": make_requirements(skills={SKILLS[0]: (1, 0.5, True)}),
            "data-2": make_requirements(skills={SKILLS[0]: (1, 0.5, True),
                                                SKILLS[1]: (1, 0.5, False)})}
    steps = career_paths("data-2", ROLES, requirements=reqs)
    assert steps[0].role_id == "dev-2"
    assert steps[0].skill_overlap == pytest.approx(0.5)


def test_write_paths_json_lines_and_unknown_keys() -> None:
    lattice = CareerLattice(ROLES, [make_move(from_role_id="dev-2", to_role_id="data-2")])
    out, err = io.StringIO(), io.StringIO()
    code = write_paths(["dev-2\n", "nope\n", "\n", "15-1252.00\n"], lattice, 3, out, err)
    assert code == 1
    assert "unknown role id or O*NET-SOC code 'nope'" in err.getvalue()
    lines = [json.loads(x) for x in out.getvalue().splitlines()]
    assert lines[0]["role_id"] == "dev-2" and lines[0]["onet_code"] == "15-1252.00"
    assert lines[0]["paths"][0] == {"role_id": "data-2", "onet_code": "15-2051.00",
                                    "title": "Data Scientist", "score": 0.5}
    # the O*NET code expands to every role of the occupation, lowest level first
    assert [x["role_id"] for x in lines[1:]] == ["dev-1", "dev-2", "dev-3", "dev-5"]
    assert all(set(p) == {"role_id", "onet_code", "title", "score"}
               for x in lines for p in x["paths"])


@pytest.mark.store
def test_lattice_from_store(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'w.db'}")
    store.create_schema()
    from tests.support.factories import make_department

    org = Organization(departments=[make_department(id="dept-eng")], roles=ROLES,
                       opportunities=[make_opportunity(role_id="dev-2", skill_uris=SKILLS[:2]),
                                      make_opportunity(role_id="qa-2", skill_uris=SKILLS[1:3])])
    store.replace_organization(org, "test")
    lattice = lattice_from_store(store)
    by_id = {s.role_id: s for s in lattice.next_roles("dev-2")}
    assert by_id["qa-2"].skill_overlap == pytest.approx(1 / 3)  # {s0,s1} vs {s1,s2}
    assert by_id["dev-3"].career_changer == 1.0  # same occupation, one level up
