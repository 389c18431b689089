"""Job titles: normalization, matching (abbreviations, seniority, typos, other languages, junk),
the ``waypoint titles`` verb (malformed lines -> exit 2 with the line number) and
``POST /v1/occupations/match``, over a small taxonomy built with the real matcher."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from features.errors import WaypointError
from inference.titles import MatchSettings, Occupation, TitleMatcher, normalize_title
from tests.support.authz_matrix import sign_in
from tests.support.product_app import Product, product_app
from training.occupations.titles_stage import rank_metrics, split_of, threshold_for
from waypoint.commands.titles import write_titles

OCCUPATIONS = [
    Occupation("esco:data-engineer", "data engineer", "15-1243.00"),
    Occupation("esco:software-developer", "software developer", "15-1252.00"),
    Occupation("esco:nurse", "general nurse", "29-1141.00"),
    Occupation("esco:marketing", "marketing manager", "11-2021.00"),
    Occupation("esco:driver", "lorry driver", None),
    Occupation("esco:accountant", "accountant", "13-2011.00"),
]
LABELS = [("data engineer", 0), ("big data engineer", 0), ("software developer", 1),
          ("software engineer", 1), ("programmer", 1), ("general nurse", 2),
          ("registered nurse", 2), ("marketing manager", 3), ("head of marketing", 3),
          ("lorry driver", 4), ("truck driver", 4), ("accountant", 5), ("chartered accountant", 5)]
TUNING = [("Java Developer", 1), ("Staff Nurse", 2), ("Account Executive", 5)]


@pytest.fixture(scope="module")
def matcher() -> TitleMatcher:
    return TitleMatcher.build(OCCUPATIONS, LABELS, TUNING, MatchSettings(threshold=0.3))


def best(matcher: TitleMatcher, title: str) -> str | None:
    found = matcher.match([title], top_k=3)[0]
    return found[0].uri if found else None


def test_normalization_drops_seniority_and_expands_abbreviations() -> None:
    assert normalize_title("Sr. Data Eng II") == "data engineer"
    assert normalize_title("Internship - Digital Marketer") == "digital marketer"
    assert normalize_title("Technical Lead") == "technical lead"
    assert normalize_title("Head of Sales") == "manager sales"
    assert normalize_title("URGENT!! Lorry Driver needed, RM 2500") == "lorry driver"
    assert normalize_title("Softwareentwickler (m/w/d)") == "software developer"
    assert normalize_title("  ") == "" and normalize_title("!!!") == ""


@pytest.mark.parametrize(("title", "uri"), [
    ("Sr. Data Eng II", "esco:data-engineer"),
    ("Lead Software Engineer", "esco:software-developer"),
    ("Jr Java Dev", "esco:software-developer"),
    ("Softwre Develper", "esco:software-developer"),  # typos
    ("REGISTERED NURSE", "esco:nurse"),
    ("Jururawat", "esco:nurse"),  # Malay
    ("Infirmière", "esco:nurse"),  # French, accented
    ("Marketing Mgr", "esco:marketing"),
    ("Marketing Intern", "esco:marketing"),
    ("Truck Driver - Needed ASAP", "esco:driver"),
])
def test_titles_land_on_their_occupation(matcher: TitleMatcher, title: str, uri: str) -> None:
    assert best(matcher, title) == uri


@pytest.mark.parametrize("junk", ["", "   ", "!!!", "asdfgh qwerty", "zzzz", "123 456"])
def test_empty_or_junk_gets_an_empty_list(matcher: TitleMatcher, junk: str) -> None:
    assert matcher.match([junk], top_k=5) == [[]]


def test_matches_carry_label_score_and_onet_code(matcher: TitleMatcher) -> None:
    found = matcher.match(["data engineer"], top_k=2)[0]
    assert found[0].as_json() == {"uri": "esco:data-engineer", "label": "data engineer",
                                  "score": pytest.approx(found[0].score, abs=1e-6),
                                  "onet_code": "15-1243.00"}
    assert found[0].score > found[-1].score or len(found) == 1


def test_save_and_load_give_the_same_matches(matcher: TitleMatcher, tmp_path: Path) -> None:
    from inference.titles import load_matcher

    matcher.save(tmp_path)
    loaded = load_matcher(tmp_path)
    titles = ["Sr. Data Eng II", "nurse", "asdf"]
    assert loaded.match(titles, 3) == matcher.match(titles, 3)


def test_verb_answers_lines_and_stops_at_a_malformed_one(matcher: TitleMatcher) -> None:
    out = io.StringIO()
    lines = ['{"id": "a", "text": "Sr. Data Eng II"}', "", '{"id": 7, "text": "???"}']
    assert write_titles(lines, matcher, 2, out) == 0
    rows = [json.loads(x) for x in out.getvalue().splitlines()]
    assert [r["id"] for r in rows] == ["a", "7"]
    assert rows[0]["occupations"][0]["uri"] == "esco:data-engineer"
    assert len(rows[0]["occupations"]) <= 2 and rows[1]["occupations"] == []
    for bad, message in [("not json", "line 2: not JSON"),
                         ('{"id": "b"}', "line 2: text: Field required"),
                         ('["x"]', "line 2: expected an object"),
                         ('{"id": "b", "text": 3}', "line 2: text:")]:
        out = io.StringIO()
        with pytest.raises(WaypointError, match=message):
            write_titles(['{"id": "a", "text": "nurse"}', bad], matcher, 2, out)
        assert [json.loads(x)["id"] for x in out.getvalue().splitlines()] == ["a"]


def test_cli_exit_status_2_names_the_line(matcher: TitleMatcher, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    from features.settings import get_settings
    from waypoint.cli import main
    from waypoint.commands.titles import TITLES_FOLDER

    matcher.save(tmp_path / TITLES_FOLDER)
    monkeypatch.setenv("WAYPOINT_ARTIFACT_DIR", str(tmp_path))
    monkeypatch.setattr("sys.stdin", io.StringIO('{"id": "1", "text": "nurse"}\n{"id": 1\n'))
    get_settings.cache_clear()
    try:
        assert main(["titles", "--top-k", "1"]) == 2
    finally:
        get_settings.cache_clear()
    captured = capsys.readouterr()
    assert json.loads(captured.out.splitlines()[0])["occupations"][0]["uri"] == "esco:nurse"
    assert "waypoint titles: error: stdin line 2: not JSON" in captured.err


def test_split_and_threshold_helpers() -> None:
    assert split_of("Sr. Data Engineer") == split_of("data engineer")  # one side per title
    import numpy as np

    lexical = np.array([0.1] * 40 + [0.5] * 40)
    correct = np.array([False] * 40 + [True] * 40)
    assert threshold_for(lexical, correct) == pytest.approx(0.5)
    m = rank_metrics(np.array([[0.9, 0.1], [0.9, 0.1]]), np.array([0, 1]))
    assert (m.mrr, m.recall_at_1) == (pytest.approx(0.75), 0.5)


@pytest.fixture(scope="module")
def product(tmp_path_factory: pytest.TempPathFactory, matcher: TitleMatcher
            ) -> Iterator[Product]:
    with product_app(tmp_path_factory.mktemp("titles-app")) as found:
        yield found


def test_api_serves_what_the_cli_writes(product: Product, matcher: TitleMatcher) -> None:
    token = sign_in(product.client, "e010", "employee")
    auth = {"Authorization": f"Bearer {token}"}
    body: dict[str, Any] = {
        "items": [{"id": "a", "text": "Sr. Data Eng II"}, {"id": "b", "text": ""}], "top_k": 2}
    assert product.client.post("/v1/occupations/match", json=body,
                               headers=auth).status_code == 503  # no index built yet
    matcher.save(product.settings.artifact_dir / "occupations" / "titles")
    response = product.client.post("/v1/occupations/match", json=body, headers=auth)
    assert response.status_code == 200, response.text
    out = io.StringIO()
    write_titles([json.dumps(i) for i in body["items"]], matcher, 2, out)
    assert response.json()["items"] == [json.loads(x) for x in out.getvalue().splitlines()]
    assert product.client.post("/v1/occupations/match", json=body).status_code == 401
    bad = product.client.post("/v1/occupations/match", json={"items": []}, headers=auth)
    assert bad.status_code == 422
