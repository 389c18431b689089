"""The attacker of `tests.support.privacy_attacker` against the candidate lists of a real app (real
store, real LightGBM champion whose bundle lifts women with a group offset, the re-ranking of
params.yaml): on what the API serves no attack may beat the best blind guess; on what the
recommender computes (what the API served before issue 12: model ranks, model scores, figures
of each shown prefix) the rank and limit attacks must succeed, so the attacker is shown to work.

Run with ``-s`` to print each attack's accuracy against chance.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from features.ranking import FEATURE_NAMES
from inference.artifacts.bundle import write_bundle
from inference.ranking.recommender import Recommender
from tests.support.authz_matrix import never_limited, sign_in
from tests.support.params_factory import serving_policy
from tests.support.privacy_attacker import ATTACKS, Fetch, accuracy, chance
from tests.support.product_app import register_champion, settings_for
from tests.support.serving_factory import (
    AS_OF,
    WORLD_SERVING,
    build_world,
    train_ranker,
    write_profiles,
)

LIFTED = "female"
FALLBACK = "male"
OFFSETS = {"sex": {LIFTED: 1.0}}
"""The largest offset ``fairness.rerank.offsets.max`` allows: re-ranking moves many people."""


class Target:
    def __init__(self, client: TestClient, token: str, recommender: Recommender,
                 truth: dict[str, str]) -> None:
        self.client, self.token, self.recommender, self.truth = client, token, recommender, truth
        self.roles = sorted(recommender.roles)

    def api(self, role: str, limit: int) -> dict[str, Any]:
        response = self.client.get(f"/v1/roles/{role}/candidates", params={"limit": limit},
                                   headers={"Authorization": f"Bearer {self.token}"})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def before(self, role: str, limit: int) -> dict[str, Any]:
        """The recommender's own result: what the endpoint returned before issue 12."""
        return self.recommender.candidates(role, limit).model_dump(mode="json")


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    folder = tmp_path_factory.mktemp("attacker")
    world = build_world(folder)
    bundle = folder / "bundle-offsets"
    write_bundle(bundle, model_name="waypoint-ranker", ranker=train_ranker(world.org, 0),
                 feature_names=FEATURE_NAMES, encoder="test",
                 data_versions={"organization": "t"},
                 extra_files=write_profiles(world.org, folder / "profiles-offsets"),
                 metrics={"ndcg_at_10": 0.5}, rerank_offsets=OFFSETS,
                 policy=serving_policy(AS_OF, WORLD_SERVING))
    settings = settings_for(folder, world)
    truth = {p.employee_id: p.sex.value for p in world.org.protected_attributes}
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        register_champion(settings.mlflow_tracking_uri, bundle)
        app = create_app(settings)
        never_limited(app)
        with TestClient(app) as client:
            assert app.state.serving_model.wait(120)
            current = app.state.serving_model.current
            assert current is not None, app.state.serving_model.last_error
            yield Target(client, sign_in(client, "hr-admin"), current, truth)


def margin(n: int, p: float) -> float:
    """Two binomial standard errors: how far a guesser without signal may land above chance."""
    return 2 * math.sqrt(max(p * (1 - p), 1e-9) / max(n, 1))


def run(target: Target, fetch: Fetch, name: str) -> tuple[float, float, int]:
    guesses = ATTACKS[name](fetch, target.roles, LIFTED, FALLBACK)
    return accuracy(guesses, target.truth, LIFTED), chance(guesses, target.truth), len(guesses)


def test_the_lists_are_re_ranked_by_group(target: Target) -> None:
    # the premise: re-ranking moves many people here, so there is something to hide
    moved = [i for role in target.roles for i in target.recommender.candidates(role, 20).items
             if i.rank != i.model_rank]
    assert len(moved) > 100
    up = [i for i in moved if i.rank < i.model_rank]
    assert sum(target.truth[i.employee_id] == LIFTED for i in up) / len(up) > 0.8


@pytest.mark.parametrize("name", ["rank_difference", "score_inversion", "limit_difference"])
def test_the_attacker_reads_groups_off_the_old_response(target: Target, name: str) -> None:
    found, blind, n = run(target, target.before, name)
    print(f"\nbefore {name}: accuracy {found:.3f} vs chance {blind:.3f} over {n} candidates")
    assert found > blind + 1.5 * margin(n, blind)  # three standard errors above chance
    if name == "limit_difference":
        assert found == 1.0  # the 15 of 15, on every candidate


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_no_attack_beats_chance_on_the_served_lists(target: Target, name: str) -> None:
    found, blind, n = run(target, target.api, name)
    print(f"\nafter {name}: accuracy {found:.3f} vs chance {blind:.3f} over {n} candidates")
    assert n >= 200
    assert found <= blind + margin(n, blind), (name, found, blind)


def test_served_lists_carry_no_pre_re_ranking_field(target: Target) -> None:
    role = target.roles[0]
    body = target.api(role, 20)
    keys = {k for item in body["items"] for k in item}
    assert not {"model_rank", "score"} & keys
    assert all(set(r) == {"feature", "text"} for item in body["items"] for r in item["reasons"])
    figures = body["fairness"]
    blob = str(figures)
    assert "before" not in blob and "moved" not in blob and "count" not in blob
    # the same figures for every limit, and none for a pool under the prefix
    assert all(target.api(role, k)["fairness"] == figures for k in (1, 5, 19, 21, 100))
