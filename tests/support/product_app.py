"""A real app over a real SQLite store and a real small champion bundle (``serving_factory``,
registered in a real MLflow registry), for the product-feature tests (events, discoverability,
development plans, fuzzing, store outage)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from features.ranking import FEATURE_NAMES
from features.settings import Settings
from inference.artifacts.bundle import load_bundle
from tests.support.authz_matrix import SECRET, never_limited, sign_in
from tests.support.occupations_factory import write_small_graph
from tests.support.serving_factory import OWNER, RECRUITER, ServingWorld, build_world

MODEL = "waypoint-ranker"


def register_champion(uri: str, bundle_dir: Path, promote_it: bool = True) -> str:
    from training.registry import log_and_register, promote, record_fairness

    ranker = load_bundle(bundle_dir).ranker
    run = log_and_register(tracking_uri=uri, model_name=MODEL, ranker=ranker,
                           bundle_dir=bundle_dir, params={}, metrics={"ndcg_at_10": 0.5},
                           feature_names=list(FEATURE_NAMES), data_version="t",
                           artifact_root=bundle_dir.parent / "mlartifacts")
    record_fairness(uri, MODEL, run.version, passed=True, metrics={"min_impact_ratio": 0.9})
    if promote_it:
        promote(uri, MODEL, run.version, tolerance=1.0)
    return run.version


def settings_for(folder: Path, world: ServingWorld) -> Settings:
    return Settings(database_url=world.url, artifact_dir=folder / "models", demo_mode=True,
                    data_dir=folder / "no-reference-data", secret_key=SECRET,
                    mlflow_tracking_uri=f"sqlite:///{folder / 'mlflow.db'}", model_name=MODEL)


@dataclass
class Product:
    world: ServingWorld
    settings: Settings
    app: FastAPI
    client: TestClient
    tokens: dict[str, str]

    def call(self, method: str, url: str, who: str | None, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}))
        if who is not None:
            headers["Authorization"] = f"Bearer {self.tokens[who]}"
        return self.client.request(method, url, headers=headers, **kwargs)

    def manager_of(self, employee_id: str) -> str | None:
        found = next(e for e in self.world.org.employees if e.id == employee_id)
        return found.manager_id


@contextmanager
def product_app(folder: Path) -> Iterator[Product]:
    world = build_world(folder)
    settings = settings_for(folder, world)
    write_small_graph(settings.artifact_dir, [r.onet_code for r in world.org.roles if r.onet_code])
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)  # MLflow's default artifact root is ./mlruns
        register_champion(settings.mlflow_tracking_uri, world.bundle_dir)
        app = create_app(settings)
        never_limited(app)
        with TestClient(app) as client:
            assert app.state.serving_model.wait(120)
            assert app.state.serving_model.current is not None, \
                app.state.serving_model.last_error
            owner = next(e for e in world.org.employees if e.id == OWNER)
            other = next(e for e in world.org.employees
                         if e.id not in (OWNER, RECRUITER, owner.manager_id))
            tokens = {"self": sign_in(client, OWNER, "employee"),
                      "other": sign_in(client, other.id, "employee"),
                      "recruiter": sign_in(client, RECRUITER, "recruiter"),
                      "hr": sign_in(client, "hr-admin"), "ml": sign_in(client, "ml-admin")}
            if owner.manager_id:
                tokens["manager"] = sign_in(client, owner.manager_id, "manager")
            yield Product(world, settings, app, client, tokens)
