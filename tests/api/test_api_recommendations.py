"""The serving endpoints against a real app, a real MLflow registry with a champion and a real
bundle: recommendations, candidates (fair, aggregate figures only), paths, the served-lists audit
log, validation, 503 before a champion exists, and reloads that never replace a working model
with a broken one."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.candidate_view import CandidateListFairness, public_fairness
from features.settings import Settings
from features.store import Store
from inference.fairness.serving import ListFairness
from inference.serving.model import NO_CHAMPION
from tests.support.authz_matrix import never_limited, sign_in
from tests.support.product_app import product_app, register_champion, settings_for
from tests.support.serving_factory import (
    OWNER,
    PROTECTED_WORDS,
    ROLE,
    ServingWorld,
    build_world,
    open_opportunity_ids,
)


@dataclass
class Served:
    world: ServingWorld
    settings: Settings
    client: TestClient
    tokens: dict[str, str]

    def get(self, url: str, who: str, **params: Any) -> Any:
        return self.client.get(url, params=params,
                               headers={"Authorization": f"Bearer {self.tokens[who]}"})

    def post(self, url: str, who: str) -> Any:
        return self.client.post(url, headers={"Authorization": f"Bearer {self.tokens[who]}"})


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with product_app(tmp_path_factory.mktemp("api-serving")) as product:
        tokens = {**product.tokens, "other": sign_in(product.client, "e010", "employee")}
        yield Served(product.world, product.settings, product.client, tokens)


def test_recommendations_for_self_and_hr(served: Served) -> None:
    for who in ("self", "hr"):
        response = served.get(f"/v1/employees/{OWNER}/recommendations", who,
                              kinds="open_role,project,gig,rotation,mentorship", limit=5)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["employee_id"] == OWNER and body["model_version"] == "1"
        assert 0 < len(body["items"]) <= 5
        assert {i["opportunity_id"] for i in body["items"]} <= open_opportunity_ids(
            served.world.org)
        assert [i["rank"] for i in body["items"]] == list(range(1, len(body["items"]) + 1))
        assert not any("score" in i or any("contribution" in r for r in i["reasons"])
                       for i in body["items"]), "no model number is shown to a person"
        assert all(i["matched_skills"] or i["missing_skills"] for i in body["items"])
        assert body["served_list_id"]
        assert not any(w in response.text.lower() for w in PROTECTED_WORDS)
    refused = served.get(f"/v1/employees/{OWNER}/recommendations", "other")
    assert refused.status_code == 403 and set(refused.json()) == {"error"}


def test_query_validation_is_422_json(served: Served) -> None:
    url = f"/v1/employees/{OWNER}/recommendations"
    for params in ({"limit": 0}, {"limit": 101}, {"limit": "many"}, {"kinds": "open_role,job"}):
        response = served.get(url, "self", **params)
        assert response.status_code == 422, params
        assert response.json()["error"]["code"] == "invalid_request"
    assert "job" in served.get(url, "self", kinds="job").json()["error"]["message"]
    assert served.get(f"/v1/roles/{ROLE}/candidates", "hr", limit=0).status_code == 422
    projects = served.get(url, "self", kinds="project").json()
    assert projects["kinds"] == ["project"]
    assert all(i["kind"] == "project" for i in projects["items"])


def test_candidates_are_fair_and_aggregate_only(served: Served) -> None:
    response = served.get(f"/v1/roles/{ROLE}/candidates", "recruiter", limit=10)
    assert response.status_code == 200, response.text
    body = response.json()
    people = {e.id: e for e in served.world.org.employees}
    ids = [i["employee_id"] for i in body["items"]]
    assert ids and all(people[i].discoverable and people[i].role_id != ROLE for i in ids)
    fairness = body["fairness"]
    assert fairness["floors_met"] is True
    assert fairness["dimension"] == served.world.bundle().manifest.policy.rerank.dimension
    # rounded shares of the top 20, whatever the limit (docs/security.md, candidate lists)
    assert fairness["prefix"] == 20 and fairness["figures_shown"]
    assert round(sum(g["top_share"] for g in fairness["groups"]), 6) == 1.0
    assert all(round(g["top_share"] * 10, 6).is_integer() for g in fairness["groups"])
    assert not {"model_rank", "score"} & {k for i in body["items"] for k in i}
    assert not any(i in json.dumps(fairness) for i in ids)
    assert not any(w in json.dumps(body["items"]).lower() for w in PROTECTED_WORDS)
    assert served.get(f"/v1/roles/{ROLE}/candidates", "hr").status_code == 200
    assert served.get(f"/v1/roles/{ROLE}/candidates", "self").status_code == 403
    assert served.get("/v1/roles/role-data-3/candidates", "recruiter").status_code == 403


def test_served_lists_are_logged_durably(served: Served) -> None:
    rec = served.get(f"/v1/employees/{OWNER}/recommendations", "self", limit=3).json()
    cand = served.get(f"/v1/roles/{ROLE}/candidates", "recruiter", limit=4).json()
    served.client.app.state.served_list_log.flush()  # type: ignore[attr-defined]
    rows = {r.id: r for r in Store(served.world.url).served_lists()}
    first, second = rows[rec["served_list_id"]], rows[cand["served_list_id"]]
    assert (first.endpoint, first.subject_id, first.user_id, first.requester_role) == (
        "recommendations", OWNER, OWNER, "employee")
    assert [i.id for i in first.items] == [i["opportunity_id"] for i in rec["items"]]
    assert first.fairness is None and first.model_version == "1"
    assert (second.endpoint, second.subject_id, second.requester_role) == (
        "candidates", ROLE, "recruiter")
    assert [i.id for i in second.items] == [i["employee_id"] for i in cand["items"]]
    # the log keeps the detailed figures (of the top 20); the caller gets the rounded view
    assert second.fairness is not None and second.fairness["list_size"] == 20
    assert public_fairness(ListFairness.model_validate(second.fairness)) == \
        CandidateListFairness.model_validate(cand["fairness"])
    stored = json.dumps([i.model_dump(mode="json") for i in second.items]).lower()
    assert not any(w in stored for w in PROTECTED_WORDS)


def test_paths_for_any_signed_in_user(served: Served) -> None:
    response = served.get(f"/v1/roles/{ROLE}/paths", "other", limit=3)
    assert response.status_code == 200, response.text
    assert 0 < len(response.json()["items"]) <= 3
    assert served.get("/v1/roles/nope/paths", "other").status_code == 404
    assert served.client.get(f"/v1/roles/{ROLE}/paths").status_code == 401


def test_reload_keeps_serving_and_refuses_a_broken_champion(served: Served,
                                                            tmp_path: Path) -> None:
    status = served.get("/v1/admin/model", "ml")
    assert status.status_code == 200 and status.json()["state"] == "ready"
    assert status.json()["model_version"] == "1"
    assert served.post("/v1/admin/model/reload", "hr").status_code == 403
    assert served.get("/v1/admin/model", "self").status_code == 403

    errors: list[int] = []

    def hammer() -> None:
        for _ in range(15):
            code = served.get(f"/v1/employees/{OWNER}/recommendations", "self").status_code
            if code != 200:
                errors.append(code)

    thread = threading.Thread(target=hammer)
    thread.start()
    reloaded = served.post("/v1/admin/model/reload", "ml")
    thread.join()
    assert reloaded.status_code == 200, reloaded.text
    assert errors == [], "requests failed during a reload"

    broken = tmp_path / "broken-bundle"
    shutil.copytree(served.world.bundle_dir, broken)
    shutil.rmtree(broken / "profiles")
    manifest = json.loads((broken / "manifest.json").read_text())
    manifest["files"] = {k: v for k, v in manifest["files"].items()
                         if not k.startswith("profiles/")}
    (broken / "manifest.json").write_text(json.dumps(manifest))
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)
        version = register_champion(served.settings.mlflow_tracking_uri, broken)
    refused = served.post("/v1/admin/model/reload", "ml")
    assert refused.status_code == 409, refused.text
    assert "keeps serving" in refused.json()["error"]["message"]
    status = served.get("/v1/admin/model", "ml").json()
    assert status["model_version"] == "1" and status["model_version"] != version
    assert status["last_error"]
    again = served.get(f"/v1/employees/{OWNER}/recommendations", "self")
    assert again.status_code == 200 and again.json()["model_version"] == "1"


def test_503_before_a_champion_exists(tmp_path: Path) -> None:
    world = build_world(tmp_path)
    app = create_app(settings_for(tmp_path, world))
    never_limited(app)
    with TestClient(app) as client:
        assert app.state.serving_model.wait(60)
        me = sign_in(client, OWNER, "employee")
        response = client.get(f"/v1/employees/{OWNER}/recommendations",
                              headers={"Authorization": f"Bearer {me}"})
        assert response.status_code == 503
        assert response.json()["error"]["message"] == NO_CHAMPION
        assert client.get(f"/v1/roles/{ROLE}/paths",
                          headers={"Authorization": f"Bearer {me}"}).status_code == 503
        ml = sign_in(client, "ml-admin")
        status = client.get("/v1/admin/model", headers={"Authorization": f"Bearer {ml}"})
        assert status.status_code == 200 and status.json()["state"] == "unavailable"
        failed = client.post("/v1/admin/model/reload", headers={"Authorization": f"Bearer {ml}"})
        assert failed.status_code == 503 and "no champion" in failed.json()["error"]["message"]
        assert not (tmp_path / "mlflow.db").exists()  # looking did not create a registry
