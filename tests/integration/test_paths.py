"""Career paths: the lattice over roles (relatedness, evidence, bounds, reasons), the
``waypoint paths`` verb, and one code path for the CLI and ``GET /v1/roles/{id}/paths``."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from features.settings import get_settings
from inference.paths import CareerLattice, PathWeights
from tests.support.authz_matrix import sign_in
from tests.support.factories import make_move, make_role
from tests.support.occupations_factory import small_graph
from tests.support.product_app import Product, product_app
from tests.support.serving_factory import ROLE
from waypoint.cli import main
from waypoint.commands.paths import write_paths

DEV, QA, DATA, ACCT = "15-1252.00", "15-1253.00", "15-2051.00", "13-2011.00"
GRAPH = small_graph([ACCT, DEV, QA, DATA], {(DEV, QA): 3.0, (DEV, DATA): 1.0, (DEV, ACCT): -3.0})
ROLES = [
    make_role(id="dev-2", onet_code=DEV, level=2, job_family="eng", title="Developer"),
    make_role(id="dev-3", onet_code=DEV, level=3, job_family="eng", title="Senior Developer"),
    make_role(id="data-2", onet_code=DATA, level=2, job_family="data", title="Data Scientist"),
    make_role(id="qa-2", onet_code=QA, level=2, job_family="eng", title="QA"),
    make_role(id="qa-3", onet_code=QA, level=3, job_family="eng", title="QA Lead"),
    make_role(id="acct-2", onet_code=ACCT, level=2, job_family="fin", title="Accountant"),
    make_role(id="dev-5", onet_code=DEV, level=5, job_family="eng", title="Architect"),
    make_role(id="dev-1", onet_code=DEV, level=1, job_family="eng", title="Junior"),
]


def test_reference_relatedness_orders_the_steps_and_bounds_hold() -> None:
    result = CareerLattice(ROLES, graph=GRAPH).paths("dev-2", limit=10)
    ids = [s.role_id for s in result.items]
    # same occupation one level up first (1.0), then QA (the most related), data, accountant
    assert ids[0] == "dev-3" and result.items[0].direction == "upward"
    assert ids.index("qa-2") < ids.index("data-2") < ids.index("acct-2")
    assert result.items[0].reasons.summary.startswith("step up: level 2 -> 3; same occupation")
    qa = next(s for s in result.items if s.role_id == "qa-2")
    assert qa.direction == "lateral" and qa.reasons.summary.startswith("lateral: same level (2)")
    assert qa.reasons.signals == ["similar task statements"]
    assert qa.reasons.shared_skills == ["Programming"]
    assert [g.skill for g in qa.reasons.gaps] == ["Mathematics"]  # level rises with the code
    assert {"dev-5", "dev-1", "dev-2"}.isdisjoint(ids)
    wide = CareerLattice(ROLES, graph=GRAPH, weights=PathWeights(max_step_up=3))
    assert "dev-5" in {s.role_id for s in wide.paths("dev-2").items}
    assert CareerLattice(ROLES, graph=GRAPH).paths("dev-2", limit=2).items == result.items[:2]


def test_observed_moves_count_only_with_enough_evidence() -> None:
    few = [make_move(from_role_id="dev-2", to_role_id="acct-2", outcome_rating=5,
                     retained_one_year=True) for _ in range(3)]
    lattice = CareerLattice(ROLES, few, graph=GRAPH, weights=PathWeights(min_moves=10))
    result = lattice.paths("dev-2")
    acct = next(s for s in result.items if s.role_id == "acct-2")
    assert result.evidence_weight == 0.0 and result.moves_out == 3
    assert acct.observed.moves == 3 and acct.observed.thrived == 3
    assert "3 internal moves, 3 of 3 thrived (too few moves" in acct.reasons.summary
    assert acct.score == pytest.approx(acct.relatedness)

    many = few * 10  # 30 moves, all to the accountant role
    lattice = CareerLattice(ROLES, many, graph=GRAPH,
                            weights=PathWeights(min_moves=10, prior_moves=10))
    result = lattice.paths("dev-2")
    assert result.evidence_weight == pytest.approx(30 / 40)
    acct = next(s for s in result.items if s.role_id == "acct-2")
    assert acct.score == pytest.approx(0.25 * acct.relatedness + 0.75 * 1.0, abs=1e-6)
    assert result.items[0].role_id == "acct-2"


def test_without_a_graph_the_career_changers_matrix_stands_in() -> None:
    from features.domain import CareerChange

    lattice = CareerLattice(ROLES, career_changes=[CareerChange(source=DEV, target=DATA, rank=1)])
    ids = [s.role_id for s in lattice.paths("dev-2").items]
    assert ids == ["data-2", "dev-3"]  # both 1.0: ties by id
    assert lattice.model_version == "career-changers"


def test_write_paths_expands_codes_and_names_the_bad_line() -> None:
    out, err = io.StringIO(), io.StringIO()
    lattice = CareerLattice(ROLES, graph=GRAPH)
    status = write_paths(["dev-2", "", "nope", QA], lattice, 2, out, err)
    assert status == 1
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["role_id"] for r in rows] == ["dev-2", "qa-2", "qa-3"]
    assert all(len(r["items"]) <= 2 for r in rows)
    assert "stdin line 3: unknown role id or O*NET-SOC code 'nope'" in err.getvalue()


@pytest.fixture(scope="module")
def product(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Product]:
    with product_app(tmp_path_factory.mktemp("paths-app")) as found:
        yield found


def test_cli_and_api_give_the_same_paths(product: Product, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    token = sign_in(product.client, "e010", "employee")
    served = product.client.get(f"/v1/roles/{ROLE}/paths", params={"limit": 5},
                                headers={"Authorization": f"Bearer {token}"})
    assert served.status_code == 200, served.text
    monkeypatch.setenv("WAYPOINT_DATABASE_URL", product.settings.database_url)
    monkeypatch.setenv("WAYPOINT_ARTIFACT_DIR", str(product.settings.artifact_dir))
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{ROLE}\n"))
    get_settings.cache_clear()
    try:
        assert main(["paths", "--limit", "5"]) == 0
    finally:
        get_settings.cache_clear()
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0]) == served.json()
    assert served.json()["items"] and served.json()["model_version"] == "paths-test"


def test_api_without_a_built_graph_is_503(product: Product, tmp_path: Path) -> None:
    from inference.paths import PathService

    token = sign_in(product.client, "e010", "employee")
    kept = product.app.state.path_service
    product.app.state.path_service = PathService(product.app.state.store, tmp_path)
    try:
        response = product.client.get(f"/v1/roles/{ROLE}/paths",
                                       headers={"Authorization": f"Bearer {token}"})
    finally:
        product.app.state.path_service = kept
    assert response.status_code == 503
    assert "dvc repro promote" in response.text
