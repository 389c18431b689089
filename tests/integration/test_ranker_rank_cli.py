"""Issue 13: ``waypoint rank`` scores slates point in time; malformed input exits 2."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import numpy as np
import pytest

from features.ranking_model import Ranker
from features.settings import get_settings
from tests.support.serving_factory import ServingWorld, build_world
from training.ranking.dataset import build_dataset
from waypoint.cli import main


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> ServingWorld:
    return build_world(tmp_path_factory.mktemp("rank"))


@pytest.fixture
def settings(world: ServingWorld, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("WAYPOINT_ARTIFACT_DIR", str(world.bundle_dir.parent))
    monkeypatch.setenv("WAYPOINT_DATABASE_URL", world.url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def rank(world: ServingWorld, lines: list[str], monkeypatch: pytest.MonkeyPatch,
         capsys: pytest.CaptureFixture[str]) -> tuple[int, list[dict], str]:
    monkeypatch.setattr("sys.stdin", io.StringIO("".join(f"{line}\n" for line in lines)))
    code = main(["rank", "--bundle", str(world.bundle_dir)])
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err


def request(rid: object, opp: str, as_of: str, emps: list[str]) -> str:
    return json.dumps({"id": rid, "opportunity_id": opp, "as_of": as_of, "employee_ids": emps})


@pytest.mark.usefixtures("settings")
def test_scores_match_the_point_in_time_training_rows(
        world: ServingWorld, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    # the historical decisions, scored through `waypoint rank` with the decision's date, get
    # exactly the scores of the rows training built for them (features strictly before as_of)
    data = build_dataset(world.org, negatives=3, random_negatives=1, seed=0)
    ranker = Ranker(world.bundle().ranker)
    expected = ranker.score(data.features)
    lines: list[str] = []
    wanted: list[dict[str, float]] = []
    start = 0
    for qid, day, size in zip(data.query_ids, data.query_dates, data.group_sizes.tolist(),
                              strict=True):
        if qid.startswith("opp:") and len(lines) < 6:
            emps = data.employee_ids[start:start + size]
            lines.append(request(len(lines), qid.removeprefix("opp:"), day.isoformat(), emps))
            wanted.append(dict(zip(emps, expected[start:start + size].tolist(), strict=True)))
        start += size
    lines.insert(2, "")  # blank lines are skipped
    code, out, err = rank(world, lines, monkeypatch, capsys)
    assert code == 0, err
    assert [o["id"] for o in out] == list(range(len(wanted)))
    for got, want in zip(out, wanted, strict=True):
        assert list(got["scores"]) == list(want)
        assert np.allclose(list(got["scores"].values()), list(want.values()), rtol=0, atol=1e-9)


@pytest.mark.usefixtures("settings")
def test_the_date_changes_what_is_known(world: ServingWorld, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    mover = world.org.moves[-1]
    assert mover.opportunity_id is not None
    emps = [mover.employee_id]
    code, out, _ = rank(world, [request("before", mover.opportunity_id, "2021-06-01", emps),
                                request("after", mover.opportunity_id, "2024-01-01", emps)],
                        monkeypatch, capsys)
    assert code == 0
    assert out[0]["scores"] != out[1]["scores"]


@pytest.mark.usefixtures("settings")
@pytest.mark.parametrize("bad, reason", [
    ("{not json", "invalid JSON"),
    ('["a list"]', "JSON object"),
    ('{"id": 1, "opportunity_id": "open-1", "as_of": "2024-01-01"}', "missing"),
    ('{"id": 1, "opportunity_id": "open-1", "as_of": "01/02/2024", "employee_ids": []}',
     "as_of"),
    ('{"id": 1, "opportunity_id": "open-1", "as_of": "2024-02-30", "employee_ids": []}',
     "valid date"),
    ('{"id": 1, "opportunity_id": "open-1", "as_of": "2024-01-01", "employee_ids": "e001"}',
     "list of strings"),
    ('{"id": 1, "opportunity_id": "nope", "as_of": "2024-01-01", "employee_ids": ["e001"]}',
     "unknown opportunity_id"),
    ('{"id": 1, "opportunity_id": "open-1", "as_of": "2024-01-01", '
     '"employee_ids": ["e001", "ghost"]}', "unknown employee id 'ghost'"),
    ('{"id": 1, "opportunity_id": "open-1", "as_of": "1990-01-01", "employee_ids": ["e001"]}',
     "not hired"),
])
def test_malformed_or_unknown_exits_2_naming_the_line(
        world: ServingWorld, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], bad: str, reason: str) -> None:
    good = request("ok", "open-1", "2024-01-01", ["e001", "e002"])
    code, out, err = rank(world, [good, "", bad, good], monkeypatch, capsys)
    assert code == 2
    assert [o["id"] for o in out] == ["ok"]  # the line before is complete, nothing after
    assert "line 3:" in err and reason in err
