"""``POST /v1/skills/infer`` with a real (small) engine: typed answers, 4xx never 500."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.routes.skills import MAX_TEXT_CHARS
from inference.skills.encoder import TextEncoder
from inference.skills.engine import SkillEngine
from tests.support.authz_matrix import fill_store, never_limited, security_settings, sign_in

pytestmark = pytest.mark.model
URL = "/v1/skills/infer"


@pytest.fixture
def client(tmp_path: Path, small_skill_engine: SkillEngine) -> Iterator[TestClient]:
    settings = security_settings(tmp_path)
    fill_store(settings)
    app = create_app(settings)
    never_limited(app)
    app.state.skills_engine = small_skill_engine
    with TestClient(app, raise_server_exceptions=False) as test_client:
        token = sign_in(test_client, "e1")
        test_client.headers["Authorization"] = f"Bearer {token}"
        yield test_client


def test_infers_skills_with_spans_and_polarity(client: TestClient) -> None:
    text = "Great at Python, but needs to improve stakeholder communication."
    response = client.post(URL, json={"text": text, "source": "performance_review"})
    assert response.status_code == 200, response.text
    body = response.json()
    found = {s["label"]: s for s in body["skills"]}
    assert found["Python (computer programming)"]["polarity"] == "strength"
    assert found["communicate with stakeholders"]["polarity"] == "development_need"
    for skill in body["skills"]:
        assert 0 <= skill["score"] <= 1 and skill["uri"].startswith("http")
        for span in skill["spans"]:
            assert text[span["start"]:span["end"]] == span["text"]
    assert body["source"] == "performance_review"


def test_top_k_returns_exactly_k(client: TestClient) -> None:
    response = client.post(URL, json={"text": "Python developer", "top_k": 4})
    assert response.status_code == 200
    assert len(response.json()["skills"]) == 4


@pytest.mark.parametrize("text", ["", "    "])
def test_empty_text_is_an_empty_result(client: TestClient, text: str) -> None:
    response = client.post(URL, json={"text": text})
    assert response.status_code == 200
    assert response.json()["skills"] == []


def test_too_long_text_is_413(client: TestClient) -> None:
    response = client.post(URL, json={"text": "a" * (MAX_TEXT_CHARS + 1)})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"


def test_huge_body_is_413(client: TestClient) -> None:
    response = client.post(URL, content=b'{"text": "' + b"x" * 2_000_000 + b'"}',
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 413


@pytest.mark.parametrize("payload", [
    b"\x00\x01\x02\xff\xfe\xfd", b"not json at all", b'{"text": 42}', b'{"txt": "Python"}',
    b'{"text": "Python", "source": "tweet"}', b'{"text": "Python", "top_k": 0}', b"[1, 2]",
])
def test_garbage_bodies_are_422(client: TestClient, payload: bytes) -> None:
    response = client.post(URL, content=payload, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


@pytest.mark.parametrize("text", ["\x00\x01\u00ff\u00fe" * 100, "Wir suchen einen Koch.",
                                  "需要优秀的沟通能力。", "\ud7ff" * 10])
def test_binary_or_foreign_text_never_500(client: TestClient, text: str) -> None:
    response = client.post(URL, json={"text": text})
    assert response.status_code == 200
    assert isinstance(response.json()["skills"], list)


def test_needs_a_token(tmp_path: Path, small_skill_engine: SkillEngine) -> None:
    app = create_app(security_settings(tmp_path))
    app.state.skills_engine = small_skill_engine
    with TestClient(app) as anonymous:
        assert anonymous.post(URL, json={"text": "Python"}).status_code == 401


def test_engine_is_loaded_once_per_app(client: TestClient) -> None:
    engine = client.app.state.skills_engine  # type: ignore[attr-defined]
    client.post(URL, json={"text": "SQL"})
    assert client.app.state.skills_engine is engine  # type: ignore[attr-defined]


def test_engine_loads_once_at_start_up_from_the_pipeline_artifacts(
        tmp_path: Path, packaged_encoder: TextEncoder) -> None:
    from inference.skills.artifacts import index_dir, save_config, write_serving_pointer
    from inference.skills.catalog import SkillCatalog
    from inference.skills.engine import EngineConfig
    from inference.skills.index import SkillIndex
    from tests.support.reference_factory import write_reference_dataset

    settings = security_settings(tmp_path, data_dir=write_reference_dataset(tmp_path / "ref"))
    fill_store(settings)
    folder = index_dir(settings.artifact_dir, "baseline")
    SkillIndex.build(SkillCatalog.from_data_dir(settings.data_dir), packaged_encoder).save(folder)
    save_config(folder, EngineConfig())
    write_serving_pointer(settings.artifact_dir, "baseline")
    app = create_app(settings)
    never_limited(app)
    with TestClient(app) as test_client:
        assert app.state.skills_holder.wait(120)
        engine = app.state.skills_holder.engine
        assert engine is not None and engine.encoder.name == "packaged:all-MiniLM-L6-v2"
        ready = test_client.get("/readyz").json()
        assert ready["skills_engine"] == "ready"
        headers = {"Authorization": f"Bearer {sign_in(test_client, 'e1')}"}
        first = test_client.post(URL, json={"text": "SQL", "top_k": 1}, headers=headers)
        assert first.status_code == 200, first.text
        assert first.json()["encoder"] == "packaged:all-MiniLM-L6-v2"
        assert app.state.skills_holder.engine is engine


def test_without_artifacts_it_is_not_ready_and_says_so(tmp_path: Path) -> None:
    settings = security_settings(tmp_path)
    fill_store(settings)
    app = create_app(settings)
    never_limited(app)
    with TestClient(app) as test_client:
        assert app.state.skills_holder.wait(60)
        ready = test_client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["ready"] is False
        assert ready.json()["skills_engine"] == "unavailable"
        headers = {"Authorization": f"Bearer {sign_in(test_client, 'e1')}"}
        answer = test_client.post(URL, json={"text": "SQL"}, headers=headers)
        assert answer.status_code == 503
        assert "serving.json" in answer.json()["error"]["message"]
        assert not (settings.artifact_dir / "skills" / "baseline").exists()  # nothing built
